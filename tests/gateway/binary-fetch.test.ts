// Binary fetch: the stored batches byte for byte from the segment file (sent with sendfile; see
// scripts/trace-zero-copy.sh), with the offsets in headers.
import { afterAll, describe, expect, test } from "bun:test";
import { splitBatches } from "../../lib/gateway/batch-frames.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../../lib/limits.ts";
import { decodeRecords, readBatchHeader, validateBatch } from "../../lib/log/record-batch.ts";
import { createTopic, produce, startNode } from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

function binaryFetch(topic: string, query: string): Promise<Response> {
  return fetch(`${node.api}/topics/${topic}/partitions/0/records?format=binary&${query}`);
}

describe("binary fetch", () => {
  test("answers the stored batches byte for byte, and each validates", async () => {
    await createTopic(node, "raw-out");
    for (let i = 0; i < 3; i++) {
      await produce(node, "raw-out", {
        valueFormat: "text",
        records: [{ value: `a${i}` }, { value: `b${i}` }],
      });
    }
    const response = await binaryFetch("raw-out", "offset=0&max_bytes=1048576");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/vnd.kafka.recordbatch");
    expect(response.headers.get("x-sluice-next-offset")).toBe("6");
    expect(response.headers.get("x-sluice-high-watermark")).toBe("6");
    expect(response.headers.get("x-sluice-log-start-offset")).toBe("0");
    const bytes = new Uint8Array(await response.arrayBuffer());

    const log = node.logs.partition("raw-out", 0);
    const stored = log.readSliceBytes(log.read(0, { maxBytes: 1 << 20 }).slice!);
    expect(bytes).toEqual(new Uint8Array(stored));

    const batches = splitBatches(bytes);
    expect(batches.map((batch) => readBatchHeader(batch).baseOffset)).toEqual([0, 2, 4]);
    for (const batch of batches) validateBatch(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
    const values = batches.flatMap((batch) =>
      decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX).map((record) =>
        new TextDecoder().decode(record.value!),
      ),
    );
    expect(values).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
  });

  test("an offset inside a batch answers from that batch's start, as Kafka does", async () => {
    await createTopic(node, "raw-mid");
    await produce(node, "raw-mid", { records: [{ value: 0 }, { value: 1 }, { value: 2 }] });
    const response = await binaryFetch("raw-mid", "offset=1");
    const [batch] = splitBatches(new Uint8Array(await response.arrayBuffer()));
    expect(readBatchHeader(batch!).baseOffset).toBe(0);
    expect(response.headers.get("x-sluice-next-offset")).toBe("3");
  });

  test("max_bytes cuts at whole batches", async () => {
    await createTopic(node, "raw-paged");
    for (let i = 0; i < 4; i++) await produce(node, "raw-paged", { records: [{ value: "x".repeat(200) }] });
    const response = await binaryFetch("raw-paged", "offset=0&max_bytes=600");
    expect(splitBatches(new Uint8Array(await response.arrayBuffer()))).toHaveLength(2);
    expect(response.headers.get("x-sluice-next-offset")).toBe("2");
  });

  test("a fetch at the log end answers 204 with the offsets in headers", async () => {
    await createTopic(node, "raw-empty");
    await produce(node, "raw-empty", { records: [{ value: 1 }] });
    const response = await binaryFetch("raw-empty", "offset=1");
    expect(response.status).toBe(204);
    expect(response.headers.get("x-sluice-next-offset")).toBe("1");
    expect(response.headers.get("x-sluice-high-watermark")).toBe("1");
    expect(response.headers.get("x-sluice-log-start-offset")).toBe("0");
  });
});
