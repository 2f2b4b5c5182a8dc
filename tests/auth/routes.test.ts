// Every route the OpenAPI document lists, tried without a token, with an unknown or malformed one, and
// with tokens of the wrong role: each is refused (401 with a Bearer challenge, or 403) before it does
// anything, and the node's topics, groups and tokens are as they were. The right token gets through.
// A route missing from the table below fails the test, so no new route can go unchecked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ERRORS } from "../../lib/errors.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import type { OpenApiDocument } from "../../routes/openapi.ts";
import { parseExposition } from "../metrics/exposition-parser.ts";
import { ADMIN_SECRET, type AuthNode, createToken, request, startAuthNode } from "./helpers.ts";

type Who = "admin" | "producer" | "consumer" | "stranger";

interface RouteCase {
  /** Tokens whose grants do not cover the route: 403. */
  refused: Who[];
  /** A token that gets past access control (whatever the route then answers). */
  allowed: Who;
  body?: unknown;
  query?: string;
}

const TOPIC = "data.t";
const batch = () => encodeBatch([{ value: utf8("raw") }], { timestampMs: 0 }).slice();
const NON_ADMINS: Who[] = ["producer", "consumer", "stranger"];

/** Routes that need no token (with authMetrics off). */
const OPEN = [
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /docs",
  "GET /api/v1/openapi.json",
  // The admin UI's page and assets (its login screen must load); / redirects there.
  "GET /",
  "GET /ui",
  "GET /ui/app.js",
  "GET /ui/app.css",
];

const CASES: Record<string, RouteCase> = {
  "GET /api/v1/cluster": { refused: [], allowed: "stranger" },
  "GET /api/v1/cluster/replica/fetch": { refused: NON_ADMINS, allowed: "admin" },
  "GET /api/v1/cluster/replica/epoch-end": { refused: NON_ADMINS, allowed: "admin" },
  "GET /api/v1/cluster/reassignments": { refused: [], allowed: "stranger" },
  "POST /api/v1/cluster/reassignments": {
    refused: NON_ADMINS,
    allowed: "admin",
    body: { partitions: [{ topic: TOPIC, partition: 0, replicas: [1] }] },
  },
  "DELETE /api/v1/cluster/reassignments/{topic}/{partition}": { refused: NON_ADMINS, allowed: "admin" },
  "GET /api/v1/whoami": { refused: [], allowed: "stranger" },
  "GET /api/v1/tokens": { refused: NON_ADMINS, allowed: "admin" },
  "POST /api/v1/tokens": {
    refused: NON_ADMINS,
    allowed: "admin",
    body: { name: "intruder", grants: [{ role: "admin" }] },
  },
  "DELETE /api/v1/tokens/{name}": { refused: NON_ADMINS, allowed: "admin" },
  "GET /api/v1/topics": { refused: [], allowed: "stranger" },
  "POST /api/v1/topics": { refused: NON_ADMINS, allowed: "admin", body: { name: "data.new" } },
  "GET /api/v1/topics/{topic}": { refused: ["stranger"], allowed: "producer" },
  "PATCH /api/v1/topics/{topic}/config": {
    refused: NON_ADMINS,
    allowed: "admin",
    body: { config: { "retention.ms": 1000 } },
  },
  "DELETE /api/v1/topics/{topic}": { refused: NON_ADMINS, allowed: "admin" },
  "POST /api/v1/topics/{topic}/records": {
    refused: ["consumer", "stranger"],
    allowed: "producer",
    body: { records: [{ value: "intruder" }] },
  },
  "GET /api/v1/topics/{topic}/partitions/{partition}/records": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
    query: "offset=0",
  },
  "POST /api/v1/topics/{topic}/partitions/{partition}/batches": {
    refused: ["consumer", "stranger"],
    allowed: "producer",
    body: "batch",
  },
  "GET /api/v1/topics/{topic}/partitions/{partition}/offsets": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
    query: "at=latest",
  },
  "POST /api/v1/producers": { refused: ["consumer"], allowed: "producer", body: {} },
  "GET /api/v1/groups": { refused: ["producer"], allowed: "consumer" },
  "GET /api/v1/groups/{group}": { refused: ["producer", "stranger"], allowed: "consumer" },
  "DELETE /api/v1/groups/{group}": { refused: ["producer", "stranger"], allowed: "consumer" },
  "POST /api/v1/groups/{group}/members": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
    body: { topics: [TOPIC], rebalanceTimeoutMs: 1000 },
  },
  "POST /api/v1/groups/{group}/members/{member}/heartbeat": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
    body: { generationId: 1 },
  },
  "DELETE /api/v1/groups/{group}/members/{member}": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
  },
  "POST /api/v1/groups/{group}/offsets": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
    body: { offsets: [{ topic: TOPIC, partition: 0, offset: 2 }] },
  },
  "GET /api/v1/groups/{group}/offsets": { refused: ["producer", "stranger"], allowed: "consumer" },
  "POST /api/v1/groups/{group}/offsets/reset": {
    refused: ["producer", "stranger"],
    allowed: "consumer",
    body: { to: "earliest", topic: TOPIC },
  },
  "GET /api/v1/node": { refused: [], allowed: "stranger" },
  "GET /api/v1/stats": { refused: [], allowed: "stranger" },
  "GET /api/v1/stats/stream": { refused: [], allowed: "stranger" },
  // Without an Upgrade header: 426 once past access control (the frames are tested in ws.test.ts).
  "GET /api/v1/ws": { refused: [], allowed: "stranger" },
};

