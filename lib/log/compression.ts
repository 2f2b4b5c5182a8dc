// Batch compression for RecordBatch v2 (attributes bits 0-2): gzip, snappy in snappy-java's framing, lz4
// in the frame format Kafka reads, and zstd. Every decoder is bounded by an output limit, and malformed
// input only ever raises a SluiceError.
//
// snappy-java ("xerial") framing, what Kafka's Java producer writes (SnappyCodec, SnappyOutputStream):
// | offset | size | field                                                                  |
// |--------|------|------------------------------------------------------------------------|
// | 0      | 8    | magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00                                |
// | 8      | 4    | version, int32 BE (1)                                                  |
// | 12     | 4    | minimum compatible version, int32 BE (1)                               |
// | 16     | ...  | chunks: int32 BE length, then one raw Snappy block (32 KiB input each) |
// A chunk length equal to the magic's first four bytes starts a concatenated stream's header.
// librdkafka and others may send one raw Snappy block with no framing at all.
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
//
// Zstandard frames (RFC 8878), little-endian, walked before decoding to check their structure and sizes:
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
import { Gunzip as FflateGunzip, gzipSync as fflateGzipSync } from "fflate";
import { Decompress as FzstdDecompress } from "fzstd";
import * as snappyjs from "snappyjs";
import { AssertionError, assert } from "../assert.ts";
import { SluiceError } from "../errors.ts";

export const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;

