// What the log cleaner does to one RecordBatch: keep it whole, rebuild it from the records it keeps,
// shrink it to an empty batch, or drop it. Kafka's MemoryRecords.filterTo for magic 2.
//
// A rebuilt batch keeps its header but for the fields below, and its kept records byte for byte:
//   offset size field
//        0    8 baseOffset        kept: the original batch's (Kafka does the same for magic 2)
//        8    4 batchLength       of the new records section
//       21    2 attributes        kept (an empty batch clears the codec bits: it has no payload)
//       23    4 lastOffsetDelta   kept, so the batch still ends at its original last offset and the
//                                 producer's last sequence survives (Kafka's overrideLastOffset)
//       27    8 baseTimestamp     kept, so every record's timestampDelta stays valid (an empty
//                                 batch gets maxTimestamp, as Kafka's writeEmptyHeader)
//       35    8 maxTimestamp      the kept records' largest under CreateTime; kept under LogAppendTime
//       57    4 recordsCount      the kept records
//       17    4 crc               recomputed over the new bytes
// Kept records keep their offsetDelta, so offsets inside a batch may now have gaps.
import { SluiceError } from "../errors.ts";
import { BATCH_HEADER_BYTES, UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import { compress } from "./compression.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  COMPRESSION_CODEC_MASK,
  CRC_OFFSET,
  compressionOf,
  computeBatchCrc,
  isControlBatch,
  LOG_OVERHEAD_BYTES,
  MAX_TIMESTAMP_OFFSET,
  type RawRecord,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  readBatchHeader,
  readRawRecords,
  recordsPayload,
  timestampTypeOf,
  writeInt64,
} from "./record-batch.ts";

/** A record as the cleaner judges it: its absolute offset, key, and whether it is a tombstone. */
export interface CleanerRecord {
  offset: number;
  key: Uint8Array | null;
  isTombstone: boolean;
}

export interface BatchRecords {
  header: BatchHeader;
  records: CleanerRecord[];
}

/** Decodes a batch's records far enough for the cleaner (decompressing when needed). */
export function readCleanerRecords(
  batch: Uint8Array,
): BatchRecords & { raw: RawRecord[]; payload: Uint8Array } {
  const header = readBatchHeader(batch);
  const payload = recordsPayload(batch, header, UNCOMPRESSED_BATCH_BYTES_MAX);
  const raw = readRawRecords(payload, header.recordsCount);
  const records = raw.map((record) => ({
    offset: header.baseOffset + record.offsetDelta,
    key: record.key,
    isTombstone: record.value === null,
  }));
  return { header, records, raw, payload };
}

export type BatchFilterResult =
  | { kind: "kept"; bytes: Uint8Array; removedRecords: 0 }
  | { kind: "rebuilt" | "emptied"; bytes: Uint8Array; removedRecords: number }
  | { kind: "dropped"; removedRecords: number };

/**
 * Filters one batch through `retain`. A batch that loses every record is dropped, or shrunk to an
 * empty batch (same offsets, no records) when `keepEmpty` says its offsets must stay in the log.
 * Control batches are kept whole: the cleaner leaves transaction markers alone.
 */
export function filterBatch(
  batch: Uint8Array,
  retain: (record: CleanerRecord) => boolean,
  keepEmpty: (header: BatchHeader) => boolean,
): BatchFilterResult {
  const decoded = readCleanerRecords(batch);
  const { header, records } = decoded;
  if (isControlBatch(header)) return { kind: "kept", bytes: batch, removedRecords: 0 };
  // An empty batch an earlier pass left at a segment's end goes once it no longer ends one.
  if (records.length === 0) {
    return keepEmpty(header)
      ? { kind: "kept", bytes: batch, removedRecords: 0 }
      : { kind: "dropped", removedRecords: 0 };
  }
  const kept: RawRecord[] = [];
  for (let i = 0; i < records.length; i++) if (retain(records[i]!)) kept.push(decoded.raw[i]!);
  const removedRecords = records.length - kept.length;
  if (removedRecords === 0) return { kind: "kept", bytes: batch, removedRecords: 0 };
  if (kept.length > 0) {
    return { kind: "rebuilt", bytes: rebuildBatch(batch, header, decoded.payload, kept), removedRecords };
  }
  if (keepEmpty(header)) return { kind: "emptied", bytes: emptyBatch(batch, header), removedRecords };
  return { kind: "dropped", removedRecords };
}

