// Input checks shared by the routes: zod over path params, query strings and bodies, with errors that
// name the bad field (records[3].value, max_bytes) as INVALID_REQUEST; body size and media type.
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { validator } from "hono/validator";
import { z } from "zod";
import { SluiceError } from "../lib/errors.ts";
import { REQUEST_BODY_BYTES_MAX } from "../lib/gateway/limits.ts";
import { decodeText } from "../lib/gateway/payload-format.ts";
import type { LimitName } from "../lib/metrics/sluice-metrics.ts";
import { documented } from "./route-docs.ts";

/** Parses `input` with `schema`; the first issue becomes an INVALID_REQUEST naming its field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = fieldOf(issue);
  throw new SluiceError("INVALID_REQUEST", `${field}: ${issue.message}`, { field });
}

/** records[3].value from ["records", 3, "value"]; an unknown key is named itself. */
function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
  let field = "";
  for (const part of path) {
    if (typeof part === "number") field += `[${part}]`;
    else field += field === "" ? String(part) : `.${String(part)}`;
  }
  return field === "" ? "body" : field;
}

/** Validates the path params; handlers read them with c.req.valid("param"). */
export function paramsOf<T extends z.ZodType>(schema: T) {
  const check = validator("param", (value): z.output<T> => parseInput(schema, value));
  return documented(check, { params: schema, errors: ["INVALID_REQUEST"] });
}

/** Validates the query string (a repeated key arrives as an array, which the schemas refuse). */
export function queryOf<T extends z.ZodType>(schema: T) {
  const check = validator("query", (value): z.output<T> => parseInput(schema, value));
  return documented(check, { query: schema, errors: ["INVALID_REQUEST"] });
}

/** A decimal integer in a path or query string, within [min, max] (safe integers only). */
export function integerString(options: { min?: number; max?: number } = {}) {
  return z
    .string()
    .regex(/^-?\d+$/, "must be a decimal integer")
    .transform(Number)
    .refine(Number.isSafeInteger, "must be an integer within ±2^53")
    .pipe(
      z
        .number()
        .min(options.min ?? Number.MIN_SAFE_INTEGER)
        .max(options.max ?? Number.MAX_SAFE_INTEGER),
    );
}

/** true or false in a query string. */
export const booleanString = z.enum(["true", "false"]).transform((text) => text === "true");

const topicName = z.string().min(1).meta({ description: "The topic's name." });
const partitionNumber = integerString({ min: 0 }).meta({ description: "The partition's number, from 0." });

export const topicParams = z.object({ topic: topicName });
export const partitionParams = z.object({ topic: topicName, partition: partitionNumber });

/**
 * Bodies above REQUEST_BODY_BYTES_MAX are refused before they are read (by Content-Length), each
 * refusal counted as a hit on the request_body_bytes limit.
 */
export function limitBody(limits: { limitHit(limit: LimitName): void }, maxBytes = REQUEST_BODY_BYTES_MAX) {
  const check = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      limits.limitHit("request_body_bytes");
      throw new SluiceError("REQUEST_TOO_LARGE", `the body is larger than ${maxBytes} bytes`, {
        field: "body",
      });
    },
  });
  return documented(check, { errors: ["REQUEST_TOO_LARGE"] });
}

/** UNSUPPORTED_MEDIA_TYPE unless the body's Content-Type (parameters aside) is `expected`. */
export function requireMediaType(c: Context, expected: string | RegExp, name = String(expected)): void {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const matches = typeof expected === "string" ? mediaType === expected : expected.test(mediaType);
  if (matches) return;
  throw new SluiceError(
    "UNSUPPORTED_MEDIA_TYPE",
    `Content-Type must be ${name}, not ${mediaType === "" ? "missing" : mediaType}`,
    { field: "content-type" },
  );
}

/** application/json or any application/<x>+json. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/;

/** The body as JSON: its Content-Type must say so, and it must be valid UTF-8 (not patched up). */
export async function readJsonBody(c: Context): Promise<unknown> {
  requireMediaType(c, JSON_MEDIA_TYPE, "application/json");
  const text = decodeText(new Uint8Array(await c.req.arrayBuffer()));
  if (text === undefined)
    throw new SluiceError("INVALID_REQUEST", "the body is not valid UTF-8", { field: "body" });
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new SluiceError("INVALID_REQUEST", `the body is not valid JSON: ${why}`, { field: "body" });
  }
}
