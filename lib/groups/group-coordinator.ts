// The group coordinator: every consumer group of the node, their membership (consumer-group.ts) and
// their committed offsets (committed-offsets.ts, kept in the offsets topic). It checks what the world
// sends, applies Kafka's rules on who may commit, reset or delete, describes groups with their lag, and
// is the source of sluice_consumer_group_lag. At startup it replays the offsets topic, so commits
// survive a restart; memberships do not (every client reconnects and joins again after one).
import { assert } from "../assert.ts";
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
import { type AppendedAt, OffsetsTopic } from "./offsets-topic.ts";

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
  /**
   * Cluster mode (lib/cluster/group-coordination.ts): the offsets topic is replicated, this node
   * coordinates only the groups of the offsets partitions it leads (loadPartition, unloadPartition),
   * and writes answer once that partition's ISR has them. Left out on a single node.
   */
  replication?: OffsetsReplication;
}

/** What the coordinator needs of a replicated offsets topic. */
export interface OffsetsReplication {
  /** Before a write to the partition: throws when it cannot take one now (not its leader, ISR too small). */
  checkAppend(partition: number): void;
  /** After a write: resolves once the ISR has everything up to `lastOffset`; rejects when it will not. */
  awaitCommitted(partition: number, lastOffset: number): Promise<void>;
  /** The error for a group whose partition this node does not coordinate (names who does). */
  notCoordinator(groupId: string, partition: number): SluiceError;
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
  /** What the startup replay of the offsets topic read (nothing in cluster mode: loads come later). */
  readonly replay: ReplayReport;
  readonly #topic: OffsetsTopic;
  readonly #onSkipped: (error: unknown, where: string) => void;
  /** Cluster mode: the offsets partitions whose groups this node coordinates now. */
  readonly #loaded = new Set<number>();

