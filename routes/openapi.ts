// The OpenAPI 3.1 document at GET /api/v1/openapi.json, read back from the app's own routes: each
// route's describeRoute() and the zod schemas its validators check (lib/errors.ts for the errors),
// so the document names every route there is and the very schemas the requests are checked with.
import { Hono } from "hono";
import type { RouterRoute } from "hono/types";
import { z } from "zod";
import { ERRORS, type ErrorName } from "../lib/errors.ts";
import packageJson from "../package.json" with { type: "json" };
import { errorBody, INTERNAL_ERROR } from "./errors.ts";
import { describeRoute, json, type RouteContent, type RouteDoc, routePartOf } from "./route-docs.ts";

export type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiMedia {
  schema: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, OpenApiMedia>;
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  parameters: OpenApiParameter[];
  requestBody?: { required: true; description?: string; content: Record<string, OpenApiMedia> };
  responses: Record<string, OpenApiResponse>;
  /** The names of the errors the operation may answer, in code order. */
  "x-sluice-errors": string[];
}

export interface ErrorCodeEntry {
  name: string;
  code: number;
  status: number;
  retriable: boolean;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema> };
  /** Every error code, as lib/errors.ts defines them, plus the internal one. */
  "x-sluice-error-codes": ErrorCodeEntry[];
}

/** The groups routes are listed under, in this order; a route without a description lands in Other. */
export const TAGS = [
  { name: "Topics", description: "Create, describe, configure and delete topics." },
  { name: "Records", description: "Produce JSON records, and fetch them back as JSON or raw batches." },
  { name: "Batches", description: "Produce RecordBatch v2 bytes as a Kafka producer builds them." },
  { name: "Offsets", description: "Find offsets: earliest, latest, or by time." },
  {
    name: "Producers",
    description: "Idempotent producers: ids and epochs, so a retried produce is not appended twice.",
  },
  {
    name: "Groups",
    description: "Consumer groups: membership and rebalances, committed offsets and lag, resets.",
  },
  { name: "Access", description: "API tokens and their grants, when access control is on." },
  { name: "Operations", description: "Health, metrics and this documentation." },
  { name: "Other", description: "Routes that do not describe themselves yet." },
];

const ERROR_REF = { $ref: "#/components/schemas/Error" };

/** One method on one path, with what its chain of handlers says about it. */
export interface DescribedRoute {
  method: string;
  /** As hono writes it: /api/v1/topics/:topic */
  path: string;
  doc: RouteDoc | undefined;
  params: z.ZodType | undefined;
  query: z.ZodType | undefined;
  errors: ErrorName[];
}

/** The routes of an app (middleware for every method left out), each with its description. */
export function describedRoutes(routes: readonly RouterRoute[]): DescribedRoute[] {
  const byKey = new Map<string, DescribedRoute>();
  for (const route of routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    let described = byKey.get(key);
    if (described === undefined) {
      described = {
        method: route.method,
        path: route.path,
        doc: undefined,
        params: undefined,
        query: undefined,
        errors: [],
      };
      byKey.set(key, described);
    }
    const part = routePartOf(route.handler);
    if (part === undefined) continue;
    described.doc ??= part.doc;
    described.params ??= part.params;
    described.query ??= part.query;
    described.errors.push(...(part.errors ?? []), ...(part.doc?.errors ?? []));
  }
  return [...byKey.values()];
}

/** hono's /topics/:topic as OpenAPI's /topics/{topic} (a :name{regex} loses its regex). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
}

export function buildOpenApiDocument(routes: readonly RouterRoute[]): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of describedRoutes(routes)) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operationOf(route, path);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Sluice HTTP API",
      version: packageJson.version,
      description:
        "A Kafka-style streaming node: topics of partitioned logs in Kafka's on-disk format. " +
        'Every error answers {"error": {"code", "name", "message", "field"?}} with a fitting status.',
    },
    tags: tagsOf(paths),
    paths,
    components: { schemas: { Error: toJsonSchema(errorBody, "output") } },
    "x-sluice-error-codes": errorCodes(),
  };
}

/** The known tags in their order, then any other tag a route uses, so no route goes unlisted. */
function tagsOf(paths: OpenApiDocument["paths"]): OpenApiDocument["tags"] {
  const used = new Set(
    Object.values(paths).flatMap((operations) => Object.values(operations).map((o) => o.tags[0]!)),
  );
  const known = TAGS.filter((tag) => used.has(tag.name));
  const others = [...used].filter((name) => !TAGS.some((tag) => tag.name === name));
  return [...known, ...others.map((name) => ({ name, description: "" }))];
}

