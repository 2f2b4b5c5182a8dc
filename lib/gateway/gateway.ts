// The services the HTTP routes share: the topics' logs, the fetches waiting for appends, the
// partitioner for keyless records, and the metrics they count into. createApp builds one per app.
import type { ClusterNode } from "../cluster/cluster-node.ts";
import { SluiceMetrics } from "../metrics/sluice-metrics.ts";
import type { LogManager } from "../topics/log-manager.ts";
import { AppendWaiters } from "./append-waiters.ts";
import { StickyPartitioner } from "./partitioner.ts";

export interface Gateway {
  readonly logs: LogManager;
  readonly waiters: AppendWaiters;
  readonly sticky: StickyPartitioner;
  readonly metrics: SluiceMetrics;
  /** Cluster mode (lib/cluster/); undefined on a single node. */
  readonly cluster?: ClusterNode;
}

export function createGateway(
  logs: LogManager,
  options: { random?: () => number; metrics?: SluiceMetrics; cluster?: ClusterNode } = {},
): Gateway {
  const waiters = new AppendWaiters(logs.clock);
  // Replication moves high watermarks and deletes topics outside any request: long polls must hear it.
  options.cluster?.replicas.onProgress((topic, partition) => waiters.notify(topic, partition));
  options.cluster?.onTopicDeleted((topic) => waiters.notifyTopic(topic));
  return {
    logs,
    waiters,
    sticky: new StickyPartitioner(options.random),
    metrics: options.metrics ?? new SluiceMetrics(logs),
    ...(options.cluster ? { cluster: options.cluster } : {}),
  };
}
