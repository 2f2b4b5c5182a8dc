// Log compaction (cleanup.policy=compact), as Kafka's LogCleaner: keep the latest record per key. One
// pass over one partition:
//   1. The cleanable range is the non-active segments below the high watermark whose newest record is
//      older than min.compaction.lag.ms. Its part past the cleaner checkpoint (where the last pass
//      ended) is dirty; the rest was cleaned before and holds at most one record per key.
//   2. A key → latest offset map is built over the dirty part (bounded memory: it may end early, at a
//      segment boundary, and the pass then covers less).
//   3. Every segment from the log start to the map's end is rewritten, a group of small segments at a
//      time, oldest first: a record stays unless the map holds a later offset for its key; a tombstone
//      stays until delete.retention.ms after the newest record of its segment. The cleaned group
//      replaces its sources through the swap protocol (cleaner-swap.ts).
//   4. The map's end is the new checkpoint.
// Oldest first matters: a tombstone is dropped only after every older record of its key was, in this
// same pass. Cleaning shares the thread that takes appends, so it runs in slices of
// CLEANER_SLICE_BYTES with a turn of the event loop between them.
import { CLEANER_SLICE_BYTES, RELATIVE_OFFSET_MAX } from "../limits.ts";
import { type CleanerRecord, filterBatch, readCleanerRecords } from "./cleaner-batch.ts";
import { OffsetMap } from "./cleaner-offset-map.ts";
import { CLEANED_SUFFIX, commitSwap, removeTemporaryFiles } from "./cleaner-swap.ts";
import { isCompacted } from "./log-config.ts";
import type { PartitionLog } from "./partition-log.ts";
import { type BatchHeader, isControlBatch, readBatchHeader } from "./record-batch.ts";
import { Segment } from "./segment.ts";

export interface CleanableRange {
  /** Offsets below this were cleaned by an earlier pass (the checkpoint, within the log). */
  firstDirtyOffset: number;
  /** Segments from the one starting here on are left alone: active, above the HW, or too young. */
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes): Kafka's cleanable ratio. */
  dirtyRatio: number;
}

/** What a pass over `log` would cover, given the checkpoint the last pass left. */
export function cleanableRange(log: PartitionLog, checkpoint: number): CleanableRange {
  const { logStartOffset, logEndOffset, highWatermark } = log;
  const firstDirtyOffset =
    checkpoint < logStartOffset || checkpoint > logEndOffset ? logStartOffset : checkpoint;
  const lagMs = log.config.minCompactionLagMs;
  const youngAfterMs = log.clock.nowMs() - lagMs;
  const segments = log.segments;
  let firstUncleanableOffset = segments.at(-1)!.baseOffset;
  let cleanBytes = 0;
  let dirtyBytes = 0;
  for (const segment of segments.slice(0, -1)) {
    const young = lagMs > 0 && segment.maxTimestampSoFar > youngAfterMs;
    if (segment.nextOffset > highWatermark || young) {
      firstUncleanableOffset = segment.baseOffset;
      break;
    }
    if (segment.nextOffset <= firstDirtyOffset) cleanBytes += segment.sizeBytes;
    else dirtyBytes += segment.sizeBytes;
  }
  const totalBytes = cleanBytes + dirtyBytes;
  const dirtyRatio = totalBytes === 0 ? 0 : dirtyBytes / totalBytes;
  return { firstDirtyOffset, firstUncleanableOffset, cleanBytes, dirtyBytes, dirtyRatio };
}

/** Whether the log is compacted and dirty enough for a pass (min.cleanable.dirty.ratio). */
export function needsCleaning(log: PartitionLog, checkpoint: number): boolean {
  if (!isCompacted(log.config) || log.isClosed) return false;
  const range = cleanableRange(log, checkpoint);
  return range.dirtyBytes > 0 && range.dirtyRatio >= log.config.minCleanableDirtyRatio;
}

export interface CleanOptions {
  /** The cleaner checkpoint: where the previous pass ended (0, or the log start, when none did). */
  checkpoint: number;
  /** Awaited between slices of work; a turn of the event loop unless a test wants a say. */
  pause?: () => Promise<void>;
  /** Checked after every pause: true ends the pass there (the node is shutting down). */
  shouldStop?: () => boolean;
  /** Memory bound of the key map (CLEANER_OFFSET_MAP_BYTES_MAX unless a test shrinks it). */
  offsetMapBytesMax?: number;
  /** Log bytes read between pauses (CLEANER_SLICE_BYTES unless a test wants more pauses). */
  sliceBytes?: number;
}

