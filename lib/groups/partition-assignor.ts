// What a server-side partition assignor is: given the members' subscriptions and each topic's partition
// count, which partitions each member consumes. Assignors are pure and deterministic: the same members
// and partitions give the same assignment, whatever order they are passed in.
export interface MemberSubscription {
  memberId: string;
  topics: readonly string[];
}

export interface TopicPartitions {
  topic: string;
  /** Ascending. */
  partitions: number[];
}

/** Member id → its partitions, topics in name order; every member has an entry, maybe empty. */
export type GroupAssignment = Map<string, TopicPartitions[]>;

export interface PartitionAssignor {
  /** Kafka's protocol name for it: "range", "roundrobin". */
  readonly name: string;
  /** `partitionCount(topic)` is 0 for a topic that does not exist: it has nothing to assign. */
  assign(members: readonly MemberSubscription[], partitionCount: (topic: string) => number): GroupAssignment;
}

/** What a dealing rule works with: the members by id, the subscribed topics by name, and a pick. */
export interface Deal {
  members: readonly MemberSubscription[];
  topics: readonly string[];
  partitionCount: (topic: string) => number;
  /** Hands a partition to a member. */
  pick: (memberId: string, partition: { topic: string; partition: number }) => void;
}

/**
 * An assignor from its dealing rule. The rule sees the members sorted by id and the subscribed topics
 * in name order, as Kafka's assignors do, so the input order never matters, and picks partitions;
 * what it picks is gathered into a sorted assignment with an entry for every member.
 */
export function assignorOf(name: string, deal: (deal: Deal) => void): PartitionAssignor {
  return {
    name,
    assign(members, partitionCount) {
      const sorted = [...members].sort((a, b) =>
        a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
      );
      const builder = new AssignmentBuilder(sorted);
      deal({
        members: sorted,
        topics: subscribedTopics(sorted),
        partitionCount,
        pick: (memberId, picked) => builder.add(memberId, picked),
      });
      return builder.build();
    },
  };
}

/** Every topic some member subscribes to, in name order. */
export function subscribedTopics(members: readonly MemberSubscription[]): string[] {
  return [...new Set(members.flatMap((member) => member.topics))].sort();
}

/** Collects (member, topic, partition) picks into an assignment, sorted, with an entry per member. */
class AssignmentBuilder {
  readonly #picks = new Map<string, Map<string, number[]>>();

  constructor(members: readonly MemberSubscription[]) {
    for (const member of members) this.#picks.set(member.memberId, new Map());
  }

  add(memberId: string, { topic, partition }: { topic: string; partition: number }): void {
    const topics = this.#picks.get(memberId)!;
    const partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, [partition]);
    else partitions.push(partition);
  }

  build(): GroupAssignment {
    const assignment: GroupAssignment = new Map();
    for (const [memberId, topics] of this.#picks) {
      const list = [...topics.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
      assignment.set(memberId, list);
    }
    return assignment;
  }
}
