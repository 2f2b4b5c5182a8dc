// Raw produce: RecordBatch v2 bytes back to back, all validated before any is appended.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { createTopic, expectError, fetchPartition, START_MS, startNode } from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

const FIXTURES = join(import.meta.dir, "../fixtures/record-batch/v2");

function textBatch(values: string[], compression: "none" | "gzip" = "none"): Uint8Array {
  return encodeBatch(
    values.map((value) => ({ key: null, value: utf8(value) })),
    { compression, timestampMs: START_MS },
  );
}

function postBatches(topic: string, batches: Uint8Array[], query = ""): Promise<Response> {
  return fetch(`${node.api}/topics/${topic}/partitions/0/batches${query}`, {
    method: "POST",
    headers: { "content-type": "application/vnd.kafka.recordbatch" },
    body: Buffer.concat(batches),
  });
}

const logEnd = (topic: string) => node.logs.partition(topic, 0).logEndOffset;

describe("raw produce", () => {
  test("batches sent back to back are appended in order and answered with their offsets", async () => {
    await createTopic(node, "raw-in");
    const response = await postBatches("raw-in", [
      textBatch(["a", "b"]),
      textBatch(["c"], "gzip"),
      textBatch(["d"]),
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      batches: [
        { baseOffset: 0, lastOffset: 1, recordCount: 2, logAppendTime: -1 },
        { baseOffset: 2, lastOffset: 2, recordCount: 1, logAppendTime: -1 },
        { baseOffset: 3, lastOffset: 3, recordCount: 1, logAppendTime: -1 },
      ],
      logStartOffset: 0,
    });
    const { records } = await fetchPartition(node, "raw-in", 0);
    expect(records.map((record) => record.value)).toEqual(["a", "b", "c", "d"]);
  });

  test("batches as kafkajs encodes them are accepted and read back", async () => {
    await createTopic(node, "kafkajs");
    const fixtures = ["uncompressed", "gzip"].map(
      (name) => new Uint8Array(readFileSync(join(FIXTURES, `${name}.bin`))),
    );
    const response = await postBatches("kafkajs", fixtures);
    expect(response.status).toBe(200);
    const expected = ["uncompressed", "gzip"].flatMap((name) => {
      const fixture = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8"));
      return fixture.records.map((record: { value: { utf8?: string; base64?: string } | null }) =>
        record.value === null ? null : (record.value.base64 ?? utf8(record.value.utf8!).toBase64()),
      );
    });
    const { records } = await fetchPartition(node, "kafkajs", 0, "value_format=base64");
    expect(records.map((record) => record.value)).toEqual(expected);
  });

  test("a truncated trailing batch is CORRUPT_MESSAGE and nothing of the request is appended", async () => {
    await createTopic(node, "raw-truncated");
    const last = textBatch(["c"]);
    const response = await postBatches("raw-truncated", [
      textBatch(["a"]),
      textBatch(["b"]),
      last.subarray(0, last.length - 1),
    ]);
    await expectError(response, 400, "CORRUPT_MESSAGE", "batches[2]");
    expect(logEnd("raw-truncated")).toBe(0);
  });

  test("a bad CRC in any batch refuses the whole request", async () => {
    await createTopic(node, "raw-crc");
    const damaged = textBatch(["b"]);
    damaged[damaged.length - 1]! ^= 0xff;
    await expectError(
      await postBatches("raw-crc", [textBatch(["a"]), damaged]),
      400,
      "CORRUPT_MESSAGE",
      "batches[1]",
    );
    expect(logEnd("raw-crc")).toBe(0);
  });

  test("a batch above the topic's max.message.bytes refuses the request before any batch is appended", async () => {
    await createTopic(node, "raw-large", { config: { "max.message.bytes": 1000 } });
    const response = await postBatches("raw-large", [textBatch(["a"]), textBatch(["x".repeat(2000)])]);
    await expectError(response, 413, "MESSAGE_TOO_LARGE", "batches[1]");
    expect(logEnd("raw-large")).toBe(0);
  });

  test("a batch that claims offsets of its own is refused", async () => {
    await createTopic(node, "raw-offset");
    const batch = encodeBatch([{ value: utf8("a") }], { baseOffset: 7 });
    await expectError(await postBatches("raw-offset", [batch]), 400, "INVALID_RECORD", "batches[0]");
  });

  test("durable=true answers after the fsync, acks=0 answers 202", async () => {
    await createTopic(node, "raw-acks");
    expect((await postBatches("raw-acks", [textBatch(["a"])], "?durable=true")).status).toBe(200);
    expect(node.logs.partition("raw-acks", 0).recoveryPoint).toBe(1);
    const response = await postBatches("raw-acks", [textBatch(["b"])], "?acks=0");
    expect(response.status).toBe(202);
    expect(logEnd("raw-acks")).toBe(2);
  });
});
