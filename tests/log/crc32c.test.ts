// CRC-32C: the standard check value, and the native and portable implementations agreeing on every
// length the slicing-by-8 loop and its tail can see, including views that start at odd byte offsets.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { crc32c, crc32cIsNative, crc32cPortable } from "../../lib/log/crc32c.ts";

const FAST_CHECK_SEED = 0xc3c;

/** Bit-at-a-time CRC-32C straight from the polynomial: slow, obviously right. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const ascii = (text: string) => new TextEncoder().encode(text);

describe("crc32c", () => {
  test("the check value of '123456789' is 0xE3069283", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32cPortable(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32cBitwise(ascii("123456789"))).toBe(0xe3069283);
  });

  test("known answers from RFC 3720 (iSCSI) B.4", () => {
    const zeros = new Uint8Array(32);
    const ones = new Uint8Array(32).fill(0xff);
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    for (const crc of [crc32c, crc32cPortable]) {
      expect(crc(zeros)).toBe(0x8a9136aa);
      expect(crc(ones)).toBe(0x62a8ab43);
      expect(crc(ascending)).toBe(0x46dd794e);
      expect(crc(descending)).toBe(0x113fdb5c);
      expect(crc(new Uint8Array(0))).toBe(0);
    }
  });

  test("results are unsigned 32-bit numbers", () => {
    const value = crc32c(new Uint8Array(32).fill(0xff));
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(0xffffffff);
  });

  test("the native implementation is loaded under Bun", () => {
    expect(crc32cIsNative).toBe(true);
  });

  test("native and portable agree with the bitwise reference on every length from 0 to 300", () => {
    const bytes = new Uint8Array(300);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    for (let length = 0; length <= bytes.length; length++) {
      const slice = bytes.slice(0, length);
      const expected = crc32cBitwise(slice);
      expect(crc32cPortable(slice)).toBe(expected);
      expect(crc32c(slice)).toBe(expected);
    }
  });

  test("native and portable agree on random buffers of many lengths", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 5000 }), (bytes) => {
        expect(crc32c(bytes)).toBe(crc32cPortable(bytes));
      }),
      { seed: FAST_CHECK_SEED, numRuns: 300 },
    );
  });

  test("subarray views at odd byte offsets checksum only their own bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.nat(),
        fc.nat(),
        (bytes, startSeed, lengthSeed) => {
          const start = startSeed % bytes.length;
          const end = start + (lengthSeed % (bytes.length - start + 1));
          const view = bytes.subarray(start, end);
          const copy = bytes.slice(start, end);
          const expected = crc32cPortable(copy);
          expect(crc32c(view)).toBe(expected);
          expect(crc32cPortable(view)).toBe(expected);
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 300 },
    );
    // A view over a larger ArrayBuffer, whose bytes outside the view must not leak in.
    const backing = new Uint8Array(1031).fill(0xaa);
    for (const offset of [1, 3, 5, 7, 9, 13]) {
      const view = new Uint8Array(backing.buffer, offset, 1000);
      expect(crc32c(view)).toBe(crc32cBitwise(view.slice()));
      expect(crc32cPortable(view)).toBe(crc32cBitwise(view.slice()));
    }
  });

  test("a single flipped bit always changes the checksum", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.nat(), (bytes, bitSeed) => {
        const bit = bitSeed % (bytes.length * 8);
        const flipped = bytes.slice();
        flipped[bit >>> 3]! ^= 1 << (bit & 7);
        expect(crc32c(flipped)).not.toBe(crc32c(bytes));
      }),
      { seed: FAST_CHECK_SEED, numRuns: 300 },
    );
  });
});
