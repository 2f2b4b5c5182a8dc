// The OpenAPI document over a real loopback socket: it lists exactly the routes the app registers,
// every route describes itself, parameters carry the bounds and defaults of the routes' own zod
// schemas, errors are those of lib/errors.ts, and real answers match the schemas it documents.

import { afterAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { ERRORS } from "../../lib/errors.ts";
import {
  FETCH_MAX_BYTES_DEFAULT,
  FETCH_MAX_BYTES_MAX,
  FETCH_MAX_WAIT_MS_MAX,
} from "../../lib/gateway/limits.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { createApp } from "../../routes/app.ts";
import { describedRoutes, type OpenApiDocument, openApiPath } from "../../routes/openapi.ts";
import { sendJson, startNode } from "../gateway/helpers.ts";
import { expectDocumentedAnswer } from "./documented-answer.ts";

const node = startNode();
afterAll(() => node.close());
const root = node.api.replace(/\/api\/v1$/, "");
/** The same routes as the node's own app: createApp registers them the same way every time. */
const routes = describedRoutes(createApp({ logs: node.logs }).routes);

async function openApi(): Promise<OpenApiDocument> {
  const response = await fetch(`${node.api}/openapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

function operations(document: OpenApiDocument) {
  return Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({ method, path, operation })),
  );
}

describe("openapi.json", () => {
  test("lists every route the app registers, and nothing else", async () => {
    const document = await openApi();
    expect(document.openapi).toBe("3.1.0");
    const registered = routes.map((route) => `${route.method} ${openApiPath(route.path)}`).sort();
    const documented = operations(document)
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .sort();
    expect(documented).toEqual(registered);
    for (const path of ["/api/v1/topics/{topic}/records", "/metrics", "/docs", "/api/v1/openapi.json"]) {
      expect(document.paths[path]).toBeDefined();
    }
  });

  test("every route describes itself with describeRoute()", () => {
    const undescribed = routes.filter((route) => route.doc === undefined).map((r) => `${r.method} ${r.path}`);
    expect(undescribed).toEqual([]);
  });

  test("every {name} in a path is a required path parameter, and operation ids are unique", async () => {
    const ids = new Set<string>();
    for (const { path, operation } of operations(await openApi())) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => name);
      const pathParameters = operation.parameters.filter((p) => p.in === "path");
      expect(pathParameters.map((p) => p.name)).toEqual(names as string[]);
      expect(pathParameters.every((p) => p.required)).toBe(true);
      expect(ids.has(operation.operationId)).toBe(false);
      ids.add(operation.operationId);
    }
  });

  test("query parameters are the route's zod schema, with the bounds and defaults of the limits", async () => {
    const fetchOperation = (await openApi()).paths["/api/v1/topics/{topic}/partitions/{partition}/records"]!
      .get!;
    const parameter = (name: string) => fetchOperation.parameters.find((p) => p.name === name)!;
    expect(parameter("max_bytes").schema).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: FETCH_MAX_BYTES_MAX,
      default: FETCH_MAX_BYTES_DEFAULT,
    });
    expect(parameter("max_wait_ms").schema).toMatchObject({
      type: "integer",
      maximum: FETCH_MAX_WAIT_MS_MAX,
    });
    expect(parameter("format").schema).toMatchObject({ enum: ["json", "binary"], default: "json" });
    expect(parameter("partition")).toMatchObject({ in: "path", schema: { type: "integer", minimum: 0 } });
    expect(parameter("offset").required).toBe(false);
  });

  test("every error an operation names is answered under its status with the Error schema", async () => {
    const document = await openApi();
    const statusOf = new Map(document["x-sluice-error-codes"].map((entry) => [entry.name, entry.status]));
    for (const { operation } of operations(document)) {
      expect(operation["x-sluice-errors"]).toContain("INTERNAL");
      for (const name of operation["x-sluice-errors"]) {
        const answer = operation.responses[String(statusOf.get(name))];
        expect(answer?.description).toContain(name);
        expect(answer?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Error" });
      }
    }
    expect(document.components.schemas.Error).toBeDefined();
  });

  test("the error code table is lib/errors.ts's, plus the internal error", async () => {
    const table = (await openApi())["x-sluice-error-codes"];
    const expected: Array<{ name: string; code: number; status: number }> = Object.entries(ERRORS).map(
      ([name, e]) => ({ name, code: e.code, status: e.status }),
    );
    expected.push({ name: "INTERNAL", code: 9000, status: 500 });
    expect(table.map(({ name, code, status }) => ({ name, code, status }))).toEqual(
      expected.sort((a, b) => a.code - b.code),
    );
  });
});

describe("examples", () => {
  test("every example a route documents parses with the schema it illustrates", () => {
    let checked = 0;
    for (const route of routes) {
      const contents = [
        route.doc?.body?.content,
        ...Object.values(route.doc?.responses ?? {}).map((r) => r.content),
      ];
      for (const schema of contents.flatMap((content) => Object.values(content ?? {}))) {
        if (schema === null) continue;
        const examples = (z.globalRegistry.get(schema)?.examples ?? []) as unknown[];
        for (const example of examples) {
          expect(() => schema.parse(example)).not.toThrow();
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(3);
  });
});

describe("real answers match the documented schemas", () => {
  /** Parses the answer with the schema documented for its route and status (strict: no extra fields). */
  const expectDocumented = (method: string, path: string, response: Response) =>
    expectDocumentedAnswer(routes, method, path, response, { emptyStatuses: [202], allowInternal: true });

  test("for every route, success and error answers alike", async () => {
    const topic = `${node.api}/topics`;
    const partition = `${topic}/answers/partitions/0`;
    await expectDocumented("GET", "/healthz", await fetch(`${root}/healthz`));
    await expectDocumented("GET", "/readyz", await fetch(`${root}/readyz`));
    await expectDocumented(
      "POST",
      "/api/v1/topics",
      await sendJson(topic, { name: "answers", partitions: 1 }),
    );
    await expectDocumented("POST", "/api/v1/topics", await sendJson(topic, { name: "answers" }));
    await expectDocumented("GET", "/api/v1/topics", await fetch(topic));
    await expectDocumented("GET", "/api/v1/topics/:topic", await fetch(`${topic}/answers`));
    await expectDocumented(
      "PATCH",
      "/api/v1/topics/:topic/config",
      await sendJson(`${topic}/answers/config`, { config: { "retention.ms": 60_000 } }, "PATCH"),
    );
    const records = [{ key: "k", value: { n: 1 }, headers: { h: "v" } }, { value: null }];
    await expectDocumented(
      "POST",
      "/api/v1/topics/:topic/records",
      await sendJson(`${topic}/answers/records`, { records }),
    );
    await expectDocumented(
      "POST",
      "/api/v1/topics/:topic/records",
      await sendJson(`${topic}/answers/records?acks=0`, { records }),
    );
    const raw = await fetch(`${partition}/batches`, {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.recordbatch" },
      body: encodeBatch([{ value: utf8("raw") }], { timestampMs: 0 }).slice(),
    });
    await expectDocumented("POST", "/api/v1/topics/:topic/partitions/:partition/batches", raw);
    const fetchPath = "/api/v1/topics/:topic/partitions/:partition/records";
    await expectDocumented("GET", fetchPath, await fetch(`${partition}/records?offset=0`));
    await expectDocumented("GET", fetchPath, await fetch(`${partition}/records?offset=99`));
    await expectDocumented("GET", fetchPath, await fetch(`${partition}/records?max_bytes=0`));
    const offsetsPath = "/api/v1/topics/:topic/partitions/:partition/offsets";
    await expectDocumented("GET", offsetsPath, await fetch(`${partition}/offsets?at=earliest`));
    await expectDocumented("GET", offsetsPath, await fetch(`${partition}/offsets?at=1700000000000`));
    await expectDocumented("GET", "/api/v1/openapi.json", await fetch(`${node.api}/openapi.json`));
    await expectDocumented(
      "DELETE",
      "/api/v1/topics/:topic",
      await fetch(`${topic}/answers`, { method: "DELETE" }),
    );
    await expectDocumented("GET", "/api/v1/topics/:topic", await fetch(`${topic}/answers`));
  });
});
