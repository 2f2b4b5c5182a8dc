// This node's part in each replicated partition: leader (tracks followers, moves the high
// watermark, proposes ISR changes through etcd, answers replica fetches, holds acks=all answers
// until the ISR has the records) or follower (a ReplicaFetcher). Roles follow the partition states
// in etcd; cluster-node.ts hands each new snapshot to apply().
import { systemClock } from "../clock.ts";
import { SluiceError } from "../errors.ts";
import { AppendWaiters } from "../gateway/append-waiters.ts";
import type { PartitionLog, ReadResult } from "../log/partition-log.ts";
import type { LogManager } from "../topics/log-manager.ts";
import { parseTopicConfig } from "../topics/topic-config.ts";
import type { ClusterStore } from "./cluster-store.ts";
import { LeaderState } from "./leader-state.ts";
import { type ClusterSnapshot, NO_LEADER, partitionId, type VersionedPartition } from "./metadata.ts";
import { ReplicaFetcher } from "./replica-fetcher.ts";
import { refuseBelowLogStart } from "./replica-log-start.ts";
import type { EpochEndAnswer, EpochEndQuery, ReplicaFetchQuery } from "./replica-protocol.ts";

export interface ReplicaManagerOptions {
  selfId: number;
  logs: LogManager;
  store: ClusterStore;
  replicaLagTimeMaxMs: number;
  replicaFetchWaitMaxMs: number;
  /** Sent to leaders with every replica fetch (access control on). */
  interNodeToken?: string | undefined;
  log: (level: string, msg: string, fields?: Record<string, unknown>) => void;
  /** Asks for a fresh snapshot (after a refused ISR write: someone else changed the partition). */
  refresh: () => void;
}

/** Bytes a follower asks for per fetch. */
const REPLICA_FETCH_MAX_BYTES = 4 * 1024 * 1024;

interface Leadership {
  state: LeaderState;
  minInsyncReplicas: number;
}

export class ReplicaManager {
  readonly #leaders = new Map<string, Leadership>();
  readonly #fetchers = new Map<string, ReplicaFetcher>();
  /** Replica fetches waiting for appends, and acks=all produces waiting for the high watermark. */
  readonly #replicaWaiters = new AppendWaiters(systemClock, { waitersMax: 100_000 });
  readonly #ackWaiters = new AppendWaiters(systemClock, { waitersMax: 100_000 });
  /** Told when a partition's high watermark moved or records came in (consumer fetches waiting). */
  readonly #listeners = new Set<(topic: string, partition: number) => void>();
  readonly #timer: ReturnType<typeof setInterval>;
  #snapshot: ClusterSnapshot | undefined;
  /** Told when this node takes up or gives up a partition's leadership (group coordinators load). */
  readonly #leadershipListeners = new Set<(topic: string, partition: number, leads: boolean) => void>();

  constructor(readonly options: ReplicaManagerOptions) {
    const checkMs = Math.max(50, Math.min(1000, Math.floor(options.replicaLagTimeMaxMs / 4)));
    this.#timer = setInterval(() => this.#maintainIsrs(), checkMs);
  }

