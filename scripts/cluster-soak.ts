// The long SIGKILL run: `bun scripts/cluster-soak.ts [rounds]` (default 20) starts etcd and three
// Sluice nodes on loopback, keeps acks=all load on a replicated topic, kills the leader every round,
// and at the end checks every acknowledged record and that the three replicas hold the same bytes.
import { createReplicatedTopic, killLeaderRound, verifyAcked } from "../tests/cluster/failover-rounds.ts";
import { Cluster } from "../tests/cluster/harness.ts";
import { AckedLoad } from "../tests/cluster/load.ts";

const rounds = Number(process.argv[2] ?? 20);
if (!Number.isSafeInteger(rounds) || rounds < 1)
  throw new Error("usage: bun scripts/cluster-soak.ts [rounds]");

const cluster = await Cluster.start(3);
try {
  await createReplicatedTopic(cluster, "soak", { "min.insync.replicas": 2 });
  const load = new AckedLoad(cluster, "soak");
  const failovers: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      await Bun.sleep(300);
      failovers.push(
        await killLeaderRound(cluster, "soak", load, (line) => console.log(`round ${round}: ${line}`)),
      );
    }
  } finally {
    await load.stop();
  }
  const { records, bytes } = await verifyAcked(cluster, "soak", load);
  const sorted = [...failovers].sort((a, b) => a - b);
  console.log(`errors retried: ${JSON.stringify(Object.fromEntries(load.errors))}`);
  console.log(
    `RESULT rounds=${rounds} acked=${load.acked.length} records=${records} replica_bytes=${bytes} ` +
      `failover_ms_median=${Math.round(sorted[Math.floor(sorted.length / 2)]!)} failover_ms_max=${Math.round(sorted.at(-1)!)} lost=0`,
  );
} finally {
  await cluster.stop();
}
