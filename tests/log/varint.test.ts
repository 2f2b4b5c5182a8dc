// Record varints: byte-exact against an independent BigInt encoder, round trips over the whole
// int32 / safe-integer range, and CORRUPT_MESSAGE for every truncated or over-long input.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type ErrorName, isSluiceError } from "../../lib/errors.ts";
import {
  ByteReader,
  VARINT_BYTES_MAX,
  VARLONG_BYTES_MAX,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from "../../lib/log/varint.ts";

const FAST_CHECK_SEED = 0x7a21;
const NUM_RUNS = 2_000;

/** Kafka's ByteUtils.writeVarlong, in BigInt so it is exact for every int64. */
function referenceEncode(value: bigint): number[] {
  let zigzag = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  const out: number[] = [];
  while (zigzag >= 0x80n) {
    out.push(Number(zigzag & 0x7fn) | 0x80);
    zigzag >>= 7n;
  }
  out.push(Number(zigzag));
  return out;
}

function encodeVarint(value: number): Uint8Array {
  const buffer = new Uint8Array(VARINT_BYTES_MAX);
  return buffer.subarray(0, writeVarint(buffer, 0, value));
}

function encodeVarlong(value: number): Uint8Array {
  const buffer = new Uint8Array(VARLONG_BYTES_MAX);
  return buffer.subarray(0, writeVarlong(buffer, 0, value));
}

function reader(...bytes: number[]): ByteReader {
  return new ByteReader(Uint8Array.from(bytes), 0, bytes.length);
}

function hex(bytes: Uint8Array | number[]): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function expectSluiceError(read: () => unknown, name: ErrorName): void {
  let thrown: unknown;
  try {
    read();
  } catch (error) {
    thrown = error;
  }
  expect(isSluiceError(thrown, name)).toBe(true);
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
/** Safe integers, biased towards every byte-count boundary and both ends of the range. */
const safeInteger = fc
  .oneof(
    fc.maxSafeInteger().map((value) => value),
    fc
      .integer({ min: 0, max: 8 })
      .chain((bytes) =>
        fc.constantFrom(
          2 ** (7 * bytes + 6) - 1,
          2 ** (7 * bytes + 6),
          -(2 ** (7 * bytes + 6)),
          -(2 ** (7 * bytes + 6)) - 1,
        ),
      ),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 52, -(2 ** 52), -(2 ** 52) - 1),
  )
  .filter((value) => Number.isSafeInteger(value));

describe("varint", () => {
  test("known encodings match Kafka's", () => {
    const known: [number, string][] = [
      [0, "00"],
      [-1, "01"],
      [1, "02"],
      [63, "7e"],
      [-64, "7f"],
      [64, "8001"],
      [-65, "8101"],
      [300, "d804"],
      [2 ** 31 - 1, "feffffff0f"],
      [-(2 ** 31), "ffffffff0f"],
    ];
    for (const [value, encoding] of known) {
      expect(hex(encodeVarint(value))).toBe(encoding);
      expect(varintSize(value)).toBe(encoding.length / 2);
      expect(reader(...Buffer.from(encoding, "hex")).varint()).toBe(value);
    }
  });

  test("every int32 encodes as the reference does, round trips, and varintSize is its length", () => {
    fc.assert(
      fc.property(int32, (value) => {
        const bytes = encodeVarint(value);
        expect(hex(bytes)).toBe(hex(referenceEncode(BigInt(value))));
        expect(varintSize(value)).toBe(bytes.length);
        const read = new ByteReader(bytes, 0, bytes.length);
        expect(read.varint()).toBe(value);
        expect(read.position).toBe(bytes.length);
      }),
      { seed: FAST_CHECK_SEED, numRuns: NUM_RUNS },
    );
  });

  test("a varint cut short anywhere is CORRUPT_MESSAGE", () => {
    fc.assert(
      fc.property(int32, (value) => {
        const bytes = encodeVarint(value);
        for (let length = 0; length < bytes.length; length++) {
          expectSluiceError(() => new ByteReader(bytes, 0, length).varint(), "CORRUPT_MESSAGE");
        }
      }),
      { seed: FAST_CHECK_SEED, numRuns: 200 },
    );
  });

  test("a varint longer than five bytes is CORRUPT_MESSAGE", () => {
    expectSluiceError(() => reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x00).varint(), "CORRUPT_MESSAGE");
    expectSluiceError(() => reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).varint(), "CORRUPT_MESSAGE");
  });

  test("a fifth byte with bits above 32 is CORRUPT_MESSAGE", () => {
    expectSluiceError(() => reader(0xff, 0xff, 0xff, 0xff, 0x1f).varint(), "CORRUPT_MESSAGE");
    expectSluiceError(() => reader(0x80, 0x80, 0x80, 0x80, 0x70).varint(), "CORRUPT_MESSAGE");
  });

  test("a zero-padded varint within five bytes still decodes, as Kafka's reader allows", () => {
    expect(reader(0x82, 0x80, 0x00).varint()).toBe(1);
    expect(reader(0x80, 0x80, 0x80, 0x80, 0x00).varint()).toBe(0);
  });

  test("reads stop at the reader's end, not the array's", () => {
    const bytes = Uint8Array.of(0x80, 0x01);
    expectSluiceError(() => new ByteReader(bytes, 0, 1).varint(), "CORRUPT_MESSAGE");
    expect(new ByteReader(bytes, 0, 2).varint()).toBe(64);
  });
});

