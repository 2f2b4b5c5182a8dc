// One group's membership state machine off the network, on a ManualClock: joins and rebalances, the
// initial delay, session and rebalance timeouts, heartbeats, leaving, generations, and who may commit.
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { ConsumerGroup, type JoinRequest, type JoinResult } from "../../lib/groups/consumer-group.ts";
import { assertTransition } from "../../lib/groups/group-state.ts";
import { expectSluiceError, rejectionOf, START_MS, settle, thrownBy } from "../log/helpers.ts";

const SESSION_MS = 10_000;
const REBALANCE_MS = 20_000;
const DELAY_MS = 3_000;

interface Fixture {
  group: ConsumerGroup;
  clock: ManualClock;
  partitions: Map<string, number>;
  emptied: () => number;
  /** What the group told its membership listener, in order. */
  events: string[];
}

function newGroup(options: { initialRebalanceDelayMs?: number } = {}): Fixture {
  const clock = new ManualClock(START_MS);
  const partitions = new Map([
    ["orders", 6],
    ["audit", 2],
  ]);
  let next = 0;
  let emptied = 0;
  const events: string[] = [];
  const group = new ConsumerGroup("billing", {
    clock,
    partitionCount: (topic) => partitions.get(topic) ?? 0,
    initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? DELAY_MS,
    // Ids sort in join order, so the range assignor's picks are easy to read.
    newMemberId: (clientId) => `${clientId}-${String(next++).padStart(3, "0")}`,
    onEmpty: () => emptied++,
    listener: {
      rebalanceStarted: ({ groupId, generationId, memberIds }) =>
        events.push(`${groupId} rebalancing from ${generationId}: ${memberIds.join(" ")} rejoin`),
      memberRemoved: ({ groupId, generationId, memberId, why }) =>
        events.push(`${groupId} without ${memberId} in ${generationId}: ${why}`),
    },
  });
  return { group, clock, partitions, emptied: () => emptied, events };
}

function request(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    clientId: "c",
    topics: ["orders"],
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    assignor: "range",
    ...overrides,
  };
}

/** A join whose answer (or error) can be looked at without awaiting it. */
function track(promise: Promise<JoinResult>) {
  const tracked: { result?: JoinResult; error?: unknown } = {};
  promise.then(
    (result) => {
      tracked.result = result;
    },
    (error) => {
      tracked.error = error;
    },
  );
  return tracked;
}

function partitionsOf(result: JoinResult | undefined, topic = "orders"): number[] {
  return result?.assignment.find((entry) => entry.topic === topic)?.partitions ?? [];
}

/** Two members joined and stable at generation 1, with orders split 0-2 / 3-5. */
async function twoMembers(fixture = newGroup()) {
  const a = track(fixture.group.join(request()));
  const b = track(fixture.group.join(request()));
  fixture.clock.advance(DELAY_MS);
  await settle();
  return { ...fixture, a: a.result!, b: b.result! };
}

