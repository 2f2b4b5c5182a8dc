// A table of bad inputs for every consumer group route, each answered with its status, error code and
// the field at fault, while the node keeps serving: a join, heartbeat and commit still work after it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ErrorName } from "../../lib/errors.ts";
import type { JoinResult } from "../../lib/groups/group-coordinator.ts";
import { GROUP_ID_BYTES_MAX, GROUP_REQUEST_BODY_BYTES_MAX } from "../../lib/groups/limits.ts";
import { expectError, joined, joinRequest, sendJson, startGroupNode } from "./helpers.ts";

const node = startGroupNode();
afterAll(() => node.close());

/** A member of group "busy", stable at generation 1. */
let busy: JoinResult;

beforeAll(async () => {
  await sendJson(`${node.api}/topics`, { name: "orders", partitions: 2 });
  busy = await joined(joinRequest(node, "busy", { topics: ["orders"] }));
  // A first commit makes the offsets topic, so deleting it finds it there.
  const first = { offsets: [offset()], memberId: busy.memberId, generationId: busy.generationId };
  expect((await commit(first, "busy")).status).toBe(200);
});

const LONG_GROUP = "g".repeat(GROUP_ID_BYTES_MAX + 1);
const groups = `${node.api}/groups`;
const get = (path: string) => fetch(`${groups}${path}`);
const del = (path: string) => fetch(`${groups}${path}`, { method: "DELETE" });
const post = (path: string, body: unknown) => sendJson(`${groups}${path}`, body);
const postRaw = (path: string, body: string | Uint8Array, contentType = "application/json") =>
  fetch(`${groups}${path}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : body.slice(),
  });
const join = (body: unknown, group = "fresh") => post(`/${encodeURIComponent(group)}/members`, body);
const heartbeat = (body: unknown, member = busy.memberId) => post(`/busy/members/${member}/heartbeat`, body);
const commit = (body: unknown, group = "fresh") => post(`/${group}/offsets`, body);
const reset = (body: unknown, group = "fresh") => post(`/${group}/offsets/reset`, body);
const offset = (overrides: Record<string, unknown> = {}) => ({
  topic: "orders",
  partition: 0,
  offset: 1,
  ...overrides,
});

interface BadInput {
  name: string;
  send: () => Promise<Response>;
  status: number;
  error: ErrorName;
  field?: string;
}

const cases: BadInput[] = [
  // List and describe
  {
    name: "describe: group id too long",
    send: () => get(`/${LONG_GROUP}`),
    status: 400,
    error: "INVALID_GROUP_ID",
    field: "group",
  },
  {
    name: "describe: unknown group",
    send: () => get("/nobody"),
    status: 404,
    error: "GROUP_ID_NOT_FOUND",
    field: "group",
  },
  // Delete
  { name: "delete: unknown group", send: () => del("/nobody"), status: 404, error: "GROUP_ID_NOT_FOUND" },
  {
    name: "delete: group id too long",
    send: () => del(`/${LONG_GROUP}`),
    status: 400,
    error: "INVALID_GROUP_ID",
  },
  { name: "delete: group with members", send: () => del("/busy"), status: 409, error: "NON_EMPTY_GROUP" },
  // Join
  {
    name: "join: body not JSON",
    send: () => postRaw("/fresh/members", "{topics:"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "join: text/plain body",
    send: () => postRaw("/fresh/members", '{"topics":["orders"]}', "text/plain"),
    status: 415,
    error: "UNSUPPORTED_MEDIA_TYPE",
    field: "content-type",
  },
  {
    name: "join: body not UTF-8",
    send: () => postRaw("/fresh/members", new Uint8Array([0x7b, 0xff, 0x7d])),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "join: body over the group body limit",
    send: () => postRaw("/fresh/members", `{"topics":["${"x".repeat(GROUP_REQUEST_BODY_BYTES_MAX)}"]}`),
    status: 413,
    error: "REQUEST_TOO_LARGE",
    field: "body",
  },
  {
    name: "join: topics missing",
    send: () => join({}),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topics",
  },
  {
    name: "join: no topics",
    send: () => join({ topics: [] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topics",
  },
  {
    name: "join: topics a string",
    send: () => join({ topics: "orders" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topics",
  },
  {
    name: "join: a topic a number",
    send: () => join({ topics: [7] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topics[0]",
  },
  {
    name: "join: too many topics",
    send: () => join({ topics: Array.from({ length: 1001 }, (_, i) => `t${i}`) }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topics",
  },
  {
    name: "join: unknown key",
    send: () => join({ topics: ["orders"], colour: "red" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "colour",
  },
  {
    name: "join: session timeout below Kafka's minimum",
    send: () => join({ topics: ["orders"], sessionTimeoutMs: 1_000 }),
    status: 400,
    error: "INVALID_SESSION_TIMEOUT",
    field: "sessionTimeoutMs",
  },
  {
    name: "join: session timeout above Kafka's maximum",
    send: () => join({ topics: ["orders"], sessionTimeoutMs: 1_800_001 }),
    status: 400,
    error: "INVALID_SESSION_TIMEOUT",
    field: "sessionTimeoutMs",
  },
  {
    name: "join: session timeout a string",
    send: () => join({ topics: ["orders"], sessionTimeoutMs: "10000" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "sessionTimeoutMs",
  },
  {
    name: "join: rebalance timeout 0",
    send: () => join({ topics: ["orders"], rebalanceTimeoutMs: 0 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "rebalanceTimeoutMs",
  },
  {
    name: "join: rebalance timeout past the long-poll bound",
    send: () => join({ topics: ["orders"], rebalanceTimeoutMs: 300_000 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "rebalanceTimeoutMs",
  },
  {
    name: "join: unknown assignor",
    send: () => join({ topics: ["orders"], assignor: "sticky" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "assignor",
  },
  {
    name: "join: empty client id",
    send: () => join({ topics: ["orders"], clientId: "" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "clientId",
  },
  {
    name: "join: client id too long",
    send: () => join({ topics: ["orders"], clientId: "c".repeat(256) }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "clientId",
  },
  {
    name: "join: member id the group never gave",
    send: () => join({ topics: ["orders"], memberId: "ghost" }, "busy"),
    status: 404,
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
  },
  {
    name: "join: another assignor than the group's",
    send: () => join({ topics: ["orders"], assignor: "roundrobin" }, "busy"),
    status: 409,
    error: "INCONSISTENT_GROUP_PROTOCOL",
    field: "assignor",
  },
  {
    name: "join: group id too long",
    send: () => join({ topics: ["orders"] }, LONG_GROUP),
    status: 400,
    error: "INVALID_GROUP_ID",
  },
  // Heartbeat
  {
    name: "heartbeat: generation missing",
    send: () => heartbeat({}),
    status: 400,
    error: "INVALID_REQUEST",
    field: "generationId",
  },
  {
    name: "heartbeat: negative generation",
    send: () => heartbeat({ generationId: -1 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "generationId",
  },
  {
    name: "heartbeat: generation a string",
    send: () => heartbeat({ generationId: "1" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "generationId",
  },
  {
    name: "heartbeat: stale generation",
    send: () => heartbeat({ generationId: 0 }),
    status: 409,
    error: "ILLEGAL_GENERATION",
    field: "generationId",
  },
  {
    name: "heartbeat: unknown member",
    send: () => heartbeat({ generationId: 1 }, "ghost"),
    status: 404,
    error: "UNKNOWN_MEMBER_ID",
  },
  {
    name: "heartbeat: unknown group",
    send: () => post("/nobody/members/ghost/heartbeat", { generationId: 1 }),
    status: 404,
    error: "UNKNOWN_MEMBER_ID",
  },
  {
    name: "heartbeat: body not JSON",
    send: () => postRaw(`/busy/members/${busy.memberId}/heartbeat`, "1"),
    status: 400,
    error: "INVALID_REQUEST",
  },
  // Leave
  {
    name: "leave: unknown member",
    send: () => del("/busy/members/ghost"),
    status: 404,
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
  },
  {
    name: "leave: unknown group",
    send: () => del("/nobody/members/ghost"),
    status: 404,
    error: "UNKNOWN_MEMBER_ID",
  },
  // Commit
  {
    name: "commit: offsets missing",
    send: () => commit({}),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets",
  },
  {
    name: "commit: no offsets",
    send: () => commit({ offsets: [] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets",
  },
  {
    name: "commit: negative offset",
    send: () => commit({ offsets: [offset({ offset: -1 })] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets[0].offset",
  },
  {
    name: "commit: offset past 2^53",
    send: () => commit({ offsets: [offset({ offset: 2 ** 53 })] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets[0].offset",
  },
  {
    name: "commit: fractional offset",
    send: () => commit({ offsets: [offset({ offset: 1.5 })] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets[0].offset",
  },
  {
    name: "commit: partition a string",
    send: () => commit({ offsets: [offset({ partition: "0" })] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets[0].partition",
  },
  {
    name: "commit: unknown key in an offset",
    send: () => commit({ offsets: [offset({ lag: 3 })] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets[0].lag",
  },
  {
    name: "commit: unknown topic",
    send: () => commit({ offsets: [offset(), offset({ topic: "nope" })] }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "offsets[1].partition",
  },
  {
    name: "commit: unknown partition",
    send: () => commit({ offsets: [offset({ partition: 2 })] }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "offsets[0].partition",
  },
  {
    name: "commit: metadata too large",
    send: () => commit({ offsets: [offset({ metadata: "m".repeat(4097) })] }),
    status: 400,
    error: "OFFSET_METADATA_TOO_LARGE",
    field: "offsets[0].metadata",
  },
  {
    name: "commit: metadata with a lone surrogate (it has no UTF-8 form)",
    send: () => commit({ offsets: [offset({ metadata: "m\ud800" })] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets[0].metadata",
  },
  {
    name: "commit: too many offsets",
    send: () => commit({ offsets: Array.from({ length: 1025 }, () => offset()) }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offsets",
  },
  {
    name: "commit: member id without generation",
    send: () => commit({ offsets: [offset()], memberId: busy.memberId }, "busy"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "generationId",
  },
  {
    name: "commit: standalone while the group has members",
    send: () => commit({ offsets: [offset()] }, "busy"),
    status: 404,
    error: "UNKNOWN_MEMBER_ID",
    field: "memberId",
  },
  {
    name: "commit: stale generation",
    send: () => commit({ offsets: [offset()], memberId: busy.memberId, generationId: 7 }, "busy"),
    status: 409,
    error: "ILLEGAL_GENERATION",
  },
  {
    name: "commit: group id too long",
    send: () => commit({ offsets: [offset()] }, LONG_GROUP),
    status: 400,
    error: "INVALID_GROUP_ID",
  },
  // Read offsets
  {
    name: "offsets: unknown query key",
    send: () => get("/busy/offsets?partition=1"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partition",
  },
  {
    name: "offsets: empty topic",
    send: () => get("/busy/offsets?topic="),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topic",
  },
  {
    name: "offsets: repeated topic",
    send: () => get("/busy/offsets?topic=a&topic=b"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topic",
  },
  {
    name: "offsets: group id too long",
    send: () => get(`/${LONG_GROUP}/offsets`),
    status: 400,
    error: "INVALID_GROUP_ID",
  },
  // Reset
  {
    name: "reset: to missing",
    send: () => reset({ topic: "orders" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "to",
  },
  {
    name: "reset: to unknown",
    send: () => reset({ to: "yesterday", topic: "orders" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "to",
  },
  {
    name: "reset: topic missing",
    send: () => reset({ to: "earliest" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "topic",
  },
  {
    name: "reset: timestamp missing",
    send: () => reset({ to: "timestamp", topic: "orders" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "timestamp",
  },
  {
    name: "reset: negative timestamp",
    send: () => reset({ to: "timestamp", topic: "orders", timestamp: -5 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "timestamp",
  },
  {
    name: "reset: offset missing",
    send: () => reset({ to: "offset", topic: "orders" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offset",
  },
  {
    name: "reset: offset with earliest",
    send: () => reset({ to: "earliest", topic: "orders", offset: 3 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offset",
  },
  {
    name: "reset: no partitions",
    send: () => reset({ to: "earliest", topic: "orders", partitions: [] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partitions",
  },
  {
    name: "reset: repeated partition",
    send: () => reset({ to: "earliest", topic: "orders", partitions: [1, 1] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partitions",
  },
  {
    name: "reset: negative partition",
    send: () => reset({ to: "earliest", topic: "orders", partitions: [-1] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partitions[0]",
  },
  {
    name: "reset: unknown topic",
    send: () => reset({ to: "earliest", topic: "nope" }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "topic",
  },
  {
    name: "reset: unknown partition",
    send: () => reset({ to: "latest", topic: "orders", partitions: [0, 5] }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "partitions[1]",
  },
  {
    name: "reset: group with members",
    send: () => reset({ to: "earliest", topic: "orders" }, "busy"),
    status: 409,
    error: "NON_EMPTY_GROUP",
  },
  // The offsets topic itself
  {
    name: "topics: create __consumer_offsets",
    send: () => sendJson(`${node.api}/topics`, { name: "__consumer_offsets" }),
    status: 400,
    error: "INVALID_TOPIC_NAME",
    field: "name",
  },
  {
    name: "topics: delete __consumer_offsets",
    send: () => fetch(`${node.api}/topics/__consumer_offsets`, { method: "DELETE" }),
    status: 403,
    error: "TOPIC_IS_INTERNAL",
  },
];

describe("bad inputs", () => {
  for (const { name, send, status, error, field } of cases) {
    test(`${name} answers ${status} ${error}`, async () => {
      await expectError(await send(), status, error, field);
    });
  }

  test("none of them made a group, and the node still joins, heartbeats and commits", async () => {
    const listed = (await (await get("")).json()) as { groups: Array<{ group: string }> };
    expect(listed.groups.map((entry) => entry.group)).toEqual(["busy"]);
    expect((await heartbeat({ generationId: 1 })).status).toBe(204);
    const member = await joined(joinRequest(node, "fresh", { topics: ["orders"] }));
    const body = { offsets: [offset()], memberId: member.memberId, generationId: member.generationId };
    expect((await commit(body)).status).toBe(200);
  });
});
