// Walks Zstandard frames without decoding, so no decoder sees a truncated frame or an oversized claim.
//
// Zstandard frames (RFC 8878), little-endian:
// | offset | size | field                                                                        |
// |--------|------|------------------------------------------------------------------------------|
// | 0      | 4    | magic 0xFD2FB528 (skippable frame: 0x184D2A50-5F, uint32 size, that many bytes)|
// | 4      | 1    | descriptor: content size code (7-6), single segment (5), reserved 0 (3),     |
// |        |      | content checksum (2), dictionary id code (1-0)                               |
// | 5      | 0/1  | window descriptor, exponent (7-3) and mantissa (2-0); absent if single segment |
// | ...    | 0-4  | dictionary id                                                                |
// | ...    | 0-8  | content size (the 2-byte form adds 256)                                      |
// | ...    | ...  | blocks: 3-byte header, last (bit 0), type (2-1: raw, RLE, compressed), size  |
// |        |      | (23-3), then size bytes (one for RLE)                                        |
// | ...    | 0/4  | content checksum                                                             |

import { readUint32LE } from "./bytes.ts";
import { corrupt, tooLarge } from "./codec-errors.ts";

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;
const ZSTD_MAGIC_SIZE = 4;
const ZSTD_DESCRIPTOR_OFFSET = 4;
const ZSTD_SKIPPABLE_HEADER_SIZE = 8;
const ZSTD_BLOCK_HEADER_SIZE = 3;
const ZSTD_CHECKSUM_SIZE = 4;
const ZSTD_DESCRIPTOR_SINGLE_SEGMENT = 0x20;
const ZSTD_DESCRIPTOR_RESERVED = 0x08;
const ZSTD_DESCRIPTOR_CHECKSUM = 0x04;
const ZSTD_BLOCK_TYPE_RLE = 1;
const ZSTD_BLOCK_TYPE_RESERVED = 3;
const ZSTD_BLOCK_BYTES_MAX = 128 * 1024;
const ZSTD_DICTIONARY_ID_SIZES = [0, 1, 2, 4] as const;
const ZSTD_CONTENT_SIZE_SIZES = [0, 2, 4, 8] as const;

/**
 * Walks every frame without decoding: complete blocks, nothing after the last frame, declared content
 * sizes within maxOutputBytes. Returns the largest window a frame asks for.
 */
export function zstdCheckFrames(data: Uint8Array, maxOutputBytes: number): number {
  let offset = 0;
  let declaredBytes = 0;
  let windowBytesMax = 0;
  while (offset < data.length) {
    if (data.length - offset < ZSTD_SKIPPABLE_HEADER_SIZE) throw corrupt("zstd", "truncated frame header");
    const magic = readUint32LE(data, offset);
    if ((magic & ZSTD_SKIPPABLE_MAGIC_MASK) >>> 0 === ZSTD_SKIPPABLE_MAGIC) {
      const skipBytes = readUint32LE(data, offset + ZSTD_MAGIC_SIZE);
      if (skipBytes > data.length - offset - ZSTD_SKIPPABLE_HEADER_SIZE) {
        throw corrupt("zstd", "truncated frame");
      }
      offset += ZSTD_SKIPPABLE_HEADER_SIZE + skipBytes;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corrupt("zstd", "bad frame magic");
    const descriptor = data[offset + ZSTD_DESCRIPTOR_OFFSET]!;
    if ((descriptor & ZSTD_DESCRIPTOR_RESERVED) !== 0) throw corrupt("zstd", "reserved descriptor bit set");
    const singleSegment = (descriptor & ZSTD_DESCRIPTOR_SINGLE_SEGMENT) !== 0;
    const contentSizeBytes = ZSTD_CONTENT_SIZE_SIZES[descriptor >>> 6]! || (singleSegment ? 1 : 0);
    let p = offset + ZSTD_DESCRIPTOR_OFFSET + 1;
    const windowDescriptor = singleSegment ? -1 : data[p++]!;
    p += ZSTD_DICTIONARY_ID_SIZES[descriptor & 3]!;
    if (p + contentSizeBytes > data.length) throw corrupt("zstd", "truncated frame header");
    let contentBytes = -1;
    if (contentSizeBytes > 0) {
      contentBytes = 0;
      for (let i = 0; i < contentSizeBytes; i++) contentBytes += data[p + i]! * 2 ** (8 * i);
      if (contentSizeBytes === 2) contentBytes += 256;
      declaredBytes += contentBytes;
      if (declaredBytes > maxOutputBytes) throw tooLarge("zstd", maxOutputBytes);
    }
    p += contentSizeBytes;
    const windowBytes =
      windowDescriptor < 0
        ? contentBytes
        : 2 ** (10 + (windowDescriptor >>> 3)) * (1 + (windowDescriptor & 7) / 8);
    windowBytesMax = Math.max(windowBytesMax, windowBytes);
    for (let last = false; !last; ) {
      if (data.length - p < ZSTD_BLOCK_HEADER_SIZE) throw corrupt("zstd", "truncated block header");
      const header = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16);
      const type = (header >>> 1) & 3;
      const blockBytes = header >>> 3;
      last = (header & 1) === 1;
      if (type === ZSTD_BLOCK_TYPE_RESERVED || blockBytes > ZSTD_BLOCK_BYTES_MAX) {
        throw corrupt("zstd", "bad block");
      }
      p += ZSTD_BLOCK_HEADER_SIZE + (type === ZSTD_BLOCK_TYPE_RLE ? 1 : blockBytes);
      if (p > data.length) throw corrupt("zstd", "truncated block");
    }
    p += (descriptor & ZSTD_DESCRIPTOR_CHECKSUM) !== 0 ? ZSTD_CHECKSUM_SIZE : 0;
    if (p > data.length) throw corrupt("zstd", "truncated checksum");
    offset = p;
  }
  return windowBytesMax;
}
