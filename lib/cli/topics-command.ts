// `sluice topics list|create|describe|alter|delete`: topic administration on a running node.
import type { TopicDescription } from "../topics/log-manager.ts";
import { adminOf, CLIENT_OPTIONS, connectionOf } from "./client-options.ts";
import {
  type CommandSpec,
  expectPositionals,
  intOption,
  type ParsedArgs,
  parseAction,
  UsageError,
} from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { formatBytes } from "./progress.ts";
import type { CliContext } from "./run-cli.ts";
import { formatTable } from "./table.ts";

const JSON_OPTION = { name: "json", help: "print JSON instead of a table" };

const SPECS = {
  list: {
    name: "topics list",
    usage: "topics list [--json]",
    summary: "Lists the topics.",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
  create: {
    name: "topics create",
    usage: "topics create <name> [--partitions N] [--config key=value ...]",
    summary: "Creates a topic. Config keys are Kafka's (retention.ms, cleanup.policy, ...).",
    options: [
      { name: "partitions", value: "N", help: "partition count", defaultText: "1" },
      { name: "config", value: "KEY=VALUE", help: "a topic config key; repeat for more" },
      ...CLIENT_OPTIONS,
    ],
  },
  describe: {
    name: "topics describe",
    usage: "topics describe <name> [--json]",
    summary: "Shows a topic's config and, per partition, its offsets and size.",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
  alter: {
    name: "topics alter",
    usage: "topics alter <name> [--config key=value ...] [--reset key ...]",
    summary: "Changes topic config keys; --reset puts a key back to its default.",
    options: [
      { name: "config", value: "KEY=VALUE", help: "set a key; repeat for more" },
      { name: "reset", value: "KEY", help: "reset a key to its default; repeat for more" },
      ...CLIENT_OPTIONS,
    ],
  },
  delete: {
    name: "topics delete",
    usage: "topics delete <name>",
    summary: "Deletes a topic and its data.",
    options: [...CLIENT_OPTIONS],
  },
} satisfies Record<string, CommandSpec>;

const topicsSpec: CommandSpec = {
  name: "topics",
  usage: "topics <list|create|describe|alter|delete> [options]",
  summary: "Topic administration on a running node; `sluice topics <action> --help` for each.",
  options: [],
};

/** "retention.ms=3600000" → ["retention.ms", 3600000]; numbers become numbers, the rest stays text. */
function configPairs(values: string[]): Record<string, string | number> {
  const config: Record<string, string | number> = {};
  for (const pair of values) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--config wants key=value, not "${pair}"`);
    const value = pair.slice(eq + 1);
    config[pair.slice(0, eq)] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return config;
}

function describeTable(topic: TopicDescription): string {
  const partitions = formatTable(
    ["partition", "start", "end", "high watermark", "segments", "size"],
    topic.partitions.map((p) => [
      p.partition,
      p.logStartOffset,
      p.logEndOffset,
      p.highWatermark,
      p.segmentCount,
      formatBytes(p.sizeBytes),
    ]),
  );
  const config = Object.entries(topic.config)
    .map(([key, value]) => `  ${key}=${value}`)
    .join("\n");
  return `topic ${topic.name}, ${topic.partitions.length} partitions\n${partitions}config:\n${config}\n`;
}

export async function runTopics(argv: string[], context: CliContext): Promise<ExitCode> {
  const parsed = parseAction(topicsSpec, SPECS, argv, context.writeOut);
  if (typeof parsed === "number") return parsed;
  const { action, spec, args } = parsed;
  const admin = adminOf(connectionOf(args, context.env));
  const json = args.options.has("json");
  const print = (value: unknown) => context.writeOut(`${JSON.stringify(value, null, 2)}\n`);
  switch (action) {
    case "list": {
      expectPositionals(spec, args, []);
      const topics = await admin.listTopics();
      if (json) print(topics);
      else
        context.writeOut(
          formatTable(
            ["name", "partitions", "size"],
            topics.map((t) => [t.name, t.partitions, formatBytes(t.sizeBytes)]),
          ),
        );
      return EXIT.ok;
    }
    case "create": {
      const [name] = expectPositionals(spec, args, ["name"]);
      const partitions = intOption(args, "partitions", { min: 1 }) ?? 1;
      await admin.createTopic(name!, { partitions, config: configPairs(args.repeated.get("config") ?? []) });
      return EXIT.ok;
    }
    case "describe": {
      const [name] = expectPositionals(spec, args, ["name"]);
      const topic = await admin.describeTopic(name!);
      if (json) print(topic);
      else context.writeOut(describeTable(topic));
      return EXIT.ok;
    }
    case "alter":
      return await alter(spec, args, admin);
    default: {
      const [name] = expectPositionals(spec, args, ["name"]);
      await admin.deleteTopic(name!);
      return EXIT.ok;
    }
  }
}

async function alter(
  spec: CommandSpec,
  args: ParsedArgs,
  admin: ReturnType<typeof adminOf>,
): Promise<ExitCode> {
  const [name] = expectPositionals(spec, args, ["name"]);
  const changes: Record<string, string | number | null> = configPairs(args.repeated.get("config") ?? []);
  for (const key of args.repeated.get("reset") ?? []) changes[key] = null;
  if (Object.keys(changes).length === 0)
    throw new UsageError("topics alter: give --config key=value or --reset key");
  await admin.alterTopicConfig(name!, changes);
  return EXIT.ok;
}
