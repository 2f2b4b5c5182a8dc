// The HTTP API under /api/v1: one sub-app per resource, all sharing one gateway (the logs, the
// fetches waiting for appends, the partitioner for keyless records).
import { Hono } from "hono";
import { createGateway } from "../lib/gateway/gateway.ts";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import type { AppDeps } from "./app.ts";
import { batchRoutes } from "./batches.ts";
import { offsetRoutes } from "./offsets.ts";
import { producerRoutes } from "./producers.ts";
import { recordRoutes } from "./records.ts";
import { topicRoutes } from "./topics.ts";

export function apiRoutes(deps: AppDeps, metrics: SluiceMetrics): Hono {
  const gateway = createGateway(deps.logs, { metrics });
  const api = new Hono();
  api.route("/topics", topicRoutes(gateway));
  api.route("/topics", recordRoutes(gateway));
  api.route("/topics", batchRoutes(gateway));
  api.route("/topics", offsetRoutes(gateway));
  api.route("/producers", producerRoutes(gateway));
  return api;
}
