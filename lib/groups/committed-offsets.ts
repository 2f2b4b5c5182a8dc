// Every group's committed offsets: kept in memory for reads, written to the offsets topic before memory
// changes, and rebuilt from that topic at startup (the latest record per key wins, a tombstone removes
// the key), the way Kafka's GroupMetadataManager loads its partitions.
import { partitionKey } from "../topics/offset-checkpoint.ts";
import {
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type OffsetCommitKey,
} from "./offset-commit-record.ts";
import type { OffsetsRecord, OffsetsTopic } from "./offsets-topic.ts";

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
  commitTimestampMs: number;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

export interface ReplayReport {
  /** Records read from the offsets topic. */
  records: number;
  /** Records or batches that could not be read and were passed over. */
  skipped: number;
}

export class CommittedOffsets {
  /** group → partitionKey(topic, partition) → offset. */
  readonly #byGroup = new Map<string, Map<string, CommittedOffset>>();

  private constructor(readonly topic: OffsetsTopic) {}

  /** Replays the offsets topic; what it cannot read goes to `onSkipped` and is passed over. */
  static load(
    topic: OffsetsTopic,
    onSkipped: (error: unknown, where: string) => void,
  ): { offsets: CommittedOffsets; report: ReplayReport } {
    const offsets = new CommittedOffsets(topic);
    const report: ReplayReport = { records: 0, skipped: 0 };
    const skip = (error: unknown, where: string) => {
      report.skipped++;
      onSkipped(error, where);
    };
    for (const record of topic.readAll(skip)) {
      report.records++;
      try {
        const key = decodeOffsetCommitKey(record.key);
        if (key === undefined) continue;
        offsets.#apply(key, record.value === null ? null : decodeOffsetCommitValue(record.value));
      } catch (error) {
        skip(error, `__consumer_offsets-${record.partition} offset ${record.offset}`);
      }
    }
    return { offsets, report };
  }

  /** Groups that have at least one committed offset. */
  groups(): string[] {
    return [...this.#byGroup.keys()];
  }

  has(groupId: string): boolean {
    return this.#byGroup.has(groupId);
  }

  /** A group's offsets, by topic and partition. */
  of(groupId: string): CommittedOffset[] {
    return [...(this.#byGroup.get(groupId)?.values() ?? [])].sort(byTopicPartition);
  }

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#byGroup.get(groupId)?.get(partitionKey(topic, partition));
  }

  /** Writes the offsets as one batch, then makes them visible; nothing changes if the write fails. */
  commit(
    groupId: string,
    { offsets, commitTimestampMs }: { offsets: readonly OffsetToCommit[]; commitTimestampMs: number },
  ): CommittedOffset[] {
    const committed = offsets.map((entry) => ({
      topic: entry.topic,
      partition: entry.partition,
      offset: entry.offset,
      metadata: entry.metadata ?? "",
      commitTimestampMs,
    }));
    const records = committed.map(
      (entry): OffsetsRecord => ({
        key: encodeOffsetCommitKey({ group: groupId, ...entry }),
        value: encodeOffsetCommitValue(entry),
      }),
    );
    this.topic.append(groupId, records);
    for (const entry of committed) this.#apply({ group: groupId, ...entry }, entry);
    return committed;
  }

  /** Writes a tombstone for each of the group's offsets, then forgets them; returns how many. */
  deleteGroup(groupId: string): number {
    const offsets = this.of(groupId);
    const keys = offsets.map((entry) => ({ group: groupId, topic: entry.topic, partition: entry.partition }));
    this.topic.append(
      groupId,
      keys.map((key) => ({ key: encodeOffsetCommitKey(key), value: null })),
    );
    this.#byGroup.delete(groupId);
    return offsets.length;
  }

  #apply(key: OffsetCommitKey, value: Omit<CommittedOffset, "topic" | "partition"> | null): void {
    const mapKey = partitionKey(key.topic, key.partition);
    let group = this.#byGroup.get(key.group);
    if (value === null) {
      group?.delete(mapKey);
      if (group?.size === 0) this.#byGroup.delete(key.group);
      return;
    }
    if (group === undefined) {
      group = new Map();
      this.#byGroup.set(key.group, group);
    }
    const { offset, metadata, commitTimestampMs } = value;
    group.set(mapKey, { topic: key.topic, partition: key.partition, offset, metadata, commitTimestampMs });
  }
}

export function byTopicPartition(
  a: { topic: string; partition: number },
  b: { topic: string; partition: number },
): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}
