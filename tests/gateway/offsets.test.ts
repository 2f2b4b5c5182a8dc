// Offsets: earliest, latest and by time, as Kafka's ListOffsets answers them.
import { afterAll, describe, expect, test } from "bun:test";
import { createTopic, produce, START_MS, startNode } from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

async function offsetAt(topic: string, at: string): Promise<{ offset: number; timestamp?: number }> {
  const response = await fetch(`${node.api}/topics/${topic}/partitions/0/offsets?at=${at}`);
  expect(response.status).toBe(200);
  return response.json() as Promise<{ offset: number; timestamp?: number }>;
}

describe("offsets", () => {
  test("an empty partition's earliest and latest are both 0", async () => {
    await createTopic(node, "empty");
    expect(await offsetAt("empty", "earliest")).toEqual({ offset: 0 });
    expect(await offsetAt("empty", "latest")).toEqual({ offset: 0 });
  });

  test("latest is the high watermark after a produce", async () => {
    await createTopic(node, "latest");
    await produce(node, "latest", { records: [{ value: 1 }, { value: 2 }] });
    expect(await offsetAt("latest", "latest")).toEqual({ offset: 2 });
    expect(await offsetAt("latest", "earliest")).toEqual({ offset: 0 });
  });

  test("a timestamp finds the first record at least that late, across and within batches", async () => {
    await createTopic(node, "by-time");
    await produce(node, "by-time", { records: [{ value: 0, timestamp: START_MS + 1000 }] });
    await produce(node, "by-time", {
      records: [
        { value: 1, timestamp: START_MS + 2000 },
        { value: 2, timestamp: START_MS + 3000 },
      ],
    });
    expect(await offsetAt("by-time", "0")).toEqual({ offset: 0, timestamp: START_MS + 1000 });
    expect(await offsetAt("by-time", String(START_MS + 1500))).toEqual({
      offset: 1,
      timestamp: START_MS + 2000,
    });
    expect(await offsetAt("by-time", String(START_MS + 2000))).toEqual({
      offset: 1,
      timestamp: START_MS + 2000,
    });
    expect(await offsetAt("by-time", String(START_MS + 2500))).toEqual({
      offset: 2,
      timestamp: START_MS + 3000,
    });
  });

  test("a timestamp later than every record answers the log end with timestamp -1", async () => {
    await createTopic(node, "too-late");
    await produce(node, "too-late", { records: [{ value: 0, timestamp: START_MS }] });
    expect(await offsetAt("too-late", String(START_MS + 1))).toEqual({ offset: 1, timestamp: -1 });
  });
});
