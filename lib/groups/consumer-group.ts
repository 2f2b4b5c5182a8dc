// One consumer group's membership, in the spirit of Kafka's classic group coordinator: members join with
// a session timeout and the topics they read, a join or a leave or a silent member starts a rebalance,
// the rebalance waits for every member to join again (or drops those that do not within the rebalance
// timeout), and then the assignor deals the partitions out under a new generation id. Unlike classic
// Kafka the assignment is made here, on the server (as KIP-848 does), so a join answers with the
// member's partitions and there is no SyncGroup round trip. Time comes from the injected clock: session
// and rebalance timers are clock timers, so tests move a ManualClock instead of sleeping.
import { assert } from "../assert.ts";
import type { CancelTimer, Clock } from "../clock.ts";
import { SluiceError } from "../errors.ts";
import { type AssignorName, assignorFor } from "./assignors.ts";
import { assertTransition, type GroupState } from "./group-state.ts";
import { GROUP_MEMBERS_MAX } from "./limits.ts";
import { subscribedTopics, type TopicPartitions } from "./partition-assignor.ts";

export interface JoinRequest {
  /** Left out by a new member; the id the group gave, when a member joins again. */
  memberId?: string;
  clientId: string;
  /** Sorted, without repeats. */
  topics: readonly string[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignor: AssignorName;
  /**
   * Told the new member's id at once, before the rebalance completes: a WebSocket connection ties the
   * member to itself from the start, so it can leave even while its first join waits.
   */
  onMemberId?: (memberId: string) => void;
}

export interface JoinResult {
  memberId: string;
  generationId: number;
  /**
   * Kafka's group leader: the member that has been in the group longest. Sluice assigns on the server,
   * so the leader has no work to do; clients that elect one task among the members can use it.
   */
  leader: boolean;
  assignor: AssignorName;
  assignment: TopicPartitions[];
  /** How often to heartbeat to keep the place and to hear of a rebalance well within its timeout. */
  heartbeatIntervalMs: number;
}

export interface MemberDescription {
  memberId: string;
  clientId: string;
  topics: string[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignment: TopicPartitions[];
}

export interface ConsumerGroupOptions {
  clock: Clock;
  /** A topic's partition count, 0 when it does not exist. */
  partitionCount: (topic: string) => number;
  initialRebalanceDelayMs: number;
  newMemberId: (clientId: string) => string;
  /** Called when the group has no members left (after the last leaves, or a rebalance no one joined). */
  onEmpty: () => void;
  /** Told of each membership event, so a connection can tell its members at once (ws-group-members.ts). */
  listener?: MembershipListener;
}

/** Why a member is no longer in its group. */
export type MemberRemoval = "left" | "session-timeout" | "rebalance-timeout";

export interface RebalanceStarted {
  groupId: string;
  /** The generation the rebalance ends. */
  generationId: number;
  /** The members that have to join again: those not already waiting in a join. */
  memberIds: readonly string[];
}

export interface MemberRemoved {
  groupId: string;
  /** The group's generation when the member went. */
  generationId: number;
  memberId: string;
  why: MemberRemoval;
}

export interface MembershipListener {
  rebalanceStarted(event: RebalanceStarted): void;
  /** A member left or was dropped; the group goes on without it. */
  memberRemoved(event: MemberRemoved): void;
}

interface Member {
  id: string;
  clientId: string;
  topics: string[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignment: TopicPartitions[];
  /** Monotonic time of its last join, heartbeat or commit. */
  lastSeenMs: number;
  cancelSessionTimer: CancelTimer;
  /** Its join waiting for the rebalance to complete, if it has joined this rebalance. */
  pendingJoin: PendingJoin | undefined;
}

interface PendingJoin {
  promise: Promise<JoinResult>;
  resolve: (result: JoinResult) => void;
  reject: (error: SluiceError) => void;
}

interface Rebalance {
  /** The rebalance completes at this monotonic time whoever has joined by then. */
  deadlineMs: number;
  /** The group was empty: newcomers are waited for (Kafka's InitialDelayedJoin). */
  initial: boolean;
  /** It does not complete before this monotonic time (the initial delay). */
  delayUntilMs: number;
  cancelDeadline: CancelTimer;
  cancelDelay: CancelTimer | undefined;
}

export class ConsumerGroup {
  #state: GroupState = "Empty";
  #generationId = 0;
  /** Chosen by the first member to join an empty group; the others must name the same. */
  #assignor: AssignorName | undefined;
  /** In join order, which picks the leader. */
  readonly #members = new Map<string, Member>();
  #rebalance: Rebalance | undefined;
  /** The partition count of each subscribed topic when the assignment was made (0: no such topic). */
  #assignedPartitionCounts = new Map<string, number>();

