// Routes describe themselves where they are registered: describeRoute() says what a route is for and
// what it answers, and the validators (paramsOf, queryOf, limitBody) say what they check. The OpenAPI
// document is read back from the app's routes, so it names the same schemas the routes validate with.
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { ErrorName } from "../lib/errors.ts";

/**
 * Bodies by media type: a JSON body with its schema, bytes or text with null (nothing a JSON Schema
 * could say about them).
 */
export type RouteContent = Readonly<Record<string, z.ZodType | null>>;

export interface RouteResponse {
  description: string;
  /** Absent for an empty answer (202, 204). */
  content?: RouteContent;
  /** Response headers by name, with what they carry. */
  headers?: Readonly<Record<string, string>>;
}

export interface RouteDoc {
  /** The group the route is listed under: Topics, Records, ... */
  tag: string;
  summary: string;
  description?: string;
  body?: { description?: string; content: RouteContent };
  /** Answers by status; errors are listed under `errors` instead. */
  responses: Readonly<Record<number, RouteResponse>>;
  /** Errors the route's own work may answer, beyond those its validators imply. */
  errors?: readonly ErrorName[];
}

/** What one handler in a route's chain contributes to its description. */
export interface RoutePart {
  doc?: RouteDoc;
  params?: z.ZodType;
  query?: z.ZodType;
  errors?: readonly ErrorName[];
}

const parts = new WeakMap<object, RoutePart>();

/** A route's description, as the first handler in its chain; it does nothing when a request runs. */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  const describe: MiddlewareHandler = (_c, next) => next();
  return documented(describe, { doc });
}

/** Records what `handler` contributes to its route's description and returns it unchanged. */
export function documented<T extends object>(handler: T, part: RoutePart): T {
  parts.set(handler, part);
  return handler;
}

/** What `handler` contributes, if anything. */
export function routePartOf(handler: object): RoutePart | undefined {
  return parts.get(handler);
}

/** What reading a JSON body may answer (readJsonBody): a wrong Content-Type, bad UTF-8 or JSON. */
export const JSON_BODY_ERRORS = ["UNSUPPORTED_MEDIA_TYPE", "INVALID_REQUEST"] as const satisfies ErrorName[];

/** What any write to the logs may answer when the disk or the node gives out. */
export const STORAGE_ERRORS = ["DISK_FULL", "STORAGE_ERROR", "LOG_CLOSED"] as const satisfies ErrorName[];

/** What appending produced batches may answer (lib/gateway/append-batches.ts), JSON or raw alike. */
export const APPEND_ERRORS = [
  "UNKNOWN_TOPIC_OR_PARTITION",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "INVALID_PRODUCER_EPOCH",
  ...STORAGE_ERRORS,
] as const satisfies ErrorName[];

/** A JSON body or answer with its schema. */
export function json(schema: z.ZodType): RouteContent {
  return { "application/json": schema };
}
