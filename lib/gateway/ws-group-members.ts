// One WebSocket connection's consumer-group members: the join, heartbeat, leave and commit frames,
// served by the group coordinator as the HTTP routes are; `rebalance` frames pushed the moment a
// member's group starts a rebalance or drops the member; and Kafka's LeaveGroup on close, since a member
// joined through a connection belongs to it and must not hold its partitions once the client is gone.
import { assert } from "../assert.ts";
import type { RemoteGroups } from "../cluster/remote-group-coordinator.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import type { CommittedOffset } from "../groups/committed-offsets.ts";
import { unknownMember } from "../groups/consumer-group.ts";
import type {
  GroupCoordinator,
  JoinResult,
  MemberRemoved,
  RebalanceStarted,
} from "../groups/group-coordinator.ts";
import { WS_GROUP_MEMBERS_PER_CONNECTION_MAX } from "./limits.ts";
import type {
  CommitFrame,
  GroupFrame,
  HeartbeatFrame,
  JoinedFrame,
  JoinFrame,
  LeaveFrame,
  RequestId,
  ServerFrame,
} from "./ws-protocol.ts";

/** Where the members' frames go: the connection's own send path. */
export interface GroupFrameOutlet {
  send(frame: ServerFrame): void;
  sendError(error: unknown, ids: { requestId?: RequestId }): void;
}

interface HeldMember {
  group: string;
  memberId: string;
  /** Joins sent to the coordinator whose `joined` has not gone out yet. */
  joinsInFlight: number;
  /**
   * A rebalance the member must hear of once its `joined` has gone out: the coordinator answered the
   * join and started the next rebalance before the answer reached the connection.
   */
  rebalanceOwed: number | undefined;
  /** Cluster mode: joined through another node's coordinator (remote-group-coordinator.ts). */
  remote?: { generationId: number; rebalanceSent: number | undefined };
}

export class GroupMembers {
  /** By group and member id (member ids are unique within a group only). */
  readonly #members = new Map<string, HeldMember>();
  #unwatch: (() => void) | undefined;
  #closed = false;
  /** First joins sent to another node's coordinator, not answered yet (their member ids unknown). */
  #remoteJoinsPending = 0;

  constructor(
    readonly groups: GroupCoordinator,
    readonly outlet: GroupFrameOutlet,
    readonly membersMax = WS_GROUP_MEMBERS_PER_CONNECTION_MAX,
    /** Cluster mode: the coordinators of groups this node does not coordinate. */
    readonly remote?: RemoteGroups,
  ) {}

  /** Members joined through this connection, with those whose first join still waits. */
  get count(): number {
    return this.#members.size + this.#remoteJoinsPending;
  }

