// Cluster mode from the node's config: undefined on a single node (no nodeId), else a started
// ClusterNode. main.ts calls this once, before it serves.
import type { Config } from "../config.ts";
import type { LogManager } from "../topics/log-manager.ts";
import { ClusterNode } from "./cluster-node.ts";

export function startClusterFromConfig(
  config: Config,
  logs: LogManager,
  log: (level: string, msg: string, fields?: Record<string, unknown>) => void,
): Promise<ClusterNode | undefined> {
  if (config.nodeId === undefined || config.advertisedUrl === undefined || config.etcdEndpoints === undefined)
    return Promise.resolve(undefined);
  return ClusterNode.start({
    nodeId: config.nodeId,
    advertisedUrl: config.advertisedUrl.replace(/\/$/, ""),
    etcdEndpoints: config.etcdEndpoints.split(","),
    etcdPrefix: config.etcdPrefix,
    sessionTimeoutMs: config.clusterSessionTimeoutMs,
    replicaLagTimeMaxMs: config.replicaLagTimeMaxMs,
    replicaFetchWaitMaxMs: config.replicaFetchWaitMaxMs,
    replicaHighWatermarkCheckpointIntervalMs: config.replicaHighWatermarkCheckpointIntervalMs,
    ackTimeoutMs: config.ackTimeoutMs,
    // The config requires it in cluster mode with access control on.
    interNodeToken: config.authEnabled ? config.authAdminToken : undefined,
    logs,
    log: (level, msg, fields = {}) => {
      if (level === "debug" && config.logLevel !== "debug") return;
      log(level, msg, { nodeId: config.nodeId, ...fields });
    },
  });
}
