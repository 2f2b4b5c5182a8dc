// The operator's side of reassignment: start moving partitions to new replica lists, cancel a move,
// list the moves under way. Each is a compare-and-put of the partition state in etcd (any node may
// write it); the leaders and the controller do the rest as the new state reaches them.
import { SluiceError } from "../errors.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { coordinatorUnavailable } from "./cluster-store.ts";
import { type ClusterSnapshot, type PartitionState, partitionId } from "./metadata.ts";
import {
  cancelReassignment,
  checkTarget,
  isReassigning,
  startReassignment,
  targetReplicas,
} from "./reassignment.ts";

export interface ReassignmentRequest {
  topic: string;
  partition: number;
  replicas: number[];
}

/** A partition's reassignment as the API shows it. */
export interface ReassignmentStatus {
  topic: string;
  partition: number;
  /** The replicas it moves to. */
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
  leader: number | null;
  leaderEpoch: number;
  isr: number[];
  /** False once the move completed (or there was nothing to move). */
  inProgress: boolean;
}

/** A compare-and-put that lost to another writer is tried again on fresh metadata, this often. */
const WRITE_ATTEMPTS = 5;

/**
 * Starts every requested move, after checking all of them (a bad entry starts none). Moving a
 * partition to the replicas it has (in the same order) is accepted and changes nothing.
 */
export async function startReassignments(
  cluster: ClusterNode,
  requests: readonly ReassignmentRequest[],
): Promise<ReassignmentStatus[]> {
  const snapshot = await freshSnapshot(cluster);
  const live = new Set(snapshot.nodes.keys());
  const seen = new Set<string>();
  for (const [i, request] of requests.entries()) {
    const id = partitionId(request.topic, request.partition);
    if (seen.has(id)) {
      throw new SluiceError("INVALID_REPLICA_ASSIGNMENT", `${id} is listed twice`, {
        field: `partitions.${i}`,
      });
    }
    seen.add(id);
    partitionOf(snapshot, request.topic, request.partition);
    try {
      checkTarget(request.replicas, live);
    } catch (error) {
      if (error instanceof SluiceError) {
        throw new SluiceError(error.errorName, `${id}: ${error.message}`, {
          field: `partitions.${i}.replicas`,
        });
      }
      throw error;
    }
  }
  const statuses: ReassignmentStatus[] = [];
  for (const { topic, partition, replicas } of requests) {
    const written = await writeState(cluster, topic, partition, (state) => {
      const same = state.replicas.join() === replicas.join() && !isReassigning(state);
      return same ? state : startReassignment(state, replicas);
    });
    statuses.push(statusOf(topic, partition, written));
  }
  await cluster.refresh(); // so this node's own list shows the moves at once
  return statuses;
}

/** Goes back to the partition's original replicas. */
export async function cancelReassignmentOf(
  cluster: ClusterNode,
  topic: string,
  partition: number,
): Promise<ReassignmentStatus> {
  const written = await writeState(cluster, topic, partition, (state) => {
    if (!isReassigning(state)) {
      throw new SluiceError(
        "NO_REASSIGNMENT_IN_PROGRESS",
        `${topic}-${partition} is not being reassigned (replicas ${state.replicas.join(", ")})`,
      );
    }
    const cancelled = cancelReassignment(state);
    if (cancelled === undefined) {
      throw new SluiceError(
        "REASSIGNMENT_NOT_CANCELLABLE",
        `${topic}-${partition}: none of the original replicas is in sync (ISR ${state.isr.join(", ")}); ` +
          "going back would lose committed records",
      );
    }
    return cancelled;
  });
  await cluster.refresh();
  return statusOf(topic, partition, written);
}

/** The reassignments under way, as this node's metadata has them. */
export function listReassignments(cluster: ClusterNode): ReassignmentStatus[] {
  const statuses: ReassignmentStatus[] = [];
  for (const { topic, partition, state } of cluster.snapshot?.partitions.values() ?? []) {
    if (isReassigning(state)) statuses.push(statusOf(topic, partition, state));
  }
  return statuses.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

async function writeState(
  cluster: ClusterNode,
  topic: string,
  partition: number,
  change: (state: PartitionState) => PartitionState,
): Promise<PartitionState> {
  for (let attempt = 1; ; attempt++) {
    const snapshot = await freshSnapshot(cluster);
    const versioned = partitionOf(snapshot, topic, partition);
    const next = change(versioned.state);
    if (next === versioned.state) return next;
    let written: string | undefined;
    try {
      written = await cluster.store.compareAndPutPartition(topic, partition, next, versioned.modRevision);
    } catch (error) {
      throw coordinatorUnavailable(error);
    }
    if (written !== undefined) return next;
    if (attempt >= WRITE_ATTEMPTS) {
      throw new SluiceError(
        "COORDINATOR_NOT_AVAILABLE",
        `${topic}-${partition} kept changing under the reassignment (${WRITE_ATTEMPTS} attempts); retry`,
      );
    }
  }
}

async function freshSnapshot(cluster: ClusterNode): Promise<ClusterSnapshot> {
  try {
    return await cluster.store.snapshot();
  } catch (error) {
    throw coordinatorUnavailable(error);
  }
}

function partitionOf(snapshot: ClusterSnapshot, topic: string, partition: number) {
  const versioned = snapshot.partitions.get(partitionId(topic, partition));
  if (versioned === undefined) {
    const known = snapshot.topics.get(topic);
    throw new SluiceError(
      "UNKNOWN_TOPIC_OR_PARTITION",
      known === undefined
        ? `topic "${topic}" does not exist`
        : `topic "${topic}" has partitions 0 to ${known.partitions - 1}, not ${partition}`,
      { field: known === undefined ? "topic" : "partition" },
    );
  }
  return versioned;
}

function statusOf(topic: string, partition: number, state: PartitionState): ReassignmentStatus {
  return {
    topic,
    partition,
    replicas: targetReplicas(state),
    addingReplicas: state.addingReplicas,
    removingReplicas: state.removingReplicas,
    leader: state.leader < 0 ? null : state.leader,
    leaderEpoch: state.leaderEpoch,
    isr: state.isr,
    inProgress: isReassigning(state),
  };
}
