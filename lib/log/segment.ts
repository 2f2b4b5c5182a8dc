// One segment of a partition: `<20-digit base offset>.log` with its `.index` and `.timeindex`.
// Batches are appended whole; the indexes gain an entry every `indexIntervalBytes` of log.
import { assert } from "../assert.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import { RELATIVE_OFFSET_MAX } from "../limits.ts";
import { joinPath, type Storage, type StorageFile } from "../storage/storage.ts";
import { type BatchLocation, type WalkStop, walkBatches } from "./batch-reader.ts";
import { OffsetIndex } from "./offset-index.ts";
import { NO_TIMESTAMP } from "./record-batch.ts";
import { TimeIndex } from "./time-index.ts";

export const LOG_SUFFIX = ".log";
export const INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";
export const DELETED_SUFFIX = ".deleted";
/** The files of one segment, the log first. */
export const SEGMENT_FILE_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] as const;

/** Kafka's file name for a segment: the base offset as 20 decimal digits. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, "0") + suffix;
}

/** Base offset from a `.log` file name, or undefined when the name is not one. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{20})\.log$/.exec(name);
  if (!match) return undefined;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? baseOffset : undefined;
}

export interface SegmentOptions {
  indexIntervalBytes: number;
  /** Wall-clock time the segment was created, for segment.ms when it has no timestamps yet. */
  createdMs: number;
}

export class Segment {
  readonly log: StorageFile;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** The offset the next batch appended here gets. */
  nextOffset: number;
  maxTimestampSoFar = NO_TIMESTAMP;
  offsetOfMaxTimestampSoFar: number;
  /** maxTimestamp of the first batch: what segment.ms measures from (Kafka's rollingBasedTimestamp). */
  firstBatchTimestamp: number | undefined;
  #bytesSinceLastIndexEntry = 0;

  private constructor(
    readonly storage: Storage,
    readonly dir: string,
    readonly baseOffset: number,
    readonly options: SegmentOptions,
    /** Appended to every file name: "" for a live segment, `.cleaned` while the cleaner writes one. */
    readonly fileSuffix = "",
  ) {
    this.log = storage.open(this.path(LOG_SUFFIX));
    this.offsetIndex = new OffsetIndex(storage.open(this.path(INDEX_SUFFIX)), baseOffset);
    this.timeIndex = new TimeIndex(storage.open(this.path(TIME_INDEX_SUFFIX)), baseOffset);
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
  }

  static create(
    storage: Storage,
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
    fileSuffix = "",
  ): Segment {
    const segment = new Segment(storage, dir, baseOffset, options, fileSuffix);
    assert(segment.sizeBytes === 0, `new segment ${segment.path(LOG_SUFFIX)} is not empty`);
    segment.offsetIndex.reset();
    segment.timeIndex.reset();
    return segment;
  }

  /** Opens an existing segment's files without reading them: recovery rebuilds everything. */
  static openForRecovery(
    storage: Storage,
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
  ): Segment {
    return new Segment(storage, dir, baseOffset, options);
  }

  /**
   * Opens an existing segment whose log is trusted (a clean shutdown, or below the recovery point)
   * and loads its indexes. `indexesSane` is false when an index file is missing or fails its sanity
   * check, or the log does not end where its last batch does: the caller then recovers the segment
   * (recovery.ts), which checks every batch and rebuilds both indexes, as Kafka does.
   */
  static open(
    storage: Storage,
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
  ): { segment: Segment; indexesSane: boolean } {
    const indexesExist = [INDEX_SUFFIX, TIME_INDEX_SUFFIX].every((suffix) =>
      storage.exists(joinPath(dir, segmentFileName(baseOffset, suffix))),
    );
    const segment = new Segment(storage, dir, baseOffset, options);
    return { segment, indexesSane: indexesExist && segment.#loadIndexes() };
  }

  path(suffix: string): string {
    return joinPath(this.dir, segmentFileName(this.baseOffset, suffix) + this.fileSuffix);
  }

  get sizeBytes(): number {
    return this.log.size();
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** Loads both indexes and the state they imply; false when something does not add up. */
  #loadIndexes(): boolean {
    if (!this.offsetIndex.load(this.sizeBytes)) return false;
    try {
      if (!this.#loadTail()) return false;
    } catch (error) {
      if (isSluiceError(error)) return false; // a header field that does not decode
      throw error;
    }
    if (!this.timeIndex.load(this.nextOffset)) return false;
    // The time index's last entry covers every batch up to the last offset-index entry (and all of
    // them once the segment was closed); the tail scan covers the rest. On a tie the index entry is
    // the earlier occurrence.
    const lastTime = this.timeIndex.lastEntry();
    if (lastTime !== undefined && lastTime.timestamp >= this.maxTimestampSoFar) {
      this.maxTimestampSoFar = lastTime.timestamp;
      this.offsetOfMaxTimestampSoFar = lastTime.offset;
    }
    return true;
  }

  /**
   * Finds nextOffset and the tail's timestamps by walking from the last offset-index entry. False
   * when that entry does not point at a batch ending at its offset, or the walk does not end
   * exactly at the end of the file.
   */
  #loadTail(): boolean {
    this.resetState();
    const last = this.offsetIndex.index.last();
    let stop: { reason: WalkStop; position: number } | undefined;
    const walk = walkBatches(this.log, last?.value ?? 0, this.sizeBytes, (reason, position) => {
      stop = { reason, position };
    });
    let first = true;
    for (const batch of walk) {
      if (first && last !== undefined && batch.lastOffset !== last.key) return false;
      if (batch.baseOffset < this.nextOffset || batch.lastOffset < batch.baseOffset) return false;
      first = false;
      this.#noteBatch(batch.lastOffset, batch.maxTimestamp);
    }
    if (stop?.reason !== "end" || stop.position !== this.sizeBytes) return false;
    this.#readFirstBatchTimestamp();
    return true;
  }

  #readFirstBatchTimestamp(): void {
    for (const batch of walkBatches(this.log, 0, this.sizeBytes)) {
      this.firstBatchTimestamp = batch.maxTimestamp;
      return;
    }
  }

