// Replication under failure, with real etcd and three real Sluice processes: the leader SIGKILLed
// under acks=all load round after round loses no acknowledged record and leaves identical replicas.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createReplicatedTopic, killLeaderRound, verifyAcked } from "./failover-rounds.ts";
import { Cluster } from "./harness.ts";
import { AckedLoad } from "./load.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start(3);
});
afterAll(() => cluster.stop());

test("SIGKILL of the leader under acks=all load, three rounds: nothing acknowledged is lost", async () => {
  await createReplicatedTopic(cluster, "orders", { "min.insync.replicas": 2 });
  const load = new AckedLoad(cluster, "orders");
  const failovers: number[] = [];
  try {
    await Bun.sleep(500);
    for (let round = 0; round < 3; round++) {
      failovers.push(
        await killLeaderRound(
          cluster,
          "orders",
          load,
          (line) => process.env.SLUICE_TEST_VERBOSE && console.log(line),
        ),
      );
      await Bun.sleep(300);
    }
  } finally {
    await load.stop();
  }
  expect(load.acked.length).toBeGreaterThan(50);
  for (const ms of failovers) expect(ms).toBeLessThan(10_000);
  const { records } = await verifyAcked(cluster, "orders", load);
  expect(records).toBeGreaterThanOrEqual(new Set(load.acked.map((a) => a.value)).size);
}, 120_000);
