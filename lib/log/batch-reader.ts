// Walks the batches of a `.log` file by their headers, reading the file in large chunks so a scan
// over many small batches costs few system calls.
import { BATCH_HEADER_BYTES } from "../limits.ts";
import type { StorageFile } from "../storage/storage.ts";
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  readInt64,
} from "./record-batch.ts";

export interface BatchLocation {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  magic: number;
}

/**
 * Header walks read ahead 8 KiB: many small batches per read, and for large batches a cheap copy
 * next to the batch itself. Recovery, which reads whole batches, asks for more.
 */
const CHUNK_BYTES_DEFAULT = 8 * 1024;

/** A read-ahead window over a file. */
export class ChunkedReader {
  #buffer: Uint8Array;
  #start = 0;
  #length = 0;

  constructor(
    readonly file: StorageFile,
    chunkBytes = CHUNK_BYTES_DEFAULT,
  ) {
    this.#buffer = new Uint8Array(chunkBytes);
  }

  /** A view of [position, position + length), or undefined when the file ends before that. */
  view(position: number, length: number): Uint8Array | undefined {
    if (position < this.#start || position + length > this.#start + this.#length) {
      if (length > this.#buffer.length) this.#buffer = new Uint8Array(length);
      this.#start = position;
      this.#length = this.file.readInto(position, this.#buffer);
      if (length > this.#length) return undefined;
    }
    const from = position - this.#start;
    return this.#buffer.subarray(from, from + length);
  }
}

/** Why a walk stopped before `endPosition`. */
export type WalkStop = "end" | "partial-header" | "bad-length" | "past-end";

/**
 * Reads the header of each batch from `startPosition` until `endPosition`. Stops early (and says
 * why through `onStop`) at a header that cannot be whole: recovery decides what that means.
 */
export function* walkBatches(
  file: StorageFile,
  startPosition: number,
  endPosition: number,
  onStop?: (reason: WalkStop, position: number) => void,
): Generator<BatchLocation> {
  const reader = new ChunkedReader(file);
  let position = startPosition;
  while (position < endPosition) {
    if (endPosition - position < BATCH_HEADER_BYTES) return onStop?.("partial-header", position);
    const header = reader.view(position, BATCH_HEADER_BYTES);
    if (header === undefined) return onStop?.("partial-header", position);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const sizeBytes = view.getInt32(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES;
    if (sizeBytes < BATCH_HEADER_BYTES) return onStop?.("bad-length", position);
    if (position + sizeBytes > endPosition) return onStop?.("past-end", position);
    const baseOffset = readInt64(view, BASE_OFFSET_OFFSET);
    yield {
      position,
      sizeBytes,
      baseOffset,
      lastOffset: baseOffset + view.getInt32(LAST_OFFSET_DELTA_OFFSET),
      maxTimestamp: readInt64(view, MAX_TIMESTAMP_OFFSET),
      partitionLeaderEpoch: view.getInt32(PARTITION_LEADER_EPOCH_OFFSET),
      magic: view.getInt8(MAGIC_OFFSET),
    };
    position += sizeBytes;
  }
  onStop?.("end", position);
}
