// The WebSocket consumer against a real node on loopback: binary and JSON frames, start positions,
// credit windows that bound what Sluice sends, pause/resume, seek, and CRC checks on decoded batches.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SluiceAdmin } from "../../lib/client/admin.ts";
import { decodeBatches } from "../../lib/client/batch-decoding.ts";
import { type ConsumedRecord, type JsonConsumedRecord, SluiceConsumer } from "../../lib/client/consumer.ts";
import { SluiceClientError } from "../../lib/client/http.ts";
import { SluiceProducer } from "../../lib/client/producer.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { START_MS } from "../gateway/helpers.ts";
import { eventually, type StreamNode, scrape, startStreamNode } from "../ws/helpers.ts";

let node: StreamNode;
let admin: SluiceAdmin;
const consumers: Array<SluiceConsumer<{ offset: number }>> = [];

beforeAll(() => {
  node = startStreamNode();
  admin = new SluiceAdmin({ baseUrl: node.root });
});
afterAll(async () => {
  for (const consumer of consumers) await consumer.close();
  await node.close();
});

function consumer<R extends { offset: number } = ConsumedRecord>(
  options: ConstructorParameters<typeof SluiceConsumer>[0] = {},
): SluiceConsumer<R> {
  const made = new SluiceConsumer<R>({ baseUrl: node.root, ...options });
  consumers.push(made);
  return made;
}

async function produceValues(
  topic: string,
  partition: number,
  values: string[],
  compression: "none" | "gzip" = "none",
) {
  const producer = new SluiceProducer({ baseUrl: node.root, lingerMs: 1, compression });
  await Promise.all(values.map((value) => producer.send(topic, { value, key: "k", partition })));
  await producer.close();
}

/** The next `count` records of an iterator. */
async function take<R>(iterator: AsyncIterator<R>, count: number): Promise<R[]> {
  const records: R[] = [];
  while (records.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error("iterator ended");
    records.push(next.value);
  }
  return records;
}

const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));

describe("reading", () => {
  test("binary frames: every record in order, gzip batches decoded, keys and values as bytes", async () => {
    await admin.createTopic("c-binary");
    const values = Array.from({ length: 500 }, (_, i) => `value ${i}`);
    await produceValues("c-binary", 0, values, "gzip");
    const c = consumer();
    await c.assign([{ topic: "c-binary", partition: 0, from: "earliest" }]);
    const records = await take(c[Symbol.asyncIterator](), 500);
    expect(records.map((r) => text(r.value))).toEqual(values);
    expect(records.map((r) => r.offset)).toEqual(values.map((_, i) => i));
    expect(text(records[0]!.key)).toBe("k");
    expect(records[0]!.topic).toBe("c-binary");
    expect(c.position("c-binary", 0)).toBe(500);
  });

  test("JSON frames render keys and values as Sluice does", async () => {
    await admin.createTopic("c-json");
    await admin.produce("c-json", [{ key: "a", value: { n: 1 } }, { value: [2] }], { keyFormat: "text" });
    const c = consumer<JsonConsumedRecord>({ format: "json", valueFormat: "json", keyFormat: "text" });
    await c.assign([{ topic: "c-json", partition: 0, from: "earliest" }]);
    const records = await take(c[Symbol.asyncIterator](), 2);
    expect(records.map((r) => [r.key, r.value, r.topic])).toEqual([
      ["a", { n: 1 }, "c-json"],
      [null, [2], "c-json"],
    ]);
  });

  test("from latest, an offset, or a time", async () => {
    await admin.createTopic("c-from");
    await admin.produce(
      "c-from",
      [0, 1, 2, 3].map((n) => ({ value: n, timestamp: START_MS + n * 1000 })),
    );
    const c = consumer<JsonConsumedRecord>({ format: "json" });
    await c.assign([{ topic: "c-from", partition: 0, from: "latest" }]);
    expect(c.position("c-from", 0)).toBe(4);
    await admin.produce("c-from", [{ value: 4 }]);
    const iterator = c[Symbol.asyncIterator]();
    expect((await take(iterator, 1)).map((r) => r.value)).toEqual([4]);
    await c.seek("c-from", 0, { offset: 2 });
    expect((await take(iterator, 3)).map((r) => r.value)).toEqual([2, 3, 4]);
    await c.seek("c-from", 0, { timestamp: START_MS + 1500 });
    expect((await take(iterator, 1)).map((r) => r.offset)).toEqual([2]);
  });

  test("the batches() iterator hands out a frame's records at once", async () => {
    await admin.createTopic("c-batches");
    await produceValues("c-batches", 0, ["a", "b", "c"]);
    const c = consumer();
    await c.assign([{ topic: "c-batches", partition: 0, from: "earliest" }]);
    const first = await c.batches().next();
    expect(first.value!.map((r: ConsumedRecord) => text(r.value))).toEqual(["a", "b", "c"]);
  });
});

