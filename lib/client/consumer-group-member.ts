// A consumer's membership of a group over its WebSocket (ws-groups protocol): join, then read the
// assigned partitions from their committed offsets (else the reset policy), heartbeat every third of
// the session timeout, and on a `rebalance` frame or a heartbeat error give up the partitions, commit
// where they stopped (auto commit) and join again. Auto commit also runs every autoCommitIntervalMs and
// on leave. The partitions are given up before the commit, so no record is handed out after the
// position it commits: the next owner starts exactly where this one stopped.
import type { AssignorName } from "../groups/assignors.ts";
import type { StartFrom } from "./consumer-partition.ts";
import { isSluiceClientError, type SluiceClientError } from "./http.ts";
import type { GroupServerFrame, StreamSocket } from "./stream-socket.ts";

/** The server's default session timeout (Kafka's session.timeout.ms), when the client names none. */
const SESSION_TIMEOUT_MS_DEFAULT = 45_000;
/** Joins in a row that may fail (a member id the group forgot) before the error is the caller's. */
const JOIN_ATTEMPTS_MAX = 3;
/**
 * What a commit meets when the group moved on (a rebalance, this member dropped) or the socket went:
 * Kafka's CommitFailedException, which an auto commit only logs. The records since the last commit
 * are read again by the partition's next owner.
 */
const GROUP_MOVED_ON = ["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS", "CLOSED"];

export interface MemberOptions {
  clientId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  assignor?: AssignorName;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  resetPolicy: "earliest" | "latest";
}

export interface MemberHooks {
  assign(assignments: Array<{ topic: string; partition: number; from: StartFrom }>): Promise<void>;
  revokeAll(): void;
  positions(): Offsets;
  /** An error that ends the consumer, unless it has an onError. */
  error(error: unknown): void;
  /** An error the member got over by itself (an auto commit refused during a rebalance). */
  warn(error: unknown): void;
}

type Offsets = Array<{ topic: string; partition: number; offset: number }>;
interface Membership {
  memberId: string;
  generationId: number;
}

export class ConsumerGroupMember {
  /** The generation this member is in; undefined while it joins. */
  membership: Membership | undefined;
  #memberId: string | undefined;
  #joining: Promise<void> | undefined;
  /** The newest generation a `rebalance` frame ended while a join was under way. */
  #rebalanceOwed: number | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #autoCommitTimer: ReturnType<typeof setInterval> | undefined;
  #heartbeats = 0;
  #stopped = false;

  constructor(
    readonly socket: StreamSocket,
    readonly group: string,
    readonly topics: string[],
    readonly options: MemberOptions,
    readonly hooks: MemberHooks,
  ) {}

  /** True from a rebalance until the new assignment is subscribed. */
  get joining(): boolean {
    return this.#joining !== undefined;
  }

