// What a node's config asks of the app: its access control (over the data directory) and the limits
// an operator may set.
import type { Config } from "../config.ts";
import type { LogManager } from "../topics/log-manager.ts";
import { AccessControl } from "./access-control.ts";

export function accessControlFromConfig(config: Config, logs: LogManager): AccessControl {
  return AccessControl.open({
    enabled: config.authEnabled,
    adminToken: config.authAdminToken,
    tokensFile: config.authTokensFile,
    metricsNeedToken: config.authMetrics,
    defaultRates: {
      bytesPerSecond: config.authProduceBytesPerSecond,
      recordsPerSecond: config.authProduceRecordsPerSecond,
    },
    storage: logs.storage,
    dataDir: logs.dataDir,
    clock: logs.clock,
  });
}

/** The limits an operator may set in the config, as createApp takes them. */
export function appLimitsFromConfig(config: Config): {
  requestBodyBytesMax: number;
  webSocketLimits: { connectionsMax: number; subscriptionsMax: number };
} {
  return {
    requestBodyBytesMax: config.requestBodyBytesMax,
    webSocketLimits: {
      connectionsMax: config.wsConnectionsMax,
      subscriptionsMax: config.wsSubscriptionsPerConnectionMax,
    },
  };
}