let node: AuthNode;
const secrets = {} as Record<Who, string>;
let operations: Array<{ method: string; path: string }> = [];

beforeAll(async () => {
  node = startAuthNode({ systemClock: true });
  secrets.admin = ADMIN_SECRET;
  secrets.producer = await createToken(node, "producer", [{ role: "produce", topics: "data.*" }]);
  secrets.consumer = await createToken(node, "consumer", [{ role: "consume", topics: "data.*" }]);
  secrets.stranger = await createToken(node, "stranger", [
    { role: "produce", topics: "other.*" },
    { role: "consume", topics: "other.*" },
  ]);
  await createToken(node, "victim", [{ role: "consume", topics: "data.*" }]);
  const admin = { secret: ADMIN_SECRET, method: "POST" };
  expect((await request(`${node.api}/topics`, { ...admin, body: { name: TOPIC } })).status).toBe(201);
  const records = [{ value: 1 }, { value: 2 }, { value: 3 }];
  expect((await request(`${node.api}/topics/${TOPIC}/records`, { ...admin, body: { records } })).status).toBe(
    200,
  );
  const commit = { offsets: [{ topic: TOPIC, partition: 0, offset: 1 }] };
  expect((await request(`${node.api}/groups/g1/offsets`, { ...admin, body: commit })).status).toBe(200);
  const document = (await (await fetch(`${node.api}/openapi.json`)).json()) as OpenApiDocument;
  operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.keys(byMethod).map((method) => ({ method: method.toUpperCase(), path })),
  );
});
afterAll(() => node.close());

function urlOf(path: string, query = ""): string {
  const concrete = path
    .replace("{topic}", TOPIC)
    .replace("{partition}", "0")
    .replace("{group}", "g1")
    .replace("{member}", "m1")
    .replace("{name}", "victim");
  return `${node.root}${concrete}${query === "" ? "" : `?${query}`}`;
}

function send(operation: { method: string; path: string }, secret: string | undefined, headers = {}) {
  const routeCase = CASES[`${operation.method} ${operation.path}`];
  const body = routeCase?.body === "batch" ? batch() : routeCase?.body;
  const contentType: Record<string, string> =
    routeCase?.body === "batch" ? { "content-type": "application/vnd.kafka.recordbatch" } : {};
  return request(urlOf(operation.path, routeCase?.query), {
    method: operation.method,
    secret,
    body,
    headers: { ...contentType, ...headers },
  });
}