function operationOf(route: DescribedRoute, path: string): OpenApiOperation {
  const doc = route.doc ?? { tag: "Other", summary: `${route.method} ${route.path}`, responses: {} };
  const errors = errorNamesOf(route.errors);
  const operation: OpenApiOperation = {
    operationId: operationIdOf(route.method, path),
    tags: [doc.tag],
    summary: doc.summary,
    parameters: [...pathParameters(path, route.params), ...queryParameters(route.query)],
    responses: { ...answers(doc), ...errorAnswers(errors) },
    "x-sluice-errors": errors,
  };
  if (doc.description !== undefined) operation.description = doc.description;
  if (doc.body !== undefined) {
    operation.requestBody = { required: true, content: contentOf(doc.body.content, "input") };
    if (doc.body.description !== undefined) operation.requestBody.description = doc.body.description;
  }
  return operation;
}

/** getApiV1TopicsTopicPartitionsPartitionRecords: stable, and unique per method and path. */
function operationIdOf(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((word) => word !== "");
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
}

/** Every {name} in the path, described by the params schema where it says something. */
function pathParameters(path: string, schema: z.ZodType | undefined): OpenApiParameter[] {
  const properties = schema === undefined ? {} : propertiesOf(toJsonSchema(schema, "input"));
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) =>
    parameter(name!, "path", true, properties[name!]),
  );
}

function queryParameters(schema: z.ZodType | undefined): OpenApiParameter[] {
  if (schema === undefined) return [];
  const jsonSchema = toJsonSchema(schema, "input");
  const required = new Set((jsonSchema.required as string[] | undefined) ?? []);
  return Object.entries(propertiesOf(jsonSchema)).map(([name, property]) =>
    parameter(name, "query", required.has(name), property),
  );
}

function parameter(
  name: string,
  location: "path" | "query",
  required: boolean,
  property: JsonSchema | undefined,
): OpenApiParameter {
  const { description, ...schema } = property ?? { type: "string" };
  const result: OpenApiParameter = { name, in: location, required, schema };
  if (typeof description === "string") result.description = description;
  return result;
}

function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  return (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
}

function answers(doc: RouteDoc): Record<string, OpenApiResponse> {
  const result: Record<string, OpenApiResponse> = {};
  for (const [status, response] of Object.entries(doc.responses)) {
    const answer: OpenApiResponse = { description: response.description };
    if (response.headers !== undefined) {
      answer.headers = Object.fromEntries(
        Object.entries(response.headers).map(([name, description]) => [
          name,
          { description, schema: { type: "string" } },
        ]),
      );
    }
    if (response.content !== undefined) answer.content = contentOf(response.content, "output");
    result[status] = answer;
  }
  return result;
}

/** One answer per error status, naming the errors that answer with it. */
function errorAnswers(names: string[]): Record<string, OpenApiResponse> {
  const byStatus = new Map<number, string[]>();
  for (const name of names) {
    const status = statusOf(name);
    byStatus.set(status, [...(byStatus.get(status) ?? []), name]);
  }
  const result: Record<string, OpenApiResponse> = {};
  for (const [status, grouped] of [...byStatus].sort(([a], [b]) => a - b)) {
    result[String(status)] = {
      description: grouped.join(", "),
      content: { "application/json": { schema: ERROR_REF } },
    };
  }
  return result;
}

