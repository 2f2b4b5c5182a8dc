// The long reassignment run: `bun scripts/reassign-soak.ts [rounds]` (default 10) starts etcd and
// three Sluice nodes, fills a topic with two replicas, keeps acks=all load on it, and every round
// moves the partition off its leader onto the node that holds no replica (so each move copies the
// whole log to a new node and hands leadership over). It measures how long each move takes and the
// longest pause between two acknowledgements during the moves, against the longest pause while no
// move runs (the reference, same run), and at the end checks every acknowledged record and that
// the final replicas hold the same bytes.
import { createReplicatedTopic, leaderOf, verifyAcked } from "../tests/cluster/failover-rounds.ts";
import { Cluster, waitUntil } from "../tests/cluster/harness.ts";
import { AckedLoad } from "../tests/cluster/load.ts";

const rounds = Number(process.argv[2] ?? 10);
if (!Number.isSafeInteger(rounds) || rounds < 1)
  throw new Error("usage: bun scripts/reassign-soak.ts [rounds]");

const TOPIC = "moving";
const FILL_REQUESTS = 40;
const FILL_RECORDS_PER_REQUEST = 500;
const FILL_VALUE = "x".repeat(1000);

const cluster = await Cluster.start(3);
try {
  await createReplicatedTopic(cluster, TOPIC, { "replication.factor": 2, "min.insync.replicas": 2 });
  const via = cluster.nodes[0]!;
  for (let i = 0; i < FILL_REQUESTS; i++) {
    const records = Array.from({ length: FILL_RECORDS_PER_REQUEST }, () => ({
      value: FILL_VALUE,
      partition: 0,
    }));
    const response = await fetch(`${via.api}/topics/${TOPIC}/records?acks=all`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records }),
    });
    if (!response.ok) throw new Error(`fill: ${response.status} ${await response.text()}`);
  }
  console.log(
    `filled ${((FILL_REQUESTS * FILL_RECORDS_PER_REQUEST * FILL_VALUE.length) / 1e6).toFixed(0)} MB`,
  );

  const load = new AckedLoad(cluster, TOPIC);
  const moves: Array<{ startMs: number; endMs: number }> = [];
  let replicas: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      await Bun.sleep(1000); // a quiet stretch: the reference pauses come from here
      const state = (await cluster.partitionState(TOPIC, 0)).replication!;
      const leader = await leaderOf(cluster, TOPIC);
      const outsider = cluster.nodes.map((node) => node.id).find((id) => !state.replicas.includes(id))!;
      const stays = state.replicas.find((id) => id !== leader)!;
      replicas = [outsider, stays];
      const startMs = performance.now();
      const response = await fetch(`${via.api}/cluster/reassignments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ partitions: [{ topic: TOPIC, partition: 0, replicas }] }),
      });
      if (response.status !== 202) throw new Error(`reassign: ${response.status} ${await response.text()}`);
      await cluster.waitForState(
        TOPIC,
        0,
        `moved to ${replicas.join(",")}`,
        (s) => s.replication?.replicas.join() === replicas.join() && s.replication.isr.length === 2,
        120_000,
      );
      // Until producers are answered by the new leader: the move is over for them only then.
      await waitUntil("an ack after the move", async () => load.acked.at(-1)!.sentAtMs > startMs, 30_000);
      const endMs = performance.now();
      moves.push({ startMs, endMs });
      console.log(
        `round ${round}: leader ${leader} -> replicas ${replicas.join(",")} in ${(endMs - startMs).toFixed(0)} ms`,
      );
    }
  } finally {
    await load.stop();
  }
  const { moveGapMs, quietGapMs } = ackGaps(
    load.acked.map((ack) => ack.ackedAtMs),
    moves,
  );
  const { records, bytes } = await verifyAcked(cluster, TOPIC, load, replicas);
  const durations = moves.map((move) => move.endMs - move.startMs).sort((a, b) => a - b);
  console.log(`errors retried: ${JSON.stringify(Object.fromEntries(load.errors))}`);
  console.log(
    `RESULT rounds=${rounds} acked=${load.acked.length} records=${records} replica_bytes=${bytes} ` +
      `move_ms_median=${Math.round(durations[Math.floor(durations.length / 2)]!)} ` +
      `move_ms_max=${Math.round(durations.at(-1)!)} max_ack_gap_moving_ms=${Math.round(moveGapMs)} ` +
      `max_ack_gap_quiet_ms=${Math.round(quietGapMs)} lost=0`,
  );
} finally {
  await cluster.stop();
}

/** The longest time without an acknowledgement, during the moves and outside them. */
function ackGaps(ackedAtMs: number[], moves: Array<{ startMs: number; endMs: number }>) {
  const times = [...ackedAtMs].sort((a, b) => a - b);
  let moveGapMs = 0;
  let quietGapMs = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    const during = moves.some((move) => times[i]! >= move.startMs && times[i - 1]! <= move.endMs);
    if (during) moveGapMs = Math.max(moveGapMs, gap);
    else quietGapMs = Math.max(quietGapMs, gap);
  }
  return { moveGapMs, quietGapMs };
}
