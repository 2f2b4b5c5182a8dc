// A table of bad inputs for every route, each answered with its status and error code (and the field
// at fault) while the node keeps serving: a good produce and fetch still work after the table.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ErrorName } from "../../lib/errors.ts";
import { RECORDS_PER_REQUEST_MAX, REQUEST_BODY_BYTES_MAX } from "../../lib/gateway/limits.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { createApp } from "../../routes/app.ts";
import { createTopic, expectError, fetchPartition, produce, sendJson, startNode, until } from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

beforeAll(async () => {
  await createTopic(node, "bad", { partitions: 2 });
  await createTopic(node, "small", { config: { "max.message.bytes": 1000 } });
  await produce(node, "bad", { valueFormat: "base64", records: [{ value: "/w==", partition: 0 }] });
});

const JSON_TYPE = "application/json";
const BATCH_TYPE = "application/vnd.kafka.recordbatch";

function post(path: string, body: string | Uint8Array, contentType = JSON_TYPE): Promise<Response> {
  // slice(): a copy over a plain ArrayBuffer, which is what BodyInit takes.
  const init = { method: "POST", headers: { "content-type": contentType } };
  return fetch(`${node.api}${path}`, { ...init, body: typeof body === "string" ? body : body.slice() });
}

const get = (path: string) => fetch(`${node.api}${path}`);
const produceJson = (body: unknown, query = "") => sendJson(`${node.api}/topics/bad/records${query}`, body);
const fetchQuery = (query: string) => get(`/topics/bad/partitions/0/records?${query}`);
const goodBatch = () => encodeBatch([{ value: utf8("ok") }], { timestampMs: 0 });

/** A body streamed without Content-Length, so the limit is enforced while reading it. */
function streamOf(totalBytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const size = Math.min(chunk.length, totalBytes - sent);
      controller.enqueue(chunk.subarray(0, size));
      sent += size;
    },
  });
}

interface BadInput {
  name: string;
  send: () => Promise<Response>;
  status: number;
  error: ErrorName | "NOT_FOUND";
  field?: string;
}

