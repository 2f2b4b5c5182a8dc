// The append path's check of every record's framing, as Kafka's broker does before it accepts a
// batch: lengths that add up, offset deltas 0..n-1, non-null header keys, nothing left over. It reads
// varints in place (lib/log/record-cursor.ts) with no allocation per record, because it runs over
// every byte a producer sends.
import { SluiceError } from "../errors.ts";
import { RecordCursor } from "./record-cursor.ts";

function invalid(message: string): never {
  throw new SluiceError("INVALID_RECORD", message);
}

/** One walk runs at a time (JS is single-threaded), so one cursor serves them all. */
const cursor = new RecordCursor(invalid);

function skipBytes(length: number, end: number, what: string): void {
  if (length < -1) invalid(`${what} has negative length ${length}`);
  if (length > 0) {
    cursor.at += length;
    if (cursor.at > end) invalid(`${what} runs past the end of its record`);
  }
}

/**
 * Walks `recordsCount` records packed in `bytes` (an uncompressed records section) and returns the
 * largest timestamp delta. Throws INVALID_RECORD at the first framing error.
 */
export function checkRecordFraming(bytes: Uint8Array, recordsCount: number): number {
  const end = bytes.length;
  let maxTimestampDelta = Number.NEGATIVE_INFINITY;
  cursor.reset(bytes);
  for (let i = 0; i < recordsCount; i++) {
    const length = cursor.varint(end);
    const bodyEnd = cursor.at + length;
    if (length <= 0 || bodyEnd > end) invalid(`record ${i} has length ${length}, past the end of its batch`);
    cursor.at++; // attributes: unused
    const timestampDelta = cursor.varlong(bodyEnd);
    if (timestampDelta > maxTimestampDelta) maxTimestampDelta = timestampDelta;
    const offsetDelta = cursor.varint(bodyEnd);
    if (offsetDelta !== i) invalid(`record ${i} has offsetDelta ${offsetDelta}; expected ${i}`);
    skipBytes(cursor.varint(bodyEnd), bodyEnd, `record ${i}'s key`);
    skipBytes(cursor.varint(bodyEnd), bodyEnd, `record ${i}'s value`);
    const headerCount = cursor.varint(bodyEnd);
    if (headerCount < 0) invalid(`record ${i} has negative header count ${headerCount}`);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = cursor.varint(bodyEnd);
      if (keyLength < 0) invalid(`record ${i} has a null header key`);
      skipBytes(keyLength, bodyEnd, `record ${i}'s header key`);
      skipBytes(cursor.varint(bodyEnd), bodyEnd, `record ${i}'s header value`);
    }
    if (cursor.at !== bodyEnd) invalid(`record ${i}'s fields do not add up to its length ${length}`);
  }
  if (cursor.at !== end) invalid(`batch has ${end - cursor.at} bytes after its last record`);
  return maxTimestampDelta;
}
