// `sluice cluster status|reassign|reassignments|cancel`: the cluster as a running node sees it, and
// moving partitions between nodes (say onto a box just added) without stopping anything.
import { readFileSync } from "node:fs";
import type { ReassignmentRequest, ReassignmentStatus } from "../client/admin.ts";
import { adminOf, CLIENT_OPTIONS, connectionOf } from "./client-options.ts";
import {
  type CommandSpec,
  expectPositionals,
  integerList,
  intOption,
  parseAction,
  type parseArgs,
  stringOption,
  UsageError,
} from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { createProgress } from "./progress.ts";
import type { CliContext } from "./run-cli.ts";
import { formatTable } from "./table.ts";

const JSON_OPTION = { name: "json", help: "print JSON instead of a table" };
const WAIT_POLL_MS = 500;

const SPECS = {
  status: {
    name: "cluster status",
    usage: "cluster status [--json]",
    summary: "Lists the nodes (live or down, partitions led and held), the controller and partition health.",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
  reassign: {
    name: "cluster reassign",
    usage:
      "cluster reassign <topic> <partition> --replicas 3,2 | --file plan.json  [--wait [--timeout-ms N]]",
    summary: "Moves partitions to new replica lists (preferred leader first) while they keep serving.",
    details:
      '--file takes Kafka\'s reassignment JSON: {"partitions": [{"topic": "t", "partition": 0, ' +
      '"replicas": [3, 2]}]} ("version" and other keys are ignored). The new replicas catch up as ' +
      "followers; once all are in sync the old ones are dropped. --wait returns when every move is done.",
    options: [
      { name: "replicas", value: "LIST", help: "comma-separated node ids" },
      { name: "file", value: "PATH", help: "a reassignment plan (JSON) for several partitions" },
      { name: "wait", help: "wait until the moves complete" },
      {
        name: "timeout-ms",
        value: "MS",
        help: "give up waiting after this long (exit 1)",
        defaultText: "600000",
      },
      JSON_OPTION,
      ...CLIENT_OPTIONS,
    ],
  },
  reassignments: {
    name: "cluster reassignments",
    usage: "cluster reassignments [--json]",
    summary: "Lists the partition moves under way.",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
  cancel: {
    name: "cluster cancel",
    usage: "cluster cancel <topic> <partition>",
    summary: "Cancels a partition's move: back to its replicas before it (exit 5 when none is under way).",
    options: [JSON_OPTION, ...CLIENT_OPTIONS],
  },
} satisfies Record<string, CommandSpec>;

const clusterSpec: CommandSpec = {
  name: "cluster",
  usage: "cluster <status|reassign|reassignments|cancel> [options]",
  summary: "A running cluster's nodes, and moving partitions; `sluice cluster <action> --help` for each.",
  options: [],
};

export async function runCluster(argv: string[], context: CliContext): Promise<ExitCode> {
  const parsed = parseAction(clusterSpec, SPECS, argv, context.writeOut);
  if (typeof parsed === "number") return parsed;
  const { action, spec, args } = parsed;
  const admin = adminOf(connectionOf(args, context.env));
  const json = args.options.has("json");
  const print = (value: unknown) => context.writeOut(`${JSON.stringify(value, null, 2)}\n`);
  const show = (moves: ReassignmentStatus[]) =>
    json ? print(moves) : context.writeOut(reassignmentTable(moves));

  if (action === "status") {
    expectPositionals(spec, args, []);
    const cluster = await admin.cluster();
    if (json || !cluster.enabled) {
      if (json) print(cluster);
      else context.writeOut("this node runs alone (cluster mode is off)\n");
      return EXIT.ok;
    }
    const p = cluster.partitions!;
    context.writeOut(
      `node ${cluster.nodeId}, controller ${cluster.controllerId ?? "none"}, etcd ` +
        `${cluster.etcd?.reachable ? "reachable" : "UNREACHABLE"}; partitions ${p.total}, ` +
        `${p.offline} offline, ${p.underReplicated} under-replicated\n` +
        formatTable(
          ["node", "url", "live", "leaders", "replicas"],
          (cluster.nodes ?? []).map((n) => [
            n.id,
            n.url ?? "-",
            n.live ? "yes" : "DOWN",
            n.leaders,
            n.replicas,
          ]),
        ),
    );
    return EXIT.ok;
  }
  if (action === "reassignments") {
    expectPositionals(spec, args, []);
    show(await admin.listReassignments());
    return EXIT.ok;
  }
  if (action === "cancel") {
    const [topic, partition] = expectPositionals(spec, args, ["topic", "partition"]);
    show([await admin.cancelReassignment(topic!, partitionOf(partition!))]);
    return EXIT.ok;
  }
  const started = await admin.reassignPartitions(planOf(spec, args));
  if (!args.options.has("wait")) {
    show(started);
    return EXIT.ok;
  }
  const timeoutMs = intOption(args, "timeout-ms", { min: 1 }) ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  const moving = (list: ReassignmentStatus[]) =>
    list.filter((r) =>
      started.some((s) => s.inProgress && s.topic === r.topic && s.partition === r.partition),
    );
  const progress = createProgress();
  for (;;) {
    const left = moving(await admin.listReassignments());
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      progress.done();
      context.writeErr(`cluster reassign: ${left.length} moves not done after ${timeoutMs} ms\n`);
      context.writeOut(reassignmentTable(left));
      return EXIT.failure;
    }
    progress.update(`${started.length - left.length}/${started.length} moves done`);
    await Bun.sleep(WAIT_POLL_MS);
  }
  progress.done();
  const done = await Promise.all(
    started.map(async ({ topic, partition }) => {
      const replication = (await admin.describeTopic(topic)).partitions[partition]?.replication;
      return { topic, partition, ...replication };
    }),
  );
  if (json) print(done);
  else
    context.writeOut(
      formatTable(
        ["topic", "partition", "replicas", "leader", "isr"],
        done.map((d) => [
          d.topic,
          d.partition,
          d.replicas?.join(",") ?? "-",
          d.leader ?? "-",
          d.isr?.join(",") ?? "-",
        ]),
      ),
    );
  return EXIT.ok;
}

function planOf(spec: CommandSpec, args: ReturnType<typeof parseArgs>): ReassignmentRequest[] {
  const file = stringOption(args, "file");
  const replicas = stringOption(args, "replicas");
  if (file !== undefined) {
    if (replicas !== undefined || args.positionals.length > 0) {
      throw new UsageError(
        "cluster reassign: give either --file or <topic> <partition> --replicas, not both",
      );
    }
    let plan: unknown;
    try {
      plan = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new UsageError(`cluster reassign: cannot read ${file} as JSON: ${(error as Error).message}`);
    }
    const partitions = (plan as { partitions?: unknown })?.partitions;
    if (!Array.isArray(partitions))
      throw new UsageError(`cluster reassign: ${file} has no "partitions" list`);
    // The node checks each entry and names the bad one; only Kafka's extra keys are dropped here.
    return partitions.map((entry: { topic?: unknown; partition?: unknown; replicas?: unknown }) => ({
      topic: entry?.topic as string,
      partition: entry?.partition as number,
      replicas: entry?.replicas as number[],
    }));
  }
  const [topic, partition] = expectPositionals(spec, args, ["topic", "partition"]);
  if (replicas === undefined) throw new UsageError("cluster reassign: --replicas (or --file) is required");
  const ids = integerList("replicas", replicas, "3,2");
  return [{ topic: topic!, partition: partitionOf(partition!), replicas: ids }];
}

function partitionOf(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`partition must be a number, not "${text}"`);
  return Number(text);
}

function reassignmentTable(moves: ReassignmentStatus[]): string {
  if (moves.length === 0) return "no reassignments under way\n";
  return formatTable(
    ["topic", "partition", "to", "adding", "removing", "leader", "isr", "state"],
    moves.map((m) => [
      m.topic,
      m.partition,
      m.replicas.join(","),
      m.addingReplicas.join(",") || "-",
      m.removingReplicas.join(",") || "-",
      m.leader ?? "-",
      m.isr.join(","),
      m.inProgress ? "moving" : "done",
    ]),
  );
}