  #noteBatch(lastOffset: number, maxTimestamp: number): void {
    this.nextOffset = lastOffset + 1;
    if (maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = maxTimestamp;
      this.offsetOfMaxTimestampSoFar = lastOffset;
    }
  }

  /** Whether a batch ending at `lastOffset` may go into this segment (relative offsets are int32). */
  canHoldOffset(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= RELATIVE_OFFSET_MAX;
  }

  /**
   * Appends one batch whose offsets are already assigned. On failure the log and indexes are cut
   * back to where they were, so a failed append leaves nothing behind.
   */
  append(batch: Uint8Array, lastOffset: number, maxTimestamp: number): void {
    assert(
      lastOffset >= this.nextOffset,
      `append of offset ${lastOffset} below nextOffset ${this.nextOffset}`,
    );
    const position = this.sizeBytes;
    const indexEntries = this.offsetIndex.index.count;
    const timeEntries = this.timeIndex.index.count;
    try {
      this.log.append(batch);
      if (this.#bytesSinceLastIndexEntry > this.options.indexIntervalBytes) {
        this.offsetIndex.append(lastOffset, position);
        this.timeIndex.maybeAppend(
          Math.max(this.maxTimestampSoFar, maxTimestamp),
          this.#offsetOfMax(maxTimestamp, lastOffset),
        );
        this.#bytesSinceLastIndexEntry = 0;
      }
    } catch (error) {
      this.#undoAppend(position, indexEntries, timeEntries);
      throw error;
    }
    this.#bytesSinceLastIndexEntry += batch.length;
    this.firstBatchTimestamp ??= maxTimestamp;
    this.#noteBatch(lastOffset, maxTimestamp);
  }

  #offsetOfMax(maxTimestamp: number, lastOffset: number): number {
    return maxTimestamp > this.maxTimestampSoFar ? lastOffset : this.offsetOfMaxTimestampSoFar;
  }

  #undoAppend(position: number, indexEntries: number, timeEntries: number): void {
    try {
      this.log.truncate(position);
      this.offsetIndex.index.truncateToCount(indexEntries);
      this.timeIndex.index.truncateToCount(timeEntries);
    } catch {
      // The device refuses even a truncate: the caller sees the size did not go back and takes the
      // log offline; recovery on the next open cuts the torn tail.
    }
  }

  /**
   * The first batch that holds `targetOffset` or anything after it: index lookup, then a short
   * forward scan of headers. Undefined when the segment ends before it.
   */
  locate(targetOffset: number, endPosition = this.sizeBytes): BatchLocation | undefined {
    const start = this.offsetIndex.lookup(targetOffset);
    for (const batch of walkBatches(this.log, start.position, endPosition)) {
      if (batch.lastOffset >= targetOffset) return batch;
    }
    return undefined;
  }

  /** Batches from `position` on, as headers. */
  batchesFrom(position: number, endPosition = this.sizeBytes): Generator<BatchLocation> {
    return walkBatches(this.log, position, endPosition);
  }

  /** Reads [startPosition, endPosition) of the log into memory: into `into` when it is large enough. */
  readBytes(startPosition: number, endPosition: number, into?: Uint8Array): Uint8Array {
    const length = endPosition - startPosition;
    const bytes = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    const read = this.log.readInto(startPosition, bytes);
    if (read !== bytes.length) {
      throw new SluiceError("STORAGE_ERROR", `short read of ${this.path(LOG_SUFFIX)} at ${startPosition}`);
    }
    return bytes;
  }

  /**
   * The first batch that may hold a record with timestamp >= `timestamp`, starting no earlier than
   * `startingOffset`: time index, then offset index, then a scan of batch max timestamps.
   */
  locateTimestamp(timestamp: number, startingOffset: number): BatchLocation | undefined {
    const fromOffset = Math.max(this.timeIndex.lookup(timestamp), startingOffset);
    const start = this.offsetIndex.lookup(fromOffset);
    for (const batch of walkBatches(this.log, start.position, this.sizeBytes)) {
      if (batch.lastOffset >= startingOffset && batch.maxTimestamp >= timestamp) return batch;
    }
    return undefined;
  }

  /** Called when a newer segment takes over appends: the time index gets its final entry. */
  onBecomeInactive(): void {
    if (this.maxTimestampSoFar !== NO_TIMESTAMP) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    }
    this.persistIndexes();
  }

  /** Writes index entries still held in memory (sparse-index.ts batches them). */
  persistIndexes(): void {
    this.offsetIndex.index.persist();
    this.timeIndex.index.persist();
  }

  /** Cuts the segment so that `offset` is the next offset; returns the bytes removed. */
  truncateTo(offset: number): number {
    const cut = this.locate(offset);
    if (cut === undefined) return 0;
    const removed = this.sizeBytes - cut.position;
    this.log.truncate(cut.position);
    this.offsetIndex.truncateToPosition(cut.position);
    this.timeIndex.truncateToOffset(offset);
    this.rescan();
    return removed;
  }

  /** Rebuilds both indexes from the log (derived data), trusting batch headers. */
  rebuildIndexes(): void {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.rescan({ rebuild: true });
  }

  /** Recomputes in-memory state from the log, optionally re-adding index entries. */
  rescan(options: { rebuild?: boolean } = {}): void {
    this.resetState();
    for (const batch of walkBatches(this.log, 0, this.sizeBytes))
      this.noteRecoveredBatch(batch, options.rebuild ?? false);
  }

  /** Forgets what is known about the log's contents, as before the first batch. */
  resetState(): void {
    this.nextOffset = this.baseOffset;
    this.maxTimestampSoFar = NO_TIMESTAMP;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.firstBatchTimestamp = undefined;
    this.#bytesSinceLastIndexEntry = 0;
  }

  /** Accounts for one batch already in the log (recovery and rescans). */
  noteRecoveredBatch(batch: BatchLocation, addIndexEntries: boolean): void {
    if (addIndexEntries && this.#bytesSinceLastIndexEntry > this.options.indexIntervalBytes) {
      this.offsetIndex.append(batch.lastOffset, batch.position);
      this.timeIndex.maybeAppend(
        Math.max(this.maxTimestampSoFar, batch.maxTimestamp),
        this.#offsetOfMax(batch.maxTimestamp, batch.lastOffset),
      );
      this.#bytesSinceLastIndexEntry = 0;
    }
    this.#bytesSinceLastIndexEntry += batch.sizeBytes;
    this.firstBatchTimestamp ??= batch.maxTimestamp;
    this.#noteBatch(batch.lastOffset, batch.maxTimestamp);
  }

  /** Makes the log and index bytes written so far durable. */
  async flush(): Promise<void> {
    this.persistIndexes();
    await Promise.all([
      this.log.datasync(),
      this.offsetIndex.index.file.datasync(),
      this.timeIndex.index.file.datasync(),
    ]);
  }

  close(): void {
    try {
      this.persistIndexes();
    } catch {
      // Indexes are derived data: one that misses its tail is completed by recovery or a scan.
    }
    this.log.close();
    this.offsetIndex.index.file.close();
    this.timeIndex.index.file.close();
  }

  /**
   * Renames the files to `.deleted`, leaving them open so a read already under way can finish; the
   * caller closes the segment and removes the files later.
   */
  markDeleted(): string[] {
    const renamed: string[] = [];
    for (const suffix of SEGMENT_FILE_SUFFIXES) {
      const from = this.path(suffix);
      if (!this.storage.exists(from)) continue;
      this.storage.rename(from, from + DELETED_SUFFIX);
      renamed.push(from + DELETED_SUFFIX);
    }
    return renamed;
  }
}
