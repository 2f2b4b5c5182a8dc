// Moving a partition's replicas (Kafka's KIP-455 reassignment), as pure functions of the partition
// state. Starting one widens the replica set to target + original: the added replicas fetch as
// followers and join the ISR once caught up, while the partition keeps serving. When every target
// replica is in the ISR the controller completes it: the replica set and ISR shrink to the target,
// and a leader that is not in the target hands over to an in-sync target replica with an epoch bump.
// Cancelling goes back to the original replicas the same way.
import { SluiceError } from "../errors.ts";
import { NO_LEADER, type PartitionState } from "./metadata.ts";

/** The replicas a reassignment moves to (or the replicas, when none is under way). */
export function targetReplicas(state: PartitionState): number[] {
  return state.replicas.filter((id) => !state.removingReplicas.includes(id));
}

/** The replicas before the reassignment under way (or the replicas, when none is). */
export function originalReplicas(state: PartitionState): number[] {
  return state.replicas.filter((id) => !state.addingReplicas.includes(id));
}

export function isReassigning(state: PartitionState): boolean {
  return state.addingReplicas.length > 0 || state.removingReplicas.length > 0;
}

/**
 * Checks a requested replica list: distinct ids of live nodes, at least one. Throws
 * INVALID_REPLICA_ASSIGNMENT naming what is wrong.
 */
export function checkTarget(target: readonly number[], liveNodeIds: ReadonlySet<number>): void {
  const invalid = (message: string) =>
    new SluiceError("INVALID_REPLICA_ASSIGNMENT", message, { field: "replicas" });
  if (target.length === 0) throw invalid("replicas must name at least one node");
  if (new Set(target).size !== target.length) throw invalid(`replicas [${target.join(", ")}] repeat a node`);
  const unknown = target.filter((id) => !liveNodeIds.has(id));
  if (unknown.length > 0) {
    throw invalid(
      `node${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not ` +
        `live in the cluster (live: ${[...liveNodeIds].sort((a, b) => a - b).join(", ")})`,
    );
  }
}

/**
 * The state that starts moving the partition to `target` (a reassignment under way is replaced: the
 * new one starts from the same original replicas, as in Kafka). The replica list is target first,
 * so the target's first replica is the preferred leader afterwards.
 */
export function startReassignment(state: PartitionState, target: readonly number[]): PartitionState {
  const original = originalReplicas(state);
  const adding = target.filter((id) => !original.includes(id));
  const removing = original.filter((id) => !target.includes(id));
  return {
    ...state,
    replicas: [...target, ...removing],
    // Replicas being added that are not in the target any more leave the ISR with the replica set.
    isr: state.isr.filter((id) => target.includes(id) || original.includes(id)),
    addingReplicas: adding,
    removingReplicas: removing,
  };
}

/**
 * The completed state once every target replica is in the ISR, else undefined. A leader leaving the
 * replica set hands over to the first in-sync target replica, with a new leader epoch.
 */
export function completeReassignment(state: PartitionState): PartitionState | undefined {
  if (!isReassigning(state)) return undefined;
  const target = targetReplicas(state);
  if (!target.every((id) => state.isr.includes(id))) return undefined;
  return withReplicas(state, target, target);
}

/**
 * The state that goes back to the original replicas, or undefined when no original replica is in
 * sync (going back would leave the partition without a replica that holds its committed records).
 */
export function cancelReassignment(state: PartitionState): PartitionState | undefined {
  if (!isReassigning(state)) return undefined;
  const original = originalReplicas(state);
  const isr = original.filter((id) => state.isr.includes(id));
  if (isr.length === 0) return undefined;
  return withReplicas(state, original, isr);
}

function withReplicas(state: PartitionState, replicas: number[], isr: number[]): PartitionState {
  const keepsLeader = state.leader !== NO_LEADER && replicas.includes(state.leader);
  const leader = keepsLeader ? state.leader : isr[0]!;
  return {
    leader,
    leaderEpoch: state.leaderEpoch + (leader === state.leader ? 0 : 1),
    replicas,
    isr,
    addingReplicas: [],
    removingReplicas: [],
  };
}
