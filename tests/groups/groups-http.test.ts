// Consumer groups end to end over real loopback sockets with a ManualClock: members joining (a long
// poll), rebalancing as members join, leave and go silent, commits checked against the generation,
// lag in describe and /metrics, resets, deletes, and committed offsets across restarts.
import { afterEach, describe, expect, test } from "bun:test";
import type { GroupDescription, JoinResult } from "../../lib/groups/group-coordinator.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { parseExposition, sampleValue } from "../metrics/exposition-parser.ts";
import {
  expectError,
  type GroupNode,
  joined,
  joinRequest,
  partitionsOf,
  START_MS,
  sendJson,
  startGroupNode,
  until,
} from "./helpers.ts";

const SESSION_MS = 10_000;
const DELAY_MS = 3_000;

let nodes: GroupNode[] = [];
afterEach(async () => {
  for (const node of nodes) await node.close().catch(() => undefined);
  nodes = [];
});

async function start(options: { initialRebalanceDelayMs?: number } = {}): Promise<GroupNode> {
  const node = startGroupNode(options);
  nodes.push(node);
  await sendJson(`${node.api}/topics`, { name: "orders", partitions: 6 });
  return node;
}

async function restart(node: GroupNode, clean: boolean): Promise<GroupNode> {
  const again = await node.restart({ clean });
  nodes[nodes.indexOf(node)] = again;
  return again;
}

const join = (node: GroupNode, body: Record<string, unknown> = {}) =>
  joinRequest(node, "billing", { topics: ["orders"], sessionTimeoutMs: SESSION_MS, ...body });

const heartbeat = (node: GroupNode, memberId: string, generationId: number) =>
  sendJson(`${node.api}/groups/billing/members/${memberId}/heartbeat`, { generationId });

const commit = (node: GroupNode, body: Record<string, unknown>, group = "billing") =>
  sendJson(`${node.api}/groups/${group}/offsets`, body);

