// Commits over a real loopback WebSocket, read back over HTTP (describe with lag) and in the next
// join's committedOffset; Kafka's generation check on commits and heartbeats; and group membership
// living beside the connection's subscriptions without touching them.
import { afterEach, describe, expect, test } from "bun:test";
import { createTopic, produce } from "../gateway/helpers.ts";
import {
  DELAY_MS,
  describeGroup,
  expectJoined,
  expectRebalance,
  expectSplit,
  GROUP,
  sendJoin,
  TOPIC,
} from "./group-helpers.ts";
import { StreamClient, type StreamNode, scrape, startStreamNode, subscribe } from "./helpers.ts";

const PARTITIONS = 4;
const RECORDS_PER_PARTITION = 10;

let nodes: StreamNode[] = [];
let clients: StreamClient[] = [];
afterEach(async () => {
  for (const client of clients) client.close();
  for (const node of nodes) await node.close();
  nodes = [];
  clients = [];
});

/** A node whose topic holds RECORDS_PER_PARTITION records in each partition. */
async function start(): Promise<StreamNode> {
  const node = startStreamNode();
  nodes.push(node);
  await createTopic(node, TOPIC, { partitions: PARTITIONS });
  const records = Array.from({ length: PARTITIONS * RECORDS_PER_PARTITION }, (_, i) => ({
    value: i,
    partition: i % PARTITIONS,
  }));
  await produce(node, TOPIC, { records });
  return node;
}

async function connect(node: StreamNode): Promise<StreamClient> {
  const client = await StreamClient.connect(node.wsUrl);
  clients.push(client);
  return client;
}

/** One member alone in the group, generation 1, holding every partition. */
async function joinAlone(node: StreamNode, client: StreamClient) {
  await sendJoin(node, client, { requestId: "j1" }, 1);
  node.clock.advance(DELAY_MS);
  return expectJoined(client, "j1");
}

/** A second member joins; the first is told and joins again; both answers, generation 2. */
async function secondJoins(node: StreamNode, first: StreamClient, firstMemberId: string) {
  const second = await connect(node);
  await sendJoin(node, second, { requestId: "s1" }, 1);
  await expectRebalance(first, firstMemberId);
  await sendJoin(node, first, { requestId: "j2", memberId: firstMemberId });
  const answers = [await expectJoined(first, "j2"), await expectJoined(second, "s1")];
  expectSplit(answers, PARTITIONS);
  return { second, answers };
}

