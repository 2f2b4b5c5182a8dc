// The consumer's record decoder: one batch's records section (decompressed if need be) straight into
// the records handed to the application. It reads varints in place and makes per record one object
// and one view each for a key and a value that are not null: the hot loop of every binary consumer,
// where lib/log/record-batch.ts's general decoder made a reader, a record and a copy of it per record.
import { SluiceError } from "../errors.ts";
import type { BatchHeader, RecordHeader, TimestampType } from "../log/record-batch.ts";
import { RecordCursor } from "../log/record-cursor.ts";

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

// Header keys decode leniently (U+FFFD for bad bytes), as Kafka's and kafkajs's consumers do.
const utf8Decoder = new TextDecoder("utf-8");

function corrupt(message: string): never {
  throw new SluiceError("CORRUPT_MESSAGE", message);
}

/** One decode runs at a time (JS is single-threaded), so one cursor serves them all. */
const cursor = new RecordCursor(corrupt);

/** A key, value or header value: null for length -1, else a view of the bytes (no copy). */
function readNullable(bytes: Uint8Array, end: number): Uint8Array | null {
  const length = cursor.varint(end);
  if (length === -1) return null;
  if (length < -1) corrupt(`negative length ${length} in a record`);
  const start = cursor.at;
  cursor.at += length;
  if (cursor.at > end) corrupt("a record field runs past the end of its record");
  return bytes.subarray(start, cursor.at);
}

/**
 * Appends to `out` the records of `payload` (the records section of the batch `header` describes,
 * decompressed) whose offsets are at or past `fromOffset`. Under LogAppendTime every record carries
 * the batch's maxTimestamp, as Kafka's DefaultRecord.readFrom reports it.
 */
export function pushRecords(
  out: ConsumedRecord[],
  payload: Uint8Array,
  header: BatchHeader,
  timestampType: TimestampType,
  topic: string,
  partition: number,
  fromOffset: number,
): void {
  const { baseOffset, baseTimestamp, recordsCount } = header;
  const logAppendTime = timestampType === "LogAppendTime";
  const end = payload.length;
  cursor.reset(payload);
  for (let i = 0; i < recordsCount; i++) {
    const length = cursor.varint(end);
    const bodyEnd = cursor.at + length;
    if (length < 0 || bodyEnd > end) corrupt("a record runs past the end of its batch");
    cursor.at++; // attributes: unused
    const timestampDelta = cursor.varlong(bodyEnd);
    const offset = baseOffset + cursor.varint(bodyEnd);
    if (offset < fromOffset) {
      cursor.at = bodyEnd;
      continue;
    }
    const key = readNullable(payload, bodyEnd);
    const value = readNullable(payload, bodyEnd);
    const headerCount = cursor.varint(bodyEnd);
    if (headerCount < 0) corrupt(`negative header count ${headerCount}`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = readNullable(payload, bodyEnd);
      if (headerKey === null) corrupt("a record header key is null");
      headers.push({ key: utf8Decoder.decode(headerKey), value: readNullable(payload, bodyEnd) });
    }
    if (cursor.at !== bodyEnd) corrupt("a record's fields do not add up to its length");
    const timestamp = logAppendTime ? header.maxTimestamp : baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(timestamp)) {
      corrupt("a record's offset or timestamp is outside the safe integer range");
    }
    out.push({ topic, partition, timestampType, offset, timestamp, key, value, headers });
  }
}