const CODEC_NAMES: readonly CodecName[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/**
 * Levels for a small box. gzip 1 deflates ~5x faster than Kafka's default 6 on JSON batches (600 vs 110 MiB/s
 * under Bun) for ~1.5x the bytes; zstd 3, Kafka's default, compresses both faster and smaller than gzip 6.
 */
const GZIP_LEVEL = 1;
const ZSTD_LEVEL = 3;

/** Compressed bytes fed to the pure-JS inflaters at a time, so a bomb is caught after ~1032x this, not after all of it. */
const PORTABLE_INPUT_SLICE_BYTES = 16 * 1024;

const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_MAGIC_OFFSET = 0;
const XERIAL_VERSION_OFFSET = 8;
const XERIAL_COMPATIBLE_VERSION_OFFSET = 12;
const XERIAL_HEADER_SIZE = 16;
const XERIAL_CHUNK_LENGTH_SIZE = 4;
const XERIAL_VERSION = 1;
/** snappy-java's SnappyOutputStream default block size, which Kafka uses. */
const XERIAL_CHUNK_BYTES = 32 * 1024;

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
const LZ4_MIN_MATCH = 4;
/** The last 5 bytes of a block are literals, and the last match starts 12 or more bytes before the end: liblz4 rejects blocks that break either. */
const LZ4_LAST_LITERALS = 5;
const LZ4_MFLIMIT = 12;
const LZ4_HASH_LOG = 14;
const LZ4_SKIP_TRIGGER = 6;

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
/** fzstd allocates a frame's whole window up front; zstd -19 streams use 8 MiB, a crafted header asks for 2 GiB. */
const ZSTD_PORTABLE_WINDOW_BYTES_MAX = 8 * 1024 * 1024;

/** Codec name for attribute bits 0-2; throws SluiceError("UNSUPPORTED_COMPRESSION_TYPE") for 5-7. */
export function codecFromId(id: number): CodecName {
  assert(Number.isInteger(id) && id >= 0 && id <= 7, `codec id is attribute bits 0-2, got ${id}`);
  const name = CODEC_NAMES[id];
  if (name === undefined) {
    throw new SluiceError("UNSUPPORTED_COMPRESSION_TYPE", `compression codec ${id} is not defined`);
  }
  return name;
}

export function compress(codec: CodecName, data: Uint8Array): Uint8Array {
  return compressWith(RUNTIME_BACKEND, codec, data);
}

/** Throws SluiceError("CORRUPT_MESSAGE") on malformed input, and SluiceError("MESSAGE_TOO_LARGE") when the output would exceed maxOutputBytes (guards against decompression bombs: stop early, do not inflate everything first when avoidable). */
export function decompress(codec: CodecName, data: Uint8Array, maxOutputBytes: number): Uint8Array {
  return decompressWith(RUNTIME_BACKEND, codec, data, maxOutputBytes);
}

/** compress() on the pure-JS path browsers take; exported so tests run it under Bun too. */
export function compressPortable(codec: CodecName, data: Uint8Array): Uint8Array {
  return compressWith(PORTABLE_BACKEND, codec, data);
}

/** decompress() on the pure-JS path browsers take; exported so tests run it under Bun too. */
export function decompressPortable(codec: CodecName, data: Uint8Array, maxOutputBytes: number): Uint8Array {
  return decompressWith(PORTABLE_BACKEND, codec, data, maxOutputBytes);
}

// gzip and zstd come from the runtime when it has them, else from pure JS.
interface DeflateBackend {
  gzip(data: Uint8Array): Uint8Array;
  gunzip(data: Uint8Array, maxOutputBytes: number): Uint8Array;
  zstd(data: Uint8Array): Uint8Array;
  /** Called only on frames zstdCheckFrames() has walked; windowBytes is the largest window they ask for. */
  unzstd(data: Uint8Array, maxOutputBytes: number, windowBytes: number): Uint8Array;
}

const PORTABLE_BACKEND: DeflateBackend = {
  gzip: (data) => fflateGzipSync(data, { level: GZIP_LEVEL, mtime: 0 }),
  gunzip: (data, maxOutputBytes) =>
    collectBounded("gzip", maxOutputBytes, (onChunk) => {
      const stream = new FflateGunzip((chunk) => onChunk(chunk));
      for (let start = 0; start < data.length; start += PORTABLE_INPUT_SLICE_BYTES) {
        const end = Math.min(start + PORTABLE_INPUT_SLICE_BYTES, data.length);
        stream.push(data.subarray(start, end), end === data.length);
      }
    }),
  zstd: () => {
    throw new SluiceError(
      "UNSUPPORTED_COMPRESSION_TYPE",
      "zstd compression needs Bun (fzstd only decompresses)",
    );
  },
  // fzstd hands over one block (<= 128 KiB) at a time, so the limit stops it within a block.
  unzstd: (data, maxOutputBytes, windowBytes) => {
    if (windowBytes > Math.max(ZSTD_PORTABLE_WINDOW_BYTES_MAX, maxOutputBytes)) {
      throw new SluiceError(
        "MESSAGE_TOO_LARGE",
        `zstd window of ${windowBytes} bytes is more than this decoder holds`,
      );
    }
    return collectBounded("zstd", maxOutputBytes, (onChunk) =>
      new FzstdDecompress((chunk) => onChunk(chunk)).push(data, true),
    );
  },
};

const RUNTIME_BACKEND: DeflateBackend = bunBackend() ?? PORTABLE_BACKEND;

/** The one place that asks for Bun: its native gzip runs ~10x faster than fflate, its zstd ~3x faster than fzstd. */
function bunBackend(): DeflateBackend | undefined {
  if (typeof Bun === "undefined") return undefined;
  // Bun.gunzipSync and Bun.zstdDecompressSync take no output limit. Bun's own node:zlib does, and stops
  // at it: a 200 MiB bomb fails in under 5 ms instead of inflating for 450 ms, for ~15-30% less speed.
  // (Its zstd returns what it has for a truncated frame, silently: zstdCheckFrames() runs first.)
  const zlib = process.getBuiltinModule("node:zlib");
  return {
    // Batches never live in a SharedArrayBuffer, which is all this type excludes.
    gzip: (data) => Bun.gzipSync(data as Uint8Array<ArrayBuffer>, { level: GZIP_LEVEL }),
    gunzip: (data, maxOutputBytes) =>
      nativeBounded("gzip", maxOutputBytes, (maxOutputLength) => zlib.gunzipSync(data, { maxOutputLength })),
    zstd: (data) => Bun.zstdCompressSync(data, { level: ZSTD_LEVEL }),
    unzstd: (data, maxOutputBytes) =>
      nativeBounded("zstd", maxOutputBytes, (maxOutputLength) =>
        zlib.zstdDecompressSync(data, { maxOutputLength }),
      ),
  };
}

function compressWith(backend: DeflateBackend, codec: CodecName, data: Uint8Array): Uint8Array {
  switch (codec) {
    case "none":
      return data;
    case "gzip":
      return backend.gzip(data);
    case "snappy":
      return snappyCompress(data);
    case "lz4":
      return lz4Compress(data);
    case "zstd":
      return backend.zstd(data);
  }
}

function decompressWith(
  backend: DeflateBackend,
  codec: CodecName,
  data: Uint8Array,
  maxOutputBytes: number,
): Uint8Array {
  assert(Number.isSafeInteger(maxOutputBytes) && maxOutputBytes >= 0, `bad maxOutputBytes ${maxOutputBytes}`);
  if (codec === "none") {
    if (data.length > maxOutputBytes) throw tooLarge(codec, maxOutputBytes);
    return data;
  }
  if (data.length === 0) throw corrupt(codec, "empty compressed stream");
  let output: Uint8Array;
  try {
    output = decodeWith(backend, codec, data, maxOutputBytes);
  } catch (error) {
    if (error instanceof SluiceError || error instanceof AssertionError) throw error;
    throw corrupt(codec, error instanceof Error ? error.message : String(error), error);
  }
  assert(output.length <= maxOutputBytes, `${codec} decoder passed its output limit`);
  return output;
}

function decodeWith(
  backend: DeflateBackend,
  codec: Exclude<CodecName, "none">,
  data: Uint8Array,
  maxOutputBytes: number,
): Uint8Array {
  switch (codec) {
    case "gzip":
      return backend.gunzip(data, maxOutputBytes);
    case "snappy":
      return snappyDecompress(data, maxOutputBytes);
    case "lz4":
      return lz4Decompress(data, maxOutputBytes);
    case "zstd":
      return backend.unzstd(data, maxOutputBytes, zstdCheckFrames(data, maxOutputBytes));
  }
}

function corrupt(codec: CodecName, detail: string, cause?: unknown): SluiceError {
  return new SluiceError("CORRUPT_MESSAGE", `malformed ${codec} data: ${detail}`, { cause });
}

function tooLarge(codec: CodecName, maxOutputBytes: number): SluiceError {
  return new SluiceError("MESSAGE_TOO_LARGE", `${codec} data inflates past ${maxOutputBytes} bytes`);
}

/** Runs a node:zlib call under maxOutputLength (which must be >= 1) and maps its overflow error. */
function nativeBounded(
  codec: CodecName,
  maxOutputBytes: number,
  inflate: (maxOutputLength: number) => Uint8Array,
): Uint8Array {
  let output: Uint8Array;
  try {
    output = inflate(Math.max(1, maxOutputBytes));
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(codec, maxOutputBytes);
    throw error;
  }
  if (output.length > maxOutputBytes) throw tooLarge(codec, maxOutputBytes);
  return new Uint8Array(output.buffer, output.byteOffset, output.length);
}

/** Gathers a stream's output, throwing as soon as it passes maxOutputBytes (a throw from ondata stops fflate and fzstd). */
function collectBounded(
  codec: CodecName,
  maxOutputBytes: number,
  run: (onChunk: (chunk: Uint8Array) => void) => void,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  run((chunk) => {
    total += chunk.length;
    if (total > maxOutputBytes) throw tooLarge(codec, maxOutputBytes);
    chunks.push(chunk);
  });
  if (chunks.length === 1) return chunks[0]!;
  const output = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    output.set(chunk, offset);
    offset += chunk.length;
  }
  return output;
}

