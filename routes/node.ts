// The node at a glance, for the admin UI's overview and anyone's dashboard: version, uptime, disk,
// counts, and traffic rates now (GET /node), over the last minutes (GET /stats) and live as
// server-sent events (GET /stats/stream).
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import {
  TRAFFIC_SAMPLE_INTERVAL_MS,
  TrafficRates,
  type TrafficSample,
} from "../lib/metrics/traffic-rates.ts";
import { diskUsage } from "../lib/platform/disk-usage.ts";
import packageJson from "../package.json" with { type: "json" };
import type { AppDeps } from "./app.ts";
import { allowIdleFor } from "./idle-timeout.ts";
import { type NodeAnswer, nodeAnswer, trafficHistoryAnswer } from "./node-answers.ts";
import { describeRoute, json } from "./route-docs.ts";

/** How long one stats stream may stay open before the browser reconnects (EventSource does it itself). */
const STATS_STREAM_MAX_MS = 10 * 60 * 1000;

export function nodeRoutes(deps: AppDeps, metrics: SluiceMetrics): Hono {
  const { logs } = deps;
  const clock = metrics.clock;
  const startedMs = clock.nowMs();
  const rates = new TrafficRates(metrics, { clock, intervalMs: TRAFFIC_SAMPLE_INTERVAL_MS });
  rates.start();
  const app = new Hono();

  app.get(
    "/node",
    describeRoute({
      tag: "Operations",
      summary: "This node at a glance",
      description: "Version, uptime, data directory size and free disk, topic and partition counts, rates.",
      responses: { 200: { description: "The node.", content: json(nodeAnswer) } },
    }),
    (c) => {
      const topics = logs.listTopics();
      const disk = diskUsage(logs.dataDir);
      const answer: NodeAnswer = {
        version: packageJson.version,
        startedMs,
        uptimeMs: Math.max(0, clock.nowMs() - startedMs),
        dataDir: logs.dataDir,
        dataDirBytes: disk.usedBytes,
        diskFreeBytes: disk.freeBytes,
        diskTotalBytes: disk.totalBytes,
        topics: topics.length,
        partitions: topics.reduce((sum, topic) => sum + topic.partitions, 0),
        rates: rates.latest().total,
      };
      return c.json(answer);
    },
  );

  app.get(
    "/stats",
    describeRoute({
      tag: "Operations",
      summary: "Traffic rates over the last minutes",
      description: "Records and bytes per second in and out, in total and per topic, one sample a second.",
      responses: { 200: { description: "The samples kept.", content: json(trafficHistoryAnswer) } },
    }),
    (c) => c.json({ intervalMs: TRAFFIC_SAMPLE_INTERVAL_MS, samples: rates.history() }),
  );

  app.get(
    "/stats/stream",
    describeRoute({
      tag: "Operations",
      summary: "Traffic rates, live",
      description:
        "Server-sent events: the latest `sample` at once, then one per interval (a JSON traffic sample, as " +
        "in GET /stats). " +
        "The stream ends after 10 minutes; EventSource reconnects by itself.",
      responses: { 200: { description: "The event stream.", content: { "text/event-stream": null } } },
    }),
    (c) => {
      allowIdleFor(c, STATS_STREAM_MAX_MS);
      return streamSSE(c, async (stream) => {
        // The newest sample at once: the client has current rates, and the headers go out now.
        const queue: TrafficSample[] = [rates.latest()];
        let wake: (() => void) | undefined;
        const unsubscribe = rates.subscribe((sample) => {
          queue.push(sample);
          wake?.();
        });
        const endMs = clock.monotonicMs() + STATS_STREAM_MAX_MS;
        stream.onAbort(() => wake?.());
        try {
          while (!stream.aborted && clock.monotonicMs() < endMs) {
            const sample = queue.shift();
            if (sample === undefined) {
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              wake = undefined;
              continue;
            }
            await stream.writeSSE({ event: "sample", data: JSON.stringify(sample) });
          }
        } finally {
          unsubscribe();
        }
      });
    },
  );

  return app;
}
