// One partition's log: an ordered list of segments, the offsets that bound it (log start, high
// watermark, log end), appends that assign offsets, reads from an offset or a timestamp, rolling,
// retention, flushing with group commit, and recovery on open.
import { assert, assertSafeOffset } from "../assert.ts";
import type { CancelTimer, Clock } from "../clock.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import {
  PRODUCER_ID_EXPIRATION_MS_DEFAULT,
  SINGLE_NODE_LEADER_EPOCH,
  UNCOMPRESSED_BATCH_BYTES_MAX,
} from "../limits.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { checkBatchSize, convertForTopic } from "./batch-conversion.ts";
import type { BatchLocation } from "./batch-reader.ts";
import { requireRecordKeys } from "./cleaner-batch.ts";
import { finishSwap } from "./cleaner-swap.ts";
import { GroupCommit } from "./group-commit.ts";
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache } from "./leader-epoch-checkpoint.ts";
import { deletesOldSegments, isCompacted, type LogConfig } from "./log-config.ts";
import { loadSegments, type RecoveryReport } from "./log-loader.ts";
import { ProducerState, producerBatchOf } from "./producer-state.ts";
import { loadProducerState, type ProducerStateLoad } from "./producer-state-recovery.ts";
import { deleteSnapshotsAbove, writeProducerSnapshot } from "./producer-state-snapshot.ts";
import {
  decodeRecords,
  NO_TIMESTAMP,
  readBatchHeader,
  stampBatch,
  timestampTypeOf,
  type ValidatedBatch,
  validateBatch,
} from "./record-batch.ts";
import { DELETED_SUFFIX, Segment } from "./segment.ts";

export interface AppendOptions {
  /** Leader epoch stamped into the batch; a single node always uses 0. */
  leaderEpoch?: number;
  /** Resolve only after the batch is fsynced (group commit), whatever the flush policy. */
  durable?: boolean;
  /**
   * What validateBatch said of exactly these bytes, from a caller that checked a whole request up
   * front: the log then skips repeating the CRC and framing walk over every byte.
   */
  validated?: ValidatedBatch;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  /** Broker time under LogAppendTime, else -1 (Kafka's reply). */
  logAppendTime: number;
  logStartOffset: number;
  /**
   * Set when the batch was a producer's retry of a batch already in the log: nothing was appended,
   * and the offsets are the original batch's (Kafka answers a duplicate with success).
   */
  duplicate?: true;
}

export interface ReadOptions {
  /** Stop after this many bytes, but always return at least one whole batch (KIP-74). */
  maxBytes: number;
  /** Consumers read below the high watermark; replicas read up to the log end. */
  upTo?: "high-watermark" | "log-end";
}

/** A run of whole batches within one segment, ready to copy out or to send with zero copy. */
export interface LogSlice {
  segment: Segment;
  startPosition: number;
  endPosition: number;
  firstOffset: number;
  lastOffset: number;
  batchCount: number;
}

export interface ReadResult {
  slice: LogSlice | undefined;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

export type { RecoveryReport } from "./log-loader.ts";

export interface SegmentInfo {
  baseOffset: number;
  nextOffset: number;
  sizeBytes: number;
  maxTimestamp: number;
}

export interface OpenOptions {
  storage: Storage;
  dir: string;
  config: LogConfig;
  clock: Clock;
  /** Whether the data directory was closed cleanly (no scan needed). */
  cleanShutdown: boolean;
  /** Offsets below this were fsynced; recovery starts at the segment holding it. */
  recoveryPoint?: number;
  /**
   * The log was compacted once, though its topic may no longer be: recovery accepts batches that
   * start past the previous one's end (a compacted topic's log always may).
   */
  wasCompacted?: boolean;
  /** Kafka's producer.id.expiration.ms; PRODUCER_ID_EXPIRATION_MS_DEFAULT unless a test shortens it. */
  producerIdExpirationMs?: number;
}

export class PartitionLog {
  #segments: Segment[] = [];
  #logStartOffset = 0;
  #highWatermark = 0;
  #recoveryPoint = 0;
  #unflushedRecords = 0;
  /** A segment file was created since the last flush, so the directory needs an fsync too. */
  #directoryDirty = false;
  #cancelFlushTimer: CancelTimer | undefined;
  /** Segments renamed `.deleted` whose files are still open for in-flight reads, with their timers. */
  #pendingDeletes = new Map<Segment, CancelTimer>();
  #failure: SluiceError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #wasCompacted = false;
  readonly #groupCommit = new GroupCommit(() => this.#flushToEnd());
  readonly epochs: LeaderEpochCache;
  /** Idempotent producers' epochs and last batches (producer-state.ts); loaded with the segments. */
  #producerState: ProducerState;
  #producerStateLoad: ProducerStateLoad | undefined;
  /**
   * Replication's hooks (lib/cluster/): the epoch stamped into produced batches, and whether the high
   * watermark follows the log end on each append (a single node) or is moved by the leader from its
   * followers' positions.
   */
  readonly replication = { leaderEpoch: SINGLE_NODE_LEADER_EPOCH, highWatermarkFollowsLogEnd: true };

