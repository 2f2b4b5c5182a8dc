// A table of bad frames, each answered with its error code (naming the field, and the frame's id or
// requestId when those were readable) while a subscription on the same socket keeps receiving, and
// another client on another socket never notices.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ErrorName } from "../../lib/errors.ts";
import { RECORDS_PER_REQUEST_MAX, WS_FRAME_BYTES_MAX } from "../../lib/gateway/limits.ts";
import { OFFSETS_PER_COMMIT_MAX, REBALANCE_TIMEOUT_MS_MAX } from "../../lib/groups/limits.ts";
import { createTopic, produce } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode, subscribe } from "./helpers.ts";

const node = startStreamNode();
let client: StreamClient;
let bystander: StreamClient;
let produced = 0;

beforeAll(async () => {
  await createTopic(node, "good");
  await createTopic(node, "small", { config: { "max.message.bytes": 200 } });
  await produce(node, "good", { records: [{ value: "seed" }] });
  client = await StreamClient.connect(node.wsUrl);
  bystander = await StreamClient.connect(node.wsUrl);
  const unlimited = { records: Number.MAX_SAFE_INTEGER };
  for (const c of [client, bystander]) {
    await subscribe(c, { id: 1, topic: "good", partition: 0, from: "latest", credit: unlimited });
  }
});

afterAll(async () => {
  client.close();
  bystander.close();
  await node.close();
});

/** One record to "good": the subscription on `on` must get it next. */
async function expectStillReceiving(on: StreamClient): Promise<void> {
  const value = `after-${produced++}`;
  await produce(node, "good", { records: [{ value }] });
  const frame = await on.expectFrame("records");
  expect({ id: frame.id, values: frame.records.map((r) => r.value) }).toEqual({ id: 1, values: [value] });
}

interface BadFrame {
  name: string;
  frame: unknown;
  error: ErrorName;
  field?: string;
  id?: number;
  requestId?: string | number;
}

const subscribeTo = (fields: Record<string, unknown>) => ({
  type: "subscribe",
  id: 2,
  topic: "good",
  partition: 0,
  from: "earliest",
  ...fields,
});
const produceTo = (fields: Record<string, unknown>) => ({
  type: "produce",
  requestId: "r",
  topic: "good",
  records: [{ value: 1 }],
  ...fields,
});

const joinTo = (fields: Record<string, unknown>) => ({
  type: "join",
  requestId: "j",
  group: "g",
  topics: ["good"],
  ...fields,
});
const commitTo = (fields: Record<string, unknown>) => ({
  type: "commit",
  requestId: 7,
  group: "g",
  offsets: [{ topic: "good", partition: 0, offset: 1 }],
  ...fields,
});

