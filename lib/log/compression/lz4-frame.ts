// The LZ4 frame Kafka writes and reads: a header, then independent blocks with sizes and optional checksums.
//
// LZ4 frame (lz4_Frame_format.md; Kafka's Lz4BlockOutputStream / Lz4BlockInputStream), little-endian:
// | offset | size | field                                                                        |
// |--------|------|------------------------------------------------------------------------------|
// | 0      | 4    | magic 0x184D2204                                                             |
// | 4      | 1    | FLG: version 01 (bits 7-6), block independence (5, Kafka requires it), block |
// |        |      | checksum (4), content size (3), content checksum (2), reserved 0 (1-0)       |
// | 5      | 1    | BD: block maximum size in bits 6-4 (4 = 64 KiB .. 7 = 4 MiB), other bits 0  |
// | 6      | 0/8  | content size, uint64, when FLG bit 3                                         |
// | 6/14   | 1    | HC: (xxh32(FLG .. content size) >> 8) & 0xFF (before KIP-57, magic included) |
// | ...    | ...  | blocks: uint32 size (bit 31: stored uncompressed), data, [xxh32 of the data] |
// | ...    | 4    | end mark 0, then xxh32 of the content when FLG bit 2                         |
import { readUint32LE, writeUint32LE } from "./bytes.ts";
import { corrupt, tooLarge } from "./codec-errors.ts";
import { lz4CompressBlock, lz4CompressBound, lz4DecodeBlock } from "./lz4-block.ts";
import { xxh32 } from "./xxh32.ts";

const LZ4_MAGIC = 0x184d2204;
const LZ4_MAGIC_OFFSET = 0;
const LZ4_FLG_OFFSET = 4;
const LZ4_BD_OFFSET = 5;
const LZ4_DESCRIPTOR_OFFSET = LZ4_FLG_OFFSET;
const LZ4_CONTENT_SIZE_OFFSET = 6;
const LZ4_CONTENT_SIZE_SIZE = 8;
const LZ4_BLOCK_SIZE_SIZE = 4;
const LZ4_CHECKSUM_SIZE = 4;
const LZ4_FLG_VERSION_MASK = 0xc0;
const LZ4_FLG_VERSION_01 = 0x40;
const LZ4_FLG_BLOCK_INDEPENDENCE = 0x20;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_CONTENT_CHECKSUM = 0x04;
const LZ4_FLG_RESERVED = 0x03;
const LZ4_BD_RESERVED = 0x8f;
const LZ4_BLOCK_UNCOMPRESSED = 0x80000000;
/** What Kafka writes: FLG = version 01 + independent blocks, no checksums (the batch CRC covers it); BD = 64 KiB. */
const LZ4_WRITE_FLG = LZ4_FLG_VERSION_01 | LZ4_FLG_BLOCK_INDEPENDENCE;
const LZ4_WRITE_BD = 4 << 4;
const LZ4_WRITE_BLOCK_BYTES = 64 * 1024;
/** Without a content size the header checksum follows BD directly. */
const LZ4_WRITE_HC_OFFSET = 6;
const LZ4_WRITE_HEADER_SIZE = 7;

export function lz4Compress(data: Uint8Array): Uint8Array {
  const blockCount = Math.ceil(data.length / LZ4_WRITE_BLOCK_BYTES);
  const worstBlockBytes = LZ4_BLOCK_SIZE_SIZE + lz4CompressBound(LZ4_WRITE_BLOCK_BYTES);
  const output = new Uint8Array(LZ4_WRITE_HEADER_SIZE + blockCount * worstBlockBytes + LZ4_BLOCK_SIZE_SIZE);
  writeUint32LE(output, LZ4_MAGIC_OFFSET, LZ4_MAGIC);
  output[LZ4_FLG_OFFSET] = LZ4_WRITE_FLG;
  output[LZ4_BD_OFFSET] = LZ4_WRITE_BD;
  output[LZ4_WRITE_HC_OFFSET] = lz4HeaderChecksum(output, LZ4_WRITE_HC_OFFSET);
  let offset = LZ4_WRITE_HEADER_SIZE;
  for (let start = 0; start < data.length; start += LZ4_WRITE_BLOCK_BYTES) {
    const end = Math.min(start + LZ4_WRITE_BLOCK_BYTES, data.length);
    const blockStart = offset + LZ4_BLOCK_SIZE_SIZE;
    const compressedBytes = lz4CompressBlock(data, start, end, output, blockStart) - blockStart;
    if (compressedBytes < end - start) {
      writeUint32LE(output, offset, compressedBytes);
      offset = blockStart + compressedBytes;
    } else {
      // Stored as is when compression does not pay, as Kafka does.
      writeUint32LE(output, offset, (LZ4_BLOCK_UNCOMPRESSED | (end - start)) >>> 0);
      output.set(data.subarray(start, end), blockStart);
      offset = blockStart + (end - start);
    }
  }
  writeUint32LE(output, offset, 0);
  return output.slice(0, offset + LZ4_BLOCK_SIZE_SIZE);
}

function lz4HeaderChecksum(frame: Uint8Array, descriptorEnd: number): number {
  return (xxh32(frame, LZ4_DESCRIPTOR_OFFSET, descriptorEnd) >>> 8) & 0xff;
}

