// `sluice consume <topic>`: reads records over the WebSocket (the client's SluiceConsumer) and prints
// one per line: JSON objects, or raw values. Without --follow it stops at the end offsets the topic
// had when it started; with --follow it runs until SIGINT/SIGTERM. --group reads as a member of a
// consumer group, committing what it printed.

import type { ConsumedRecord } from "../client/batch-decoding.ts";
import { SluiceConsumer } from "../client/consumer.ts";
import type { StartFrom } from "../client/consumer-partition.ts";
import { adminOf, CLIENT_OPTIONS, connectionOf } from "./client-options.ts";
import {
  type CommandSpec,
  expectPositionals,
  helpText,
  intOption,
  parseArgs,
  stringOption,
  UsageError,
} from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { createProgress } from "./progress.ts";
import type { CliContext } from "./run-cli.ts";

export const consumeSpec: CommandSpec = {
  name: "consume",
  usage: "consume <topic> [--from WHERE] [--partition N] [--follow] [--group G] [--format json|raw]",
  summary: "Prints the records of a topic, one per line.",
  options: [
    {
      name: "from",
      value: "WHERE",
      help: "earliest, latest, an offset (42), or a time (2026-01-31T12:00:00Z or @<ms since epoch>)",
      defaultText: "earliest",
    },
    { name: "partition", value: "N", help: "read only this partition", defaultText: "all" },
    { name: "follow", help: "keep reading new records until interrupted" },
    {
      name: "group",
      value: "GROUP",
      help: "read as a member of this consumer group and commit what was printed",
    },
    {
      name: "format",
      value: "json|raw",
      help: "JSON object per record, or the raw value",
      defaultText: "json",
    },
    { name: "key-separator", value: "SEP", help: "raw format: print key SEP value" },
    { name: "max-records", value: "N", help: "stop after this many records" },
    ...CLIENT_OPTIONS,
  ],
  details:
    "Without --follow the command stops at the end of each partition as it was when it started.\n" +
    "With --group, the node assigns the partitions (shared with the group's other members, handed over\n" +
    "when one joins or leaves); each starts at the group's committed offset, else at --from earliest|latest.\n" +
    "What was printed is committed every 5 s and on exit, so the next run goes on from there.",
};

export function parseFrom(text: string): StartFrom {
  if (text === "earliest" || text === "latest") return text;
  if (/^\d+$/.test(text)) return { offset: Number(text) };
  if (/^@\d+$/.test(text)) return { timestamp: Number(text.slice(1)) };
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new UsageError(`--from must be earliest, latest, an offset or a time, not "${text}"`);
  return { timestamp: ms };
}

type Output = (record: ConsumedRecord) => string;

const decoder = new TextDecoder();

function textOrBase64(bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  const text = decoder.decode(bytes);
  // Bytes that are not UTF-8 would come back mangled; show them as base64 and say so.
  return new TextEncoder().encode(text).length === bytes.length && !text.includes("\uFFFD")
    ? text
    : `base64:${Buffer.from(bytes).toString("base64")}`;
}

