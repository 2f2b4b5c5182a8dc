// What a slow consumer costs the server, over real loopback sockets. One that never grants more
// credit gets what it asked for and nothing more while a producer writes megabytes; one that stops
// reading (a raw TCP client that pauses its socket) meets backpressure: the server stops sending, its
// send buffer stays within one frame, and when the client reads again every record arrives in order.
import { afterEach, describe, expect, test } from "bun:test";
import { splitBatches } from "../../lib/gateway/batch-frames.ts";
import { WS_RECORDS_FRAME_BYTES_TARGET } from "../../lib/gateway/limits.ts";
import { BINARY_FRAME_HEADER_BYTES, readBinaryFrame } from "../../lib/gateway/ws-binary-frame.ts";
import { readBatchHeader } from "../../lib/log/record-batch.ts";
import { createTopic, produce } from "../gateway/helpers.ts";
import { eventually, StreamClient, type StreamNode, scrape, startStreamNode, subscribe } from "./helpers.ts";
import { RawWebSocket } from "./raw-client.ts";

let node: StreamNode;
afterEach(() => node.close());

/** `requests` produce requests of `perRequest` records of `valueBytes` each, over HTTP. */
async function produceMany(topic: string, requests: number, perRequest: number, valueBytes: number) {
  const records = Array.from({ length: perRequest }, () => ({ value: "x".repeat(valueBytes), partition: 0 }));
  for (let i = 0; i < requests; i++) await produce(node, topic, { valueFormat: "text", records });
}

function heapBytes(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

describe("a consumer that grants no more credit", () => {
  test("gets the 100 records it asked for, and costs no server memory while 10 MB are produced", async () => {
    node = startStreamNode();
    await createTopic(node, "slow");
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 1, topic: "slow", partition: 0, from: "latest", credit: { records: 100 } });

    const heapBefore = heapBytes();
    let bufferedMax = 0;
    for (let round = 0; round < 10; round++) {
      await produceMany("slow", 10, 100, 1000); // 1 MB a round
      bufferedMax = Math.max(bufferedMax, await scrape(node, "sluice_websocket_buffered_bytes"));
    }
    const heapGrowth = heapBytes() - heapBefore;

    const frames = await client.barrier();
    const records = frames.flatMap((f) => (f instanceof Uint8Array || f.type !== "records" ? [] : f.records));
    expect(records).toHaveLength(100);
    expect(await scrape(node, "sluice_records_out_total", { topic: "slow" })).toBe(100);
    expect(bufferedMax).toBeLessThanOrEqual(WS_RECORDS_FRAME_BYTES_TARGET);
    // 10 MB went into the log; the server's heap keeps none of it for the waiting consumer (what it
    // grows by is the requests' and metrics' own bookkeeping, about 2 MB here).
    expect(heapGrowth).toBeLessThan(5 * 1024 * 1024);
    expect(await scrape(node, "sluice_websocket_subscriptions")).toBe(1);
    client.close();
  });
});

describe("a consumer that stops reading", () => {
  test("the server stops at backpressure with at most one frame buffered, and resumes on drain", async () => {
    node = startStreamNode();
    await createTopic(node, "flood");
    await produceMany("flood", 48, 1000, 500); // about 24 MB, far more than loopback's socket buffers
    const total = node.logs.partition("flood", 0).highWatermark;
    const largestBatch = 1000 * 520;
    const frameBound = BINARY_FRAME_HEADER_BYTES + Math.max(WS_RECORDS_FRAME_BYTES_TARGET, largestBatch);

    const port = Number(new URL(node.root).port);
    const raw = await RawWebSocket.connect(port, "/api/v1/ws");
    raw.pause();
    raw.send({
      type: "subscribe",
      id: 5,
      topic: "flood",
      partition: 0,
      from: "earliest",
      format: "binary",
      credit: { bytes: Number.MAX_SAFE_INTEGER },
    });
    // The kernel's buffers fill, then a send answers -1 and Bun holds the rest of that frame.
    await eventually(async () => (await scrape(node, "sluice_websocket_buffered_bytes")) > 0);
    const outAtPause = await scrape(node, "sluice_records_out_total", { topic: "flood" });
    expect(outAtPause).toBeLessThan(total);
    for (let i = 0; i < 10; i++) {
      await Bun.sleep(20);
      expect(await scrape(node, "sluice_websocket_buffered_bytes")).toBeLessThanOrEqual(frameBound);
    }
    // Nothing more was read from the log while the socket was full, though credit allowed it all.
    expect(await scrape(node, "sluice_records_out_total", { topic: "flood" })).toBe(outAtPause);

    raw.resume();
    const nextOffset = () => {
      const binaries = raw.binaries;
      return binaries.length === 0 ? 0 : readBinaryFrame(binaries.at(-1)!).nextOffset;
    };
    await eventually(() => nextOffset() === total);
    // Every frame starts where the one before ended: nothing lost, nothing repeated.
    let expected = 0;
    for (const frame of raw.binaries.map(readBinaryFrame)) {
      const batches = splitBatches(frame.batches);
      expect(readBatchHeader(batches[0]!).baseOffset).toBe(expected);
      expected = frame.nextOffset;
    }
    expect(expected).toBe(total);
    expect(await scrape(node, "sluice_records_out_total", { topic: "flood" })).toBe(total);
    raw.close();
  });
});
