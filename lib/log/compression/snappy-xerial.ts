// Snappy in snappy-java's ("xerial") framing, which Kafka's Java producer writes, or as one raw block.
//
// xerial framing (Kafka's SnappyCodec, snappy-java's SnappyOutputStream):
// | offset | size | field                                                                  |
// |--------|------|------------------------------------------------------------------------|
// | 0      | 8    | magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00                                |
// | 8      | 4    | version, int32 BE (1)                                                  |
// | 12     | 4    | minimum compatible version, int32 BE (1)                               |
// | 16     | ...  | chunks: int32 BE length, then one raw Snappy block (32 KiB input each) |
// A chunk length equal to the magic's first four bytes starts a concatenated stream's header.
// librdkafka and others may send one raw Snappy block with no framing at all.
import * as snappyjs from "snappyjs";
import { readInt32BE } from "./bytes.ts";
import { corrupt } from "./codec-errors.ts";
import { snappyDecodeChunks } from "./snappy-block.ts";

const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_MAGIC_OFFSET = 0;
const XERIAL_VERSION_OFFSET = 8;
const XERIAL_COMPATIBLE_VERSION_OFFSET = 12;
const XERIAL_HEADER_SIZE = 16;
const XERIAL_CHUNK_LENGTH_SIZE = 4;
const XERIAL_VERSION = 1;
/** snappy-java's SnappyOutputStream default block size, which Kafka uses. */
const XERIAL_CHUNK_BYTES = 32 * 1024;

export function snappyCompress(data: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let size = XERIAL_HEADER_SIZE;
  for (let start = 0; start < data.length; start += XERIAL_CHUNK_BYTES) {
    const block = snappyjs.compress(data.subarray(start, Math.min(start + XERIAL_CHUNK_BYTES, data.length)));
    blocks.push(block);
    size += XERIAL_CHUNK_LENGTH_SIZE + block.length;
  }
  const output = new Uint8Array(size);
  const view = new DataView(output.buffer);
  output.set(XERIAL_MAGIC, XERIAL_MAGIC_OFFSET);
  view.setInt32(XERIAL_VERSION_OFFSET, XERIAL_VERSION);
  view.setInt32(XERIAL_COMPATIBLE_VERSION_OFFSET, XERIAL_VERSION);
  let offset = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    view.setInt32(offset, block.length);
    output.set(block, offset + XERIAL_CHUNK_LENGTH_SIZE);
    offset += XERIAL_CHUNK_LENGTH_SIZE + block.length;
  }
  return output;
}

export function snappyDecompress(data: Uint8Array, maxOutputBytes: number): Uint8Array {
  // Like snappy-java and librdkafka: the magic decides, with no fallback to a raw block.
  if (!hasXerialMagic(data, 0)) return snappyDecodeChunks(data, [0, data.length], maxOutputBytes);
  if (readInt32BE(data, XERIAL_VERSION_OFFSET) < XERIAL_VERSION) {
    throw corrupt("snappy", "xerial version below 1");
  }
  const chunks: number[] = [];
  let offset = XERIAL_HEADER_SIZE;
  while (offset < data.length) {
    if (hasXerialMagic(data, offset)) {
      offset += XERIAL_HEADER_SIZE; // snappy-java reads concatenated streams
      continue;
    }
    if (data.length - offset < XERIAL_CHUNK_LENGTH_SIZE) throw corrupt("snappy", "truncated chunk length");
    const chunkBytes = readInt32BE(data, offset) >>> 0;
    offset += XERIAL_CHUNK_LENGTH_SIZE;
    if (chunkBytes > data.length - offset) throw corrupt("snappy", "chunk runs past the end");
    chunks.push(offset, offset + chunkBytes);
    offset += chunkBytes;
  }
  return snappyDecodeChunks(data, chunks, maxOutputBytes);
}

function hasXerialMagic(data: Uint8Array, offset: number): boolean {
  if (data.length - offset < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) {
    if (data[offset + i] !== XERIAL_MAGIC[i]) return false;
  }
  return true;
}