describe("varlong", () => {
  test("known encodings match Kafka's", () => {
    const known: [number, string][] = [
      [0, "00"],
      [-1, "01"],
      [1, "02"],
      [63, "7e"],
      [-64, "7f"],
      [64, "8001"],
      [2 ** 31 - 1, "feffffff0f"],
      [-(2 ** 31), "ffffffff0f"],
      [2 ** 31, "8080808010"],
      [1_700_000_000_000, "80a0abfef962"],
      [Number.MAX_SAFE_INTEGER, "feffffffffffff1f"],
      [Number.MIN_SAFE_INTEGER, "fdffffffffffff1f"],
    ];
    for (const [value, encoding] of known) {
      expect(hex(referenceEncode(BigInt(value)))).toBe(encoding);
      expect(hex(encodeVarlong(value))).toBe(encoding);
      expect(varlongSize(value)).toBe(encoding.length / 2);
      expect(reader(...Buffer.from(encoding, "hex")).varlong()).toBe(value);
    }
  });

  test("every safe integer encodes as the reference does, round trips, and varlongSize is its length", () => {
    fc.assert(
      fc.property(safeInteger, (value) => {
        const bytes = encodeVarlong(value);
        expect(hex(bytes)).toBe(hex(referenceEncode(BigInt(value))));
        expect(varlongSize(value)).toBe(bytes.length);
        const read = new ByteReader(bytes, 0, bytes.length);
        expect(read.varlong()).toBe(value);
        expect(read.position).toBe(bytes.length);
      }),
      { seed: FAST_CHECK_SEED, numRuns: NUM_RUNS },
    );
  });

  test("a varint's bytes read back as the same varlong", () => {
    fc.assert(
      fc.property(int32, (value) => {
        const bytes = encodeVarint(value);
        expect(new ByteReader(bytes, 0, bytes.length).varlong()).toBe(value);
      }),
      { seed: FAST_CHECK_SEED, numRuns: 500 },
    );
  });

  test("an int64 outside the safe range is CORRUPT_MESSAGE, not a rounded number", () => {
    const outside = [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n];
    for (const value of outside) {
      const bytes = referenceEncode(value);
      expectSluiceError(() => reader(...bytes).varlong(), "CORRUPT_MESSAGE");
    }
  });

  test("a varlong cut short anywhere is CORRUPT_MESSAGE", () => {
    fc.assert(
      fc.property(safeInteger, (value) => {
        const bytes = encodeVarlong(value);
        for (let length = 0; length < bytes.length; length++) {
          expectSluiceError(() => new ByteReader(bytes, 0, length).varlong(), "CORRUPT_MESSAGE");
        }
      }),
      { seed: FAST_CHECK_SEED, numRuns: 200 },
    );
  });

  test("a varlong longer than ten bytes is CORRUPT_MESSAGE", () => {
    expectSluiceError(() => reader(...new Array(10).fill(0x80), 0x00).varlong(), "CORRUPT_MESSAGE");
    expectSluiceError(() => reader(...new Array(11).fill(0xff), 0x01).varlong(), "CORRUPT_MESSAGE");
  });

  test("a value that is not a safe integer cannot be written", () => {
    for (const value of [2 ** 53, -(2 ** 53), 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectSluiceError(() => encodeVarlong(value), "INVALID_RECORD");
      expectSluiceError(() => varlongSize(value), "INVALID_RECORD");
    }
  });
});

describe("ByteReader", () => {
  test("take and skip refuse to run past the end", () => {
    const read = new ByteReader(Uint8Array.of(1, 2, 3, 4), 1, 3);
    expect(Array.from(read.take(2))).toEqual([2, 3]);
    expectSluiceError(() => read.take(1), "CORRUPT_MESSAGE");
    expectSluiceError(() => new ByteReader(Uint8Array.of(1, 2), 0, 2).skip(3), "CORRUPT_MESSAGE");
    expectSluiceError(() => new ByteReader(Uint8Array.of(1, 2), 0, 2).take(-1), "CORRUPT_MESSAGE");
  });

  test("int8 is signed", () => {
    const read = reader(0xff, 0x7f, 0x80);
    expect([read.int8(), read.int8(), read.int8()]).toEqual([-1, 127, -128]);
    expectSluiceError(() => read.int8(), "CORRUPT_MESSAGE");
  });
});
