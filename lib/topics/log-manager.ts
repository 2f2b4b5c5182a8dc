// Owns a data directory: its topics and their partition logs, the topic metadata file, the
// recovery-point checkpoint, the clean-shutdown marker and the background retention and compaction.
//
// Layout (a Kafka log dir, plus Sluice's topic metadata):
//   <dataDir>/topics.json                         topic names, partition counts, configs
//   <dataDir>/<topic>-<partition>/                one partition log (segments, indexes, epochs)
//   <dataDir>/recovery-point-offset-checkpoint    offsets below which each log was fsynced
//   <dataDir>/cleaner-offset-checkpoint           where each compacted log's last cleaning pass ended
//   <dataDir>/.kafka_cleanshutdown                present only while the node is stopped cleanly
import { z } from "zod";
import { assert } from "../assert.ts";
import { type Clock, systemClock } from "../clock.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import {
  PARTITIONS_PER_TOPIC_MAX,
  RETENTION_CHECK_INTERVAL_MS_DEFAULT,
  TOPIC_NAME_LENGTH_MAX,
} from "../limits.ts";
import { cleanLog, needsCleaning } from "../log/cleaner.ts";
import { PartitionLog, type RecoveryReport, type SegmentInfo } from "../log/partition-log.ts";
import { FileStorage } from "../storage/file-storage.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { partitionKey, readOffsetCheckpoint, writeOffsetCheckpoint } from "./offset-checkpoint.ts";
import { parseTopicConfig, type TopicConfig, type TopicConfigInput, toLogConfig } from "./topic-config.ts";

export const TOPICS_FILE = "topics.json";
export const RECOVERY_POINT_FILE = "recovery-point-offset-checkpoint";
export const CLEANER_CHECKPOINT_FILE = "cleaner-offset-checkpoint";
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";
const METADATA_VERSION = 1;

/** Kafka's legal topic names: ASCII letters, digits, '.', '_' and '-'; not "." or "..". */
const TOPIC_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

/** Where consumer groups keep their committed offsets (lib/groups/offsets-topic.ts), as in Kafka. */
export const CONSUMER_OFFSETS_TOPIC = "__consumer_offsets";

/**
 * Topics Sluice keeps for itself (Kafka's Topic.isInternal). Only Sluice creates or deletes them: a
 * user-made `__consumer_offsets` would hold records the group coordinator cannot read, and deleting it
 * would lose every committed offset at the next restart.
 */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([CONSUMER_OFFSETS_TOPIC]);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

const topicsFileSchema = z.object({
  version: z.literal(METADATA_VERSION),
  topics: z.array(
    z.object({
      name: z.string(),
      partitions: z.number().int().positive(),
      config: z.record(z.string(), z.unknown()),
      createdMs: z.number(),
    }),
  ),
});

export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  segmentCount: number;
  sizeBytes: number;
  segments: SegmentInfo[];
  /** Cluster mode: the partition's leader (null: none now), leader epoch, replicas and ISR, by node id. */
  replication?: {
    leader: number | null;
    leaderEpoch: number;
    replicas: number[];
    isr: number[];
    addingReplicas: number[];
    removingReplicas: number[];
    /** The node whose log the offsets and segments describe (the leader's, when it answered). */
    offsetsFrom: number;
  };
}

export interface TopicDescription {
  name: string;
  partitions: PartitionDescription[];
  config: TopicConfig;
  createdMs: number;
}

export interface TopicSummary {
  name: string;
  partitions: number;
  sizeBytes: number;
}

export interface PartitionRecovery {
  topic: string;
  partition: number;
  report: RecoveryReport;
}

export interface CleanerRunSummary {
  /** Partitions a pass ran over. */
  partitionsCleaned: number;
  recordsRemoved: number;
  /** Bytes the swapped-in segments saved. */
  bytesRemoved: number;
}

export interface LogManagerOptions {
  dataDir: string;
  storage?: Storage;
  clock?: Clock;
  retentionCheckIntervalMs?: number;
  /** How often the recovery-point checkpoint is written (Kafka: 60 s). */
  recoveryCheckpointIntervalMs?: number;
  /**
   * Told about failures of background work (retention, checkpoints), which runs on timers with no
   * caller to throw to; the work is retried at its next interval. Defaults to console.error.
   */
  onBackgroundError?: (error: unknown, work: string) => void;
}

interface Topic {
  name: string;
  config: TopicConfig;
  /** The config as the user gave it (without defaults), so changed defaults reach old topics. */
  configInput: Record<string, unknown>;
  createdMs: number;
  logs: PartitionLog[];
}

