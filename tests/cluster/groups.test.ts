// Consumer groups on a real three-node cluster: the offsets topic replicated, each group coordinated
// by the leader of its offsets partition, group requests forwarded there from any node. Committed
// offsets survive the coordinator's SIGKILL; two members joined through two nodes split the
// partitions; a commit the offsets partition's ISR cannot take answers an error.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SluiceConsumer } from "../../lib/client/consumer.ts";
import { offsetsPartitionFor } from "../../lib/groups/offsets-topic.ts";
import { Cluster, type SluiceNode, waitUntil } from "./harness.ts";

const OFFSETS = "__consumer_offsets";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start(3, { extraArgs: ["--group-initial-rebalance-delay-ms", "300"] });
});
afterAll(() => cluster.stop());

async function call(node: SluiceNode, method: string, path: string, body?: unknown) {
  const response = await fetch(`${node.api}${path}`, {
    method,
    headers: { ...node.headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    servedBy: response.headers.get("x-sluice-served-by"),
    // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
    body: (text === "" ? undefined : JSON.parse(text)) as any,
  };
}

/** As a client does: retriable 503s (a coordinator moving) are tried again for a while. */
async function callRetrying(node: SluiceNode, method: string, path: string, body?: unknown) {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const answer = await call(node, method, path, body);
    if (answer.status !== 503 || performance.now() > deadline) return answer;
    await Bun.sleep(100);
  }
}

async function createTopic(name: string, partitions: number, replicationFactor = 3) {
  // After a test that paused nodes, they may not all be registered again yet.
  await waitUntil(
    "enough live nodes",
    async () =>
      (await call(cluster.nodes[0]!, "GET", "/cluster")).body.nodes.filter((n: { live: boolean }) => n.live)
        .length >= replicationFactor,
    20_000,
  );
  const answer = await call(cluster.nodes[0]!, "POST", "/topics", {
    name,
    partitions,
    config: { "replication.factor": replicationFactor },
  });
  expect(answer.status).toBe(201);
}

/** The node that coordinates `group` now (the leader of its offsets partition), as `via` sees it. */
async function coordinatorOf(group: string, via: SluiceNode): Promise<number> {
  // Any group request makes the offsets topic on first use.
  expect((await callRetrying(via, "GET", `/groups/${group}/offsets`)).status).toBe(200);
  const state = await cluster.waitForState(
    OFFSETS,
    offsetsPartitionFor(group, 4),
    "the offsets partition led",
    (s) => (s.replication?.leader ?? null) !== null,
    15_000,
    via,
  );
  return state.replication!.leader!;
}

test("committed offsets survive the coordinator's SIGKILL and read back exactly through a survivor", async () => {
  await createTopic("survive", 3);
  const group = "survivors";
  const via = cluster.nodes[0]!;
  const coordinatorId = await coordinatorOf(group, via);
  const coordinator = cluster.node(coordinatorId);
  const [other, third] = cluster.nodes.filter((node) => node.id !== coordinatorId);

  const offsets = [
    { topic: "survive", partition: 0, offset: 11, metadata: "first" },
    { topic: "survive", partition: 1, offset: 22, metadata: "" },
    { topic: "survive", partition: 2, offset: 33, metadata: "ünïcode" },
  ];
  const committed = await callRetrying(other!, "POST", `/groups/${group}/offsets`, { offsets });
  expect(committed.status).toBe(200);
  expect(committed.servedBy).toBe(String(coordinatorId));
  // A second commit moves one offset on: the survivor must hold the latest.
  const moved = await call(third!, "POST", `/groups/${group}/offsets`, {
    offsets: [{ topic: "survive", partition: 1, offset: 23 }],
  });
  expect(moved.status).toBe(200);
  const expected = [offsets[0], { ...offsets[1], offset: 23 }, offsets[2]];

  // Clients still cannot write the offsets topic, through any node.
  const forged = await call(other!, "POST", `/topics/${OFFSETS}/records`, { records: [{ value: 1 }] });
  expect(forged.body.error.name).toBe("TOPIC_IS_INTERNAL");

  await coordinator.kill();
  const partition = offsetsPartitionFor(group, 4);
  const next = await cluster.waitForState(
    OFFSETS,
    partition,
    "a new leader of the offsets partition",
    (s) => {
      const leader = s.replication?.leader ?? null;
      return leader !== null && leader !== coordinatorId;
    },
    20_000,
    other,
  );
  expect(next.replication!.leader).not.toBe(coordinatorId);
  for (const survivor of [other!, third!]) {
    const read = await callRetrying(survivor, "GET", `/groups/${group}/offsets`);
    expect(read.status).toBe(200);
    expect(
      read.body.offsets.map(({ commitTimestampMs: _, ...rest }: { commitTimestampMs: number }) => rest),
    ).toEqual(expected);
  }
  const described = await callRetrying(third!, "GET", `/groups/${group}`);
  expect(described.status).toBe(200);
  expect(described.body.partitions.map((p: { committedOffset: number }) => p.committedOffset)).toEqual([
    11, 23, 33,
  ]);
  await coordinator.start();
}, 90_000);

test("two members joined through two different nodes split the partitions", async () => {
  await createTopic("split", 4);
  const group = "splitters";
  const coordinatorId = await coordinatorOf(group, cluster.nodes[0]!);
  // Both through nodes that do not coordinate the group (or through one that does when only one other is up).
  const others = cluster.running().filter((node) => node.id !== coordinatorId);
  const [first, second] = others.length >= 2 ? others : [others[0]!, cluster.node(coordinatorId)];
  const join = (node: SluiceNode, clientId: string) =>
    callRetrying(node, "POST", `/groups/${group}/members`, {
      topics: ["split"],
      clientId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
    });
  const [a, b] = await Promise.all([join(first!, "a"), join(second!, "b")]);
  expect(a.status).toBe(200);
  expect(b.status).toBe(200);
  expect(a.body.generationId).toBe(b.body.generationId);
  const partitionsOf = (answer: typeof a) =>
    (answer.body.assignment as Array<{ topic: string; partitions: number[] }>).flatMap((entry) =>
      entry.partitions.map((p) => `${entry.topic}-${p}`),
    );
  const [mine, theirs] = [partitionsOf(a), partitionsOf(b)];
  expect(mine.length).toBeGreaterThan(0);
  expect(theirs.length).toBeGreaterThan(0);
  expect(mine.filter((p) => theirs.includes(p))).toEqual([]);
  expect([...mine, ...theirs].sort()).toEqual(["split-0", "split-1", "split-2", "split-3"]);

  // Every node lists the group, once, with both members.
  for (const node of cluster.running()) {
    const listed = await call(node, "GET", "/groups");
    const entries = listed.body.groups.filter((g: { group: string }) => g.group === group);
    expect(entries).toEqual([{ group, state: "Stable", generationId: a.body.generationId, members: 2 }]);
  }
  // A heartbeat through a non-coordinator is answered by the coordinator.
  const beat = await call(first!, "POST", `/groups/${group}/members/${a.body.memberId}/heartbeat`, {
    generationId: a.body.generationId,
  });
  expect(beat.status).toBe(204);
  for (const [node, answer] of [
    [first!, a],
    [second!, b],
  ] as const)
    expect((await call(node, "DELETE", `/groups/${group}/members/${answer.body.memberId}`)).status).toBe(204);
}, 60_000);

test("lag is against the leaders' log ends, through any node", async () => {
  // One replica per partition: the coordinator holds at most one of the three, and empty logs of the rest.
  await createTopic("lagging", 3, 1);
  const group = "laggards";
  const coordinatorId = await coordinatorOf(group, cluster.nodes[0]!);
  const partitions = [0, 1, 2];
  for (const partition of partitions) {
    const produced = await callRetrying(cluster.nodes[0]!, "POST", "/topics/lagging/records?acks=all", {
      records: Array.from({ length: 7 + partition }, (_, i) => ({ value: i, partition })),
    });
    expect(produced.status).toBe(200);
  }
  const commit = await callRetrying(cluster.nodes[1]!, "POST", `/groups/${group}/offsets`, {
    offsets: partitions.map((partition) => ({ topic: "lagging", partition, offset: 2 })),
  });
  expect(commit.status).toBe(200);
  for (const node of cluster.running()) {
    const described = await call(node, "GET", `/groups/${group}`);
    expect(described.servedBy ?? String(node.id)).toBe(String(coordinatorId));
    expect(described.body.partitions).toEqual(
      partitions.map((partition) => ({
        topic: "lagging",
        partition,
        memberId: null,
        committedOffset: 2,
        logEndOffset: 7 + partition,
        lag: 5 + partition,
      })),
    );
  }
}, 60_000);

test("a commit the offsets partition's ISR cannot take (below min.insync.replicas) answers an error", async () => {
  await createTopic("guarded", 1);
  const group = "guarded-group";
  const coordinatorId = await coordinatorOf(group, cluster.nodes[0]!);
  const coordinator = cluster.node(coordinatorId);
  const altered = await call(coordinator, "PATCH", `/topics/${OFFSETS}/config`, {
    config: { "min.insync.replicas": 2 },
  });
  expect(altered.status).toBe(200);
  const partition = offsetsPartitionFor(group, 4);
  await cluster.waitForState(OFFSETS, partition, "all three in sync", (s) => s.replication?.isr.length === 3);
  const commit = (offset: number) =>
    call(coordinator, "POST", `/groups/${group}/offsets`, {
      offsets: [{ topic: "guarded", partition: 0, offset }],
    });
  expect((await commit(1)).status).toBe(200);

  const followers = cluster.nodes.filter((node) => node.id !== coordinatorId);
  for (const follower of followers) follower.signal("SIGSTOP");
  try {
    await cluster.waitForState(
      OFFSETS,
      partition,
      "only the coordinator in sync",
      (s) => s.replication?.isr.length === 1,
      20_000,
      coordinator,
    );
    const refused = await commit(2);
    expect(refused.status).toBe(503);
    expect(refused.body.error.name).toMatch(/^NOT_ENOUGH_REPLICAS/);
    // Nothing refused shows as committed.
    const read = await call(coordinator, "GET", `/groups/${group}/offsets`);
    expect(read.body.offsets.map((o: { offset: number }) => o.offset)).toEqual([1]);
  } finally {
    for (const follower of followers) follower.signal("SIGCONT");
  }
  await waitUntil(
    "a commit taken again",
    async () =>
      (
        await callRetrying(coordinator, "POST", `/groups/${group}/offsets`, {
          offsets: [{ topic: "guarded", partition: 0, offset: 3 }],
        })
      ).status === 200,
    30_000,
  );
}, 90_000);

test("WebSocket members on nodes that do not coordinate their group split the partitions and rebalance", async () => {
  await createTopic("wsplit", 4);
  const group = "ws-splitters";
  const coordinatorId = await coordinatorOf(group, cluster.nodes[0]!);
  const others = cluster.running().filter((node) => node.id !== coordinatorId);
  const errors: unknown[] = [];
  const consumerOn = (node: SluiceNode) =>
    new SluiceConsumer({
      baseUrl: node.url,
      group,
      sessionTimeoutMs: 6000,
      rebalanceTimeoutMs: 6000,
      autoCommit: false,
      onError: (error) => errors.push(error),
    });
  const consumers = [consumerOn(others[0]!), consumerOn(others.at(-1)!)];
  const stable = async (members: SluiceConsumer[]) => {
    await waitUntil(
      "the members stable in one generation",
      async () => {
        const generations = new Set(members.map((m) => (m.rebalancing ? -1 : m.membership?.generationId)));
        if (generations.size !== 1 || generations.has(-1) || generations.has(undefined)) return false;
        const described = await call(cluster.node(coordinatorId), "GET", `/groups/${group}`);
        return described.body.state === "Stable" && described.body.members.length === members.length;
      },
      20_000,
    );
    const assigned = members.map((m) => m.assignment().map((a) => `${a.topic}-${a.partition}`));
    expect(assigned.every((mine) => mine.length > 0)).toBe(true);
    expect(assigned.flat().sort()).toEqual(["wsplit-0", "wsplit-1", "wsplit-2", "wsplit-3"]);
  };
  try {
    await Promise.all(consumers.map((consumer) => consumer.subscribe(["wsplit"])));
    await stable(consumers);
    // A third member (through the coordinator itself): the others hear the rebalance through their
    // heartbeats, forwarded by their nodes, and join again.
    consumers.push(consumerOn(cluster.node(coordinatorId)));
    await consumers[2]!.subscribe(["wsplit"]);
    await stable(consumers);
  } finally {
    await Promise.all(consumers.map((consumer) => consumer.close()));
  }
  expect(errors.filter((error) => !String(error).includes("REBALANCE_IN_PROGRESS"))).toEqual([]);
}, 60_000);
