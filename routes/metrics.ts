// GET /metrics: every metric in Prometheus's text format, for a scraper.
import { Hono } from "hono";
import { PROMETHEUS_CONTENT_TYPE } from "../lib/metrics/exposition.ts";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import { describeRoute } from "./route-docs.ts";

export function metricsRoutes(metrics: SluiceMetrics): Hono {
  const app = new Hono();
  app.get(
    "/metrics",
    describeRoute({
      tag: "Operations",
      summary: "Metrics for Prometheus",
      description:
        "Records and bytes in and out per partition, request latency by route, requests in flight, " +
        "partition offsets and sizes, and limit hits, in the text exposition format 0.0.4.",
      responses: { 200: { description: "The metrics.", content: { [PROMETHEUS_CONTENT_TYPE]: null } } },
    }),
    (c) => c.body(metrics.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
  );
  return app;
}
