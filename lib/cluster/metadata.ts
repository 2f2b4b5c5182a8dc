// What the cluster keeps in etcd, under one prefix (etcdPrefix, "/sluice"), as JSON values:
//   <prefix>/nodes/<id>                 {id, url}: a live node, put with the node's lease (membership)
//   <prefix>/controller                 {id}: the controller, put with its lease (the election)
//   <prefix>/topics/<name>              {name, partitions, config, createdMs}: the topic as created
//   <prefix>/partitions/<name>/<p>      {leader, leaderEpoch, replicas, isr, addingReplicas,
//                                        removingReplicas}: Kafka's partition state (KIP-455)
// Each value is checked with zod when read; etcd's mod revision of a partition key is its version,
// compared on every write (Kafka's partition epoch), so a stale writer's change is refused.
import { z } from "zod";

export const NO_LEADER = -1;

export const nodeRecord = z.object({ id: z.number().int().min(0), url: z.string() });
export type NodeRecord = z.output<typeof nodeRecord>;

export const controllerRecord = z.object({ id: z.number().int().min(0) });

export const topicRecord = z.object({
  name: z.string(),
  partitions: z.number().int().positive(),
  config: z.record(z.string(), z.unknown()),
  createdMs: z.number(),
});
export type TopicRecord = z.output<typeof topicRecord>;

export const partitionState = z.object({
  /** The leading node's id, or NO_LEADER while no replica may lead. */
  leader: z.number().int().min(NO_LEADER),
  /** Bumped on every leader change; stamped into the batches the leader appends. */
  leaderEpoch: z.number().int().min(0),
  replicas: z.array(z.number().int().min(0)),
  isr: z.array(z.number().int().min(0)),
  /**
   * A reassignment under way (Kafka's KIP-455): replicas being added, which catch up as followers
   * before they count, and replicas to drop once every target replica is in the ISR. The target is
   * `replicas` without `removingReplicas`; the original is `replicas` without `addingReplicas`.
   */
  addingReplicas: z.array(z.number().int().min(0)).default([]),
  removingReplicas: z.array(z.number().int().min(0)).default([]),
});
export type PartitionState = z.output<typeof partitionState>;

/** A partition state with the etcd mod revision it was read at (its version for compare-and-put). */
export interface VersionedPartition {
  topic: string;
  partition: number;
  state: PartitionState;
  modRevision: string;
}

/** One consistent read of everything under the prefix. */
export interface ClusterSnapshot {
  nodes: Map<number, NodeRecord>;
  controllerId: number | undefined;
  topics: Map<string, TopicRecord>;
  /** By partitionId(topic, partition). */
  partitions: Map<string, VersionedPartition>;
  revision: string;
}

export function partitionId(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export class ClusterKeys {
  constructor(readonly prefix: string) {}
  get nodes(): string {
    return `${this.prefix}/nodes/`;
  }
  node(id: number): string {
    return `${this.nodes}${id}`;
  }
  get controller(): string {
    return `${this.prefix}/controller`;
  }
  get topics(): string {
    return `${this.prefix}/topics/`;
  }
  topic(name: string): string {
    return `${this.topics}${name}`;
  }
  get partitions(): string {
    return `${this.prefix}/partitions/`;
  }
  topicPartitions(name: string): string {
    return `${this.partitions}${name}/`;
  }
  partition(topic: string, partition: number): string {
    return `${this.partitions}${topic}/${partition}`;
  }
}

/** Builds a snapshot from the key-values under the prefix; malformed values are skipped and reported. */
export function parseSnapshot(
  keys: ClusterKeys,
  kvs: Array<{ key: string; value: string; modRevision: string }>,
  revision: string,
  onMalformed: (key: string) => void,
): ClusterSnapshot {
  const snapshot: ClusterSnapshot = {
    nodes: new Map(),
    controllerId: undefined,
    topics: new Map(),
    partitions: new Map(),
    revision,
  };
  for (const { key, value, modRevision } of kvs) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      onMalformed(key);
      continue;
    }
    if (key.startsWith(keys.nodes)) {
      const node = nodeRecord.safeParse(json);
      if (node.success) snapshot.nodes.set(node.data.id, node.data);
      else onMalformed(key);
    } else if (key === keys.controller) {
      const controller = controllerRecord.safeParse(json);
      if (controller.success) snapshot.controllerId = controller.data.id;
      else onMalformed(key);
    } else if (key.startsWith(keys.topics)) {
      const topic = topicRecord.safeParse(json);
      if (topic.success) snapshot.topics.set(topic.data.name, topic.data);
      else onMalformed(key);
    } else if (key.startsWith(keys.partitions)) {
      const [topic, partitionText] = key.slice(keys.partitions.length).split("/");
      const state = partitionState.safeParse(json);
      const partition = Number(partitionText);
      if (!state.success || topic === undefined || !Number.isSafeInteger(partition)) {
        onMalformed(key);
        continue;
      }
      snapshot.partitions.set(partitionId(topic, partition), {
        topic,
        partition,
        state: state.data,
        modRevision,
      });
    }
  }
  return snapshot;
}