function jsonValue(bytes: Uint8Array | null): unknown {
  const text = textOrBase64(bytes);
  if (text === null || text.startsWith("base64:")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function outputOf(format: string, keySeparator: string | undefined): Output {
  if (format === "raw") {
    return (record) =>
      `${keySeparator === undefined ? "" : `${textOrBase64(record.key) ?? ""}${keySeparator}`}${textOrBase64(record.value) ?? ""}\n`;
  }
  return (record) =>
    `${JSON.stringify({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: textOrBase64(record.key),
      value: jsonValue(record.value),
      headers: record.headers.map((h) => ({ key: h.key, value: textOrBase64(h.value) })),
    })}\n`;
}

/** Writes to stdout, waiting when the pipe is full; false once the reader has gone (EPIPE). */
function stdoutWriter(): (text: string) => Promise<boolean> {
  let gone = false;
  process.stdout.on("error", () => {
    gone = true;
  });
  return async (text) => {
    if (gone) return false;
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
    return !gone;
  };
}

export async function runConsume(argv: string[], context: CliContext): Promise<ExitCode> {
  const args = parseArgs(consumeSpec, argv);
  if (args.help) {
    context.writeOut(helpText(consumeSpec));
    return EXIT.ok;
  }
  const [topic] = expectPositionals(consumeSpec, args, ["topic"]);
  const from = parseFrom(stringOption(args, "from") ?? "earliest");
  const format = stringOption(args, "format") ?? "json";
  if (format !== "json" && format !== "raw")
    throw new UsageError(`--format must be json or raw, not "${format}"`);
  const onlyPartition = intOption(args, "partition", { min: 0 });
  const maxRecords = intOption(args, "max-records", { min: 1 }) ?? Number.POSITIVE_INFINITY;
  const group = stringOption(args, "group");
  const follow = args.options.has("follow");
  if (group !== undefined && onlyPartition !== undefined)
    throw new UsageError("--group reads the partitions the group assigns: leave out --partition");
  if (group !== undefined && from !== "earliest" && from !== "latest")
    throw new UsageError(
      "with --group, --from is earliest or latest (where partitions without a commit begin)",
    );
  const connection = connectionOf(args, context.env);

  // Where each partition ends now: without --follow, reading stops there.
  const description = await adminOf(connection).describeTopic(topic!);
  const partitions = description.partitions
    .map((p) => p.partition)
    .filter((p) => onlyPartition === undefined || p === onlyPartition);
  if (partitions.length === 0) throw new UsageError(`topic ${topic} has no partition ${onlyPartition}`);
  const endOffsets = new Map(description.partitions.map((p) => [p.partition, p.highWatermark]));

  const consumer = new SluiceConsumer({
    baseUrl: connection.baseUrl,
    ...(connection.token === undefined ? {} : { token: connection.token }),
    ...(group === undefined ? {} : { group, resetPolicy: from === "latest" ? "latest" : "earliest" }),
  });
  const stop = () => void consumer.close();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // A member between generations has no partitions yet: it is not done, it is waiting for them.
  const caughtUp = () =>
    !consumer.rebalancing &&
    consumer
      .assignment()
      .every(
        ({ topic: t, partition }) =>
          (consumer.position(t, partition) ?? 0) >= (endOffsets.get(partition) ?? 0),
      );
  // A partition with nothing to read sends nothing, so the end is also watched for between records.
  const watch = follow ? undefined : setInterval(() => caughtUp() && stop(), 50);

  const write = stdoutWriter();
  const output = outputOf(format, stringOption(args, "key-separator"));
  const progress = createProgress();
  let printed = 0;
  // Lines are gathered and written when the consumer has nothing more at hand (or 64 KiB piled up).
  let pending = "";
  let flushScheduled = false;
  const flushSoon = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      if (pending !== "") void write(pending);
      pending = "";
    });
  };
  try {
    if (group === undefined)
      await consumer.assign(partitions.map((partition) => ({ topic: topic!, partition, from })));
    else await consumer.subscribe([topic!]);
    if (!follow && caughtUp()) return EXIT.ok;
    // One record at a time, so the position (what a group commits) is always just past the last printed.
    for await (const record of consumer) {
      pending += output(record);
      printed++;
      const end = endOffsets.get(record.partition) ?? 0;
      // Records past the end are not handed out at all, so a group does not commit them unprinted.
      if (!follow && record.offset + 1 >= end)
        consumer.pause([{ topic: topic!, partition: record.partition }]);
      progress.update(`consumed ${printed} records`);
      if (printed >= maxRecords || (!follow && caughtUp())) break;
      if (pending.length >= 65_536) {
        const text = pending;
        pending = "";
        if (!(await write(text))) break;
      } else flushSoon();
    }
  } finally {
    if (watch !== undefined) clearInterval(watch);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    progress.done();
    if (pending !== "") await write(pending);
    pending = "";
    await consumer.close();
  }
  return EXIT.ok;
}