  onProgress(listener: (topic: string, partition: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells `listener` (synchronously) each time this node becomes or stops being a partition's leader. */
  onLeadershipChange(listener: (topic: string, partition: number, leads: boolean) => void): () => void {
    this.#leadershipListeners.add(listener);
    return () => this.#leadershipListeners.delete(listener);
  }

  #leadershipChanged(topic: string, partition: number, leads: boolean): void {
    for (const listener of [...this.#leadershipListeners]) listener(topic, partition, leads);
  }

  // -------------------------------------------------------------------------------------------
  // Roles

  /** Takes every partition state of the snapshot: becomes leader, follower or neither of each. */
  async apply(snapshot: ClusterSnapshot): Promise<void> {
    this.#snapshot = snapshot;
    const seen = new Set<string>();
    for (const versioned of snapshot.partitions.values()) {
      const id = partitionId(versioned.topic, versioned.partition);
      if (!versioned.state.replicas.includes(this.options.selfId)) continue;
      if (!this.options.logs.hasTopic(versioned.topic)) continue;
      seen.add(id);
      await this.#applyPartition(id, versioned, snapshot);
    }
    for (const id of [...this.#leaders.keys(), ...this.#fetchers.keys()]) {
      if (seen.has(id)) continue;
      await this.#resign(id);
      const moved = snapshot.partitions.get(id);
      if (moved !== undefined) await this.#dropReplica(moved.topic, moved.partition);
    }
  }

  /**
   * A reassignment took this node out of the partition's replicas: its log is emptied (Kafka deletes
   * it), so no stale or uncommitted record of it is ever served from here, and whatever waits on it
   * (WebSocket subscriptions) wakes to find it gone. Should the partition come back, it fetches
   * from the leader as a new replica does.
   */
  async #dropReplica(topic: string, partition: number): Promise<void> {
    if (!this.options.logs.hasTopic(topic)) return;
    try {
      await this.options.logs.truncateFullyAndStartAt(topic, partition, 0);
      this.options.log("info", "no longer a replica: local log emptied", { topic, partition });
    } catch (error) {
      this.options.log("warn", "could not empty a dropped replica's log", {
        topic,
        partition,
        error: String(error),
      });
    }
    this.#notify(topic, partition);
  }

  async #applyPartition(id: string, versioned: VersionedPartition, snapshot: ClusterSnapshot): Promise<void> {
    const { topic, partition, state } = versioned;
    const log = this.options.logs.partition(topic, partition);
    log.replication.highWatermarkFollowsLogEnd = false;
    const minInsyncReplicas = minIsrOf(snapshot, topic);
    if (state.leader === this.options.selfId) {
      const current = this.#leaders.get(id);
      if (current !== undefined && current.state.leaderEpoch === state.leaderEpoch) {
        // The controller (a dead follower) or our own ISR write changed the state: adopt it.
        current.state.state = state;
        current.state.setReplicas(state.replicas, Date.now());
        current.state.modRevision = versioned.modRevision;
        current.state.isr = [...state.isr];
        current.state.pendingIsr = undefined;
        current.minInsyncReplicas = minInsyncReplicas;
        this.#advanceHighWatermark(topic, partition);
        this.#ackWaiters.notify(topic, partition);
        return;
      }
      await this.#fetchers.get(id)?.stop();
      this.#fetchers.delete(id);
      // The new epoch starts at the log end (Kafka's leader does the same): a follower asking where an
      // older epoch ends is answered right even before this leader appends anything.
      log.replication.leaderEpoch = state.leaderEpoch;
      log.epochs.assign(state.leaderEpoch, log.logEndOffset);
      const leader = new LeaderState(
        topic,
        partition,
        this.options.selfId,
        state,
        versioned.modRevision,
        log.logEndOffset,
        Date.now(),
      );
      this.#leaders.set(id, { state: leader, minInsyncReplicas });
      this.options.log("info", "became leader", { topic, partition, leaderEpoch: state.leaderEpoch });
      this.#leadershipChanged(topic, partition, true);
      this.#advanceHighWatermark(topic, partition);
      this.#ackWaiters.notify(topic, partition);
      return;
    }
    // Follower (or nothing while the partition has no leader).
    if (this.#leaders.delete(id)) {
      this.#ackWaiters.notify(topic, partition);
      this.#replicaWaiters.notify(topic, partition);
      this.#leadershipChanged(topic, partition, false);
    }
    const fetcher = this.#fetchers.get(id);
    if (fetcher?.leaderId === state.leader && fetcher.leaderEpoch === state.leaderEpoch) return;
    const leaderNode = snapshot.nodes.get(state.leader);
    if (fetcher !== undefined) {
      await fetcher.stop();
      this.#fetchers.delete(id);
    }
    if (state.leader === NO_LEADER || leaderNode === undefined) return;
    log.replication.leaderEpoch = state.leaderEpoch;
    this.#fetchers.set(
      id,
      new ReplicaFetcher({
        topic,
        partition,
        selfId: this.options.selfId,
        leaderId: state.leader,
        leaderUrl: leaderNode.url,
        leaderEpoch: state.leaderEpoch,
        log: () => this.options.logs.partition(topic, partition),
        truncateFullyAndStartAt: (offset) =>
          this.options.logs.truncateFullyAndStartAt(topic, partition, offset),
        fetchMaxWaitMs: this.options.replicaFetchWaitMaxMs,
        fetchMaxBytes: REPLICA_FETCH_MAX_BYTES,
        interNodeToken: this.options.interNodeToken,
        onProgress: () => this.#notify(topic, partition),
        log_: this.options.log,
      }),
    );
    this.options.log("info", "became follower", {
      topic,
      partition,
      leader: state.leader,
      leaderEpoch: state.leaderEpoch,
    });
  }

  async #resign(id: string): Promise<void> {
    const leadership = this.#leaders.get(id);
    this.#leaders.delete(id);
    if (leadership) {
      this.#ackWaiters.notify(leadership.state.topic, leadership.state.partition);
      this.#leadershipChanged(leadership.state.topic, leadership.state.partition, false);
    }
    await this.#fetchers.get(id)?.stop();
    this.#fetchers.delete(id);
  }

