// The services the HTTP routes share: the topics' logs, the fetches waiting for appends, and the
// partitioner for keyless records. createApp builds one per app.
import type { LogManager } from "../topics/log-manager.ts";
import { AppendWaiters } from "./append-waiters.ts";
import { StickyPartitioner } from "./partitioner.ts";

export interface Gateway {
  readonly logs: LogManager;
  readonly waiters: AppendWaiters;
  readonly sticky: StickyPartitioner;
}

export function createGateway(logs: LogManager, options: { random?: () => number } = {}): Gateway {
  return {
    logs,
    waiters: new AppendWaiters(logs.clock),
    sticky: new StickyPartitioner(options.random),
  };
}
