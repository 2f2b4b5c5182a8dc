// The controller's decisions, as pure functions of the partition state and the live nodes: where a
// new topic's replicas go, and who leads a partition after nodes come and go (Kafka's
// PartitionLeaderElectionAlgorithms, with the ISR kept as Kafka keeps it).
import { NO_LEADER, type PartitionState } from "./metadata.ts";

/** Default replication factor when a topic names none: up to three copies, as many as there are nodes. */
export const DEFAULT_REPLICATION_FACTOR_MAX = 3;

/**
 * Kafka's round-robin assignment: partition p's replicas are the nodes from (start + p) on, so leaders
 * (the first replica) spread across nodes. `nodeIds` are the live nodes.
 */
export function assignReplicas(
  partitions: number,
  replicationFactor: number,
  nodeIds: readonly number[],
  start: number,
): number[][] {
  const sorted = [...nodeIds].sort((a, b) => a - b);
  const assignment: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    const replicas: number[] = [];
    for (let r = 0; r < replicationFactor; r++) replicas.push(sorted[(start + p + r) % sorted.length]!);
    assignment.push(replicas);
  }
  return assignment;
}

/** A new partition's first state: the first replica leads, every replica is in sync (all are empty). */
export function initialState(replicas: number[]): PartitionState {
  return {
    leader: replicas[0]!,
    leaderEpoch: 0,
    replicas,
    isr: [...replicas],
    addingReplicas: [],
    removingReplicas: [],
  };
}

/**
 * The state a partition should have given the live nodes, or undefined when it needs no change.
 * Dead nodes leave the ISR, except the last member: Kafka keeps it so that, when no replica in sync
 * is alive, the partition waits for that one rather than lose what only it may hold. A dead leader
 * is replaced by the first live replica in the ISR (a clean election); with none, by the first live
 * replica at all only when unclean election is on; else the partition has no leader until an ISR
 * member returns. Every leader change bumps the leader epoch.
 */
export function reelect(
  state: PartitionState,
  live: ReadonlySet<number>,
  uncleanElection: boolean,
): PartitionState | undefined {
  const liveIsr = state.isr.filter((id) => live.has(id));
  const isr = liveIsr.length > 0 ? liveIsr : state.isr;
  let leader = state.leader;
  let next: PartitionState;
  if (leader !== NO_LEADER && live.has(leader)) {
    next = { ...state, isr };
  } else {
    const clean = state.replicas.find((id) => live.has(id) && liveIsr.includes(id));
    const unclean = uncleanElection ? state.replicas.find((id) => live.has(id)) : undefined;
    leader = clean ?? unclean ?? NO_LEADER;
    // An unclean leader starts a new ISR of its own: the old members may hold records it lacks.
    const nextIsr = clean !== undefined ? liveIsr : unclean !== undefined ? [unclean] : isr;
    const changed = leader !== state.leader;
    next = { ...state, leader, isr: nextIsr, leaderEpoch: state.leaderEpoch + (changed ? 1 : 0) };
  }
  return sameState(state, next) ? undefined : next;
}

export function sameState(a: PartitionState, b: PartitionState): boolean {
  return (
    a.leader === b.leader &&
    a.leaderEpoch === b.leaderEpoch &&
    a.replicas.join() === b.replicas.join() &&
    a.isr.join() === b.isr.join() &&
    a.addingReplicas.join() === b.addingReplicas.join() &&
    a.removingReplicas.join() === b.removingReplicas.join()
  );
}
