// The settings one partition log runs with, in memory units. Users set them per topic under Kafka's
// names (lib/topics/topic-config.ts maps those names to these fields).
import type { TimestampType } from "./record-batch.ts";

/** Kafka's cleanup.policy: delete old segments, keep the latest record per key, or both. */
export type CleanupPolicy = "delete" | "compact" | "compact,delete";

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  /** Milliseconds; -1 keeps data forever. */
  retentionMs: number;
  /** Bytes per partition; -1 means no size bound. */
  retentionBytes: number;
  maxMessageBytes: number;
  indexIntervalBytes: number;
  /** fsync after this many records since the last one; Number.MAX_SAFE_INTEGER leaves it to the OS. */
  flushMessages: number;
  /** fsync when the oldest unsynced append is this old; Number.MAX_SAFE_INTEGER leaves it to the OS. */
  flushMs: number;
  messageTimestampType: TimestampType;
  /** "producer" keeps each batch's codec; anything else recompresses batches that differ. */
  compressionType: "producer" | "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /** How long deleted segment files linger (renamed `.deleted`) before removal. */
  fileDeleteDelayMs: number;
  cleanupPolicy: CleanupPolicy;
  /** Compaction starts once dirty bytes / cleanable bytes reaches this (Kafka's default 0.5). */
  minCleanableDirtyRatio: number;
  /** How long a tombstone (null value) outlives the newest record of its segment. */
  deleteRetentionMs: number;
  /** Records younger than this are never compacted. */
  minCompactionLagMs: number;
}

/** Whether the log keeps only the latest record per key (cleanup.policy has compact). */
export function isCompacted(config: Pick<LogConfig, "cleanupPolicy">): boolean {
  return config.cleanupPolicy !== "delete";
}

/** Whether retention.ms and retention.bytes delete whole segments (cleanup.policy has delete). */
export function deletesOldSegments(config: Pick<LogConfig, "cleanupPolicy">): boolean {
  return config.cleanupPolicy !== "compact";
}
