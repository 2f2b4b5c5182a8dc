// Topics over HTTP: create, list, describe, change config and delete, on a real loopback socket.
import { afterAll, describe, expect, test } from "bun:test";
import { createTopic, expectError, produce, START_MS, sendJson, startNode } from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

describe("topics", () => {
  test("a created topic answers 201 with its description and Kafka's defaults", async () => {
    const response = await sendJson(`${node.api}/topics`, {
      name: "orders",
      partitions: 3,
      config: { "retention.ms": "3600000" },
    });
    expect(response.status).toBe(201);
    const described = await response.json();
    expect(described.name).toBe("orders");
    expect(described.createdMs).toBe(START_MS);
    expect(described.config).toMatchObject({ "retention.ms": 3_600_000, "cleanup.policy": "delete" });
    expect(described.partitions).toHaveLength(3);
    expect(described.partitions[2]).toMatchObject({
      partition: 2,
      logStartOffset: 0,
      logEndOffset: 0,
      highWatermark: 0,
      segmentCount: 1,
      sizeBytes: 0,
    });
  });

  test("a topic created without partitions has one", async () => {
    await createTopic(node, "single");
    const described = await (await fetch(`${node.api}/topics/single`)).json();
    expect(described.partitions).toHaveLength(1);
  });

  test("topics are listed by name with partition counts and sizes", async () => {
    await createTopic(node, "listed-b", { partitions: 2 });
    await createTopic(node, "listed-a");
    const { topics } = await (await fetch(`${node.api}/topics`)).json();
    const listed = topics.filter((topic: { name: string }) => topic.name.startsWith("listed-"));
    expect(listed).toEqual([
      { name: "listed-a", partitions: 1, sizeBytes: 0 },
      { name: "listed-b", partitions: 2, sizeBytes: 0 },
    ]);
  });

  test("describe reports each partition's offsets, segments and bytes after a produce", async () => {
    await createTopic(node, "described", { partitions: 2 });
    await produce(node, "described", {
      records: [
        { value: 1, partition: 1 },
        { value: 2, partition: 1 },
      ],
    });
    const described = await (await fetch(`${node.api}/topics/described`)).json();
    const [first, second] = described.partitions;
    expect(first).toMatchObject({ logStartOffset: 0, logEndOffset: 0, highWatermark: 0, sizeBytes: 0 });
    expect(second).toMatchObject({ logStartOffset: 0, logEndOffset: 2, highWatermark: 2, segmentCount: 1 });
    expect(second.sizeBytes).toBeGreaterThan(61);
  });

  test("a config change applies, and null puts a key back to its default", async () => {
    await createTopic(node, "configured", { config: { "retention.ms": 1000 } });
    const url = `${node.api}/topics/configured/config`;
    const changed = await (await sendJson(url, { config: { "segment.bytes": "1048576" } }, "PATCH")).json();
    expect(changed.config).toMatchObject({ "segment.bytes": 1_048_576, "retention.ms": 1000 });
    const reset = await (await sendJson(url, { config: { "retention.ms": null } }, "PATCH")).json();
    expect(reset.config).toMatchObject({ "segment.bytes": 1_048_576, "retention.ms": 604_800_000 });
  });

  test("a deleted topic answers 204, then is gone", async () => {
    await createTopic(node, "doomed");
    const response = await fetch(`${node.api}/topics/doomed`, { method: "DELETE" });
    expect(response.status).toBe(204);
    await expectError(await fetch(`${node.api}/topics/doomed`), 404, "UNKNOWN_TOPIC_OR_PARTITION", "topic");
    await createTopic(node, "doomed");
  });

  test("creating a topic that exists answers 409 TOPIC_ALREADY_EXISTS", async () => {
    await createTopic(node, "twice");
    await expectError(
      await sendJson(`${node.api}/topics`, { name: "twice" }),
      409,
      "TOPIC_ALREADY_EXISTS",
      "name",
    );
  });
});
