// A consumer's membership of a group over its WebSocket (ws-groups protocol): join, then read the
// assigned partitions from their committed offsets (else the reset policy), heartbeat every third of
// the session timeout, and on a `rebalance` frame or a heartbeat error commit (auto commit), give up
// the partitions and join again. Auto commit also runs every autoCommitIntervalMs and on leave.
import type { AssignorName } from "../groups/assignors.ts";
import type { StartFrom } from "./consumer-partition.ts";
import type { SluiceClientError } from "./http.ts";
import type { GroupServerFrame, StreamSocket } from "./stream-socket.ts";

/** The server's default session timeout (Kafka's session.timeout.ms), when the client names none. */
const SESSION_TIMEOUT_MS_DEFAULT = 45_000;
/** Joins in a row that may fail (a member id the group forgot) before the error is the caller's. */
const JOIN_ATTEMPTS_MAX = 3;

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
  positions(): Array<{ topic: string; partition: number; offset: number }>;
  error(error: unknown): void;
}

type Offsets = Array<{ topic: string; partition: number; offset: number }>;

export class ConsumerGroupMember {
  membership: { memberId: string; generationId: number } | undefined;
  #memberId: string | undefined;
  #joining: Promise<void> | undefined;
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

  /** Joins (or waits for the join under way); resolves once the assigned partitions are subscribed. */
  join(): Promise<void> {
    this.#joining ??= this.#join().finally(() => {
      this.#joining = undefined;
    });
    return this.#joining;
  }

  /** A `rebalance` frame: rejoin, unless it is about a generation before the one this join formed. */
  rebalance(generationId: number): void {
    if (this.#joining !== undefined || this.membership === undefined) return;
    if (generationId < this.membership.generationId) return;
    this.#rejoin(true);
  }

  /** An error frame: true when it answers one of this member's heartbeats (and is dealt with here). */
  heartbeatFailed(requestId: string | number | undefined, error: SluiceClientError): boolean {
    if (typeof requestId !== "string" || !requestId.startsWith("hb")) return false;
    if (error.name === "REBALANCE_IN_PROGRESS") this.#rejoin(true);
    else if (error.name === "UNKNOWN_MEMBER_ID" || error.name === "ILLEGAL_GENERATION") this.#rejoin(false);
    else this.hooks.error(error);
    return true;
  }

  async commit(offsets: Offsets): Promise<void> {
    const membership = this.membership;
    const member = membership === undefined ? {} : membership;
    await this.socket.request<Extract<GroupServerFrame, { type: "committed" }>>({
      type: "commit",
      group: this.group,
      ...member,
      offsets,
    });
  }

  /** Commits (auto commit) and leaves the group. */
  async leave(): Promise<void> {
    await this.#joining?.catch(() => {});
    this.stop();
    const membership = this.membership;
    if (membership === undefined || this.socket.closed) return;
    if (this.options.autoCommit) await this.#commitPositions();
    this.membership = undefined;
    await this.socket.request({ type: "leave", group: this.group, memberId: membership.memberId });
  }

  /** The socket is gone, or the consumer is closing: no more heartbeats or commits. */
  stop(): void {
    this.#stopped = true;
    this.#stopTimers();
  }

  async #join(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#stopTimers();
      try {
        const joined = await this.socket.request<Extract<GroupServerFrame, { type: "joined" }>>({
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
      } catch (error) {
        const name = (error as { name?: unknown }).name;
        const forgotten = name === "UNKNOWN_MEMBER_ID" || name === "ILLEGAL_GENERATION";
        if (!forgotten || attempt >= JOIN_ATTEMPTS_MAX) throw error;
        this.#memberId = undefined;
      }
    }
  }

  #rejoin(keepMemberId: boolean): void {
    if (this.#joining !== undefined || this.#stopped) return;
    this.#joining = (async () => {
      this.#stopTimers();
      if (this.options.autoCommit) await this.#commitPositions();
      this.hooks.revokeAll();
      if (!keepMemberId) this.#memberId = undefined;
      this.membership = undefined;
      await this.#join();
    })()
      .catch((error: unknown) => this.hooks.error(error))
      .finally(() => {
        this.#joining = undefined;
      });
  }

  async #commitPositions(): Promise<void> {
    const positions = this.hooks.positions();
    if (positions.length === 0 || this.membership === undefined) return;
    try {
      await this.commit(positions);
    } catch (error) {
      // A commit refused during a rebalance (ILLEGAL_GENERATION) is Kafka's CommitFailedException:
      // the records since the last commit will be read again by the partition's next owner.
      this.hooks.error(error);
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
        requestId: `hb${++this.#heartbeats}`,
        group: this.group,
        ...membership,
      });
    }, heartbeatMs);
    if (this.options.autoCommit) {
      this.#autoCommitTimer = setInterval(
        () => void this.#commitPositions(),
        this.options.autoCommitIntervalMs,
      );
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
