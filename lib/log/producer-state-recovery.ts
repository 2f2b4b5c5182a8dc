// Brings a partition's producer state back on open or after a truncation, as Kafka's
// loadProducerState: the newest snapshot at or below the log end, then the headers of the batches
// after it (producerId, epoch, baseSequence and lastOffsetDelta are all in the 61-byte header, so no
// record is decoded). Snapshots past the log end describe batches it no longer holds and are removed.
import { isSluiceError } from "../errors.ts";
import { BATCH_HEADER_BYTES } from "../limits.ts";
import type { Storage } from "../storage/storage.ts";
import { ChunkedReader } from "./batch-reader.ts";
import { type ProducerBatch, ProducerState } from "./producer-state.ts";
import {
  decodeProducerSnapshot,
  deleteSnapshotsAbove,
  listSnapshotOffsets,
  snapshotPath,
} from "./producer-state-snapshot.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  readInt64,
} from "./record-batch.ts";
import type { Segment } from "./segment.ts";

/** Header scans read ahead this much: many headers per read when batches are small. */
const SCAN_CHUNK_BYTES = 64 * 1024;

export interface ProducerStateLoad {
  /** The snapshot the state started from; undefined when it was rebuilt from the log start. */
  snapshotOffset: number | undefined;
  /** Batch headers read after the snapshot (all batches, idempotent or not). */
  batchesScanned: number;
  /** Snapshots that failed to decode and were removed. */
  corruptSnapshots: number;
}

export interface LoadProducerStateOptions {
  storage: Storage;
  dir: string;
  /** The log's segments after recovery, ascending and contiguous. */
  segments: readonly Segment[];
  logStartOffset: number;
  logEndOffset: number;
  nowMs: number;
  expirationMs: number;
}

export function loadProducerState(options: LoadProducerStateOptions): {
  state: ProducerState;
  load: ProducerStateLoad;
} {
  const { storage, dir, logEndOffset, expirationMs } = options;
  deleteSnapshotsAbove(storage, dir, logEndOffset);
  const load: ProducerStateLoad = { snapshotOffset: undefined, batchesScanned: 0, corruptSnapshots: 0 };
  let state: ProducerState | undefined;
  for (const offset of listSnapshotOffsets(storage, dir).reverse()) {
    const path = snapshotPath(dir, offset);
    try {
      const bytes = storage.readFile(path);
      if (bytes === undefined) continue;
      state = new ProducerState(expirationMs, decodeProducerSnapshot(bytes));
      load.snapshotOffset = offset;
      break;
    } catch (error) {
      if (!isSluiceError(error, "CORRUPT_MESSAGE")) throw error;
      // Derived data: drop it and fall back on the one before, or on a full scan.
      storage.remove(path);
      load.corruptSnapshots++;
    }
  }
  state ??= new ProducerState(expirationMs);
  const scanFrom = Math.max(load.snapshotOffset ?? options.logStartOffset, options.logStartOffset);
  for (const { batch, baseOffset } of batchHeadersFrom(options.segments, scanFrom)) {
    load.batchesScanned++;
    if (batch !== undefined) state.record(batch, baseOffset);
  }
  state.removeExpired(options.nowMs);
  return { state, load };
}

/**
 * Every batch that starts at or after `fromOffset`, with its producer fields when it is an
 * idempotent data batch (undefined otherwise: not idempotent, or a control batch).
 */
export function* batchHeadersFrom(
  segments: readonly Segment[],
  fromOffset: number,
): Generator<{ baseOffset: number; batch: ProducerBatch | undefined }> {
  for (const segment of segments) {
    if (segment.nextOffset <= fromOffset) continue;
    const start = segment.baseOffset >= fromOffset ? 0 : segment.offsetIndex.lookup(fromOffset).position;
    const reader = new ChunkedReader(segment.log, SCAN_CHUNK_BYTES);
    const end = segment.sizeBytes;
    for (let position = start; position + BATCH_HEADER_BYTES <= end; ) {
      const header = reader.view(position, BATCH_HEADER_BYTES);
      if (header === undefined) break;
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      const baseOffset = readInt64(view, BASE_OFFSET_OFFSET);
      position += view.getInt32(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES;
      if (baseOffset < fromOffset) continue;
      yield { baseOffset, batch: producerBatchAt(view) };
    }
  }
}

/** producerBatchOf for a header read straight from the file, without decoding the rest. */
function producerBatchAt(view: DataView): ProducerBatch | undefined {
  const producerId = readInt64(view, PRODUCER_ID_OFFSET);
  if (producerId < 0 || (view.getInt16(ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0) return undefined;
  return {
    producerId,
    producerEpoch: view.getInt16(PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(BASE_SEQUENCE_OFFSET),
    lastOffsetDelta: view.getInt32(LAST_OFFSET_DELTA_OFFSET),
    maxTimestamp: readInt64(view, MAX_TIMESTAMP_OFFSET),
  };
}
