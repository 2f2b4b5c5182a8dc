// A read position over a records section, for the two walks that read every record in place: the
// append path's framing check (lib/log/record-framing.ts) and the client's decoder
// (lib/client/record-decoding.ts). Varints are read with no allocation per record; each walk says
// which error a malformed one is (INVALID_RECORD from a producer, CORRUPT_MESSAGE from storage).
import { ByteReader } from "./varint.ts";

export class RecordCursor {
  bytes: Uint8Array = new Uint8Array(0);
  at = 0;

  constructor(readonly fail: (message: string) => never) {}

  /** Starts a walk over `bytes` from its first byte. */
  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.at = 0;
  }

  /** A zigzag varint (int32) that must end before `end`. */
  varint(end: number): number {
    const { bytes } = this;
    if (this.at >= end) this.fail("a record ends in the middle of a varint");
    let byte = bytes[this.at++]!;
    if (byte < 0x80) return (byte >>> 1) ^ -(byte & 1);
    let result = byte & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      if (this.at >= end) this.fail("a record ends in the middle of a varint");
      byte = bytes[this.at++]!;
      if (shift === 28 && byte > 0x0f) this.fail("a varint does not fit 32 bits");
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return (result >>> 1) ^ -(result & 1);
    }
    return this.fail("a varint is longer than 5 bytes");
  }

  /** Timestamp deltas are varlongs: up to 4 bytes they are read as varints, longer ones by ByteReader. */
  varlong(end: number): number {
    for (let i = 0; i < 4 && this.at + i < end; i++) {
      if (this.bytes[this.at + i]! < 0x80) return this.varint(end);
    }
    const reader = new ByteReader(this.bytes, this.at, end);
    try {
      const value = reader.varlong();
      this.at = reader.position;
      return value;
    } catch (error) {
      return this.fail(error instanceof Error ? error.message : String(error));
    }
  }
}
