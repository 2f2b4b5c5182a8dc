// Kafka's ListOffsets for one partition: the earliest offset, the latest, or the first offset whose
// record is at least as late as a timestamp.
import type { PartitionLog } from "../log/partition-log.ts";
import { NO_TIMESTAMP } from "../log/record-batch.ts";

export type OffsetSpec = "earliest" | "latest" | { timestampMs: number };

export interface ListedOffset {
  offset: number;
  /** The found record's timestamp (by-time lookups only); -1 when no record is that late. */
  timestamp?: number;
}

export function listOffset(log: PartitionLog, at: OffsetSpec): ListedOffset {
  if (at === "earliest") return { offset: log.logStartOffset };
  // What a consumer may read up to; on a single node the high watermark is the log end.
  if (at === "latest") return { offset: log.highWatermark };
  // No record that late: the offset the next record will get, with no timestamp, which is where
  // Kafka's tools (reset-offsets --to-datetime) land when ListOffsets finds nothing.
  return log.offsetForTimestamp(at.timestampMs) ?? { offset: log.logEndOffset, timestamp: NO_TIMESTAMP };
}
