// Consumer groups in cluster mode, as Kafka runs them: `__consumer_offsets` is a replicated topic of
// the cluster like any other (its record in etcd, its partitions led and followed by the replica
// manager), and the coordinator of group G is the leader of the offsets partition G hashes to
// (offsetsPartitionFor). This wires the node's GroupCoordinator to that: it loads a partition's
// groups when this node becomes its leader and unloads them when it stops being it (Kafka's
// GroupMetadataManager.loadGroupsForPartition / removeGroupsForPartition), and offset writes are
// appended on the leader and answered once the ISR has them (acks=all).
import { isSluiceError, SluiceError } from "../errors.ts";
import type { GroupCoordinator, OffsetsReplication } from "../groups/group-coordinator.ts";
import {
  OFFSETS_TOPIC_CONFIG,
  OFFSETS_TOPIC_PARTITIONS,
  offsetsPartitionFor,
} from "../groups/offsets-topic.ts";
import { CONSUMER_OFFSETS_TOPIC } from "../topics/log-manager.ts";
import type { ClusterNode, Leader } from "./cluster-node.ts";
import { coordinatorUnavailable } from "./cluster-store.ts";
import { NO_LEADER } from "./metadata.ts";
import { DEFAULT_REPLICATION_FACTOR_MAX } from "./placement.ts";
import { sleep } from "./sleep.ts";

/** How long the first group request waits for the new offsets topic's partitions to have leaders. */
const OFFSETS_TOPIC_READY_WAIT_MS = 10_000;
const OFFSETS_TOPIC_READY_POLL_MS = 50;

export class ClusterGroupCoordination implements OffsetsReplication {
  #creating: Promise<void> | undefined;

  constructor(readonly cluster: ClusterNode) {}

  /** The offsets partition of a group: the topic's count in etcd, else the count it will be made with. */
  partitionFor(groupId: string): number {
    const record = this.cluster.snapshot?.topics.get(CONSUMER_OFFSETS_TOPIC);
    return offsetsPartitionFor(groupId, record?.partitions ?? OFFSETS_TOPIC_PARTITIONS);
  }

  /** The node coordinating the group now: the leader of its offsets partition. */
  coordinatorOf(groupId: string): Leader {
    return this.cluster.leaderOf(CONSUMER_OFFSETS_TOPIC, this.partitionFor(groupId));
  }

  /** Loads the partitions this node leads now and follows every later change; returns the unfollow. */
  follow(groups: GroupCoordinator): () => void {
    const unfollow = this.cluster.replicas.onLeadershipChange((topic, partition, leads) => {
      if (topic !== CONSUMER_OFFSETS_TOPIC) return;
      if (!leads) {
        groups.unloadPartition(partition);
        this.cluster.options.log("info", "unloaded consumer groups", { partition });
        return;
      }
      const report = groups.loadPartition(partition);
      this.cluster.options.log("info", "loaded consumer groups", { partition, ...report });
    });
    const partitions = this.cluster.snapshot?.topics.get(CONSUMER_OFFSETS_TOPIC)?.partitions ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      if (this.cluster.replicas.leads(CONSUMER_OFFSETS_TOPIC, partition)) groups.loadPartition(partition);
    }
    return unfollow;
  }

  // -------------------------------------------------------------------------------------------
  // OffsetsReplication: what the GroupCoordinator asks of the replicated topic

  checkAppend(partition: number): void {
    try {
      this.cluster.replicas.checkAppend(CONSUMER_OFFSETS_TOPIC, partition, true);
    } catch (error) {
      if (isSluiceError(error, "NOT_LEADER_OR_FOLLOWER")) throw this.#notCoordinatorOf(partition);
      throw error;
    }
  }

  async awaitCommitted(partition: number, lastOffset: number): Promise<void> {
    const { replicas, options } = this.cluster;
    replicas.appended(CONSUMER_OFFSETS_TOPIC, partition);
    await replicas.awaitCommit(CONSUMER_OFFSETS_TOPIC, partition, lastOffset, options.ackTimeoutMs);
  }

  notCoordinator(groupId: string, partition: number): SluiceError {
    return this.#notCoordinatorOf(partition, `group "${groupId}"`);
  }

  #notCoordinatorOf(partition: number, what = "its groups"): SluiceError {
    const leader = this.cluster.leaderOf(CONSUMER_OFFSETS_TOPIC, partition);
    const where = `${CONSUMER_OFFSETS_TOPIC}-${partition}`;
    if (leader.kind !== "remote") {
      return new SluiceError(
        "COORDINATOR_NOT_AVAILABLE",
        `${what}: ${where} has no leader now, so no node coordinates it; retry shortly`,
      );
    }
    return new SluiceError(
      "NOT_COORDINATOR",
      `${what} is coordinated by node ${leader.node.id} (${leader.node.url}), the leader of ${where}`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // The offsets topic in etcd

  /**
   * Creates the offsets topic in etcd if it is not there yet, and waits until its partitions have
   * leaders. Kafka makes it on the first FindCoordinator, with as many replicas as it can have (up to
   * three): by then the cluster's nodes are usually all up, which they may not be when the first one
   * starts.
   */
  ensureOffsetsTopic(): Promise<void> {
    if (this.#ready()) return Promise.resolve();
    this.#creating ??= this.#create().finally(() => {
      this.#creating = undefined;
    });
    return this.#creating;
  }

  #ready(): boolean {
    const record = this.cluster.snapshot?.topics.get(CONSUMER_OFFSETS_TOPIC);
    if (record === undefined) return false;
    for (let partition = 0; partition < record.partitions; partition++) {
      const state = this.cluster.partitionState(CONSUMER_OFFSETS_TOPIC, partition);
      if (state === undefined || state.leader === NO_LEADER) return false;
    }
    return true;
  }

  async #create(): Promise<void> {
    if (this.cluster.snapshot?.topics.get(CONSUMER_OFFSETS_TOPIC) === undefined) {
      const live = this.cluster.snapshot?.nodes.size ?? 1;
      const replicationFactor = Math.max(1, Math.min(DEFAULT_REPLICATION_FACTOR_MAX, live));
      try {
        // Create-if-absent: several nodes may try at once; one record wins.
        await this.cluster.store.createTopic({
          name: CONSUMER_OFFSETS_TOPIC,
          partitions: OFFSETS_TOPIC_PARTITIONS,
          config: { ...OFFSETS_TOPIC_CONFIG, "replication.factor": replicationFactor },
          createdMs: Date.now(),
        });
      } catch (error) {
        throw coordinatorUnavailable(error);
      }
      this.cluster.options.log("info", "created the offsets topic", { replicationFactor });
    }
    const deadline = Date.now() + OFFSETS_TOPIC_READY_WAIT_MS;
    for (;;) {
      await this.cluster.refresh();
      if (this.#ready()) return;
      if (Date.now() > deadline) {
        throw new SluiceError(
          "COORDINATOR_NOT_AVAILABLE",
          `${CONSUMER_OFFSETS_TOPIC} has partitions without a leader; retry shortly`,
        );
      }
      await sleep(OFFSETS_TOPIC_READY_POLL_MS);
    }
  }
}
