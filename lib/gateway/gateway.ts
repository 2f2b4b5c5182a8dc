// The services the HTTP routes share: the topics' logs, the fetches waiting for appends, the
// partitioner for keyless records, and the metrics they count into. createApp builds one per app.
import { SluiceMetrics } from "../metrics/sluice-metrics.ts";
import type { LogManager } from "../topics/log-manager.ts";
import { AppendWaiters } from "./append-waiters.ts";
import { StickyPartitioner } from "./partitioner.ts";

export interface Gateway {
  readonly logs: LogManager;
  readonly waiters: AppendWaiters;
  readonly sticky: StickyPartitioner;
  readonly metrics: SluiceMetrics;
}

export function createGateway(
  logs: LogManager,
  options: { random?: () => number; metrics?: SluiceMetrics } = {},
): Gateway {
  return {
    logs,
    waiters: new AppendWaiters(logs.clock),
    sticky: new StickyPartitioner(options.random),
    metrics: options.metrics ?? new SluiceMetrics(logs),
  };
}