  /** Whether this node leads the partition now. */
  leads(topic: string, partition: number): boolean {
    return this.#leaders.has(partitionId(topic, partition));
  }

  /** Followers' positions as the leader sees them (for describe and tests). */
  followerPositions(topic: string, partition: number) {
    return this.#leaders.get(partitionId(topic, partition))?.state.positions();
  }

  // -------------------------------------------------------------------------------------------
  // Leader: appends, acks, high watermark

  /** Before an append: refuses when this node does not lead, or acks=all has too small an ISR. */
  checkAppend(topic: string, partition: number, acksAll: boolean): void {
    const leadership = this.#leadership(topic, partition);
    if (acksAll && leadership.state.isr.length < leadership.minInsyncReplicas) {
      throw new SluiceError(
        "NOT_ENOUGH_REPLICAS",
        `partition ${topic}-${partition} has ${leadership.state.isr.length} in-sync replicas ` +
          `(${leadership.state.isr.join(", ")}), min.insync.replicas is ${leadership.minInsyncReplicas}`,
        { field: "acks" },
      );
    }
  }

  /** After a leader append: followers waiting wake; a partition with no follower commits at once. */
  appended(topic: string, partition: number): void {
    this.#replicaWaiters.notify(topic, partition);
    this.#advanceHighWatermark(topic, partition);
  }

  /** acks=all: resolves once the high watermark passed `lastOffset`; rejects as Kafka's DelayedProduce. */
  async awaitCommit(topic: string, partition: number, lastOffset: number, timeoutMs: number): Promise<void> {
    const id = partitionId(topic, partition);
    const leadership = this.#leaders.get(id);
    const log = this.options.logs.partition(topic, partition);
    const committed = () => log.highWatermark > lastOffset;
    const lostLeadership = () => this.#leaders.get(id) !== leadership;
    const isrTooSmall = () =>
      leadership !== undefined && leadership.state.isr.length < leadership.minInsyncReplicas;
    const done = () => committed() || lostLeadership() || isrTooSmall();
    if (!done()) await this.#ackWaiters.wait(topic, partition, { isSatisfied: done, maxWaitMs: timeoutMs });
    if (committed()) return;
    if (lostLeadership()) {
      throw new SluiceError(
        "NOT_LEADER_OR_FOLLOWER",
        `${topic}-${partition}: leadership moved before offset ${lastOffset} was committed; it may be lost`,
      );
    }
    if (isrTooSmall()) {
      throw new SluiceError(
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        `${topic}-${partition}: appended at ${lastOffset}, but the ISR fell below min.insync.replicas`,
      );
    }
    throw new SluiceError(
      "REQUEST_TIMED_OUT",
      `${topic}-${partition}: the ISR did not take offset ${lastOffset} within ${timeoutMs} ms`,
    );
  }

