// Sluice's entry point: load the config, open the data directory (recovering it if needed), serve
// HTTP, and shut down cleanly on SIGTERM or SIGINT.
import { accessControlFromConfig, appLimitsFromConfig } from "./lib/auth/from-config.ts";
import { loadConfig } from "./lib/config.ts";
import { isSluiceError } from "./lib/errors.ts";
import { GroupCoordinator } from "./lib/groups/group-coordinator.ts";
import { startHttpServer } from "./lib/platform/http-server.ts";
import { LogManager } from "./lib/topics/log-manager.ts";
import packageJson from "./package.json" with { type: "json" };
import { createApp } from "./routes/app.ts";

function log(level: string, msg: string, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
}

async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2), process.env);
  const startedMs = performance.now();
  const logs = LogManager.open({
    dataDir: config.dataDir,
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
  });
  const recovered = logs.recovery.partitions.filter((p) => p.report.segmentsRecovered.length > 0);
  log("info", "data directory opened", {
    dataDir: config.dataDir,
    cleanShutdown: logs.recovery.cleanShutdown,
    topics: logs.listTopics().length,
    partitionsRecovered: recovered.length,
    truncatedBytes: recovered.reduce((sum, p) => sum + p.report.truncatedBytes, 0),
  });
  // Replays __consumer_offsets: committed offsets come back; group memberships start empty.
  const groups = GroupCoordinator.open({
    logs,
    onReplaySkipped: (error, where) =>
      log("warn", "offsets topic record skipped", { where, error: String(error) }),
  });
  log("info", "consumer groups loaded", { groups: groups.list().length, ...groups.replay });
  const access = accessControlFromConfig(config, logs);
  const app = createApp({ logs, groups, access, ...appLimitsFromConfig(config) });
  const server = startHttpServer({
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    tls: { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile },
  });
  log("info", "sluice ready", {
    version: packageJson.version,
    url: `${server.protocol}://${server.hostname}:${server.port}`,
    authEnabled: access.enabled,
    startupMs: Math.round(performance.now() - startedMs),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "shutting down", { signal });
    // Joins waiting for a rebalance answer now (LOG_CLOSED) rather than hold the stop for their timeout.
    groups.close();
    await server.stop();
    await logs.close();
    log("info", "stopped cleanly");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error) => {
  log("error", isSluiceError(error) ? error.message : String(error), {
    code: isSluiceError(error) ? error.code : undefined,
  });
  process.exit(1);
});
