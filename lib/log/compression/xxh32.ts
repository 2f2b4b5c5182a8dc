// XXH32 with seed 0, the checksum of an LZ4 frame's header, blocks and content.
import { readUint32LE } from "./bytes.ts";

const XXH_PRIME_1 = 0x9e3779b1;
const XXH_PRIME_2 = 0x85ebca77;
const XXH_PRIME_3 = 0xc2b2ae3d;
const XXH_PRIME_4 = 0x27d4eb2f;
const XXH_PRIME_5 = 0x165667b1;

/** XXH32 with seed 0 over data[start, end): the LZ4 frame's header, block and content checksums. */
export function xxh32(data: Uint8Array, start: number, end: number): number {
  let p = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (XXH_PRIME_1 + XXH_PRIME_2) | 0;
    let v2 = XXH_PRIME_2 | 0;
    let v3 = 0;
    let v4 = -XXH_PRIME_1 | 0;
    for (const limit = end - 16; p <= limit; p += 16) {
      v1 = xxh32Round(v1, readUint32LE(data, p));
      v2 = xxh32Round(v2, readUint32LE(data, p + 4));
      v3 = xxh32Round(v3, readUint32LE(data, p + 8));
      v4 = xxh32Round(v4, readUint32LE(data, p + 12));
    }
    h = (rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18)) | 0;
  } else {
    h = XXH_PRIME_5 | 0;
  }
  h = (h + (end - start)) | 0;
  for (; p + 4 <= end; p += 4) {
    h = Math.imul(rotl32((h + Math.imul(readUint32LE(data, p), XXH_PRIME_3)) | 0, 17), XXH_PRIME_4);
  }
  for (; p < end; p++) h = Math.imul(rotl32((h + Math.imul(data[p]!, XXH_PRIME_5)) | 0, 11), XXH_PRIME_1);
  h = Math.imul(h ^ (h >>> 15), XXH_PRIME_2);
  h = Math.imul(h ^ (h >>> 13), XXH_PRIME_3);
  return (h ^ (h >>> 16)) >>> 0;
}

function xxh32Round(accumulator: number, lane: number): number {
  return Math.imul(rotl32((accumulator + Math.imul(lane, XXH_PRIME_2)) | 0, 13), XXH_PRIME_1);
}

function rotl32(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
