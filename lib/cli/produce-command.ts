// `sluice produce <topic>`: one record per line from stdin or --file, through the client's batching
// producer. A key separator splits each line into key and value. Quiet on stdout; a count on a
// terminal's stderr while it runs.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { SluiceProducer } from "../client/producer.ts";
import type { RecordMetadata } from "../client/producer-record.ts";
import { CLIENT_OPTIONS, connectionOf } from "./client-options.ts";
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

export const produceSpec: CommandSpec = {
  name: "produce",
  usage: "produce <topic> [--file FILE] [--key-separator SEP] [--partition N] [--acks 0|1|all]",
  summary: "Sends one record per line (UTF-8 text, without the newline) from stdin or a file.",
  options: [
    { name: "file", value: "FILE", help: "read lines from this file", defaultText: "stdin" },
    { name: "key-separator", value: "SEP", help: "split each line at the first SEP into key and value" },
    {
      name: "partition",
      value: "N",
      help: "send every record to this partition",
      defaultText: "by key, else sticky",
    },
    { name: "acks", value: "0|1|all", help: "what the node confirms before answering", defaultText: "all" },
    { name: "skip-empty", help: "ignore empty lines instead of sending empty values" },
    ...CLIENT_OPTIONS,
  ],
  details: "Exit codes: 0 every record acknowledged, 4 no such topic, 3 node unreachable, 1 otherwise.",
};

/** Records sent but not yet answered before reading more lines: bounds memory on a huge input. */
const UNANSWERED_RECORDS_MAX = 16_384;

export async function runProduce(argv: string[], context: CliContext): Promise<ExitCode> {
  const args = parseArgs(produceSpec, argv);
  if (args.help) {
    context.writeOut(helpText(produceSpec));
    return EXIT.ok;
  }
  const [topic] = expectPositionals(produceSpec, args, ["topic"]);
  const acksText = stringOption(args, "acks") ?? "all";
  if (!["0", "1", "all"].includes(acksText))
    throw new UsageError(`--acks must be 0, 1 or all, not "${acksText}"`);
  const acks = acksText === "all" ? "all" : (Number(acksText) as 0 | 1);
  const partition = intOption(args, "partition", { min: 0 });
  const separator = stringOption(args, "key-separator");
  if (separator === "") throw new UsageError("--key-separator must not be empty");
  const file = stringOption(args, "file");
  const connection = connectionOf(args, context.env);
  const producer = new SluiceProducer({ ...connection, token: connection.token, acks });
  const lines = createInterface({
    input: file === undefined ? process.stdin : createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const progress = createProgress();
  const unanswered: Promise<RecordMetadata>[] = [];
  let failure: unknown;
  let sent = 0;
  try {
    for await (const line of lines) {
      if (failure !== undefined) break;
      if (line === "" && args.options.has("skip-empty")) continue;
      const cut = separator === undefined ? -1 : line.indexOf(separator);
      const record =
        cut < 0 ? { value: line } : { key: line.slice(0, cut), value: line.slice(cut + separator!.length) };
      const delivery = producer.send(topic!, partition === undefined ? record : { ...record, partition });
      delivery.catch((error: unknown) => {
        failure ??= error;
      });
      unanswered.push(delivery);
      sent++;
      if (unanswered.length >= UNANSWERED_RECORDS_MAX) await unanswered.shift()!.catch(() => undefined);
      progress.update(`produced ${sent} records`);
    }
  } finally {
    lines.close();
    await producer.close();
    progress.done();
  }
  await Promise.allSettled(unanswered);
  if (failure !== undefined) throw failure;
  return EXIT.ok;
}
