// Reassignment with real etcd and real Sluice processes: a node added to a running cluster takes
// over a partition from its leader while acks=all producers keep writing, and nothing acknowledged
// is lost; a WebSocket reader on the node it leaves is told where it went; a move is cancelled; bad
// requests are refused with the right errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSluice } from "../cli/helpers.ts";
import { createReplicatedTopic, leaderOf, partitionBytes, verifyAcked } from "./failover-rounds.ts";
import { Cluster, type SluiceNode, waitUntil } from "./harness.ts";
import { AckedLoad } from "./load.ts";

let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start(2);
});

afterAll(async () => {
  await cluster?.stop();
});

async function reassign(via: SluiceNode, body: unknown) {
  const response = await fetch(`${via.api}/cluster/reassignments`, {
    method: "POST",
    headers: { ...via.headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  type Answer = { reassignments: Array<Record<string, unknown>>; error?: { name: string } };
  return { status: response.status, body: (await response.json()) as Answer };
}

/** A raw WebSocket on `node` that keeps every frame it gets. */
async function openSocket(node: SluiceNode) {
  const frames: Array<Record<string, unknown>> = [];
  const socket = new WebSocket(`${node.url.replace("http", "ws")}/api/v1/ws`);
  socket.onmessage = (event) => frames.push(JSON.parse(String(event.data)));
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const subscribe = (id: number) =>
    socket.send(
      JSON.stringify({
        type: "subscribe",
        id,
        topic: "moving",
        partition: 0,
        from: "earliest",
        credit: { records: 1_000_000 },
      }),
    );
  return { socket, frames, subscribe };
}

async function reassignments(via: SluiceNode): Promise<Array<Record<string, unknown>>> {
  const response = await fetch(`${via.api}/cluster/reassignments`, { headers: via.headers });
  return ((await response.json()) as { reassignments: Array<Record<string, unknown>> }).reassignments;
}

test("a new node takes a partition over from its leader under acks=all load, losing nothing", async () => {
  await createReplicatedTopic(cluster, "moving", { "replication.factor": 2, "min.insync.replicas": 2 });
  const oldLeader = await leaderOf(cluster, "moving");
  const follower = cluster.nodes.find((node) => node.id !== oldLeader)!;
  const load = new AckedLoad(cluster, "moving");
  await waitUntil("acks before the move", async () => load.acked.length >= 200, 30_000);

  // A WebSocket reader on the node the partition is about to leave.
  const reader = await openSocket(cluster.node(oldLeader));
  reader.subscribe(1);
  await waitUntil(
    "records on the old leader's socket",
    async () => reader.frames.some((frame) => frame.type === "records"),
    10_000,
  );

  const added = await cluster.addNode();
  const started = await reassign(follower, {
    partitions: [{ topic: "moving", partition: 0, replicas: [added.id, follower.id] }],
  });
  expect(started.status).toBe(202);
  expect(started.body.reassignments).toEqual([
    expect.objectContaining({
      topic: "moving",
      partition: 0,
      replicas: [added.id, follower.id],
      addingReplicas: [added.id],
      removingReplicas: [oldLeader],
      inProgress: true,
    }),
  ]);
  const ackedAtStart = load.acked.length;
  await waitUntil("the move to finish", async () => (await reassignments(added)).length === 0, 60_000);
  const moved = await cluster.waitForState("moving", 0, "the new replicas", (s) => {
    const r = s.replication;
    return r?.replicas.join() === `${added.id},${follower.id}` && r.isr.length === 2 && r.leader === added.id;
  });
  // The old leader handed over: a new epoch, led by the added node (the target's first replica).
  expect(moved.replication!.leaderEpoch).toBeGreaterThan(0);
  const ackedAtEnd = load.acked.length;
  await waitUntil("acks after the move", async () => load.acked.length >= ackedAtEnd + 200, 30_000);
  await load.stop();
  // Producers were answered throughout: during the move and after it.
  expect(ackedAtEnd).toBeGreaterThan(ackedAtStart);

  // Its subscription ended with an error naming where the partition went; a new one is refused.
  await waitUntil(
    "the old leader's subscription to end",
    async () => reader.frames.some((frame) => frame.type === "unsubscribed"),
    10_000,
  );
  const ended = reader.frames.find((frame) => frame.type === "error") as { name: string; message: string };
  expect(ended.name).toBe("NOT_LEADER_OR_FOLLOWER");
  expect(ended.message).toContain(`node ${added.id} (${added.url})`);
  reader.subscribe(2);
  await waitUntil(
    "the refusal",
    async () => reader.frames.filter((frame) => frame.type === "error").length === 2,
    10_000,
  );
  reader.socket.close();
  // The new leader's socket serves the partition from its start.
  const newReader = await openSocket(added);
  newReader.subscribe(3);
  await waitUntil(
    "records on the new leader's socket",
    async () => newReader.frames.some((frame) => frame.type === "records"),
    10_000,
  );
  expect(newReader.frames.find((frame) => frame.type === "subscribed")).toMatchObject({ offset: 0 });
  newReader.socket.close();

  // The node that left the replica set does not lead or follow any more: it forwards to the leader.
  // Its describe shows the leader's offsets, not its own stale log's.
  const viaOld = await cluster.partitionState("moving", 0, cluster.node(oldLeader));
  expect(viaOld.replication?.replicas).toEqual([added.id, follower.id]);
  expect(viaOld.replication?.offsetsFrom).toBe(added.id);
  const viaLeader = await cluster.partitionState("moving", 0, added);
  expect(viaOld.logEndOffset).toBe(viaLeader.logEndOffset);
  expect(viaLeader.replication?.offsetsFrom).toBe(added.id);

  const { records } = await verifyAcked(cluster, "moving", load, [added.id, follower.id]);
  expect(records).toBeGreaterThanOrEqual(load.acked.length);
  // The node it left keeps none of it (Kafka deletes a dropped replica's log).
  expect(partitionBytes(cluster.node(oldLeader).dataDir, "moving").length).toBe(0);
  for (const node of cluster.nodes) await node.start();
}, 180_000);

test("a move is cancelled back to the original replicas; bad requests start nothing", async () => {
  await createReplicatedTopic(cluster, "staying", { "replication.factor": 2 });
  const before = await cluster.waitForState("staying", 0, "in sync", (s) => s.replication?.isr.length === 2);
  const original = before.replication!.replicas;
  const outsider = cluster.nodes.find((node) => !original.includes(node.id))!;
  const via = cluster.nodes[0]!;

  // A replica that cannot catch up (stopped) keeps the move open until it is cancelled.
  outsider.signal("SIGSTOP");
  try {
    const started = await reassign(via, {
      partitions: [{ topic: "staying", partition: 0, replicas: [original[0]!, outsider.id] }],
    });
    expect(started.status).toBe(202);
    expect((await reassignments(via)).map((r) => r.topic)).toEqual(["staying"]);
    const cancel = await fetch(`${via.api}/cluster/reassignments/staying/0`, {
      method: "DELETE",
      headers: via.headers,
    });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ replicas: original, inProgress: false });
    const again = await fetch(`${via.api}/cluster/reassignments/staying/0`, {
      method: "DELETE",
      headers: via.headers,
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { name: string } }).error.name).toBe(
      "NO_REASSIGNMENT_IN_PROGRESS",
    );
  } finally {
    outsider.signal("SIGCONT");
  }
  const after = await cluster.waitForState("staying", 0, "the original replicas", (s) => {
    return s.replication?.replicas.join() === original.join() && s.replication.isr.length === 2;
  });
  expect(after.replication!.leaderEpoch).toBe(before.replication!.leaderEpoch);

  const refusals: Array<[unknown, number, string]> = [
    [
      { partitions: [{ topic: "staying", partition: 0, replicas: [1, 1] }] },
      400,
      "INVALID_REPLICA_ASSIGNMENT",
    ],
    [
      { partitions: [{ topic: "staying", partition: 0, replicas: [1, 99] }] },
      400,
      "INVALID_REPLICA_ASSIGNMENT",
    ],
    [{ partitions: [{ topic: "staying", partition: 0, replicas: [] }] }, 400, "INVALID_REQUEST"],
    [{ partitions: [{ topic: "staying", partition: 5, replicas: [1] }] }, 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    [{ partitions: [{ topic: "nowhere", partition: 0, replicas: [1] }] }, 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    [{ partitions: [] }, 400, "INVALID_REQUEST"],
    [{ partitions: [{ topic: "staying", partition: 0, replicas: [1], extra: 1 }] }, 400, "INVALID_REQUEST"],
    [
      {
        partitions: [
          { topic: "staying", partition: 0, replicas: [1] },
          { topic: "staying", partition: 0, replicas: [2] },
        ],
      },
      400,
      "INVALID_REPLICA_ASSIGNMENT",
    ],
    // The first entry is fine, the second is not: neither starts.
    [
      {
        partitions: [
          { topic: "staying", partition: 0, replicas: [1] },
          { topic: "nowhere", partition: 0, replicas: [1] },
        ],
      },
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
    ],
  ];
  for (const [body, status, name] of refusals) {
    const answer = await reassign(via, body);
    expect({ body, status: answer.status, name: answer.body.error?.name }).toEqual({ body, status, name });
  }
  expect(await reassignments(via)).toEqual([]);
  const unchanged = await cluster.partitionState("staying", 0);
  expect(unchanged.replication!.replicas).toEqual(original);
}, 120_000);

test("sluice cluster: status lists the nodes, reassign --wait moves a partition, and so does a plan file in Kafka's format", async () => {
  const via = cluster.nodes[0]!;
  const sluice = (args: string[]) => runSluice(["cluster", ...args], { env: { SLUICE_URL: via.url } });
  const status = await sluice(["status", "--json"]);
  expect(status.exitCode).toBe(0);
  const nodes = (JSON.parse(status.stdout) as { nodes: Array<{ id: number; live: boolean }> }).nodes;
  expect(nodes.filter((node) => node.live).map((node) => node.id)).toEqual(
    cluster.nodes.map((node) => node.id),
  );
  expect((await sluice(["status"])).stdout).toContain("under-replicated");

  await createReplicatedTopic(cluster, "planned", { "replication.factor": 1 });
  const before = await cluster.waitForState("planned", 0, "a leader", (s) => s.replication?.leader !== null);
  const others = cluster.nodes.map((node) => node.id).filter((id) => id !== before.replication!.leader);
  const moved = await sluice([
    "reassign",
    "planned",
    "0",
    "--replicas",
    others.join(","),
    "--wait",
    "--json",
  ]);
  expect(moved.stderr).toBe("");
  expect(moved.exitCode).toBe(0);
  expect(JSON.parse(moved.stdout)).toEqual([
    expect.objectContaining({ topic: "planned", partition: 0, replicas: others, leader: others[0] }),
  ]);

  const plan = join(cluster.root, "plan.json");
  writeFileSync(
    plan,
    JSON.stringify({ version: 1, partitions: [{ topic: "planned", partition: 0, replicas: [1] }] }),
  );
  expect((await sluice(["reassign", "--file", plan, "--wait"])).exitCode).toBe(0);
  expect((await cluster.partitionState("planned", 0)).replication!.replicas).toEqual([1]);
  expect((await sluice(["reassignments"])).stdout).toContain("no reassignments under way");
  // Bad usage exits 2, a refusal by the node 1, cancelling nothing 5.
  expect((await sluice(["reassign", "planned", "0", "--replicas", "one"])).exitCode).toBe(2);
  expect((await sluice(["reassign", "planned", "0", "--replicas", "1,99"])).exitCode).toBe(1);
  expect((await sluice(["cancel", "planned", "0"])).exitCode).toBe(5);
}, 120_000);
