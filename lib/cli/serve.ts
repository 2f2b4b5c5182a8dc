// `sluice serve` (the default command): configuration from file < environment < flags, the node
// started, and a bounded, orderly stop on SIGTERM or SIGINT.
import { readFileSync } from "node:fs";
import {
  CONFIG_KEYS,
  type Config,
  type ConfigFile,
  configSchema,
  envName,
  flagName,
  loadConfig,
} from "../config.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import { createLogger, type Logger } from "../logger.ts";
import { UsageError } from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { startSluiceNode } from "./sluice-node.ts";

export interface ServeContext {
  env: Record<string, string | undefined>;
  /** Where --print-config and --help go. */
  writeOut: (text: string) => void;
}

/** Env var naming the config file when --config is not given. */
export const CONFIG_FILE_ENV = "SLUICE_CONFIG";

export function serveHelp(): string {
  const shape = configSchema.shape;
  const rows = CONFIG_KEYS.map((key) => {
    const schema = shape[key];
    const fallback = (schema.def as { defaultValue?: unknown }).defaultValue;
    return [
      `  ${flagName(key)} <value>`,
      `${schema.description ?? ""} (default ${JSON.stringify(fallback)}; ${envName(key)})`,
    ];
  });
  const width = Math.max(...rows.map(([left]) => left!.length)) + 2;
  return [
    "Usage: sluice [serve] [--config FILE] [--print-config] [--<key> <value> ...]",
    "",
    "Runs a Sluice node. Configuration is merged from a JSON config file, then SLUICE_* environment",
    "variables, then flags; each later source wins.",
    "",
    "Options:",
    `${"  --config FILE".padEnd(width)}JSON object of config keys (camelCase), e.g. {"port": 9092}; or ${CONFIG_FILE_ENV}`,
    `${"  --print-config".padEnd(width)}print the effective configuration as JSON and exit`,
    `${"  --help".padEnd(width)}show this help`,
    "",
    "Configuration keys:",
    ...rows.map(([left, right]) => `${left!.padEnd(width)}${right}`),
    "",
    "Stops cleanly on SIGTERM or SIGINT (exit 0); a second signal or shutdownTimeoutMs exits 7.",
    "",
  ].join("\n");
}

interface ServeArgs {
  configPath: string | undefined;
  printConfig: boolean;
  help: boolean;
  /** Everything else: config flags for loadConfig. */
  configArgs: string[];
}

function splitServeArgs(argv: string[]): ServeArgs {
  const parsed: ServeArgs = { configPath: undefined, printConfig: false, help: false, configArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") parsed.help = true;
    else if (arg === "--print-config") parsed.printConfig = true;
    else if (arg === "--config") {
      parsed.configPath = argv[++i];
      if (parsed.configPath === undefined) throw new UsageError("serve: --config needs a file path");
    } else if (arg.startsWith("--config=")) parsed.configPath = arg.slice("--config=".length);
    else parsed.configArgs.push(arg);
  }
  return parsed;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SluiceError("INVALID_CONFIG", `cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    return { path, values: JSON.parse(text) };
  } catch (error) {
    throw new SluiceError("INVALID_CONFIG", `${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Parses the configuration the way serve does; UsageError or INVALID_CONFIG when it is wrong. */
export function resolveServeConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): {
  config: Config;
  args: ServeArgs;
} {
  const args = splitServeArgs(argv);
  const configPath = args.configPath ?? env[CONFIG_FILE_ENV];
  const file = configPath === undefined ? undefined : readConfigFile(configPath);
  return { config: loadConfig(args.configArgs, env, file), args };
}

export async function runServe(argv: string[], context: ServeContext): Promise<ExitCode> {
  if (splitServeArgs(argv).help) {
    context.writeOut(serveHelp());
    return EXIT.ok;
  }
  const { config, args } = resolveServeConfig(argv, context.env);
  if (args.printConfig) {
    context.writeOut(`${JSON.stringify(config, null, 2)}\n`);
    return EXIT.ok;
  }
  const logger = createLogger({ level: config.logLevel });
  // Handlers go in before the node starts: a supervisor may signal as soon as it sees "sluice ready",
  // and Bun's default action for an unhandled SIGTERM is to die at once.
  const stopper = stopOnSignal(logger, config);
  try {
    const node = await startSluiceNode(config, logger);
    stopper.setStop((drainMs) => node.stop({ drainMs }));
  } catch (error) {
    // A port in use, an unreadable data dir: said as a log line, so the log stream stays parseable.
    logger.error("could not start", { error, code: isSluiceError(error) ? error.errorName : undefined });
    return EXIT.failure;
  }
  return await stopper.exitCode;
}

/**
 * Its exitCode resolves once a SIGTERM or SIGINT has stopped the node: 0 when the stop completed, 7
 * when a second signal or the timeout cut it short (the marker is then not written, so the next
 * start recovers the unflushed tail as after a crash). A signal before setStop waits for it.
 */
function stopOnSignal(
  logger: Logger,
  config: Pick<Config, "shutdownDrainMs" | "shutdownTimeoutMs">,
): { exitCode: Promise<ExitCode>; setStop(stop: (drainMs: number) => Promise<void>): void } {
  let stop: ((drainMs: number) => Promise<void>) | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  let resolveExit: (code: ExitCode) => void = () => undefined;
  const exitCode = new Promise<ExitCode>((resolve) => {
    resolveExit = resolve;
  });
  let stopping = false;
  const beginStop = (signal: NodeJS.Signals, stopNode: (drainMs: number) => Promise<void>) => {
    stopping = true;
    logger.info("shutting down", {
      signal,
      drainMs: config.shutdownDrainMs,
      timeoutMs: config.shutdownTimeoutMs,
    });
    const startedMs = performance.now();
    const timer = setTimeout(() => {
      logger.error("shutdown timed out: exiting without a clean shutdown", {
        timeoutMs: config.shutdownTimeoutMs,
      });
      resolveExit(EXIT.forcedShutdown);
    }, config.shutdownTimeoutMs);
    stopNode(config.shutdownDrainMs).then(
      () => {
        clearTimeout(timer);
        logger.info("stopped cleanly", { stopMs: Math.round(performance.now() - startedMs) });
        resolveExit(EXIT.ok);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error("shutdown failed", { error });
        resolveExit(EXIT.failure);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping || pendingSignal !== undefined) {
      logger.error("second signal: exiting without a clean shutdown", { signal });
      resolveExit(EXIT.forcedShutdown);
      return;
    }
    if (stop === undefined) pendingSignal = signal;
    else beginStop(signal, stop);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    exitCode,
    setStop(stopNode) {
      stop = stopNode;
      if (pendingSignal !== undefined) beginStop(pendingSignal, stopNode);
    },
  };
}
