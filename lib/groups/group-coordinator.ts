// The group coordinator: every consumer group of the node, their membership (consumer-group.ts) and
// their committed offsets (committed-offsets.ts, kept in the offsets topic). It checks what the world
// sends, applies Kafka's rules on who may commit, reset or delete, describes groups with their lag, and
// is the source of sluice_consumer_group_lag. At startup it replays the offsets topic, so commits
// survive a restart; memberships do not (every client reconnects and joins again after one).
import type { Clock } from "../clock.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import { checkText, isWellFormed } from "../gateway/payload-format.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import type { ConsumerLagSource } from "../metrics/sluice-metrics.ts";
import type { LogManager } from "../topics/log-manager.ts";
import { ASSIGNOR_DEFAULT, type AssignorName } from "./assignors.ts";
import {
  type CommittedOffset,
  CommittedOffsets,
  type OffsetToCommit,
  type ReplayReport,
} from "./committed-offsets.ts";
import {
  ConsumerGroup,
  type JoinResult,
  type MemberDescription,
  type MembershipListener,
  unknownMember,
} from "./consumer-group.ts";
import { describePartitions, type GroupPartitionDescription } from "./group-lag.ts";
import type { GroupState } from "./group-state.ts";
import {
  CLIENT_ID_BYTES_MAX,
  GROUP_ID_BYTES_MAX,
  INITIAL_REBALANCE_DELAY_MS_DEFAULT,
  OFFSET_METADATA_BYTES_MAX,
  OFFSETS_PER_COMMIT_MAX,
  REBALANCE_TIMEOUT_MS_MAX,
  REBALANCE_TIMEOUT_MS_MIN,
  SESSION_TIMEOUT_MS_DEFAULT,
  SESSION_TIMEOUT_MS_MAX,
  SESSION_TIMEOUT_MS_MIN,
  SUBSCRIBED_TOPICS_MAX,
} from "./limits.ts";
import { type ResetTarget, resetOffsetFor } from "./offset-reset.ts";
import { OffsetsTopic } from "./offsets-topic.ts";

export type {
  JoinResult,
  MemberDescription,
  MemberRemoval,
  MemberRemoved,
  MembershipListener,
  RebalanceStarted,
} from "./consumer-group.ts";

export interface JoinInput {
  /** Left out by a new member. */
  memberId?: string;
  clientId?: string;
  topics: readonly string[];
  sessionTimeoutMs?: number;
  /** How long a rebalance waits for members to join again; also bounds this join's wait. */
  rebalanceTimeoutMs?: number;
  assignor?: AssignorName;
  /** Told a new member's id at once, before the rebalance completes. */
  onMemberId?: (memberId: string) => void;
}

export interface CommitInput {
  offsets: readonly OffsetToCommit[];
  /** Both or neither: a member's commit, or a standalone one (only while the group has no members). */
  memberId?: string;
  generationId?: number;
}

export type ResetInput = ResetTarget & {
  topic: string;
  /** Every partition of the topic when left out. */
  partitions?: readonly number[];
};

export interface GroupSummary {
  group: string;
  state: GroupState;
  generationId: number;
  members: number;
}

export interface GroupDescription {
  group: string;
  state: GroupState;
  generationId: number;
  /** The assignor the members chose; null while the group has none. */
  assignor: AssignorName | null;
  members: MemberDescription[];
  partitions: GroupPartitionDescription[];
}

export interface GroupCoordinatorOptions {
  logs: LogManager;
  /** Kafka's group.initial.rebalance.delay.ms; tests that are not about it pass 0. */
  initialRebalanceDelayMs?: number;
  /** Kafka's member ids: the client id, a dash, a UUID. Tests pass a deterministic one. */
  newMemberId?: (clientId: string) => string;
  /** Told about offsets-topic records the replay could not read; defaults to console.error. */
  onReplaySkipped?: (error: unknown, where: string) => void;
}

