// What /metrics says about WebSocket streams: open connections and subscriptions, and the records and
// bytes subscriptions carried out, per topic and partition, in the same counters as fetches.
import { afterAll, describe, expect, test } from "bun:test";
import { createTopic, produce } from "../gateway/helpers.ts";
import { eventually, StreamClient, scrape, startStreamNode, subscribe } from "./helpers.ts";

const node = startStreamNode();
afterAll(() => node.close());

describe("stream metrics", () => {
  test("count open connections and subscriptions as they come and go", async () => {
    await createTopic(node, "watched", { partitions: 2 });
    const first = await StreamClient.connect(node.wsUrl);
    const second = await StreamClient.connect(node.wsUrl);
    await subscribe(first, { id: 1, topic: "watched", partition: 0, from: "latest" });
    await subscribe(first, { id: 2, topic: "watched", partition: 1, from: "latest" });
    await subscribe(second, { id: 1, topic: "watched", partition: 0, from: "latest" });
    expect(await scrape(node, "sluice_websocket_connections")).toBe(2);
    expect(await scrape(node, "sluice_websocket_subscriptions")).toBe(3);

    first.send({ type: "unsubscribe", id: 2 });
    await first.expectFrame("unsubscribed");
    expect(await scrape(node, "sluice_websocket_subscriptions")).toBe(2);

    second.close();
    await eventually(async () => (await scrape(node, "sluice_websocket_connections")) === 1);
    expect(await scrape(node, "sluice_websocket_subscriptions")).toBe(1);
    first.close();
  });

  test("records and bytes sent to subscriptions count as records and bytes out, per partition", async () => {
    await createTopic(node, "counted", { partitions: 2 });
    await produce(node, "counted", {
      records: [
        { value: 1, partition: 1 },
        { value: 2, partition: 1 },
      ],
    });
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, {
      id: 1,
      topic: "counted",
      partition: 1,
      from: "earliest",
      format: "binary",
      credit: { records: 10 },
    });
    const frame = await client.expectBinary();
    const labels = { topic: "counted", partition: "1" };
    expect(await scrape(node, "sluice_records_out_total", labels)).toBe(2);
    expect(await scrape(node, "sluice_bytes_out_total", labels)).toBe(frame.length - 24);
    expect(await scrape(node, "sluice_records_out_total", { topic: "counted", partition: "0" })).toBe(0);
    client.close();
  });
});
