// A follower's loop for one partition: first truncate the log to where it agrees with the leader
// (by leader epoch, KIP-101/279: never to its own high watermark), then fetch from its log end again
// and again, append what comes with the leader's offsets and epochs, and take the leader's high
// watermark. A log that ends below the leader's log start is emptied and started there
// (replica-log-start.ts). Stops when the partition's leader or epoch changes (a new fetcher takes over).
import { ERRORS, isSluiceError } from "../errors.ts";
import { splitBatches } from "../gateway/batch-frames.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import { peerHeaders } from "./peer-auth.ts";
import { leaderLogStartOf, restartOffsetFor } from "./replica-log-start.ts";
import {
  EPOCH_END_PATH,
  type EpochEndAnswer,
  epochEndAnswer,
  queryString,
  REPLICA_FETCH_PATH,
  REPLICA_HEADERS,
} from "./replica-protocol.ts";
import { sleep } from "./sleep.ts";

export interface FetcherOptions {
  topic: string;
  partition: number;
  selfId: number;
  leaderId: number;
  leaderUrl: string;
  leaderEpoch: number;
  /** Looked up afresh each round: a deleted topic ends the loop. */
  log: () => PartitionLog;
  /** Empties the log and starts it at the offset, checkpointing its recovery point (LogManager's). */
  truncateFullyAndStartAt: (offset: number) => Promise<void>;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  /** The shared authAdminToken: the replica routes need admin when access control is on. */
  interNodeToken?: string | undefined;
  /** Called after records were appended or the high watermark moved. */
  onProgress: () => void;
  log_: (level: string, msg: string, fields?: Record<string, unknown>) => void;
}

const OFFSET_OUT_OF_RANGE_STATUS = ERRORS.OFFSET_OUT_OF_RANGE.status;

/** Backoff after a failed request: the leader may be down or not know its leadership yet. */
const RETRY_BACKOFF_MS = 100;

export class ReplicaFetcher {
  readonly #abort = new AbortController();
  readonly done: Promise<void>;
  #truncated = false;

  constructor(readonly options: FetcherOptions) {
    this.done = this.#run();
  }

  get leaderId(): number {
    return this.options.leaderId;
  }

  get leaderEpoch(): number {
    return this.options.leaderEpoch;
  }

  /** Stops the loop; the promise settles once no append can follow. */
  stop(): Promise<void> {
    this.#abort.abort();
    return this.done;
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (!this.#truncated) {
          await this.#truncateToLeader();
          this.#truncated = true;
        }
        await this.#fetchOnce();
      } catch (error) {
        if (this.#stopped) return;
        if (isSluiceError(error, "UNKNOWN_TOPIC_OR_PARTITION") || isSluiceError(error, "LOG_CLOSED")) return;
        this.options.log_("debug", "replica fetch failed", {
          topic: this.options.topic,
          partition: this.options.partition,
          error: String(error),
        });
        await sleep(RETRY_BACKOFF_MS);
      }
    }
  }

  async #get(
    path: string,
    query: Record<string, string | number>,
    timeoutMs: number,
    accepted: (response: Response) => boolean = () => false,
  ): Promise<Response> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]);
    const response = await fetch(`${this.options.leaderUrl}${path}?${queryString(query)}`, {
      signal,
      headers: peerHeaders(this.options.interNodeToken),
    });
    if (response.status >= 400 && !accepted(response)) {
      const text = await response.text();
      throw new Error(`leader answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return response;
  }

  /** Truncates to where this log and the leader's agree, found by leader epoch. */
  async #truncateToLeader(): Promise<void> {
    const { topic, partition, leaderEpoch } = this.options;
    const log = this.options.log();
    const latest = log.epochs.latestEpoch();
    if (latest === undefined || log.logEndOffset === log.logStartOffset) return;
    const response = await this.#get(
      EPOCH_END_PATH,
      { topic, partition, epoch: latest, leader_epoch: leaderEpoch },
      5000,
    );
    const answer: EpochEndAnswer = epochEndAnswer.parse(await response.json());
    if (this.#stopped) return;
    let target: number;
    if (answer.epoch < 0) target = log.logStartOffset;
    else if (answer.epoch === latest) target = Math.min(answer.endOffset, log.logEndOffset);
    else {
      const ownEnd = log.epochs.endOffsetFor(answer.epoch, log.logEndOffset) ?? log.logStartOffset;
      target = Math.min(answer.endOffset, ownEnd);
    }
    if (target < log.logEndOffset) {
      const before = log.logEndOffset;
      log.truncateTo(target);
      this.options.log_("info", "follower truncated by leader epoch", {
        topic,
        partition,
        from: before,
        to: log.logEndOffset,
        leaderEpoch: answer.epoch,
      });
    }
  }

  async #fetchOnce(): Promise<void> {
    const { topic, partition, selfId, leaderEpoch, fetchMaxWaitMs, fetchMaxBytes } = this.options;
    const log = this.options.log();
    const response = await this.#get(
      REPLICA_FETCH_PATH,
      {
        topic,
        partition,
        offset: log.logEndOffset,
        replica_id: selfId,
        leader_epoch: leaderEpoch,
        high_watermark: log.highWatermark,
        max_bytes: fetchMaxBytes,
        max_wait_ms: fetchMaxWaitMs,
      },
      fetchMaxWaitMs + 5000,
      (answer) =>
        answer.status === OFFSET_OUT_OF_RANGE_STATUS && restartOffsetFor(answer.headers, log) !== undefined,
    );
    if (response.status === OFFSET_OUT_OF_RANGE_STATUS) {
      await response.body?.cancel();
      await this.#startAtLeaderLogStart(log, restartOffsetFor(response.headers, log)!);
      return;
    }
    const body = response.status === 204 ? new Uint8Array(0) : new Uint8Array(await response.arrayBuffer());
    // Past this check nothing yields: a fetcher stopped meanwhile appends nothing.
    if (this.#stopped || this.options.log() !== log) return;
    for (const batch of body.length > 0 ? splitBatches(body) : []) {
      const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
      const baseOffset = Number(view.getBigInt64(0));
      if (baseOffset < log.logEndOffset) continue; // already here (a resent batch)
      log.appendAsFollower(batch);
    }
    const leaderHighWatermark = Number(response.headers.get(REPLICA_HEADERS.highWatermark) ?? 0);
    if (Number.isSafeInteger(leaderHighWatermark))
      log.updateHighWatermark(Math.min(leaderHighWatermark, log.logEndOffset));
    // Whatever the leader's retention dropped goes here too (bounded by this log's high watermark).
    const leaderLogStart = leaderLogStartOf(response.headers);
    if (leaderLogStart !== undefined) log.maybeIncrementLogStartOffset(leaderLogStart);
    this.options.onProgress();
  }

  /** This log ends below the leader's log start: nothing it lacks can be fetched, so it starts over. */
  async #startAtLeaderLogStart(log: PartitionLog, leaderLogStart: number): Promise<void> {
    if (this.#stopped || this.options.log() !== log) return;
    const { topic, partition } = this.options;
    const logEndOffset = log.logEndOffset;
    await this.options.truncateFullyAndStartAt(leaderLogStart);
    this.options.log_("info", "follower below the leader's log start: emptied its log and started it there", {
      topic,
      partition,
      logEndOffset,
      leaderLogStartOffset: leaderLogStart,
    });
    this.options.onProgress();
  }
}
