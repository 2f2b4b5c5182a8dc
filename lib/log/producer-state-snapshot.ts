// Producer-state snapshot files: `<20-digit offset>.snapshot` in the partition directory holds the
// state of every producer after all batches below that offset, as Kafka's ProducerStateManager writes
// them at a roll and at a clean close. Derived data: a damaged or missing snapshot costs only a longer
// scan of batch headers on the next open.
//
// Format version 1, big-endian. Header, 10 bytes:
//   offset size field
//        0    2 version          1
//        2    4 crc              CRC-32C of bytes 6..end (written last, checked first)
//        6    4 producerCount
//       10    - producers, ascending by id
// Producer, 19 bytes and then its batches:
//        0    8 producerId
//        8    2 producerEpoch
//       10    8 lastTimestamp    maxTimestamp of its newest batch (expiry measures from it)
//       18    1 batchCount       1..5
//       19    - batches, oldest first
// Batch, 32 bytes:
//        0    4 firstSequence
//        4    4 lastSequence
//        8    8 firstOffset
//       16    8 lastOffset
//       24    8 timestamp
//
// Unlike Kafka's snapshot, which keeps only each producer's last batch, every cached batch is kept,
// so a retry of an older batch is still answered with its offsets after a restart.
import { assert } from "../assert.ts";
import { SluiceError } from "../errors.ts";
import { PRODUCER_BATCHES_CACHED, PRODUCER_SNAPSHOTS_KEPT } from "../limits.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { crc32c } from "./crc32c.ts";
import type { CachedBatch, ProducerEntry } from "./producer-state.ts";
import { SEQUENCE_MAX } from "./producer-state.ts";
import { readInt64, writeInt64 } from "./record-batch.ts";
import { segmentFileName } from "./segment.ts";

export const SNAPSHOT_SUFFIX = ".snapshot";
export const SNAPSHOT_VERSION = 1;

export const VERSION_OFFSET = 0;
export const CRC_OFFSET = 2;
export const PRODUCER_COUNT_OFFSET = 6;
export const HEADER_BYTES = 10;

export const PRODUCER_ID_OFFSET = 0;
export const PRODUCER_EPOCH_OFFSET = 8;
export const LAST_TIMESTAMP_OFFSET = 10;
export const BATCH_COUNT_OFFSET = 18;
export const PRODUCER_BYTES = 19;

export const FIRST_SEQUENCE_OFFSET = 0;
export const LAST_SEQUENCE_OFFSET = 4;
export const FIRST_OFFSET_OFFSET = 8;
export const LAST_OFFSET_OFFSET = 16;
export const TIMESTAMP_OFFSET = 24;
export const BATCH_BYTES = 32;

export function snapshotFileName(offset: number): string {
  return segmentFileName(offset, SNAPSHOT_SUFFIX);
}