export class GroupCoordinator implements ConsumerLagSource {
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #listeners = new Set<MembershipListener>();
  /** Passes every group's membership events on to the listeners watching. */
  readonly #fanOut: MembershipListener = {
    rebalanceStarted: (event) => {
      for (const listener of [...this.#listeners]) listener.rebalanceStarted(event);
    },
    memberRemoved: (event) => {
      for (const listener of [...this.#listeners]) listener.memberRemoved(event);
    },
  };
  readonly #offsets: CommittedOffsets;
  readonly logs: LogManager;
  readonly clock: Clock;
  /** What the startup replay of the offsets topic read. */
  readonly replay: ReplayReport;

  private constructor(readonly options: GroupCoordinatorOptions) {
    this.logs = options.logs;
    this.clock = options.logs.clock;
    const onSkipped =
      options.onReplaySkipped ??
      ((error: unknown, where: string) =>
        console.error(`sluice: skipped ${where} of the offsets topic:`, error));
    const { offsets, report } = CommittedOffsets.load(new OffsetsTopic(this.logs), onSkipped);
    this.#offsets = offsets;
    this.replay = report;
    for (const groupId of offsets.groups()) this.#groups.set(groupId, this.#newGroup(groupId));
  }

  /** Replays the offsets topic (if it exists yet) and starts with every group it names, empty. */
  static open(options: GroupCoordinatorOptions): GroupCoordinator {
    return new GroupCoordinator(options);
  }

  // -------------------------------------------------------------------------------------------
  // Membership

  /** Joins (or joins again); answers when the rebalance completes, within the rebalance timeout. */
  join(groupId: string, input: JoinInput): Promise<JoinResult> {
    checkGroupId(groupId);
    const request = {
      clientId: input.clientId ?? "consumer",
      topics: [...new Set(input.topics)].sort(),
      sessionTimeoutMs: input.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs ?? REBALANCE_TIMEOUT_MS_MAX,
      assignor: input.assignor ?? ASSIGNOR_DEFAULT,
      ...(input.memberId === undefined ? {} : { memberId: input.memberId }),
      ...(input.onMemberId === undefined ? {} : { onMemberId: input.onMemberId }),
    };
    checkJoin(request);
    let group = this.#groups.get(groupId);
    if (group === undefined) {
      if (input.memberId !== undefined) throw unknownMember(groupId, input.memberId);
      group = this.#newGroup(groupId);
      this.#groups.set(groupId, group);
    }
    return group.join(request);
  }

  heartbeat(groupId: string, memberId: string, generationId: number): void {
    this.#groupOfMember(groupId, memberId).heartbeat(memberId, generationId);
  }

  leave(groupId: string, memberId: string): void {
    this.#groupOfMember(groupId, memberId).leave(memberId);
  }

  /**
   * Tells `listener` of every group's rebalances as they start and of members leaving or dropped, as
   * they happen (synchronously, inside the call or timer that caused them). Returns the unwatch.
   */
  watchMembership(listener: MembershipListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  /** Commits all of the offsets or none, after Kafka's member and generation checks. */
  commit(groupId: string, input: CommitInput): CommittedOffset[] {
    checkGroupId(groupId);
    checkOffsets(input.offsets, (topic, partition, field) => this.#log(topic, partition, field));
    const group = this.#groups.get(groupId);
    if (group !== undefined) group.checkCommit(input.memberId, input.generationId);
    else if (input.memberId !== undefined) throw unknownMember(groupId, input.memberId);
    return this.#commit(groupId, input.offsets);
  }

  /** The group's committed offsets (of one topic); none for a group that has none. */
  committedOffsets(groupId: string, options: { topic?: string } = {}): CommittedOffset[] {
    checkGroupId(groupId);
    const offsets = this.#offsets.of(groupId);
    return options.topic === undefined ? offsets : offsets.filter((entry) => entry.topic === options.topic);
  }

  /**
   * Moves the group's offsets on a topic's partitions to the earliest, the latest, a time or an offset.
   * Only while the group has no members, as Kafka's tool requires: a member would go on from where it is.
   */
  resetOffsets(groupId: string, input: ResetInput): CommittedOffset[] {
    checkGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group !== undefined && group.memberCount > 0) throw nonEmpty(group, "its offsets cannot be reset");
    if (!this.logs.hasTopic(input.topic)) {
      throw new SluiceError("UNKNOWN_TOPIC_OR_PARTITION", `topic "${input.topic}" does not exist`, {
        field: "topic",
      });
    }
    const partitions = input.partitions ?? [...Array(this.#partitionCount(input.topic)).keys()];
    const offsets = partitions.map((partition, i) => ({
      topic: input.topic,
      partition,
      offset: resetOffsetFor(this.#log(input.topic, partition, `partitions[${i}]`), input),
    }));
    return this.#commit(groupId, offsets);
  }

  // -------------------------------------------------------------------------------------------
  // Groups

  list(): GroupSummary[] {
    return [...this.#groups.values()]
      .map((group) => ({
        group: group.groupId,
        state: group.state,
        generationId: group.generationId,
        members: group.memberCount,
      }))
      .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  /** State, members with their assignments, and per partition the committed offset and the lag. */
  describe(groupId: string): GroupDescription {
    const group = this.#group(groupId);
    const { state, generationId, assignor, members } = group.describe();
    const partitions = describePartitions(this.#offsets.of(groupId), {
      members,
      logEndOffsetOf: (topic, partition) => this.#logEndOffset(topic, partition),
    });
    return { group: groupId, state, generationId, assignor, members, partitions };
  }

  /** Deletes an empty group: a tombstone for each committed offset, then it is gone (Kafka's DeleteGroups). */
  deleteGroup(groupId: string): { offsetsDeleted: number } {
    const group = this.#group(groupId);
    if (group.memberCount > 0) throw nonEmpty(group, "it cannot be deleted");
    const offsetsDeleted = this.#offsets.deleteGroup(groupId);
    group.markDead();
    this.#groups.delete(groupId);
    return { offsetsDeleted };
  }

  /** The group's membership, for tests that wait for joins to arrive. */
  group(groupId: string): ConsumerGroup | undefined {
    return this.#groups.get(groupId);
  }

  /** Per group and committed partition: the records between the committed offset and the log end. */
  *lags(): Iterable<{ group: string; topic: string; partition: number; lag: number }> {
    for (const group of this.#offsets.groups()) {
      for (const committed of this.#offsets.of(group)) {
        const logEndOffset = this.#logEndOffset(committed.topic, committed.partition);
        if (logEndOffset === null) continue;
        const { topic, partition } = committed;
        yield { group, topic, partition, lag: Math.max(0, logEndOffset - committed.offset) };
      }
    }
  }

  /** Stops every group's timers; joins still waiting answer LOG_CLOSED. */
  close(): void {
    for (const group of this.#groups.values()) group.close();
  }

  #commit(groupId: string, offsets: readonly OffsetToCommit[]): CommittedOffset[] {
    const committed = this.#offsets.commit(groupId, { offsets, commitTimestampMs: this.clock.nowMs() });
    if (!this.#groups.has(groupId)) this.#groups.set(groupId, this.#newGroup(groupId));
    return committed;
  }

  #newGroup(groupId: string): ConsumerGroup {
    const newMemberId =
      this.options.newMemberId ?? ((clientId: string) => `${clientId}-${crypto.randomUUID()}`);
    const group: ConsumerGroup = new ConsumerGroup(groupId, {
      clock: this.clock,
      partitionCount: (topic) => this.#partitionCount(topic),
      initialRebalanceDelayMs: this.options.initialRebalanceDelayMs ?? INITIAL_REBALANCE_DELAY_MS_DEFAULT,
      newMemberId,
      listener: this.#fanOut,
      // A group with neither members nor offsets is gone (Kafka would sweep it as Dead later).
      onEmpty: () => {
        if (this.#offsets.has(groupId) || this.#groups.get(groupId) !== group) return;
        group.markDead();
        this.#groups.delete(groupId);
      },
    });
    return group;
  }

  #group(groupId: string): ConsumerGroup {
    checkGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group !== undefined) return group;
    throw new SluiceError("GROUP_ID_NOT_FOUND", `there is no group "${groupId}"`, { field: "group" });
  }

  /** Kafka answers a member of a group it does not know with UNKNOWN_MEMBER_ID: the member joins again. */
  #groupOfMember(groupId: string, memberId: string): ConsumerGroup {
    checkGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group === undefined) throw unknownMember(groupId, memberId);
    return group;
  }

  #partitionCount(topic: string): number {
    return this.logs.hasTopic(topic) ? this.logs.partitionCount(topic) : 0;
  }

  #logEndOffset(topic: string, partition: number): number | null {
    return partition < this.#partitionCount(topic)
      ? this.logs.partition(topic, partition).logEndOffset
      : null;
  }

  /** The partition's log; UNKNOWN_TOPIC_OR_PARTITION naming `field` in the request. */
  #log(topic: string, partition: number, field: string): PartitionLog {
    try {
      return this.logs.partition(topic, partition);
    } catch (error) {
      if (!isSluiceError(error, "UNKNOWN_TOPIC_OR_PARTITION")) throw error;
      throw new SluiceError(error.errorName, error.message, { field, cause: error });
    }
  }
}

const utf8 = new TextEncoder();

export function checkGroupId(groupId: string): void {
  // A lone surrogate (a JSON "\ud800") has no UTF-8 form: the offsets topic would store another name.
  if (!isWellFormed(groupId)) {
    throw new SluiceError("INVALID_GROUP_ID", "a group id must be valid Unicode (it has a lone surrogate)", {
      field: "group",
    });
  }
  const bytes = utf8.encode(groupId).length;
  if (bytes > 0 && bytes <= GROUP_ID_BYTES_MAX) return;
  throw new SluiceError(
    "INVALID_GROUP_ID",
    `a group id must be 1 to ${GROUP_ID_BYTES_MAX} bytes of UTF-8, not ${bytes}`,
    {
      field: "group",
    },
  );
}

function checkJoin(request: Required<Omit<JoinInput, "memberId" | "onMemberId">>): void {
  const { sessionTimeoutMs, rebalanceTimeoutMs, topics, clientId } = request;
  if (!isIntegerIn(sessionTimeoutMs, { min: SESSION_TIMEOUT_MS_MIN, max: SESSION_TIMEOUT_MS_MAX })) {
    throw new SluiceError(
      "INVALID_SESSION_TIMEOUT",
      `sessionTimeoutMs must be ${SESSION_TIMEOUT_MS_MIN} to ${SESSION_TIMEOUT_MS_MAX}, not ${sessionTimeoutMs}`,
      { field: "sessionTimeoutMs" },
    );
  }
  if (!isIntegerIn(rebalanceTimeoutMs, { min: REBALANCE_TIMEOUT_MS_MIN, max: REBALANCE_TIMEOUT_MS_MAX }))
    throw invalid("rebalanceTimeoutMs", `must be ${REBALANCE_TIMEOUT_MS_MIN} to ${REBALANCE_TIMEOUT_MS_MAX}`);
  if (topics.length === 0 || topics.length > SUBSCRIBED_TOPICS_MAX)
    throw invalid("topics", `must name 1 to ${SUBSCRIBED_TOPICS_MAX} topics`);
  checkText(clientId, "clientId");
  const clientIdBytes = utf8.encode(clientId).length;
  if (clientIdBytes === 0 || clientIdBytes > CLIENT_ID_BYTES_MAX)
    throw invalid("clientId", `must be 1 to ${CLIENT_ID_BYTES_MAX} bytes of UTF-8`);
}

function checkOffsets(
  offsets: readonly OffsetToCommit[],
  logOf: (topic: string, partition: number, field: string) => PartitionLog,
): void {
  if (offsets.length === 0 || offsets.length > OFFSETS_PER_COMMIT_MAX)
    throw invalid("offsets", `must hold 1 to ${OFFSETS_PER_COMMIT_MAX} offsets`);
  for (const [i, entry] of offsets.entries()) {
    const field = `offsets[${i}]`;
    if (!isIntegerIn(entry.offset, { min: 0, max: Number.MAX_SAFE_INTEGER }))
      throw invalid(`${field}.offset`, "must be an integer from 0 to 2^53 - 1");
    logOf(entry.topic, entry.partition, `${field}.partition`);
    checkText(entry.metadata ?? "", `${field}.metadata`);
    const metadataBytes = utf8.encode(entry.metadata ?? "").length;
    if (metadataBytes > OFFSET_METADATA_BYTES_MAX) {
      throw new SluiceError(
        "OFFSET_METADATA_TOO_LARGE",
        `${field}.metadata is ${metadataBytes} bytes; at most ${OFFSET_METADATA_BYTES_MAX}`,
        { field: `${field}.metadata` },
      );
    }
  }
}

function isIntegerIn(value: number, { min, max }: { min: number; max: number }): boolean {
  return Number.isSafeInteger(value) && value >= min && value <= max;
}

function invalid(field: string, why: string): SluiceError {
  return new SluiceError("INVALID_REQUEST", `${field}: ${why}`, { field });
}

function nonEmpty(group: ConsumerGroup, consequence: string): SluiceError {
  return new SluiceError(
    "NON_EMPTY_GROUP",
    `group "${group.groupId}" is ${group.state} with ${group.memberCount} active member(s), so ${consequence}; ` +
      "its members must leave (or be dropped after their session timeout) first",
  );
}
