// The node's configuration: one strict zod schema, filled from defaults, then environment variables
// (SLUICE_*), then command-line flags, parsed once at start, frozen and passed down. Nothing else
// reads process.env.
import { z } from "zod";
import { SluiceError } from "./errors.ts";
import {
  CLUSTER_SESSION_TIMEOUT_MS_DEFAULT,
  REPLICA_LAG_TIME_MAX_MS_DEFAULT,
  RETENTION_CHECK_INTERVAL_MS_DEFAULT,
} from "./limits.ts";

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default("./data"),
    host: z.string().min(1).default("0.0.0.0"),
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    retentionCheckIntervalMs: z.coerce.number().int().positive().default(RETENTION_CHECK_INTERVAL_MS_DEFAULT),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
    // Cluster mode (lib/cluster/): on when nodeId, advertisedUrl and etcdEndpoints are all given.
    nodeId: z.coerce.number().int().min(0).max(2_147_483_647).optional(),
    advertisedUrl: z.url({ protocol: /^https?$/ }).optional(),
    etcdEndpoints: z
      .string()
      .regex(/^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/, "comma-separated URLs")
      .optional(),
    etcdPrefix: z
      .string()
      .regex(/^\/[\w./-]*[^/]$/, "a key prefix like /sluice")
      .default("/sluice"),
    clusterSessionTimeoutMs: z.coerce
      .number()
      .int()
      .min(2000)
      .max(600_000)
      .default(CLUSTER_SESSION_TIMEOUT_MS_DEFAULT),
    replicaLagTimeMaxMs: z.coerce
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(REPLICA_LAG_TIME_MAX_MS_DEFAULT),
    replicaFetchWaitMaxMs: z.coerce.number().int().min(10).max(60_000).default(500),
    ackTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(30_000),
  })
  .strict()
  .refine(
    (config) =>
      [config.nodeId, config.advertisedUrl, config.etcdEndpoints].every((value) => value === undefined) ||
      [config.nodeId, config.advertisedUrl, config.etcdEndpoints].every((value) => value !== undefined),
    { message: "cluster mode needs nodeId, advertisedUrl and etcdEndpoints together", path: ["nodeId"] },
  );

export type Config = Readonly<z.output<typeof configSchema>>;

/** Flag and environment names for each key: --data-dir and SLUICE_DATA_DIR for dataDir. */
function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function envName(key: string): string {
  return `SLUICE_${kebab(key).replaceAll("-", "_").toUpperCase()}`;
}

const KEYS = Object.keys(configSchema.shape) as Array<keyof z.output<typeof configSchema>>;

function parseFlags(argv: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = match && KEYS.find((candidate) => kebab(candidate) === match[1]);
    if (!match || !key) throw new SluiceError("INVALID_CONFIG", `unknown option ${arg}`, { field: arg });
    const value = match[2] ?? argv[++i];
    if (value === undefined)
      throw new SluiceError("INVALID_CONFIG", `option ${arg} needs a value`, { field: arg });
    values[key] = value;
  }
  return values;
}

/** Builds the config from environment variables and flags; bad keys are named in the error. */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of KEYS) {
    const value = env[envName(key)];
    if (value !== undefined) input[key] = value;
  }
  Object.assign(input, parseFlags(argv));
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? "config");
    throw new SluiceError("INVALID_CONFIG", `${key} (--${kebab(key)} / ${envName(key)}): ${issue.message}`, {
      field: key,
    });
  }
  return Object.freeze(result.data);
}
