// Fetch as a long poll over a real socket, timed by the node's ManualClock: a waiting fetch answers
// when a produce brings enough bytes, or when the clock passes max_wait_ms, never by sleeping.
import { afterAll, describe, expect, test } from "bun:test";
import {
  createTopic,
  expectError,
  type FetchAnswer,
  fetchPartition,
  produce,
  startNode,
  until,
} from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

/**
 * Starts a fetch and resolves once the server holds it waiting (its timer is set). The answer comes
 * wrapped: an async function would otherwise wait for the response itself.
 */
async function waitingFetch(path: string, signal?: AbortSignal): Promise<{ answer: Promise<Response> }> {
  const before = node.clock.pendingTimers;
  const answer = fetch(`${node.api}${path}`, signal ? { signal } : {});
  await until(() => node.clock.pendingTimers === before + 1);
  return { answer };
}

describe("long poll", () => {
  test("a fetch waiting for min_bytes is answered as soon as a produce arrives", async () => {
    await createTopic(node, "wake");
    const { answer: pending } = await waitingFetch(
      "/topics/wake/partitions/0/records?offset=0&min_bytes=1&max_wait_ms=30000",
    );
    const timers = node.clock.pendingTimers;
    await produce(node, "wake", { records: [{ value: "hello" }] });
    const response = await pending;
    expect(response.status).toBe(200);
    const answer = (await response.json()) as FetchAnswer;
    expect(answer.records.map((record) => record.value)).toEqual(["hello"]);
    // Answered by the append, not by time: the clock never moved and the wait's timer is gone.
    expect(node.clock.pendingTimers).toBe(timers - 1);
  });

  test("a fetch keeps waiting through appends smaller than min_bytes", async () => {
    await createTopic(node, "trickle");
    const { answer: pending } = await waitingFetch(
      "/topics/trickle/partitions/0/records?min_bytes=300&max_wait_ms=30000",
    );
    const timers = node.clock.pendingTimers;
    await produce(node, "trickle", { records: [{ value: "small" }] });
    // The append notified the waiter before the produce answered: still short of 300 bytes.
    expect(node.clock.pendingTimers).toBe(timers);
    await produce(node, "trickle", { records: [{ value: "x".repeat(400) }] });
    const answer = (await (await pending).json()) as FetchAnswer;
    expect(answer.records.map((record) => record.offset)).toEqual([0, 1]);
  });

  test("a fetch with max_wait_ms answers with what there is once the clock passes it", async () => {
    await createTopic(node, "timeout");
    await produce(node, "timeout", { records: [{ value: 1 }] });
    const { answer: pending } = await waitingFetch(
      "/topics/timeout/partitions/0/records?min_bytes=100000&max_wait_ms=5000",
    );
    const timers = node.clock.pendingTimers;
    node.clock.advance(4999);
    expect(node.clock.pendingTimers).toBe(timers);
    node.clock.advance(1);
    expect(node.clock.pendingTimers).toBe(timers - 1);
    const answer = (await (await pending).json()) as FetchAnswer;
    expect(answer.records.map((record) => record.value)).toEqual([1]);
  });

  test("an empty long poll answers no records after max_wait_ms, in JSON and binary", async () => {
    await createTopic(node, "quiet");
    const { answer: json } = await waitingFetch("/topics/quiet/partitions/0/records?max_wait_ms=1000");
    node.clock.advance(1000);
    expect(((await (await json).json()) as FetchAnswer).records).toEqual([]);
    const { answer: binary } = await waitingFetch(
      "/topics/quiet/partitions/0/records?format=binary&max_wait_ms=1000",
    );
    node.clock.advance(1000);
    const response = await binary;
    expect(response.status).toBe(204);
    expect(response.headers.get("x-sluice-next-offset")).toBe("0");
  });

  test("a fetch with data already there does not wait", async () => {
    await createTopic(node, "ready");
    await produce(node, "ready", { records: [{ value: 1 }] });
    const timers = node.clock.pendingTimers;
    const answer = await fetchPartition(node, "ready", 0, "max_wait_ms=30000");
    expect(answer.records).toHaveLength(1);
    expect(node.clock.pendingTimers).toBe(timers);
  });

  test("a client that disconnects releases its waiter and its timer", async () => {
    await createTopic(node, "abandoned");
    const before = node.clock.pendingTimers;
    const controller = new AbortController();
    const { answer: pending } = await waitingFetch(
      "/topics/abandoned/partitions/0/records?max_wait_ms=30000",
      controller.signal,
    );
    controller.abort();
    await pending.catch(() => undefined);
    await until(() => node.clock.pendingTimers === before);
  });

  test("deleting a topic wakes its long polls, which answer 404", async () => {
    await createTopic(node, "vanishing");
    const { answer: pending } = await waitingFetch(
      "/topics/vanishing/partitions/0/records?max_wait_ms=30000",
    );
    expect((await fetch(`${node.api}/topics/vanishing`, { method: "DELETE" })).status).toBe(204);
    await expectError(await pending, 404, "UNKNOWN_TOPIC_OR_PARTITION");
  });
});
