// The dispatcher behind main.ts: picks the subcommand, runs it, and turns what went wrong into a
// message on stderr and an exit code from exit-codes.ts.
import { isSluiceError } from "../errors.ts";
import { exitCodeOfClientError } from "./client-errors.ts";
import { UsageError } from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { VERSION } from "./version.ts";

export interface CliContext {
  env: Record<string, string | undefined>;
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
}

type Run = (argv: string[], context: CliContext) => Promise<ExitCode>;

interface CommandEntry {
  summary: string;
  /** Loaded on use, so `sluice serve` does not parse the client code and the reverse. */
  load: () => Promise<Run>;
}

const COMMANDS: Record<string, CommandEntry> = {
  serve: {
    summary: "run a node (the default when no command is given)",
    load: async () => (await import("./serve.ts")).runServe,
  },
  check: {
    summary: "scan a data directory offline: batch CRCs, indexes, what recovery would truncate",
    load: async () => (await import("./check-command.ts")).runCheck,
  },
  topics: {
    summary: "list, create, describe, alter or delete topics on a running node",
    load: async () => (await import("./topics-command.ts")).runTopics,
  },
  produce: {
    summary: "send records to a topic: one per line from stdin or a file",
    load: async () => (await import("./produce-command.ts")).runProduce,
  },
  consume: {
    summary: "read records of a topic (from earliest, latest, an offset or a time; --follow, --group)",
    load: async () => (await import("./consume-command.ts")).runConsume,
  },
  groups: {
    summary: "list, describe or reset consumer groups",
    load: async () => (await import("./groups-command.ts")).runGroups,
  },
  cluster: {
    summary: "a cluster's nodes and health; move partitions between nodes (reassign, cancel)",
    load: async () => (await import("./cluster-command.ts")).runCluster,
  },
  bench: {
    summary: "measure produce, consume and latency against a node (or a temporary one)",
    load: async () => (await import("./bench-command.ts")).runBench,
  },
};

export function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 4;
  return [
    `sluice ${VERSION}: a Kafka-style streaming node for edge boxes`,
    "",
    "Usage: sluice [command] [options]      sluice <command> --help for its options",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}${entry.summary}`),
    "",
    "Exit codes: 0 ok, 1 failure, 2 bad usage or config, 3 node unreachable, 4 not found,",
    "5 conflict, 6 check found damage, 7 serve forced to stop.",
    "",
  ].join("\n");
}

/** Registers a command; the client commands add themselves here as they land. */
export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

export async function runCli(argv: string[], context: CliContext): Promise<ExitCode> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    context.writeOut(topLevelHelp());
    return EXIT.ok;
  }
  if (first === "--version" || first === "version") {
    context.writeOut(`${VERSION}\n`);
    return EXIT.ok;
  }
  // No command, or flags first: serve, so `sluice --port 9092` runs a node.
  const [name, args] = first === undefined || first.startsWith("-") ? ["serve", argv] : [first, rest];
  const entry = COMMANDS[name];
  if (entry === undefined) {
    context.writeErr(`sluice: unknown command "${name}" (sluice --help lists them)\n`);
    return EXIT.usage;
  }
  try {
    const run = await entry.load();
    return await run(args, context);
  } catch (error) {
    return reportError(error, context);
  }
}

function reportError(error: unknown, context: CliContext): ExitCode {
  const clientExit = exitCodeOfClientError(error);
  if (clientExit !== undefined) {
    const what = clientExit === EXIT.unavailable ? " (is the node running? --url)" : "";
    context.writeErr(`sluice: ${(error as Error).message}${what}\n`);
    return clientExit;
  }
  if (error instanceof UsageError) {
    context.writeErr(`sluice: ${error.message}\n`);
    return EXIT.usage;
  }
  if (isSluiceError(error)) {
    context.writeErr(`sluice: ${error.message}\n`);
    return error.errorName === "INVALID_CONFIG" ? EXIT.usage : EXIT.failure;
  }
  context.writeErr(`sluice: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.failure;
}
