// The one place errors become HTTP responses: {"error": {"code", "name", "message", "field"?}}.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { AssertionError } from "../lib/assert.ts";
import { ERRORS, type ErrorName, isSluiceError } from "../lib/errors.ts";

/** Sluice's own fault (an assertion, a bug): not in the table, as no input can cause it. */
export const INTERNAL_ERROR = { name: "INTERNAL", code: 9000, status: 500 } as const;

/** Every error answer's body; the OpenAPI document describes errors with it. */
export const errorBody = z
  .object({
    error: z
      .object({
        code: z.number().int().meta({ description: "Stable numeric code; never reused." }),
        name: z.enum([...(Object.keys(ERRORS) as ErrorName[]), INTERNAL_ERROR.name]),
        message: z.string(),
        field: z.string().optional().meta({ description: "The input at fault: records[3].value, max_bytes" }),
      })
      .strict(),
  })
  .strict();

export function errorResponse(error: unknown, c: Context): Response {
  if (isSluiceError(error)) return c.json({ error: error.toJSON() }, error.status as ContentfulStatusCode);
  if (error instanceof HTTPException) {
    const body = { code: ERRORS.INVALID_REQUEST.code, name: "INVALID_REQUEST", message: error.message };
    return c.json({ error: body }, error.status);
  }
  // An assertion failure or anything unexpected is Sluice's fault: say so without leaking internals.
  const internal = error instanceof AssertionError ? "internal invariant violated" : "internal error";
  console.error(
    JSON.stringify({ level: "error", msg: internal, error: String(error), stack: (error as Error)?.stack }),
  );
  const { code, name, status } = INTERNAL_ERROR;
  return c.json({ error: { code, name, message: internal } }, status);
}
