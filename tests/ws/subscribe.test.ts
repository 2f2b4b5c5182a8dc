// Subscribing over a real loopback WebSocket: where a subscription starts (earliest, latest, an offset,
// a timestamp), the live tail of new appends, and unsubscribing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTopic, produce, START_MS } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode, subscribe } from "./helpers.ts";

const node = startStreamNode();
afterAll(() => node.close());

const UNLIMITED = { records: Number.MAX_SAFE_INTEGER };

beforeAll(async () => {
  await createTopic(node, "starts");
  // Ten records a second apart: offset i has timestamp START_MS + i * 1000.
  const records = Array.from({ length: 10 }, (_, i) => ({ value: i, timestamp: START_MS + i * 1000 }));
  await produce(node, "starts", { records });
});

async function startOf(from: unknown): Promise<{ offset: number; firstValue: unknown }> {
  const client = await StreamClient.connect(node.wsUrl);
  const offset = await subscribe(client, { id: 1, topic: "starts", partition: 0, from, credit: UNLIMITED });
  const frames = await client.barrier();
  client.close();
  const records = frames.flatMap((frame) =>
    frame instanceof Uint8Array || frame.type !== "records" ? [] : frame.records,
  );
  return { offset, firstValue: records[0]?.value };
}

describe("subscribe from", () => {
  test("earliest starts at the log start", async () => {
    expect(await startOf("earliest")).toEqual({ offset: 0, firstValue: 0 });
  });

  test("latest starts at the high watermark and sends nothing old", async () => {
    expect(await startOf("latest")).toEqual({ offset: 10, firstValue: undefined });
  });

  test("an offset starts there", async () => {
    expect(await startOf({ offset: 7 })).toEqual({ offset: 7, firstValue: 7 });
  });

  test("a timestamp starts at the first record at least that late", async () => {
    expect(await startOf({ timestamp: START_MS + 4500 })).toEqual({ offset: 5, firstValue: 5 });
    expect(await startOf({ timestamp: START_MS })).toEqual({ offset: 0, firstValue: 0 });
  });

  test("a timestamp later than every record starts at the log end", async () => {
    expect(await startOf({ timestamp: START_MS + 60_000 })).toEqual({ offset: 10, firstValue: undefined });
  });
});

describe("live tail", () => {
  test("new records arrive as they are produced, over HTTP or over the same socket", async () => {
    await createTopic(node, "tail");
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 1, topic: "tail", partition: 0, from: "latest", credit: UNLIMITED });
    await client.expectQuiet();

    await produce(node, "tail", { records: [{ value: "a" }, { value: "b" }] });
    expect((await client.collectRecords(1, 2)).map((r) => r.value)).toEqual(["a", "b"]);

    client.send({ type: "produce", requestId: "p1", topic: "tail", records: [{ value: "c" }] });
    const frames = [await client.next(), await client.next()];
    const types = frames.map((f) => (f instanceof Uint8Array ? "binary" : f.type)).sort();
    expect(types).toEqual(["produced", "records"]);
    const records = frames.find((f) => !(f instanceof Uint8Array) && f.type === "records");
    expect(records).toMatchObject({ records: [{ offset: 2, value: "c" }], nextOffset: 3, highWatermark: 3 });
    client.close();
  });

  test("a subscription waiting at the end wakes only for its own partition", async () => {
    await createTopic(node, "tail-two", { partitions: 2 });
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 1, topic: "tail-two", partition: 1, from: "latest", credit: UNLIMITED });
    await produce(node, "tail-two", { records: [{ value: "p0", partition: 0 }] });
    await client.expectQuiet();
    await produce(node, "tail-two", { records: [{ value: "p1", partition: 1 }] });
    expect(await client.collectRecords(1, 1)).toMatchObject([{ offset: 0, value: "p1" }]);
    client.close();
  });
});

describe("unsubscribe", () => {
  test("answers unsubscribed, then nothing more comes for that id, and the id may be used again", async () => {
    await createTopic(node, "leave");
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 9, topic: "leave", partition: 0, from: "latest", credit: UNLIMITED });
    client.send({ type: "unsubscribe", id: 9 });
    expect(await client.expectFrame("unsubscribed")).toEqual({ type: "unsubscribed", id: 9 });
    await produce(node, "leave", { records: [{ value: 1 }] });
    await client.expectQuiet();
    await subscribe(client, { id: 9, topic: "leave", partition: 0, from: "earliest", credit: UNLIMITED });
    expect(await client.collectRecords(9, 1)).toMatchObject([{ offset: 0, value: 1 }]);
    client.close();
  });

  test("a deleted topic ends its subscriptions with an error and unsubscribed", async () => {
    await createTopic(node, "doomed");
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 3, topic: "doomed", partition: 0, from: "latest", credit: UNLIMITED });
    await client.expectQuiet();
    expect((await fetch(`${node.api}/topics/doomed`, { method: "DELETE" })).status).toBe(204);
    await client.expectError("UNKNOWN_TOPIC_OR_PARTITION", { id: 3 });
    expect(await client.expectFrame("unsubscribed")).toEqual({ type: "unsubscribed", id: 3 });
    client.close();
  });
});
