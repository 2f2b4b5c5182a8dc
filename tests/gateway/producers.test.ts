// Idempotent producers over HTTP: ids and epochs from POST /producers, unique across restarts; a
// retried JSON or raw produce is stored once and answered with the first attempt's offsets; gaps and
// fenced epochs are refused; producer state survives a clean and an unclean restart.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorName } from "../../lib/errors.ts";
import { partitionForKey } from "../../lib/gateway/partitioner.ts";
import { PRODUCER_IDS_FILE } from "../../lib/gateway/producer-ids.ts";
import { PRODUCER_ID_BLOCK_SIZE } from "../../lib/limits.ts";
import { utf8 } from "../../lib/log/record-batch.ts";
import { tempDir } from "../log/helpers.ts";
import { producerBatch } from "../log/producer-state-helpers.ts";
import { createTopic, expectError, fetchAll, sendJson, startNode, type TestNode } from "./helpers.ts";

interface ProducerAnswer {
  producerId: number;
  producerEpoch: number;
}

async function initProducer(node: TestNode, body?: unknown): Promise<ProducerAnswer> {
  const response =
    body === undefined
      ? await fetch(`${node.api}/producers`, { method: "POST" })
      : await sendJson(`${node.api}/producers`, body);
  expect(response.status).toBe(200);
  return (await response.json()) as ProducerAnswer;
}

function produceAs(
  node: TestNode,
  topic: string,
  producer: ProducerAnswer & { baseSequences: Record<string, number> },
  values: string[],
  partition = 0,
): Promise<Response> {
  return sendJson(`${node.api}/topics/${topic}/records`, {
    producer,
    records: values.map((value) => ({ value, partition })),
  });
}

function postBatches(node: TestNode, topic: string, batches: Uint8Array[]): Promise<Response> {
  return fetch(`${node.api}/topics/${topic}/partitions/0/batches`, {
    method: "POST",
    headers: { "content-type": "application/vnd.kafka.recordbatch" },
    body: Buffer.concat(batches),
  });
}

describe("producer ids", () => {
  test("each call hands out a new id with epoch 0, and ids stay unique across restarts", async () => {
    using dir = tempDir("sluice-producers-");
    const seen = new Set<number>();
    for (const clean of [true, false, true]) {
      const node = startNode({ dataDir: dir.path });
      for (let i = 0; i < 5; i++) {
        const answer = await initProducer(node, i % 2 === 0 ? undefined : {});
        expect(answer.producerEpoch).toBe(0);
        expect(seen.has(answer.producerId)).toBe(false);
        seen.add(answer.producerId);
      }
      await node.stop({ clean });
    }
    expect(seen.size).toBe(15);
    // One block reserved per run: the id file is written per block, not per id.
    const file = JSON.parse(readFileSync(join(dir.path, PRODUCER_IDS_FILE), "utf8"));
    expect(file.nextProducerId).toBe(3 * PRODUCER_ID_BLOCK_SIZE);
  });

  test("bumping an id's epoch fences the old epoch on the partitions the new one writes to", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "fence");
    const old = await initProducer(node);
    expect((await produceAs(node, "fence", { ...old, baseSequences: { 0: 0 } }, ["a"])).status).toBe(200);

    const bumped = await initProducer(node, { producerId: old.producerId, producerEpoch: 0 });
    expect(bumped).toEqual({ producerId: old.producerId, producerEpoch: 1 });
    expect((await produceAs(node, "fence", { ...bumped, baseSequences: { 0: 0 } }, ["b"])).status).toBe(200);

    const zombie = await produceAs(node, "fence", { ...old, baseSequences: { 0: 1 } }, ["c"]);
    await expectError(zombie, 409, "INVALID_PRODUCER_EPOCH");
    // Asking to bump from the fenced epoch is refused too; the current holder may bump again.
    const stale = await sendJson(`${node.api}/producers`, { producerId: old.producerId, producerEpoch: 0 });
    await expectError(stale, 409, "INVALID_PRODUCER_EPOCH", "producerEpoch");
    expect(await initProducer(node, { producerId: old.producerId })).toEqual({
      producerId: old.producerId,
      producerEpoch: 2,
    });
    expect((await fetchAll(node, "fence", 0)).map((record) => record.value)).toEqual(["a", "b"]);
  });

  test("an epoch bump survives a restart, and an id never issued is refused", async () => {
    using dir = tempDir("sluice-producers-");
    const first = startNode({ dataDir: dir.path });
    const { producerId } = await initProducer(first);
    await initProducer(first, { producerId });
    await first.stop({ clean: true });

    await using second = startNode({ dataDir: dir.path });
    expect(await initProducer(second, { producerId })).toEqual({ producerId, producerEpoch: 2 });
    const unknown = await sendJson(`${second.api}/producers`, { producerId: 10 * PRODUCER_ID_BLOCK_SIZE });
    await expectError(unknown, 400, "INVALID_REQUEST", "producerId");
    const epochAlone = await sendJson(`${second.api}/producers`, { producerEpoch: 3 });
    await expectError(epochAlone, 400, "INVALID_REQUEST", "producerEpoch");
  });
});

