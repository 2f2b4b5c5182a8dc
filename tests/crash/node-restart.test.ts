// End to end through the real process (`bun main.ts`), stopped by SIGTERM and by SIGKILL and started
// again over the same data directory: a group's committed offsets come back (describe and lag), and an
// idempotent producer's retried raw batch is answered with its original offsets and stored once.
import { afterEach, describe, expect, test } from "bun:test";
import type { ProduceBatchesResult } from "../../lib/gateway/produce-batches.ts";
import type { GroupDescription } from "../../lib/groups/group-coordinator.ts";
import { type FetchedRecord, sendJson } from "../gateway/helpers.ts";
import { producerBatch } from "../log/producer-state-helpers.ts";
import { StreamClient } from "../ws/helpers.ts";
import { tempDir } from "./harness.ts";
import { killLiveSluices, type SluiceProcess, startSluice } from "./sluice-process.ts";

const TOPIC = "orders";
const GROUP = "billing";

afterEach(killLiveSluices);

async function postJson(url: string, body?: unknown): Promise<unknown> {
  const response = await sendJson(url, body ?? {});
  expect(response.status).toBeLessThan(300);
  return response.json();
}

/** Raw batches to one partition, answered 200. */
async function postBatch(node: SluiceProcess, partition: number, batch: Uint8Array) {
  const response = await fetch(`${node.api}/topics/${TOPIC}/partitions/${partition}/batches`, {
    method: "POST",
    headers: { "content-type": "application/vnd.kafka.recordbatch" },
    body: new Uint8Array(batch),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as ProduceBatchesResult).batches[0]!;
}

async function values(node: SluiceProcess, partition: number): Promise<unknown[]> {
  const response = await fetch(`${node.api}/topics/${TOPIC}/partitions/${partition}/records?offset=0`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { records: FetchedRecord[] }).records.map((record) => record.value);
}

async function describeGroup(node: SluiceProcess) {
  const response = await fetch(`${node.api}/groups/${GROUP}`);
  expect(response.status).toBe(200);
  const { partitions } = (await response.json()) as GroupDescription;
  return partitions.map(({ partition, committedOffset, logEndOffset, lag }) => ({
    partition,
    committedOffset,
    logEndOffset,
    lag,
  }));
}

describe("a restarted process", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    test(`after ${signal}, keeps the committed offsets and answers a retried batch with its first offsets`, async () => {
      using dir = tempDir("sluice-restart-");
      const first = await startSluice(dir.path);
      await postJson(`${first.api}/topics`, { name: TOPIC, partitions: 2 });
      const producer = (await postJson(`${first.api}/producers`)) as {
        producerId: number;
        producerEpoch: number;
      };
      const batch = (partition: number, sequence: number, count: number) =>
        producerBatch({
          producerId: producer.producerId,
          epoch: producer.producerEpoch,
          sequence,
          count,
          label: `p${partition}s${sequence}-`,
          // The real clock's now, as a real producer stamps it: state is kept per producer for
          // producer.id.expiration.ms after its last batch's timestamp.
          timestampMs: Date.now(),
        });
      await postBatch(first, 0, batch(0, 0, 3));
      const retried = batch(0, 3, 2);
      const original = await postBatch(first, 0, retried);
      expect(original).toMatchObject({ baseOffset: 3, lastOffset: 4 });
      await postBatch(first, 1, batch(1, 0, 4));

      const client = await StreamClient.connect(first.wsUrl);
      const offsets = [
        { topic: TOPIC, partition: 0, offset: 3 },
        { topic: TOPIC, partition: 1, offset: 1 },
      ];
      client.send({ type: "commit", requestId: 1, group: GROUP, offsets });
      expect((await client.expectFrame("committed")).offsets).toEqual(offsets);
      client.close();
      const before = await describeGroup(first);
      expect(before).toEqual([
        { partition: 0, committedOffset: 3, logEndOffset: 5, lag: 2 },
        { partition: 1, committedOffset: 1, logEndOffset: 4, lag: 3 },
      ]);

      const stopped = await first.stop(signal);
      expect(stopped).toEqual(
        signal === "SIGTERM" ? { exitCode: 0, signalCode: null } : { exitCode: null, signalCode: "SIGKILL" },
      );

      const second = await startSluice(dir.path);
      const opened = second.logLines().find((line) => line["msg"] === "data directory opened");
      expect(opened?.["cleanShutdown"]).toBe(signal === "SIGTERM");
      expect(await describeGroup(second)).toEqual(before);

      const again = await postBatch(second, 0, retried);
      expect(again).toEqual({ ...original, duplicate: true });
      expect(await values(second, 0)).toEqual(["p0s0-0", "p0s0-1", "p0s0-2", "p0s3-0", "p0s3-1"]);
      // The producer goes on from its sequence; the group's lag counts the new record.
      expect(await postBatch(second, 0, batch(0, 5, 1))).toMatchObject({ baseOffset: 5 });
      expect((await describeGroup(second))[0]).toMatchObject({ committedOffset: 3, lag: 3 });
      expect(await second.stop("SIGTERM")).toEqual({ exitCode: 0, signalCode: null });
    });
  }
});