  constructor(
    readonly groupId: string,
    readonly options: ConsumerGroupOptions,
  ) {}

  get state(): GroupState {
    return this.#state;
  }

  get generationId(): number {
    return this.#generationId;
  }

  get memberCount(): number {
    return this.#members.size;
  }

  /** Joins waiting for the rebalance to complete. */
  get pendingJoins(): number {
    return [...this.#members.values()].filter((member) => member.pendingJoin !== undefined).length;
  }

  /**
   * Adds a member (no memberId) or takes a member's join again. Answers once the rebalance it starts or
   * joins completes; at once when a stable group's member joins again with nothing changed.
   */
  join(request: JoinRequest): Promise<JoinResult> {
    assert(this.#state !== "Dead", "a dead group takes no joins");
    if (this.#members.size > 0 && request.assignor !== this.#assignor) {
      throw new SluiceError(
        "INCONSISTENT_GROUP_PROTOCOL",
        `group "${this.groupId}" uses the ${this.#assignor} assignor, not ${request.assignor}`,
        { field: "assignor" },
      );
    }
    if (request.memberId === undefined) return this.#joinNew(request);
    return this.#joinAgain(this.#member(request.memberId), request);
  }

  #joinNew(request: JoinRequest): Promise<JoinResult> {
    if (this.#members.size >= GROUP_MEMBERS_MAX) {
      throw new SluiceError(
        "GROUP_MAX_SIZE_REACHED",
        `group "${this.groupId}" has ${GROUP_MEMBERS_MAX} members, the most a group may have`,
      );
    }
    const id = this.options.newMemberId(request.clientId);
    assert(!this.#members.has(id), `member id ${id} handed out twice`);
    const member: Member = {
      id,
      clientId: request.clientId,
      topics: [...request.topics],
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      assignment: [],
      lastSeenMs: this.#nowMs(),
      cancelSessionTimer: () => {},
      pendingJoin: undefined,
    };
    this.#members.set(id, member);
    request.onMemberId?.(id);
    this.#assignor = request.assignor;
    this.#armSessionTimer(member, member.sessionTimeoutMs);
    const joined = this.#awaitRebalance(member);
    if (this.#state !== "PreparingRebalance") this.#prepareRebalance();
    else if (this.#rebalance!.initial && this.#nowMs() < this.#rebalance!.delayUntilMs)
      this.#delayRebalance();
    this.#maybeCompleteRebalance();
    return joined;
  }

  #joinAgain(member: Member, request: JoinRequest): Promise<JoinResult> {
    assert(this.#state !== "CompletingRebalance", "a group never rests in CompletingRebalance");
    const changed = member.topics.join("\n") !== request.topics.join("\n");
    member.topics = [...request.topics];
    member.clientId = request.clientId;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.lastSeenMs = this.#nowMs();
    // Kafka answers a follower's unchanged join in a stable group with what it has: no rebalance.
    if (this.#state === "Stable" && !changed) return Promise.resolve(this.#joinResult(member));
    const joined = this.#awaitRebalance(member);
    if (this.#state === "Stable") this.#prepareRebalance();
    this.#maybeCompleteRebalance();
    return joined;
  }

  /**
   * Keeps a member in the group. ILLEGAL_GENERATION when it missed a rebalance; REBALANCE_IN_PROGRESS
   * (after counting the heartbeat) while one runs, so the member joins again. A change in the partition
   * count of a topic the group reads starts one too, as a Kafka consumer's metadata refresh would.
   */
  heartbeat(memberId: string, generationId: number): void {
    const member = this.#member(memberId);
    this.#checkGeneration(generationId);
    member.lastSeenMs = this.#nowMs();
    if (this.#state === "Stable" && this.#partitionsChanged()) this.#prepareRebalance();
    if (this.#state === "PreparingRebalance") {
      throw new SluiceError(
        "REBALANCE_IN_PROGRESS",
        `group "${this.groupId}" is rebalancing: join again to get the new assignment`,
      );
    }
  }

  /** The member leaves at once (Kafka's LeaveGroup); the others rebalance. */
  leave(memberId: string): void {
    this.#removeMember(this.#member(memberId), "left");
  }

  /**
   * Checks who commits, as Kafka's classic coordinator does: a member must name its current
   * generation; a commit naming no member (a standalone consumer's) is taken only while the group has
   * no members. A member's commit counts as a sign of life.
   */
  checkCommit(memberId: string | undefined, generationId: number | undefined): void {
    if (memberId === undefined && generationId === undefined) {
      if (this.#members.size === 0) return;
      throw new SluiceError(
        "UNKNOWN_MEMBER_ID",
        `group "${this.groupId}" has ${this.#members.size} active member(s): a commit must name the member ` +
          "and its generation",
        { field: "memberId" },
      );
    }
    if (memberId === undefined || generationId === undefined) {
      const field = memberId === undefined ? "memberId" : "generationId";
      throw new SluiceError("INVALID_REQUEST", `${field}: memberId and generationId go together`, { field });
    }
    const member = this.#member(memberId);
    this.#checkGeneration(generationId);
    member.lastSeenMs = this.#nowMs();
  }

  describe(): {
    state: GroupState;
    generationId: number;
    assignor: AssignorName | null;
    members: MemberDescription[];
  } {
    const members = [...this.#members.values()]
      .map((member) => ({
        memberId: member.id,
        clientId: member.clientId,
        topics: [...member.topics],
        sessionTimeoutMs: member.sessionTimeoutMs,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        assignment: member.assignment,
      }))
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    return {
      state: this.#state,
      generationId: this.#generationId,
      assignor: this.#assignor ?? null,
      members,
    };
  }

  /** Deleted: only an empty group may be. */
  markDead(): void {
    assert(this.#members.size === 0, "only an empty group is deleted");
    assertTransition(this.#state, "Dead");
    this.#state = "Dead";
  }

  /** Stops every timer; joins still waiting answer `reason` (LOG_CLOSED: the node stops). */
  close(reason: SluiceError = new SluiceError("LOG_CLOSED", "the node is shutting down")): void {
    this.#rebalance?.cancelDeadline();
    this.#rebalance?.cancelDelay?.();
    this.#rebalance = undefined;
    for (const member of this.#members.values()) {
      member.cancelSessionTimer();
      member.pendingJoin?.reject(reason);
      member.pendingJoin = undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rebalancing

  #prepareRebalance(): void {
    assertTransition(this.#state, "PreparingRebalance");
    const fromEmpty = this.#state === "Empty";
    this.#state = "PreparingRebalance";
    const nowMs = this.#nowMs();
    // Kafka's rebalance timeout is the largest any member asked for.
    const timeoutMs = Math.max(0, ...[...this.#members.values()].map((member) => member.rebalanceTimeoutMs));
    const toRejoin = [...this.#members.values()].filter((member) => member.pendingJoin === undefined);
    this.#rebalance = {
      deadlineMs: nowMs + timeoutMs,
      initial: fromEmpty,
      delayUntilMs: nowMs,
      cancelDeadline: this.options.clock.setTimer(() => this.#completeRebalance(), timeoutMs),
      cancelDelay: undefined,
    };
    if (fromEmpty) this.#delayRebalance();
    if (toRejoin.length === 0) return;
    const memberIds = toRejoin.map((member) => member.id);
    this.options.listener?.rebalanceStarted({
      groupId: this.groupId,
      generationId: this.#generationId,
      memberIds,
    });
  }

  /**
   * Holds the first rebalance of an empty group initialRebalanceDelayMs more, from now: each newcomer
   * during the delay restarts it, never past the rebalance deadline.
   */
  #delayRebalance(): void {
    const rebalance = this.#rebalance!;
    const nowMs = this.#nowMs();
    const delayMs = Math.min(this.options.initialRebalanceDelayMs, rebalance.deadlineMs - nowMs);
    if (delayMs <= 0) return;
    rebalance.cancelDelay?.();
    rebalance.delayUntilMs = nowMs + delayMs;
    rebalance.cancelDelay = this.options.clock.setTimer(() => this.#maybeCompleteRebalance(), delayMs);
  }

  /**
   * Completes the rebalance once every member has joined and no initial delay is left; at once when no
   * member is left to wait for.
   */
  #maybeCompleteRebalance(): void {
    const rebalance = this.#rebalance;
    if (this.#state !== "PreparingRebalance" || rebalance === undefined) return;
    if (this.#members.size > 0 && this.#nowMs() < rebalance.delayUntilMs) return;
    if ([...this.#members.values()].every((member) => member.pendingJoin !== undefined))
      this.#completeRebalance();
  }

  /**
   * Drops the members that did not join in time, then hands out a new generation: the assignor's
   * partitions to every member, answered to the joins waiting for them.
   */
  #completeRebalance(): void {
    assert(this.#state === "PreparingRebalance", `a rebalance completes from ${this.#state}`);
    this.#rebalance?.cancelDeadline();
    this.#rebalance?.cancelDelay?.();
    this.#rebalance = undefined;
    const missed = [...this.#members.values()].filter((member) => member.pendingJoin === undefined);
    for (const member of missed) this.#forget(member);
    for (const member of missed) this.#told(member, "rebalance-timeout");
    this.#generationId++;
    if (this.#members.size === 0) {
      assertTransition(this.#state, "Empty");
      this.#state = "Empty";
      this.#assignor = undefined;
      this.#assignedPartitionCounts = new Map();
      this.options.onEmpty();
      return;
    }
    assertTransition(this.#state, "CompletingRebalance");
    this.#state = "CompletingRebalance";
    this.#assign();
    assertTransition(this.#state, "Stable");
    this.#state = "Stable";
    const nowMs = this.#nowMs();
    for (const member of this.#members.values()) {
      const join = member.pendingJoin!;
      member.pendingJoin = undefined;
      member.lastSeenMs = nowMs;
      join.resolve(this.#joinResult(member));
    }
  }

  #assign(): void {
    const members = [...this.#members.values()].map((member) => ({
      memberId: member.id,
      topics: member.topics,
    }));
    const counts = new Map(
      subscribedTopics(members).map((topic) => [topic, this.options.partitionCount(topic)]),
    );
    const assignment = assignorFor(this.#assignor!).assign(members, (topic) => counts.get(topic) ?? 0);
    for (const member of this.#members.values()) member.assignment = assignment.get(member.id)!;
    this.#assignedPartitionCounts = counts;
  }

  #partitionsChanged(): boolean {
    for (const [topic, count] of this.#assignedPartitionCounts) {
      if (this.options.partitionCount(topic) !== count) return true;
    }
    return false;
  }

  #awaitRebalance(member: Member): Promise<JoinResult> {
    // A member that sends a second join while its first waits gets the same answer on both.
    member.pendingJoin ??= pendingJoin();
    return member.pendingJoin.promise;
  }

  #joinResult(member: Member): JoinResult {
    return {
      memberId: member.id,
      generationId: this.#generationId,
      // Map order is join order: the longest-standing member leads, and the next one when it goes.
      leader: this.#members.keys().next().value === member.id,
      assignor: this.#assignor!,
      assignment: member.assignment,
      heartbeatIntervalMs: Math.max(
        1,
        Math.floor(Math.min(member.sessionTimeoutMs, member.rebalanceTimeoutMs) / 3),
      ),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Members and sessions

  #member(memberId: string): Member {
    const member = this.#members.get(memberId);
    if (member !== undefined) return member;
    throw unknownMember(this.groupId, memberId);
  }

  #checkGeneration(generationId: number): void {
    if (generationId === this.#generationId) return;
    throw new SluiceError(
      "ILLEGAL_GENERATION",
      `generation ${generationId} is not group "${this.groupId}"'s current ${this.#generationId}: join again`,
      { field: "generationId" },
    );
  }

  /**
   * Checks the member's session when its timer fires: silent for its whole session timeout, it is
   * dropped; otherwise the timer is set for the rest. A member waiting in a join is never dropped: the
   * rebalance answers it by its deadline.
   */
  #armSessionTimer(member: Member, delayMs: number): void {
    member.cancelSessionTimer = this.options.clock.setTimer(() => {
      if (this.#members.get(member.id) !== member) return;
      const silentMs = this.#nowMs() - member.lastSeenMs;
      if (member.pendingJoin === undefined && silentMs >= member.sessionTimeoutMs) {
        this.#removeMember(member, "session-timeout");
        return;
      }
      const restMs =
        member.pendingJoin === undefined ? member.sessionTimeoutMs - silentMs : member.sessionTimeoutMs;
      this.#armSessionTimer(member, restMs);
    }, delayMs);
  }

  #removeMember(member: Member, why: "left" | "session-timeout"): void {
    this.#forget(member);
    const reason =
      why === "left" ? "it left the group" : `it sent no heartbeat for ${member.sessionTimeoutMs} ms`;
    member.pendingJoin?.reject(unknownMember(this.groupId, member.id, { why: reason }));
    member.pendingJoin = undefined;
    this.#told(member, why);
    if (this.#state === "Stable") this.#prepareRebalance();
    this.#maybeCompleteRebalance();
  }

  #told(member: Member, why: MemberRemoval): void {
    const event = { groupId: this.groupId, generationId: this.#generationId, memberId: member.id, why };
    this.options.listener?.memberRemoved(event);
  }

  #forget(member: Member): void {
    member.cancelSessionTimer();
    this.#members.delete(member.id);
  }

  #nowMs(): number {
    return this.options.clock.monotonicMs();
  }
}

/** UNKNOWN_MEMBER_ID: the member must join again without its id. */
export function unknownMember(
  groupId: string,
  memberId: string,
  { why = "it is not in the group" }: { why?: string } = {},
): SluiceError {
  return new SluiceError(
    "UNKNOWN_MEMBER_ID",
    `member "${memberId}" of group "${groupId}" is unknown (${why}): join again without a member id`,
    { field: "memberId" },
  );
}

function pendingJoin(): PendingJoin {
  let resolve!: PendingJoin["resolve"];
  let reject!: PendingJoin["reject"];
  const promise = new Promise<JoinResult>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
