// Per-partition order from produce to consume: records produced over HTTP and over a WebSocket,
// interleaved by a seeded PRNG, are consumed over a WebSocket in the order each partition got them,
// keys on the partitions Kafka's partitioner picks; pipelined produce frames keep their order too.
import { afterAll, describe, expect, test } from "bun:test";
import { splitBatches } from "../../lib/gateway/batch-frames.ts";
import { readBinaryFrame } from "../../lib/gateway/ws-binary-frame.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../../lib/limits.ts";
import { decodeRecords } from "../../lib/log/record-batch.ts";
import { createTopic, produce, seededRandom } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode, subscribe } from "./helpers.ts";

const node = startStreamNode();
afterAll(() => node.close());

const PARTITIONS = 3;
const RECORDS = 400;

interface Sent {
  key: string;
  seq: number;
}

/** Where each record went, as its producer was told: partition → values in offset order. */
type Placement = Map<number, Array<{ offset: number; seq: number; key: string }>>;

async function produceInterleaved(topic: string, producer: StreamClient): Promise<Placement> {
  const random = seededRandom(20261121);
  const placement: Placement = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, []]));
  let requestId = 0;
  for (let seq = 0; seq < RECORDS; ) {
    const size = 1 + Math.floor(random() * 5);
    const batch: Sent[] = [];
    for (let i = 0; i < size && seq < RECORDS; i++, seq++) {
      batch.push({ key: `key-${Math.floor(random() * 12)}`, seq });
    }
    const records = batch.map((r) => ({ key: r.key, value: r }));
    let offsets: Array<{ partition: number; offset: number }>;
    if (random() < 0.5) {
      offsets = (await produce(node, topic, { keyFormat: "text", records })).offsets;
    } else {
      producer.send({ type: "produce", requestId: ++requestId, topic, keyFormat: "text", records });
      const produced = await producer.expectFrame("produced");
      expect(produced.requestId).toBe(requestId);
      offsets = produced.offsets;
    }
    for (const [i, { partition, offset }] of offsets.entries()) {
      placement.get(partition)!.push({ offset, ...batch[i]! });
    }
  }
  return placement;
}

describe("per-partition order", () => {
  test("records produced over HTTP and WebSocket are consumed in partition order, keys where Kafka puts them", async () => {
    await createTopic(node, "ordered", { partitions: PARTITIONS });
    const producer = await StreamClient.connect(node.wsUrl);
    const placement = await produceInterleaved("ordered", producer);

    // A key always lands on one partition.
    const partitionOfKey = new Map<string, number>();
    for (const [partition, records] of placement) {
      for (const { key } of records) {
        expect(partitionOfKey.get(key) ?? partition).toBe(partition);
        partitionOfKey.set(key, partition);
      }
    }

    const consumer = await StreamClient.connect(node.wsUrl);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      await subscribe(consumer, {
        id: partition,
        topic: "ordered",
        partition,
        from: "earliest",
        keyFormat: "text",
      });
    }
    // Small grants, so each partition's stream comes in many frames.
    for (let id = 0; id < PARTITIONS; id++) consumer.send({ type: "credit", id, records: 7 });
    const consumed = new Map<number, Array<{ offset: number; seq: number; key: string }>>(
      Array.from({ length: PARTITIONS }, (_, p) => [p, []]),
    );
    let total = 0;
    while (total < RECORDS) {
      const frame = await consumer.expectFrame("records");
      for (const record of frame.records) {
        const { seq } = record.value as Sent;
        consumed.get(frame.id)!.push({ offset: record.offset, seq, key: record.key as string });
      }
      total += frame.records.length;
      consumer.send({ type: "credit", id: frame.id, records: frame.records.length });
    }
    expect(consumed).toEqual(placement);
    // Within a partition, the sequence numbers only grow: the producers' order is kept.
    for (const records of consumed.values()) {
      const seqs = records.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    producer.close();
    consumer.close();
  });

  test("produce frames sent back to back are appended in the order sent", async () => {
    await createTopic(node, "pipelined");
    const client = await StreamClient.connect(node.wsUrl);
    for (let i = 0; i < 50; i++) {
      client.send({
        type: "produce",
        requestId: i,
        topic: "pipelined",
        records: [{ value: i, partition: 0 }],
      });
    }
    const offsetsById = new Map<number, number>();
    for (let i = 0; i < 50; i++) {
      const produced = await client.expectFrame("produced");
      offsetsById.set(produced.requestId as number, produced.offsets[0]!.offset);
    }
    expect([...offsetsById.keys()].sort((a, b) => a - b).map((id) => offsetsById.get(id))).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    await subscribe(client, {
      id: 1,
      topic: "pipelined",
      partition: 0,
      from: "earliest",
      format: "binary",
      credit: { bytes: 1 << 20 },
    });
    const frame = readBinaryFrame(await client.expectBinary());
    const values = splitBatches(frame.batches).flatMap((batch) =>
      decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX).map((r) =>
        Number(new TextDecoder().decode(r.value!)),
      ),
    );
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
    client.close();
  });
});