  private constructor(
    readonly storage: Storage,
    readonly dir: string,
    public config: LogConfig,
    readonly clock: Clock,
    readonly producerIdExpirationMs: number,
  ) {
    this.epochs = LeaderEpochCache.load(storage, joinPath(dir, LEADER_EPOCH_CHECKPOINT_FILE));
    this.#producerState = new ProducerState(producerIdExpirationMs);
  }

  /** Opens (or creates) the log in `dir`, recovering its tail after an unclean shutdown. */
  static open(options: OpenOptions): { log: PartitionLog; recovery: RecoveryReport } {
    const { storage, dir, config, clock } = options;
    storage.mkdirp(dir);
    const expirationMs = options.producerIdExpirationMs ?? PRODUCER_ID_EXPIRATION_MS_DEFAULT;
    const log = new PartitionLog(storage, dir, config, clock, expirationMs);
    log.#wasCompacted = options.wasCompacted ?? false;
    const recovery = log.#load(options.cleanShutdown, options.recoveryPoint ?? 0);
    log.#reloadProducerState();
    return { log, recovery };
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.#activeSegment.nextOffset;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** Offsets below this are durable (fsynced). */
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }

  get segments(): readonly Segment[] {
    return this.#segments;
  }

  get sizeBytes(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }

  /** The idempotent producers this partition knows: read it, append through the log. */
  get producerState(): ProducerState {
    return this.#producerState;
  }

  /** How the producer state was last loaded (on open or after a truncation): snapshot and scan. */
  get producerStateLoad(): ProducerStateLoad | undefined {
    return this.#producerStateLoad;
  }