/** What an admin sees of the node: a refused request must change none of it. */
async function snapshot(): Promise<unknown> {
  const read = async (path: string) => (await request(`${node.api}${path}`, { secret: ADMIN_SECRET })).json();
  return {
    topics: await read("/topics"),
    topic: await read(`/topics/${TOPIC}`),
    records: await read(`/topics/${TOPIC}/partitions/0/records?offset=0`),
    group: await read("/groups/g1"),
    tokens: await read("/tokens"),
  };
}

async function expectAuthError(response: Response, status: 401 | 403): Promise<void> {
  const body = (await response.json()) as { error: { code: number; name: string } };
  const name = status === 401 ? "UNAUTHENTICATED" : "FORBIDDEN";
  expect({ status: response.status, name: body.error.name, code: body.error.code }).toEqual({
    status,
    name,
    code: ERRORS[name].code,
  });
  if (status === 401) expect(response.headers.get("www-authenticate")).toStartWith('Bearer realm="sluice"');
}

describe("every route with access control on", () => {
  test("the OpenAPI document's routes are exactly those this test covers", () => {
    const listed = operations.map(({ method, path }) => `${method} ${path}`).sort();
    expect(listed).toEqual([...OPEN, ...Object.keys(CASES)].sort());
  });

  test("no token, an unknown token, a malformed header or a wrong role is refused and leaves no trace", async () => {
    const before = await snapshot();
    for (const operation of operations) {
      const key = `${operation.method} ${operation.path}`;
      if (OPEN.includes(key)) continue;
      await expectAuthError(await send(operation, undefined), 401);
      await expectAuthError(await send(operation, "sluice_not-a-token"), 401);
      await expectAuthError(await send(operation, undefined, { authorization: `Basic ${btoa("a:b")}` }), 401);
      for (const who of CASES[key]!.refused) {
        const response = await send(operation, secrets[who]);
        if (response.status !== 403) throw new Error(`${key} as ${who}: ${response.status}`);
        await expectAuthError(response, 403);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  test("open routes answer without a token", async () => {
    for (const key of OPEN) {
      const [method, path] = key.split(" ") as [string, string];
      const response = await send({ method, path }, undefined);
      expect({ key, status: response.status }).toEqual({ key, status: 200 });
    }
  });

  test("the WebSocket route takes its token from ?access_token= too", async () => {
    const noUpgrade = await fetch(`${node.api}/ws?access_token=${secrets.stranger}`);
    expect(noUpgrade.status).toBe(ERRORS.UPGRADE_REQUIRED.status);
    // Only there: elsewhere a token in the URL is no token.
    const elsewhere = await fetch(`${node.api}/topics?access_token=${secrets.stranger}`);
    expect(elsewhere.status).toBe(401);
  });

  test("refusals are counted in /metrics by reason", async () => {
    const families = parseExposition(await (await fetch(`${node.root}/metrics`)).text());
    const samples = families.get("sluice_auth_failures_total")?.samples ?? [];
    const count = (reason: string) => samples.find((s) => s.labels.reason === reason)?.value ?? 0;
    expect(count("unauthenticated")).toBeGreaterThan(0);
    expect(count("forbidden")).toBeGreaterThan(0);
  });

  test("a group body sent chunked is read for access control and again by the route", async () => {
    const text = JSON.stringify({ offsets: [{ topic: TOPIC, partition: 0, offset: 1 }] });
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text.slice(0, 10)));
        controller.enqueue(new TextEncoder().encode(text.slice(10)));
        controller.close();
      },
    });
    const response = await fetch(`${node.api}/groups/chunked/offsets`, {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.consumer}`, "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
  });

  test("the token a route needs gets past access control", async () => {
    // Deletes last, so the others still find what they act on.
    const ordered = [...operations].sort(
      (a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"),
    );
    for (const operation of ordered) {
      const key = `${operation.method} ${operation.path}`;
      if (OPEN.includes(key)) continue;
      const response = await send(operation, secrets[CASES[key]!.allowed]);
      // An event stream does not end by itself.
      if (response.headers.get("content-type")?.startsWith("text/event-stream"))
        await response.body?.cancel();
      else await response.arrayBuffer();
      expect({ key, passed: ![401, 403].includes(response.status) }).toEqual({ key, passed: true });
    }
  });
});
