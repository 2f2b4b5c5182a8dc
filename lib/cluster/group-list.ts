// Consumer groups across the cluster: each node coordinates the groups of the offsets partitions it
// leads, so a list asks every live node for its own (a forwarded request: local only) and merges.
import type { GroupSummary } from "../groups/group-coordinator.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { peerHeaders } from "./peer-auth.ts";
import { FORWARDED_HEADER } from "./replicated-append.ts";

/** How long a list waits for another node before going on without its groups. */
const PEER_LIST_TIMEOUT_MS = 3000;

export async function listClusterGroups(
  cluster: ClusterNode,
  local: GroupSummary[],
): Promise<GroupSummary[]> {
  const others = [...(cluster.snapshot?.nodes.values() ?? [])].filter((node) => node.id !== cluster.nodeId);
  const answers = await Promise.all(
    others.map(async (node) => {
      try {
        const response = await fetch(`${node.url}/api/v1/groups`, {
          headers: {
            ...peerHeaders(cluster.options.interNodeToken),
            [FORWARDED_HEADER]: String(cluster.nodeId),
          },
          signal: AbortSignal.timeout(PEER_LIST_TIMEOUT_MS),
        });
        if (!response.ok) throw new Error(`answered ${response.status}`);
        return ((await response.json()) as { groups: GroupSummary[] }).groups;
      } catch (error) {
        // A node going down: its offsets partitions move and their groups show up on the next list.
        cluster.options.log("warn", "a node did not list its groups", {
          node: node.id,
          error: String(error),
        });
        return [];
      }
    }),
  );
  // While leadership moves a group may be listed twice: the first answer (this node's) wins.
  const byGroup = new Map<string, GroupSummary>();
  for (const summary of [local, ...answers].flat()) {
    if (!byGroup.has(summary.group)) byGroup.set(summary.group, summary);
  }
  return [...byGroup.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
