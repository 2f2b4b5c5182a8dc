// `sluice bench`: the gateway benchmark (bench-phases.ts, as scripts/bench/gateway.ts) against the node
// given by --url, or a temporary node of its own (bench-node.ts): produce 100 B and 1 KiB records over
// HTTP, read them back over the WebSocket, and an end-to-end latency run; the figures printed, then one
// RESULT line in the script's format. Its topics are created for the run and deleted after it.
import type { SluiceAdmin } from "../client/admin.ts";
import { startTemporaryNode, type TemporaryNode } from "./bench-node.ts";
import {
  type BenchTarget,
  consumePhase,
  latencyPhase,
  producePhase,
  type Throughput,
} from "./bench-phases.ts";
import { adminOf } from "./client-options.ts";
import {
  type CommandSpec,
  expectPositionals,
  helpText,
  intOption,
  parseArgs,
  stringOption,
} from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { createProgress } from "./progress.ts";
import type { CliContext } from "./run-cli.ts";

const DEFAULTS = {
  records100b: 2_000_000,
  records1k: 400_000,
  partitions: 4,
  e2eSeconds: 5,
  e2eRate: 10_000,
  phaseSecondsMax: 30,
};

export const benchSpec: CommandSpec = {
  name: "bench",
  usage: "bench [--url URL] [--records-100b N] [--records-1k N] [--partitions N] [--e2e-seconds S]",
  summary:
    "Measures produce, consume and end-to-end latency over HTTP and WebSocket, and prints the figures.",
  options: [
    { name: "url", value: "URL", help: "the node to measure", defaultText: "a temporary node of its own" },
    {
      name: "token",
      value: "TOKEN",
      help: "API token (admin: the bench creates topics)",
      defaultText: "$SLUICE_TOKEN",
    },
    {
      name: "records-100b",
      value: "N",
      help: "100 B records to produce, then consume",
      defaultText: String(DEFAULTS.records100b),
    },
    {
      name: "records-1k",
      value: "N",
      help: "1 KiB records to produce, then consume",
      defaultText: String(DEFAULTS.records1k),
    },
    {
      name: "partitions",
      value: "N",
      help: "partitions of each topic",
      defaultText: String(DEFAULTS.partitions),
    },
    {
      name: "e2e-seconds",
      value: "S",
      help: "length of the latency run (0 skips it)",
      defaultText: String(DEFAULTS.e2eSeconds),
    },
    {
      name: "e2e-rate",
      value: "N",
      help: "records/s of the latency run",
      defaultText: String(DEFAULTS.e2eRate),
    },
    {
      name: "phase-seconds-max",
      value: "S",
      help: "each phase stops after this long, whatever its count",
      defaultText: String(DEFAULTS.phaseSecondsMax),
    },
  ],
  details:
    "Without --url it starts `sluice serve` in a child process on a temp data dir and a loopback port,\n" +
    "and removes both afterwards. With --url (not taken from $SLUICE_URL, so a shell's default node is\n" +
    "never loaded by accident) it writes its records to topics named sluice-bench-<id>-*, deleted at the end.\n" +
    "The last line is: RESULT produce_records_s= produce_mb_s= consume_records_s= consume_mb_s=\n" +
    "e2e_p50_ms= e2e_p99_ms= (records/s for 100 B records, MB/s of values for 1 KiB records).\n" +
    "scripts/bench/gateway.ts runs the same phases beside a bare Bun reference, for ratios.",
};

interface BenchSettings {
  records100b: number;
  records1k: number;
  partitions: number;
  e2eSeconds: number;
  e2eRate: number;
  phaseSecondsMax: number;
}