/** The batch with only `kept` records, compressed again with its own codec. */
function rebuildBatch(
  batch: Uint8Array,
  header: BatchHeader,
  payload: Uint8Array,
  kept: RawRecord[],
): Uint8Array {
  const size = kept.reduce((sum, record) => sum + record.end - record.start, 0);
  const records = new Uint8Array(size);
  let at = 0;
  let maxTimestampDelta = Number.NEGATIVE_INFINITY;
  for (const record of kept) {
    records.set(payload.subarray(record.start, record.end), at);
    at += record.end - record.start;
    maxTimestampDelta = Math.max(maxTimestampDelta, record.timestampDelta);
  }
  const codec = compressionOf(header);
  const section = codec === "none" ? records : compress(codec, records);
  const maxTimestamp =
    timestampTypeOf(header) === "LogAppendTime"
      ? header.maxTimestamp
      : header.baseTimestamp + maxTimestampDelta;
  return withHeaderOf(batch, section, { recordsCount: kept.length, maxTimestamp });
}

/** A batch with the original's offsets and producer fields and no records (Kafka's writeEmptyHeader). */
export function emptyBatch(batch: Uint8Array, header: BatchHeader): Uint8Array {
  const timestamp = header.maxTimestamp;
  return withHeaderOf(batch, new Uint8Array(0), {
    recordsCount: 0,
    maxTimestamp: timestamp,
    baseTimestamp: timestamp,
    attributes: header.attributes & ~COMPRESSION_CODEC_MASK,
  });
}

interface HeaderChanges {
  recordsCount: number;
  maxTimestamp: number;
  baseTimestamp?: number;
  attributes?: number;
}

/** The original header over a new records section, with `changes` applied and a fresh CRC. */
function withHeaderOf(batch: Uint8Array, section: Uint8Array, changes: HeaderChanges): Uint8Array {
  const bytes = new Uint8Array(RECORDS_OFFSET + section.length);
  bytes.set(batch.subarray(0, BATCH_HEADER_BYTES));
  bytes.set(section, RECORDS_OFFSET);
  const view = new DataView(bytes.buffer);
  view.setInt32(BATCH_LENGTH_OFFSET, bytes.length - LOG_OVERHEAD_BYTES);
  if (changes.attributes !== undefined) view.setInt16(ATTRIBUTES_OFFSET, changes.attributes);
  if (changes.baseTimestamp !== undefined) writeInt64(view, BASE_TIMESTAMP_OFFSET, changes.baseTimestamp);
  writeInt64(view, MAX_TIMESTAMP_OFFSET, changes.maxTimestamp);
  view.setInt32(RECORDS_COUNT_OFFSET, changes.recordsCount);
  view.setUint32(CRC_OFFSET, computeBatchCrc(bytes));
  return bytes;
}

/**
 * A compacted topic needs a key on every record: a keyless one could never be superseded. Kafka's
 * broker rejects the batch with INVALID_RECORD; so do we. Costs a walk of the records, so the append
 * path calls it only for compacted topics.
 */
export function requireRecordKeys(batch: Uint8Array): void {
  const { records } = readCleanerRecords(batch);
  const keyless = records.findIndex((record) => record.key === null);
  if (keyless >= 0) {
    throw new SluiceError(
      "INVALID_RECORD",
      `record ${keyless} of the batch has no key; a compacted topic needs a key on every record`,
    );
  }
}
