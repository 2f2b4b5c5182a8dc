// A group's partitions as describe shows them: every partition it has committed or been assigned, with
// the member consuming it, the committed offset, the log end offset and the lag between them (Kafka's
// kafka-consumer-groups --describe columns).
import { byTopicPartition, type CommittedOffset } from "./committed-offsets.ts";
import type { MemberDescription } from "./consumer-group.ts";

export interface GroupPartitionDescription {
  topic: string;
  partition: number;
  /** The member it is assigned to, null when none is. */
  memberId: string | null;
  /** null when the group has committed nothing for it. */
  committedOffset: number | null;
  /** null when the topic or partition no longer exists. */
  logEndOffset: number | null;
  /** max(0, logEndOffset − committedOffset); null when either is unknown. */
  lag: number | null;
}

export function describePartitions(
  committed: readonly CommittedOffset[],
  options: {
    members: readonly MemberDescription[];
    logEndOffsetOf: (topic: string, partition: number) => number | null;
  },
): GroupPartitionDescription[] {
  const { members, logEndOffsetOf } = options;
  const rows = new Map<string, GroupPartitionDescription>();
  const rowOf = (topic: string, partition: number) => {
    const key = `${topic} ${partition}`;
    let row = rows.get(key);
    if (row === undefined) {
      const logEndOffset = logEndOffsetOf(topic, partition);
      row = { topic, partition, memberId: null, committedOffset: null, logEndOffset, lag: null };
      rows.set(key, row);
    }
    return row;
  };
  for (const entry of committed) {
    const row = rowOf(entry.topic, entry.partition);
    row.committedOffset = entry.offset;
    if (row.logEndOffset !== null) row.lag = Math.max(0, row.logEndOffset - entry.offset);
  }
  for (const member of members) {
    for (const { topic, partitions } of member.assignment) {
      for (const partition of partitions) rowOf(topic, partition).memberId = member.memberId;
    }
  }
  return [...rows.values()].sort(byTopicPartition);
}
