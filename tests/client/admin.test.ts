// The admin client against a real node on loopback: every route it wraps answers what the server
// says, and errors arrive as SluiceClientError with the server's status, code, name and field.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SluiceAdmin } from "../../lib/client/admin.ts";
import { isSluiceClientError, SluiceClientError } from "../../lib/client/http.ts";
import { ERRORS } from "../../lib/errors.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { START_MS, startNode, type TestNode } from "../gateway/helpers.ts";

let node: TestNode;
let admin: SluiceAdmin;

beforeAll(() => {
  node = startNode();
  admin = new SluiceAdmin({ baseUrl: node.api.replace(/\/api\/v1$/, "") });
});
afterAll(() => node.close());

/** The promise's rejection, which must be a SluiceClientError. */
async function rejection(promise: Promise<unknown>): Promise<SluiceClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceClientError);
  return error as SluiceClientError;
}

describe("topics", () => {
  test("create, list, describe, alter, delete", async () => {
    const created = await admin.createTopic("admin-topics", {
      partitions: 3,
      config: { "retention.ms": 60_000 },
    });
    expect(created.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(created.config["retention.ms"]).toBe(60_000);
    expect((await admin.listTopics()).map((t) => t.name)).toContain("admin-topics");
    expect((await admin.describeTopic("admin-topics")).partitions).toHaveLength(3);
    const altered = await admin.alterTopicConfig("admin-topics", {
      "retention.ms": null,
      "segment.ms": 1000,
    });
    expect(altered.config["retention.ms"]).toBe(604_800_000);
    expect(altered.config["segment.ms"]).toBe(1000);
    await admin.deleteTopic("admin-topics");
    expect((await admin.listTopics()).map((t) => t.name)).not.toContain("admin-topics");
  });

  test("errors carry status, code, name and field", async () => {
    await admin.createTopic("admin-dupe");
    const exists = await rejection(admin.createTopic("admin-dupe"));
    expect({ status: exists.status, code: exists.code, name: exists.name }).toEqual({
      status: 409,
      code: ERRORS.TOPIC_ALREADY_EXISTS.code,
      name: "TOPIC_ALREADY_EXISTS",
    });
    const unknown = await rejection(admin.describeTopic("no such topic/with slash"));
    expect(unknown.name).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    const badConfig = await rejection(admin.createTopic("admin-bad", { config: { "retention.ms": -5 } }));
    expect(badConfig.name).toBe("INVALID_CONFIG");
    expect(badConfig.field).toContain("retention.ms");
    expect(isSluiceClientError(badConfig, "INVALID_CONFIG")).toBe(true);
  });
});

describe("records", () => {
  test("JSON produce, JSON and binary fetch, offsets", async () => {
    await admin.createTopic("admin-records", { partitions: 2 });
    const answer = await admin.produce(
      "admin-records",
      [
        { key: "k1", value: { n: 1 }, partition: 1, timestamp: START_MS },
        { key: "k2", value: "two", partition: 1, timestamp: START_MS + 10 },
      ],
      { keyFormat: "text", acks: "all" },
    );
    expect(answer?.offsets).toEqual([
      { partition: 1, offset: 0 },
      { partition: 1, offset: 1 },
    ]);
    expect(await admin.produce("admin-records", [{ value: 3, partition: 1 }], { acks: 0 })).toBeNull();

    const fetched = await admin.fetch("admin-records", 1, { offset: 0, valueFormat: "json" });
    expect(fetched.records.map((r) => r.value)).toEqual([{ n: 1 }, "two", 3]);
    expect(fetched.nextOffset).toBe(3);

    const binary = await admin.fetchBinary("admin-records", 1, { offset: 0 });
    expect(binary.nextOffset).toBe(3);
    expect(binary.highWatermark).toBe(3);
    expect(binary.batches.length).toBeGreaterThan(61);
    const empty = await admin.fetchBinary("admin-records", 0, { offset: 0 });
    expect(empty.batches.length).toBe(0);

    expect(await admin.offset("admin-records", 1, "earliest")).toEqual({ offset: 0 });
    expect(await admin.offset("admin-records", 1, "latest")).toEqual({ offset: 3 });
    expect((await admin.offset("admin-records", 1, new Date(START_MS + 5))).offset).toBe(1);
  });

  test("a long poll waits past the client's own timeout when asked to", async () => {
    await admin.createTopic("admin-poll");
    const patient = new SluiceAdmin({ baseUrl: admin.http.baseUrl, timeoutMs: 50 });
    const poll = patient.fetch("admin-poll", 0, { offset: 0, maxWaitMs: 5_000 });
    // Past the client's 50 ms, within its 50 + 5000: the server's clock then ends the wait.
    await Bun.sleep(150);
    node.clock.advance(5_000);
    expect((await poll).records).toEqual([]);
  });

  test("raw produce of client-built batches, and idempotent producer ids", async () => {
    await admin.createTopic("admin-raw");
    const { producerId, producerEpoch } = await admin.initProducer();
    const batch = encodeBatch([{ value: utf8("a") }, { value: utf8("b") }], {
      producerId,
      producerEpoch,
      baseSequence: 0,
    });
    const first = await admin.produceBatches("admin-raw", 0, batch.slice());
    expect(first?.batches[0]).toMatchObject({ baseOffset: 0, lastOffset: 1 });
    const retry = await admin.produceBatches("admin-raw", 0, batch.slice());
    expect(retry?.batches[0]).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: true });
    const bumped = await admin.initProducer({ producerId, producerEpoch });
    expect(bumped).toEqual({ producerId, producerEpoch: producerEpoch + 1 });
    const corrupt = batch.slice();
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect((await rejection(admin.produceBatches("admin-raw", 0, corrupt))).name).toBe("CORRUPT_MESSAGE");
  });
});