const cases: BadFrame[] = [
  // Not a frame at all
  { name: "not JSON", frame: '{"type":', error: "INVALID_REQUEST", field: "frame" },
  { name: "a JSON array", frame: "[1,2]", error: "INVALID_REQUEST", field: "frame" },
  { name: "JSON null", frame: "null", error: "INVALID_REQUEST", field: "frame" },
  { name: "a JSON string", frame: '"subscribe"', error: "INVALID_REQUEST", field: "frame" },
  { name: "no type", frame: { id: 3 }, error: "INVALID_REQUEST", field: "type", id: 3 },
  {
    name: "an unknown type",
    frame: { type: "fetch", id: 3 },
    error: "INVALID_REQUEST",
    field: "type",
    id: 3,
  },
  { name: "a type that is not a string", frame: { type: 5 }, error: "INVALID_REQUEST", field: "type" },
  // subscribe
  { name: "subscribe: id a string", frame: subscribeTo({ id: "a" }), error: "INVALID_REQUEST", field: "id" },
  { name: "subscribe: id negative", frame: subscribeTo({ id: -1 }), error: "INVALID_REQUEST", field: "id" },
  {
    name: "subscribe: id past uint32",
    frame: subscribeTo({ id: 2 ** 32 }),
    error: "INVALID_REQUEST",
    field: "id",
  },
  {
    name: "subscribe: no topic",
    frame: subscribeTo({ topic: undefined }),
    error: "INVALID_REQUEST",
    field: "topic",
    id: 2,
  },
  {
    name: "subscribe: partition negative",
    frame: subscribeTo({ partition: -1 }),
    error: "INVALID_REQUEST",
    field: "partition",
    id: 2,
  },
  {
    name: "subscribe: partition fractional",
    frame: subscribeTo({ partition: 0.5 }),
    error: "INVALID_REQUEST",
    field: "partition",
    id: 2,
  },
  {
    name: "subscribe: unknown topic",
    frame: subscribeTo({ topic: "nope" }),
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    id: 2,
  },
  {
    name: "subscribe: unknown partition",
    frame: subscribeTo({ partition: 7 }),
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    id: 2,
  },
  {
    name: "subscribe: no from",
    frame: subscribeTo({ from: undefined }),
    error: "INVALID_REQUEST",
    field: "from",
    id: 2,
  },
  {
    name: "subscribe: from a word",
    frame: subscribeTo({ from: "middle" }),
    error: "INVALID_REQUEST",
    field: "from",
    id: 2,
  },
  {
    name: "subscribe: negative offset",
    frame: subscribeTo({ from: { offset: -1 } }),
    error: "INVALID_REQUEST",
    field: "from.offset",
    id: 2,
  },
  {
    name: "subscribe: offset past 2^53",
    frame: subscribeTo({ from: { offset: 2 ** 60 } }),
    error: "INVALID_REQUEST",
    field: "from.offset",
    id: 2,
  },
  {
    name: "subscribe: offset past the log end",
    frame: subscribeTo({ from: { offset: 999 } }),
    error: "OFFSET_OUT_OF_RANGE",
    field: "from.offset",
    id: 2,
  },
  {
    name: "subscribe: timestamp a string",
    frame: subscribeTo({ from: { timestamp: "now" } }),
    error: "INVALID_REQUEST",
    field: "from",
    id: 2,
  },
  {
    name: "subscribe: unknown format",
    frame: subscribeTo({ format: "xml" }),
    error: "INVALID_REQUEST",
    field: "format",
    id: 2,
  },
  {
    name: "subscribe: unknown keyFormat",
    frame: subscribeTo({ keyFormat: "hex" }),
    error: "INVALID_REQUEST",
    field: "keyFormat",
    id: 2,
  },
  {
    name: "subscribe: an unknown field",
    frame: subscribeTo({ group: "g" }),
    error: "INVALID_REQUEST",
    field: "group",
    id: 2,
  },
  {
    name: "subscribe: empty credit",
    frame: subscribeTo({ credit: {} }),
    error: "INVALID_REQUEST",
    field: "credit",
    id: 2,
  },
  {
    name: "subscribe: an id in use",
    frame: subscribeTo({ id: 1 }),
    error: "SUBSCRIPTION_EXISTS",
    field: "id",
    id: 1,
  },
  // credit
  {
    name: "credit: unknown id",
    frame: { type: "credit", id: 9, records: 1 },
    error: "UNKNOWN_SUBSCRIPTION",
    field: "id",
    id: 9,
  },
  {
    name: "credit: nothing granted",
    frame: { type: "credit", id: 1 },
    error: "INVALID_REQUEST",
    field: "records",
    id: 1,
  },
  {
    name: "credit: zero records",
    frame: { type: "credit", id: 1, records: 0 },
    error: "INVALID_REQUEST",
    field: "records",
    id: 1,
  },
  {
    name: "credit: negative bytes",
    frame: { type: "credit", id: 1, bytes: -5 },
    error: "INVALID_REQUEST",
    field: "bytes",
    id: 1,
  },
  {
    name: "credit: records as a string",
    frame: { type: "credit", id: 1, records: "10" },
    error: "INVALID_REQUEST",
    field: "records",
    id: 1,
  },
  {
    name: "credit: fractional bytes",
    frame: { type: "credit", id: 1, bytes: 1.5 },
    error: "INVALID_REQUEST",
    field: "bytes",
    id: 1,
  },
  {
    name: "credit: past 2^53",
    frame: { type: "credit", id: 1, records: 2 ** 60 },
    error: "INVALID_REQUEST",
    field: "records",
    id: 1,
  },
  // unsubscribe
  {
    name: "unsubscribe: unknown id",
    frame: { type: "unsubscribe", id: 9 },
    error: "UNKNOWN_SUBSCRIPTION",
    field: "id",
    id: 9,
  },
  { name: "unsubscribe: no id", frame: { type: "unsubscribe" }, error: "INVALID_REQUEST", field: "id" },
  // produce
  {
    name: "produce: unknown topic",
    frame: produceTo({ topic: "nope" }),
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    requestId: "r",
  },
  {
    name: "produce: no requestId",
    frame: produceTo({ requestId: undefined }),
    error: "INVALID_REQUEST",
    field: "requestId",
  },
  {
    name: "produce: requestId too long",
    frame: produceTo({ requestId: "x".repeat(65) }),
    error: "INVALID_REQUEST",
    field: "requestId",
  },
  {
    name: "produce: no records",
    frame: produceTo({ records: [] }),
    error: "INVALID_REQUEST",
    field: "records",
    requestId: "r",
  },
  {
    name: "produce: a record without value",
    frame: produceTo({ records: [{ key: "k" }] }),
    error: "INVALID_REQUEST",
    field: "records[0].value",
    requestId: "r",
  },
  {
    name: "produce: a bad acks",
    frame: produceTo({ acks: 2 }),
    error: "INVALID_REQUEST",
    field: "acks",
    requestId: "r",
  },
  {
    name: "produce: bad base64",
    frame: produceTo({ valueFormat: "base64", records: [{ value: "@@" }] }),
    error: "INVALID_REQUEST",
    field: "records[0].value",
    requestId: "r",
  },
  {
    name: "produce: a partition the topic lacks",
    frame: produceTo({ records: [{ value: 1, partition: 3 }] }),
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "records[0].partition",
    requestId: "r",
  },
  {
    name: "produce: a lone surrogate in a header",
    frame: produceTo({ records: [{ value: 1, headers: { h: "\ud800" } }] }),
    error: "INVALID_REQUEST",
    field: "records[0].headers.h",
    requestId: "r",
  },
  {
    name: "produce: a batch over max.message.bytes",
    frame: produceTo({ topic: "small", records: [{ value: "x".repeat(500) }] }),
    error: "MESSAGE_TOO_LARGE",
    field: "records",
    requestId: "r",
  },
  {
    name: "produce: too many records",
    frame: produceTo({ records: Array(RECORDS_PER_REQUEST_MAX + 1).fill(0) }),
    error: "REQUEST_TOO_LARGE",
    field: "records",
    requestId: "r",
  },
  // join
  {
    name: "join: no requestId",
    frame: joinTo({ requestId: undefined }),
    error: "INVALID_REQUEST",
    field: "requestId",
  },
  {
    name: "join: no group",
    frame: joinTo({ group: undefined }),
    error: "INVALID_REQUEST",
    field: "group",
    requestId: "j",
  },
  {
    name: "join: a group id over 255 bytes",
    frame: joinTo({ group: "é".repeat(128) }),
    error: "INVALID_GROUP_ID",
    field: "group",
    requestId: "j",
  },
  {
    name: "join: a group id with a lone surrogate",
    frame: joinTo({ group: "g\ud800" }),
    error: "INVALID_GROUP_ID",
    field: "group",
    requestId: "j",
  },
  {
    name: "join: no topics",
    frame: joinTo({ topics: [] }),
    error: "INVALID_REQUEST",
    field: "topics",
    requestId: "j",
  },
  {
    name: "join: topics a string",
    frame: joinTo({ topics: "good" }),
    error: "INVALID_REQUEST",
    field: "topics",
    requestId: "j",
  },
  {
    name: "join: a session timeout below Kafka's minimum",
    frame: joinTo({ sessionTimeoutMs: 10 }),
    error: "INVALID_SESSION_TIMEOUT",
    field: "sessionTimeoutMs",
    requestId: "j",
  },
  {
    name: "join: a fractional session timeout",
    frame: joinTo({ sessionTimeoutMs: 6000.5 }),
    error: "INVALID_REQUEST",
    field: "sessionTimeoutMs",
    requestId: "j",
  },
  {
    name: "join: a rebalance timeout past its maximum",
    frame: joinTo({ rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS_MAX + 1 }),
    error: "INVALID_REQUEST",
    field: "rebalanceTimeoutMs",
    requestId: "j",
  },
  {
    name: "join: an unknown assignor",
    frame: joinTo({ assignor: "sticky" }),
    error: "INVALID_REQUEST",
    field: "assignor",
    requestId: "j",
  },
  {
    name: "join: a clientId with a lone surrogate",
    frame: joinTo({ clientId: "c\udc00" }),
    error: "INVALID_REQUEST",
    field: "clientId",
    requestId: "j",
  },
  {
    name: "join: a memberId this connection never joined",
    frame: joinTo({ memberId: "someone-else" }),
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
    requestId: "j",
  },
  {
    name: "join: an unknown field",
    frame: joinTo({ partition: 0 }),
    error: "INVALID_REQUEST",
    field: "partition",
    requestId: "j",
  },
  // heartbeat
  {
    name: "heartbeat: no memberId",
    frame: { type: "heartbeat", requestId: 5, group: "g", generationId: 1 },
    error: "INVALID_REQUEST",
    field: "memberId",
    requestId: 5,
  },
  {
    name: "heartbeat: a negative generation",
    frame: { type: "heartbeat", group: "g", memberId: "m", generationId: -1 },
    error: "INVALID_REQUEST",
    field: "generationId",
  },
  {
    name: "heartbeat: a generation as a string",
    frame: { type: "heartbeat", group: "g", memberId: "m", generationId: "1" },
    error: "INVALID_REQUEST",
    field: "generationId",
  },
  {
    name: "heartbeat: a member this connection never joined",
    frame: { type: "heartbeat", requestId: 5, group: "g", memberId: "m", generationId: 1 },
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
    requestId: 5,
  },
  // leave
  {
    name: "leave: no group",
    frame: { type: "leave", requestId: "l", memberId: "m" },
    error: "INVALID_REQUEST",
    field: "group",
    requestId: "l",
  },
  {
    name: "leave: an empty memberId",
    frame: { type: "leave", group: "g", memberId: "" },
    error: "INVALID_REQUEST",
    field: "memberId",
  },
  {
    name: "leave: a member this connection never joined",
    frame: { type: "leave", requestId: "l", group: "g", memberId: "m" },
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
    requestId: "l",
  },
  // commit
  {
    name: "commit: no requestId",
    frame: commitTo({ requestId: undefined }),
    error: "INVALID_REQUEST",
    field: "requestId",
  },
  {
    name: "commit: no offsets",
    frame: commitTo({ offsets: undefined }),
    error: "INVALID_REQUEST",
    field: "offsets",
    requestId: 7,
  },
  {
    name: "commit: empty offsets",
    frame: commitTo({ offsets: [] }),
    error: "INVALID_REQUEST",
    field: "offsets",
    requestId: 7,
  },
  {
    name: "commit: more offsets than one commit may carry",
    frame: commitTo({
      offsets: Array.from({ length: OFFSETS_PER_COMMIT_MAX + 1 }, () => ({
        topic: "good",
        partition: 0,
        offset: 0,
      })),
    }),
    error: "INVALID_REQUEST",
    field: "offsets",
    requestId: 7,
  },
  {
    name: "commit: a negative offset",
    frame: commitTo({ offsets: [{ topic: "good", partition: 0, offset: -1 }] }),
    error: "INVALID_REQUEST",
    field: "offsets[0].offset",
    requestId: 7,
  },
  {
    name: "commit: an offset past 2^53",
    frame: commitTo({ offsets: [{ topic: "good", partition: 0, offset: 2 ** 60 }] }),
    error: "INVALID_REQUEST",
    field: "offsets[0].offset",
    requestId: 7,
  },
  {
    name: "commit: an unknown topic",
    frame: commitTo({ offsets: [{ topic: "nope", partition: 0, offset: 1 }] }),
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "offsets[0].partition",
    requestId: 7,
  },
  {
    name: "commit: a partition the topic lacks",
    frame: commitTo({ offsets: [{ topic: "good", partition: 3, offset: 1 }] }),
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "offsets[0].partition",
    requestId: 7,
  },
  {
    name: "commit: metadata over 4 KiB",
    frame: commitTo({ offsets: [{ topic: "good", partition: 0, offset: 1, metadata: "x".repeat(4097) }] }),
    error: "OFFSET_METADATA_TOO_LARGE",
    field: "offsets[0].metadata",
    requestId: 7,
  },
  {
    name: "commit: metadata with a lone surrogate",
    frame: commitTo({ offsets: [{ topic: "good", partition: 0, offset: 1, metadata: "\ud800" }] }),
    error: "INVALID_REQUEST",
    field: "offsets[0].metadata",
    requestId: 7,
  },
  {
    name: "commit: a memberId without its generation",
    frame: commitTo({ memberId: "m" }),
    error: "INVALID_REQUEST",
    field: "generationId",
    requestId: 7,
  },
  {
    name: "commit: a generation without its memberId",
    frame: commitTo({ generationId: 1 }),
    error: "INVALID_REQUEST",
    field: "memberId",
    requestId: 7,
  },
  {
    name: "commit: a member this connection never joined",
    frame: commitTo({ memberId: "m", generationId: 1 }),
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
    requestId: 7,
  },
];

