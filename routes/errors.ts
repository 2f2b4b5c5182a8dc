// The one place errors become HTTP responses: {"error": {"code", "name", "message", "field"?}}.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AssertionError } from "../lib/assert.ts";
import { ERRORS, isSluiceError } from "../lib/errors.ts";

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
  return c.json({ error: { code: 9000, name: "INTERNAL", message: internal } }, 500);
}
