// The settings one partition log runs with, in memory units. Users set them per topic under Kafka's
// names (lib/topics/topic-config.ts maps those names to these fields).
import type { TimestampType } from "./record-batch.ts";

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
}
