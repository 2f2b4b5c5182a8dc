// The ISR with real processes: a SIGSTOPped follower leaves it and comes back after SIGCONT;
// min.insync.replicas=2 keeps acks=all working with one follower down and refuses it clearly with
// two down; a replica holding a tail the new leader never had truncates it on rejoin.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createReplicatedTopic, leaderOf, partitionBytes } from "./failover-rounds.ts";
import { Cluster } from "./harness.ts";
import { readAll } from "./load.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start(3);
});
afterAll(() => cluster.stop());

async function produce(api: string, topic: string, value: unknown, acks: "all" | "1") {
  const response = await fetch(`${api}/topics/${topic}/records?acks=${acks}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ records: [{ value, partition: 0 }] }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { error?: { name: string; message: string } },
  };
}

/** As a client library does: a retriable 503 (leadership moving) is retried for a while. */
async function produceRetrying(api: string, topic: string, value: unknown) {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const answer = await produce(api, topic, value, "all");
    if (answer.status !== 503 || performance.now() > deadline) return answer;
    await Bun.sleep(50);
  }
}

test("a paused follower leaves the ISR and rejoins; min.insync.replicas=2 holds with one down, refuses with two", async () => {
  await createReplicatedTopic(cluster, "isr", { "min.insync.replicas": 2 });
  const leaderId = await leaderOf(cluster, "isr");
  const leader = cluster.node(leaderId);
  const [first, second] = cluster.nodes.filter((node) => node.id !== leaderId);
  expect((await produceRetrying(leader.api, "isr", "all three")).status).toBe(200);

  first!.signal("SIGSTOP");
  const shrunk = await cluster.waitForState(
    "isr",
    0,
    "the paused follower out of the ISR",
    (s) => s.replication?.isr.length === 2,
    15_000,
    leader,
  );
  expect(shrunk.replication!.isr).not.toContain(first!.id);
  expect((await produceRetrying(leader.api, "isr", "one down")).status).toBe(200);

  second!.signal("SIGSTOP");
  await cluster.waitForState(
    "isr",
    0,
    "only the leader in the ISR",
    (s) => s.replication?.isr.length === 1,
    15_000,
    leader,
  );
  const refused = await produce(leader.api, "isr", "two down", "all");
  expect(refused.status).toBe(503);
  expect(refused.body.error?.name).toBe("NOT_ENOUGH_REPLICAS");
  expect(refused.body.error?.message).toContain("min.insync.replicas is 2");

  first!.signal("SIGCONT");
  second!.signal("SIGCONT");
  const back = await cluster.waitForState(
    "isr",
    0,
    "both followers back in the ISR",
    (s) => s.replication?.isr.length === 3,
    20_000,
    leader,
  );
  expect(back.replication!.leader).toBe(leaderId);
  expect((await produceRetrying(leader.api, "isr", "all back")).status).toBe(200);
}, 90_000);

test("a tail written by a leader that died before it was replicated is truncated when that node rejoins", async () => {
  await createReplicatedTopic(cluster, "diverge");
  const oldLeaderId = await leaderOf(cluster, "diverge");
  const oldLeader = cluster.node(oldLeaderId);
  const followers = cluster.nodes.filter((node) => node.id !== oldLeaderId);
  for (let i = 0; i < 5; i++)
    expect((await produceRetrying(oldLeader.api, "diverge", `committed-${i}`)).status).toBe(200);

  // The followers stop fetching; the leader takes records only it will ever have (acks=1), then dies.
  for (const follower of followers) follower.signal("SIGSTOP");
  for (let i = 0; i < 3; i++)
    expect((await produce(oldLeader.api, "diverge", `lost-${i}`, "1")).status).toBe(200);
  await oldLeader.kill();
  for (const follower of followers) follower.signal("SIGCONT");

  const moved = await cluster.waitForState(
    "diverge",
    0,
    "a new leader",
    (s) => {
      const leader = s.replication?.leader ?? null;
      return leader !== null && leader !== oldLeaderId;
    },
    20_000,
    followers[0],
  );
  const newLeader = cluster.node(moved.replication!.leader!);
  for (let i = 0; i < 4; i++)
    expect((await produceRetrying(newLeader.api, "diverge", `new-${i}`)).status).toBe(200);

  // The new leader holds the committed records, perhaps the first of the old leader's last ones (a
  // fetch already on its way when the follower was paused), then its own.
  const newLog = await cluster.partitionState("diverge", 0, newLeader);
  await oldLeader.start();
  await cluster.waitForState(
    "diverge",
    0,
    "the old leader back in the ISR",
    (s) => s.replication?.isr.length === 3 && s.highWatermark === newLog.logEndOffset,
    20_000,
    newLeader,
  );
  await cluster.waitForState(
    "diverge",
    0,
    "the old leader caught up",
    (s) => s.logEndOffset === newLog.logEndOffset && s.highWatermark === newLog.logEndOffset,
    20_000,
    oldLeader,
  );
  const values = (await readAll(newLeader.api, "diverge", newLog.logEndOffset)).map((record) => record.value);
  const kept = values.length - 9;
  expect(kept).toBeGreaterThanOrEqual(0);
  expect(kept).toBeLessThan(3);
  expect(values).toEqual([
    ...Array.from({ length: 5 }, (_, i) => `committed-${i}`),
    ...Array.from({ length: kept }, (_, i) => `lost-${i}`),
    ...Array.from({ length: 4 }, (_, i) => `new-${i}`),
  ]);
  for (const node of cluster.nodes) await node.stop();
  const bytes = cluster.nodes.map((node) => partitionBytes(node.dataDir, "diverge"));
  expect(bytes[1]!.equals(bytes[0]!)).toBe(true);
  expect(bytes[2]!.equals(bytes[0]!)).toBe(true);
  for (const node of cluster.nodes) await node.start();
}, 90_000);

test("etcd restarted: leaders keep serving while it is away, and failover works once it is back", async () => {
  await createReplicatedTopic(cluster, "coord", { "min.insync.replicas": 2 });
  const leaderId = await leaderOf(cluster, "coord");
  const leader = cluster.node(leaderId);
  // "Keeps serving the leaders it has": the leader must have taken its leadership up (and its
  // followers joined) before etcd goes, which on a loaded box can trail the controller's write.
  await cluster.waitForState(
    "coord",
    0,
    "the leader serving with all three in the ISR",
    (s) => s.replication?.leader === leaderId && s.replication.isr.length === 3,
    20_000,
    leader,
  );
  await cluster.etcd.kill();
  const deadline = performance.now() + 3000;
  let acked = 0;
  while (performance.now() < deadline) {
    // The whole answer, so a refusal shows its error.
    expect(await produceRetrying(leader.api, "coord", acked)).toMatchObject({ status: 200 });
    acked++;
  }
  expect(acked).toBeGreaterThan(10);
  await cluster.etcd.restart();
  const cluster_ = await (await fetch(`${leader.api}/cluster`)).json();
  expect(cluster_.enabled).toBe(true);
  await cluster.waitForState(
    "coord",
    0,
    "all three in the ISR after etcd returned",
    (s) => s.replication?.isr.length === 3,
    20_000,
    leader,
  );

  await leader.kill();
  const other = cluster.nodes.find((node) => node.id !== leaderId)!;
  const moved = await cluster.waitForState(
    "coord",
    0,
    "a new leader",
    (s) => {
      const next = s.replication?.leader ?? null;
      return next !== null && next !== leaderId;
    },
    20_000,
    other,
  );
  expect((await produceRetrying(cluster.node(moved.replication!.leader!).api, "coord", "after")).status).toBe(
    200,
  );
  await leader.start();
  const values = (await readAll(other.api, "coord", acked + 1)).map((record) => record.value);
  expect(values).toEqual([...Array.from({ length: acked }, (_, i) => i), "after"]);
}, 90_000);
