// Credit-based flow control over a real loopback WebSocket: Sluice sends a subscription no more records
// and no more bytes than its client granted, and nothing before the first grant.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { splitBatches } from "../../lib/gateway/batch-frames.ts";
import { BINARY_FRAME_HEADER_BYTES, readBinaryFrame } from "../../lib/gateway/ws-binary-frame.ts";
import { createTopic, produce } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode, subscribe } from "./helpers.ts";

const node = startStreamNode();
afterAll(() => node.close());

/** Produces `count` records, one batch per `perBatch`, with values v0, v1, ... */
async function produceValues(topic: string, count: number, perBatch = 1): Promise<void> {
  for (let start = 0; start < count; start += perBatch) {
    const records = [];
    for (let i = start; i < Math.min(count, start + perBatch); i++) records.push({ value: `v${i}` });
    await produce(node, topic, {
      valueFormat: "text",
      records: records.map((r) => ({ ...r, partition: 0 })),
    });
  }
}

beforeAll(async () => {
  await createTopic(node, "credit");
  await produceValues("credit", 30, 5);
});

describe("records credit", () => {
  test("a consumer granting 10 records gets exactly 10, then nothing until it grants more", async () => {
    await createTopic(node, "credit-ten");
    await produceValues("credit-ten", 20, 5);
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 1,
      topic: "credit-ten",
      partition: 0,
      from: "earliest",
      valueFormat: "text",
    });
    await client.expectQuiet(); // no credit yet

    client.send({ type: "credit", id: 1, records: 10 });
    const first = await client.collectRecords(1, 10);
    expect(first.map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    await client.expectQuiet();
    // More data arriving does not break the limit either.
    await produceValues("credit-ten", 5);
    await client.expectQuiet();

    client.send({ type: "credit", id: 1, records: 3 });
    const next = await client.collectRecords(1, 3);
    expect(next.map((r) => r.offset)).toEqual([10, 11, 12]);
    await client.expectQuiet();
    client.close();
  });

  test("a records frame is cut inside a batch, and the next frame goes on from there", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 2,
      topic: "credit",
      partition: 0,
      from: { offset: 3 },
      credit: { records: 4 },
    });
    const frame = await client.expectFrame("records");
    expect(frame.records.map((r) => r.offset)).toEqual([3, 4, 5, 6]);
    expect(frame.nextOffset).toBe(7);
    expect(frame.highWatermark).toBe(30);
    client.send({ type: "credit", id: 2, records: 1 });
    expect((await client.expectFrame("records")).records.map((r) => r.offset)).toEqual([7]);
    client.close();
  });
});

describe("bytes credit", () => {
  test("binary frames carry whole batches within the byte credit", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 3, topic: "credit", partition: 0, from: "earliest", format: "binary" });
    const log = node.logs.partition("credit", 0);
    const sizes = splitBatches(log.readSliceBytes(log.read(0, { maxBytes: 1 << 20 }).slice!)).map(
      (b) => b.length,
    );
    // Room for two batches and half the third: two go.
    const credit = BINARY_FRAME_HEADER_BYTES + sizes[0]! + sizes[1]! + Math.floor(sizes[2]! / 2);
    client.send({ type: "credit", id: 3, bytes: credit });
    const frame = readBinaryFrame(await client.expectBinary());
    expect(splitBatches(frame.batches)).toHaveLength(2);
    expect(frame.nextOffset).toBe(10);
    // What is left (half a batch) is not enough for the next batch: Sluice says how much is needed, once.
    const hint = await client.expectError("CREDIT_TOO_SMALL", { id: 3, field: "bytes" });
    expect(hint.needed).toBe(BINARY_FRAME_HEADER_BYTES + sizes[2]!);
    await client.expectQuiet();
    client.send({ type: "credit", id: 3, bytes: BINARY_FRAME_HEADER_BYTES + sizes[2]! });
    expect(readBinaryFrame(await client.expectBinary()).nextOffset).toBe(15);
    client.close();
  });

  test("JSON frames fit the byte credit, counted as the frame's UTF-8 bytes", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 4, topic: "credit", partition: 0, from: "earliest", valueFormat: "text" });
    client.send({ type: "credit", id: 4, bytes: 700 });
    let received = 0;
    let offsets: number[] = [];
    for (const frame of await client.barrier()) {
      if (frame instanceof Uint8Array || frame.type !== "records") continue;
      received += new TextEncoder().encode(JSON.stringify(frame)).length;
      offsets = offsets.concat(frame.records.map((r) => r.offset));
    }
    expect(received).toBeLessThanOrEqual(700);
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
    client.close();
  });

  test("a batch larger than the whole byte credit sends nothing and says so once", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 5, topic: "credit", partition: 0, from: "earliest", format: "binary" });
    client.send({ type: "credit", id: 5, bytes: 30 });
    const hint = await client.expectError("CREDIT_TOO_SMALL", { id: 5, field: "bytes" });
    expect(hint.needed).toBeGreaterThan(30);
    await client.expectQuiet();
    client.send({ type: "credit", id: 5, bytes: hint.needed! - 30 });
    expect(readBinaryFrame(await client.expectBinary()).nextOffset).toBe(5);
    client.close();
  });
});

describe("records and bytes together", () => {
  test("whichever credit runs out first stops the subscription", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 6,
      topic: "credit",
      partition: 0,
      from: "earliest",
      credit: { records: 2, bytes: 1_000_000 },
    });
    expect((await client.expectFrame("records")).records).toHaveLength(2);
    await client.expectQuiet();
    client.send({ type: "credit", id: 6, records: 1000 });
    // The bytes left now limit: the frames stop before the partition's end only if the bytes run out.
    const offsets = (await client.collectRecords(6, 28)).map((r) => r.offset);
    expect(offsets).toEqual(Array.from({ length: 28 }, (_, i) => i + 2));
    client.close();
  });

  test("a binary batch holding more records than the records credit waits for more", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 7,
      topic: "credit",
      partition: 0,
      from: "earliest",
      format: "binary",
      credit: { records: 3 },
    });
    await client.expectError("CREDIT_TOO_SMALL", { id: 7, field: "records", needed: 5 });
    client.send({ type: "credit", id: 7, records: 2 });
    expect(readBinaryFrame(await client.expectBinary()).nextOffset).toBe(5);
    client.close();
  });
});