/** The offset a `.snapshot` file name stands for, or undefined when the name is not one. */
export function parseSnapshotFileName(name: string): number | undefined {
  const match = /^(\d{20})\.snapshot$/.exec(name);
  if (!match) return undefined;
  const offset = Number(match[1]);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

export function encodeProducerSnapshot(entries: readonly ProducerEntry[]): Uint8Array {
  const sizeBytes = entries.reduce(
    (sum, entry) => sum + PRODUCER_BYTES + entry.batches.length * BATCH_BYTES,
    HEADER_BYTES,
  );
  const bytes = new Uint8Array(sizeBytes);
  const view = new DataView(bytes.buffer);
  view.setInt16(VERSION_OFFSET, SNAPSHOT_VERSION);
  view.setInt32(PRODUCER_COUNT_OFFSET, entries.length);
  let position = HEADER_BYTES;
  for (const entry of entries) {
    assert(
      entry.batches.length >= 1 && entry.batches.length <= PRODUCER_BATCHES_CACHED,
      `producer ${entry.producerId} has ${entry.batches.length} cached batches`,
    );
    writeInt64(view, position + PRODUCER_ID_OFFSET, entry.producerId);
    view.setInt16(position + PRODUCER_EPOCH_OFFSET, entry.producerEpoch);
    writeInt64(view, position + LAST_TIMESTAMP_OFFSET, entry.lastTimestamp);
    view.setInt8(position + BATCH_COUNT_OFFSET, entry.batches.length);
    position += PRODUCER_BYTES;
    for (const batch of entry.batches) {
      view.setInt32(position + FIRST_SEQUENCE_OFFSET, batch.firstSequence);
      view.setInt32(position + LAST_SEQUENCE_OFFSET, batch.lastSequence);
      writeInt64(view, position + FIRST_OFFSET_OFFSET, batch.firstOffset);
      writeInt64(view, position + LAST_OFFSET_OFFSET, batch.lastOffset);
      writeInt64(view, position + TIMESTAMP_OFFSET, batch.timestamp);
      position += BATCH_BYTES;
    }
  }
  assert(position === sizeBytes, `snapshot encoded ${position} of ${sizeBytes} bytes`);
  view.setUint32(CRC_OFFSET, crc32c(bytes.subarray(PRODUCER_COUNT_OFFSET)));
  return bytes;
}

/** Decodes a snapshot; CORRUPT_MESSAGE when its checksum, version or structure is wrong. */
export function decodeProducerSnapshot(bytes: Uint8Array): ProducerEntry[] {
  const corrupt = (why: string) => new SluiceError("CORRUPT_MESSAGE", `producer snapshot: ${why}`);
  if (bytes.length < HEADER_BYTES) throw corrupt(`${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getInt16(VERSION_OFFSET);
  if (version !== SNAPSHOT_VERSION) throw corrupt(`version ${version} is not ${SNAPSHOT_VERSION}`);
  if (view.getUint32(CRC_OFFSET) !== crc32c(bytes.subarray(PRODUCER_COUNT_OFFSET))) {
    throw corrupt("CRC-32C mismatch");
  }
  const producerCount = view.getInt32(PRODUCER_COUNT_OFFSET);
  if (producerCount < 0) throw corrupt(`producer count ${producerCount}`);
  const entries: ProducerEntry[] = [];
  let position = HEADER_BYTES;
  for (let i = 0; i < producerCount; i++) {
    if (bytes.length - position < PRODUCER_BYTES) throw corrupt(`producer ${i} is cut short`);
    const producerId = readInt64(view, position + PRODUCER_ID_OFFSET);
    const batchCount = view.getInt8(position + BATCH_COUNT_OFFSET);
    if (producerId < 0) throw corrupt(`producer id ${producerId}`);
    if (batchCount < 1 || batchCount > PRODUCER_BATCHES_CACHED) throw corrupt(`batch count ${batchCount}`);
    const entry: ProducerEntry = {
      producerId,
      producerEpoch: view.getInt16(position + PRODUCER_EPOCH_OFFSET),
      lastTimestamp: readInt64(view, position + LAST_TIMESTAMP_OFFSET),
      batches: [],
    };
    position += PRODUCER_BYTES;
    if (bytes.length - position < batchCount * BATCH_BYTES)
      throw corrupt(`producer ${producerId} is cut short`);
    for (let b = 0; b < batchCount; b++) {
      entry.batches.push(decodeBatch(view, position, corrupt));
      position += BATCH_BYTES;
    }
    entries.push(entry);
  }
  if (position !== bytes.length) throw corrupt(`${bytes.length - position} bytes after the last producer`);
  return entries;
}

function decodeBatch(view: DataView, position: number, corrupt: (why: string) => Error): CachedBatch {
  const batch: CachedBatch = {
    firstSequence: view.getInt32(position + FIRST_SEQUENCE_OFFSET),
    lastSequence: view.getInt32(position + LAST_SEQUENCE_OFFSET),
    firstOffset: readInt64(view, position + FIRST_OFFSET_OFFSET),
    lastOffset: readInt64(view, position + LAST_OFFSET_OFFSET),
    timestamp: readInt64(view, position + TIMESTAMP_OFFSET),
  };
  const sequenceOk = (sequence: number) => sequence >= 0 && sequence <= SEQUENCE_MAX;
  if (!sequenceOk(batch.firstSequence) || !sequenceOk(batch.lastSequence)) {
    throw corrupt(`sequences ${batch.firstSequence}..${batch.lastSequence}`);
  }
  if (batch.firstOffset < 0 || batch.lastOffset < batch.firstOffset) {
    throw corrupt(`offsets ${batch.firstOffset}..${batch.lastOffset}`);
  }
  return batch;
}

/** Offsets of the snapshot files in `dir`, ascending. */
export function listSnapshotOffsets(storage: Storage, dir: string): number[] {
  const offsets: number[] = [];
  for (const { name, isDirectory } of storage.list(dir)) {
    const offset = isDirectory ? undefined : parseSnapshotFileName(name);
    if (offset !== undefined) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}

export function snapshotPath(dir: string, offset: number): string {
  return joinPath(dir, snapshotFileName(offset));
}

/**
 * Writes the snapshot for `offset` atomically (temporary file, fsync, rename) and then removes all
 * but the newest PRODUCER_SNAPSHOTS_KEPT. The bytes are decoded again before they are written, so a
 * snapshot that would not load is never written.
 */
export function writeProducerSnapshot(
  storage: Storage,
  dir: string,
  offset: number,
  entries: readonly ProducerEntry[],
): void {
  const bytes = encodeProducerSnapshot(entries);
  assert(decodeProducerSnapshot(bytes).length === entries.length, "a snapshot must decode as written");
  storage.writeFileAtomic(snapshotPath(dir, offset), bytes);
  const offsets = listSnapshotOffsets(storage, dir);
  for (const old of offsets.slice(0, -PRODUCER_SNAPSHOTS_KEPT)) storage.remove(snapshotPath(dir, old));
}

/** Removes snapshots above `offset`: they describe batches the log no longer holds (truncation). */
export function deleteSnapshotsAbove(storage: Storage, dir: string, offset: number): void {
  for (const snapshot of listSnapshotOffsets(storage, dir)) {
    if (snapshot > offset) storage.remove(snapshotPath(dir, snapshot));
  }
}
