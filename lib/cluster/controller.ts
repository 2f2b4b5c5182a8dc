// The controller's work, run on whichever node holds the controller key in etcd each time the
// metadata changes: give new topics their replicas and first leaders, re-elect partitions whose
// leader or ISR members died (placement.ts decides), and complete reassignments whose target
// replicas caught up (reassignment.ts). Every write compares the partition's version, so a
// controller that lost its seat, or a leader's concurrent ISR change, cannot be overwritten.
import { parseTopicConfig } from "../topics/topic-config.ts";
import type { ClusterStore } from "./cluster-store.ts";
import { type ClusterSnapshot, partitionId } from "./metadata.ts";
import { assignReplicas, DEFAULT_REPLICATION_FACTOR_MAX, initialState, reelect } from "./placement.ts";
import { completeReassignment } from "./reassignment.ts";

export interface ControllerOptions {
  store: ClusterStore;
  log: (level: string, msg: string, fields?: Record<string, unknown>) => void;
}

/** The replication factor a topic asks for, or the default for `liveNodes` nodes. */
export function replicationFactorOf(config: Record<string, unknown>, liveNodes: number): number {
  let asked: number | undefined;
  try {
    asked = parseTopicConfig(config)["replication.factor"];
  } catch {
    asked = undefined;
  }
  return asked ?? Math.max(1, Math.min(DEFAULT_REPLICATION_FACTOR_MAX, liveNodes));
}

/** One reconciliation pass; returns how many partition states it wrote. */
export async function reconcile(snapshot: ClusterSnapshot, options: ControllerOptions): Promise<number> {
  const { store, log } = options;
  const live = new Set(snapshot.nodes.keys());
  const liveIds = [...live];
  let writes = 0;
  for (const topic of snapshot.topics.values()) {
    const missing: number[] = [];
    for (let p = 0; p < topic.partitions; p++) {
      if (!snapshot.partitions.has(partitionId(topic.name, p))) missing.push(p);
    }
    if (missing.length === 0 || liveIds.length === 0) continue;
    const factor = replicationFactorOf(topic.config, liveIds.length);
    if (factor > liveIds.length) {
      log("warn", "not enough live nodes to place a topic", { topic: topic.name, factor, live: liveIds });
      continue;
    }
    // Start the round robin at a spot derived from the name, so topics' leaders spread over nodes.
    const start = [...topic.name].reduce((sum, ch) => (sum * 31 + ch.charCodeAt(0)) >>> 0, 0);
    const assignment = assignReplicas(topic.partitions, factor, liveIds, start);
    for (const p of missing) {
      const state = initialState(assignment[p]!);
      if (await store.compareAndPutPartition(topic.name, p, state, "0")) writes++;
    }
  }
  for (const versioned of snapshot.partitions.values()) {
    if (!snapshot.topics.has(versioned.topic)) continue;
    const config = snapshot.topics.get(versioned.topic)!.config;
    let unclean = false;
    try {
      unclean = parseTopicConfig(config)["unclean.leader.election.enable"];
    } catch {
      unclean = false;
    }
    // A dead leader is replaced first; a reassignment whose target replicas all caught up completes
    // on the pass after (each write is compared on the partition's version).
    const next = reelect(versioned.state, live, unclean) ?? completeReassignment(versioned.state);
    if (next === undefined) continue;
    const written = await store.compareAndPutPartition(
      versioned.topic,
      versioned.partition,
      next,
      versioned.modRevision,
    );
    if (written === undefined) continue;
    writes++;
    log("info", "partition state changed", {
      topic: versioned.topic,
      partition: versioned.partition,
      leader: next.leader,
      leaderEpoch: next.leaderEpoch,
      isr: next.isr,
      replicas: next.replicas,
      previousLeader: versioned.state.leader,
    });
  }
  return writes;
}
