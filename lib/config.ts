// The node's configuration: one strict zod schema, filled from defaults, then an optional JSON config
// file, then environment variables (SLUICE_*), then command-line flags, parsed once at start, frozen
// and passed down. Nothing else reads process.env.
import { z } from "zod";
import { ADMIN_TOKEN_LENGTH_MIN } from "./auth/limits.ts";
import { SluiceError } from "./errors.ts";
import {
  REQUEST_BODY_BYTES_MAX,
  WS_CONNECTIONS_MAX,
  WS_SUBSCRIPTIONS_PER_CONNECTION_MAX,
} from "./gateway/limits.ts";
import { INITIAL_REBALANCE_DELAY_MS_DEFAULT, REBALANCE_TIMEOUT_MS_MAX } from "./groups/limits.ts";
import {
  CLUSTER_SESSION_TIMEOUT_MS_DEFAULT,
  REPLICA_LAG_TIME_MAX_MS_DEFAULT,
  RETENTION_CHECK_INTERVAL_MS_DEFAULT,
  SHUTDOWN_DRAIN_MS_DEFAULT,
  SHUTDOWN_TIMEOUT_MS_DEFAULT,
} from "./limits.ts";

/** true or false, as a flag or environment variable gives it (z.coerce.boolean would take "false" as true). */
const booleanKey = z.union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")], {
  error: "must be true or false",
});

// Each key's .describe() is its README line (scripts/config-table.ts writes the table from it).
export const configSchema = z
  .object({
    dataDir: z.string().min(1).default("./data").describe("where topics live"),
    host: z.string().min(1).default("0.0.0.0").describe("address the HTTP server binds"),
    port: z.coerce.number().int().min(0).max(65_535).default(8080).describe("HTTP port (0: any free port)"),
    retentionCheckIntervalMs: z.coerce
      .number()
      .int()
      .positive()
      .default(RETENTION_CHECK_INTERVAL_MS_DEFAULT)
      .describe("how often retention deletes old segments"),
    logLevel: z
      .enum(["debug", "info", "warn", "error"])
      .default("info")
      .describe("least severe log line written: debug, info, warn or error"),
    shutdownDrainMs: z.coerce
      .number()
      .int()
      .min(0)
      .default(SHUTDOWN_DRAIN_MS_DEFAULT)
      .describe(
        "on SIGTERM, how long in-flight requests (long polls too) may finish before their connections are cut",
      ),
    shutdownTimeoutMs: z.coerce
      .number()
      .int()
      .positive()
      .default(SHUTDOWN_TIMEOUT_MS_DEFAULT)
      .describe(
        "bound on the whole shutdown; past it (or at a second signal) the process exits 7 without the clean-shutdown marker",
      ),
    groupInitialRebalanceDelayMs: z.coerce
      .number()
      .int()
      .min(0)
      .max(REBALANCE_TIMEOUT_MS_MAX)
      .default(INITIAL_REBALANCE_DELAY_MS_DEFAULT)
      .describe(
        "Kafka's group.initial.rebalance.delay.ms: the first rebalance of an empty group waits this long for more members",
      ),
    // Access control (lib/auth/, README "Access control"). Off by default: a lone box needs no config.
    authEnabled: booleanKey
      .default(false)
      .describe("require API tokens on every route but /healthz, /readyz"),
    authAdminToken: z
      .string()
      .min(ADMIN_TOKEN_LENGTH_MIN)
      .optional()
      .describe("secret of a bootstrap admin token named admin (give it by environment: flags show in ps)"),
    authTokensFile: z
      .string()
      .min(1)
      .optional()
      .describe("JSON file of operator-managed tokens, stored as SHA-256 hashes"),
    authMetrics: booleanKey.default(false).describe("require a token on /metrics too"),
    authProduceBytesPerSecond: z.coerce
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("default produce rate per token in bytes/s (0: no limit)"),
    authProduceRecordsPerSecond: z.coerce
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("default produce rate per token in records/s (0: no limit)"),
    // TLS: both files, PEM, or neither.
    tlsCertFile: z
      .string()
      .min(1)
      .optional()
      .describe("PEM certificate: serve HTTPS and WSS (with tlsKeyFile)"),
    tlsKeyFile: z.string().min(1).optional().describe("PEM private key of tlsCertFile"),
    // Limits an operator may lower (or raise) for the box (lib/gateway/limits.ts has the reasons).
    requestBodyBytesMax: z.coerce
      .number()
      .int()
      .min(1024)
      .max(REQUEST_BODY_BYTES_MAX)
      .default(REQUEST_BODY_BYTES_MAX)
      .describe("largest HTTP request body accepted (413 REQUEST_TOO_LARGE past it)"),
    wsConnectionsMax: z.coerce
      .number()
      .int()
      .min(1)
      .max(65_536)
      .default(WS_CONNECTIONS_MAX)
      .describe("WebSocket connections per node (TOO_MANY_CONNECTIONS past it)"),
    wsSubscriptionsPerConnectionMax: z.coerce
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(WS_SUBSCRIPTIONS_PER_CONNECTION_MAX)
      .describe("subscriptions on one WebSocket connection (TOO_MANY_SUBSCRIPTIONS past it)"),
    // Cluster mode (lib/cluster/): on when nodeId, advertisedUrl and etcdEndpoints are all given.
    nodeId: z.coerce
      .number()
      .int()
      .min(0)
      .max(2_147_483_647)
      .optional()
      .describe("this node's id in the cluster (cluster mode: with advertisedUrl and etcdEndpoints)"),
    advertisedUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("the URL other nodes and forwarded requests reach this node at"),
    etcdEndpoints: z
      .string()
      .regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, "comma-separated URLs")
      .optional()
      .describe("etcd client URLs, comma-separated"),
    etcdPrefix: z
      .string()
      .regex(/^\/[\w./-]*[^/]$/, "a key prefix like /sluice")
      .default("/sluice")
      .describe("key prefix of this cluster's state in etcd"),
    clusterSessionTimeoutMs: z.coerce
      .number()
      .int()
      .min(2000)
      .max(600_000)
      .default(CLUSTER_SESSION_TIMEOUT_MS_DEFAULT)
      .describe("etcd lease of a node: past it without renewal, its partitions move to other nodes"),
    replicaLagTimeMaxMs: z.coerce
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(REPLICA_LAG_TIME_MAX_MS_DEFAULT)
      .describe("a follower not caught up for this long leaves the ISR (Kafka's replica.lag.time.max.ms)"),
    replicaFetchWaitMaxMs: z.coerce
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(500)
      .describe("longest wait of a follower's fetch on the leader (replica.fetch.wait.max.ms)"),
    replicaHighWatermarkCheckpointIntervalMs: z.coerce
      .number()
      .int()
      .min(10)
      .max(3_600_000)
      .default(5000)
      .describe(
        "how often replicated partitions' high watermarks are checkpointed for a restart (replica.high.watermark.checkpoint.interval.ms)",
      ),
    ackTimeoutMs: z.coerce
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(30_000)
      .describe("acks=all: how long a produce waits for the ISR before REQUEST_TIMED_OUT"),
  })
  .strict()
  .refine((config) => config.shutdownDrainMs < config.shutdownTimeoutMs, {
    message: "shutdownDrainMs must be below shutdownTimeoutMs",
    path: ["shutdownDrainMs"],
  })
  .refine(
    (config) =>
      [config.nodeId, config.advertisedUrl, config.etcdEndpoints].every((value) => value === undefined) ||
      [config.nodeId, config.advertisedUrl, config.etcdEndpoints].every((value) => value !== undefined),
    { message: "cluster mode needs nodeId, advertisedUrl and etcdEndpoints together", path: ["nodeId"] },
  )
  .refine(
    (config) => !config.authEnabled || config.nodeId === undefined || config.authAdminToken !== undefined,
    {
      message:
        "cluster mode with authEnabled needs authAdminToken: nodes authenticate to each other with it (the same secret on every node)",
      path: ["authAdminToken"],
    },
  );

