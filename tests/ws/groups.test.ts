// Consumer-group membership over real loopback WebSockets, on the node's ManualClock: members of one
// group on separate connections split its partitions, a newcomer makes the coordinator push `rebalance`
// to the others, a closed connection takes its member out at once, and a connected member that stops
// heartbeating is dropped after its session timeout.
import { afterEach, describe, expect, test } from "bun:test";
import { createTopic, until } from "../gateway/helpers.ts";
import {
  DELAY_MS,
  describeGroup,
  expectJoined,
  expectRebalance,
  expectSplit,
  GROUP,
  SESSION_MS,
  sendJoin,
  TOPIC,
} from "./group-helpers.ts";
import { StreamClient, type StreamNode, type StreamNodeOptions, scrape, startStreamNode } from "./helpers.ts";

const PARTITIONS = 4;

let nodes: StreamNode[] = [];
let clients: StreamClient[] = [];
afterEach(async () => {
  for (const client of clients) client.close();
  for (const node of nodes) await node.close();
  nodes = [];
  clients = [];
});

async function start(options: StreamNodeOptions = {}): Promise<StreamNode> {
  const node = startStreamNode(options);
  nodes.push(node);
  await createTopic(node, TOPIC, { partitions: PARTITIONS });
  return node;
}

async function connect(node: StreamNode): Promise<StreamClient> {
  const client = await StreamClient.connect(node.wsUrl);
  clients.push(client);
  return client;
}

/** Two connections whose members joined together (within the initial delay) into generation 1. */
async function twoJoined(node: StreamNode) {
  const a = await connect(node);
  const b = await connect(node);
  await sendJoin(node, a, { requestId: "a1" }, 1);
  await sendJoin(node, b, { requestId: "b1" }, 2);
  node.clock.advance(DELAY_MS);
  const joinedA = await expectJoined(a, "a1");
  const joinedB = await expectJoined(b, "b1");
  return { a, b, joinedA, joinedB };
}

