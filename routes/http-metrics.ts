// Times every request and counts those in flight. Requests are labelled by the route pattern that
// answered (/api/v1/topics/:topic), never the raw path, and by a known method, so clients cannot mint
// new series. Under Bun the server is hono's c.env, and the metrics read its own counts from it.
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { type ServerStats, type SluiceMetrics, UNMATCHED_ROUTE } from "../lib/metrics/sluice-metrics.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function httpMetrics(metrics: SluiceMetrics): MiddlewareHandler {
  let serverSeen = false;
  return async (c, next) => {
    if (!serverSeen && isServerStats(c.env)) {
      metrics.watchServer(c.env);
      serverSeen = true;
    }
    const startedMs = metrics.requestStarted();
    try {
      await next();
    } finally {
      const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
      metrics.requestFinished({ method, route: routeOf(c), status: c.res.status }, startedMs);
    }
  };
}

/**
 * The pattern of the route that answered. After next() the route index points at the last handler
 * that ran; when that is a middleware for every method (this one), no route matched.
 */
function routeOf(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  return route === undefined || route.method === "ALL" ? UNMATCHED_ROUTE : route.path;
}

function isServerStats(env: unknown): env is ServerStats {
  const server = env as Partial<ServerStats> | undefined;
  return typeof server?.pendingRequests === "number" && typeof server.pendingWebSockets === "number";
}
