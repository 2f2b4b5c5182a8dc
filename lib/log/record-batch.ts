// Kafka's RecordBatch v2 (magic 2): the one format from producer to disk to consumer.
//
// Batch header, 61 bytes, big-endian (reference/kafka-formats.md §1):
//   offset size field
//        0    8 baseOffset            the leader overwrites it on append
//        8    4 batchLength           bytes after this field (total - 12)
//       12    4 partitionLeaderEpoch  set by the leader; not under the CRC
//       16    1 magic                 2
//       17    4 crc                   CRC-32C of bytes 21..end
//       21    2 attributes            bits 0-2 codec, 3 timestampType, 4 transactional, 5 control
//       23    4 lastOffsetDelta
//       27    8 baseTimestamp
//       35    8 maxTimestamp
//       43    8 producerId            -1 when not idempotent
//       51    2 producerEpoch
//       53    4 baseSequence
//       57    4 recordsCount
//       61    - records, or one compressed stream of them
//
// Record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
// keyLength varint + key, valueLength varint + value (-1 = null), headersCount varint,
// then per header: keyLength varint + UTF-8 key, valueLength varint + value.
import { assert, assertSafeOffset } from "../assert.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import { BATCH_HEADER_BYTES, RECORDS_PER_BATCH_MAX } from "../limits.ts";
import { CODEC_IDS, type CodecName, codecFromId, compress, decompress } from "./compression.ts";
import { crc32c } from "./crc32c.ts";
import { checkRecordFraming } from "./record-framing.ts";
import { ByteReader, varintSize, varlongSize, writeVarint, writeVarlong } from "./varint.ts";

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;
/** Bytes before batchLength's end: a batch's total size is batchLength + this. */
export const LOG_OVERHEAD_BYTES = 12;
/** Bytes needed to know a batch's size and last offset: through magic (Kafka reads 17). */
export const BATCH_PREFIX_BYTES = 17;
export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;

export const NO_TIMESTAMP = -1;
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

export type TimestampType = "CreateTime" | "LogAppendTime";

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** What a producer hands over for one record. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch; defaults to the batch's timestamp. */
  timestamp?: number;
}

