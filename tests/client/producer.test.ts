// The producer against a real node on loopback: batching by size and by linger, compression, acks,
// Kafka's partitioner, per-partition order, idempotent retries (a dropped answer, injected) and errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SluiceAdmin } from "../../lib/client/admin.ts";
import type { FetchFunction } from "../../lib/client/http.ts";
import { SluiceClientError } from "../../lib/client/http.ts";
import { type ProducerOptions, SluiceProducer } from "../../lib/client/producer.ts";
import { splitBatches } from "../../lib/gateway/batch-frames.ts";
import { partitionForKey } from "../../lib/gateway/partitioner.ts";
import { compressionOf, readBatchHeader, utf8 } from "../../lib/log/record-batch.ts";
import { fetchAll, startNode, type TestNode } from "../gateway/helpers.ts";

let node: TestNode;
let admin: SluiceAdmin;
let baseUrl: string;

beforeAll(() => {
  node = startNode();
  baseUrl = node.api.replace(/\/api\/v1$/, "");
  admin = new SluiceAdmin({ baseUrl });
});
afterAll(() => node.close());

function producer(options: ProducerOptions = {}): SluiceProducer {
  return new SluiceProducer({ baseUrl, ...options });
}

/** The stored batches of a partition: header and record count of each. */
async function storedBatches(topic: string, partition: number) {
  const { batches } = await admin.fetchBinary(topic, partition, { offset: 0, maxBytes: 64 * 1024 * 1024 });
  return batches.length === 0 ? [] : splitBatches(batches).map((batch) => readBatchHeader(batch));
}

describe("batching", () => {
  test("records sent together share batches up to batchSizeBytes, in order, with contiguous offsets", async () => {
    await admin.createTopic("p-batching");
    const p = producer({ batchSizeBytes: 2_000, lingerMs: 50 });
    const values = Array.from({ length: 100 }, (_, i) => `value-${i}-${"x".repeat(80)}`);
    const sent = await Promise.all(values.map((value) => p.send("p-batching", { value, partition: 0 })));
    expect(sent.map((m) => m.offset)).toEqual(values.map((_, i) => i));
    expect(sent.every((m) => m.partition === 0 && m.topic === "p-batching")).toBe(true);
    const headers = await storedBatches("p-batching", 0);
    // ~100 B a record: about 20 records fit 2000 bytes, so 5 to 6 batches, none over the size.
    expect(headers.length).toBeGreaterThanOrEqual(5);
    expect(headers.length).toBeLessThanOrEqual(7);
    for (const header of headers) expect(header.batchLength + 12).toBeLessThanOrEqual(2_000 + 61);
    expect((await fetchAll(node, "p-batching", 0)).map((r) => r.value)).toEqual(values);
    await p.close();
  });

  test("a lone record waits lingerMs, then goes; flush sends at once", async () => {
    await admin.createTopic("p-linger");
    const p = producer({ lingerMs: 300 });
    const started = performance.now();
    const first = p.send("p-linger", { value: "a", partition: 0 });
    await Bun.sleep(100);
    expect((await admin.offset("p-linger", 0, "latest")).offset).toBe(0);
    expect((await first).offset).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);

    const flushed = performance.now();
    const second = p.send("p-linger", { value: "b", partition: 0 });
    await p.flush();
    expect((await second).offset).toBe(1);
    expect(performance.now() - flushed).toBeLessThan(250);
    await p.close();
  });

  test("lingerMs 0 still gathers the records of one turn into one batch", async () => {
    await admin.createTopic("p-linger0");
    const p = producer({ lingerMs: 0 });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => p.send("p-linger0", { value: `${i}`, partition: 0 })),
    );
    expect((await storedBatches("p-linger0", 0)).map((h) => h.recordsCount)).toEqual([50]);
    await p.close();
  });

  test("a small buffer makes send wait for room; everything still arrives in order", async () => {
    await admin.createTopic("p-buffer");
    const p = producer({ bufferMemoryBytes: 1_000, batchSizeBytes: 500, lingerMs: 1 });
    const sends = Array.from({ length: 60 }, (_, i) =>
      p.send("p-buffer", { value: `v${i}`.padEnd(50), partition: 0 }),
    );
    expect(p.bufferedBytes).toBeLessThanOrEqual(1_000 + 100);
    const offsets = (await Promise.all(sends)).map((m) => m.offset);
    expect(offsets).toEqual(offsets.map((_, i) => i));
    expect(p.bufferedBytes).toBe(0);
    await p.close();
  });
});