interface Lz4Block {
  start: number;
  end: number;
  compressed: boolean;
}

export function lz4Decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array {
  if (data.length < LZ4_WRITE_HEADER_SIZE || readUint32LE(data, LZ4_MAGIC_OFFSET) !== LZ4_MAGIC) {
    throw corrupt("lz4", "not an LZ4 frame");
  }
  const flg = data[LZ4_FLG_OFFSET]!;
  const bd = data[LZ4_BD_OFFSET]!;
  const blockSizeCode = (bd >>> 4) & 7;
  if ((flg & LZ4_FLG_VERSION_MASK) !== LZ4_FLG_VERSION_01 || (flg & LZ4_FLG_RESERVED) !== 0) {
    throw corrupt("lz4", `unsupported FLG 0x${flg.toString(16)}`);
  }
  if ((flg & LZ4_FLG_BLOCK_INDEPENDENCE) === 0) {
    throw corrupt("lz4", "dependent blocks, which Kafka does not read");
  }
  if ((bd & LZ4_BD_RESERVED) !== 0 || blockSizeCode < 4) throw corrupt("lz4", `bad BD 0x${bd.toString(16)}`);
  const blockMaxBytes = 1 << (2 * blockSizeCode + 8);
  let offset = LZ4_CONTENT_SIZE_OFFSET;
  let contentBytes = -1;
  if ((flg & LZ4_FLG_CONTENT_SIZE) !== 0) {
    if (data.length < offset + LZ4_CONTENT_SIZE_SIZE + 1) throw corrupt("lz4", "truncated header");
    contentBytes = readUint32LE(data, offset) + readUint32LE(data, offset + 4) * 2 ** 32;
    if (contentBytes > maxOutputBytes) throw tooLarge("lz4", maxOutputBytes);
    offset += LZ4_CONTENT_SIZE_SIZE;
  }
  if (data[offset] !== lz4HeaderChecksum(data, offset)) throw corrupt("lz4", "header checksum mismatch");
  offset += 1;

  const hasBlockChecksum = (flg & LZ4_FLG_BLOCK_CHECKSUM) !== 0;
  const blocks: Lz4Block[] = [];
  let outputBound = 0;
  for (;;) {
    if (data.length - offset < LZ4_BLOCK_SIZE_SIZE) throw corrupt("lz4", "truncated block size");
    const word = readUint32LE(data, offset);
    offset += LZ4_BLOCK_SIZE_SIZE;
    if (word === 0) break;
    const blockBytes = word & ~LZ4_BLOCK_UNCOMPRESSED;
    const compressed = (word & LZ4_BLOCK_UNCOMPRESSED) === 0;
    if (blockBytes > blockMaxBytes) throw corrupt("lz4", "block larger than the frame's maximum");
    if (data.length - offset < blockBytes + (hasBlockChecksum ? LZ4_CHECKSUM_SIZE : 0)) {
      throw corrupt("lz4", "truncated block");
    }
    if (
      hasBlockChecksum &&
      xxh32(data, offset, offset + blockBytes) !== readUint32LE(data, offset + blockBytes)
    ) {
      throw corrupt("lz4", "block checksum mismatch");
    }
    blocks.push({ start: offset, end: offset + blockBytes, compressed });
    outputBound += compressed ? blockMaxBytes : blockBytes;
    offset += blockBytes + (hasBlockChecksum ? LZ4_CHECKSUM_SIZE : 0);
  }
  const hasContentChecksum = (flg & LZ4_FLG_CONTENT_CHECKSUM) !== 0;
  // Kafka stops at the end mark, librdkafka rejects what follows: reject, so every consumer reads what we keep.
  if (data.length - offset !== (hasContentChecksum ? LZ4_CHECKSUM_SIZE : 0)) {
    throw corrupt("lz4", "bytes after the end mark");
  }

  const output = new Uint8Array(Math.min(outputBound, maxOutputBytes));
  let outputOffset = 0;
  for (const block of blocks) {
    if (!block.compressed) {
      if (block.end - block.start > output.length - outputOffset) throw tooLarge("lz4", maxOutputBytes);
      output.set(data.subarray(block.start, block.end), outputOffset);
      outputOffset += block.end - block.start;
      continue;
    }
    const limit = Math.min(outputOffset + blockMaxBytes, output.length);
    const end = lz4DecodeBlock(data, block.start, block.end, output, outputOffset, limit);
    if (end < 0) {
      // The limit is either the frame's block size (then the block lies) or maxOutputBytes.
      const blockLimited = limit === outputOffset + blockMaxBytes;
      throw blockLimited
        ? corrupt("lz4", "block inflates past the frame's block size")
        : tooLarge("lz4", maxOutputBytes);
    }
    outputOffset = end;
  }
  if (contentBytes >= 0 && contentBytes !== outputOffset) throw corrupt("lz4", "content size mismatch");
  if (hasContentChecksum && xxh32(output, 0, outputOffset) !== readUint32LE(data, offset)) {
    throw corrupt("lz4", "content checksum mismatch");
  }
  return outputOffset === output.length ? output : output.slice(0, outputOffset);
}