  describeSegments(): SegmentInfo[] {
    return this.#segments.map((segment) => ({
      baseOffset: segment.baseOffset,
      nextOffset: segment.nextOffset,
      sizeBytes: segment.sizeBytes,
      maxTimestamp: segment.maxTimestampSoFar,
    }));
  }

  get #activeSegment(): Segment {
    return this.#segments.at(-1)!;
  }

  /**
   * Moves the high watermark (replication sets it from follower positions). It never passes the
   * log end and never goes back.
   */
  updateHighWatermark(offset: number): void {
    assertSafeOffset(offset, "high watermark");
    this.#highWatermark = Math.max(this.#highWatermark, Math.min(offset, this.logEndOffset));
  }

  /**
   * Sets the high watermark even below where it was: a replica whose role changes (a restarted node,
   * a new follower) forgets what it may not know to be committed and learns it again from its leader.
   */
  resetHighWatermark(offset: number): void {
    assertSafeOffset(offset, "high watermark");
    this.#highWatermark = Math.max(this.#logStartOffset, Math.min(offset, this.logEndOffset));
  }

  // -------------------------------------------------------------------------------------------
  // Append

  /**
   * Validates one RecordBatch v2 as a producer sent it, assigns its offsets from the log end,
   * stamps the leader epoch and appends it. Takes ownership of `batch` (it is rewritten in place).
   * Nothing is written when validation fails.
   */
  async append(batch: Uint8Array, options: AppendOptions = {}): Promise<AppendResult> {
    const result = this.#appendAsLeader(batch, options);
    if (options.durable || this.#unflushedRecords >= this.config.flushMessages) await this.flush();
    return result;
  }

  /**
   * The synchronous part of append: everything up to the bytes being in the page cache. Exposed for
   * callers that must append several batches without yielding. flush.messages still applies: when
   * it is reached a flush starts in the background; a caller that needs durability awaits flush().
   */
  appendSync(batch: Uint8Array, options: AppendOptions = {}): AppendResult {
    const result = this.#appendAsLeader(batch, options);
    this.#flushInBackgroundWhenDue();
    return result;
  }

  #appendAsLeader(batch: Uint8Array, options: AppendOptions): AppendResult {
    this.#checkWritable();
    checkBatchSize(batch.length, this.config);
    const validated = options.validated ?? validateBatch(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
    if (validated.header.baseOffset !== 0) {
      throw new SluiceError(
        "INVALID_RECORD",
        `a produced batch must have baseOffset 0, not ${validated.header.baseOffset}`,
      );
    }
    if (isCompacted(this.config)) requireRecordKeys(batch);
    const producer = producerBatchOf(validated.header);
    if (producer !== undefined) {
      const duplicate = this.#producerState.check(producer, this.clock.nowMs());
      if (duplicate !== undefined) return this.#duplicateResult(duplicate);
    }
    const prepared = convertForTopic(batch, validated.maxTimestamp, this.config, this.clock.nowMs());
    // Recompression may have grown the batch: Kafka checks the sizes again on what it will write.
    if (prepared.batch !== batch) checkBatchSize(prepared.batch.length, this.config);
    const recordCount = validated.header.recordsCount;
    const baseOffset = this.logEndOffset;
    const lastOffset = baseOffset + recordCount - 1;
    const leaderEpoch = options.leaderEpoch ?? this.replication.leaderEpoch;
    stampBatch(prepared.batch, baseOffset, leaderEpoch);
    this.#appendStamped(prepared.batch, lastOffset, prepared.maxTimestamp, leaderEpoch, baseOffset);
    // Only once the bytes are in: a failed append must not make its retry look like a duplicate.
    if (producer !== undefined) {
      this.#producerState.record({ ...producer, maxTimestamp: prepared.maxTimestamp }, baseOffset);
    }
    if (this.replication.highWatermarkFollowsLogEnd) this.#highWatermark = this.logEndOffset;
    return {
      baseOffset,
      lastOffset,
      recordCount,
      logAppendTime: prepared.logAppendTime,
      logStartOffset: this.#logStartOffset,
    };
  }

  /** The answer to a retried batch: the original's offsets, as Kafka gives them. */
  #duplicateResult(original: { firstOffset: number; lastOffset: number; timestamp: number }): AppendResult {
    const logAppendTime = this.config.messageTimestampType === "LogAppendTime" ? original.timestamp : -1;
    return {
      baseOffset: original.firstOffset,
      lastOffset: original.lastOffset,
      recordCount: original.lastOffset - original.firstOffset + 1,
      logAppendTime,
      logStartOffset: this.#logStartOffset,
      duplicate: true,
    };
  }

  /**
   * Appends a batch whose offsets and epoch are already in its header: what a follower does with
   * batches fetched from its leader. The batch is checked (CRC, framing) but not rewritten.
   */
  appendAsFollower(batch: Uint8Array): AppendResult {
    this.#checkWritable();
    const validated = validateBatch(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
    const header = validated.header;
    if (header.baseOffset !== this.logEndOffset) {
      throw new SluiceError(
        "INVALID_RECORD",
        `replicated batch starts at ${header.baseOffset} but the log ends at ${this.logEndOffset}`,
      );
    }
    const lastOffset = header.baseOffset + header.lastOffsetDelta;
    this.#appendStamped(
      batch,
      lastOffset,
      header.maxTimestamp,
      header.partitionLeaderEpoch,
      header.baseOffset,
    );
    // The leader checked the sequences; a follower mirrors its state so it can take over.
    const producer = producerBatchOf(header);
    if (producer !== undefined) this.#producerState.record(producer, header.baseOffset);
    this.#flushInBackgroundWhenDue();
    return {
      baseOffset: header.baseOffset,
      lastOffset,
      recordCount: header.recordsCount,
      logAppendTime: -1,
      logStartOffset: this.#logStartOffset,
    };
  }

  #appendStamped(
    batch: Uint8Array,
    lastOffset: number,
    maxTimestamp: number,
    epoch: number,
    baseOffset: number,
  ): void {
    // Segments stay contiguous (recovery relies on it): every batch starts exactly at the log end.
    assert(
      baseOffset === this.logEndOffset && lastOffset >= baseOffset,
      `batch ${baseOffset}..${lastOffset} at ${this.logEndOffset}`,
    );
    const segment = this.#maybeRoll(batch.length, maxTimestamp, lastOffset);
    // The epoch first: if its checkpoint cannot be written (a full disk) the batch is not written
    // either. An epoch entry at the log end with no batch yet is harmless (a new leader has one too).
    if (epoch >= 0) this.epochs.assign(epoch, baseOffset);
    const sizeBefore = segment.sizeBytes;
    try {
      segment.append(batch, lastOffset, maxTimestamp);
    } catch (error) {
      // The segment undoes a failed append; if even that failed, bytes past its state are on disk and
      // the next append would land after them. Only recovery (a reopen) can sort that out.
      if (segment.sizeBytes !== sizeBefore) {
        this.#failure = new SluiceError(
          "STORAGE_ERROR",
          `could not undo a failed append to ${segment.log.path}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    this.#unflushedRecords += lastOffset - baseOffset + 1;
    this.#scheduleFlush();
  }

  #checkWritable(): void {
    if (this.#closed || this.#closing) throw new SluiceError("LOG_CLOSED", `log ${this.dir} is closed`);
    if (this.#failure) {
      throw new SluiceError(
        "STORAGE_ERROR",
        `log ${this.dir} is offline after a storage failure: ${this.#failure.message}`,
        {
          cause: this.#failure,
        },
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rolling

  /** The segment the next batch goes into, rolling first when Kafka's rules say so. */
  #maybeRoll(batchBytes: number, maxTimestamp: number, lastOffset: number): Segment {
    const active = this.#activeSegment;
    if (active.isEmpty) return active;
    const full = active.sizeBytes > this.config.segmentBytes - batchBytes;
    // Kafka's timeWaitedForRoll: from the first batch's timestamp, or from creation without one.
    const firstTimestamp = active.firstBatchTimestamp ?? NO_TIMESTAMP;
    const waitedMs =
      firstTimestamp >= 0 && maxTimestamp >= 0
        ? maxTimestamp - firstTimestamp
        : this.clock.nowMs() - active.options.createdMs;
    const aged = waitedMs > this.config.segmentMs;
    if (!full && !aged && active.canHoldOffset(lastOffset)) return active;
    return this.roll();
  }

  /** Starts a new active segment at the log end. */
  roll(): Segment {
    const active = this.#activeSegment;
    if (active.isEmpty) return active;
    active.onBecomeInactive();
    const segment = Segment.create(this.storage, this.dir, this.logEndOffset, this.#segmentOptions());
    this.#segments.push(segment);
    this.#directoryDirty = true;
    // Kafka snapshots producer state at every roll, so an unclean open scans at most one segment.
    this.#snapshotProducerState();
    return segment;
  }

  /**
   * Writes the producer state as of the log end to `<offset>.snapshot`. A failure is not the
   * append's: the snapshot is derived data, and without it the next open scans further back.
   */
  #snapshotProducerState(): void {
    try {
      this.#producerState.removeExpired(this.clock.nowMs());
      writeProducerSnapshot(this.storage, this.dir, this.logEndOffset, this.#producerState.entries());
    } catch (error) {
      if (!isSluiceError(error)) throw error;
    }
  }

  /** The newest snapshot at or below the log end, then the batch headers after it. */
  #reloadProducerState(): void {
    const { state, load } = loadProducerState({
      storage: this.storage,
      dir: this.dir,
      segments: this.#segments,
      logStartOffset: this.#logStartOffset,
      logEndOffset: this.logEndOffset,
      nowMs: this.clock.nowMs(),
      expirationMs: this.producerIdExpirationMs,
    });
    this.#producerState = state;
    this.#producerStateLoad = load;
  }

  #segmentOptions() {
    return { indexIntervalBytes: this.config.indexIntervalBytes, createdMs: this.clock.nowMs() };
  }

  // -------------------------------------------------------------------------------------------
  // Read

  /** Index of the segment that holds `offset` (the largest base offset <= offset). */
  #floorSegmentIndex(offset: number): number {
    let low = 0;
    let high = this.#segments.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  #checkInRange(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this.#logStartOffset || offset > this.logEndOffset) {
      throw new SluiceError(
        "OFFSET_OUT_OF_RANGE",
        `offset ${offset} is outside the log [${this.#logStartOffset}, ${this.logEndOffset}]`,
        { field: "offset" },
      );
    }
  }

  /**
   * Whole batches from the one holding `fetchOffset`, up to `maxBytes` (at least one batch), never
   * past the high watermark for consumers. An offset at the end gives an empty result.
   */
  read(fetchOffset: number, options: ReadOptions): ReadResult {
    this.#checkInRange(fetchOffset);
    const upperOffset = options.upTo === "log-end" ? this.logEndOffset : this.#highWatermark;
    const result: ReadResult = {
      slice: undefined,
      highWatermark: this.#highWatermark,
      logStartOffset: this.#logStartOffset,
      logEndOffset: this.logEndOffset,
    };
    for (let i = this.#floorSegmentIndex(fetchOffset); i < this.#segments.length; i++) {
      const segment = this.#segments[i]!;
      if (segment.baseOffset >= upperOffset) break;
      const first = segment.locate(fetchOffset);
      if (first === undefined) continue; // the offset sits in a gap at this segment's end
      result.slice = this.#collect(segment, first, upperOffset, options.maxBytes);
      break;
    }
    return result;
  }

  #collect(
    segment: Segment,
    first: BatchLocation,
    upperOffset: number,
    maxBytes: number,
  ): LogSlice | undefined {
    if (first.lastOffset >= upperOffset) return undefined;
    let end = first.position + first.sizeBytes;
    let lastOffset = first.lastOffset;
    let batchCount = 1;
    for (const batch of segment.batchesFrom(end)) {
      if (batch.lastOffset >= upperOffset || batch.position + batch.sizeBytes - first.position > maxBytes)
        break;
      end = batch.position + batch.sizeBytes;
      lastOffset = batch.lastOffset;
      batchCount++;
    }
    return {
      segment,
      startPosition: first.position,
      endPosition: end,
      firstOffset: first.baseOffset,
      lastOffset,
      batchCount,
    };
  }

  /** The bytes of a slice, copied out of the segment file. */
  readSliceBytes(slice: LogSlice): Uint8Array {
    return slice.segment.readBytes(slice.startPosition, slice.endPosition);
  }

  /**
   * The bytes of a slice read into a caller's buffer when they fit (a view of its start), else into
   * a new one: a reader that reuses one buffer avoids touching fresh memory on every read.
   */
  readSliceInto(slice: LogSlice, buffer: Uint8Array): Uint8Array {
    return slice.segment.readBytes(slice.startPosition, slice.endPosition, buffer);
  }

  /**
   * The bytes of a slice as a Blob for an HTTP response. Normally file-backed, so Bun sends it with
   * sendfile(2); the file is opened by path when the send starts. A compacted log's cleaner swaps a
   * new file in under the same path, so there the bytes are copied now rather than risk sending
   * another file's. (Retention only renames paths away: such a send fails, it never lies.)
   */
  sliceBlob(slice: LogSlice): Blob {
    if (this.#wasCompacted || isCompacted(this.config))
      return new Blob([this.readSliceBytes(slice) as Uint8Array<ArrayBuffer>]);
    return this.storage.sliceForSend(slice.segment.log.path, slice.startPosition, slice.endPosition);
  }

  /**
   * The first offset whose record timestamp is >= `timestamp`, with that record's timestamp, or
   * undefined when no record is that late (Kafka's ListOffsets by time).
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | undefined {
    for (const segment of this.#segments) {
      if (segment.maxTimestampSoFar < timestamp) continue;
      let from = Math.max(this.#logStartOffset, segment.baseOffset);
      for (;;) {
        const batch = segment.locateTimestamp(timestamp, from);
        if (batch === undefined) break;
        const bytes = segment.readBytes(batch.position, batch.position + batch.sizeBytes);
        // Under LogAppendTime every record carries the batch's append time (Kafka's readers apply it).
        const appendTime =
          timestampTypeOf(readBatchHeader(bytes)) === "LogAppendTime" ? batch.maxTimestamp : undefined;
        const match = decodeRecords(bytes, UNCOMPRESSED_BATCH_BYTES_MAX)
          .map((record) => ({ offset: record.offset, timestamp: appendTime ?? record.timestamp }))
          .find((record) => record.timestamp >= timestamp && record.offset >= this.#logStartOffset);
        if (match) return match;
        from = batch.lastOffset + 1;
      }
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Truncation (replication and recovery)

  /**
   * Cuts the log so that `offset` becomes the log end (or the start of the batch holding it, when it
   * falls inside one). Never below the log start. Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    assertSafeOffset(offset);
    if (offset >= this.logEndOffset) return 0;
    const target = Math.max(offset, this.#logStartOffset);
    let removed = 0;
    while (
      this.#segments.length > 1 &&
      this.#activeSegment.baseOffset >= target &&
      this.#activeSegment.baseOffset > this.#logStartOffset
    ) {
      const segment = this.#segments.pop()!;
      removed += segment.sizeBytes;
      this.#deleteSegmentFiles(segment, 0);
    }
    // Whole batches only: an offset inside a batch cuts that batch too, so the log end may land below
    // `offset` rather than claim offsets whose bytes are gone.
    removed += this.#activeSegment.truncateTo(target);
    this.#highWatermark = Math.min(this.#highWatermark, this.logEndOffset);
    this.#recoveryPoint = Math.min(this.#recoveryPoint, this.logEndOffset);
    this.epochs.truncateFromEnd(this.logEndOffset);
    // The cut batches may have moved producers on: start again from a snapshot below the cut.
    if (removed > 0) this.#reloadProducerState();
    return removed;
  }

  /**
   * Kafka's truncateFullyAndStartAt: empties the log and starts it afresh at `offset`, for a follower
   * whose log end fell below its leader's log start (it can never fetch what it lacks). Every segment
   * goes, and with the records their leader epochs and producer state. Resolves once the new segment
   * and the removals are synced, so a restart opens the log at `offset` (the caller writes the
   * recovery-point checkpoint, which lives beside the logs).
   */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    assertSafeOffset(offset);
    this.#checkWritable();
    // Renamed `.deleted` before the new segment exists, so its name is free even when `offset` is an
    // old segment's base. Newest first: a crash part-way leaves a shorter log that is still whole.
    for (const segment of this.#segments.toReversed())
      this.#deleteSegmentFiles(segment, this.config.fileDeleteDelayMs);
    deleteSnapshotsAbove(this.storage, this.dir, -1);
    this.epochs.clear();
    this.#segments = [Segment.create(this.storage, this.dir, offset, this.#segmentOptions())];
    this.#directoryDirty = true;
    this.#logStartOffset = offset;
    this.#highWatermark = offset;
    this.#recoveryPoint = offset;
    this.#unflushedRecords = 0;
    this.#producerState = new ProducerState(this.producerIdExpirationMs);
    this.#producerStateLoad = undefined;
    await this.flush();
    assert(this.logStartOffset === offset && this.logEndOffset === offset, "log restarted at its offset");
  }

  /**
   * Kafka's maybeIncrementLogStartOffset on a follower: the leader's log start moved (its retention
   * deleted segments), so this replica drops what the leader already dropped. Whole segments only, as
   * retention does, and never past the high watermark or the active segment. Returns the segments
   * deleted.
   */
  maybeIncrementLogStartOffset(offset: number): number {
    assertSafeOffset(offset);
    if (this.#closed) return 0;
    const limit = Math.min(offset, this.#highWatermark);
    let deleted = 0;
    while (this.#segments.length > 1 && this.#segments[1]!.baseOffset <= limit) {
      this.#deleteOldestSegment();
      deleted++;
    }
    if (deleted > 0) this.epochs.truncateFromStart(this.#logStartOffset);
    return deleted;
  }

  /** Removes the oldest (never the active) segment; the log then starts at the next one. */
  #deleteOldestSegment(): void {
    assert(this.#segments.length > 1, "the active segment is never deleted from the start");
    const oldest = this.#segments.shift()!;
    this.#logStartOffset = Math.max(this.#logStartOffset, this.#segments[0]!.baseOffset);
    this.#deleteSegmentFiles(oldest, this.config.fileDeleteDelayMs);
  }

  // -------------------------------------------------------------------------------------------
  // Retention

  /**
   * Deletes whole segments, oldest first, that are past retention.ms or beyond retention.bytes,
   * stopping at the first one that is not; never the active segment (it is rolled first when it
   * alone is past retention) and never data above the high watermark.
   */
  deleteRetainedSegments(): { deletedSegments: number; deletedBytes: number } {
    // A compact-only topic keeps its segments: the cleaner, not retention, decides what goes.
    if (this.#closed || !deletesOldSegments(this.config)) return { deletedSegments: 0, deletedBytes: 0 };
    const now = this.clock.nowMs();
    const { retentionMs, retentionBytes } = this.config;
    let excessBytes = retentionBytes < 0 ? 0 : this.sizeBytes - retentionBytes;
    const expired = (segment: Segment) =>
      retentionMs >= 0 &&
      segment.maxTimestampSoFar !== NO_TIMESTAMP &&
      now - segment.maxTimestampSoFar > retentionMs;
    const qualifies = (segment: Segment) =>
      !segment.isEmpty && (expired(segment) || excessBytes >= segment.sizeBytes);

    if (
      this.#segments.length === 1 &&
      qualifies(this.#activeSegment) &&
      this.#highWatermark >= this.logEndOffset
    ) {
      this.roll();
    }
    let deletedSegments = 0;
    let deletedBytes = 0;
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const next = this.#segments[1]!;
      if (!qualifies(oldest) || next.baseOffset > this.#highWatermark) break;
      const sizeBytes = oldest.sizeBytes; // read before the delete closes its file
      this.#deleteOldestSegment();
      excessBytes -= sizeBytes;
      deletedBytes += sizeBytes;
      deletedSegments++;
      if (
        this.#segments.length === 1 &&
        qualifies(this.#activeSegment) &&
        this.#highWatermark >= this.logEndOffset
      ) {
        this.roll();
      }
    }
    if (deletedSegments > 0) this.epochs.truncateFromStart(this.#logStartOffset);
    return { deletedSegments, deletedBytes };
  }

  // -------------------------------------------------------------------------------------------
  // Compaction (the cleaner, cleaner.ts, calls in here to swap its work in)

  /**
   * Puts the segment the cleaner committed as `<base>.*.swap` (cleaner-swap.ts) in place of
   * `replaced`, which must still be consecutive non-active segments of this log starting at that
   * base: steps 3 and 4 of the swap. Returns the new segment, or undefined when retention, truncation
   * or a close changed the log meanwhile (then nothing is touched and the caller drops the swap).
   */
  replaceSegments(replaced: readonly Segment[]): Segment | undefined {
    const first = this.#segments.indexOf(replaced[0]!);
    const intact =
      !this.#closed &&
      this.#failure === undefined &&
      first >= 0 &&
      first + replaced.length < this.#segments.length &&
      replaced.every((segment, i) => this.#segments[first + i] === segment);
    if (!intact) return undefined;
    const baseOffset = replaced[0]!.baseOffset;
    const endOffset = replaced.at(-1)!.nextOffset;
    for (const segment of replaced) this.#deleteSegmentFiles(segment, this.config.fileDeleteDelayMs);
    finishSwap(this.storage, this.dir, baseOffset);
    const opened = Segment.open(this.storage, this.dir, baseOffset, this.#segmentOptions());
    if (!opened.indexesSane) opened.segment.rebuildIndexes();
    // The cleaner keeps each group's last batch, so the segments stay contiguous.
    assert(
      opened.segment.nextOffset === endOffset,
      `cleaned segment ends at ${opened.segment.nextOffset}, not ${endOffset}`,
    );
    this.#segments.splice(first, replaced.length, opened.segment);
    this.#directoryDirty = true;
    this.#wasCompacted = true;
    return opened.segment;
  }

  /** Closed (or being closed): background work on the log should stop. */
  get isClosed(): boolean {
    return this.#closed || this.#closing !== undefined;
  }

  /**
   * Renames the files `.deleted` now and closes and removes them after `delayMs`, so reads that
   * already hold the segment (a slice being copied out) finish.
   */
  #deleteSegmentFiles(segment: Segment, delayMs: number): void {
    const renamed = segment.markDeleted();
    const closeAndRemove = () => {
      segment.close();
      for (const path of renamed) this.storage.remove(path);
    };
    const removeAll = () => {
      this.#pendingDeletes.delete(segment);
      // A group commit in flight may be fsyncing this segment's files: close them once it settles,
      // or its fdatasync fails with EBADF and takes the whole log offline.
      const running = this.#groupCommit.running;
      if (running === undefined) closeAndRemove();
      else void running.catch(() => undefined).then(closeAndRemove);
    };
    if (delayMs <= 0) removeAll();
    else this.#pendingDeletes.set(segment, this.clock.setTimer(removeAll, delayMs));
  }

  /** Deletions still waiting run now: the files were already renamed and nothing reads them. */
  #finishPendingDeletes(): void {
    for (const [segment, cancel] of this.#pendingDeletes) {
      cancel();
      segment.close();
    }
    this.#pendingDeletes.clear();
    for (const { name } of this.storage.list(this.dir)) {
      if (name.endsWith(DELETED_SUFFIX)) this.storage.remove(joinPath(this.dir, name));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Flush

  /** Resolves once everything appended before the call is fsynced (shared group commit). */
  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new SluiceError("LOG_CLOSED", `log ${this.dir} is closed`));
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#groupCommit.request();
  }

  /** True after a failed fsync: the log takes no writes until it is reopened (recovery). */
  get isOffline(): boolean {
    return this.#failure !== undefined;
  }

  /** flush.messages: a flush starts once that many records are unsynced; its failure is kept. */
  #flushInBackgroundWhenDue(): void {
    if (this.#unflushedRecords >= this.config.flushMessages) this.flush().catch(() => undefined);
  }

  get groupCommitSyncs(): number {
    return this.#groupCommit.syncCount;
  }

  #scheduleFlush(): void {
    if (this.#cancelFlushTimer !== undefined || this.config.flushMs >= Number.MAX_SAFE_INTEGER) return;
    this.#cancelFlushTimer = this.clock.setTimer(() => {
      this.#cancelFlushTimer = undefined;
      this.flush().catch(() => undefined); // the failure is kept in #failure and reported to writers
    }, this.config.flushMs);
  }

  async #flushToEnd(): Promise<void> {
    // A sync queued behind one that failed must not succeed: the pages it would cover may be gone.
    if (this.#failure) throw this.#failure;
    const endOffset = this.logEndOffset;
    const records = this.#unflushedRecords;
    const dirty = this.#segments.filter(
      (segment) => segment.nextOffset > this.#recoveryPoint || segment === this.#activeSegment,
    );
    const syncDirectory = this.#directoryDirty;
    this.#directoryDirty = false;
    try {
      await Promise.all(dirty.map((segment) => segment.flush()));
      // Segment files created since the last sync exist after a power loss only once the
      // directory naming them is synced too.
      if (syncDirectory) await this.storage.syncDir(this.dir);
    } catch (error) {
      // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the
      // last good sync can be trusted, so the log stops taking writes until it is reopened.
      this.#failure = isSluiceError(error)
        ? error
        : new SluiceError("STORAGE_ERROR", String(error), { cause: error });
      throw this.#failure;
    }
    this.#recoveryPoint = Math.max(this.#recoveryPoint, Math.min(endOffset, this.logEndOffset));
    this.#unflushedRecords = Math.max(0, this.#unflushedRecords - records);
    if (this.#unflushedRecords === 0) {
      // Nothing left for the flush.ms timer to do; the next append schedules it again.
      this.#cancelFlushTimer?.();
      this.#cancelFlushTimer = undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Open and close

  #load(cleanShutdown: boolean, recoveryPoint: number): RecoveryReport {
    // Without a readable checkpoint the epochs come back from every batch header, not just the tail's.
    const rebuildEpochs = this.epochs.needsRebuild || this.epochs.entries.length === 0;
    const loaded = loadSegments({
      storage: this.storage,
      dir: this.dir,
      segmentOptions: this.#segmentOptions(),
      cleanShutdown,
      recoveryPoint,
      allowOffsetGaps: this.#wasCompacted || isCompacted(this.config),
      ...(rebuildEpochs ? {} : { onRecoveredBatch: (batch: BatchLocation) => this.#reAddEpoch(batch) }),
      deleteSegment: (segment) => this.#deleteSegmentFiles(segment, 0),
    });
    this.#segments = loaded.segments;
    if (loaded.createdSegment) this.#directoryDirty = true;
    if (rebuildEpochs) {
      for (const segment of this.#segments)
        for (const batch of segment.batchesFrom(0)) this.#reAddEpoch(batch);
    }
    this.#logStartOffset = this.#segments[0]!.baseOffset;
    this.#highWatermark = this.logEndOffset;
    this.#recoveryPoint = cleanShutdown ? this.logEndOffset : Math.min(recoveryPoint, this.logEndOffset);
    this.epochs.truncateFromEnd(this.logEndOffset);
    this.epochs.truncateFromStart(this.#logStartOffset);
    return loaded.report;
  }

  #reAddEpoch(batch: BatchLocation): void {
    if (batch.partitionLeaderEpoch >= 0) this.epochs.assign(batch.partitionLeaderEpoch, batch.baseOffset);
  }

  /**
   * Flushes everything and closes the files. The log cannot be used afterwards. Rejects when the
   * final flush fails (or failed before): the files are closed all the same, and the caller must not
   * mark the directory cleanly shut down.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#cancelFlushTimer?.();
    this.#cancelFlushTimer = undefined;
    try {
      if (this.#failure) throw this.#failure;
      this.#activeSegment.onBecomeInactive();
      await this.flush();
      // As Kafka does at a clean shutdown: the next open then reads no batch header at all.
      this.#snapshotProducerState();
    } finally {
      this.#closed = true;
      for (const segment of this.#segments) segment.close();
      this.#finishPendingDeletes();
    }
  }

  /** Closes files without flushing: what a crash leaves behind, for tests and deletion. */
  closeWithoutFlush(): void {
    this.#closed = true;
    this.#cancelFlushTimer?.();
    this.#cancelFlushTimer = undefined;
    for (const [segment, cancel] of this.#pendingDeletes) {
      cancel();
      segment.close();
    }
    this.#pendingDeletes.clear();
    for (const segment of this.#segments) segment.close();
  }
}