export async function runBench(argv: string[], context: CliContext): Promise<ExitCode> {
  const args = parseArgs(benchSpec, argv);
  if (args.help) {
    context.writeOut(helpText(benchSpec));
    return EXIT.ok;
  }
  expectPositionals(benchSpec, args, []);
  const settings: BenchSettings = {
    records100b: intOption(args, "records-100b", { min: 1 }) ?? DEFAULTS.records100b,
    records1k: intOption(args, "records-1k", { min: 1 }) ?? DEFAULTS.records1k,
    partitions: intOption(args, "partitions", { min: 1, max: 1024 }) ?? DEFAULTS.partitions,
    e2eSeconds: intOption(args, "e2e-seconds", { min: 0, max: 3600 }) ?? DEFAULTS.e2eSeconds,
    e2eRate: intOption(args, "e2e-rate", { min: 1, max: 1_000_000 }) ?? DEFAULTS.e2eRate,
    phaseSecondsMax: intOption(args, "phase-seconds-max", { min: 1, max: 3600 }) ?? DEFAULTS.phaseSecondsMax,
  };
  const url = stringOption(args, "url");
  const token = stringOption(args, "token") ?? context.env.SLUICE_TOKEN;

  let temporary: TemporaryNode | undefined;
  const created: string[] = [];
  const cleanUp = async (admin: SluiceAdmin | undefined) => {
    if (admin !== undefined) await deleteTopics(admin, created.splice(0), context);
    await temporary?.stop();
  };
  let admin: SluiceAdmin | undefined;
  // Interrupted, it still cleans up (the temporary node's data dir, the topics it made) before it exits.
  const interrupted = (signal: NodeJS.Signals) => {
    context.writeErr(`sluice bench: ${signal}: cleaning up\n`);
    void cleanUp(admin).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    if (url === undefined) {
      context.writeErr("sluice bench: starting a temporary node\n");
      temporary = await startTemporaryNode();
    }
    const target = { baseUrl: url ?? temporary!.url, token, phaseMsMax: settings.phaseSecondsMax * 1000 };
    admin = adminOf({ baseUrl: target.baseUrl, token: target.token });
    context.writeOut(`node: ${target.baseUrl}${temporary === undefined ? "" : " (temporary)"}\n`);
    await runPhases(target, admin, created, settings, context);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await cleanUp(admin);
  }
  return EXIT.ok;
}

async function runPhases(
  target: BenchTarget,
  admin: SluiceAdmin,
  created: string[],
  settings: BenchSettings,
  context: CliContext,
): Promise<void> {
  const prefix = `sluice-bench-${crypto.randomUUID().slice(0, 8)}`;
  const topics = { small: `${prefix}-100b`, large: `${prefix}-1k`, e2e: `${prefix}-e2e` };
  const progress = createProgress();
  const say = (line: string) => {
    progress.done();
    context.writeOut(`${line}\n`);
  };
  try {
    for (const [topic, partitions] of [
      [topics.small, settings.partitions],
      [topics.large, settings.partitions],
      [topics.e2e, 1],
    ] as const) {
      await admin.createTopic(topic, { partitions });
      created.push(topic);
    }
    const shown = (what: string) => (n: number) => progress.update(`${what}: ${n} records`);
    const p100 = await producePhase(target, topics.small, settings.records100b, 100, {
      onProgress: shown("produce 100 B"),
    });
    say(throughputLine("produce 100 B", p100));
    const p1k = await producePhase(target, topics.large, settings.records1k, 1024, {
      onProgress: shown("produce 1 KiB"),
    });
    say(throughputLine("produce 1 KiB", p1k));
    const c100 = await consumePhase(
      target,
      topics.small,
      settings.partitions,
      p100.records,
      shown("consume 100 B"),
    );
    say(throughputLine("consume 100 B", c100));
    const c1k = await consumePhase(
      target,
      topics.large,
      settings.partitions,
      p1k.records,
      shown("consume 1 KiB"),
    );
    say(throughputLine("consume 1 KiB", c1k));
    let p50 = Number.NaN;
    let p99 = Number.NaN;
    if (settings.e2eSeconds > 0) {
      progress.update(`e2e at ${settings.e2eRate}/s for ${settings.e2eSeconds} s`);
      const e2e = await latencyPhase(target, topics.e2e, settings.e2eRate, settings.e2eSeconds);
      say(
        `e2e at ${settings.e2eRate}/s for ${settings.e2eSeconds} s: ${e2e.received} of ${e2e.sent} received, ` +
          `p50 ${round(e2e.p50Ms)} ms, p99 ${round(e2e.p99Ms)} ms, max ${round(e2e.maxMs)} ms`,
      );
      p50 = e2e.p50Ms;
      p99 = e2e.p99Ms;
    }
    say(
      `RESULT produce_records_s=${Math.round(p100.recordsPerS)} produce_mb_s=${round(p1k.mbPerS)} ` +
        `consume_records_s=${Math.round(c100.recordsPerS)} consume_mb_s=${round(c1k.mbPerS)} ` +
        `e2e_p50_ms=${round(p50)} e2e_p99_ms=${round(p99)}`,
    );
  } finally {
    progress.done();
  }
}

/** The run's topics go, whatever happened: a bench must not leave hundreds of MB on someone's node. */
async function deleteTopics(admin: SluiceAdmin, topics: string[], context: CliContext): Promise<void> {
  for (const topic of topics) {
    try {
      await admin.deleteTopic(topic);
    } catch (error) {
      context.writeErr(`sluice bench: could not delete topic ${topic}: ${(error as Error).message}\n`);
    }
  }
}

function throughputLine(what: string, figures: Throughput): string {
  return (
    `${what}: ${figures.records} records in ${round(figures.seconds)} s: ` +
    `${round(figures.recordsPerS)} records/s, ${round(figures.mbPerS)} MB/s`
  );
}

function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  return value >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}