export interface CleanResult {
  /** The checkpoint after the pass: the end of what it cleaned, or the old one if it stopped early. */
  checkpoint: number;
  /** Why the pass ended before its range did, when it did. */
  stopReason?: string;
  /** Groups of segments swapped for a cleaned segment. */
  groupsCleaned: number;
  segmentsCleaned: number;
  recordsRemoved: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** The pass ends early, cleanly: the log changed under it or the node is stopping. */
class PassStopped extends Error {}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs one cleaning pass over `log` (see the top of this file). */
export async function cleanLog(log: PartitionLog, options: CleanOptions): Promise<CleanResult> {
  const range = cleanableRange(log, options.checkpoint);
  const result: CleanResult = {
    checkpoint: range.firstDirtyOffset,
    groupsCleaned: 0,
    segmentsCleaned: 0,
    recordsRemoved: 0,
    bytesBefore: 0,
    bytesAfter: 0,
  };
  if (range.dirtyBytes === 0) return result;
  const pass = new Pass(log, options);
  try {
    const keys = await pass.buildOffsetMap(range);
    let fromOffset = log.logStartOffset;
    for (;;) {
      const group = groupToClean(log, fromOffset, keys.endOffset);
      if (group.length === 0) break;
      await pass.cleanGroup(group, keys, result);
      fromOffset = group.at(-1)!.nextOffset;
    }
    result.checkpoint = keys.endOffset;
  } catch (error) {
    if (!(error instanceof PassStopped)) throw error;
    result.stopReason = error.message;
  }
  return result;
}

/** The dirty section's keys, the offset the map reaches, and each producer's last batch in it. */
interface DirtyKeys {
  map: OffsetMap;
  endOffset: number;
  producerLastOffsets: Map<number, number>;
}

/**
 * Consecutive segments from the one starting at `fromOffset`, all ending by `endOffset`, that fit one
 * segment together (Kafka's groupSegmentsBySize): a log of many small segments comes out of a pass
 * with fewer. At least one segment, unless none is left below `endOffset`.
 */
function groupToClean(log: PartitionLog, fromOffset: number, endOffset: number): Segment[] {
  const segments = log.segments;
  const group: Segment[] = [];
  let sizeBytes = 0;
  for (const segment of segments.slice(0, -1)) {
    if (segment.baseOffset < fromOffset) continue;
    if (segment.nextOffset > endOffset) break;
    const first = group[0] ?? segment;
    const fits =
      sizeBytes + segment.sizeBytes <= log.config.segmentBytes &&
      segment.nextOffset - 1 - first.baseOffset <= RELATIVE_OFFSET_MAX;
    if (group.length > 0 && !fits) break;
    group.push(segment);
    sizeBytes += segment.sizeBytes;
  }
  return group;
}

/** One pass's state: where it may pause, and the checks it makes when it resumes. */
class Pass {
  readonly #nowMs: number;
  #bytesSincePause = 0;

  constructor(
    readonly log: PartitionLog,
    readonly options: CleanOptions,
  ) {
    this.#nowMs = log.clock.nowMs();
  }

  /** Counts work done; after a slice's worth, yields, then stops if `reading` left the log. */
  async #tick(bytes: number, reading: readonly Segment[]): Promise<void> {
    this.#bytesSincePause += bytes;
    if (this.#bytesSincePause < (this.options.sliceBytes ?? CLEANER_SLICE_BYTES)) return;
    this.#bytesSincePause = 0;
    await (this.options.pause ?? nextTurn)();
    this.#checkResumable(reading);
  }

  /** After any wait: stops the pass when it should not go on with `reading`. */
  #checkResumable(reading: readonly Segment[]): void {
    if (this.options.shouldStop?.()) throw new PassStopped("the cleaner was asked to stop");
    if (this.log.isClosed) throw new PassStopped("the log was closed");
    if (!reading.every((segment) => this.log.segments.includes(segment))) {
      throw new PassStopped("retention or truncation removed a segment being cleaned");
    }
  }

  async buildOffsetMap(range: CleanableRange): Promise<DirtyKeys> {
    const keys: DirtyKeys = {
      map: new OffsetMap(this.options.offsetMapBytesMax),
      endOffset: range.firstDirtyOffset,
      producerLastOffsets: new Map(),
    };
    const dirty = this.log.segments.filter(
      (segment) =>
        segment.nextOffset > range.firstDirtyOffset && segment.baseOffset < range.firstUncleanableOffset,
    );
    for (const [i, segment] of dirty.entries()) {
      for (const location of segment.batchesFrom(0)) {
        // A full map ends the range at the last whole segment (the first one goes in regardless). Keys
        // already taken from this one stay: the records they point at exist, so what they supersede
        // may go.
        if (i > 0 && keys.map.isFull) return keys;
        const bytes = segment.readBytes(location.position, location.position + location.sizeBytes);
        this.#addBatch(keys, bytes, range.firstDirtyOffset);
        await this.#tick(location.sizeBytes, [segment]);
      }
      keys.endOffset = segment.nextOffset;
    }
    return keys;
  }