export class LogManager {
  readonly #topics = new Map<string, Topic>();
  readonly #cancelTimers: Array<() => void> = [];
  /** Per partition (partitionKey): where its last cleaning pass ended; kept once a log was compacted. */
  readonly #cleanerCheckpoints = new Map<string, number>();
  #cleaning: Promise<CleanerRunSummary> | undefined;
  #closed = false;
  readonly recovery: { cleanShutdown: boolean; partitions: PartitionRecovery[] };

  private constructor(
    readonly dataDir: string,
    readonly storage: Storage,
    readonly clock: Clock,
    readonly options: LogManagerOptions,
  ) {
    storage.mkdirp(dataDir);
    const markerPath = joinPath(dataDir, CLEAN_SHUTDOWN_FILE);
    const cleanShutdown = storage.exists(markerPath);
    this.recovery = { cleanShutdown, partitions: [] };
    this.#loadTopics(cleanShutdown);
    // From here on the node is running: a crash must not look like a clean stop. Writing the
    // checkpoint next syncs the directory, which makes the marker's removal durable too.
    storage.remove(markerPath);
    this.writeRecoveryCheckpoint();
    this.#scheduleRetention();
    this.#scheduleRecoveryCheckpoint();
  }

  static open(options: LogManagerOptions): LogManager {
    return new LogManager(
      options.dataDir,
      options.storage ?? new FileStorage(),
      options.clock ?? systemClock,
      options,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Topics

  createTopic(
    name: string,
    /** internal: Sluice creating one of its own topics, the only way an internal name is accepted. */
    options: { partitions?: number; config?: TopicConfigInput; internal?: boolean } = {},
  ): TopicDescription {
    this.#checkOpen();
    validateTopicName(name);
    assert(!options.internal || isInternalTopic(name), `${name} is not an internal topic`);
    if (isInternalTopic(name) && !options.internal) {
      throw new SluiceError("INVALID_TOPIC_NAME", `topic name "${name}" is reserved for Sluice's own use`, {
        field: "name",
      });
    }
    const partitions = options.partitions ?? 1;
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > PARTITIONS_PER_TOPIC_MAX) {
      throw new SluiceError(
        "INVALID_PARTITIONS",
        `partitions must be 1 to ${PARTITIONS_PER_TOPIC_MAX}, not ${partitions}`,
        {
          field: "partitions",
        },
      );
    }
    if (this.#topics.has(name))
      throw new SluiceError("TOPIC_ALREADY_EXISTS", `topic "${name}" already exists`, { field: "name" });
    const configInput = { ...(options.config ?? {}) } as Record<string, unknown>;
    const config = parseTopicConfig(configInput);
    const topic: Topic = { name, config, configInput, createdMs: this.clock.nowMs(), logs: [] };
    try {
      for (let p = 0; p < partitions; p++) {
        // A directory left by an earlier topic of the same name that was not fully deleted goes first.
        this.storage.remove(this.#partitionDir(name, p));
        this.#cleanerCheckpoints.delete(partitionKey(name, p));
        topic.logs.push(this.#openLog(topic, p, { cleanShutdown: true }).log);
      }
      this.#saveTopics([...this.#topics.values(), topic]);
    } catch (error) {
      // Not in the metadata, so nothing of it may stay: a full disk must not leave half a topic.
      this.#removeTopicFiles(topic);
      throw error;
    }
    this.#topics.set(name, topic);
    return this.describeTopic(name);
  }

  deleteTopic(name: string): void {
    this.#checkOpen();
    const topic = this.#topic(name);
    if (isInternalTopic(name))
      throw new SluiceError("TOPIC_IS_INTERNAL", `topic "${name}" is Sluice's own and cannot be deleted`);
    // Metadata first: if we crash halfway, the leftover directories belong to no topic and are
    // removed on the next start. If the metadata cannot be written, the topic stays whole.
    this.#saveTopics([...this.#topics.values()].filter((other) => other !== topic));
    this.#topics.delete(name);
    this.#removeTopicFiles(topic);
    for (const p of topic.logs.keys()) this.#cleanerCheckpoints.delete(partitionKey(name, p));
  }

  #removeTopicFiles(topic: Topic): void {
    for (const [p, log] of topic.logs.entries()) {
      log.closeWithoutFlush();
      this.storage.remove(this.#partitionDir(topic.name, p));
    }
  }

  alterTopicConfig(name: string, changes: Record<string, unknown>): TopicDescription {
    this.#checkOpen();
    const topic = this.#topic(name);
    const configInput = { ...topic.configInput };
    for (const [key, value] of Object.entries(changes)) {
      // null removes an override so the key goes back to its default.
      if (value === null) delete configInput[key];
      else configInput[key] = value;
    }
    const config = parseTopicConfig(configInput);
    this.#saveTopics(
      [...this.#topics.values()].map((other) => (other === topic ? { ...topic, configInput } : other)),
    );
    topic.config = config;
    topic.configInput = configInput;
    for (const log of topic.logs) log.config = toLogConfig(config);
    return this.describeTopic(name);
  }

  listTopics(): TopicSummary[] {
    return [...this.#topics.values()]
      .map((topic) => ({
        name: topic.name,
        partitions: topic.logs.length,
        sizeBytes: topic.logs.reduce((sum, log) => sum + log.sizeBytes, 0),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  describeTopic(name: string): TopicDescription {
    const topic = this.#topic(name);
    return {
      name,
      config: topic.config,
      createdMs: topic.createdMs,
      partitions: topic.logs.map((log, partition) => ({
        partition,
        logStartOffset: log.logStartOffset,
        logEndOffset: log.logEndOffset,
        highWatermark: log.highWatermark,
        segmentCount: log.segments.length,
        sizeBytes: log.sizeBytes,
        segments: log.describeSegments(),
      })),
    };
  }

  hasTopic(name: string): boolean {
    return this.#topics.has(name);
  }

  /** The log of one partition; UNKNOWN_TOPIC_OR_PARTITION when there is none. */
  partition(topicName: string, partition: number): PartitionLog {
    const topic = this.#topic(topicName);
    const log = Number.isSafeInteger(partition) ? topic.logs[partition] : undefined;
    if (log === undefined) {
      throw new SluiceError(
        "UNKNOWN_TOPIC_OR_PARTITION",
        `topic "${topicName}" has no partition ${partition} (it has ${topic.logs.length})`,
        { field: "partition" },
      );
    }
    return log;
  }

  partitionCount(topicName: string): number {
    return this.#topic(topicName).logs.length;
  }

  #topic(name: string): Topic {
    const topic = this.#topics.get(name);
    if (topic === undefined) {
      throw new SluiceError("UNKNOWN_TOPIC_OR_PARTITION", `topic "${name}" does not exist`, {
        field: "topic",
      });
    }
    return topic;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError("LOG_CLOSED", "the log manager is closed");
  }

  // -------------------------------------------------------------------------------------------
  // Background work

  /**
   * Runs retention over every partition once; returns what it deleted. A partition whose storage
   * fails is reported through onBackgroundError and skipped, so the others still get their turn.
   */
  runRetention(): { deletedSegments: number; deletedBytes: number } {
    let deletedSegments = 0;
    let deletedBytes = 0;
    for (const topic of this.#topics.values()) {
      for (const [p, log] of topic.logs.entries()) {
        try {
          const result = log.deleteRetainedSegments();
          deletedSegments += result.deletedSegments;
          deletedBytes += result.deletedBytes;
        } catch (error) {
          this.#reportBackgroundError(error, `retention of ${topic.name}-${p}`);
        }
      }
    }
    return { deletedSegments, deletedBytes };
  }

  #reportBackgroundError(error: unknown, work: string): void {
    if (this.options.onBackgroundError) this.options.onBackgroundError(error, work);
    else console.error(`sluice: ${work} failed:`, error);
  }

  #scheduleRetention(): void {
    this.#every(
      this.options.retentionCheckIntervalMs ?? RETENTION_CHECK_INTERVAL_MS_DEFAULT,
      "retention",
      () => {
        this.runRetention();
        // Cleaning goes on in the background, a slice at a time; a run still going is not restarted.
        this.runCleaner().catch((error) => this.#reportBackgroundError(error, "log cleaning"));
      },
    );
  }

  /**
   * One cleaning pass (lib/log/cleaner.ts) over each compacted partition whose dirty ratio reached its
   * min.cleanable.dirty.ratio, one partition after another, saving where each pass ended in the
   * cleaner checkpoint so a restart does not clean everything again. It works in slices, so appends go
   * on meanwhile; a call while a run is under way joins that run. A partition whose pass fails is
   * reported through onBackgroundError and retried at the next run.
   */
  runCleaner(): Promise<CleanerRunSummary> {
    this.#cleaning ??= this.#clean().finally(() => {
      this.#cleaning = undefined;
    });
    return this.#cleaning;
  }

  async #clean(): Promise<CleanerRunSummary> {
    const summary: CleanerRunSummary = { partitionsCleaned: 0, recordsRemoved: 0, bytesRemoved: 0 };
    for (const topic of [...this.#topics.values()]) {
      for (const [p, log] of topic.logs.entries()) {
        const key = partitionKey(topic.name, p);
        const checkpoint = this.#cleanerCheckpoints.get(key) ?? 0;
        if (this.#closed || !needsCleaning(log, checkpoint)) continue;
        try {
          const result = await cleanLog(log, { checkpoint, shouldStop: () => this.#closed });
          if (this.#topics.get(topic.name) !== topic) continue; // deleted while it was being cleaned
          summary.partitionsCleaned++;
          summary.recordsRemoved += result.recordsRemoved;
          summary.bytesRemoved += result.bytesBefore - result.bytesAfter;
          this.#cleanerCheckpoints.set(key, result.checkpoint);
          this.#writeCleanerCheckpoint();
        } catch (error) {
          // A topic deleted under its pass takes the pass's files with it: nothing went wrong.
          if (this.#topics.get(topic.name) === topic)
            this.#reportBackgroundError(error, `cleaning of ${topic.name}-${p}`);
        }
      }
    }
    return summary;
  }

  #writeCleanerCheckpoint(): void {
    writeOffsetCheckpoint(
      this.storage,
      joinPath(this.dataDir, CLEANER_CHECKPOINT_FILE),
      this.#cleanerCheckpoints,
    );
  }

  #scheduleRecoveryCheckpoint(): void {
    this.#every(this.options.recoveryCheckpointIntervalMs ?? 60_000, "recovery-point checkpoint", () =>
      this.writeRecoveryCheckpoint(),
    );
  }

  /** Runs `work` every `intervalMs` on the injected clock until close; a failure does not stop it. */
  #every(intervalMs: number, name: string, work: () => void): void {
    const tick = () => {
      if (this.#closed) return;
      try {
        work();
      } catch (error) {
        this.#reportBackgroundError(error, name);
      }
      this.#cancelTimers[index] = this.clock.setTimer(tick, intervalMs);
    };
    const index = this.#cancelTimers.length;
    this.#cancelTimers.push(this.clock.setTimer(tick, intervalMs));
  }

  /** Records each log's fsynced offset so the next unclean start scans only past it. */
  writeRecoveryCheckpoint(): void {
    const offsets = new Map<string, number>();
    for (const topic of this.#topics.values()) {
      for (const [p, log] of topic.logs.entries())
        offsets.set(partitionKey(topic.name, p), log.recoveryPoint);
    }
    writeOffsetCheckpoint(this.storage, joinPath(this.dataDir, RECOVERY_POINT_FILE), offsets);
  }

  /**
   * Empties a partition's log and starts it at `offset` (a follower below its leader's log start),
   * then writes the recovery-point checkpoint at once, as Kafka does: a stale recovery point above
   * the new log's start would let an unclean restart trust segments that were never synced.
   */
  async truncateFullyAndStartAt(topicName: string, partition: number, offset: number): Promise<void> {
    await this.partition(topicName, partition).truncateFullyAndStartAt(offset);
    this.writeRecoveryCheckpoint();
  }

  /** Flushes every log (group commit per partition). */
  async flushAll(): Promise<void> {
    await Promise.all([...this.#topics.values()].flatMap((topic) => topic.logs.map((log) => log.flush())));
  }

  /**
   * Flushes and closes every log, then marks the directory as cleanly shut down. When a log cannot be
   * flushed (its storage failed) every log is still closed, but the marker is not written, so the next
   * start recovers, and the first failure is thrown.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const cancel of this.#cancelTimers) cancel();
    // A cleaning pass stops at its next slice; its files must not be closed under it.
    await this.#cleaning?.catch(() => undefined);
    const closes = await Promise.allSettled(
      [...this.#topics.values()].flatMap((topic) => topic.logs.map((log) => log.close())),
    );
    this.writeRecoveryCheckpoint();
    const failure = closes.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    this.storage.writeFileAtomic(joinPath(this.dataDir, CLEAN_SHUTDOWN_FILE), new Uint8Array(0));
  }

  // -------------------------------------------------------------------------------------------
  // Metadata

  #partitionDir(topic: string, partition: number): string {
    return joinPath(this.dataDir, `${topic}-${partition}`);
  }

  #openLog(
    topic: Topic,
    partition: number,
    options: { cleanShutdown: boolean; recoveryPoint?: number; wasCompacted?: boolean },
  ) {
    return PartitionLog.open({
      storage: this.storage,
      dir: this.#partitionDir(topic.name, partition),
      config: toLogConfig(topic.config),
      clock: this.clock,
      cleanShutdown: options.cleanShutdown,
      recoveryPoint: options.recoveryPoint ?? 0,
      wasCompacted: options.wasCompacted ?? false,
    });
  }

  #loadTopics(cleanShutdown: boolean): void {
    const bytes = this.storage.readFile(joinPath(this.dataDir, TOPICS_FILE));
    if (bytes === undefined) return;
    const malformed = (why: string) =>
      new SluiceError("STORAGE_ERROR", `${TOPICS_FILE} in ${this.dataDir} is malformed: ${why}`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw malformed(error instanceof Error ? error.message : String(error));
    }
    const parsed = topicsFileSchema.safeParse(json);
    if (!parsed.success) throw malformed(parsed.error.message);
    const recoveryPoints = readOffsetCheckpoint(this.storage, joinPath(this.dataDir, RECOVERY_POINT_FILE));
    this.#loadCleanerCheckpoint();
    for (const entry of parsed.data.topics) {
      const topic: Topic = {
        name: entry.name,
        config: parseTopicConfig(entry.config),
        configInput: entry.config,
        createdMs: entry.createdMs,
        logs: [],
      };
      for (let p = 0; p < entry.partitions; p++) {
        const key = partitionKey(entry.name, p);
        const { log, recovery } = this.#openLog(topic, p, {
          cleanShutdown,
          recoveryPoint: recoveryPoints.get(key) ?? 0,
          wasCompacted: this.#cleanerCheckpoints.has(key),
        });
        topic.logs.push(log);
        this.recovery.partitions.push({ topic: entry.name, partition: p, report: recovery });
      }
      this.#topics.set(entry.name, topic);
    }
    this.#removeOrphanDirectories();
    for (const key of this.#cleanerCheckpoints.keys()) {
      const [name, partition] = key.split(" ");
      if (Number(partition) >= (this.#topics.get(name!)?.logs.length ?? 0))
        this.#cleanerCheckpoints.delete(key);
    }
  }

  /**
   * The cleaner checkpoint, read before the logs open. Unlike the recovery point it is only a saving:
   * when it is unreadable every compacted log is simply cleaned again from its start, as in Kafka.
   */
  #loadCleanerCheckpoint(): void {
    try {
      const path = joinPath(this.dataDir, CLEANER_CHECKPOINT_FILE);
      for (const [key, offset] of readOffsetCheckpoint(this.storage, path))
        this.#cleanerCheckpoints.set(key, offset);
    } catch (error) {
      if (!isSluiceError(error)) throw error;
      this.#reportBackgroundError(error, "reading the cleaner checkpoint");
    }
  }

  /** Partition directories of topics that no longer exist (a delete interrupted by a crash). */
  #removeOrphanDirectories(): void {
    for (const { name, isDirectory } of this.storage.list(this.dataDir)) {
      const match = /^(.+)-(\d+)$/.exec(name);
      if (!isDirectory || !match) continue;
      const topic = this.#topics.get(match[1]!);
      if (topic === undefined || Number(match[2]) >= topic.logs.length)
        this.storage.remove(joinPath(this.dataDir, name));
    }
  }

  /** Writes `topics` as the metadata; callers change memory only once this succeeded. */
  #saveTopics(topics: Array<Pick<Topic, "name" | "logs" | "configInput" | "createdMs">>): void {
    const file = {
      version: METADATA_VERSION,
      topics: topics.map((topic) => ({
        name: topic.name,
        partitions: topic.logs.length,
        config: topic.configInput,
        createdMs: topic.createdMs,
      })),
    };
    this.storage.writeFileAtomic(
      joinPath(this.dataDir, TOPICS_FILE),
      new TextEncoder().encode(`${JSON.stringify(file, null, 2)}\n`),
    );
  }
}

export function validateTopicName(name: unknown): asserts name is string {
  const fail = (why: string) =>
    new SluiceError("INVALID_TOPIC_NAME", `topic name ${JSON.stringify(name)} ${why}`, { field: "name" });
  if (typeof name !== "string" || name.length === 0) throw fail("must be a non-empty string");
  if (name.length > TOPIC_NAME_LENGTH_MAX) throw fail(`is longer than ${TOPIC_NAME_LENGTH_MAX} characters`);
  if (name === "." || name === "..") throw fail("is reserved");
  if (!TOPIC_NAME_PATTERN.test(name)) throw fail("may contain only ASCII letters, digits, '.', '_' and '-'");
}