describe("flow control", () => {
  test("Sluice sends no more than the window; taking records opens it again", async () => {
    await admin.createTopic("c-window");
    const values = Array.from({ length: 100 }, (_, i) => `${i}`);
    // One batch per record, so a window of 10 records is exactly 10 batches.
    for (const value of values) {
      await admin.produceBatches("c-window", 0, encodeBatch([{ value: utf8(value) }]));
    }
    const sent = () => scrape(node, "sluice_records_out_total", { topic: "c-window" });
    const c = consumer({ maxBufferedRecordsPerPartition: 10 });
    await c.assign([{ topic: "c-window", partition: 0, from: "earliest" }]);
    await eventually(async () => (await sent()) === 10);
    await Bun.sleep(50);
    expect(await sent()).toBe(10);
    const iterator = c[Symbol.asyncIterator]();
    await take(iterator, 6);
    // Half the window is free: Sluice may send up to 16 in all, never more.
    await eventually(async () => (await sent()) > 10);
    await Bun.sleep(50);
    expect(await sent()).toBeLessThanOrEqual(16);
    const rest = await take(iterator, 94);
    expect(rest.map((r) => text(r.value))).toEqual(values.slice(6));
  });

  test("a batch larger than the byte window is asked for and granted (CREDIT_TOO_SMALL)", async () => {
    await admin.createTopic("c-big");
    await produceValues("c-big", 0, ["x".repeat(3000)]);
    const c = consumer({ maxBufferedBytesPerPartition: 500 });
    await c.assign([{ topic: "c-big", partition: 0, from: "earliest" }]);
    const [record] = await take(c[Symbol.asyncIterator](), 1);
    expect(record!.value!.length).toBe(3000);
  });

  test("pause holds a partition's records back and stops its credit; resume lets them through", async () => {
    await admin.createTopic("c-pause", { partitions: 2 });
    await produceValues("c-pause", 0, ["p0-a"]);
    const c = consumer();
    await c.assign([
      { topic: "c-pause", partition: 0, from: "earliest" },
      { topic: "c-pause", partition: 1, from: "earliest" },
    ]);
    c.pause([{ topic: "c-pause", partition: 0 }]);
    await Bun.sleep(50);
    await produceValues("c-pause", 1, ["p1-a"]);
    const iterator = c[Symbol.asyncIterator]();
    expect((await take(iterator, 1)).map((r) => text(r.value))).toEqual(["p1-a"]);
    c.resume([{ topic: "c-pause", partition: 0 }]);
    expect((await take(iterator, 1)).map((r) => text(r.value))).toEqual(["p0-a"]);
  });
});

describe("errors", () => {
  test("subscribing to an unknown partition rejects with Sluice's error", async () => {
    const c = consumer();
    const error = await c.assign([{ topic: "c-none", partition: 0 }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceClientError);
    expect((error as SluiceClientError).name).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(c.assignment()).toEqual([]);
  });

  test("a batch whose bytes do not match its CRC is refused", () => {
    const batch = encodeBatch([{ value: utf8("hello") }], { compression: "gzip" });
    expect(decodeBatches(batch, "t", 0).map((r) => text(r.value))).toEqual(["hello"]);
    batch[batch.length - 3]! ^= 0x40;
    expect(() => decodeBatches(batch, "t", 0)).toThrow(/CRC/);
  });

  test("close ends the iterator", async () => {
    await admin.createTopic("c-close");
    const c = consumer();
    await c.assign([{ topic: "c-close", partition: 0 }]);
    const next = c[Symbol.asyncIterator]().next();
    await c.close();
    expect((await next).done).toBe(true);
  });
});