  #addBatch(keys: DirtyKeys, bytes: Uint8Array, firstDirtyOffset: number): void {
    const header = readBatchHeader(bytes);
    if (isControlBatch(header) || header.baseOffset + header.lastOffsetDelta < firstDirtyOffset) return;
    if (header.producerId >= 0) keys.producerLastOffsets.set(header.producerId, lastOffsetOf(header));
    for (const record of readCleanerRecords(bytes).records) {
      if (record.key !== null && record.offset >= firstDirtyOffset) keys.map.put(record.key, record.offset);
    }
  }

  /** Writes `group` cleaned to `.cleaned` files and swaps them in for it. */
  async cleanGroup(group: Segment[], keys: DirtyKeys, result: CleanResult): Promise<void> {
    const { log } = this;
    const baseOffset = group[0]!.baseOffset;
    removeTemporaryFiles(log.storage, log.dir, baseOffset);
    const options = { indexIntervalBytes: log.config.indexIntervalBytes, createdMs: this.#nowMs };
    const cleaned = Segment.create(log.storage, log.dir, baseOffset, options, CLEANED_SUFFIX);
    let open = true;
    try {
      let removedRecords = 0;
      for (const [i, source] of group.entries()) {
        removedRecords += await this.#copyRetained(source, cleaned, keys, {
          group,
          isLast: i === group.length - 1,
        });
      }
      const sizeBefore = group.reduce((sum, segment) => sum + segment.sizeBytes, 0);
      if (group.length === 1 && removedRecords === 0 && cleaned.sizeBytes === sizeBefore) {
        cleaned.close();
        open = false;
        removeTemporaryFiles(log.storage, log.dir, baseOffset);
        return; // nothing to gain from swapping in the same bytes
      }
      cleaned.onBecomeInactive();
      await cleaned.flush();
      const sizeAfter = cleaned.sizeBytes;
      cleaned.close();
      open = false;
      this.#checkResumable(group);
      commitSwap(log.storage, log.dir, baseOffset);
      // The commit must be durable before the old segments are renamed away (step 3).
      await log.storage.syncDir(log.dir);
      if (log.replaceSegments(group) === undefined) {
        removeTemporaryFiles(log.storage, log.dir, baseOffset);
        throw new PassStopped("the log changed while a cleaned segment was being swapped in");
      }
      result.groupsCleaned++;
      result.segmentsCleaned += group.length;
      result.recordsRemoved += removedRecords;
      result.bytesBefore += sizeBefore;
      result.bytesAfter += sizeAfter;
    } catch (error) {
      if (open) cleaned.close();
      removeTemporaryFiles(log.storage, log.dir, baseOffset);
      throw error;
    }
  }

  /** Appends what `source` keeps to `cleaned`; returns how many records it dropped. */
  async #copyRetained(
    source: Segment,
    cleaned: Segment,
    keys: DirtyKeys,
    at: { group: readonly Segment[]; isLast: boolean },
  ): Promise<number> {
    // Kafka measures the tombstone horizon per source segment too (from its last modification).
    const dropTombstones = this.#nowMs - source.maxTimestampSoFar > this.log.config.deleteRetentionMs;
    const retain = (record: CleanerRecord) => retains(record, keys.map, dropTombstones);
    let removedRecords = 0;
    for (const location of source.batchesFrom(0)) {
      const bytes = source.readBytes(location.position, location.position + location.sizeBytes);
      // The group's last batch stays, if only as an empty batch, so the cleaned segment ends where its
      // sources did and segments stay contiguous; so does a producer's last batch, which carries its
      // last sequence (Kafka keeps that one too).
      const endsGroup = at.isLast && location.position + location.sizeBytes === source.sizeBytes;
      const keepEmpty = (header: BatchHeader) => endsGroup || isProducersLastBatch(header, keys);
      const filtered = filterBatch(bytes, retain, keepEmpty);
      removedRecords += filtered.removedRecords;
      if (filtered.kind !== "dropped") {
        cleaned.append(filtered.bytes, location.lastOffset, readBatchHeader(filtered.bytes).maxTimestamp);
      }
      await this.#tick(location.sizeBytes, at.group);
    }
    return removedRecords;
  }
}

/** Kafka's shouldRetainRecord: keyed, not superseded, and not a tombstone past its horizon. */
function retains(record: CleanerRecord, map: OffsetMap, dropTombstones: boolean): boolean {
  // A keyless record cannot be compacted; Kafka's cleaner drops it (the append path rejects new ones).
  if (record.key === null) return false;
  const latest = map.latestOffset(record.key);
  if (latest !== undefined && latest > record.offset) return false;
  return !(record.isTombstone && dropTombstones);
}

/** An idempotent batch with no later batch of its producer in the dirty section. */
function isProducersLastBatch(header: BatchHeader, keys: DirtyKeys): boolean {
  if (header.producerId < 0) return false;
  const later = keys.producerLastOffsets.get(header.producerId);
  return later === undefined || later <= lastOffsetOf(header);
}

function lastOffsetOf(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}
