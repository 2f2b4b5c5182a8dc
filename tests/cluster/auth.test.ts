// Cluster mode with access control on (real etcd, three processes): nodes replicate and forward with
// the shared authAdminToken, so acks=all works; a client token is checked by the node it reaches, a
// consume-only token's produce is refused on a non-leader too, and a producer token made on a
// non-leader (unknown to the leader: API tokens are each node's own) is forwarded and succeeds; a
// group request forwarded to the group's coordinator is checked there against the client's grants.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createReplicatedTopic, leaderOf } from "./failover-rounds.ts";
import { Cluster, type SluiceNode } from "./harness.ts";

const ADMIN_TOKEN = `${crypto.randomUUID()}${crypto.randomUUID()}`;
const TOPIC = "secured";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start(3, { adminToken: ADMIN_TOKEN, extraArgs: ["--ack-timeout-ms", "10000"] });
});
afterAll(() => cluster.stop());

async function makeToken(
  node: SluiceNode,
  name: string,
  role: "produce" | "consume",
  topics = TOPIC,
): Promise<string> {
  const response = await fetch(`${node.api}/tokens`, {
    method: "POST",
    headers: { ...node.headers, "content-type": "application/json" },
    body: JSON.stringify({ name, grants: [{ role, topics }] }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

async function produce(node: SluiceNode, token: string, value: string) {
  const response = await fetch(`${node.api}/topics/${TOPIC}/records?acks=all`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ records: [{ value, partition: 0 }] }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { offsets?: Array<{ offset: number }>; error?: { name: string } },
  };
}

test("with access control on, nodes replicate and forward with the shared admin token; client tokens are checked where they arrive", async () => {
  await createReplicatedTopic(cluster, TOPIC, { "min.insync.replicas": 3 });
  const leaderId = await leaderOf(cluster, TOPIC);
  const leader = cluster.node(leaderId);
  const other = cluster.nodes.find((node) => node.id !== leaderId)!;

  // The replica routes are closed to anyone without the admin token.
  const bare = await fetch(`${leader.api}/cluster/replica/fetch?topic=${TOPIC}&partition=0&offset=0`);
  expect(bare.status).toBe(401);

  // acks=all with min.insync.replicas=3 is answered only once both followers fetched the record.
  expect((await produce(leader, ADMIN_TOKEN, "from the admin")).status).toBe(200);

  const producer = await makeToken(other, "ingest", "produce");
  const reader = await makeToken(other, "reader", "consume");
  // Made on the non-leader: the leader has never heard of them.
  expect(
    (await fetch(`${leader.api}/whoami`, { headers: { authorization: `Bearer ${producer}` } })).status,
  ).toBe(401);

  const refused = await produce(other, reader, "must not land");
  expect(refused.status).toBe(403);
  expect(refused.body.error?.name).toBe("FORBIDDEN");

  const forwarded = await produce(other, producer, "through the non-leader");
  expect(forwarded.status).toBe(200);
  expect(forwarded.body.offsets?.[0]?.offset).toBe(1);

  // A fetch on the non-leader is forwarded to the leader (forward.ts) as the cluster.
  const fetched = await fetch(`${other.api}/topics/${TOPIC}/partitions/0/records?offset=0&max_wait_ms=0`, {
    headers: { authorization: `Bearer ${reader}` },
  });
  expect(fetched.status).toBe(200);
  expect(fetched.headers.get("x-sluice-served-by")).toBe(String(leaderId));
  const { records } = (await fetched.json()) as { records: Array<{ offset: number; value: unknown }> };
  expect(records.map((record) => record.value)).toEqual(["from the admin", "through the non-leader"]);

  // Every replica holds both records and nothing from the refused produce.
  for (const node of cluster.nodes) {
    const state = await cluster.waitForState(
      TOPIC,
      0,
      `node ${node.id} caught up`,
      (s) => s.logEndOffset === 2 && s.highWatermark === 2,
      10_000,
      node,
    );
    expect(state.replication?.isr.toSorted()).toEqual([1, 2, 3]);
  }
}, 60_000);

test("a group request is checked against the group's topics on every node, coordinator or not", async () => {
  const [first] = cluster.nodes;
  // Committed by the admin: the group involves TOPIC, which only its coordinator knows.
  // The first group request creates the offsets topic: retriable 503s until its leaders serve.
  let commit: Response;
  const deadline = performance.now() + 15_000;
  do {
    commit = await fetch(`${first!.api}/groups/g-secured/offsets`, {
      method: "POST",
      headers: { ...first!.headers, "content-type": "application/json" },
      body: JSON.stringify({ offsets: [{ topic: TOPIC, partition: 0, offset: 1 }] }),
    });
    if (commit.status === 503) await Bun.sleep(100);
  } while (commit.status === 503 && performance.now() < deadline);
  expect(commit.status).toBe(200);
  for (const node of cluster.nodes) {
    const outsider = await makeToken(node, `outsider-${node.id}`, "consume", "elsewhere.*");
    const reader = await makeToken(node, `reader-${node.id}`, "consume");
    const as = (token: string, method = "GET") =>
      fetch(`${node.api}/groups/g-secured`, { method, headers: { authorization: `Bearer ${token}` } });
    const described = await as(reader);
    expect(described.status).toBe(200);
    const servedBy = described.headers.get("x-sluice-served-by");
    for (const method of ["GET", "DELETE"]) {
      const refused = await as(outsider, method);
      expect({ node: node.id, servedBy, method, status: refused.status }).toEqual({
        node: node.id,
        servedBy,
        method,
        status: 403,
      });
    }
  }
  const offsets = await fetch(`${first!.api}/groups/g-secured/offsets`, { headers: first!.headers });
  expect(
    ((await offsets.json()) as { offsets: Array<{ offset: number }> }).offsets.map((o) => o.offset),
  ).toEqual([1]);
}, 60_000);
