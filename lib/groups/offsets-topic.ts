// The internal compacted topic `__consumer_offsets`, where committed offsets live as they do in Kafka:
// created on first use, each group's records in one partition chosen as Kafka's coordinator chooses it,
// records appended as RecordBatch v2 like any other, and read back from the log start to rebuild the
// committed offsets at startup. Compaction (cleanup.policy=compact) keeps the latest record per key, so
// the topic stays about as large as the offsets it holds.
import { splitBatches } from "../gateway/batch-frames.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import { decodeRecords, encodeBatch, isControlBatch, readBatchHeader } from "../log/record-batch.ts";
import { CONSUMER_OFFSETS_TOPIC, type LogManager } from "../topics/log-manager.ts";
import {
  OFFSETS_PER_COMMIT_MAX,
  OFFSETS_REPLAY_READ_BYTES,
  OFFSETS_TOPIC_MAX_MESSAGE_BYTES,
  OFFSETS_TOPIC_SEGMENT_BYTES,
} from "./limits.ts";

/**
 * Partitions of the offsets topic when Sluice creates it. Kafka's offsets.topic.num.partitions is 50 so
 * that coordination spreads over the brokers of a large cluster (a partition's leader coordinates its
 * groups). On one edge box partitions buy no parallelism (one thread coordinates every group) and each
 * costs a directory, three open files and its share of the startup replay; 4 is enough to share the
 * coordinators out among the few boxes a replicated Sluice will have, and costs next to nothing alone.
 * A topic that exists keeps its own count, so changing this never moves a group's records.
 */
export const OFFSETS_TOPIC_PARTITIONS = 4;

/** Kafka's settings for its offsets topic, with the sizes an edge box wants (lib/groups/limits.ts). */
export const OFFSETS_TOPIC_CONFIG = {
  "cleanup.policy": "compact",
  "segment.bytes": OFFSETS_TOPIC_SEGMENT_BYTES,
  "max.message.bytes": OFFSETS_TOPIC_MAX_MESSAGE_BYTES,
} as const;

/** One record to append: a commit, or a tombstone (value null). */
export interface OffsetsRecord {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** Where an append ended: the partition and the offset of its last record. */
export interface AppendedAt {
  partition: number;
  lastOffset: number;
}

/** A record read back, with where it was. */
export interface StoredOffsetsRecord extends OffsetsRecord {
  partition: number;
  offset: number;
}

/** Java's String.hashCode: s[0]·31^(n-1) + … + s[n-1] over UTF-16 code units, in int32 arithmetic. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The partition holding a group's records: Kafka's GroupMetadataManager.partitionFor,
 * Utils.abs(groupId.hashCode) % partitionCount (Utils.abs maps int32 min to 0). This is Java's
 * String.hashCode, not the murmur2 the producer's partitioner uses; with the same partition count a
 * group lands on the same partition number as in Kafka.
 */
export function offsetsPartitionFor(groupId: string, partitionCount: number): number {
  const hash = javaStringHash(groupId);
  const positive = hash === -0x8000_0000 ? 0 : Math.abs(hash);
  return positive % partitionCount;
}

export class OffsetsTopic {
  constructor(readonly logs: LogManager) {}

  get exists(): boolean {
    return this.logs.hasTopic(CONSUMER_OFFSETS_TOPIC);
  }

  /**
   * Appends a group's records to its partition, creating the topic first if this is the first write.
   * Up to OFFSETS_PER_COMMIT_MAX records go in one batch, which lands whole or not at all; more (a
   * group's tombstones) take several batches, appended without yielding.
   */
  append(groupId: string, records: readonly OffsetsRecord[]): AppendedAt | undefined {
    if (records.length === 0) return undefined;
    const log = this.#partitionOf(groupId);
    const timestampMs = this.logs.clock.nowMs();
    let lastOffset = -1;
    for (let start = 0; start < records.length; start += OFFSETS_PER_COMMIT_MAX) {
      const chunk = records.slice(start, start + OFFSETS_PER_COMMIT_MAX);
      lastOffset = log.appendSync(encodeBatch(chunk, { timestampMs })).lastOffset;
    }
    return { partition: this.partitionFor(groupId), lastOffset };
  }

  /** Partitions of the topic: its own count once it exists, the count it will be created with before. */
  get partitionCount(): number {
    return this.exists ? this.logs.partitionCount(CONSUMER_OFFSETS_TOPIC) : OFFSETS_TOPIC_PARTITIONS;
  }

  /** The partition holding the group's records (and whose leader coordinates it in cluster mode). */
  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.partitionCount);
  }

  /** Every record of one partition, from its log start, in log order (a new coordinator's load). */
  *readPartition(partition: number, onSkipped: (error: unknown, where: string) => void) {
    if (!this.exists || partition >= this.logs.partitionCount(CONSUMER_OFFSETS_TOPIC)) return;
    yield* readPartition(this.logs.partition(CONSUMER_OFFSETS_TOPIC, partition), { partition, onSkipped });
  }

  /**
   * Every record of every partition, from each log's start, in log order per partition. A batch that
   * cannot be decoded (the topic was written by something other than Sluice) is passed to `onSkipped`
   * and the replay goes on past it.
   */
  *readAll(onSkipped: (error: unknown, where: string) => void): Generator<StoredOffsetsRecord> {
    if (!this.exists) return;
    const partitions = this.logs.partitionCount(CONSUMER_OFFSETS_TOPIC);
    for (let partition = 0; partition < partitions; partition++) {
      const log = this.logs.partition(CONSUMER_OFFSETS_TOPIC, partition);
      yield* readPartition(log, { partition, onSkipped });
    }
  }

  #partitionOf(groupId: string): PartitionLog {
    if (!this.exists) {
      this.logs.createTopic(CONSUMER_OFFSETS_TOPIC, {
        partitions: OFFSETS_TOPIC_PARTITIONS,
        config: OFFSETS_TOPIC_CONFIG,
        internal: true,
      });
    }
    const partitionCount = this.logs.partitionCount(CONSUMER_OFFSETS_TOPIC);
    return this.logs.partition(CONSUMER_OFFSETS_TOPIC, offsetsPartitionFor(groupId, partitionCount));
  }
}

function* readPartition(
  log: PartitionLog,
  { partition, onSkipped }: { partition: number; onSkipped: (error: unknown, where: string) => void },
): Generator<StoredOffsetsRecord> {
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { slice } = log.read(offset, { maxBytes: OFFSETS_REPLAY_READ_BYTES, upTo: "log-end" });
    if (slice === undefined) break;
    for (const batch of splitBatches(log.readSliceBytes(slice))) {
      const header = readBatchHeader(batch);
      if (isControlBatch(header)) continue;
      let records: ReturnType<typeof decodeRecords>;
      try {
        records = decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
      } catch (error) {
        onSkipped(error, `${CONSUMER_OFFSETS_TOPIC}-${partition} batch at offset ${header.baseOffset}`);
        continue;
      }
      for (const record of records) {
        // A compacted log's first batch may start before the offset asked for.
        if (record.offset < offset || record.key === null) continue;
        yield { partition, offset: record.offset, key: record.key, value: record.value };
      }
    }
    offset = slice.lastOffset + 1;
  }
}