// ---- zstd ----

/**
 * Walks every frame without decoding: complete blocks, nothing after the last frame, declared content
 * sizes within maxOutputBytes. Returns the largest window a frame asks for.
 */
function zstdCheckFrames(data: Uint8Array, maxOutputBytes: number): number {
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

// ---- snappy ----

function snappyCompress(data: Uint8Array): Uint8Array {
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

function snappyDecompress(data: Uint8Array, maxOutputBytes: number): Uint8Array {
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

/** Decodes raw Snappy blocks at [start, end) pairs back to back, sizing the output from their declared lengths first. */
function snappyDecodeChunks(data: Uint8Array, chunks: readonly number[], maxOutputBytes: number): Uint8Array {
  let total = 0;
  for (let i = 0; i < chunks.length; i += 2) {
    total += snappyDeclaredLength(data, chunks[i]!, chunks[i + 1]!)[0];
    if (total > maxOutputBytes) throw tooLarge("snappy", maxOutputBytes);
  }
  const output = new Uint8Array(total);
  let outputOffset = 0;
  for (let i = 0; i < chunks.length; i += 2) {
    const [length, headerBytes] = snappyDeclaredLength(data, chunks[i]!, chunks[i + 1]!);
    snappyDecodeBlock(
      data,
      chunks[i]! + headerBytes,
      chunks[i + 1]!,
      output,
      outputOffset,
      outputOffset + length,
    );
    outputOffset += length;
  }
  return output;
}

/** A raw block opens with its uncompressed length as a little-endian base-128 varint of at most 32 bits. */
function snappyDeclaredLength(
  data: Uint8Array,
  start: number,
  end: number,
): [length: number, headerBytes: number] {
  let length = 0;
  for (let i = 0; i < 5 && start + i < end; i++) {
    const byte = data[start + i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      if (length > 0xffffffff) break;
      return [length, i + 1];
    }
  }
  throw corrupt("snappy", "bad block length varint");
}

/** Decodes one raw Snappy block's elements into output[outputStart, outputEnd), which they must fill exactly. */
function snappyDecodeBlock(
  input: Uint8Array,
  inputStart: number,
  inputEnd: number,
  output: Uint8Array,
  outputStart: number,
  outputEnd: number,
): void {
  let i = inputStart;
  let o = outputStart;
  while (i < inputEnd) {
    const tag = input[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let length = (tag >>> 2) + 1;
      if (length > 60) {
        const lengthBytes = length - 60;
        if (inputEnd - i < lengthBytes) throw corrupt("snappy", "truncated literal length");
        length = 1;
        for (let b = 0; b < lengthBytes; b++) length += input[i + b]! * 2 ** (8 * b);
        i += lengthBytes;
      }
      if (length > inputEnd - i || length > outputEnd - o) {
        throw corrupt("snappy", "literal runs past the end");
      }
      copyLiterals(input, i, output, o, length);
      i += length;
      o += length;
      continue;
    }
    let length: number;
    let offset: number;
    if (kind === 1) {
      if (inputEnd - i < 1) throw corrupt("snappy", "truncated copy");
      length = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[i]!;
      i += 1;
    } else if (kind === 2) {
      if (inputEnd - i < 2) throw corrupt("snappy", "truncated copy");
      length = (tag >>> 2) + 1;
      offset = input[i]! | (input[i + 1]! << 8);
      i += 2;
    } else {
      if (inputEnd - i < 4) throw corrupt("snappy", "truncated copy");
      length = (tag >>> 2) + 1;
      offset = readUint32LE(input, i);
      i += 4;
    }
    if (offset === 0 || offset > o - outputStart) throw corrupt("snappy", "copy offset out of range");
    if (length > outputEnd - o) throw corrupt("snappy", "copy runs past the declared length");
    copyMatch(output, o, offset, length);
    o += length;
  }
  if (o !== outputEnd) throw corrupt("snappy", "block shorter than its declared length");
}

// ---- lz4 ----

function lz4Compress(data: Uint8Array): Uint8Array {
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

function lz4CompressBound(inputBytes: number): number {
  return inputBytes + Math.floor(inputBytes / 255) + 16;
}

function lz4HeaderChecksum(frame: Uint8Array, descriptorEnd: number): number {
  return (xxh32(frame, LZ4_DESCRIPTOR_OFFSET, descriptorEnd) >>> 8) & 0xff;
}

const lz4HashTable = new Int32Array(1 << LZ4_HASH_LOG);

/** Greedy LZ4 (as liblz4's fast mode) of input[start, end) as one independent block at output[outputStart..]; returns its end. */
function lz4CompressBlock(
  input: Uint8Array,
  start: number,
  end: number,
  output: Uint8Array,
  outputStart: number,
) {
  assert(end - start <= 0x10000, "an LZ4 block must fit 16-bit match offsets");
  let o = outputStart;
  let anchor = start;
  if (end - start > LZ4_MFLIMIT) {
    const table = lz4HashTable;
    table.fill(-1);
    const lastMatchStart = end - LZ4_MFLIMIT;
    const matchEndLimit = end - LZ4_LAST_LITERALS;
    let p = start;
    let misses = 1 << LZ4_SKIP_TRIGGER;
    while (p <= lastMatchStart) {
      const sequence = readUint32LE(input, p);
      const slot = Math.imul(sequence, 2654435761) >>> (32 - LZ4_HASH_LOG);
      const candidate = table[slot]!;
      table[slot] = p;
      if (candidate < 0 || readUint32LE(input, candidate) !== sequence) {
        p += misses++ >> LZ4_SKIP_TRIGGER; // stride faster through data that does not compress
        continue;
      }
      misses = 1 << LZ4_SKIP_TRIGGER;
      let matchStart = p;
      let reference = candidate;
      while (matchStart > anchor && reference > start && input[matchStart - 1] === input[reference - 1]) {
        matchStart--;
        reference--;
      }
      let matchEnd = p + LZ4_MIN_MATCH;
      while (matchEnd < matchEndLimit && input[matchEnd] === input[reference + (matchEnd - matchStart)])
        matchEnd++;
      o = lz4WriteSequence(
        input,
        anchor,
        matchStart - anchor,
        output,
        o,
        matchStart - reference,
        matchEnd - matchStart,
      );
      anchor = p = matchEnd;
    }
  }
  return lz4WriteSequence(input, anchor, end - anchor, output, o, 0, 0);
}

/** Writes token, literals and (when matchBytes > 0) offset and match length; returns the output end. */
function lz4WriteSequence(
  input: Uint8Array,
  literalStart: number,
  literalBytes: number,
  output: Uint8Array,
  outputStart: number,
  offset: number,
  matchBytes: number,
): number {
  const matchCode = matchBytes === 0 ? 0 : matchBytes - LZ4_MIN_MATCH;
  output[outputStart] = (Math.min(literalBytes, 15) << 4) | Math.min(matchCode, 15);
  let o = writeLz4Length(output, outputStart + 1, literalBytes);
  copyLiterals(input, literalStart, output, o, literalBytes);
  o += literalBytes;
  if (matchBytes === 0) return o;
  output[o] = offset & 0xff;
  output[o + 1] = offset >>> 8;
  return writeLz4Length(output, o + 2, matchCode);
}

function writeLz4Length(output: Uint8Array, offset: number, length: number): number {
  if (length < 15) return offset;
  let rest = length - 15;
  let o = offset;
  for (; rest >= 255; rest -= 255) output[o++] = 255;
  output[o] = rest;
  return o + 1;
}

interface Lz4Block {
  start: number;
  end: number;
  compressed: boolean;
}

function lz4Decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array {
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

/**
 * Decodes one independent LZ4 block into output[outputStart, outputLimit). Returns the output end, or -1 when
 * the block would write past outputLimit; throws on anything malformed.
 */
function lz4DecodeBlock(
  input: Uint8Array,
  inputStart: number,
  inputEnd: number,
  output: Uint8Array,
  outputStart: number,
  outputLimit: number,
): number {
  let i = inputStart;
  let o = outputStart;
  for (;;) {
    if (i >= inputEnd) throw corrupt("lz4", "block ends without its last literals");
    const token = input[i++]!;
    let literalBytes = token >>> 4;
    if (literalBytes === 15) {
      let byte: number;
      do {
        if (i >= inputEnd) throw corrupt("lz4", "truncated literal length");
        byte = input[i++]!;
        literalBytes += byte;
      } while (byte === 255);
    }
    if (literalBytes > inputEnd - i) throw corrupt("lz4", "literals run past the block");
    if (literalBytes > outputLimit - o) return -1;
    copyLiterals(input, i, output, o, literalBytes);
    i += literalBytes;
    o += literalBytes;
    if (i === inputEnd) return o;
    if (inputEnd - i < 2) throw corrupt("lz4", "truncated match offset");
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o - outputStart) throw corrupt("lz4", "match offset out of range");
    let matchBytes = token & 15;
    if (matchBytes === 15) {
      let byte: number;
      do {
        if (i >= inputEnd) throw corrupt("lz4", "truncated match length");
        byte = input[i++]!;
        matchBytes += byte;
      } while (byte === 255);
    }
    matchBytes += LZ4_MIN_MATCH;
    if (matchBytes > outputLimit - o) return -1;
    copyMatch(output, o, offset, matchBytes);
    o += matchBytes;
  }
}

// ---- shared byte helpers ----

function copyLiterals(
  input: Uint8Array,
  inputOffset: number,
  output: Uint8Array,
  outputOffset: number,
  n: number,
) {
  if (n > 32) {
    output.set(input.subarray(inputOffset, inputOffset + n), outputOffset);
    return;
  }
  for (let k = 0; k < n; k++) output[outputOffset + k] = input[inputOffset + k]!;
}

/** Copies n bytes from `distance` back; an overlapping copy repeats the pattern, as LZ77 intends. */
function copyMatch(output: Uint8Array, outputOffset: number, distance: number, n: number) {
  const from = outputOffset - distance;
  if (distance >= n && n > 32) {
    output.copyWithin(outputOffset, from, from + n);
    return;
  }
  for (let k = 0; k < n; k++) output[outputOffset + k] = output[from + k]!;
}

function readUint32LE(data: Uint8Array, offset: number): number {
  return (
    (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0
  );
}

function writeUint32LE(data: Uint8Array, offset: number, value: number): void {
  data[offset] = value & 0xff;
  data[offset + 1] = (value >>> 8) & 0xff;
  data[offset + 2] = (value >>> 16) & 0xff;
  data[offset + 3] = value >>> 24;
}

function readInt32BE(data: Uint8Array, offset: number): number {
  return (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
}

const XXH_PRIME_1 = 0x9e3779b1;
const XXH_PRIME_2 = 0x85ebca77;
const XXH_PRIME_3 = 0xc2b2ae3d;
const XXH_PRIME_4 = 0x27d4eb2f;
const XXH_PRIME_5 = 0x165667b1;

/** XXH32 with seed 0 over data[start, end): the LZ4 frame's header, block and content checksums. */
function xxh32(data: Uint8Array, start: number, end: number): number {
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
