// Topic changes as the routes make them: through etcd in cluster mode (every node then applies
// them), straight to the local logs on a single node. Describe adds who leads each partition.
import { SluiceError } from "../errors.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { PartitionDescription, TopicDescription } from "../topics/log-manager.ts";
import type { TopicConfigInput } from "../topics/topic-config.ts";

export async function createTopic(
  gateway: Gateway,
  name: string,
  partitions: number | undefined,
  config: TopicConfigInput | undefined,
): Promise<TopicDescription> {
  if (gateway.cluster) return gateway.cluster.createTopic(name, partitions, { ...(config ?? {}) });
  const factor = (config as Record<string, unknown> | undefined)?.["replication.factor"];
  if (factor !== undefined && Number(factor) > 1) {
    throw new SluiceError(
      "INVALID_REPLICATION_FACTOR",
      `replication.factor ${String(factor)} needs cluster mode; a single node holds one copy`,
      { field: "config.replication.factor" },
    );
  }
  return gateway.logs.createTopic(name, { partitions, config });
}

export async function deleteTopic(gateway: Gateway, name: string): Promise<void> {
  if (gateway.cluster) await gateway.cluster.deleteTopic(name);
  else gateway.logs.deleteTopic(name);
}

export async function alterTopicConfig(
  gateway: Gateway,
  name: string,
  changes: Record<string, unknown>,
): Promise<TopicDescription> {
  if (gateway.cluster) return gateway.cluster.alterTopicConfig(name, changes);
  return gateway.logs.alterTopicConfig(name, changes);
}

type PartitionReplication = NonNullable<PartitionDescription["replication"]>;

/** The topic as the log manager describes it, with each partition's leader, replicas and ISR. */
export function describeTopic(gateway: Gateway, name: string): TopicDescription {
  const description = gateway.logs.describeTopic(name);
  const cluster = gateway.cluster;
  if (cluster === undefined || !cluster.manages(name)) return description;
  return {
    ...description,
    partitions: description.partitions.map((partition) => {
      const state = cluster.partitionState(name, partition.partition);
      if (state === undefined) return partition;
      const replication: PartitionReplication = {
        leader: state.leader < 0 ? null : state.leader,
        leaderEpoch: state.leaderEpoch,
        replicas: state.replicas,
        isr: state.isr,
      };
      return { ...partition, replication };
    }),
  };
}