/** A record read back from a batch, with its absolute offset and timestamp. */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface EncodeOptions {
  baseOffset?: number;
  compression?: CodecName;
  /** Timestamp for records that carry none (ms since the epoch). */
  timestampMs?: number;
  timestampType?: TimestampType;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

const utf8Encoder = new TextEncoder();
// Header keys decode leniently (U+FFFD for bad bytes), as Kafka's and kafkajs's consumers do: a
// batch validateBatch accepted must never fail to decode later.
const utf8Decoder = new TextDecoder("utf-8");

// ---------------------------------------------------------------------------------------------
// int64 helpers: offsets, timestamps and producer ids are int64 on disk and safe integers in memory.

export function readInt64(view: DataView, position: number): number {
  const high = view.getInt32(position);
  const low = view.getUint32(position + 4);
  const value = high * 0x1_0000_0000 + low;
  if (!Number.isSafeInteger(value)) {
    throw new SluiceError("CORRUPT_MESSAGE", `int64 at byte ${position} is outside the safe integer range`);
  }
  return value;
}

export function writeInt64(view: DataView, position: number, value: number): void {
  const high = Math.floor(value / 0x1_0000_0000);
  view.setInt32(position, high);
  view.setUint32(position + 4, value - high * 0x1_0000_0000);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Header access

/** Total bytes of the batch starting at `position`, from its batchLength field. */
export function batchSizeAt(bytes: Uint8Array, position = 0): number {
  return viewOf(bytes).getInt32(position + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES;
}

export function readBatchHeader(bytes: Uint8Array, position = 0): BatchHeader {
  if (bytes.length - position < BATCH_HEADER_BYTES) {
    throw new SluiceError("CORRUPT_MESSAGE", `a batch needs ${BATCH_HEADER_BYTES} header bytes`);
  }
  const view = viewOf(bytes);
  return {
    baseOffset: readInt64(view, position + BASE_OFFSET_OFFSET),
    batchLength: view.getInt32(position + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: view.getInt32(position + PARTITION_LEADER_EPOCH_OFFSET),
    magic: view.getInt8(position + MAGIC_OFFSET),
    crc: view.getUint32(position + CRC_OFFSET),
    attributes: view.getInt16(position + ATTRIBUTES_OFFSET),
    lastOffsetDelta: view.getInt32(position + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(view, position + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(view, position + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(view, position + PRODUCER_ID_OFFSET),
    producerEpoch: view.getInt16(position + PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(position + BASE_SEQUENCE_OFFSET),
    recordsCount: view.getInt32(position + RECORDS_COUNT_OFFSET),
  };
}

export function compressionOf(header: Pick<BatchHeader, "attributes">): CodecName {
  return codecFromId(header.attributes & COMPRESSION_CODEC_MASK);
}

export function timestampTypeOf(header: Pick<BatchHeader, "attributes">): TimestampType {
  return header.attributes & TIMESTAMP_TYPE_MASK ? "LogAppendTime" : "CreateTime";
}

export function isControlBatch(header: Pick<BatchHeader, "attributes">): boolean {
  return (header.attributes & CONTROL_FLAG_MASK) !== 0;
}

/** CRC-32C over attributes..end, as stored in the header. */
export function computeBatchCrc(batch: Uint8Array): number {
  return crc32c(batch.subarray(ATTRIBUTES_OFFSET));
}

/** Rewrites the fields the leader owns. Neither is under the CRC, so the CRC stays valid. */
export function stampBatch(batch: Uint8Array, baseOffset: number, partitionLeaderEpoch: number): void {
  assertSafeOffset(baseOffset, "baseOffset");
  assert(
    (partitionLeaderEpoch | 0) === partitionLeaderEpoch,
    `partitionLeaderEpoch must be an int32, got ${partitionLeaderEpoch}`,
  );
  const view = viewOf(batch);
  writeInt64(view, BASE_OFFSET_OFFSET, baseOffset);
  view.setInt32(PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
}

/** Sets maxTimestamp and the timestamp-type bit, then recomputes the CRC they are under. */
export function setMaxTimestamp(batch: Uint8Array, type: TimestampType, maxTimestamp: number): void {
  const view = viewOf(batch);
  const attributes = view.getInt16(ATTRIBUTES_OFFSET);
  const typeBit = type === "LogAppendTime" ? TIMESTAMP_TYPE_MASK : 0;
  view.setInt16(ATTRIBUTES_OFFSET, (attributes & ~TIMESTAMP_TYPE_MASK) | typeBit);
  writeInt64(view, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  view.setUint32(CRC_OFFSET, computeBatchCrc(batch));
}

// ---------------------------------------------------------------------------------------------
// Encoding

interface PreparedRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headerKeys: Uint8Array[];
  headers: RecordHeader[];
  timestampDelta: number;
  bodySize: number;
}

interface BatchTimestamps {
  /** The first record's timestamp: record timestamps are stored as deltas from it. */
  baseTimestamp: number;
  /** For records that carry no timestamp of their own. */
  defaultTimestamp: number;
}

function prepareRecord(
  record: RecordInput,
  offsetDelta: number,
  timestamps: BatchTimestamps,
): PreparedRecord {
  const key = record.key ?? null;
  const value = record.value;
  const headers = record.headers ?? [];
  const timestampDelta = (record.timestamp ?? timestamps.defaultTimestamp) - timestamps.baseTimestamp;
  const headerKeys = headers.map((header) => utf8Encoder.encode(header.key));
  let bodySize =
    1 +
    varlongSize(timestampDelta) +
    varintSize(offsetDelta) +
    (key === null ? 1 : varintSize(key.length) + key.length) +
    (value === null ? 1 : varintSize(value.length) + value.length) +
    varintSize(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const headerKey = headerKeys[i]!;
    const headerValue = headers[i]!.value;
    bodySize += varintSize(headerKey.length) + headerKey.length;
    bodySize += headerValue === null ? 1 : varintSize(headerValue.length) + headerValue.length;
  }
  return { key, value, headerKeys, headers, timestampDelta, bodySize };
}

/** A key, value or header value: its varint length (-1 for null), then its bytes. */
export function writeNullableBytes(target: Uint8Array, position: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeVarint(target, position, -1);
  const at = writeVarint(target, position, bytes.length);
  target.set(bytes, at);
  return at + bytes.length;
}

function writeRecord(
  target: Uint8Array,
  position: number,
  record: PreparedRecord,
  offsetDelta: number,
): number {
  let at = writeVarint(target, position, record.bodySize);
  target[at++] = 0; // record attributes: unused, always 0
  at = writeVarlong(target, at, record.timestampDelta);
  at = writeVarint(target, at, offsetDelta);
  at = writeNullableBytes(target, at, record.key);
  at = writeNullableBytes(target, at, record.value);
  at = writeVarint(target, at, record.headers.length);
  for (let i = 0; i < record.headers.length; i++) {
    at = writeNullableBytes(target, at, record.headerKeys[i]!);
    at = writeNullableBytes(target, at, record.headers[i]!.value);
  }
  return at;
}

/** Encodes records back to back, as they sit after the header of an uncompressed batch. */
function encodeRecords(
  records: RecordInput[],
  timestamps: BatchTimestamps,
): { bytes: Uint8Array; maxTimestamp: number } {
  const prepared = new Array<PreparedRecord>(records.length);
  let totalBytes = 0;
  let maxTimestamp = NO_TIMESTAMP;
  for (let i = 0; i < records.length; i++) {
    const record = prepareRecord(records[i]!, i, timestamps);
    prepared[i] = record;
    totalBytes += varintSize(record.bodySize) + record.bodySize;
    maxTimestamp = Math.max(maxTimestamp, timestamps.baseTimestamp + record.timestampDelta);
  }
  const bytes = new Uint8Array(totalBytes);
  let at = 0;
  for (let i = 0; i < prepared.length; i++) at = writeRecord(bytes, at, prepared[i]!, i);
  return { bytes, maxTimestamp };
}

/** Encodes one RecordBatch v2 with a valid CRC. */
export function encodeBatch(records: RecordInput[], options: EncodeOptions = {}): Uint8Array {
  if (records.length === 0) throw new SluiceError("INVALID_RECORD", "a batch needs at least one record");
  const codec = options.compression ?? "none";
  const timestampMs = options.timestampMs ?? Date.now();
  const baseTimestamp = records[0]!.timestamp ?? timestampMs;
  const encoded = encodeRecords(records, { baseTimestamp, defaultTimestamp: timestampMs });
  const payload = codec === "none" ? encoded.bytes : compress(codec, encoded.bytes);

  const batch = new Uint8Array(RECORDS_OFFSET + payload.length);
  const view = viewOf(batch);
  const timestampType = options.timestampType ?? "CreateTime";
  let attributes = CODEC_IDS[codec];
  if (timestampType === "LogAppendTime") attributes |= TIMESTAMP_TYPE_MASK;
  if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;

  writeInt64(view, BASE_OFFSET_OFFSET, options.baseOffset ?? 0);
  view.setInt32(BATCH_LENGTH_OFFSET, batch.length - LOG_OVERHEAD_BYTES);
  view.setInt32(PARTITION_LEADER_EPOCH_OFFSET, options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH);
  view.setInt8(MAGIC_OFFSET, CURRENT_MAGIC);
  view.setInt16(ATTRIBUTES_OFFSET, attributes);
  view.setInt32(LAST_OFFSET_DELTA_OFFSET, records.length - 1);
  writeInt64(view, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(view, MAX_TIMESTAMP_OFFSET, encoded.maxTimestamp);
  writeInt64(view, PRODUCER_ID_OFFSET, options.producerId ?? NO_PRODUCER_ID);
  view.setInt16(PRODUCER_EPOCH_OFFSET, options.producerEpoch ?? NO_PRODUCER_EPOCH);
  view.setInt32(BASE_SEQUENCE_OFFSET, options.baseSequence ?? NO_SEQUENCE);
  view.setInt32(RECORDS_COUNT_OFFSET, records.length);
  batch.set(payload, RECORDS_OFFSET);
  view.setUint32(CRC_OFFSET, computeBatchCrc(batch));
  return batch;
}

// ---------------------------------------------------------------------------------------------
// Decoding and validation

function readNullableBytes(reader: ByteReader): Uint8Array | null {
  const length = reader.varint();
  if (length < -1) throw new SluiceError("CORRUPT_MESSAGE", `negative length ${length} in a record`);
  return length === -1 ? null : reader.take(length);
}

/** One record as stored: its fields, and where it sits in the records section. */
export interface RawRecord {
  /** Byte range of the whole record (length varint included) within the records section. */
  start: number;
  end: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/**
 * Reads one record at the reader's position and checks its framing. Header keys are decoded only
 * when `decodeHeaders` is set: validation on the append path needs the framing, not the text.
 */
function readRawRecord(reader: ByteReader, decodeHeaders: boolean): RawRecord {
  const start = reader.position;
  const bodySize = reader.varint();
  if (bodySize < 0) throw new SluiceError("CORRUPT_MESSAGE", `negative record length ${bodySize}`);
  const bodyEnd = reader.position + bodySize;
  if (bodyEnd > reader.end)
    throw new SluiceError("CORRUPT_MESSAGE", "a record runs past the end of its batch");
  const body = new ByteReader(reader.bytes, reader.position, bodyEnd);
  body.int8(); // attributes: unused
  const timestampDelta = body.varlong();
  const offsetDelta = body.varint();
  const key = readNullableBytes(body);
  const value = readNullableBytes(body);
  const headerCount = body.varint();
  if (headerCount < 0) throw new SluiceError("CORRUPT_MESSAGE", `negative header count ${headerCount}`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const keyBytes = readNullableBytes(body);
    if (keyBytes === null) throw new SluiceError("CORRUPT_MESSAGE", "a record header key is null");
    const headerValue = readNullableBytes(body);
    if (decodeHeaders) headers.push({ key: utf8Decoder.decode(keyBytes), value: headerValue });
  }
  if (body.position !== bodyEnd) {
    throw new SluiceError("CORRUPT_MESSAGE", "a record's fields do not add up to its length");
  }
  reader.position = bodyEnd;
  return { start, end: bodyEnd, timestampDelta, offsetDelta, key, value, headers };
}

/**
 * The records of a records section with their byte ranges, headers left undecoded: what the log
 * cleaner needs to copy the records it keeps byte for byte.
 */
export function readRawRecords(payload: Uint8Array, recordsCount: number): RawRecord[] {
  const reader = new ByteReader(payload, 0, payload.length);
  const records: RawRecord[] = [];
  for (let i = 0; i < recordsCount; i++) records.push(readRawRecord(reader, false));
  return records;
}

/** The records section of a batch, decompressed when needed (bounded by maxUncompressedBytes). */
export function recordsPayload(
  batch: Uint8Array,
  header: BatchHeader,
  maxUncompressedBytes: number,
): Uint8Array {
  const payload = batch.subarray(RECORDS_OFFSET, header.batchLength + LOG_OVERHEAD_BYTES);
  const codec = compressionOf(header);
  return codec === "none" ? payload : decompress(codec, payload, maxUncompressedBytes);
}

/**
 * Decodes every record of one batch (views into `batch`, or into its decompressed copy). Under
 * LogAppendTime every record carries the batch's maxTimestamp, the broker's append time, as
 * Kafka's DefaultRecord.readFrom reports it.
 */
export function decodeRecords(batch: Uint8Array, maxUncompressedBytes: number): DecodedRecord[] {
  const header = readBatchHeader(batch);
  if (header.magic !== CURRENT_MAGIC) {
    throw new SluiceError(
      "UNSUPPORTED_MAGIC",
      `batch magic is ${header.magic}; only RecordBatch v2 can be decoded`,
    );
  }
  const logAppendTime = timestampTypeOf(header) === "LogAppendTime" ? header.maxTimestamp : undefined;
  const payload = recordsPayload(batch, header, maxUncompressedBytes);
  const reader = new ByteReader(payload, 0, payload.length);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < header.recordsCount; i++) {
    const raw = readRawRecord(reader, true);
    records.push({
      offset: safeSum(header.baseOffset, raw.offsetDelta, "offset"),
      timestamp: logAppendTime ?? safeSum(header.baseTimestamp, raw.timestampDelta, "timestamp"),
      key: raw.key,
      value: raw.value,
      headers: raw.headers,
    });
  }
  return records;
}

/** base + delta, which must stay a safe integer (int64 on disk, a JS number in memory). */
function safeSum(base: number, delta: number, what: string): number {
  const sum = base + delta;
  if (!Number.isSafeInteger(sum))
    throw new SluiceError("CORRUPT_MESSAGE", `a record's ${what} is outside the safe integer range`);
  return sum;
}

export interface ValidatedBatch {
  header: BatchHeader;
  sizeBytes: number;
  /** Largest record timestamp, recomputed from the records (never trusted from the header). */
  maxTimestamp: number;
}

/**
 * Checks one batch as a producer sent it, the way Kafka's broker does before an append: size,
 * magic, CRC, attributes, record count and every record's framing, offsets 0..n-1 in order.
 * Throws CORRUPT_MESSAGE (size, CRC), UNSUPPORTED_MAGIC, UNSUPPORTED_COMPRESSION_TYPE, INVALID_RECORD
 * (header fields, record framing) or MESSAGE_TOO_LARGE (records inflate past maxUncompressedBytes).
 */
export function validateBatch(batch: Uint8Array, maxUncompressedBytes: number): ValidatedBatch {
  if (batch.length < BATCH_HEADER_BYTES) {
    throw new SluiceError(
      "CORRUPT_MESSAGE",
      `batch is ${batch.length} bytes, less than its ${BATCH_HEADER_BYTES}-byte header`,
    );
  }
  const view = viewOf(batch);
  const magic = view.getInt8(MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) {
    throw new SluiceError(
      "UNSUPPORTED_MAGIC",
      `batch magic is ${magic}; only RecordBatch v2 (magic 2) is accepted`,
    );
  }
  const sizeBytes = view.getInt32(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES;
  if (sizeBytes !== batch.length) {
    throw new SluiceError(
      "CORRUPT_MESSAGE",
      `batchLength says ${sizeBytes} bytes but the batch has ${batch.length}`,
    );
  }
  const storedCrc = view.getUint32(CRC_OFFSET);
  const actualCrc = computeBatchCrc(batch);
  if (storedCrc !== actualCrc) {
    throw new SluiceError(
      "CORRUPT_MESSAGE",
      `batch CRC-32C is ${hex(storedCrc)} but its bytes give ${hex(actualCrc)}`,
    );
  }
  const header = readBatchHeader(batch);
  checkHeaderFields(header);
  const maxTimestamp = checkRecords(batch, header, maxUncompressedBytes);
  return { header, sizeBytes, maxTimestamp };
}

function checkHeaderFields(header: BatchHeader): void {
  compressionOf(header); // throws for codecs 5-7
  if (header.attributes & ~0x7f)
    throw new SluiceError("INVALID_RECORD", "batch attributes use reserved bits");
  if (isControlBatch(header))
    throw new SluiceError("INVALID_RECORD", "clients may not produce control batches");
  if (header.recordsCount <= 0 || header.recordsCount > RECORDS_PER_BATCH_MAX) {
    throw new SluiceError("INVALID_RECORD", `batch has ${header.recordsCount} records`);
  }
  if (header.lastOffsetDelta !== header.recordsCount - 1) {
    throw new SluiceError(
      "INVALID_RECORD",
      `lastOffsetDelta ${header.lastOffsetDelta} does not match ${header.recordsCount} records`,
    );
  }
  if (header.producerId >= 0 && header.baseSequence < 0) {
    throw new SluiceError("INVALID_RECORD", "an idempotent batch (producerId >= 0) needs baseSequence >= 0");
  }
}

/**
 * Walks the records. The CRC has already proved these are the bytes the producer sent, so a record
 * that does not parse was built wrong: INVALID_RECORD, as Kafka's InvalidRecordException, not
 * CORRUPT_MESSAGE, which Kafka clients retry forever.
 */
function checkRecords(batch: Uint8Array, header: BatchHeader, maxUncompressedBytes: number): number {
  try {
    return walkRecords(batch, header, maxUncompressedBytes);
  } catch (error) {
    if (!isSluiceError(error, "CORRUPT_MESSAGE")) throw error;
    throw new SluiceError("INVALID_RECORD", error.message, { cause: error });
  }
}

function walkRecords(batch: Uint8Array, header: BatchHeader, maxUncompressedBytes: number): number {
  const payload = recordsPayload(batch, header, maxUncompressedBytes);
  const maxTimestampDelta = checkRecordFraming(payload, header.recordsCount);
  return safeSum(header.baseTimestamp, maxTimestampDelta, "timestamp");
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}

/** Encodes a string as UTF-8 bytes (for keys and values given as text). */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}