export type Config = Readonly<z.output<typeof configSchema>>;
export type ConfigKey = keyof Config;

/** Flag and environment names for each key: --data-dir and SLUICE_DATA_DIR for dataDir. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

export function envName(key: string): string {
  return `SLUICE_${flagName(key).slice(2).replaceAll("-", "_").toUpperCase()}`;
}

export const CONFIG_KEYS = Object.keys(configSchema.shape) as ConfigKey[];

/** Where a value came from, so an error can point at the right place. */
type Source = { kind: "file"; path: string } | { kind: "env" } | { kind: "flag" };

function parseFlags(argv: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^(--[a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = match && CONFIG_KEYS.find((candidate) => flagName(candidate) === match[1]);
    if (!match || !key) throw new SluiceError("INVALID_CONFIG", `unknown option ${arg}`, { field: arg });
    const value = match[2] ?? argv[++i];
    if (value === undefined)
      throw new SluiceError("INVALID_CONFIG", `option ${arg} needs a value`, { field: arg });
    values[key] = value;
  }
  return values;
}

export interface ConfigFile {
  path: string;
  /** The file's parsed JSON: an object of config keys. */
  values: unknown;
}

function describeSource(key: string, source: Source | undefined): string {
  if (source === undefined) return `${key} (default)`;
  if (source.kind === "file") return `${key} (in ${source.path})`;
  return source.kind === "env" ? `${key} (${envName(key)})` : `${key} (${flagName(key)})`;
}

/**
 * Builds the config from a config file, environment variables and flags, later ones winning; the
 * error names the bad key and where its value came from.
 */
export function loadConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  file?: ConfigFile,
): Config {
  const input: Record<string, unknown> = {};
  const sources = new Map<string, Source>();
  if (file !== undefined) {
    if (typeof file.values !== "object" || file.values === null || Array.isArray(file.values)) {
      throw new SluiceError("INVALID_CONFIG", `${file.path}: expected a JSON object of config keys`);
    }
    for (const [key, value] of Object.entries(file.values)) {
      if (!(CONFIG_KEYS as string[]).includes(key)) {
        throw new SluiceError("INVALID_CONFIG", `${file.path}: unknown key "${key}"`, { field: key });
      }
      input[key] = value;
      sources.set(key, { kind: "file", path: file.path });
    }
  }
  for (const key of CONFIG_KEYS) {
    const value = env[envName(key)];
    if (value === undefined) continue;
    input[key] = value;
    sources.set(key, { kind: "env" });
  }
  for (const [key, value] of Object.entries(parseFlags(argv))) {
    input[key] = value;
    sources.set(key, { kind: "flag" });
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? "config");
    throw new SluiceError("INVALID_CONFIG", `${describeSource(key, sources.get(key))}: ${issue.message}`, {
      field: key,
    });
  }
  return Object.freeze(result.data);
}