  /** A group frame, already checked (routes/ws-frames.ts); throws what the error frame should say. */
  receive(frame: GroupFrame): void {
    if (this.#closed) return;
    if (this.remote !== undefined && !this.remote.isLocal(frame.group)) {
      this.#remoteFrame(frame, this.remote);
      return;
    }
    switch (frame.type) {
      case "join":
        this.#join(frame);
        return;
      case "heartbeat":
        this.#heartbeat(frame);
        return;
      case "leave":
        this.#leave(frame);
        return;
      case "commit":
        this.#commit(frame);
        return;
    }
  }

  /** The connection is gone: every member leaves its group at once, and the groups rebalance. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
    const members = [...this.#members.values()];
    this.#members.clear();
    for (const member of members) {
      if (member.remote !== undefined) {
        // Best effort: a coordinator that cannot be told drops the member after its session timeout.
        this.remote?.leave(member.group, member.memberId).catch(() => undefined);
        continue;
      }
      try {
        this.groups.leave(member.group, member.memberId);
      } catch (error) {
        // Gone already (dropped a moment ago): nothing to leave.
        if (!isSluiceError(error, "UNKNOWN_MEMBER_ID")) throw error;
      }
    }
  }

  #join(frame: JoinFrame): void {
    const { type: _type, requestId: _requestId, group, ...input } = frame;
    let member = frame.memberId === undefined ? undefined : this.#held(group, frame.memberId);
    if (member === undefined && this.#members.size >= this.membersMax) {
      throw new SluiceError(
        "TOO_MANY_GROUP_MEMBERS",
        `a connection may hold ${this.membersMax} group members; leave a group first`,
        { field: "group" },
      );
    }
    this.#watch();
    const joining = this.#checked(member, () =>
      this.groups.join(group, {
        ...input,
        // The member is the connection's from the start, so closing the connection takes it out even
        // while its first join waits for the rebalance.
        onMemberId: (memberId) => {
          member = { group, memberId, joinsInFlight: 0, rebalanceOwed: undefined };
          this.#members.set(keyOf(group, memberId), member);
        },
      }),
    );
    assert(member !== undefined, "a join either names a held member or is told its new member's id");
    const joiner = member;
    joiner.joinsInFlight++;
    joining.then(
      (result) => this.#joined(frame, joiner, result),
      (error: unknown) => {
        joiner.joinsInFlight--;
        if (this.#closed) return;
        if (isSluiceError(error, "UNKNOWN_MEMBER_ID")) this.#forget(joiner);
        this.outlet.sendError(error, { requestId: frame.requestId });
      },
    );
  }

  #joined(frame: JoinFrame, member: HeldMember, result: JoinResult): void {
    member.joinsInFlight--;
    if (this.#closed) return;
    this.#sendJoined(frame, member, result, this.groups.committedOffsets(member.group));
  }

  #sendJoined(
    frame: JoinFrame,
    member: HeldMember,
    result: JoinResult,
    offsets: readonly CommittedOffset[],
  ): void {
    const committed = new Map(offsets.map((entry) => [keyOf(entry.topic, entry.partition), entry]));
    const joined: JoinedFrame = {
      type: "joined",
      requestId: frame.requestId,
      group: member.group,
      memberId: result.memberId,
      generationId: result.generationId,
      leader: result.leader,
      assignment: result.assignment.flatMap(({ topic, partitions }) =>
        partitions.map((partition) => ({
          topic,
          partition,
          committedOffset: committed.get(keyOf(topic, partition))?.offset ?? null,
        })),
      ),
    };
    this.outlet.send(joined);
    const owed = member.rebalanceOwed;
    if (owed !== undefined && member.joinsInFlight === 0) {
      member.rebalanceOwed = undefined;
      this.#sendRebalance(member, owed);
    }
  }

  #heartbeat(frame: HeartbeatFrame): void {
    const member = this.#held(frame.group, frame.memberId);
    this.#checked(member, () => this.groups.heartbeat(frame.group, frame.memberId, frame.generationId));
  }

  #leave(frame: LeaveFrame): void {
    // Forgotten first: the coordinator's memberRemoved then finds nothing to tell; it is the client's own.
    this.#forget(this.#held(frame.group, frame.memberId));
    this.groups.leave(frame.group, frame.memberId);
    this.#sendLeft(frame);
  }

  #sendLeft({ requestId, group, memberId }: LeaveFrame): void {
    this.outlet.send({ type: "left", ...(requestId === undefined ? {} : { requestId }), group, memberId });
  }

  #commit(frame: CommitFrame): void {
    const member = frame.memberId === undefined ? undefined : this.#held(frame.group, frame.memberId);
    // Checked at once (a bad commit throws here); answered once committed (cluster mode: replicated).
    const committing = this.#checked(member, () =>
      this.groups.commitReplicated(frame.group, commitInput(frame)),
    );
    committing.then(
      (committed) => this.#sendCommitted(frame, committed),
      this.#failed(member, frame.requestId),
    );
  }

  #sendCommitted(frame: CommitFrame, committed: readonly CommittedOffset[]): void {
    if (this.#closed) return;
    this.outlet.send({
      type: "committed",
      requestId: frame.requestId,
      group: frame.group,
      offsets: committed.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
    });
  }

  /** Answers a failed request with its error; a member its group no longer knows is forgotten here too. */
  #failed(member: HeldMember | undefined, requestId: RequestId | undefined) {
    return (error: unknown) => {
      if (this.#closed) return;
      if (member !== undefined && isSluiceError(error, "UNKNOWN_MEMBER_ID")) this.#forget(member);
      this.outlet.sendError(error, requestId === undefined ? {} : { requestId });
    };
  }

  // -------------------------------------------------------------------------------------------
  // Members whose group another node coordinates: each frame becomes a request to it; a heartbeat
  // answered REBALANCE_IN_PROGRESS is pushed to the member as a `rebalance`, as the local coordinator's
  // events are.

  #remoteFrame(frame: GroupFrame, remote: RemoteGroups): void {
    const failed = (member: HeldMember | undefined) => this.#failed(member, frame.requestId);
    switch (frame.type) {
      case "join": {
        const { type: _type, requestId: _requestId, group, ...input } = frame;
        const member = frame.memberId === undefined ? undefined : this.#held(group, frame.memberId);
        if (member === undefined && this.count >= this.membersMax) {
          throw new SluiceError(
            "TOO_MANY_GROUP_MEMBERS",
            `a connection may hold ${this.membersMax} group members; leave a group first`,
            { field: "group" },
          );
        }
        if (member === undefined) this.#remoteJoinsPending++;
        else member.joinsInFlight++;
        const joining = remote.join(group, input).then(async (result) => {
          const committed = await remote.committedOffsets(group);
          return { result, committed };
        });
        joining
          .finally(() => {
            if (member === undefined) this.#remoteJoinsPending--;
            else member.joinsInFlight--;
          })
          .then(({ result, committed }) => {
            if (this.#closed) {
              remote.leave(group, result.memberId).catch(() => undefined);
              return;
            }
            const held: HeldMember = member ?? {
              group,
              memberId: result.memberId,
              joinsInFlight: 0,
              rebalanceOwed: undefined,
            };
            held.remote = { generationId: result.generationId, rebalanceSent: undefined };
            this.#members.set(keyOf(group, result.memberId), held);
            this.#sendJoined(frame, held, result, committed);
          }, failed(member));
        return;
      }
      case "heartbeat": {
        const member = this.#held(frame.group, frame.memberId);
        remote.heartbeat(frame.group, frame.memberId, frame.generationId).catch((error: unknown) => {
          if (!this.#closed && isSluiceError(error, "REBALANCE_IN_PROGRESS")) {
            const state = member.remote;
            if (state !== undefined && state.rebalanceSent !== frame.generationId) {
              state.rebalanceSent = frame.generationId;
              this.#sendRebalance(member, frame.generationId);
            }
          }
          failed(member)(error);
        });
        return;
      }
      case "leave": {
        const member = this.#held(frame.group, frame.memberId);
        this.#forget(member);
        remote.leave(frame.group, frame.memberId).then(() => {
          if (!this.#closed) this.#sendLeft(frame);
        }, failed(undefined));
        return;
      }
      case "commit": {
        const member = frame.memberId === undefined ? undefined : this.#held(frame.group, frame.memberId);
        remote
          .commit(frame.group, commitInput(frame))
          .then((committed) => this.#sendCommitted(frame, committed), failed(member));
        return;
      }
    }
  }

  /** A member joined through this connection; UNKNOWN_MEMBER_ID for any other, as for one not in the group. */
  #held(group: string, memberId: string): HeldMember {
    const member = this.#members.get(keyOf(group, memberId));
    if (member !== undefined) return member;
    throw unknownMember(group, memberId, { why: "it was not joined through this connection" });
  }

  /** Runs a coordinator call for `member`; when the group no longer knows it, neither does the connection. */
  #checked<T>(member: HeldMember | undefined, call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (member !== undefined && isSluiceError(error, "UNKNOWN_MEMBER_ID")) this.#forget(member);
      throw error;
    }
  }

  #forget(member: HeldMember): void {
    const key = keyOf(member.group, member.memberId);
    if (this.#members.get(key) === member) this.#members.delete(key);
  }

  /** Listens to the coordinator from the first join on, until the connection closes. */
  #watch(): void {
    this.#unwatch ??= this.groups.watchMembership({
      rebalanceStarted: (event) => this.#rebalanceStarted(event),
      memberRemoved: (event) => this.#memberRemoved(event),
    });
  }

  #rebalanceStarted({ groupId, generationId, memberIds }: RebalanceStarted): void {
    for (const memberId of memberIds) {
      const member = this.#members.get(keyOf(groupId, memberId));
      if (member !== undefined) this.#tell(member, generationId);
    }
  }

  /**
   * A member taken out of its group by anything but this connection's own leave (a timeout, or a leave
   * over HTTP naming it) is told, as if its group rebalanced: its partitions are going to others.
   */
  #memberRemoved({ groupId, generationId, memberId }: MemberRemoved): void {
    const member = this.#members.get(keyOf(groupId, memberId));
    if (member === undefined) return;
    this.#forget(member);
    this.#tell(member, generationId);
  }

  #tell(member: HeldMember, generationId: number): void {
    if (member.joinsInFlight > 0) member.rebalanceOwed = generationId;
    else this.#sendRebalance(member, generationId);
  }

  #sendRebalance(member: HeldMember, generationId: number): void {
    if (this.#closed) return;
    const { group, memberId } = member;
    this.outlet.send({ type: "rebalance", group, memberId, generationId });
  }
}

function keyOf(first: string, second: string | number): string {
  return `${first}\u0000${second}`;
}

/** A commit frame's offsets and membership, as the coordinator takes them. */
function commitInput({ offsets, memberId, generationId }: CommitFrame) {
  return {
    offsets,
    ...(memberId === undefined ? {} : { memberId }),
    ...(generationId === undefined ? {} : { generationId }),
  };
}
