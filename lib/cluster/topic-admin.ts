// Topic changes as the routes make them: through etcd in cluster mode (every node then applies
// them), straight to the local logs on a single node. Describe adds who leads each partition, and
// takes each partition's offsets from its leader.
import { z } from "zod";
import { SluiceError } from "../errors.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { PartitionDescription, TopicDescription } from "../topics/log-manager.ts";
import type { TopicConfigInput } from "../topics/topic-config.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { peerHeaders } from "./peer-auth.ts";
import { FORWARDED_HEADER } from "./replicated-append.ts";

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

/** What describe takes from a leader's answer: its figures per partition, checked like any input. */
const offset = z.number().int().min(0);
const leaderPartitions = z.object({
  partitions: z.array(
    z.object({
      partition: offset,
      logStartOffset: offset,
      logEndOffset: offset,
      highWatermark: offset,
      segmentCount: offset,
      sizeBytes: offset,
      segments: z.array(
        z.object({ baseOffset: offset, nextOffset: offset, sizeBytes: offset, maxTimestamp: z.number() }),
      ),
    }),
  ),
});
type LeaderPartition = z.output<typeof leaderPartitions>["partitions"][number];

/** How long describe waits for a leader's view of its partitions before showing this node's own. */
const LEADER_DESCRIBE_TIMEOUT_MS = 2000;

/**
 * The topic with each partition's leader, replicas and ISR, and its offsets and segments as its
 * leader has them: a follower's log trails the leader's, and a node that holds no replica of a
 * partition has only an empty log. Each remote leader is asked once (its local view, so the request
 * goes no further); a leader that does not answer in time leaves this node's view, and
 * `offsetsFrom` says whose log each partition's figures come from. `localOnly`: a peer asks.
 */
export async function describeTopic(
  gateway: Gateway,
  name: string,
  options: { localOnly?: boolean } = {},
): Promise<TopicDescription> {
  const description = gateway.logs.describeTopic(name);
  const cluster = gateway.cluster;
  if (cluster === undefined || !cluster.manages(name)) return description;
  const remoteLeaders = new Map<number, string>();
  if (!options.localOnly) {
    for (const { partition } of description.partitions) {
      const leader = cluster.leaderOf(name, partition);
      if (leader.kind === "remote") remoteLeaders.set(leader.node.id, leader.node.url);
    }
  }
  const views = new Map<number, LeaderPartition[] | undefined>();
  await Promise.all(
    [...remoteLeaders].map(async ([id, url]) => views.set(id, await describeOn(cluster, url, name))),
  );
  return {
    ...description,
    partitions: description.partitions.map((local) => {
      const state = cluster.partitionState(name, local.partition);
      if (state === undefined) return local;
      const leaderView =
        state.leader === cluster.nodeId
          ? undefined
          : views.get(state.leader)?.find((p) => p.partition === local.partition);
      const replication: PartitionReplication = {
        leader: state.leader < 0 ? null : state.leader,
        leaderEpoch: state.leaderEpoch,
        replicas: state.replicas,
        isr: state.isr,
        addingReplicas: state.addingReplicas,
        removingReplicas: state.removingReplicas,
        offsetsFrom: leaderView === undefined ? cluster.nodeId : state.leader,
      };
      return { ...(leaderView ?? local), replication };
    }),
  };
}

async function describeOn(
  cluster: ClusterNode,
  url: string,
  name: string,
): Promise<LeaderPartition[] | undefined> {
  try {
    const response = await fetch(`${url}/api/v1/topics/${encodeURIComponent(name)}`, {
      headers: { ...peerHeaders(cluster.options.interNodeToken), [FORWARDED_HEADER]: String(cluster.nodeId) },
      signal: AbortSignal.timeout(LEADER_DESCRIBE_TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    const answer = leaderPartitions.safeParse(await response.json());
    return answer.success ? answer.data.partitions : undefined;
  } catch {
    return undefined;
  }
}