  private constructor(readonly options: GroupCoordinatorOptions) {
    this.logs = options.logs;
    this.clock = options.logs.clock;
    this.#onSkipped =
      options.onReplaySkipped ??
      ((error: unknown, where: string) =>
        console.error(`sluice: skipped ${where} of the offsets topic:`, error));
    this.#topic = new OffsetsTopic(this.logs);
    if (options.replication !== undefined) {
      // The local copy may be a stale follower's: a partition is read when this node comes to lead it.
      this.#offsets = CommittedOffsets.empty(this.#topic);
      this.replay = { records: 0, skipped: 0 };
      return;
    }
    const { offsets, report } = CommittedOffsets.load(this.#topic, this.#onSkipped);
    this.#offsets = offsets;
    this.replay = report;
    for (const groupId of offsets.groups()) this.#groups.set(groupId, this.#newGroup(groupId));
  }

  /** Replays the offsets topic (if it exists yet) and starts with every group it names, empty. */
  static open(options: GroupCoordinatorOptions): GroupCoordinator {
    return new GroupCoordinator(options);
  }

  // -------------------------------------------------------------------------------------------
  // Cluster mode: which groups this node coordinates

  /**
   * This node now leads offsets partition `partition`: its groups are read from the log (Kafka's
   * loadGroupsForPartition) and served here from now on, with empty memberships (members join again).
   */
  loadPartition(partition: number): ReplayReport {
    // Still the leader (a new epoch of its own): memory already matches the log.
    if (this.#loaded.has(partition)) return { records: 0, skipped: 0 };
    const report = this.#offsets.loadPartition(partition, this.#onSkipped);
    for (const groupId of this.#offsets.groups()) {
      if (this.#topic.partitionFor(groupId) === partition && !this.#groups.has(groupId))
        this.#groups.set(groupId, this.#newGroup(groupId));
    }
    this.#loaded.add(partition);
    return report;
  }

  /** This node no longer leads the partition: its groups go; waiting joins answer NOT_COORDINATOR. */
  unloadPartition(partition: number): void {
    const wasLoaded = this.#loaded.delete(partition);
    for (const [groupId, group] of [...this.#groups]) {
      if (this.#topic.partitionFor(groupId) !== partition) continue;
      this.#groups.delete(groupId);
      group.close(this.#notCoordinator(groupId, partition));
    }
    if (wasLoaded) this.#offsets.unloadPartition(partition);
  }

  /** Whether this node coordinates the group now (always on a single node). */
  coordinates(groupId: string): boolean {
    return this.options.replication === undefined || this.#loaded.has(this.#topic.partitionFor(groupId));
  }

  #notCoordinator(groupId: string, partition: number): SluiceError {
    return (
      this.options.replication?.notCoordinator(groupId, partition) ??
      new SluiceError("NOT_COORDINATOR", `this node does not coordinate group "${groupId}"`)
    );
  }

  /** Valid id, and (cluster mode) a group of a partition this node leads; NOT_COORDINATOR otherwise. */
  #checkCoordinator(groupId: string): void {
    checkGroupId(groupId);
    if (this.coordinates(groupId)) return;
    throw this.#notCoordinator(groupId, this.#topic.partitionFor(groupId));
  }

  // -------------------------------------------------------------------------------------------
  // Membership

  /** Joins (or joins again); answers when the rebalance completes, within the rebalance timeout. */
  join(groupId: string, input: JoinInput): Promise<JoinResult> {
    this.#checkCoordinator(groupId);
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

  /** Commits all of the offsets or none, after Kafka's member and generation checks (single node). */
  commit(groupId: string, input: CommitInput): CommittedOffset[] {
    this.#checkCommit(groupId, input);
    return this.#commit(groupId, input.offsets);
  }

  /**
   * As commit, answered once the offsets are committed: in cluster mode once the offsets partition's
   * ISR has them (an error otherwise, never a success for offsets that may be lost); at once alone.
   */
  async commitReplicated(groupId: string, input: CommitInput): Promise<CommittedOffset[]> {
    this.#checkCommit(groupId, input);
    return this.#commitReplicated(groupId, input.offsets);
  }

  #checkCommit(groupId: string, input: CommitInput): void {
    this.#checkCoordinator(groupId);
    checkOffsets(input.offsets, (topic, partition, field) => this.#log(topic, partition, field));
    const group = this.#groups.get(groupId);
    if (group !== undefined) group.checkCommit(input.memberId, input.generationId);
    else if (input.memberId !== undefined) throw unknownMember(groupId, input.memberId);
  }

  /** The group's committed offsets (of one topic); none for a group that has none. */
  committedOffsets(groupId: string, options: { topic?: string } = {}): CommittedOffset[] {
    this.#checkCoordinator(groupId);
    const offsets = this.#offsets.of(groupId);
    return options.topic === undefined ? offsets : offsets.filter((entry) => entry.topic === options.topic);
  }

  /**
   * Moves the group's offsets on a topic's partitions to the earliest, the latest, a time or an offset.
   * Only while the group has no members, as Kafka's tool requires: a member would go on from where it is.
   */
  resetOffsets(groupId: string, input: ResetInput): CommittedOffset[] {
    return this.#commit(groupId, this.#resetTo(groupId, input));
  }

  /** As resetOffsets, answered once committed (see commitReplicated). */
  async resetOffsetsReplicated(groupId: string, input: ResetInput): Promise<CommittedOffset[]> {
    return this.#commitReplicated(groupId, this.#resetTo(groupId, input));
  }

  #resetTo(groupId: string, input: ResetInput): OffsetToCommit[] {
    this.#checkCoordinator(groupId);
    const group = this.#groups.get(groupId);
    if (group !== undefined && group.memberCount > 0) throw nonEmpty(group, "its offsets cannot be reset");
    if (!this.logs.hasTopic(input.topic)) {
      throw new SluiceError("UNKNOWN_TOPIC_OR_PARTITION", `topic "${input.topic}" does not exist`, {
        field: "topic",
      });
    }
    const partitions = input.partitions ?? [...Array(this.#partitionCount(input.topic)).keys()];
    return partitions.map((partition, i) => ({
      topic: input.topic,
      partition,
      offset: resetOffsetFor(this.#log(input.topic, partition, `partitions[${i}]`), input),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Groups

  /** The groups this node coordinates (every group on a single node). */
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

  /**
   * State, members with their assignments, and per partition the committed offset and the lag; the
   * log end offsets are this node's unless `logEndOffsetOf` gives them (cluster mode: the leaders').
   */
  describe(
    groupId: string,
    options: { logEndOffsetOf?: (topic: string, partition: number) => number | null } = {},
  ): GroupDescription {
    const group = this.#group(groupId);
    const { state, generationId, assignor, members } = group.describe();
    const partitions = describePartitions(this.#offsets.of(groupId), {
      members,
      logEndOffsetOf: options.logEndOffsetOf ?? ((topic, partition) => this.#logEndOffset(topic, partition)),
    });
    return { group: groupId, state, generationId, assignor, members, partitions };
  }

  /** Deletes an empty group: a tombstone for each committed offset, then it is gone (Kafka's DeleteGroups). */
  deleteGroup(groupId: string): { offsetsDeleted: number } {
    this.#singleNodeOnly();
    const group = this.#deletable(groupId);
    const offsetsDeleted = this.#offsets.deleteGroup(groupId);
    this.#markDeleted(group);
    return { offsetsDeleted };
  }

  /** As deleteGroup, answered once the tombstones are committed (see commitReplicated). */
  async deleteGroupReplicated(groupId: string): Promise<{ offsetsDeleted: number }> {
    const group = this.#deletable(groupId);
    const written = this.#offsets.writeDeletion(groupId);
    await this.#awaitCommitted(written.appended);
    written.apply();
    // A member may have joined while the tombstones replicated: the group then lives on, offsets gone.
    if (group.memberCount === 0 && this.#groups.get(groupId) === group) this.#markDeleted(group);
    return { offsetsDeleted: written.committed };
  }

  #deletable(groupId: string): ConsumerGroup {
    const group = this.#group(groupId);
    if (group.memberCount > 0) throw nonEmpty(group, "it cannot be deleted");
    this.#checkWritable(groupId);
    return group;
  }

  #markDeleted(group: ConsumerGroup): void {
    group.markDead();
    this.#groups.delete(group.groupId);
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
    this.#singleNodeOnly();
    const committed = this.#offsets.commit(groupId, { offsets, commitTimestampMs: this.clock.nowMs() });
    if (!this.#groups.has(groupId)) this.#groups.set(groupId, this.#newGroup(groupId));
    return committed;
  }

  /** Writes, waits until the ISR has the batch, then makes the offsets visible. */
  async #commitReplicated(groupId: string, offsets: readonly OffsetToCommit[]): Promise<CommittedOffset[]> {
    this.#checkWritable(groupId);
    const written = this.#offsets.write(groupId, { offsets, commitTimestampMs: this.clock.nowMs() });
    await this.#awaitCommitted(written.appended);
    // Leadership may have moved while the batch replicated: the new coordinator read it from the log.
    if (!this.coordinates(groupId)) return written.committed;
    written.apply();
    if (!this.#groups.has(groupId)) this.#groups.set(groupId, this.#newGroup(groupId));
    return written.committed;
  }

  /** The synchronous writers answer before replication could: cluster mode uses the *Replicated ones. */
  #singleNodeOnly(): void {
    assert(
      this.options.replication === undefined,
      "cluster mode writes offsets with the *Replicated methods",
    );
  }

  /** Cluster mode: the offsets partition takes writes now (leader, ISR at min.insync.replicas). */
  #checkWritable(groupId: string): void {
    const replication = this.options.replication;
    if (replication === undefined) return;
    const partition = this.#topic.partitionFor(groupId);
    replication.checkAppend(partition);
  }

  async #awaitCommitted(appended: AppendedAt | undefined): Promise<void> {
    if (appended === undefined || this.options.replication === undefined) return;
    await this.options.replication.awaitCommitted(appended.partition, appended.lastOffset);
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
    this.#checkCoordinator(groupId);
    const group = this.#groups.get(groupId);
    if (group !== undefined) return group;
    throw new SluiceError("GROUP_ID_NOT_FOUND", `there is no group "${groupId}"`, { field: "group" });
  }

  /** Kafka answers a member of a group it does not know with UNKNOWN_MEMBER_ID: the member joins again. */
  #groupOfMember(groupId: string, memberId: string): ConsumerGroup {
    this.#checkCoordinator(groupId);
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