describe("membership over WebSocket", () => {
  test("two connections that join one group split its partitions", async () => {
    const node = await start();
    const { joinedA, joinedB } = await twoJoined(node);
    expectSplit([joinedA, joinedB], PARTITIONS);
    expect(joinedA.generationId).toBe(1);
    expect(joinedA.assignment).toHaveLength(PARTITIONS / 2);
    for (const entry of [...joinedA.assignment, ...joinedB.assignment])
      expect(entry.committedOffset).toBeNull();
    const described = await describeGroup(node);
    expect(described.state).toBe("Stable");
    expect(described.members.map((m) => m.memberId).sort()).toEqual(
      [joinedA.memberId, joinedB.memberId].sort(),
    );
  });

  test("a third member makes the group push rebalance to the first two; joining again gives a new generation and a disjoint cover", async () => {
    const node = await start();
    const { a, b, joinedA, joinedB } = await twoJoined(node);
    const c = await connect(node);
    await sendJoin(node, c, { requestId: "c1" }, 1);
    expect((await expectRebalance(a, joinedA.memberId)).generationId).toBe(1);
    expect((await expectRebalance(b, joinedB.memberId)).generationId).toBe(1);
    await sendJoin(node, a, { requestId: "a2", memberId: joinedA.memberId }, 2);
    await sendJoin(node, b, { requestId: "b2", memberId: joinedB.memberId }); // the last: it completes
    const answers = [await expectJoined(a, "a2"), await expectJoined(b, "b2"), await expectJoined(c, "c1")];
    expectSplit(answers, PARTITIONS);
    expect(answers[0]!.generationId).toBe(2);
    expect(answers.map((answer) => answer.memberId).slice(0, 2)).toEqual([
      joinedA.memberId,
      joinedB.memberId,
    ]);
    for (const client of [a, b, c]) await client.expectQuiet();
  });

  test("a connection that closes takes its member out at once, and the others rebalance", async () => {
    const node = await start();
    const { a, b, joinedA } = await twoJoined(node);
    b.close();
    expect((await expectRebalance(a, joinedA.memberId)).generationId).toBe(1);
    await sendJoin(node, a, { requestId: "a2", memberId: joinedA.memberId });
    const again = await expectJoined(a, "a2");
    expect(again.generationId).toBe(2);
    expectSplit([again], PARTITIONS);
    expect((await describeGroup(node)).members.map((m) => m.memberId)).toEqual([joinedA.memberId]);
  });

  test("a connection that closes while its first join waits takes that member out too", async () => {
    const node = await start();
    const a = await connect(node);
    const b = await connect(node);
    await sendJoin(node, a, { requestId: "a1" }, 1);
    await sendJoin(node, b, { requestId: "b1" }, 2);
    b.close();
    await until(() => node.groups.group(GROUP)?.memberCount === 1);
    node.clock.advance(DELAY_MS);
    const joined = await expectJoined(a, "a1");
    expectSplit([joined], PARTITIONS);
  });

  test("a connected member that sends no heartbeat is dropped after its session timeout", async () => {
    const node = await start();
    const { a, b, joinedA, joinedB } = await twoJoined(node);
    node.clock.advance(SESSION_MS / 2);
    a.send({ type: "heartbeat", requestId: "h1", group: GROUP, memberId: joinedA.memberId, generationId: 1 });
    await a.expectQuiet(); // a heartbeat that stands is not answered
    node.clock.advance(SESSION_MS / 2 - 1);
    await b.expectQuiet();
    node.clock.advance(1); // b has been silent for its whole session now
    expect((await expectRebalance(b, joinedB.memberId)).generationId).toBe(1);
    expect((await expectRebalance(a, joinedA.memberId)).generationId).toBe(1);
    b.send({ type: "heartbeat", requestId: "h2", group: GROUP, memberId: joinedB.memberId, generationId: 1 });
    await b.expectError("UNKNOWN_MEMBER_ID", { requestId: "h2", field: "memberId" });
    a.send({ type: "heartbeat", requestId: "h3", group: GROUP, memberId: joinedA.memberId, generationId: 1 });
    await a.expectError("REBALANCE_IN_PROGRESS", { requestId: "h3" });
    await sendJoin(node, a, { requestId: "a2", memberId: joinedA.memberId });
    const again = await expectJoined(a, "a2");
    expect(again.generationId).toBe(2);
    expectSplit([again], PARTITIONS);
  });

  test("a join answered just before its member is dropped arrives first, then the rebalance", async () => {
    const node = await start();
    const a = await connect(node);
    await sendJoin(node, a, { requestId: "a1" }, 1);
    // One step: the rebalance completes at DELAY_MS, and the member, silent since, is dropped a whole
    // session later, before the `joined` has left the connection.
    node.clock.advance(DELAY_MS + SESSION_MS);
    const joined = await expectJoined(a, "a1");
    expect(joined.generationId).toBe(1);
    expect((await expectRebalance(a, joined.memberId)).generationId).toBe(1);
    await sendJoin(node, a, { requestId: "a2", memberId: joined.memberId });
    await a.expectError("UNKNOWN_MEMBER_ID", { requestId: "a2", field: "memberId" });
  });

  test("leave answers left, and the others rebalance", async () => {
    const node = await start();
    const { a, b, joinedA, joinedB } = await twoJoined(node);
    a.send({ type: "leave", requestId: "l", group: GROUP, memberId: joinedA.memberId });
    expect(await a.expectFrame("left")).toEqual({
      type: "left",
      requestId: "l",
      group: GROUP,
      memberId: joinedA.memberId,
    });
    expect((await expectRebalance(b, joinedB.memberId)).generationId).toBe(1);
    await a.expectQuiet(); // the member that left is not told of the rebalance its leaving started
    a.send({ type: "leave", group: GROUP, memberId: joinedA.memberId });
    await a.expectError("UNKNOWN_MEMBER_ID", { field: "memberId" });
  });

  test("a member taken out over HTTP is told on its connection", async () => {
    const node = await start();
    const { a, b, joinedA, joinedB } = await twoJoined(node);
    const response = await fetch(`${node.api}/groups/${GROUP}/members/${joinedA.memberId}`, {
      method: "DELETE",
    });
    expect(response.status).toBe(204);
    expect((await expectRebalance(a, joinedA.memberId)).generationId).toBe(1);
    expect((await expectRebalance(b, joinedB.memberId)).generationId).toBe(1);
    a.send({ type: "heartbeat", requestId: "h", group: GROUP, memberId: joinedA.memberId, generationId: 1 });
    await a.expectError("UNKNOWN_MEMBER_ID", { requestId: "h" });
    expect(await scrape(node, "sluice_websocket_group_members")).toBe(1);
  });

  test("a member joined on one connection cannot be driven from another", async () => {
    const node = await start();
    const { a, b, joinedA } = await twoJoined(node);
    b.send({ type: "leave", requestId: "x", group: GROUP, memberId: joinedA.memberId });
    await b.expectError("UNKNOWN_MEMBER_ID", { requestId: "x", field: "memberId" });
    expect((await describeGroup(node)).members).toHaveLength(2);
    await a.expectQuiet();
  });

  test("a connection holds at most groupMembersMax members; leaving one makes room", async () => {
    const node = await start({ webSocketLimits: { groupMembersMax: 2 }, initialRebalanceDelayMs: 0 });
    const a = await connect(node);
    const joinGroup = (group: string) => a.send({ type: "join", requestId: group, group, topics: [TOPIC] });
    joinGroup("g1");
    const first = await a.expectFrame("joined");
    joinGroup("g2");
    await a.expectFrame("joined");
    joinGroup("g3");
    await a.expectError("TOO_MANY_GROUP_MEMBERS", { requestId: "g3", field: "group" });
    a.send({ type: "leave", group: "g1", memberId: first.memberId });
    await a.expectFrame("left");
    joinGroup("g3");
    expect((await a.expectFrame("joined")).group).toBe("g3");
  });
});