describe("groups", () => {
  test("commit, read, describe, list, reset, delete", async () => {
    await admin.createTopic("admin-groups", { partitions: 2 });
    await admin.produce("admin-groups", [
      { value: 1, partition: 0 },
      { value: 2, partition: 0 },
    ]);
    const committed = await admin.commitOffsets("admin-g", [
      { topic: "admin-groups", partition: 0, offset: 1 },
    ]);
    expect(committed).toMatchObject([{ topic: "admin-groups", partition: 0, offset: 1 }]);
    expect(await admin.committedOffsets("admin-g", "admin-groups")).toMatchObject([{ offset: 1 }]);
    const described = await admin.describeGroup("admin-g");
    expect(described.partitions).toMatchObject([
      { partition: 0, committedOffset: 1, logEndOffset: 2, lag: 1 },
    ]);
    expect((await admin.listGroups()).map((g) => g.group)).toContain("admin-g");
    const reset = await admin.resetOffsets("admin-g", {
      to: "latest",
      topic: "admin-groups",
      partitions: [0],
    });
    expect(reset).toMatchObject([{ partition: 0, offset: 2 }]);
    await admin.deleteGroup("admin-g");
    expect((await rejection(admin.describeGroup("admin-g"))).name).toBe("GROUP_ID_NOT_FOUND");
  });
});

describe("operations and transport", () => {
  test("healthz, readyz, metrics", async () => {
    expect(await admin.healthz()).toEqual({ status: "ok" });
    expect((await admin.readyz()).status).toBe("ready");
    expect(await admin.metrics()).toContain("sluice_");
  });

  test("a token goes as a bearer header; timeouts and dead ports are typed errors", async () => {
    const seen: Array<string | null> = [];
    // A listener that never answers in time, to watch the header and the timeout.
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        seen.push(request.headers.get("authorization"));
        await Bun.sleep(500);
        return new Response("late");
      },
    });
    try {
      const slow = new SluiceAdmin({
        baseUrl: `http://127.0.0.1:${server.port}`,
        token: "s3cret",
        timeoutMs: 50,
      });
      const timeout = await rejection(slow.healthz());
      expect({ name: timeout.name, status: timeout.status, code: timeout.code }).toEqual({
        name: "TIMEOUT",
        status: 0,
        code: 0,
      });
      expect(seen).toEqual(["Bearer s3cret"]);
    } finally {
      await server.stop(true);
    }
    const dead = new SluiceAdmin({ baseUrl: `http://127.0.0.1:${server.port}`, timeoutMs: 2000 });
    expect((await rejection(dead.healthz())).name).toBe("NETWORK_ERROR");
  });

  test("an answer that is not Sluice's error body still becomes a typed error", async () => {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("<html>bad gateway</html>", { status: 502 }),
    });
    try {
      const proxied = new SluiceAdmin({ baseUrl: `http://127.0.0.1:${server.port}/` });
      const error = await rejection(proxied.listTopics());
      expect({ name: error.name, status: error.status }).toEqual({ name: "BAD_RESPONSE", status: 502 });
      expect(error.message).toContain("bad gateway");
    } finally {
      await server.stop(true);
    }
  });
});