async function describeGroup(node: GroupNode, group = "billing"): Promise<GroupDescription> {
  const response = await fetch(`${node.api}/groups/${encodeURIComponent(group)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as GroupDescription;
}

/** Produces `count` records into each of the partitions given, timestamps one ms apart from `fromMs`. */
async function produce(
  node: GroupNode,
  partitions: number[],
  count: number,
  fromMs = START_MS,
): Promise<void> {
  const records = partitions.flatMap((partition) =>
    Array.from({ length: count }, (_, i) => ({ value: { i }, partition, timestamp: fromMs + i })),
  );
  const response = await sendJson(`${node.api}/topics/orders/records`, { records });
  expect(response.status).toBe(200);
}

/** Join answers in member id order: the range assignor deals ranges in that order. */
function byMemberId(results: JoinResult[]): JoinResult[] {
  return [...results].sort((x, y) => (x.memberId < y.memberId ? -1 : 1));
}

/** Two members joined into generation 1, in member id order (0-2 and 3-5). */
async function twoMembers(node: GroupNode) {
  const a = join(node);
  const b = join(node);
  await until(() => node.groups.group("billing")?.pendingJoins === 2);
  node.clock.advance(DELAY_MS);
  const [first, second] = byMemberId([await joined(a), await joined(b)]);
  return [first!, second!] as const;
}

describe("membership", () => {
  test("two members join over HTTP and split the partitions once the initial delay has passed", async () => {
    const node = await start({ initialRebalanceDelayMs: DELAY_MS });
    const [a, b] = await twoMembers(node);
    expect([a.generationId, partitionsOf(a, "orders")]).toEqual([1, [0, 1, 2]]);
    expect([b.generationId, partitionsOf(b, "orders")]).toEqual([1, [3, 4, 5]]);
    expect((await heartbeat(node, a.memberId, 1)).status).toBe(204);
    const groups = await (await fetch(`${node.api}/groups`)).json();
    expect(groups).toEqual({ groups: [{ group: "billing", state: "Stable", generationId: 1, members: 2 }] });
  });

  test("a third member's join makes the others' heartbeats answer REBALANCE_IN_PROGRESS until all join again", async () => {
    const node = await start({ initialRebalanceDelayMs: DELAY_MS });
    const [a, b] = await twoMembers(node);
    const c = join(node);
    await until(() => node.groups.group("billing")?.pendingJoins === 1);
    await expectError(await heartbeat(node, a.memberId, 1), 409, "REBALANCE_IN_PROGRESS");
    await expectError(await heartbeat(node, b.memberId, 1), 409, "REBALANCE_IN_PROGRESS");
    expect((await describeGroup(node)).state).toBe("PreparingRebalance");
    const a2 = join(node, { memberId: a.memberId });
    const b2 = join(node, { memberId: b.memberId });
    const results = byMemberId([await joined(a2), await joined(b2), await joined(c)]);
    expect(results.map((r) => [r.generationId, partitionsOf(r, "orders")])).toEqual([
      [2, [0, 1]],
      [2, [2, 3]],
      [2, [4, 5]],
    ]);
    const described = await describeGroup(node);
    expect([described.state, described.members.length]).toEqual(["Stable", 3]);
  });

  test("a member that leaves is gone at once and the other takes its partitions when it joins again", async () => {
    const node = await start({ initialRebalanceDelayMs: DELAY_MS });
    const [a, b] = await twoMembers(node);
    const left = await fetch(`${node.api}/groups/billing/members/${b.memberId}`, { method: "DELETE" });
    expect(left.status).toBe(204);
    await expectError(await heartbeat(node, a.memberId, 1), 409, "REBALANCE_IN_PROGRESS");
    const a2 = await joined(join(node, { memberId: a.memberId }));
    expect([a2.generationId, partitionsOf(a2, "orders")]).toEqual([2, [0, 1, 2, 3, 4, 5]]);
    await expectError(await heartbeat(node, b.memberId, 2), 404, "UNKNOWN_MEMBER_ID", "memberId");
  });

  test("a member that goes silent is dropped after its session timeout and the group rebalances", async () => {
    const node = await start({ initialRebalanceDelayMs: DELAY_MS });
    const [a, b] = await twoMembers(node);
    for (let elapsedMs = 0; elapsedMs < SESSION_MS; elapsedMs += 2_500) {
      node.clock.advance(2_500);
      // a heartbeats; b has gone quiet.
      if (elapsedMs + 2_500 < SESSION_MS) expect((await heartbeat(node, a.memberId, 1)).status).toBe(204);
    }
    expect((await describeGroup(node)).members.map((m) => m.memberId)).toEqual([a.memberId]);
    await expectError(await heartbeat(node, a.memberId, 1), 409, "REBALANCE_IN_PROGRESS");
    const a2 = await joined(join(node, { memberId: a.memberId }));
    expect(partitionsOf(a2, "orders")).toEqual([0, 1, 2, 3, 4, 5]);
    await expectError(await heartbeat(node, b.memberId, 1), 404, "UNKNOWN_MEMBER_ID");
  });

  test("a join answers within the rebalance timeout even when a member never joins again", async () => {
    const node = await start();
    const a = await joined(join(node, { rebalanceTimeoutMs: 5_000 }));
    const b = join(node, { rebalanceTimeoutMs: 5_000 });
    await until(() => node.groups.group("billing")?.pendingJoins === 1);
    node.clock.advance(5_000);
    const second = await joined(b);
    expect([second.generationId, partitionsOf(second, "orders")]).toEqual([2, [0, 1, 2, 3, 4, 5]]);
    await expectError(await heartbeat(node, a.memberId, 1), 404, "UNKNOWN_MEMBER_ID");
  });
});

describe("commits", () => {
  test("a commit with a stale generation is refused with ILLEGAL_GENERATION and changes nothing", async () => {
    const node = await start();
    const a = await joined(join(node));
    const offsets = [{ topic: "orders", partition: 0, offset: 5 }];
    expect((await commit(node, { offsets, memberId: a.memberId, generationId: 1 })).status).toBe(200);
    // A second member's arrival moves the group to generation 2.
    const b = join(node);
    await until(() => node.groups.group("billing")?.pendingJoins === 1);
    await joined(join(node, { memberId: a.memberId }));
    await joined(b);
    const stale = await commit(node, {
      offsets: [{ topic: "orders", partition: 0, offset: 9 }],
      memberId: a.memberId,
      generationId: 1,
    });
    await expectError(stale, 409, "ILLEGAL_GENERATION", "generationId");
    const stored = await (await fetch(`${node.api}/groups/billing/offsets`)).json();
    expect(stored.offsets.map((entry: { offset: number }) => entry.offset)).toEqual([5]);
  });

  test("a standalone commit is refused while the group has members and taken once it has none", async () => {
    const node = await start();
    const a = await joined(join(node));
    const offsets = [{ topic: "orders", partition: 2, offset: 1, metadata: "manual" }];
    await expectError(await commit(node, { offsets }), 404, "UNKNOWN_MEMBER_ID");
    await fetch(`${node.api}/groups/billing/members/${a.memberId}`, { method: "DELETE" });
    const response = await commit(node, { offsets });
    expect(await response.json()).toEqual({
      offsets: [
        { topic: "orders", partition: 2, offset: 1, metadata: "manual", commitTimestampMs: START_MS },
      ],
    });
  });

  for (const clean of [true, false]) {
    test(`committed offsets survive ${clean ? "a clean" : "an unclean"} restart of the node`, async () => {
      let node = await start();
      await commit(node, {
        offsets: [
          { topic: "orders", partition: 0, offset: 11 },
          { topic: "orders", partition: 5, offset: 3, metadata: "m" },
        ],
      });
      await commit(node, { offsets: [{ topic: "orders", partition: 0, offset: 12 }] });
      node = await restart(node, clean);
      const stored = await (await fetch(`${node.api}/groups/billing/offsets?topic=orders`)).json();
      expect(
        stored.offsets.map((e: { partition: number; offset: number }) => [e.partition, e.offset]),
      ).toEqual([
        [0, 12],
        [5, 3],
      ]);
      expect((await describeGroup(node)).state).toBe("Empty");
    });
  }

  test("a group that has committed nothing has no offsets", async () => {
    const node = await start();
    expect(await (await fetch(`${node.api}/groups/nobody/offsets`)).json()).toEqual({ offsets: [] });
  });
});

describe("lag", () => {
  test("describe shows lag moving as records are produced and offsets committed, and /metrics agrees", async () => {
    const node = await start();
    const a = await joined(join(node));
    const lagOf = async (partition: number) =>
      (await describeGroup(node)).partitions.find((p) => p.partition === partition)!;
    expect(await lagOf(0)).toMatchObject({
      committedOffset: null,
      logEndOffset: 0,
      lag: null,
      memberId: a.memberId,
    });
    await produce(node, [0, 1], 10);
    const member = { memberId: a.memberId, generationId: a.generationId };
    await commit(node, { offsets: [{ topic: "orders", partition: 0, offset: 4 }], ...member });
    expect(await lagOf(0)).toMatchObject({ committedOffset: 4, logEndOffset: 10, lag: 6 });
    await produce(node, [0], 5);
    expect((await lagOf(0)).lag).toBe(11);
    await commit(node, { offsets: [{ topic: "orders", partition: 0, offset: 15 }], ...member });
    expect((await lagOf(0)).lag).toBe(0);
    await commit(node, { offsets: [{ topic: "orders", partition: 1, offset: 2 }], ...member });
    const metrics = parseExposition(await (await fetch(node.api.replace(/\/api\/v1$/, "/metrics"))).text());
    const lag = (partition: string) =>
      sampleValue(metrics, "sluice_consumer_group_lag", { group: "billing", topic: "orders", partition });
    expect([lag("0"), lag("1")]).toEqual([0, 8]);
  });
});

describe("resets and deletes", () => {
  test("a reset is refused with active members; once they leave, earliest, latest and timestamp land right", async () => {
    const node = await start();
    await produce(node, [0, 1, 2, 3, 4, 5], 10);
    const a = await joined(join(node));
    const reset = (body: Record<string, unknown>) =>
      sendJson(`${node.api}/groups/billing/offsets/reset`, body);
    await expectError(await reset({ to: "earliest", topic: "orders" }), 409, "NON_EMPTY_GROUP");
    await fetch(`${node.api}/groups/billing/members/${a.memberId}`, { method: "DELETE" });
    const offsetsAfter = async (body: Record<string, unknown>) => {
      const response = await reset(body);
      expect(response.status).toBe(200);
      return (await response.json()).offsets.map((e: { partition: number; offset: number }) => [
        e.partition,
        e.offset,
      ]);
    };
    expect(await offsetsAfter({ to: "latest", topic: "orders", partitions: [0, 1] })).toEqual([
      [0, 10],
      [1, 10],
    ]);
    expect(await offsetsAfter({ to: "earliest", topic: "orders", partitions: [1] })).toEqual([[1, 0]]);
    expect(
      await offsetsAfter({ to: "timestamp", topic: "orders", partitions: [2], timestamp: START_MS + 7 }),
    ).toEqual([[2, 7]]);
    expect(await offsetsAfter({ to: "offset", topic: "orders", partitions: [3], offset: 4 })).toEqual([
      [3, 4],
    ]);
    const lags = (await describeGroup(node)).partitions.map((p) => [p.partition, p.lag]);
    expect(lags).toEqual([
      [0, 0],
      [1, 10],
      [2, 3],
      [3, 6],
    ]);
  });

  test("a deleted group answers 404 at once and after a restart; a group with members cannot be deleted", async () => {
    let node = await start();
    const a = await joined(join(node));
    await commit(node, {
      offsets: [{ topic: "orders", partition: 0, offset: 3 }],
      memberId: a.memberId,
      generationId: a.generationId,
    });
    await expectError(
      await fetch(`${node.api}/groups/billing`, { method: "DELETE" }),
      409,
      "NON_EMPTY_GROUP",
    );
    await fetch(`${node.api}/groups/billing/members/${a.memberId}`, { method: "DELETE" });
    expect((await fetch(`${node.api}/groups/billing`, { method: "DELETE" })).status).toBe(204);
    await expectError(await fetch(`${node.api}/groups/billing`), 404, "GROUP_ID_NOT_FOUND", "group");
    node = await restart(node, true);
    await expectError(await fetch(`${node.api}/groups/billing`), 404, "GROUP_ID_NOT_FOUND");
    expect(await (await fetch(`${node.api}/groups`)).json()).toEqual({ groups: [] });
  });

  test("a group id that needs URL encoding works throughout", async () => {
    const node = await start();
    const group = "team/ünïcode group?";
    const path = `${node.api}/groups/${encodeURIComponent(group)}`;
    const member = await joined(joinRequest(node, group, { topics: ["orders"] }));
    const { memberId, generationId } = member;
    const offsets = [{ topic: "orders", partition: 0, offset: 1 }];
    expect((await commit(node, { offsets, memberId, generationId }, encodeURIComponent(group))).status).toBe(
      200,
    );
    expect((await describeGroup(node, group)).group).toBe(group);
    expect((await fetch(`${path}/members/${member.memberId}`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(path, { method: "DELETE" })).status).toBe(204);
  });
});

describe("the internal offsets topic", () => {
  test("clients cannot write records or raw batches into __consumer_offsets", async () => {
    const node = await start();
    const committed = await commit(node, { offsets: [{ topic: "orders", partition: 0, offset: 0 }] });
    expect(committed.status).toBe(200);
    const forged = await sendJson(`${node.api}/topics/__consumer_offsets/records`, {
      records: [{ key: "billing", value: "forged", partition: 0 }],
    });
    await expectError(forged, 403, "TOPIC_IS_INTERNAL", "topic");
    const raw = await fetch(`${node.api}/topics/__consumer_offsets/partitions/0/batches`, {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.recordbatch" },
      body: encodeBatch([{ key: utf8("billing"), value: utf8("forged") }]) as Uint8Array<ArrayBuffer>,
    });
    await expectError(raw, 403, "TOPIC_IS_INTERNAL", "topic");
    expect((await (await fetch(`${node.api}/groups/billing/offsets`)).json()).offsets).toHaveLength(1);
  });
});