  /** Joins (or waits for the join under way); resolves once the assigned partitions are subscribed. */
  join(): Promise<void> {
    if (this.#joining !== undefined) return this.#joining;
    return this.#track(this.#join());
  }

  /**
   * A `rebalance` frame: the group ends `generationId` (or dropped this member in it). Heard during a
   * join, it is kept for when the join is done: the frame may be about the generation being formed.
   */
  rebalance(generationId: number): void {
    if (this.#stopped) return;
    if (this.#joining !== undefined) {
      this.#rebalanceOwed = Math.max(this.#rebalanceOwed ?? -1, generationId);
      return;
    }
    if (this.membership === undefined || generationId < this.membership.generationId) return;
    this.#rejoin(true);
  }

  /** An error frame: true when it answers one of this member's heartbeats (and is dealt with here). */
  heartbeatFailed(requestId: string | number | undefined, error: SluiceClientError): boolean {
    if (typeof requestId !== "string") return false;
    const match = /^hb(\d+):\d+$/.exec(requestId);
    if (match === null) return false;
    // An answer to a heartbeat of a generation already left behind says nothing about this one.
    if (this.#joining !== undefined || this.membership?.generationId !== Number(match[1])) return true;
    if (error.name === "REBALANCE_IN_PROGRESS" || error.name === "ILLEGAL_GENERATION") this.#rejoin(true);
    else if (error.name === "UNKNOWN_MEMBER_ID") this.#rejoin(false);
    else this.hooks.error(error);
    return true;
  }

  /** Commits as this generation's member (as a standalone consumer before the first join). */
  async commit(offsets: Offsets, membership = this.membership): Promise<void> {
    await this.socket.request<Extract<GroupServerFrame, { type: "committed" }>>({
      type: "commit",
      group: this.group,
      ...(membership === undefined ? {} : membership),
      offsets,
    });
  }

  /** Commits (auto commit) and leaves the group; a join under way is cut short by the leave. */
  async leave(): Promise<void> {
    const joining = this.#joining !== undefined;
    this.stop();
    const { membership } = this;
    const memberId = membership?.memberId ?? this.#memberId;
    this.membership = undefined;
    if (this.socket.closed) return;
    if (!joining && membership !== undefined && this.options.autoCommit) {
      const positions = this.hooks.positions();
      this.hooks.revokeAll();
      await this.#commitQuietly(positions, membership);
    }
    // A first join not answered yet has no id to leave with: the socket's close takes it out.
    if (memberId === undefined) return;
    try {
      await this.socket.request({ type: "leave", group: this.group, memberId });
    } catch (error) {
      if (!isSluiceClientError(error) || !GROUP_MOVED_ON.includes(error.name)) throw error;
    }
  }

  /** The socket is gone, or the consumer is closing: no more heartbeats, commits or joins. */
  stop(): void {
    this.#stopped = true;
    this.#stopTimers();
  }

  /** Runs a join as the one under way; once it is done, a rebalance heard meanwhile starts the next. */
  #track(work: Promise<void>): Promise<void> {
    const joining = work.finally(() => {
      this.#joining = undefined;
      const owed = this.#rebalanceOwed;
      this.#rebalanceOwed = undefined;
      if (owed !== undefined && this.membership !== undefined && owed >= this.membership.generationId)
        this.#rejoin(true);
    });
    this.#joining = joining;
    return joining;
  }

  async #join(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#stopTimers();
      let joined: Extract<GroupServerFrame, { type: "joined" }>;
      try {
        joined = await this.socket.request<Extract<GroupServerFrame, { type: "joined" }>>({
          type: "join",
          group: this.group,
          topics: this.topics,
          ...(this.#memberId === undefined ? {} : { memberId: this.#memberId }),
          ...defined({
            clientId: this.options.clientId,
            sessionTimeoutMs: this.options.sessionTimeoutMs,
            rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
            assignor: this.options.assignor,
          }),
        });
      } catch (error) {
        // Dropped after its session timeout, the member is a stranger now: it joins as a new one.
        const forgotten = isSluiceClientError(error, "UNKNOWN_MEMBER_ID") && this.#memberId !== undefined;
        if (this.#stopped || !forgotten || attempt >= JOIN_ATTEMPTS_MAX) throw error;
        this.#memberId = undefined;
        continue;
      }
      if (this.#stopped) return;
      this.#memberId = joined.memberId;
      this.membership = { memberId: joined.memberId, generationId: joined.generationId };
      await this.hooks.assign(
        joined.assignment.map(({ topic, partition, committedOffset }) => ({
          topic,
          partition,
          from: committedOffset === null ? this.options.resetPolicy : { offset: committedOffset },
        })),
      );
      this.#startTimers();
      return;
    }
  }

  /** Gives up the partitions, commits where they stopped (auto commit), and joins again. */
  #rejoin(keepMemberId: boolean): void {
    if (this.#joining !== undefined || this.#stopped) return;
    this.#stopTimers();
    const { membership } = this;
    const positions = this.hooks.positions();
    this.hooks.revokeAll();
    this.membership = undefined;
    if (!keepMemberId) this.#memberId = undefined;
    void this.#track(
      (async () => {
        // A member the group forgot cannot commit: its partitions are someone else's already.
        if (this.options.autoCommit && keepMemberId && membership !== undefined)
          await this.#commitQuietly(positions, membership);
        await this.#join();
      })(),
    ).catch((error: unknown) => {
      if (!this.#stopped) this.hooks.error(error);
    });
  }

  async #commitQuietly(positions: Offsets, membership: Membership | undefined): Promise<void> {
    if (positions.length === 0 || membership === undefined) return;
    try {
      await this.commit(positions, membership);
    } catch (error) {
      if (isSluiceClientError(error) && GROUP_MOVED_ON.includes(error.name)) this.hooks.warn(error);
      else this.hooks.error(error);
    }
  }

  #startTimers(): void {
    if (this.#stopped) return;
    const heartbeatMs = Math.floor((this.options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT) / 3);
    this.#heartbeatTimer = setInterval(() => {
      const membership = this.membership;
      if (membership === undefined || this.socket.closed) return;
      this.socket.send({
        type: "heartbeat",
        // The generation rides in the id, so a late answer about an older one is known for what it is.
        requestId: `hb${membership.generationId}:${++this.#heartbeats}`,
        group: this.group,
        ...membership,
      });
    }, heartbeatMs);
    if (this.options.autoCommit) {
      this.#autoCommitTimer = setInterval(() => {
        if (this.#joining === undefined) void this.#commitQuietly(this.hooks.positions(), this.membership);
      }, this.options.autoCommitIntervalMs);
    }
  }

  #stopTimers(): void {
    clearInterval(this.#heartbeatTimer);
    clearInterval(this.#autoCommitTimer);
    this.#heartbeatTimer = undefined;
    this.#autoCommitTimer = undefined;
  }
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
