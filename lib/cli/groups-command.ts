// `sluice groups list|describe|reset`: consumer groups on a running node: who reads what, how far
// behind, and moving a stopped group's committed offsets.
import type { OffsetReset } from "../client/admin.ts";
import { adminOf, CLIENT_OPTIONS, connectionOf } from "./client-options.ts";
import {
  type CommandSpec,
  expectPositionals,
  integerList,
  parseAction,
  stringOption,
  UsageError,
} from "./command.ts";
import { parseFrom } from "./consume-command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import type { CliContext } from "./run-cli.ts";
import { formatTable } from "./table.ts";

const JSON_OPTION = { name: "json", help: "print JSON instead of a table" };

const SPECS = {
  list: {
    name: "groups list",
    usage: "groups list [--json]",
    summary: "Lists the consumer groups.",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
  describe: {
    name: "groups describe",
    usage: "groups describe <group> [--json]",
    summary: "Shows a group's state, members and, per partition, committed offset, end offset and lag.",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
  reset: {
    name: "groups reset",
    usage: "groups reset <group> --topic T --to WHERE [--partitions 0,1,...]",
    summary: "Moves a group's committed offsets; only while the group has no members (exit 5 otherwise).",
    options: [
      { name: "topic", value: "TOPIC", help: "the topic whose offsets move" },
      { name: "to", value: "WHERE", help: "earliest, latest, an offset (42), or a time (ISO-8601 or @<ms>)" },
      { name: "partitions", value: "LIST", help: "comma-separated partitions", defaultText: "all" },
      ...CLIENT_OPTIONS,
    ],
  },
} satisfies Record<string, CommandSpec>;

const groupsSpec: CommandSpec = {
  name: "groups",
  usage: "groups <list|describe|reset> [options]",
  summary: "Consumer groups on a running node; `sluice groups <action> --help` for each.",
  options: [],
};

function resetOf(topic: string, to: string, partitions: number[] | undefined): OffsetReset {
  const where = parseFrom(to);
  const base = partitions === undefined ? { topic } : { topic, partitions };
  if (where === "earliest" || where === "latest") return { ...base, to: where };
  if ("offset" in where) return { ...base, to: "offset", offset: where.offset };
  return { ...base, to: "timestamp", timestamp: where.timestamp };
}

function partitionsOf(text: string | undefined): number[] | undefined {
  return text === undefined ? undefined : integerList("partitions", text, "0,1,2");
}

export async function runGroups(argv: string[], context: CliContext): Promise<ExitCode> {
  const parsed = parseAction(groupsSpec, SPECS, argv, context.writeOut);
  if (typeof parsed === "number") return parsed;
  const { action, spec, args } = parsed;
  const admin = adminOf(connectionOf(args, context.env));
  const json = args.options.has("json");
  const print = (value: unknown) => context.writeOut(`${JSON.stringify(value, null, 2)}\n`);
  if (action === "list") {
    expectPositionals(spec, args, []);
    const groups = await admin.listGroups();
    if (json) print(groups);
    else
      context.writeOut(
        formatTable(
          ["group", "state", "generation", "members"],
          groups.map((g) => [g.group, g.state, g.generationId, g.members]),
        ),
      );
    return EXIT.ok;
  }
  const [group] = expectPositionals(spec, args, ["group"]);
  if (action === "describe") {
    const description = await admin.describeGroup(group!);
    if (json) {
      print(description);
      return EXIT.ok;
    }
    const show = (value: number | string | null) => (value === null ? "-" : value);
    context.writeOut(
      `group ${description.group}: ${description.state}, generation ${description.generationId}, ${description.members.length} members\n` +
        formatTable(
          ["topic", "partition", "member", "committed", "end", "lag"],
          description.partitions.map((p) => [
            p.topic,
            p.partition,
            show(p.memberId),
            show(p.committedOffset),
            show(p.logEndOffset),
            show(p.lag),
          ]),
        ),
    );
    return EXIT.ok;
  }
  const topic = stringOption(args, "topic");
  const to = stringOption(args, "to");
  if (topic === undefined || to === undefined)
    throw new UsageError("groups reset: --topic and --to are required");
  const offsets = await admin.resetOffsets(
    group!,
    resetOf(topic, to, partitionsOf(stringOption(args, "partitions"))),
  );
  if (json) print(offsets);
  else
    context.writeOut(
      formatTable(
        ["topic", "partition", "offset"],
        offsets.map((o) => [o.topic, o.partition, o.offset]),
      ),
    );
  return EXIT.ok;
}
