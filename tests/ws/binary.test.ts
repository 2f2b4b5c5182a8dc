// Binary subscriptions: each frame is the 24-byte header and whole batches exactly as stored, which
// validate (CRC-32C and all) and decode to the records produced, compressed batches included.
import { afterAll, describe, expect, test } from "bun:test";
import { splitBatches } from "../../lib/gateway/batch-frames.ts";
import {
  BINARY_FRAME_HEADER_BYTES,
  BINARY_FRAME_VERSION,
  readBinaryFrame,
  writeBinaryFrameHeader,
} from "../../lib/gateway/ws-binary-frame.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../../lib/limits.ts";
import { decodeRecords, encodeBatch, utf8, validateBatch } from "../../lib/log/record-batch.ts";
import { createTopic, produce, START_MS } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode, subscribe } from "./helpers.ts";

const node = startStreamNode();
afterAll(() => node.close());

const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));

describe("binary frame header", () => {
  test("lays out version, subscription id, next offset and high watermark as its byte table says", () => {
    const frame = new Uint8Array(BINARY_FRAME_HEADER_BYTES + 2);
    writeBinaryFrameHeader(frame, { subscriptionId: 0xfffffffe, nextOffset: 2 ** 40 + 5, highWatermark: 7 });
    // biome-ignore format: one row per field of the byte table
    const expected = [
      BINARY_FRAME_VERSION, 0, 0, 0,   // version, reserved
      0xff, 0xff, 0xff, 0xfe,          // subscriptionId
      0, 0, 0x01, 0, 0, 0, 0, 5,       // nextOffset
      0, 0, 0, 0, 0, 0, 0, 7,          // highWatermark
    ];
    expect([...frame.subarray(0, BINARY_FRAME_HEADER_BYTES)]).toEqual(expected);
    expect(readBinaryFrame(frame)).toMatchObject({ subscriptionId: 0xfffffffe, nextOffset: 2 ** 40 + 5 });
  });
});

describe("binary subscriptions", () => {
  test("frames carry the stored batches, which validate and decode to the produced records", async () => {
    await createTopic(node, "raw");
    await produce(node, "raw", {
      keyFormat: "text",
      valueFormat: "text",
      records: [
        { key: "k1", value: "one", headers: { h: "x" } },
        { key: "k2", value: "two" },
      ],
    });
    // A gzip batch sent raw is stored (and sent) compressed, as the producer made it.
    const gzip = encodeBatch([{ value: utf8("three") }, { value: utf8("four") }], {
      compression: "gzip",
      timestampMs: START_MS,
    });
    const raw = await fetch(`${node.api}/topics/raw/partitions/0/batches`, {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.recordbatch" },
      body: gzip.slice(),
    });
    expect(raw.status).toBe(200);

    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 77, topic: "raw", partition: 0, from: "earliest", format: "binary" });
    client.send({ type: "credit", id: 77, bytes: 1 << 20 });
    const frame = readBinaryFrame(await client.expectBinary());
    expect(frame).toMatchObject({ subscriptionId: 77, nextOffset: 4, highWatermark: 4 });

    const log = node.logs.partition("raw", 0);
    const stored = log.readSliceBytes(log.read(0, { maxBytes: 1 << 20 }).slice!);
    expect(frame.batches).toEqual(stored);

    const batches = splitBatches(frame.batches);
    expect(batches).toHaveLength(2);
    for (const batch of batches) validateBatch(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
    const records = batches.flatMap((batch) => decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX));
    expect(records.map((r) => ({ offset: r.offset, key: text(r.key), value: text(r.value) }))).toEqual([
      { offset: 0, key: "k1", value: "one" },
      { offset: 1, key: "k2", value: "two" },
      { offset: 2, key: null, value: "three" },
      { offset: 3, key: null, value: "four" },
    ]);
    expect(records[0]!.headers.map((h) => [h.key, text(h.value)])).toEqual([["h", "x"]]);
    client.close();
  });

  test("a subscription from inside a batch gets the whole batch, with nextOffset past it", async () => {
    await createTopic(node, "raw-mid");
    await produce(node, "raw-mid", { records: [{ value: 0 }, { value: 1 }, { value: 2 }] });
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 1,
      topic: "raw-mid",
      partition: 0,
      from: { offset: 1 },
      format: "binary",
      credit: { records: 2 },
    });
    const frame = readBinaryFrame(await client.expectBinary());
    expect(frame.nextOffset).toBe(3);
    expect(decodeRecords(frame.batches, UNCOMPRESSED_BATCH_BYTES_MAX).map((r) => r.offset)).toEqual([
      0, 1, 2,
    ]);
    client.close();
  });

  test("the live tail comes in binary too, one frame per append", async () => {
    await createTopic(node, "raw-tail");
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 2,
      topic: "raw-tail",
      partition: 0,
      from: "latest",
      format: "binary",
      credit: { bytes: 1 << 20 },
    });
    for (let i = 0; i < 3; i++) {
      await produce(node, "raw-tail", { valueFormat: "text", records: [{ value: `t${i}` }] });
      const frame = readBinaryFrame(await client.expectBinary());
      expect(frame.nextOffset).toBe(i + 1);
      expect(decodeRecords(frame.batches, UNCOMPRESSED_BATCH_BYTES_MAX).map((r) => text(r.value))).toEqual([
        `t${i}`,
      ]);
    }
    client.close();
  });
});