describe("joining", () => {
  test("two members that join an empty group split its partitions once the initial delay has passed", async () => {
    const { group, clock } = newGroup();
    const a = track(group.join(request()));
    const b = track(group.join(request()));
    await settle();
    expect(group.state).toBe("PreparingRebalance");
    expect(group.pendingJoins).toBe(2);
    expect(a.result).toBeUndefined();
    clock.advance(DELAY_MS);
    await settle();
    expect(group.state).toBe("Stable");
    expect(a.result).toEqual({
      memberId: "c-000",
      generationId: 1,
      leader: true,
      assignor: "range",
      assignment: [{ topic: "orders", partitions: [0, 1, 2] }],
      heartbeatIntervalMs: Math.floor(SESSION_MS / 3),
    });
    expect(partitionsOf(b.result)).toEqual([3, 4, 5]);
    expect(b.result?.leader).toBe(false);
  });

  test("members arriving during the initial delay restart it, but never past the rebalance timeout", async () => {
    const { group, clock } = newGroup();
    const first = track(group.join(request()));
    for (let i = 0; i < 6; i++) {
      clock.advance(DELAY_MS - 1);
      track(group.join(request()));
    }
    // At 17,994 ms the last newcomer restarted the delay, which the 20 s rebalance timeout cuts short.
    clock.advance(REBALANCE_MS - clock.monotonicMs() - 1);
    await settle();
    expect(first.result).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(first.result?.generationId).toBe(1);
    expect(group.describe().members).toHaveLength(7);
  });

  test("with no initial delay a lone member's join answers at once", async () => {
    const { group } = newGroup({ initialRebalanceDelayMs: 0 });
    const a = await group.join(request({ topics: ["audit", "orders"] }));
    expect(a.assignment).toEqual([
      { topic: "audit", partitions: [0, 1] },
      { topic: "orders", partitions: [0, 1, 2, 3, 4, 5] },
    ]);
    expect(group.state).toBe("Stable");
  });

  test("a third member's join starts a rebalance that completes when everyone has joined again", async () => {
    const { group, a, b } = await twoMembers();
    const c = track(group.join(request()));
    await settle();
    expect(group.state).toBe("PreparingRebalance");
    expectSluiceError(
      thrownBy(() => group.heartbeat(a.memberId, 1)),
      "REBALANCE_IN_PROGRESS",
    );
    const a2 = track(group.join(request({ memberId: a.memberId })));
    await settle();
    expect(c.result).toBeUndefined();
    const b2 = track(group.join(request({ memberId: b.memberId })));
    await settle();
    expect(group.state).toBe("Stable");
    expect([a2.result, b2.result, c.result].map((r) => [r?.generationId, partitionsOf(r)])).toEqual([
      [2, [0, 1]],
      [2, [2, 3]],
      [2, [4, 5]],
    ]);
    expect(() => group.heartbeat(a.memberId, 2)).not.toThrow();
  });

  test("a member that does not join again within the rebalance timeout is left out of the new generation", async () => {
    const { group, clock, a, b } = await twoMembers();
    const c = track(group.join(request()));
    const a2 = track(group.join(request({ memberId: a.memberId })));
    // b keeps heartbeating (so its session holds) but never joins again.
    for (let elapsedMs = 0; elapsedMs < REBALANCE_MS - 1; elapsedMs += 1_000) {
      clock.advance(Math.min(1_000, REBALANCE_MS - 1 - elapsedMs));
      expectSluiceError(
        thrownBy(() => group.heartbeat(b.memberId, 1)),
        "REBALANCE_IN_PROGRESS",
      );
    }
    await settle();
    expect(c.result).toBeUndefined();
    clock.advance(1);
    await settle();
    expect([a2.result, c.result].map((r) => partitionsOf(r))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expectSluiceError(
      thrownBy(() => group.heartbeat(b.memberId, 1)),
      "UNKNOWN_MEMBER_ID",
      "memberId",
    );
  });

  test("a member joining again with nothing changed in a stable group gets its assignment at once", async () => {
    const { group, a } = await twoMembers();
    const again = await group.join(request({ memberId: a.memberId }));
    expect(again).toEqual(a);
    expect(group.state).toBe("Stable");
  });

  test("a member joining again with other topics starts a rebalance", async () => {
    const { group, a, b } = await twoMembers();
    const a2 = track(group.join(request({ memberId: a.memberId, topics: ["audit", "orders"] })));
    expect(group.state).toBe("PreparingRebalance");
    const b2 = track(group.join(request({ memberId: b.memberId })));
    await settle();
    expect(a2.result?.assignment).toEqual([
      { topic: "audit", partitions: [0, 1] },
      { topic: "orders", partitions: [0, 1, 2] },
    ]);
    expect(b2.result?.generationId).toBe(2);
  });

  test("a join naming another assignor than the group's is INCONSISTENT_GROUP_PROTOCOL", async () => {
    const { group } = await twoMembers();
    expectSluiceError(
      thrownBy(() => group.join(request({ assignor: "roundrobin" }))),
      "INCONSISTENT_GROUP_PROTOCOL",
      "assignor",
    );
  });

  test("a join with an id the group never gave is UNKNOWN_MEMBER_ID", () => {
    const { group } = newGroup();
    expectSluiceError(
      thrownBy(() => group.join(request({ memberId: "c-999" }))),
      "UNKNOWN_MEMBER_ID",
    );
  });
});

describe("leaving and sessions", () => {
  test("a member that leaves starts a rebalance and the others take its partitions", async () => {
    const { group, a, b } = await twoMembers();
    group.leave(b.memberId);
    expect(group.state).toBe("PreparingRebalance");
    const a2 = await group.join(request({ memberId: a.memberId }));
    expect([a2.generationId, partitionsOf(a2)]).toEqual([2, [0, 1, 2, 3, 4, 5]]);
  });

  test("a member silent for its session timeout is dropped and the group rebalances", async () => {
    const { group, clock, a, b } = await twoMembers();
    clock.advance(SESSION_MS / 2);
    group.heartbeat(a.memberId, 1);
    clock.advance(SESSION_MS / 2 - 1);
    expect(group.describe().members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId]);
    clock.advance(1);
    // b said nothing for its whole session; a heartbeated half way through.
    expect(group.describe().members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(group.state).toBe("PreparingRebalance");
    expectSluiceError(
      thrownBy(() => group.heartbeat(a.memberId, 1)),
      "REBALANCE_IN_PROGRESS",
    );
    const a2 = await group.join(request({ memberId: a.memberId }));
    expect(partitionsOf(a2)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("heartbeats keep a member in the group for as long as they come", async () => {
    const { group, clock, a, b } = await twoMembers();
    for (let i = 0; i < 20; i++) {
      clock.advance(SESSION_MS - 1);
      group.heartbeat(a.memberId, 1);
      group.heartbeat(b.memberId, 1);
    }
    expect(group.state).toBe("Stable");
    expect(group.memberCount).toBe(2);
  });

  test("a member waiting in a join is not dropped while the rebalance runs", async () => {
    const { group, clock } = newGroup({ initialRebalanceDelayMs: REBALANCE_MS });
    const a = track(group.join(request({ sessionTimeoutMs: 6_000 })));
    clock.advance(REBALANCE_MS);
    await settle();
    expect(a.result?.generationId).toBe(1);
    expect(partitionsOf(a.result)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("the last member leaving makes the group Empty under the next generation", async () => {
    const fixture = await twoMembers();
    const { group, a, b } = fixture;
    group.leave(a.memberId);
    group.leave(b.memberId);
    expect(group.state).toBe("Empty");
    expect(group.generationId).toBe(2);
    expect(fixture.emptied()).toBe(1);
    expect(group.describe()).toEqual({ state: "Empty", generationId: 2, assignor: null, members: [] });
  });

  test("a member that leaves while its join waits gets UNKNOWN_MEMBER_ID for that join", async () => {
    const { group } = newGroup();
    const a = track(group.join(request()));
    group.leave("c-000");
    await settle();
    expectSluiceError(a.error, "UNKNOWN_MEMBER_ID");
    expect(group.state).toBe("Empty");
  });
});

describe("heartbeats and commits", () => {
  test("a heartbeat with a stale generation is ILLEGAL_GENERATION; from an unknown member, UNKNOWN_MEMBER_ID", async () => {
    const { group, a } = await twoMembers();
    expectSluiceError(
      thrownBy(() => group.heartbeat(a.memberId, 0)),
      "ILLEGAL_GENERATION",
      "generationId",
    );
    expectSluiceError(
      thrownBy(() => group.heartbeat("nobody", 1)),
      "UNKNOWN_MEMBER_ID",
      "memberId",
    );
  });

  test("a member commits with its current generation only", async () => {
    const { group, a, b } = await twoMembers();
    expect(() => group.checkCommit(a.memberId, 1)).not.toThrow();
    track(group.join(request()));
    // During the rebalance the current generation may still commit (what it consumed before it).
    expect(() => group.checkCommit(a.memberId, 1)).not.toThrow();
    track(group.join(request({ memberId: a.memberId })));
    track(group.join(request({ memberId: b.memberId })));
    await settle();
    expectSluiceError(
      thrownBy(() => group.checkCommit(a.memberId, 1)),
      "ILLEGAL_GENERATION",
    );
    expect(() => group.checkCommit(a.memberId, 2)).not.toThrow();
  });

  test("a commit naming no member is taken only while the group has no members", async () => {
    const fixture = newGroup();
    expect(() => fixture.group.checkCommit(undefined, undefined)).not.toThrow();
    const { group } = await twoMembers(fixture);
    expectSluiceError(
      thrownBy(() => group.checkCommit(undefined, undefined)),
      "UNKNOWN_MEMBER_ID",
    );
    expectSluiceError(
      thrownBy(() => group.checkCommit("c-000", undefined)),
      "INVALID_REQUEST",
      "generationId",
    );
  });

  test("a subscribed topic gaining partitions starts a rebalance at the next heartbeat", async () => {
    const { group, partitions, a, b } = await twoMembers();
    partitions.set("orders", 8);
    expectSluiceError(
      thrownBy(() => group.heartbeat(a.memberId, 1)),
      "REBALANCE_IN_PROGRESS",
    );
    const a2 = track(group.join(request({ memberId: a.memberId })));
    const b2 = track(group.join(request({ memberId: b.memberId })));
    await settle();
    expect([partitionsOf(a2.result), partitionsOf(b2.result)]).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  test("closing answers the joins still waiting with LOG_CLOSED and stops every timer", async () => {
    const { group, clock } = newGroup();
    const join = group.join(request());
    group.close();
    expectSluiceError(await rejectionOf(join), "LOG_CLOSED");
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("states", () => {
  test("moves outside Kafka's transition table are assertion failures", () => {
    expect(() => assertTransition("Stable", "Empty")).toThrow("cannot go from Stable to Empty");
    expect(() => assertTransition("Empty", "Stable")).toThrow();
    expect(() => assertTransition("Stable", "Dead")).toThrow();
    expect(() => assertTransition("Empty", "PreparingRebalance")).not.toThrow();
  });

  test("an empty group is deleted into Dead; one with members is not", async () => {
    const { group } = await twoMembers();
    expect(() => group.markDead()).toThrow("only an empty group");
    const empty = newGroup().group;
    empty.markDead();
    expect(empty.state).toBe("Dead");
  });
});

describe("membership events and the leader", () => {
  test("members not already joining are told a rebalance started, and who left or was dropped, as it happens", async () => {
    const { group, clock, events } = newGroup();
    const longSession = () => request({ sessionTimeoutMs: 2 * REBALANCE_MS });
    const a = track(group.join(longSession()));
    const b = track(group.join(longSession()));
    clock.advance(DELAY_MS);
    await settle();
    expect(events).toEqual([]); // the first rebalance of an empty group has no one to tell
    const c = track(group.join(longSession()));
    expect(events).toEqual(["billing rebalancing from 1: c-000 c-001 rejoin"]);
    track(group.join({ ...longSession(), memberId: a.result!.memberId }));
    clock.advance(REBALANCE_MS); // b never joins again
    await settle();
    expect(c.result?.generationId).toBe(2);
    expect(b.result?.memberId).toBe("c-001");
    clock.advance(2 * REBALANCE_MS); // a and c both silent now
    expect(events).toEqual([
      "billing rebalancing from 1: c-000 c-001 rejoin",
      "billing without c-001 in 1: rebalance-timeout",
      "billing without c-000 in 2: session-timeout",
      "billing rebalancing from 2: c-002 rejoin",
      "billing without c-002 in 2: session-timeout",
    ]);
    expect(group.state).toBe("Empty");
  });

  test("a member that leaves is told as left, and its join promise learns its id at once", async () => {
    const { group, events } = newGroup();
    const ids: string[] = [];
    const joining = track(group.join(request({ onMemberId: (id) => ids.push(id) })));
    expect(ids).toEqual(["c-000"]);
    group.leave("c-000");
    await settle();
    expectSluiceError(joining.error, "UNKNOWN_MEMBER_ID");
    expect(events).toEqual(["billing without c-000 in 0: left"]);
  });

  test("the leader is the member longest in the group, and the next one once it leaves", async () => {
    const { group, a, b } = await twoMembers();
    expect([a.leader, b.leader]).toEqual([true, false]);
    group.leave(a.memberId);
    const b2 = await group.join(request({ memberId: b.memberId }));
    expect(b2.leader).toBe(true);
  });
});