describe("commits over WebSocket", () => {
  test("a commit shows in describe over HTTP with its lag, and in the next join's committedOffset", async () => {
    const node = await start();
    const a = await connect(node);
    const joined = await joinAlone(node, a);
    const offsets = [
      { topic: TOPIC, partition: 0, offset: 4 },
      { topic: TOPIC, partition: 2, offset: RECORDS_PER_PARTITION },
    ];
    const { memberId, generationId } = joined;
    a.send({ type: "commit", requestId: 9, group: GROUP, memberId, generationId, offsets });
    expect(await a.expectFrame("committed")).toEqual({
      type: "committed",
      requestId: 9,
      group: GROUP,
      offsets,
    });

    const partitions = (await describeGroup(node)).partitions.map(({ partition, committedOffset, lag }) => ({
      partition,
      committedOffset,
      lag,
    }));
    expect(partitions).toEqual([
      { partition: 0, committedOffset: 4, lag: RECORDS_PER_PARTITION - 4 },
      { partition: 1, committedOffset: null, lag: null },
      { partition: 2, committedOffset: RECORDS_PER_PARTITION, lag: 0 },
      { partition: 3, committedOffset: null, lag: null },
    ]);
    expect(await scrape(node, "sluice_consumer_group_lag", { group: GROUP, partition: "0" })).toBe(
      RECORDS_PER_PARTITION - 4,
    );

    const { answers } = await secondJoins(node, a, memberId);
    const committed = new Map(
      answers.flatMap((answer) => answer.assignment.map((entry) => [entry.partition, entry.committedOffset])),
    );
    expect([...committed.entries()].sort()).toEqual([
      [0, 4],
      [1, null],
      [2, RECORDS_PER_PARTITION],
      [3, null],
    ]);
  });

  test("a commit or heartbeat naming a generation that has passed is ILLEGAL_GENERATION, and commits nothing", async () => {
    const node = await start();
    const a = await connect(node);
    const joined = await joinAlone(node, a);
    const { answers } = await secondJoins(node, a, joined.memberId);
    expect(answers[0]!.generationId).toBe(2);
    const offsets = [{ topic: TOPIC, partition: 0, offset: 1 }];
    const stale = { group: GROUP, memberId: joined.memberId, generationId: 1 };
    a.send({ type: "commit", requestId: "c1", ...stale, offsets });
    await a.expectError("ILLEGAL_GENERATION", { requestId: "c1", field: "generationId" });
    a.send({ type: "heartbeat", requestId: "h1", ...stale });
    await a.expectError("ILLEGAL_GENERATION", { requestId: "h1", field: "generationId" });
    const read = await (await fetch(`${node.api}/groups/${GROUP}/offsets`)).json();
    expect(read).toEqual({ offsets: [] });
    a.send({ type: "commit", requestId: "c2", ...stale, generationId: 2, offsets });
    expect((await a.expectFrame("committed")).requestId).toBe("c2");
  });

  test("a commit naming no member is a standalone consumer's: taken while the group has no members only", async () => {
    const node = await start();
    const a = await connect(node);
    const offsets = [{ topic: TOPIC, partition: 1, offset: 3 }];
    a.send({ type: "commit", requestId: 1, group: GROUP, offsets });
    expect((await a.expectFrame("committed")).offsets).toEqual(offsets);
    const joined = await joinAlone(node, a);
    expect(joined.assignment.find((entry) => entry.partition === 1)?.committedOffset).toBe(3);
    a.send({ type: "commit", requestId: 2, group: GROUP, offsets });
    await a.expectError("UNKNOWN_MEMBER_ID", { requestId: 2, field: "memberId" });
  });
});

describe("groups beside subscriptions", () => {
  test("joining, rebalancing, a refused group frame and leaving never disturb the connection's subscriptions", async () => {
    const node = await start();
    const a = await connect(node);
    await subscribe(a, { id: 1, topic: TOPIC, partition: 0, from: "latest", credit: { records: 1000 } });
    let sent = 0;
    /** One record to partition 0: the subscription must get it next. */
    const expectStillReceiving = async () => {
      const value = `after-${sent++}`;
      await produce(node, TOPIC, { records: [{ value, partition: 0 }] });
      expect(await a.expectFrame("records")).toMatchObject({ id: 1, records: [{ value }] });
    };

    await sendJoin(node, a, { requestId: "j1" }, 1);
    await expectStillReceiving(); // while the join waits
    node.clock.advance(DELAY_MS);
    const joined = await expectJoined(a, "j1");
    await expectStillReceiving();

    a.send({ type: "join", requestId: "bad", group: GROUP, topics: [TOPIC], sessionTimeoutMs: 1 });
    await a.expectError("INVALID_SESSION_TIMEOUT", { requestId: "bad" });
    await expectStillReceiving();

    await secondJoins(node, a, joined.memberId);
    await expectStillReceiving();
    expect(await scrape(node, "sluice_websocket_subscriptions")).toBe(1); // a join subscribes to nothing
    expect(await scrape(node, "sluice_websocket_group_members")).toBe(2);

    a.send({ type: "leave", requestId: "l", group: GROUP, memberId: joined.memberId });
    await a.expectFrame("left");
    await expectStillReceiving();
    expect(await scrape(node, "sluice_websocket_group_members")).toBe(1);
    expect(await scrape(node, "sluice_websocket_subscriptions")).toBe(1);
  });
});
