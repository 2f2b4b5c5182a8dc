// Sluice's own metric set, off the network: what the gateway counts when a fetch is turned away, and
// the consumer-lag hook that consumer groups will plug into.
import { afterEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { AppendWaiters } from "../../lib/gateway/append-waiters.ts";
import { fetchRecords } from "../../lib/gateway/fetch-records.ts";
import { createGateway, type Gateway } from "../../lib/gateway/gateway.ts";
import { type ConsumerLagSource, SluiceMetrics } from "../../lib/metrics/sluice-metrics.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { START_MS } from "../log/helpers.ts";
import { parseExposition, sampleValue } from "./exposition-parser.ts";

const opened: LogManager[] = [];
afterEach(async () => {
  for (const logs of opened.splice(0)) await logs.close();
});

function openLogs(): LogManager {
  const logs = LogManager.open({
    dataDir: "/data",
    storage: new MemoryStorage(),
    clock: new ManualClock(START_MS),
  });
  opened.push(logs);
  return logs;
}

describe("limit hits", () => {
  test("a fetch that finds the waiter limit reached answers at once and counts a fetch_waiters hit", async () => {
    const logs = openLogs();
    logs.createTopic("quiet");
    const metrics = new SluiceMetrics(logs);
    const gateway: Gateway = {
      ...createGateway(logs, { metrics }),
      waiters: new AppendWaiters(logs.clock, { waitersMax: 0 }),
    };
    const request = { topic: "quiet", partition: 0, maxBytes: 1024, minBytes: 1, maxWaitMs: 30_000 };
    const result = await fetchRecords(gateway, request);
    expect(result.read.slice).toBeUndefined();
    const families = parseExposition(metrics.render());
    expect(sampleValue(families, "sluice_limit_hits_total", { limit: "fetch_waiters" })).toBe(1);
    expect(sampleValue(families, "sluice_limit_hits_total", { limit: "request_body_bytes" })).toBe(0);
  });
});

describe("consumer lag", () => {
  test("is exposed per group and partition from the source passed in, read at each scrape", () => {
    const logs = openLogs();
    let lag = 5;
    const source: ConsumerLagSource = {
      lags: () => [{ group: "billing", topic: "orders", partition: 2, lag }],
    };
    const metrics = new SluiceMetrics(logs, { consumerLag: source });
    const labels = { group: "billing", topic: "orders", partition: "2" };
    expect(sampleValue(parseExposition(metrics.render()), "sluice_consumer_group_lag", labels)).toBe(5);
    lag = 0;
    expect(sampleValue(parseExposition(metrics.render()), "sluice_consumer_group_lag", labels)).toBe(0);
  });

  test("is not described until there is a source for it", () => {
    const metrics = new SluiceMetrics(openLogs());
    expect(parseExposition(metrics.render()).has("sluice_consumer_group_lag")).toBe(false);
  });
});
