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
import type { AppendedAt, OffsetsRecord, OffsetsTopic, StoredOffsetsRecord } from "./offsets-topic.ts";

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

/** Records written to the offsets topic, not yet visible: `apply()` makes them so. */
export interface PendingWrite<T> {
  committed: T;
  /** Where the records went; undefined when there were none to write. */
  appended: AppendedAt | undefined;
  apply(): void;
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
    offsets.#replay(topic.readAll(skip), report, skip);
    return { offsets, report };
  }

  /** Starts empty: cluster mode loads each partition when this node comes to lead it. */
  static empty(topic: OffsetsTopic): CommittedOffsets {
    return new CommittedOffsets(topic);
  }

  /**
   * Replays one partition of the offsets topic (Kafka's loadGroupsForPartition); the groups it holds
   * are first forgotten, so what is in memory is exactly what the log says. Returns the groups read.
   */
  loadPartition(partition: number, onSkipped: (error: unknown, where: string) => void): ReplayReport {
    this.unloadPartition(partition);
    const report: ReplayReport = { records: 0, skipped: 0 };
    const skip = (error: unknown, where: string) => {
      report.skipped++;
      onSkipped(error, where);
    };
    this.#replay(this.topic.readPartition(partition, skip), report, skip);
    return report;
  }

  /** Forgets the groups of one partition (this node no longer coordinates them). */
  unloadPartition(partition: number): void {
    for (const groupId of [...this.#byGroup.keys()]) {
      if (this.topic.partitionFor(groupId) === partition) this.#byGroup.delete(groupId);
    }
  }

  #replay(
    records: Iterable<StoredOffsetsRecord>,
    report: ReplayReport,
    skip: (error: unknown, where: string) => void,
  ): void {
    for (const record of records) {
      report.records++;
      try {
        const key = decodeOffsetCommitKey(record.key);
        if (key === undefined) continue;
        this.#apply(key, record.value === null ? null : decodeOffsetCommitValue(record.value));
      } catch (error) {
        skip(error, `__consumer_offsets-${record.partition} offset ${record.offset}`);
      }
    }
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
    input: { offsets: readonly OffsetToCommit[]; commitTimestampMs: number },
  ): CommittedOffset[] {
    const written = this.write(groupId, input);
    written.apply();
    return written.committed;
  }

  /**
   * Writes the offsets as one batch and says where; they become visible only with `apply()`, which
   * cluster mode calls once the offsets partition's ISR has the batch (Kafka's pending offset commits).
   */
  write(
    groupId: string,
    { offsets, commitTimestampMs }: { offsets: readonly OffsetToCommit[]; commitTimestampMs: number },
  ): PendingWrite<CommittedOffset[]> {
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
    const appended = this.topic.append(groupId, records);
    const apply = () => {
      for (const entry of committed) this.#apply({ group: groupId, ...entry }, entry);
    };
    return { committed, appended, apply };
  }

  /** Writes a tombstone for each of the group's offsets, then forgets them; returns how many. */
  deleteGroup(groupId: string): number {
    const written = this.writeDeletion(groupId);
    written.apply();
    return written.committed;
  }

  /** Writes the group's tombstones; `apply()` forgets its offsets (see write). */
  writeDeletion(groupId: string): PendingWrite<number> {
    const offsets = this.of(groupId);
    const keys = offsets.map((entry) => ({ group: groupId, topic: entry.topic, partition: entry.partition }));
    const appended = this.topic.append(
      groupId,
      keys.map((key) => ({ key: encodeOffsetCommitKey(key), value: null })),
    );
    const apply = () => {
      for (const key of keys) this.#apply(key, null);
    };
    return { committed: offsets.length, appended, apply };
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
