// The SIGKILL-the-leader rounds, shared by the CI test (a few rounds) and scripts/cluster-soak.ts
// (20 and more): acks=all load runs throughout; each round kills the partition's leader, measures
// the time to the first acknowledged produce on its successor, restarts the dead node and waits
// until it is back in the ISR. verifyAcked then checks every acknowledged record and the replicas.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "./harness.ts";
import { type AckedLoad, readAll } from "./load.ts";

export async function createReplicatedTopic(
  cluster: Cluster,
  topic: string,
  config: Record<string, unknown> = {},
): Promise<void> {
  const response = await fetch(`${cluster.nodes[0]!.api}/topics`, {
    method: "POST",
    headers: { ...cluster.nodes[0]!.headers, "content-type": "application/json" },
    body: JSON.stringify({ name: topic, partitions: 1, config: { "replication.factor": 3, ...config } }),
  });
  if (response.status !== 201) throw new Error(`create topic: ${response.status} ${await response.text()}`);
}

export async function leaderOf(cluster: Cluster, topic: string): Promise<number> {
  const state = await cluster.waitForState(
    topic,
    0,
    "a leader",
    (s) => (s.replication?.leader ?? null) !== null,
  );
  return state.replication!.leader!;
}

export async function killLeaderRound(
  cluster: Cluster,
  topic: string,
  load: AckedLoad,
  log: (line: string) => void = () => undefined,
): Promise<number> {
  const leaderId = await leaderOf(cluster, topic);
  const leader = cluster.node(leaderId);
  const ackedBefore = load.acked.length;
  const killedAt = performance.now();
  await leader.kill();
  const deadline = killedAt + 30_000;
  while (load.firstAckAfter(killedAt) === undefined) {
    if (performance.now() > deadline) throw new Error("no produce acknowledged within 30 s of the kill");
    await Bun.sleep(10);
  }
  const failoverMs = load.firstAckAfter(killedAt)!.ackedAtMs - killedAt;
  const moved = await cluster.waitForState(topic, 0, "a new leader", (s) => {
    const leader = s.replication?.leader ?? null;
    return leader !== null && leader !== leaderId;
  });
  const newLeader = moved.replication!.leader!;
  log(
    `killed leader ${leaderId}; node ${newLeader} leads; first ack after ${failoverMs.toFixed(0)} ms (${load.acked.length - ackedBefore} acked meanwhile)`,
  );
  await leader.start();
  await cluster.waitForState(
    topic,
    0,
    `node ${leaderId} back in the ISR`,
    (s) => s.replication?.isr.length === 3,
    30_000,
  );
  return failoverMs;
}

/** The concatenated segment files of the partition in a node's data dir (the node must be stopped). */
export function partitionBytes(dataDir: string, topic: string): Buffer {
  const dir = join(dataDir, `${topic}-0`);
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".log"))
    .sort();
  return Buffer.concat(files.map((name) => readFileSync(join(dir, name))));
}

/**
 * After the load stopped: every acknowledged record is at its offset, offsets run 0.. without a gap
 * or repeat, every replica (`replicaIds`, every node by default) has caught up to the same high
 * watermark, and (once stopped) they all hold the same bytes.
 */
export async function verifyAcked(
  cluster: Cluster,
  topic: string,
  load: AckedLoad,
  replicaIds: number[] = cluster.nodes.map((node) => node.id),
): Promise<{ records: number; bytes: number }> {
  const replicas = cluster.nodes.filter((node) => replicaIds.includes(node.id));
  const state = await cluster.waitForState(
    topic,
    0,
    "all replicas in sync",
    (s) => s.replication?.isr.length === replicas.length && s.highWatermark === s.logEndOffset,
    30_000,
  );
  for (const node of replicas) {
    await cluster.waitForState(
      topic,
      0,
      `node ${node.id} caught up`,
      (s) => s.logEndOffset === state.logEndOffset && s.highWatermark === state.highWatermark,
      30_000,
      node,
    );
  }
  const records = await readAll(cluster.nodes[0]!.api, topic, state.highWatermark);
  if (records.length !== state.highWatermark)
    throw new Error(`read ${records.length} records, high watermark ${state.highWatermark}`);
  for (const [i, record] of records.entries()) {
    if (record.offset !== i) throw new Error(`record ${i} has offset ${record.offset}`);
  }
  for (const ack of load.acked) {
    const record = records[ack.offset];
    if (record === undefined || record.value !== ack.value) {
      throw new Error(
        `acked value ${ack.value} at offset ${ack.offset} is lost: found ${JSON.stringify(record)}`,
      );
    }
  }
  for (const node of cluster.nodes) if (node.running) await node.stop();
  const [first, ...others] = replicas.map((node) => partitionBytes(node.dataDir, topic));
  for (const [i, bytes] of others.entries()) {
    if (!bytes.equals(first!))
      throw new Error(`node ${replicas[i + 1]!.id}'s log differs from node ${replicas[0]!.id}'s`);
  }
  return { records: records.length, bytes: first!.length };
}
