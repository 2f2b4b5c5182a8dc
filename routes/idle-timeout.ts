// Bun.serve closes a connection that has been idle for its idleTimeout (10 s by default), and a long
// poll waiting for data looks idle. A fetch that may wait longer asks the server for more time for
// its own request only. Under Bun the server is hono's c.env; elsewhere this does nothing.
import type { Context } from "hono";

/** Seconds allowed beyond the wait itself: reading the answer and sending it. */
const IDLE_SLACK_S = 10;

interface PerRequestTimeout {
  timeout(request: Request, seconds: number): void;
}

/** Lets the request stay idle for `waitMs` plus slack; a no-op where the server cannot. */
export function allowIdleFor(c: Context, waitMs: number): void {
  const server = c.env as Partial<PerRequestTimeout> | undefined;
  if (typeof server?.timeout !== "function") return;
  server.timeout(c.req.raw, Math.ceil(waitMs / 1000) + IDLE_SLACK_S);
}
