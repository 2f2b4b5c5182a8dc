// Kafka's record varints: zigzag, then base-128 with the low group first. varint is int32 (at most 5
// bytes), varlong is int64 (at most 10 bytes), kept in a JS number and so bounded to safe integers.
import { SluiceError } from "../errors.ts";

export const VARINT_BYTES_MAX = 5;
export const VARLONG_BYTES_MAX = 10;

/** Bytes that writeVarint will use for `value` (an int32). */
export function varintSize(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (zigzag >= 0x80) {
    zigzag >>>= 7;
    size++;
  }
  return size;
}

/** Writes an int32 zigzag varint at `position`; returns the position after it. */
export function writeVarint(target: Uint8Array, position: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let at = position;
  while (zigzag >= 0x80) {
    target[at++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  target[at++] = zigzag;
  return at;
}

/** Bytes that writeVarlong will use for `value` (a safe integer). */
export function varlongSize(value: number): number {
  let zigzag = zigzagLong(value);
  let size = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    size++;
  }
  return size;
}

export function writeVarlong(target: Uint8Array, position: number, value: number): number {
  if (value >= -(2 ** 30) && value < 2 ** 30) return writeVarint(target, position, value);
  let zigzag = zigzagLong(value);
  let at = position;
  while (zigzag >= 128) {
    target[at++] = (zigzag % 128) | 0x80;
    zigzag = Math.floor(zigzag / 128);
  }
  target[at++] = zigzag;
  return at;
}

function zigzagLong(value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new SluiceError("INVALID_RECORD", `varlong value ${value} is not a safe integer`);
  }
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/**
 * A bounds-checked reader over record bytes. Every read past `end` or over-long varint is a
 * CORRUPT_MESSAGE: record bytes come from producers and disks, never trusted.
 */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    public position: number,
    readonly end: number,
  ) {}

  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      if (this.position >= this.end) throw truncated();
      const byte = this.bytes[this.position++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
      shift += 7;
    }
    throw new SluiceError("CORRUPT_MESSAGE", "varint is longer than 5 bytes");
  }

  varlong(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < VARLONG_BYTES_MAX; i++) {
      if (this.position >= this.end) throw truncated();
      const byte = this.bytes[this.position++]!;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) {
          throw new SluiceError("CORRUPT_MESSAGE", "varlong is outside the safe integer range");
        }
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
      multiplier *= 128;
    }
    throw new SluiceError("CORRUPT_MESSAGE", "varlong is longer than 10 bytes");
  }

  int8(): number {
    if (this.position >= this.end) throw truncated();
    return (this.bytes[this.position++]! << 24) >> 24;
  }

  /** A view of the next `length` bytes (no copy). */
  take(length: number): Uint8Array {
    if (length < 0 || this.position + length > this.end) throw truncated();
    const view = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }

  skip(length: number): void {
    if (length < 0 || this.position + length > this.end) throw truncated();
    this.position += length;
  }
}

function truncated(): SluiceError {
  return new SluiceError("CORRUPT_MESSAGE", "record data ends in the middle of a field");
}