describe("bad inputs", () => {
  test("each bad producer input is answered with its code and field, and the node keeps serving", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "bad");
    const producer = await initProducer(node);
    const post = (path: string, body: string, contentType = "application/json") =>
      fetch(`${node.api}${path}`, { method: "POST", headers: { "content-type": contentType }, body });
    const produceWith = (baseSequences: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        producer: { ...producer, baseSequences, ...extra },
        records: [{ value: 1, partition: 0 }],
      });
    const cases: Array<[string, string, string | undefined, number, ErrorName, string]> = [
      ["/producers", '{"producerId": "7"}', undefined, 400, "INVALID_REQUEST", "producerId"],
      ["/producers", '{"producerId": -1}', undefined, 400, "INVALID_REQUEST", "producerId"],
      ["/producers", '{"producerId": 1e300}', undefined, 400, "INVALID_REQUEST", "producerId"],
      [
        "/producers",
        '{"producerId": 0, "producerEpoch": 40000}',
        undefined,
        400,
        "INVALID_REQUEST",
        "producerEpoch",
      ],
      ["/producers", '{"transactionalId": "t"}', undefined, 400, "INVALID_REQUEST", "transactionalId"],
      ["/producers", "{not json", undefined, 400, "INVALID_REQUEST", "body"],
      ["/producers", "{}", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", "content-type"],
      [
        "/topics/bad/records",
        produceWith({ 0: -1 }),
        undefined,
        400,
        "INVALID_REQUEST",
        "producer.baseSequences.0",
      ],
      [
        "/topics/bad/records",
        produceWith({ 0: 2 ** 31 }),
        undefined,
        400,
        "INVALID_REQUEST",
        "producer.baseSequences.0",
      ],
      [
        "/topics/bad/records",
        produceWith({ x: 0 }),
        undefined,
        400,
        "INVALID_REQUEST",
        "producer.baseSequences.x",
      ],
      [
        "/topics/bad/records",
        produceWith({ 0: 0 }, { producerEpoch: -1 }),
        undefined,
        400,
        "INVALID_REQUEST",
        "producer.producerEpoch",
      ],
      [
        "/topics/bad/records",
        produceWith({ 0: 0 }, { extra: 1 }),
        undefined,
        400,
        "INVALID_REQUEST",
        "producer.extra",
      ],
    ];
    for (const [path, body, contentType, status, name, field] of cases) {
      await expectError(await post(path, body, contentType), status, name, field);
    }
    expect(node.logs.partition("bad", 0).logEndOffset).toBe(0);
    // An empty POST with a JSON type asks for a new id, like one with no body at all.
    expect((await post("/producers", "")).status).toBe(200);
    expect((await produceAs(node, "bad", { ...producer, baseSequences: { 0: 0 } }, ["ok"])).status).toBe(200);
  });
});

describe("idempotent JSON produce", () => {
  test("a retried produce is stored once and answered with the same offsets", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "orders", { partitions: 2 });
    const producer = await initProducer(node);
    const body = {
      producer: { ...producer, baseSequences: { 0: 0, 1: 0 } },
      records: [
        { value: "a", partition: 0 },
        { value: "b", partition: 1 },
        { value: "c", partition: 0 },
      ],
    };
    const first = await sendJson(`${node.api}/topics/orders/records`, body);
    expect(first.status).toBe(200);
    const firstAnswer = (await first.json()) as { offsets: unknown; partitions: Array<{ duplicate?: true }> };
    expect(firstAnswer.partitions.every((partition) => partition.duplicate === undefined)).toBe(true);

    const retry = await sendJson(`${node.api}/topics/orders/records`, body);
    expect(retry.status).toBe(200);
    const retryAnswer = (await retry.json()) as typeof firstAnswer;
    expect(retryAnswer.offsets).toEqual(firstAnswer.offsets);
    expect(retryAnswer.partitions).toEqual(
      firstAnswer.partitions.map((partition) => ({ ...partition, duplicate: true })),
    );
    expect((await fetchAll(node, "orders", 0)).map((record) => record.value)).toEqual(["a", "c"]);
    expect((await fetchAll(node, "orders", 1)).map((record) => record.value)).toEqual(["b"]);

    // The next request goes on where each partition's records ended.
    const next = await produceAs(node, "orders", { ...producer, baseSequences: { 0: 2 } }, ["d"]);
    expect(((await next.json()) as { offsets: unknown }).offsets).toEqual([{ partition: 0, offset: 2 }]);
  });

  test("a sequence gap answers 409 OUT_OF_ORDER_SEQUENCE_NUMBER and writes no partition", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "gaps", { partitions: 2 });
    const producer = await initProducer(node);
    await produceAs(node, "gaps", { ...producer, baseSequences: { 1: 0 } }, ["x"], 1);
    const response = await sendJson(`${node.api}/topics/gaps/records`, {
      producer: { ...producer, baseSequences: { 0: 0, 1: 5 } },
      records: [
        { value: "a", partition: 0 },
        { value: "b", partition: 1 },
      ],
    });
    await expectError(response, 409, "OUT_OF_ORDER_SEQUENCE_NUMBER", "records");
    expect(node.logs.partition("gaps", 0).logEndOffset).toBe(0);
    expect(node.logs.partition("gaps", 1).logEndOffset).toBe(1);
  });

  test("every record needs a partition or a key, and every partition written a base sequence", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "shape", { partitions: 2 });
    const producer = await initProducer(node);
    const post = (body: unknown) => sendJson(`${node.api}/topics/shape/records`, body);
    await expectError(
      await post({ producer: { ...producer, baseSequences: { 0: 0 } }, records: [{ value: "keyless" }] }),
      400,
      "INVALID_REQUEST",
      "records[0].partition",
    );
    await expectError(
      await post({ producer: { ...producer, baseSequences: {} }, records: [{ value: "a", partition: 1 }] }),
      400,
      "INVALID_REQUEST",
      "producer.baseSequences.1",
    );
    await expectError(
      await post({
        producer: { ...producer, baseSequences: { 0: 0, 1: 0 } },
        records: [{ value: "a", partition: 1 }],
      }),
      400,
      "INVALID_REQUEST",
      "producer.baseSequences.0",
    );
    await expectError(
      await post({
        producer: { producerId: producer.producerId, baseSequences: { 0: 0 } },
        records: [{ value: "a" }],
      }),
      400,
      "INVALID_REQUEST",
      "producer.producerEpoch",
    );
    // A keyed record goes where Kafka's partitioner puts it, so a retry lands there too.
    const keys = ["k1", "k2", "k3", "k4"];
    const baseSequences: Record<string, number> = {};
    for (const key of keys) baseSequences[partitionForKey(utf8(key), 2)] = 0;
    const keyedBody = {
      keyFormat: "text",
      producer: { ...producer, baseSequences },
      records: keys.map((key) => ({ key, value: key })),
    };
    const keyed = await post(keyedBody);
    expect(keyed.status).toBe(200);
    const again = await post(keyedBody);
    expect(((await again.json()) as { offsets: unknown }).offsets).toEqual(
      ((await keyed.json()) as { offsets: unknown }).offsets,
    );
  });
});

