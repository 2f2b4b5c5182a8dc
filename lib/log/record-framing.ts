// The append path's check of every record's framing, as Kafka's broker does before it accepts a
// batch: lengths that add up, offset deltas 0..n-1, non-null header keys, nothing left over. It reads
// varints in place with no allocation per record, because it runs over every byte a producer sends.
import { SluiceError } from "../errors.ts";
import { ByteReader } from "./varint.ts";

/** Read position shared by the helpers below; one walk runs at a time (JS is single-threaded). */
let at = 0;

function invalid(message: string): never {
  throw new SluiceError("INVALID_RECORD", message);
}

function readVarint(bytes: Uint8Array, end: number): number {
  if (at >= end) invalid("a record ends in the middle of a varint");
  let byte = bytes[at++]!;
  if (byte < 0x80) return (byte >>> 1) ^ -(byte & 1);
  let result = byte & 0x7f;
  for (let shift = 7; shift < 35; shift += 7) {
    if (at >= end) invalid("a record ends in the middle of a varint");
    byte = bytes[at++]!;
    if (shift === 28 && byte > 0x0f) invalid("a varint does not fit 32 bits");
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) return (result >>> 1) ^ -(result & 1);
  }
  return invalid("a varint is longer than 5 bytes");
}

/** Timestamp deltas are varlongs; short ones are read like varints, long ones by ByteReader. */
function readVarlong(bytes: Uint8Array, end: number): number {
  const start = at;
  for (let i = 0; i < 4 && start + i < end; i++) {
    if (bytes[start + i]! < 0x80) return readVarint(bytes, end);
  }
  const reader = new ByteReader(bytes, start, end);
  try {
    const value = reader.varlong();
    at = reader.position;
    return value;
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error));
  }
}

function skipBytes(length: number, end: number, what: string): void {
  if (length < -1) invalid(`${what} has negative length ${length}`);
  if (length > 0) {
    at += length;
    if (at > end) invalid(`${what} runs past the end of its record`);
  }
}

/**
 * Walks `recordsCount` records packed in `bytes` (an uncompressed records section) and returns the
 * largest timestamp delta. Throws INVALID_RECORD at the first framing error.
 */
export function checkRecordFraming(bytes: Uint8Array, recordsCount: number): number {
  const end = bytes.length;
  let maxTimestampDelta = Number.NEGATIVE_INFINITY;
  at = 0;
  for (let i = 0; i < recordsCount; i++) {
    const length = readVarint(bytes, end);
    const bodyEnd = at + length;
    if (length <= 0 || bodyEnd > end) invalid(`record ${i} has length ${length}, past the end of its batch`);
    at++; // attributes: unused
    const timestampDelta = readVarlong(bytes, bodyEnd);
    if (timestampDelta > maxTimestampDelta) maxTimestampDelta = timestampDelta;
    const offsetDelta = readVarint(bytes, bodyEnd);
    if (offsetDelta !== i) invalid(`record ${i} has offsetDelta ${offsetDelta}; expected ${i}`);
    skipBytes(readVarint(bytes, bodyEnd), bodyEnd, `record ${i}'s key`);
    skipBytes(readVarint(bytes, bodyEnd), bodyEnd, `record ${i}'s value`);
    const headerCount = readVarint(bytes, bodyEnd);
    if (headerCount < 0) invalid(`record ${i} has negative header count ${headerCount}`);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = readVarint(bytes, bodyEnd);
      if (keyLength < 0) invalid(`record ${i} has a null header key`);
      skipBytes(keyLength, bodyEnd, `record ${i}'s header key`);
      skipBytes(readVarint(bytes, bodyEnd), bodyEnd, `record ${i}'s header value`);
    }
    if (at !== bodyEnd) invalid(`record ${i}'s fields do not add up to its length ${length}`);
  }
  if (at !== end) invalid(`batch has ${end - at} bytes after its last record`);
  return maxTimestampDelta;
}
