// What a node's config asks of access control: tokens (over the data directory), rates, /metrics.
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
