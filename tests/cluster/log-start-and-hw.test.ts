// Replication edge cases with real processes and etcd: a follower paused while the leader's retention
// deletes past its log end empties its log, starts it at the leader's log start and catches up into
// the ISR with identical bytes; a restarted node's high watermark comes from its checkpoint file.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createReplicatedTopic, leaderOf } from "./failover-rounds.ts";
import { Cluster, type SluiceNode, waitUntil } from "./harness.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start(3, {
    // A paused follower leaves the ISR soon, so the high watermark (and retention behind it) moves on.
    replicaLagTimeMaxMs: 1000,
    extraArgs: [
      "--retention-check-interval-ms",
      "100",
      "--replica-high-watermark-checkpoint-interval-ms",
      "100",
    ],
  });
});
afterAll(() => cluster.stop());

async function produce(node: SluiceNode, topic: string, value: string, acks: "all" | "1") {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const response = await fetch(`${node.api}/topics/${topic}/records?acks=${acks}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: [{ value, partition: 0 }] }),
    });
    const body = await response.text();
    // As a client library does: a retriable 503 (leadership or ISR moving) is retried for a while.
    if (response.status === 200) return;
    if (response.status !== 503 || performance.now() > deadline)
      throw new Error(`produce: ${response.status} ${body}`);
    await Bun.sleep(50);
  }
}

async function offsets(node: SluiceNode, topic: string) {
  const response = await fetch(`${node.api}/topics/${topic}`);
  const body = (await response.json()) as {
    partitions: Array<{ logStartOffset: number; logEndOffset: number; highWatermark: number }>;
  };
  return body.partitions[0]!;
}

/** Every batch in a stopped node's partition directory, by base offset, as the bytes on disk. */
function batchesOnDisk(node: SluiceNode, topic: string): Map<number, Buffer> {
  const dir = join(node.dataDir, `${topic}-0`);
  const batches = new Map<number, Buffer>();
  for (const name of readdirSync(dir)
    .filter((file) => file.endsWith(".log"))
    .sort()) {
    const bytes = readFileSync(join(dir, name));
    for (let position = 0; position < bytes.length; ) {
      const size = bytes.readInt32BE(position + 8) + 12;
      batches.set(Number(bytes.readBigInt64BE(position)), bytes.subarray(position, position + size));
      position += size;
    }
  }
  return batches;
}

test("a follower whose log end fell below the leader's log start starts its log there and rejoins the ISR with identical bytes", async () => {
  const topic = "trimmed";
  await createReplicatedTopic(cluster, topic, { "segment.bytes": 1024, "retention.bytes": 3072 });
  const leader = cluster.node(await leaderOf(cluster, topic));
  const follower = cluster.nodes.find((node) => node.id !== leader.id)!;
  const value = (i: number) => `record-${i}-${"x".repeat(150)}`;
  for (let i = 0; i < 5; i++) await produce(leader, topic, value(i), "all");
  await waitUntil(
    "the follower has the first records",
    async () => (await offsets(follower, topic)).logEndOffset === 5,
    15_000,
  );

  follower.signal("SIGSTOP");
  await cluster.waitForState(
    topic,
    0,
    "the paused follower out of the ISR",
    (s) => s.replication?.isr.length === 2,
    15_000,
    leader,
  );
  let produced = 5;
  while ((await offsets(leader, topic)).logStartOffset <= 5) {
    if (produced > 2000) throw new Error("the leader's retention never passed offset 5");
    for (let i = 0; i < 10; i++) await produce(leader, topic, value(produced++), "1");
  }
  const leaderStartWhilePaused = (await offsets(leader, topic)).logStartOffset;
  follower.signal("SIGCONT");

  const back = await cluster.waitForState(
    topic,
    0,
    "the follower back in the ISR",
    (s) => s.replication?.isr.length === 3,
    30_000,
    leader,
  );
  expect(back.replication!.isr).toContain(follower.id);
  const caughtUp = await offsets(leader, topic);
  await waitUntil(
    "the follower caught up",
    async () => {
      const own = await offsets(follower, topic);
      return own.logEndOffset === caughtUp.logEndOffset && own.highWatermark === caughtUp.highWatermark;
    },
    15_000,
  );
  const followerOffsets = await offsets(follower, topic);
  expect(followerOffsets.logStartOffset).toBeGreaterThanOrEqual(leaderStartWhilePaused);

  for (const node of cluster.nodes) await node.stop();
  const nodeLog = readFileSync(join(follower.dataDir, "..", `node-${follower.id}.log`), "utf8");
  expect(nodeLog).toContain("follower below the leader's log start");
  const onLeader = batchesOnDisk(leader, topic);
  const onFollower = batchesOnDisk(follower, topic);
  expect(onLeader.size).toBeGreaterThan(0);
  expect(Math.min(...onFollower.keys())).toBeGreaterThan(5);
  for (const [baseOffset, bytes] of onLeader) {
    expect({ baseOffset, same: onFollower.get(baseOffset)?.equals(bytes) ?? false }).toEqual({
      baseOffset,
      same: true,
    });
  }
  for (const node of cluster.nodes) await node.start();
}, 120_000);

/** What a node's replication-offset-checkpoint says for partition 0 of `topic`, if anything. */
function checkpointedHighWatermark(node: SluiceNode, topic: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(node.dataDir, "replication-offset-checkpoint"), "utf8");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((entry) => entry.startsWith(`${topic} 0 `));
  return line === undefined ? undefined : Number(line.split(" ")[2]);
}

test("a restarted node's high watermark is its checkpointed one (after a clean stop and a SIGKILL), never past its log end", async () => {
  const topic = "hw";
  await createReplicatedTopic(cluster, topic);
  const leader = cluster.node(await leaderOf(cluster, topic));
  const node = cluster.nodes.find((candidate) => candidate.id !== leader.id)!;
  const others = cluster.nodes.filter((candidate) => candidate.id !== node.id);
  const inSync = (records: number) =>
    cluster.waitForState(
      topic,
      0,
      `all three in sync at ${records}`,
      (s) => s.replication?.isr.length === 3 && s.highWatermark === records,
      20_000,
      leader,
    );

  /**
   * Takes `node` down with `stop`, waits until the leader has dropped it from the ISR, pauses the other
   * two (so no leader can tell the restarted node its high watermark, and it cannot be elected), and
   * restarts it: its high watermark is then the one it set up at start.
   */
  async function restartAlone(stop: () => Promise<void>, beforeStart: () => void = () => undefined) {
    await stop();
    await cluster.waitForState(
      topic,
      0,
      "the stopped node out of the ISR",
      (s) => !s.replication?.isr.includes(node.id),
      15_000,
      leader,
    );
    for (const other of others) other.signal("SIGSTOP");
    beforeStart();
    await node.start();
    const state = await offsets(node, topic);
    for (const other of others) other.signal("SIGCONT");
    return state;
  }

  for (let i = 0; i < 8; i++) await produce(leader, topic, `r${i}`, "all");
  await inSync(8);
  await waitUntil(
    "the node's checkpoint at 8",
    async () => checkpointedHighWatermark(node, topic) === 8,
    10_000,
  );

  // A clean stop writes the checkpoint last; the restarted node starts from it, not from 0.
  const afterCleanStop = await restartAlone(() => node.stop());
  expect(checkpointedHighWatermark(node, topic)).toBe(8);
  expect(afterCleanStop).toMatchObject({ logStartOffset: 0, logEndOffset: 8, highWatermark: 8 });

  await inSync(8);
  for (let i = 8; i < 13; i++) await produce(leader, topic, `r${i}`, "all");
  await inSync(13);
  await waitUntil(
    "the node's checkpoint at 13",
    async () => checkpointedHighWatermark(node, topic) === 13,
    10_000,
  );
  const afterKill = await restartAlone(() => node.kill());
  expect(afterKill).toMatchObject({ logEndOffset: 13, highWatermark: 13 });

  // A checkpoint past the log end (the log lost its tail): the high watermark stops at the log end.
  await inSync(13);
  const path = join(node.dataDir, "replication-offset-checkpoint");
  const pastEnd = await restartAlone(
    () => node.kill(),
    () => writeFileSync(path, `0\n1\n${topic} 0 1000\n`),
  );
  expect(pastEnd).toMatchObject({ logEndOffset: 13, highWatermark: 13 });

  // A malformed checkpoint: a warning, the node runs, and the high watermark starts at the log start.
  await inSync(13);
  const malformed = await restartAlone(
    () => node.kill(),
    () => writeFileSync(path, "0\n7\nnot a checkpoint\n"),
  );
  expect(malformed).toMatchObject({ logEndOffset: 13, highWatermark: 0 });
  const nodeLog = readFileSync(join(node.dataDir, "..", `node-${node.id}.log`), "utf8");
  expect(nodeLog).toContain("high watermark checkpoint unreadable");
  await inSync(13);
}, 180_000);
