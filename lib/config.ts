// The node's configuration: one strict zod schema, filled from defaults, then environment variables
// (SLUICE_*), then command-line flags, parsed once at start, frozen and passed down. Nothing else
// reads process.env.
import { z } from "zod";
import { ADMIN_TOKEN_LENGTH_MIN } from "./auth/limits.ts";
import { SluiceError } from "./errors.ts";
import {
  REQUEST_BODY_BYTES_MAX,
  WS_CONNECTIONS_MAX,
  WS_SUBSCRIPTIONS_PER_CONNECTION_MAX,
} from "./gateway/limits.ts";
import { RETENTION_CHECK_INTERVAL_MS_DEFAULT } from "./limits.ts";

/** true or false, as a flag or environment variable gives it (z.coerce.boolean would take "false" as true). */
const booleanKey = z.union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")], {
  error: "must be true or false",
});

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default("./data"),
    host: z.string().min(1).default("0.0.0.0"),
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    retentionCheckIntervalMs: z.coerce.number().int().positive().default(RETENTION_CHECK_INTERVAL_MS_DEFAULT),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
    // Access control (lib/auth/, README "Access control"). Off by default: a lone box needs no config.
    authEnabled: booleanKey.default(false),
    authAdminToken: z.string().min(ADMIN_TOKEN_LENGTH_MIN).optional(),
    authTokensFile: z.string().min(1).optional(),
    authMetrics: booleanKey.default(false),
    authProduceBytesPerSecond: z.coerce.number().int().min(0).default(0),
    authProduceRecordsPerSecond: z.coerce.number().int().min(0).default(0),
    // TLS: both files, PEM, or neither.
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    // Limits an operator may lower (or raise) for the box (lib/gateway/limits.ts has the reasons).
    requestBodyBytesMax: z.coerce
      .number()
      .int()
      .min(1024)
      .max(REQUEST_BODY_BYTES_MAX)
      .default(REQUEST_BODY_BYTES_MAX),
    wsConnectionsMax: z.coerce.number().int().min(1).max(65_536).default(WS_CONNECTIONS_MAX),
    wsSubscriptionsPerConnectionMax: z.coerce
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(WS_SUBSCRIPTIONS_PER_CONNECTION_MAX),
  })
  .strict();

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
