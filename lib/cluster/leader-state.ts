// What a partition's leader knows of its followers (Kafka's Partition and Replica state): each
// follower's log end offset as its fetches report it, when it was last caught up, and from those the
// high watermark and the ISR changes to propose. No I/O here: replica-manager.ts acts on the answers.
import type { PartitionState } from "./metadata.ts";

export const UNKNOWN_OFFSET = -1;

interface FollowerPosition {
  /** The follower's log end offset: the offset of its last fetch. UNKNOWN_OFFSET before one. */
  logEndOffset: number;
  /** The last time the follower had everything the leader had (Kafka's lastCaughtUpTimeMs). */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's log end offset at the follower's previous fetch. */
  lastFetchLeaderLogEndOffset: number;
}

export class LeaderState {
  /** The ISR as etcd holds it: only a committed change moves it. */
  isr: number[];
  /** An ISR change written to etcd and not yet confirmed. */
  pendingIsr: number[] | undefined;
  readonly #followers = new Map<number, FollowerPosition>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly selfId: number,
    public state: PartitionState,
    /** The etcd mod revision of `state`: an ISR change compares against it. */
    public modRevision: string,
    /** The log end when this node became leader: the start of its epoch. */
    readonly epochStartOffset: number,
    nowMs: number,
  ) {
    this.isr = [...state.isr];
    this.setReplicas(state.replicas, nowMs);
  }

  /**
   * Follows the replica set (a reassignment adds and drops replicas while this node leads): a new
   * follower starts unknown, a dropped one is forgotten. A new leader gives every follower a full
   * lag period to show it is still caught up (Kafka too), and so does an added one.
   */
  setReplicas(replicas: readonly number[], nowMs: number): void {
    for (const id of [...this.#followers.keys()]) {
      if (!replicas.includes(id)) this.#followers.delete(id);
    }
    for (const id of replicas) {
      if (id === this.selfId || this.#followers.has(id)) continue;
      this.#followers.set(id, {
        logEndOffset: UNKNOWN_OFFSET,
        lastCaughtUpMs: nowMs,
        lastFetchMs: nowMs,
        lastFetchLeaderLogEndOffset: UNKNOWN_OFFSET,
      });
    }
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  isReplica(id: number): boolean {
    return this.#followers.has(id);
  }

  /** A follower fetched from `fetchOffset` while the leader's log ended at `leaderLogEndOffset`. */
  recordFetch(id: number, fetchOffset: number, leaderLogEndOffset: number, nowMs: number): void {
    const follower = this.#followers.get(id);
    if (follower === undefined) return;
    // Kafka's rule: caught up now when it asks from the log end; caught up at its previous fetch
    // when it now asks from where the log ended then.
    if (fetchOffset >= leaderLogEndOffset) follower.lastCaughtUpMs = nowMs;
    else if (fetchOffset >= follower.lastFetchLeaderLogEndOffset)
      follower.lastCaughtUpMs = Math.max(follower.lastCaughtUpMs, follower.lastFetchMs);
    follower.logEndOffset = fetchOffset;
    follower.lastFetchMs = nowMs;
    follower.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
  }

  /** The ISR the high watermark must wait for: the committed one plus members being added (KIP-497). */
  maximalIsr(): number[] {
    return [...new Set([...this.isr, ...(this.pendingIsr ?? [])])];
  }

  /**
   * The high watermark the ISR allows: the smallest log end offset among its members, or undefined
   * while the ISR is smaller than min.insync.replicas (no commit then) or a member's position is
   * not known yet.
   */
  highWatermark(leaderLogEndOffset: number, minInsyncReplicas: number): number | undefined {
    if (this.isr.length < minInsyncReplicas) return undefined;
    let hw = leaderLogEndOffset;
    for (const id of this.maximalIsr()) {
      if (id === this.selfId) continue;
      const leo = this.#followers.get(id)?.logEndOffset ?? UNKNOWN_OFFSET;
      if (leo === UNKNOWN_OFFSET) return undefined;
      hw = Math.min(hw, leo);
    }
    return hw;
  }

  /** ISR members (not the leader) that have not been caught up for `lagMaxMs`. */
  laggingMembers(nowMs: number, lagMaxMs: number): number[] {
    return this.isr.filter((id) => {
      const follower = this.#followers.get(id);
      return id !== this.selfId && follower !== undefined && nowMs - follower.lastCaughtUpMs > lagMaxMs;
    });
  }

  /**
   * Whether replica `id`, outside the ISR, may join: caught up to the high watermark and into this
   * epoch. Asked only for the replica fetching now (Kafka's maybeExpandIsr): a replica that went
   * quiet keeps its last position here, and must not be brought back by another's fetch.
   */
  mayJoinIsr(id: number, highWatermark: number): boolean {
    const follower = this.#followers.get(id);
    if (follower === undefined || this.isr.includes(id)) return false;
    const leo = follower.logEndOffset;
    return leo !== UNKNOWN_OFFSET && leo >= highWatermark && leo >= this.epochStartOffset;
  }

  positions(): Array<{ id: number; logEndOffset: number; lastCaughtUpMs: number }> {
    return [...this.#followers].map(([id, f]) => ({
      id,
      logEndOffset: f.logEndOffset,
      lastCaughtUpMs: f.lastCaughtUpMs,
    }));
  }
}
