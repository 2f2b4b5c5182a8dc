// A group's lag in cluster mode: the committed offsets against the partitions' real ends, which are
// their leaders' (a follower trails, a node without a replica holds an empty log). The end is what
// consumers may read up to, the high watermark, as Kafka's ListOffsets(latest) answers lag tools.
import { partitionKey } from "../topics/offset-checkpoint.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { peerHeaders } from "./peer-auth.ts";
import { FORWARDED_HEADER } from "./replicated-append.ts";

const PEER_OFFSETS_TIMEOUT_MS = 3000;

/** By partitionKey(topic, partition): the leader's high watermark, or null when it cannot be had. */
export async function leaderLogEnds(
  cluster: ClusterNode,
  partitions: ReadonlyArray<{ topic: string; partition: number }>,
): Promise<Map<string, number | null>> {
  const ends = new Map<string, number | null>();
  await Promise.all(
    partitions.map(async ({ topic, partition }) => {
      ends.set(partitionKey(topic, partition), await leaderLogEnd(cluster, topic, partition));
    }),
  );
  return ends;
}

async function leaderLogEnd(cluster: ClusterNode, topic: string, partition: number): Promise<number | null> {
  const { logs } = cluster.options;
  if (!logs.hasTopic(topic) || partition >= logs.partitionCount(topic)) return null;
  const leader = cluster.manages(topic) ? cluster.leaderOf(topic, partition) : { kind: "self" as const };
  if (leader.kind === "self") return logs.partition(topic, partition).highWatermark;
  if (leader.kind === "none") return null;
  try {
    const path = `/api/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/offsets?at=latest`;
    const response = await fetch(`${leader.node.url}${path}`, {
      headers: { ...peerHeaders(cluster.options.interNodeToken), [FORWARDED_HEADER]: String(cluster.nodeId) },
      signal: AbortSignal.timeout(PEER_OFFSETS_TIMEOUT_MS),
    });
    if (!response.ok) return null;
    const body = (await response.json()) as { offset?: unknown };
    return typeof body.offset === "number" ? body.offset : null;
  } catch {
    return null;
  }
}