describe("bad frames", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, bad) => {
    client.send(typeof bad.frame === "string" ? bad.frame : JSON.stringify(bad.frame));
    const error = await client.expectError(bad.error, bad.field === undefined ? {} : { field: bad.field });
    expect({ id: error.id, requestId: error.requestId }).toEqual({ id: bad.id, requestId: bad.requestId });
    await expectStillReceiving(client);
  });

  test("a binary frame from the client", async () => {
    client.socket.send(new Uint8Array([1, 2, 3]));
    await client.expectError("UNSUPPORTED_MEDIA_TYPE", { field: "frame" });
    await expectStillReceiving(client);
  });

  test("a frame over WS_FRAME_BYTES_MAX, refused before it is parsed", async () => {
    client.send(JSON.stringify(produceTo({ records: [{ value: "x".repeat(WS_FRAME_BYTES_MAX) }] })));
    const error = await client.expectError("REQUEST_TOO_LARGE", { field: "frame" });
    expect(error.requestId).toBeUndefined();
    await expectStillReceiving(client);
  });

  test("records the subscription's format cannot render end that subscription only", async () => {
    await createTopic(node, "bytes");
    await produce(node, "bytes", { valueFormat: "base64", records: [{ value: "/w==" }] });
    await subscribe(client, { id: 4, topic: "bytes", partition: 0, from: "earliest", valueFormat: "text" });
    client.send({ type: "credit", id: 4, records: 1 });
    await client.expectError("INVALID_REQUEST", { id: 4, field: "valueFormat" });
    expect(await client.expectFrame("unsubscribed")).toEqual({ type: "unsubscribed", id: 4 });
    await expectStillReceiving(client);
  });

  test("the other client saw none of it, only its records", async () => {
    const frames = await bystander.barrier();
    const values = frames.flatMap((f) =>
      f instanceof Uint8Array || f.type !== "records" ? [f] : f.records.map((r) => r.value),
    );
    expect(values).toEqual(Array.from({ length: produced }, (_, i) => `after-${i}`));
    await produce(node, "good", { records: [{ value: "last" }] });
    for (const c of [client, bystander]) {
      expect(await c.expectFrame("records")).toMatchObject({ id: 1, records: [{ value: "last" }] });
    }
  });
});
