// A token's produce rate: bytes/s and records/s buckets that a produce may overdraw once, after which
// the token's produces are answered 429 PRODUCE_RATE_LIMITED with a Retry-After until the debt is paid
// off in time (on the node's ManualClock). Over HTTP (JSON and raw batches) and over the WebSocket.
import { afterEach, describe, expect, test } from "bun:test";
import type { ManualClock } from "../../lib/clock.ts";
import { ERRORS } from "../../lib/errors.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { parseExposition } from "../metrics/exposition-parser.ts";
import { StreamClient } from "../ws/helpers.ts";
import { ADMIN_SECRET, type AuthNode, createToken, request, startAuthNode } from "./helpers.ts";

const TOPIC = "data.t";
let node: AuthNode;

afterEach(() => node.close());

async function start(options: Parameters<typeof startAuthNode>[0] = {}): Promise<void> {
  node = startAuthNode(options);
  const created = await request(`${node.api}/topics`, {
    method: "POST",
    secret: ADMIN_SECRET,
    body: { name: TOPIC },
  });
  expect(created.status).toBe(201);
}

const produce = (secret: string, count: number, valueBytes = 10) =>
  request(`${node.api}/topics/${TOPIC}/records`, {
    method: "POST",
    secret,
    body: { records: Array.from({ length: count }, () => ({ value: "x".repeat(valueBytes) })) },
  });

async function rateLimitHits(): Promise<number> {
  const families = parseExposition(await (await fetch(`${node.root}/metrics`)).text());
  return (
    families.get("sluice_limit_hits_total")?.samples.find((s) => s.labels.limit === "produce_rate")?.value ??
    0
  );
}

async function expectLimited(response: Response, retryAfterS: number): Promise<void> {
  const body = (await response.json()) as { error: { code: number; name: string } };
  expect({ status: response.status, name: body.error.name, code: body.error.code }).toEqual({
    status: 429,
    name: "PRODUCE_RATE_LIMITED",
    code: ERRORS.PRODUCE_RATE_LIMITED.code,
  });
  expect(response.headers.get("retry-after")).toBe(String(retryAfterS));
}

describe("produce rate per token", () => {
  test("records/s: one request may overdraw; the next waits until the debt is paid, then goes", async () => {
    await start();
    const secret = await createToken(node, "meter", [{ role: "produce", topics: "*" }], {
      produceRecordsPerSecond: 10,
    });
    const clock = node.clock as ManualClock;
    expect((await produce(secret, 25)).status).toBe(200);
    // 10 in the bucket, 25 charged: 15 records of debt, 1.5 s at 10/s.
    await expectLimited(await produce(secret, 1), 2);
    expect(await rateLimitHits()).toBe(1);
    clock.advance(1400);
    await expectLimited(await produce(secret, 1), 1);
    clock.advance(100);
    expect((await produce(secret, 1)).status).toBe(200);
    // Other tokens have their own buckets; the admin here has none.
    expect((await produce(ADMIN_SECRET, 100)).status).toBe(200);
  });

  test("bytes/s counts the request body, raw batches included, and acks=0 is charged too", async () => {
    await start();
    const secret = await createToken(node, "bytes", [{ role: "produce", topics: "*" }], {
      produceBytesPerSecond: 1000,
    });
    const clock = node.clock as ManualClock;
    const batch = encodeBatch([{ value: utf8("y".repeat(1900)) }], { timestampMs: 0 }).slice();
    const raw = await request(`${node.api}/topics/${TOPIC}/partitions/0/batches?acks=0`, {
      method: "POST",
      secret,
      body: batch,
      headers: { "content-type": "application/vnd.kafka.recordbatch" },
    });
    expect(raw.status).toBe(202);
    // About 1000 bytes of debt: 1 s.
    await expectLimited(await produce(secret, 1), 1);
    clock.advance(Math.ceil(((batch.length - 1000) / 1000) * 1000));
    expect((await produce(secret, 1)).status).toBe(200);
  });

  test("the node's default rate applies to tokens that set none, and a token's own rate overrides it", async () => {
    await start({ access: { defaultRates: { bytesPerSecond: 0, recordsPerSecond: 5 } } });
    const plain = await createToken(node, "plain", [{ role: "produce", topics: "*" }]);
    const unlimited = await createToken(node, "unlimited", [{ role: "produce", topics: "*" }], {
      produceRecordsPerSecond: 0,
    });
    expect((await produce(plain, 6)).status).toBe(200);
    expect((await produce(plain, 1)).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await produce(unlimited, 100)).status).toBe(200);
    const whoami = await request(`${node.api}/whoami`, { secret: plain });
    expect(await whoami.json()).toMatchObject({
      name: "plain",
      produceRecordsPerSecond: 5,
      produceBytesPerSecond: 0,
    });
  });

  test("over the WebSocket a limited produce frame gets an error frame and the connection goes on", async () => {
    await start();
    const secret = await createToken(
      node,
      "ws",
      [
        { role: "produce", topics: "*" },
        { role: "consume", topics: "*" },
      ],
      {
        produceRecordsPerSecond: 2,
      },
    );
    const client = await StreamClient.connect(`${node.wsUrl}?access_token=${secret}`);
    client.send({
      type: "produce",
      requestId: 1,
      topic: TOPIC,
      records: [{ value: 1 }, { value: 2 }, { value: 3 }],
    });
    await client.expectFrame("produced");
    client.send({ type: "produce", requestId: 2, topic: TOPIC, records: [{ value: 4 }] });
    await client.expectError("PRODUCE_RATE_LIMITED", { requestId: 2 });
    client.send({
      type: "subscribe",
      id: 1,
      topic: TOPIC,
      partition: 0,
      from: "earliest",
      credit: { records: 3 },
    });
    await client.expectFrame("subscribed");
    expect((await client.collectRecords(1, 3)).map((r) => r.value)).toEqual([1, 2, 3]);
    (node.clock as ManualClock).advance(500);
    client.send({ type: "produce", requestId: 3, topic: TOPIC, records: [{ value: 5 }] });
    await client.expectFrame("produced");
    expect(await rateLimitHits()).toBe(1);
    client.close();
  });
});
