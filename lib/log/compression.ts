// Batch compression for RecordBatch v2 (attributes bits 0-2): gzip, snappy in snappy-java's framing, lz4
// in the frame format Kafka reads, and zstd. Every decoder is bounded by an output limit, and malformed
// input only ever raises a SluiceError.
// The formats live in ./compression/, one a file; this facade picks the codec and the gzip/zstd backend.
import { AssertionError, assert } from "../assert.ts";
import { SluiceError } from "../errors.ts";
import { type DeflateBackend, PORTABLE_BACKEND, RUNTIME_BACKEND } from "./compression/backends.ts";
import { corrupt, tooLarge } from "./compression/codec-errors.ts";
import { lz4Compress, lz4Decompress } from "./compression/lz4-frame.ts";
import { snappyCompress, snappyDecompress } from "./compression/snappy-xerial.ts";
import { zstdCheckFrames } from "./compression/zstd-frames.ts";

export const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof CODEC_IDS;

const CODEC_NAMES: readonly CodecName[] = ["none", "gzip", "snappy", "lz4", "zstd"];

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
