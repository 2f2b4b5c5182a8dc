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
  // The first byte carries the sign bit and 6 magnitude bits, every later byte 7 more.
  let rest = Math.floor(magnitudeOf(value) / 64);
  let size = 1;
  while (rest > 0) {
    rest = Math.floor(rest / 128);
    size++;
  }
  return size;
}

/** Writes a safe integer as a zigzag varlong at `position`; returns the position after it. */
export function writeVarlong(target: Uint8Array, position: number, value: number): number {
  if ((value | 0) === value) return writeVarint(target, position, value);
  // zigzag(v) = 2 * magnitude + sign can reach 2^54 - 3, past what a double holds exactly when odd,
  // so the sign bit and the magnitude are written apart and no step leaves the safe range.
  let rest = magnitudeOf(value);
  let group = (rest % 64) * 2 + (value < 0 ? 1 : 0);
  rest = Math.floor(rest / 64);
  let at = position;
  while (rest > 0) {
    target[at++] = group | 0x80;
    group = rest % 128;
    rest = Math.floor(rest / 128);
  }
  target[at++] = group;
  return at;
}

/** zigzag(v) >> 1: v for v >= 0, -v - 1 below. */
function magnitudeOf(value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new SluiceError("INVALID_RECORD", `varlong value ${value} is not a safe integer`);
  }
  return value >= 0 ? value : -value - 1;
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
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.position >= this.end) throw truncated();
      const byte = this.bytes[this.position++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
    }
    if (this.position >= this.end) throw truncated();
    const last = this.bytes[this.position++]!;
    if (last & 0x80)
      throw new SluiceError("CORRUPT_MESSAGE", `varint is longer than ${VARINT_BYTES_MAX} bytes`);
    // The fifth byte holds bits 28-31; Kafka drops anything above them, but no encoder writes it.
    if (last > 0x0f) throw new SluiceError("CORRUPT_MESSAGE", "varint does not fit in 32 bits");
    result |= last << 28;
    return (result >>> 1) ^ -(result & 1);
  }

  varlong(): number {
    // Reads the zigzag sign bit apart from the magnitude (see writeVarlong): every partial sum is
    // exact below 2^53, and a larger one stays at or above 2^53 and is rejected.
    if (this.position >= this.end) throw truncated();
    let byte = this.bytes[this.position++]!;
    const negative = (byte & 1) === 1;
    let magnitude = (byte & 0x7f) >>> 1;
    let multiplier = 64;
    for (let size = 1; (byte & 0x80) !== 0; size++) {
      if (size === VARLONG_BYTES_MAX) {
        throw new SluiceError("CORRUPT_MESSAGE", `varlong is longer than ${VARLONG_BYTES_MAX} bytes`);
      }
      if (this.position >= this.end) throw truncated();
      byte = this.bytes[this.position++]!;
      magnitude += (byte & 0x7f) * multiplier;
      multiplier *= 128;
    }
    const value = negative ? -magnitude - 1 : magnitude;
    if (!Number.isSafeInteger(value)) {
      throw new SluiceError("CORRUPT_MESSAGE", "varlong is outside the safe integer range");
    }
    return value;
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