  #leadership(topic: string, partition: number): Leadership {
    const leadership = this.#leaders.get(partitionId(topic, partition));
    if (leadership === undefined) {
      throw new SluiceError("NOT_LEADER_OR_FOLLOWER", `this node does not lead ${topic}-${partition}`);
    }
    return leadership;
  }

  #advanceHighWatermark(topic: string, partition: number): void {
    const leadership = this.#leaders.get(partitionId(topic, partition));
    if (leadership === undefined) return;
    const log = this.options.logs.partition(topic, partition);
    const hw = leadership.state.highWatermark(log.logEndOffset, leadership.minInsyncReplicas);
    if (hw === undefined || hw <= log.highWatermark) return;
    log.updateHighWatermark(hw);
    this.#notify(topic, partition);
  }

  #notify(topic: string, partition: number): void {
    this.#ackWaiters.notify(topic, partition);
    // Followers learn the new high watermark now, not with the next records (their consumers see it).
    this.#replicaWaiters.notify(topic, partition);
    for (const listener of this.#listeners) listener(topic, partition);
  }

  // -------------------------------------------------------------------------------------------
  // Leader: the replica requests

  async replicaFetch(
    query: ReplicaFetchQuery,
    signal: AbortSignal | undefined,
  ): Promise<{ log: PartitionLog; read: ReadResult; leaderEpoch: number; belowLogStart?: SluiceError }> {
    const { topic, partition } = query;
    const leadership = this.#leadership(topic, partition);
    checkLeaderEpoch(query.leader_epoch, leadership.state.leaderEpoch, topic, partition);
    if (!leadership.state.isReplica(query.replica_id)) {
      throw new SluiceError(
        "NOT_LEADER_OR_FOLLOWER",
        `node ${query.replica_id} is not a replica of ${topic}-${partition}`,
      );
    }
    const log = this.options.logs.partition(topic, partition);
    const belowLogStart = refuseBelowLogStart(query, log, leadership.state.leaderEpoch);
    if (belowLogStart !== undefined) return belowLogStart;
    if (query.offset > log.logEndOffset) {
      throw new SluiceError(
        "OFFSET_OUT_OF_RANGE",
        `replica offset ${query.offset} is past the leader's log end ${log.logEndOffset}`,
        { field: "offset" },
      );
    }
    leadership.state.recordFetch(query.replica_id, query.offset, log.logEndOffset, Date.now());
    this.#advanceHighWatermark(topic, partition);
    this.#maybeExpandIsr(leadership, log, query.replica_id);
    const id = partitionId(topic, partition);
    const ready = () =>
      this.#leaders.get(id) !== leadership ||
      log.logEndOffset > query.offset ||
      log.highWatermark > query.high_watermark;
    if (query.max_wait_ms > 0 && !ready()) {
      const options = { isSatisfied: ready, maxWaitMs: query.max_wait_ms };
      await this.#replicaWaiters.wait(topic, partition, signal ? { ...options, signal } : options);
    }
    if (this.#leaders.get(id) !== leadership) {
      throw new SluiceError("NOT_LEADER_OR_FOLLOWER", `this node no longer leads ${topic}-${partition}`);
    }
    const read = log.read(query.offset, { maxBytes: query.max_bytes, upTo: "log-end" });
    return { log, read, leaderEpoch: leadership.state.leaderEpoch };
  }

  /** Kafka's OffsetsForLeaderEpoch on the leader: the largest epoch <= asked, and where it ends. */
  epochEnd(query: EpochEndQuery): EpochEndAnswer {
    const { topic, partition } = query;
    const leadership = this.#leadership(topic, partition);
    checkLeaderEpoch(query.leader_epoch, leadership.state.leaderEpoch, topic, partition);
    const log = this.options.logs.partition(topic, partition);
    const entry = log.epochs.entries.findLast((e) => e.epoch <= query.epoch);
    if (entry === undefined) return { epoch: -1, endOffset: -1 };
    return { epoch: entry.epoch, endOffset: log.epochs.endOffsetFor(entry.epoch, log.logEndOffset)! };
  }

  // -------------------------------------------------------------------------------------------
  // Leader: ISR changes (Kafka's AlterPartition, written to etcd with a compare on its version)

  #maintainIsrs(): void {
    const now = Date.now();
    for (const leadership of this.#leaders.values()) {
      const { state } = leadership;
      const lagging = state.laggingMembers(now, this.options.replicaLagTimeMaxMs);
      if (lagging.length > 0 && state.pendingIsr === undefined) {
        const log = this.options.logs.partition(state.topic, state.partition);
        this.options.log("info", "followers fell behind; shrinking the ISR", {
          topic: state.topic,
          partition: state.partition,
          lagging,
          logEndOffset: log.logEndOffset,
        });
        void this.#proposeIsr(
          leadership,
          state.isr.filter((id) => !lagging.includes(id)),
        );
      }
    }
  }

  #maybeExpandIsr(leadership: Leadership, log: PartitionLog, replicaId: number): void {
    const { state } = leadership;
    if (state.pendingIsr !== undefined || !state.mayJoinIsr(replicaId, log.highWatermark)) return;
    this.options.log("info", "a follower caught up; expanding the ISR", {
      topic: state.topic,
      partition: state.partition,
      joining: replicaId,
    });
    void this.#proposeIsr(leadership, [...state.isr, replicaId]);
  }

  async #proposeIsr(leadership: Leadership, isr: number[]): Promise<void> {
    const { state } = leadership;
    const ordered = state.state.replicas.filter((id) => isr.includes(id));
    state.pendingIsr = ordered;
    const next = { ...state.state, isr: ordered };
    try {
      const revision = await this.options.store.compareAndPutPartition(
        state.topic,
        state.partition,
        next,
        state.modRevision,
      );
      if (revision === undefined) {
        this.options.refresh(); // someone else changed it: the next snapshot says how
        return;
      }
      if (this.#leaders.get(partitionId(state.topic, state.partition)) !== leadership) return;
      state.state = next;
      state.isr = ordered;
      state.modRevision = revision;
      this.#advanceHighWatermark(state.topic, state.partition);
      this.#ackWaiters.notify(state.topic, state.partition);
    } catch (error) {
      this.options.log("warn", "ISR change not written (etcd away?)", {
        topic: state.topic,
        partition: state.partition,
        error: String(error),
      });
    } finally {
      if (state.pendingIsr === ordered) state.pendingIsr = undefined;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const leaders = [...this.#leaders.values()];
    this.#leaders.clear();
    for (const leadership of leaders)
      this.#ackWaiters.notify(leadership.state.topic, leadership.state.partition);
    await Promise.all([...this.#fetchers.values()].map((fetcher) => fetcher.stop()));
    this.#fetchers.clear();
  }

  get snapshot(): ClusterSnapshot | undefined {
    return this.#snapshot;
  }
}

function checkLeaderEpoch(asked: number, current: number, topic: string, partition: number): void {
  if (asked < current) {
    throw new SluiceError(
      "FENCED_LEADER_EPOCH",
      `${topic}-${partition}: leader epoch ${asked} is older than ${current}`,
    );
  }
  if (asked > current) {
    throw new SluiceError(
      "UNKNOWN_LEADER_EPOCH",
      `${topic}-${partition}: leader epoch ${asked} is newer than ${current}`,
    );
  }
}

function minIsrOf(snapshot: ClusterSnapshot, topic: string): number {
  const record = snapshot.topics.get(topic);
  try {
    return parseTopicConfig(record?.config ?? {})["min.insync.replicas"];
  } catch {
    return 1;
  }
}