const cases: BadInput[] = [
  // Topics
  {
    name: "create: body not JSON",
    send: () => post("/topics", "{name:"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "create: text/plain body",
    send: () => post("/topics", '{"name":"x"}', "text/plain"),
    status: 415,
    error: "UNSUPPORTED_MEDIA_TYPE",
    field: "content-type",
  },
  {
    name: "create: no Content-Type",
    send: () => fetch(`${node.api}/topics`, { method: "POST", body: new Uint8Array([123, 125]) }),
    status: 415,
    error: "UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "create: body an array",
    send: () => sendJson(`${node.api}/topics`, []),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "create: name missing",
    send: () => sendJson(`${node.api}/topics`, {}),
    status: 400,
    error: "INVALID_REQUEST",
    field: "name",
  },
  {
    name: "create: name a number",
    send: () => sendJson(`${node.api}/topics`, { name: 7 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "name",
  },
  {
    name: "create: name with a slash",
    send: () => sendJson(`${node.api}/topics`, { name: "a/b" }),
    status: 400,
    error: "INVALID_TOPIC_NAME",
    field: "name",
  },
  {
    name: "create: name too long",
    send: () => sendJson(`${node.api}/topics`, { name: "x".repeat(250) }),
    status: 400,
    error: "INVALID_TOPIC_NAME",
    field: "name",
  },
  {
    name: "create: partitions a string",
    send: () => sendJson(`${node.api}/topics`, { name: "p", partitions: "3" }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partitions",
  },
  {
    name: "create: zero partitions",
    send: () => sendJson(`${node.api}/topics`, { name: "p", partitions: 0 }),
    status: 400,
    error: "INVALID_PARTITIONS",
    field: "partitions",
  },
  {
    name: "create: too many partitions",
    send: () => sendJson(`${node.api}/topics`, { name: "p", partitions: 1e9 }),
    status: 400,
    error: "INVALID_PARTITIONS",
    field: "partitions",
  },
  {
    name: "create: unknown config key",
    send: () => sendJson(`${node.api}/topics`, { name: "c", config: { "no.such": 1 } }),
    status: 400,
    error: "INVALID_CONFIG",
    field: "config.no.such",
  },
  {
    name: "create: bad config value",
    send: () => sendJson(`${node.api}/topics`, { name: "c", config: { "retention.ms": "soon" } }),
    status: 400,
    error: "INVALID_CONFIG",
    field: "config.retention.ms",
  },
  {
    name: "create: unknown body key",
    send: () => sendJson(`${node.api}/topics`, { name: "c", replicas: 3 }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "replicas",
  },
  {
    name: "create: existing topic",
    send: () => sendJson(`${node.api}/topics`, { name: "bad" }),
    status: 409,
    error: "TOPIC_ALREADY_EXISTS",
    field: "name",
  },
  {
    name: "describe: unknown topic",
    send: () => get("/topics/nope"),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "topic",
  },
  {
    name: "config: unknown topic",
    send: () => sendJson(`${node.api}/topics/nope/config`, { config: {} }, "PATCH"),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
  },
  {
    name: "config: config missing",
    send: () => sendJson(`${node.api}/topics/bad/config`, {}, "PATCH"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "config",
  },
  {
    name: "config: bad value",
    send: () => sendJson(`${node.api}/topics/bad/config`, { config: { "segment.bytes": 1 } }, "PATCH"),
    status: 400,
    error: "INVALID_CONFIG",
    field: "config.segment.bytes",
  },
  {
    name: "delete: unknown topic",
    send: () => fetch(`${node.api}/topics/nope`, { method: "DELETE" }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
  },

  // Produce
  {
    name: "produce: unknown topic",
    send: () => sendJson(`${node.api}/topics/nope/records`, { records: [{ value: 1 }] }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "topic",
  },
  {
    name: "produce: body not JSON",
    send: () => post("/topics/bad/records", "records"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "produce: body not UTF-8",
    send: () =>
      post("/topics/bad/records", new Uint8Array([...utf8('{"records":[{"value":"'), 0xff, ...utf8('"}]}')])),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "produce: wrong Content-Type",
    send: () => post("/topics/bad/records", '{"records":[]}', BATCH_TYPE),
    status: 415,
    error: "UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "produce: records missing",
    send: () => produceJson({}),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records",
  },
  {
    name: "produce: records not a list",
    send: () => produceJson({ records: { value: 1 } }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records",
  },
  {
    name: "produce: no records",
    send: () => produceJson({ records: [] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records",
  },
  {
    name: "produce: record without value",
    send: () => produceJson({ records: [{ value: 1 }, { key: "k" }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[1].value",
  },
  {
    name: "produce: record not an object",
    send: () => produceJson({ records: ["v"] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0]",
  },
  {
    name: "produce: unknown record key",
    send: () => produceJson({ records: [{ value: 1, offset: 3 }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].offset",
  },
  {
    name: "produce: negative partition",
    send: () => produceJson({ records: [{ value: 1, partition: -1 }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].partition",
  },
  {
    name: "produce: fractional partition",
    send: () => produceJson({ records: [{ value: 1, partition: 0.5 }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].partition",
  },
  {
    name: "produce: partition past the count",
    send: () => produceJson({ records: [{ value: 1 }, { value: 1, partition: 2 }] }),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "records[1].partition",
  },
  {
    name: "produce: negative timestamp",
    send: () => produceJson({ records: [{ value: 1, timestamp: -1 }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].timestamp",
  },
  {
    name: "produce: timestamp a string",
    send: () => produceJson({ records: [{ value: 1, timestamp: "now" }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].timestamp",
  },
  {
    name: "produce: unknown value format",
    send: () => produceJson({ valueFormat: "hex", records: [{ value: "00" }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "valueFormat",
  },
  {
    name: "produce: invalid base64 value",
    send: () =>
      produceJson({ valueFormat: "base64", records: [{ value: "AA==" }, { value: "not base64!" }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[1].value",
  },
  {
    name: "produce: invalid base64 key",
    send: () => produceJson({ keyFormat: "base64", records: [{ key: "%%", value: 1 }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].key",
  },
  {
    name: "produce: text value not a string",
    send: () => produceJson({ valueFormat: "text", records: [{ value: 12 }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].value",
  },
  {
    name: "produce: text with a lone surrogate",
    send: () => post("/topics/bad/records", '{"valueFormat":"text","records":[{"value":"a\\ud800b"}]}'),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].value",
  },
  {
    name: "produce: header value a number",
    send: () => produceJson({ records: [{ value: 1, headers: { h: 1 } }] }),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].headers",
  },
  {
    name: "produce: header with a lone surrogate",
    send: () => post("/topics/bad/records", '{"records":[{"value":1,"headers":{"h":"\\udc00"}}]}'),
    status: 400,
    error: "INVALID_REQUEST",
    field: "records[0].headers.h",
  },
  {
    name: "produce: acks=2",
    send: () => produceJson({ records: [{ value: 1 }] }, "?acks=2"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "acks",
  },
  {
    name: "produce: durable=yes",
    send: () => produceJson({ records: [{ value: 1 }] }, "?durable=yes"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "durable",
  },
  {
    name: "produce: unknown query key",
    send: () => produceJson({ records: [{ value: 1 }] }, "?ack=1"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "ack",
  },
  {
    name: "produce: too many records",
    send: () =>
      produceJson({ records: Array.from({ length: RECORDS_PER_REQUEST_MAX + 1 }, () => ({ value: 1 })) }),
    status: 413,
    error: "REQUEST_TOO_LARGE",
    field: "records",
  },
  {
    name: "produce: body over the limit",
    send: () => post("/topics/bad/records", new Uint8Array(REQUEST_BODY_BYTES_MAX + 1)),
    status: 413,
    error: "REQUEST_TOO_LARGE",
    field: "body",
  },
  {
    name: "produce: streamed body over the limit",
    send: () =>
      fetch(`${node.api}/topics/bad/records`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE },
        body: streamOf(REQUEST_BODY_BYTES_MAX + 1),
        duplex: "half",
      } as RequestInit),
    status: 413,
    error: "REQUEST_TOO_LARGE",
  },
  {
    name: "produce: batch over max.message.bytes",
    send: () => sendJson(`${node.api}/topics/small/records`, { records: [{ value: "x".repeat(2000) }] }),
    status: 413,
    error: "MESSAGE_TOO_LARGE",
    field: "records",
  },

  // Raw produce
  {
    name: "batches: JSON Content-Type",
    send: () => post("/topics/bad/partitions/0/batches", goodBatch()),
    status: 415,
    error: "UNSUPPORTED_MEDIA_TYPE",
    field: "content-type",
  },
  {
    name: "batches: empty body",
    send: () => post("/topics/bad/partitions/0/batches", new Uint8Array(0), BATCH_TYPE),
    status: 400,
    error: "INVALID_REQUEST",
    field: "body",
  },
  {
    name: "batches: truncated header",
    send: () => post("/topics/bad/partitions/0/batches", goodBatch().subarray(0, 40), BATCH_TYPE),
    status: 400,
    error: "CORRUPT_MESSAGE",
    field: "batches[0]",
  },
  {
    name: "batches: truncated records",
    send: () => post("/topics/bad/partitions/0/batches", goodBatch().subarray(0, 62), BATCH_TYPE),
    status: 400,
    error: "CORRUPT_MESSAGE",
    field: "batches[0]",
  },
  {
    name: "batches: zeros",
    send: () => post("/topics/bad/partitions/0/batches", new Uint8Array(100), BATCH_TYPE),
    status: 400,
    error: "CORRUPT_MESSAGE",
    field: "batches[0]",
  },
  {
    name: "batches: unknown partition",
    send: () => post("/topics/bad/partitions/9/batches", goodBatch(), BATCH_TYPE),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "partition",
  },
  {
    name: "batches: partition not a number",
    send: () => post("/topics/bad/partitions/x/batches", goodBatch(), BATCH_TYPE),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partition",
  },
  {
    name: "batches: unknown topic",
    send: () => post("/topics/nope/partitions/0/batches", goodBatch(), BATCH_TYPE),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "topic",
  },
  {
    name: "batches: body over the limit",
    send: () =>
      post("/topics/bad/partitions/0/batches", new Uint8Array(REQUEST_BODY_BYTES_MAX + 1), BATCH_TYPE),
    status: 413,
    error: "REQUEST_TOO_LARGE",
    field: "body",
  },

  // Fetch
  {
    name: "fetch: unknown topic",
    send: () => get("/topics/nope/partitions/0/records"),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "topic",
  },
  {
    name: "fetch: unknown partition",
    send: () => get("/topics/bad/partitions/2/records"),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "partition",
  },
  {
    name: "fetch: negative partition",
    send: () => get("/topics/bad/partitions/-1/records"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partition",
  },
  {
    name: "fetch: huge partition",
    send: () => get("/topics/bad/partitions/99999999999999999999/records"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "partition",
  },
  {
    name: "fetch: negative offset",
    send: () => fetchQuery("offset=-1"),
    status: 416,
    error: "OFFSET_OUT_OF_RANGE",
    field: "offset",
  },
  {
    name: "fetch: offset past the log end",
    send: () => fetchQuery("offset=2"),
    status: 416,
    error: "OFFSET_OUT_OF_RANGE",
    field: "offset",
  },
  {
    name: "fetch: offset past the safe integers",
    send: () => fetchQuery("offset=9223372036854775807"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offset",
  },
  {
    name: "fetch: fractional offset",
    send: () => fetchQuery("offset=1.5"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offset",
  },
  {
    name: "fetch: offset not a number",
    send: () => fetchQuery("offset=first"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offset",
  },
  {
    name: "fetch: offset given twice",
    send: () => fetchQuery("offset=0&offset=1"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "offset",
  },
  {
    name: "fetch: max_bytes 0",
    send: () => fetchQuery("max_bytes=0"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "max_bytes",
  },
  {
    name: "fetch: max_bytes too large",
    send: () => fetchQuery("max_bytes=1000000000"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "max_bytes",
  },
  {
    name: "fetch: negative min_bytes",
    send: () => fetchQuery("min_bytes=-1"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "min_bytes",
  },
  {
    name: "fetch: max_wait_ms too long",
    send: () => fetchQuery("max_wait_ms=30001"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "max_wait_ms",
  },
  {
    name: "fetch: unknown format",
    send: () => fetchQuery("format=xml"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "format",
  },
  {
    name: "fetch: unknown value format",
    send: () => fetchQuery("value_format=hex"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "value_format",
  },
  {
    name: "fetch: unknown query key",
    send: () => fetchQuery("timeout=5"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "timeout",
  },
  {
    name: "fetch: text format over bytes that are not UTF-8",
    send: () => fetchQuery("value_format=text"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "value_format",
  },

  // Offsets
  {
    name: "offsets: at missing",
    send: () => get("/topics/bad/partitions/0/offsets"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "at",
  },
  {
    name: "offsets: at a word",
    send: () => get("/topics/bad/partitions/0/offsets?at=yesterday"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "at",
  },
  {
    name: "offsets: negative timestamp",
    send: () => get("/topics/bad/partitions/0/offsets?at=-5"),
    status: 400,
    error: "INVALID_REQUEST",
    field: "at",
  },
  {
    name: "offsets: unknown partition",
    send: () => get("/topics/bad/partitions/5/offsets?at=latest"),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "partition",
  },
  {
    name: "offsets: unknown topic",
    send: () => get("/topics/nope/partitions/0/offsets?at=latest"),
    status: 404,
    error: "UNKNOWN_TOPIC_OR_PARTITION",
    field: "topic",
  },

  // Cluster requests on a node that runs alone
  {
    name: "reassign on a single node",
    send: () =>
      post(
        "/cluster/reassignments",
        JSON.stringify({ partitions: [{ topic: "bad", partition: 0, replicas: [1] }] }),
      ),
    status: 400,
    error: "NOT_CLUSTERED",
  },
  {
    name: "cancel a reassignment on a single node",
    send: () => fetch(`${node.api}/cluster/reassignments/bad/0`, { method: "DELETE" }),
    status: 400,
    error: "NOT_CLUSTERED",
  },
  {
    name: "list reassignments on a single node",
    send: () => get("/cluster/reassignments"),
    status: 400,
    error: "NOT_CLUSTERED",
  },

  // Routing
  { name: "an unknown route", send: () => get("/nothing-here"), status: 404, error: "NOT_FOUND" },
  {
    name: "a method a route does not take",
    send: () => fetch(`${node.api}/topics/bad/records`),
    status: 404,
    error: "NOT_FOUND",
  },
];

describe("bad inputs", () => {
  for (const { name, send, status, error, field } of cases) {
    test(`${name} answers ${status} ${error}`, async () => {
      await expectError(await send(), status, error, field);
    });
  }

  test("the node still serves after the table, and nothing bad was appended", async () => {
    expect(node.logs.partition("bad", 0).logEndOffset).toBe(1);
    expect(node.logs.partition("bad", 1).logEndOffset).toBe(0);
    expect(node.logs.partition("small", 0).logEndOffset).toBe(0);
    expect(node.logs.listTopics().map((topic) => topic.name)).toEqual(["bad", "small"]);
    const answer = await produce(node, "bad", { records: [{ value: "still here", partition: 1 }] });
    expect(answer.offsets).toEqual([{ partition: 1, offset: 0 }]);
    const { records } = await fetchPartition(node, "bad", 1);
    expect(records.map((record) => record.value)).toEqual(["still here"]);
    expect((await fetch(node.api.replace("/api/v1", "/healthz"))).status).toBe(200);
  });
});

describe("long polls under Bun.serve", () => {
  test("a long poll asks the server to keep its request open past the idle timeout", async () => {
    const app = createApp({ logs: node.logs });
    const asked: number[] = [];
    const server = { timeout: (_request: Request, seconds: number) => asked.push(seconds) };
    const pending = app.request(
      "/api/v1/topics/bad/partitions/1/records?offset=1&max_wait_ms=30000",
      {},
      server,
    );
    await until(() => asked.length > 0);
    expect(asked).toEqual([40]);
    node.clock.advance(30_000);
    expect((await pending).status).toBe(200);
  });
});