describe("sendMany and the arenas", () => {
  test("sendMany answers every record in call order, keys where murmur2 puts them, order kept when it must wait", async () => {
    await admin.createTopic("p-many", { partitions: 3 });
    // A buffer smaller than the call: the records past it wait for room, behind those already in.
    const p = producer({ bufferMemoryBytes: 2_000, batchSizeBytes: 600, lingerMs: 1 });
    const records = Array.from({ length: 120 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
    const sent = await p.sendMany("p-many", records);
    expect(sent).toHaveLength(120);
    expect(p.bufferedBytes).toBe(0);
    for (const [i, metadata] of sent.entries()) {
      expect(metadata.partition).toBe(partitionForKey(utf8(`k${i % 7}`), 3));
      expect(metadata.topic).toBe("p-many");
    }
    for (let partition = 0; partition < 3; partition++) {
      const mine = records.filter((_, i) => sent[i]!.partition === partition);
      const offsets = sent.filter((m) => m.partition === partition).map((m) => m.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
      expect((await fetchAll(node, "p-many", partition)).map((r) => r.value)).toEqual(
        mine.map((r) => r.value),
      );
    }
    await expect(p.sendMany("p-many", [{ value: "x", partition: 9 }])).rejects.toMatchObject({
      name: "UNKNOWN_TOPIC_OR_PARTITION",
    });
    await p.close();
  });

  test("arenas are used again once answered, and every record reads back as sent", async () => {
    await admin.createTopic("p-arena");
    const bodies = new Set<ArrayBufferLike>();
    let requests = 0;
    const watchingFetch: FetchFunction = (url, init) => {
      if (url.includes("/batches")) {
        requests++;
        bodies.add((init!.body as Uint8Array).buffer);
      }
      return fetch(url, init);
    };
    const p = producer({ fetch: watchingFetch, maxRequestBytes: 8_192, batchSizeBytes: 2_048, lingerMs: 1 });
    const values: string[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = Array.from(
        { length: 100 },
        (_, i) => `r${round}-${i}-${"y".repeat((round * 7 + i) % 90)}`,
      );
      values.push(...batch);
      await p.sendMany(
        "p-arena",
        batch.map((value) => ({ value, partition: 0 })),
      );
    }
    // Far fewer distinct buffers than requests: arenas came back; and nothing was overwritten early.
    expect(requests).toBeGreaterThan(20);
    expect(bodies.size).toBeLessThan(requests / 2);
    expect((await fetchAll(node, "p-arena", 0)).map((r) => r.value)).toEqual(values);
    await p.close();
  });

  test("the bytes of a failed request are never written again", async () => {
    await admin.createTopic("p-arena-fail");
    interface Region {
      buffer: ArrayBufferLike;
      start: number;
      end: number;
    }
    const regionOf = (body: Uint8Array): Region => ({
      buffer: body.buffer,
      start: body.byteOffset,
      end: body.byteOffset + body.length,
    });
    let failed: Region | undefined;
    const later: Region[] = [];
    const failingFetch: FetchFunction = async (url, init) => {
      if (url.includes("/batches")) {
        const region = regionOf(init!.body as Uint8Array);
        if (failed === undefined) {
          failed = region;
          throw new TypeError("connection reset (injected)");
        }
        later.push(region);
      }
      return fetch(url, init);
    };
    const p = producer({ fetch: failingFetch, retries: 0, maxRequestBytes: 8_192, batchSizeBytes: 2_048 });
    const lost = p.sendMany("p-arena-fail", [{ value: "lost", partition: 0 }]);
    await expect(lost).rejects.toMatchObject({ name: "NETWORK_ERROR" });
    for (let round = 0; round < 10; round++) {
      const records = Array.from({ length: 200 }, () => ({ value: "z".repeat(50), partition: 0 }));
      await p.sendMany("p-arena-fail", records);
    }
    expect(later.length).toBeGreaterThan(10);
    // The HTTP layer may still hold a failed body: no later request may reuse any of its bytes.
    const overlapping = later.filter(
      (r) => r.buffer === failed!.buffer && r.start < failed!.end && failed!.start < r.end,
    );
    expect(overlapping).toEqual([]);
    expect(later.some((r) => r.buffer === failed!.buffer)).toBe(true); // the rest of its arena is still used
    await p.close();
  });
});

describe("compression and acks", () => {
  for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
    test(`${codec} batches are stored as sent and read back`, async () => {
      const topic = `p-${codec}`;
      await admin.createTopic(topic);
      const p = producer({ compression: codec, lingerMs: 5 });
      const values = Array.from({ length: 200 }, (_, i) =>
        JSON.stringify({ i, text: "compress me ".repeat(5) }),
      );
      await Promise.all(values.map((value) => p.send(topic, { value, key: `k${i(value)}`, partition: 0 })));
      const headers = await storedBatches(topic, 0);
      expect(headers.every((h) => compressionOf(h) === codec)).toBe(true);
      expect((await fetchAll(node, topic, 0)).map((r) => JSON.stringify(r.value))).toEqual(values);
      await p.close();
    });
  }

  test("acks 0 answers offset -1 and the records still land", async () => {
    await admin.createTopic("p-acks0");
    const p = producer({ acks: 0 });
    const sent = await Promise.all([1, 2, 3].map((n) => p.send("p-acks0", { value: `${n}`, partition: 0 })));
    expect(sent.map((m) => m.offset)).toEqual([-1, -1, -1]);
    expect((await admin.offset("p-acks0", 0, "latest")).offset).toBe(3);
    await p.close();
  });
});

function i(json: string): number {
  return (JSON.parse(json) as { i: number }).i;
}

describe("partitioning", () => {
  test("a key lands where Kafka's murmur2 puts it, as the server's JSON produce does", async () => {
    await admin.createTopic("p-keys", { partitions: 7 });
    const p = producer();
    const keys = Array.from({ length: 40 }, (_, n) => `user-${n}`);
    const sent = await Promise.all(keys.map((key) => p.send("p-keys", { key, value: "v" })));
    const server = await admin.produce(
      "p-keys",
      keys.map((key) => ({ key, value: "v" })),
      { keyFormat: "text", valueFormat: "text" },
    );
    expect(sent.map((m) => m.partition)).toEqual(server!.offsets.map((o) => o.partition));
    expect(sent.map((m) => m.partition)).toEqual(keys.map((key) => partitionForKey(utf8(key), 7)));
    expect(new Set(sent.map((m) => m.partition)).size).toBeGreaterThan(3);
    await p.close();
  });

  test("keyless records stick to a partition per batch and move on when it is full", async () => {
    await admin.createTopic("p-sticky", { partitions: 4 });
    const p = producer({ batchSizeBytes: 1_000, lingerMs: 20 });
    const sent = await Promise.all(
      Array.from({ length: 400 }, (_, n) => p.send("p-sticky", { value: `${n}`.padEnd(40) })),
    );
    // Runs of one partition, each at most a batch long, and more than one partition used.
    const runs: number[] = [];
    for (let n = 0; n < sent.length; n++) {
      if (n === 0 || sent[n]!.partition !== sent[n - 1]!.partition) runs.push(0);
      runs[runs.length - 1]!++;
    }
    expect(Math.max(...runs)).toBeLessThanOrEqual(Math.ceil(1_000 / 60));
    expect(new Set(sent.map((m) => m.partition)).size).toBeGreaterThan(1);
    await p.close();
  });
});

describe("idempotence", () => {
  test("a request whose answer is lost is retried, deduplicated, and answered with the first offsets", async () => {
    await admin.createTopic("p-idem");
    let produceCalls = 0;
    // Fault injection: the first produce request reaches Sluice, then its answer is thrown away.
    const losingFetch: FetchFunction = async (url, init) => {
      const response = await fetch(url, init);
      if (url.includes("/batches") && produceCalls++ === 0)
        throw new TypeError("connection reset (injected)");
      return response;
    };
    const p = producer({ idempotent: true, fetch: losingFetch, retryBackoffMs: 1, lingerMs: 1 });
    const sent = await Promise.all(["a", "b", "c"].map((value) => p.send("p-idem", { value, partition: 0 })));
    expect(produceCalls).toBe(2);
    expect(sent.map((m) => m.offset)).toEqual([0, 1, 2]);
    const more = await p.send("p-idem", { value: "d", partition: 0 });
    expect(more.offset).toBe(3);
    expect((await fetchAll(node, "p-idem", 0)).map((r) => r.value)).toEqual(["a", "b", "c", "d"]);
    const [first] = await storedBatches("p-idem", 0);
    expect(first!.producerId).toBeGreaterThanOrEqual(0);
    expect(first!.baseSequence).toBe(0);
    await p.close();
  });

  test("without idempotence the same lost answer duplicates, as in Kafka", async () => {
    await admin.createTopic("p-dupe");
    let produceCalls = 0;
    const losingFetch: FetchFunction = async (url, init) => {
      const response = await fetch(url, init);
      if (url.includes("/batches") && produceCalls++ === 0)
        throw new TypeError("connection reset (injected)");
      return response;
    };
    const p = producer({ fetch: losingFetch, retryBackoffMs: 1, lingerMs: 1 });
    expect((await p.send("p-dupe", { value: "a", partition: 0 })).offset).toBe(1);
    expect((await admin.offset("p-dupe", 0, "latest")).offset).toBe(2);
    await p.close();
  });
});

describe("errors", () => {
  async function rejection(promise: Promise<unknown>): Promise<SluiceClientError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceClientError);
    return error as SluiceClientError;
  }

  test("unknown topic, partition out of range, a record too large, sends after close", async () => {
    await admin.createTopic("p-errors", { partitions: 2, config: { "max.message.bytes": 2_000 } });
    const p = producer({ lingerMs: 1 });
    expect((await rejection(p.send("p-none", { value: "x" }))).name).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    const outOfRange = await rejection(p.send("p-errors", { value: "x", partition: 2 }));
    expect({ name: outOfRange.name, field: outOfRange.field }).toEqual({
      name: "UNKNOWN_TOPIC_OR_PARTITION",
      field: "partition",
    });
    expect((await rejection(p.send("p-errors", { value: "x".repeat(5_000), partition: 0 }))).name).toBe(
      "MESSAGE_TOO_LARGE",
    );
    // The partition goes on after a refused batch.
    expect((await p.send("p-errors", { value: "ok", partition: 0 })).offset).toBe(0);
    await p.close();
    expect((await rejection(p.send("p-errors", { value: "late" }))).name).toBe("CLOSED");
  });

  test("an idempotent producer needs acks", () => {
    expect(() => producer({ idempotent: true, acks: 0 })).toThrow(TypeError);
  });
});
