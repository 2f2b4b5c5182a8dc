// Produce over a WebSocket: the HTTP produce's record shape, partitioner and acks in one frame,
// answered with each record's partition and offset under the client's requestId.
import { afterAll, describe, expect, test } from "bun:test";
import { createTopic, fetchAll, produce } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode } from "./helpers.ts";

const node = startStreamNode();
afterAll(() => node.close());

describe("produce frames", () => {
  test("answer each record's partition and offset in request order, and the records are in the log", async () => {
    await createTopic(node, "wsp", { partitions: 2 });
    const client = await StreamClient.connect(node.wsUrl);
    client.send({
      type: "produce",
      requestId: "first",
      topic: "wsp",
      keyFormat: "text",
      valueFormat: "json",
      records: [
        { value: { n: 1 }, partition: 1, headers: { source: "ws" } },
        { value: { n: 2 }, partition: 0 },
        { value: { n: 3 }, partition: 1, timestamp: 1_700_000_123_000 },
      ],
    });
    expect(await client.expectFrame("produced")).toEqual({
      type: "produced",
      requestId: "first",
      offsets: [
        { partition: 1, offset: 0 },
        { partition: 0, offset: 0 },
        { partition: 1, offset: 1 },
      ],
    });
    const partition1 = await fetchAll(node, "wsp", 1);
    expect(partition1.map((r) => r.value)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(partition1[0]!.headers).toEqual([{ key: "source", value: "ws" }]);
    expect(partition1[1]!.timestamp).toBe(1_700_000_123_000);
    client.close();
  });

  test("keys land on the partition the HTTP produce picks for them (Kafka's murmur2)", async () => {
    await createTopic(node, "keyed", { partitions: 5 });
    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const records = keys.map((key) => ({ key, value: key }));
    const viaHttp = await produce(node, "keyed", { keyFormat: "text", records });
    const client = await StreamClient.connect(node.wsUrl);
    client.send({ type: "produce", requestId: 1, topic: "keyed", keyFormat: "text", records });
    const viaWs = await client.expectFrame("produced");
    expect(viaWs.offsets.map((o) => o.partition)).toEqual(viaHttp.offsets.map((o) => o.partition));
    client.close();
  });

  test("acks 0 appends without an answer; acks all, -1 and durable answer as acks 1", async () => {
    await createTopic(node, "acks");
    const client = await StreamClient.connect(node.wsUrl);
    client.send({ type: "produce", requestId: "zero", topic: "acks", acks: 0, records: [{ value: 0 }] });
    for (const [requestId, acks] of [
      ["all", "all"],
      ["minus-one", -1],
    ] as const) {
      client.send({
        type: "produce",
        requestId,
        topic: "acks",
        acks,
        durable: true,
        records: [{ value: 1 }],
      });
    }
    // Durable answers come after the fsync; acks 0 never answers.
    const answered = [await client.expectFrame("produced"), await client.expectFrame("produced")];
    expect(answered.map((a) => a.requestId).sort()).toEqual(["all", "minus-one"]);
    await client.expectQuiet();
    expect((await fetchAll(node, "acks", 0)).map((r) => r.value)).toEqual([0, 1, 1]);
    client.close();
  });
});
