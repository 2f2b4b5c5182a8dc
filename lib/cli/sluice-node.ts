// One running node: the data directory opened (recovered when needed), consumer groups replayed, the
// HTTP server listening; and its orderly stop. Signals and process exit are serve.ts's business.

import { createApp } from "../../routes/app.ts";
import { accessControlFromConfig } from "../auth/from-config.ts";
import { ClusterGroupCoordination } from "../cluster/group-coordination.ts";
import { startClusterFromConfig } from "../cluster/start-cluster.ts";
import type { Config } from "../config.ts";
import { GroupCoordinator } from "../groups/group-coordinator.ts";
import type { Logger } from "../logger.ts";
import { type HttpServer, startHttpServer } from "../platform/http-server.ts";
import { LogManager } from "../topics/log-manager.ts";
import { VERSION } from "./version.ts";

export interface SluiceNode {
  readonly server: HttpServer;
  readonly logs: LogManager;
  /** The base URL a client on this machine reaches the node at. */
  readonly url: string;
  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs` (then cuts them), closes
   * WebSockets with 1001, flushes and closes every log and writes the clean-shutdown marker.
   */
  stop(options: { drainMs: number }): Promise<void>;
}

/** A wildcard bind address is not somewhere to point a browser: show loopback instead. */
function reachableHost(hostname: string): string {
  if (hostname === "0.0.0.0" || hostname === "::" || hostname === "") return "127.0.0.1";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

export async function startSluiceNode(config: Config, logger: Logger): Promise<SluiceNode> {
  const startedMs = performance.now();
  const logs = LogManager.open({
    dataDir: config.dataDir,
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
    onBackgroundError: (error, work) => logger.error("background work failed", { work, error }),
  });
  logRecovery(logs, logger);
  // Cluster mode (nodeId, advertisedUrl, etcdEndpoints): registers in etcd and takes up its partitions.
  const cluster = await startClusterFromConfig(config, logs, (level, msg, fields) =>
    logger[level as "debug" | "info" | "warn" | "error"](msg, fields),
  );
  // Cluster mode: groups live in the replicated __consumer_offsets, each coordinated by the leader of
  // its partition, loaded when this node leads one (lib/cluster/group-coordination.ts).
  const groupCoordination = cluster ? new ClusterGroupCoordination(cluster) : undefined;
  // Alone: replays __consumer_offsets; committed offsets come back, group memberships start empty.
  const groups = GroupCoordinator.open({
    logs,
    initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
    onReplaySkipped: (error, where) =>
      logger.warn("offsets topic record skipped", { where, error: String(error) }),
    ...(groupCoordination ? { replication: groupCoordination } : {}),
  });
  groupCoordination?.follow(groups);
  logger.info("consumer groups loaded", { groups: groups.list().length, ...groups.replay });
  const access = accessControlFromConfig(config, logs);
  const app = createApp({
    logs,
    groups,
    access,
    ...appLimitsFromConfig(config),
    ...(cluster ? { cluster } : {}),
    ...(groupCoordination ? { groupCoordination } : {}),
  });
  const server = startHttpServer({
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    tls: { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile },
  });
  const url = `${server.protocol}://${reachableHost(server.hostname)}:${server.port}`;
  logger.info("sluice ready", {
    version: VERSION,
    dataDir: config.dataDir,
    listen: `${server.hostname}:${server.port}`,
    url,
    apiUrl: `${url}/api/v1`,
    uiUrl: `${url}/ui`,
    authEnabled: access.enabled,
    startupMs: Math.round(performance.now() - startedMs),
  });

  const stop = async ({ drainMs }: { drainMs: number }) => {
    // Joins waiting for a rebalance answer now (LOG_CLOSED) rather than hold the stop for their timeout.
    groups.close();
    // Leaves etcd first (its lease revoked): its partitions move now rather than after the timeout.
    await cluster?.close();
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drained = server.stop(false).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => {
      drainTimer = setTimeout(() => resolve(false), drainMs);
    });
    if (!(await Promise.race([drained, timedOut]))) {
      logger.warn("in-flight requests still running after the drain time: cutting their connections", {
        drainMs,
      });
      await server.stop(true);
    }
    clearTimeout(drainTimer);
    await logs.close();
  };
  return { server, logs, url, stop };
}

/** The limits an operator may set in the config, as createApp takes them. */
function appLimitsFromConfig(config: Config) {
  return {
    requestBodyBytesMax: config.requestBodyBytesMax,
    webSocketLimits: {
      connectionsMax: config.wsConnectionsMax,
      subscriptionsMax: config.wsSubscriptionsPerConnectionMax,
    },
  };
}

function logRecovery(logs: LogManager, logger: Logger): void {
  const { cleanShutdown, partitions } = logs.recovery;
  const recovered = partitions.filter((p) => p.report.segmentsRecovered.length > 0);
  const truncated = partitions.filter((p) => p.report.truncatedBytes > 0);
  logger.info("data directory opened", {
    cleanShutdown,
    topics: logs.listTopics().length,
    partitions: partitions.length,
    partitionsRecovered: recovered.length,
    segmentsScanned: recovered.reduce((sum, p) => sum + p.report.segmentsRecovered.length, 0),
    truncatedBytes: truncated.reduce((sum, p) => sum + p.report.truncatedBytes, 0),
  });
  // Each partition that lost bytes gets its own line: an operator wants to know which and why.
  for (const { topic, partition, report } of truncated) {
    const reasons = report.segmentsRecovered.flatMap((s) => (s.stopReason ? [s.stopReason] : []));
    logger.warn("recovery truncated a partition", {
      topic,
      partition,
      truncatedBytes: report.truncatedBytes,
      deletedSegments: report.deletedSegments.length,
      reasons,
    });
  }
}