describe("idempotent raw produce", () => {
  test("a retried raw batch answers its original offsets and is stored once", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "raw");
    const batches = () => [
      producerBatch({ producerId: 77, sequence: 0, count: 2, label: "a" }),
      producerBatch({ producerId: 77, sequence: 2, count: 1, label: "b" }),
    ];
    const first = await postBatches(node, "raw", batches());
    expect(first.status).toBe(200);
    const firstAnswer = (await first.json()) as { batches: Array<Record<string, unknown>> };
    expect(firstAnswer.batches.map((batch) => batch.baseOffset)).toEqual([0, 2]);

    const retry = await postBatches(node, "raw", batches());
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as typeof firstAnswer).batches).toEqual(
      firstAnswer.batches.map((batch) => ({ ...batch, duplicate: true })),
    );
    expect((await fetchAll(node, "raw", 0)).map((record) => record.value)).toEqual(["a0", "a1", "b0"]);
  });

  test("a body whose second batch is out of order writes neither batch", async () => {
    using dir = tempDir("sluice-producers-");
    await using node = startNode({ dataDir: dir.path });
    await createTopic(node, "raw-gap");
    const response = await postBatches(node, "raw-gap", [
      producerBatch({ producerId: 78, sequence: 0 }),
      producerBatch({ producerId: 78, sequence: 2 }),
    ]);
    await expectError(response, 409, "OUT_OF_ORDER_SEQUENCE_NUMBER", "batches[1]");
    expect(node.logs.partition("raw-gap", 0).logEndOffset).toBe(0);
  });
});

describe("producer state across restarts", () => {
  for (const clean of [true, false]) {
    test(`a retry after ${clean ? "a clean" : "an unclean"} restart is still answered with the first offsets`, async () => {
      using dir = tempDir("sluice-producers-");
      const first = startNode({ dataDir: dir.path });
      await createTopic(first, "durable");
      const producer = await initProducer(first);
      const body = { ...producer, baseSequences: { 0: 0 } };
      await produceAs(first, "durable", { ...producer, baseSequences: { 0: 0 } }, ["before"]);
      const original = await produceAs(first, "durable", { ...body, baseSequences: { 0: 1 } }, ["x", "y"]);
      const originalAnswer = (await original.json()) as { offsets: unknown };
      await first.stop({ clean });

      await using second = startNode({ dataDir: dir.path });
      expect(second.logs.recovery.cleanShutdown).toBe(clean);
      const retry = await produceAs(second, "durable", { ...body, baseSequences: { 0: 1 } }, ["x", "y"]);
      expect(retry.status).toBe(200);
      expect(((await retry.json()) as { offsets: unknown }).offsets).toEqual(originalAnswer.offsets);
      expect((await fetchAll(second, "durable", 0)).map((record) => record.value)).toEqual([
        "before",
        "x",
        "y",
      ]);
      const gap = await produceAs(second, "durable", { ...body, baseSequences: { 0: 9 } }, ["z"]);
      await expectError(gap, 409, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    });
  }
});
