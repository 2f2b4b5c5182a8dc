// Replication cost on one machine: produce throughput and ack latency with replication factor 3
// (three nodes sharing the cores) at acks=1 and acks=all, against one node without replication in the
// same run, and the failover time (a leader SIGKILLed under acks=all load until the first acknowledged
// produce on its successor). `bun scripts/bench/replication.ts [seconds]`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReplicatedTopic, killLeaderRound, leaderOf } from "../../tests/cluster/failover-rounds.ts";
import { Cluster, freePort, waitUntil } from "../../tests/cluster/harness.ts";
import { AckedLoad } from "../../tests/cluster/load.ts";

const seconds = Number(process.argv[2] ?? 5);
const CONCURRENCY = 8;
const RECORDS_PER_REQUEST = 100;
const VALUE = "x".repeat(100);
const body = JSON.stringify({
  keyFormat: "text",
  valueFormat: "text",
  records: Array.from({ length: RECORDS_PER_REQUEST }, () => ({ value: VALUE, partition: 0 })),
});

/** Produces for `seconds` with CONCURRENCY clients; records/s and the p99 latency of an answer. */
async function measure(api: string, topic: string, acks: "1" | "all") {
  const latencies: number[] = [];
  const endAt = performance.now() + seconds * 1000;
  const startedAt = performance.now();
  let records = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < endAt) {
        const sent = performance.now();
        const response = await fetch(`${api}/topics/${topic}/records?acks=${acks}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        if (!response.ok) throw new Error(`produce answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
        latencies.push(performance.now() - sent);
        records += RECORDS_PER_REQUEST;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const elapsedS = (performance.now() - startedAt) / 1000;
  return { recordsS: records / elapsedS, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

async function createTopic(api: string, name: string, config: Record<string, unknown>) {
  const response = await fetch(`${api}/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, partitions: 1, config }),
  });
  if (response.status !== 201) throw new Error(`create ${name}: ${await response.text()}`);
}

// One node alone (no etcd, no replication): the reference.
const singleDir = mkdtempSync(join(tmpdir(), "sluice-bench-single-"));
const singlePort = await freePort();
const single = Bun.spawn(
  [process.execPath, "main.ts", "--host", "127.0.0.1", "--port", String(singlePort), "--data-dir", singleDir],
  { cwd: join(import.meta.dir, "..", ".."), stdout: "ignore", stderr: "ignore" },
);
const singleApi = `http://127.0.0.1:${singlePort}/api/v1`;
let rf1: { recordsS: number; p99Ms: number };
try {
  await waitUntil(
    "the single node",
    async () => (await fetch(`http://127.0.0.1:${singlePort}/readyz`)).ok,
    20_000,
  );
  await createTopic(singleApi, "bench", {});
  await measure(singleApi, "bench", "1"); // warm-up
  rf1 = await measure(singleApi, "bench", "1");
} finally {
  single.kill("SIGKILL");
  await single.exited;
  rmSync(singleDir, { recursive: true, force: true });
}

const cluster = await Cluster.start(3);
try {
  await createReplicatedTopic(cluster, "bench", { "min.insync.replicas": 2 });
  // Straight to the leader: the figure is replication's cost, not a forwarding hop's.
  const leaderApi = cluster.node(await leaderOf(cluster, "bench")).api;
  await measure(leaderApi, "bench", "all"); // warm-up
  const acks1 = await measure(leaderApi, "bench", "1");
  const acksAll = await measure(leaderApi, "bench", "all");
  await createReplicatedTopic(cluster, "failover", { "min.insync.replicas": 2 });
  const load = new AckedLoad(cluster, "failover");
  await Bun.sleep(500);
  const failoverMs = await killLeaderRound(cluster, "failover", load);
  await load.stop();
  console.log(`rf1 acks=1: ${Math.round(rf1.recordsS)} records/s, p99 ${rf1.p99Ms.toFixed(1)} ms`);
  console.log(`rf3 acks=1: ${Math.round(acks1.recordsS)} records/s, p99 ${acks1.p99Ms.toFixed(1)} ms`);
  console.log(`rf3 acks=all: ${Math.round(acksAll.recordsS)} records/s, p99 ${acksAll.p99Ms.toFixed(1)} ms`);
  console.log(
    `RESULT rf3_acks_all_records_s=${Math.round(acksAll.recordsS)} rf1_records_s=${Math.round(rf1.recordsS)} ` +
      `rf3_ratio=${(acksAll.recordsS / rf1.recordsS).toFixed(2)} acks_all_p99_ms=${acksAll.p99Ms.toFixed(1)} ` +
      `failover_ms=${Math.round(failoverMs)}`,
  );
} finally {
  await cluster.stop();
}