function contentOf(content: RouteContent, io: "input" | "output"): Record<string, OpenApiMedia> {
  return Object.fromEntries(
    Object.entries(content).map(([mediaType, schema]) => [
      mediaType,
      { schema: schema === null ? bytesSchema(mediaType) : toJsonSchema(schema, io) },
    ]),
  );
}

/** A body JSON Schema cannot look into: bytes, or text in a format of its own. */
function bytesSchema(mediaType: string): JsonSchema {
  return mediaType.startsWith("text/") ? { type: "string" } : { type: "string", contentMediaType: mediaType };
}

/** The route's errors and the internal one every route may answer, once each, in code order. */
function errorNamesOf(names: readonly ErrorName[]): string[] {
  const unique = [...new Set(names)].sort((a, b) => ERRORS[a].code - ERRORS[b].code);
  return [...unique, INTERNAL_ERROR.name];
}

function statusOf(name: string): number {
  return name === INTERNAL_ERROR.name ? INTERNAL_ERROR.status : ERRORS[name as ErrorName].status;
}

function errorCodes(): ErrorCodeEntry[] {
  const entries: ErrorCodeEntry[] = Object.entries(ERRORS).map(([name, entry]) => ({
    name,
    code: entry.code,
    status: entry.status,
    retriable: entry.retriable,
  }));
  entries.push({ ...INTERNAL_ERROR, retriable: false });
  return entries.sort((a, b) => a.code - b.code);
}

/**
 * A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect). Requests are described by what they
 * accept (input), answers by what they carry (output). A path or query value is text, but one that
 * the route turns into a number is documented as the integer it must be, with its bounds and default.
 */
export function toJsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const result = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string; out?: z.ZodType; defaultValue?: unknown };
      const jsonSchema = ctx.jsonSchema as JsonSchema;
      if (io === "input" && def.type === "pipe" && def.out?._zod.def.type === "number") {
        documentAsInteger(jsonSchema, z.toJSONSchema(def.out) as JsonSchema);
      }
      // zod leaves defaults and examples out of a transforming schema's input side, as they are
      // output values; here the default is the value the route uses, and examples are requests.
      if (def.type === "default" && jsonSchema.default === undefined) {
        jsonSchema.default = jsonSchema.type === "string" ? String(def.defaultValue) : def.defaultValue;
      }
      const examples = z.globalRegistry.get(ctx.zodSchema)?.examples;
      if (examples !== undefined && jsonSchema.examples === undefined) jsonSchema.examples = examples;
      dropSafeIntegerBounds(jsonSchema);
    },
  }) as JsonSchema;
  delete result.$schema;
  return result;
}

function documentAsInteger(jsonSchema: JsonSchema, number: JsonSchema): void {
  delete jsonSchema.pattern;
  jsonSchema.type = "integer";
  if (number.minimum !== undefined) jsonSchema.minimum = number.minimum;
  if (number.maximum !== undefined) jsonSchema.maximum = number.maximum;
}

/** ±(2^53 - 1), which zod states for every integer, bounds nothing a reader needs to know. */
function dropSafeIntegerBounds(jsonSchema: JsonSchema): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

/** The document's answer, in outline: the OpenAPI 3.1 schema itself is the full description. */
const openApiShape = z
  .object({ openapi: z.literal("3.1.0"), paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
  .loose();

const documents = new WeakMap<Hono, OpenApiDocument>();

/** The app's document, built at the first call: by the first request every route is registered. */
export function openApiDocumentOf(app: Hono): OpenApiDocument {
  let document = documents.get(app);
  if (document === undefined) {
    document = buildOpenApiDocument(app.routes);
    documents.set(app, document);
  }
  return document;
}

/** GET /openapi.json, mounted under /api/v1. */
export function openApiRoutes(app: Hono): Hono {
  const routes = new Hono();
  routes.get(
    "/openapi.json",
    describeRoute({
      tag: "Operations",
      summary: "This API as an OpenAPI 3.1 document",
      responses: { 200: { description: "The document.", content: json(openApiShape) } },
    }),
    (c) => c.json(openApiDocumentOf(app)),
  );
  return routes;
}
