// The SIGKILL test's victim: appends to a real data directory under load until it is killed.
//
//   bun tests/crash/appender-child.ts <dataDir> <seed>
//
// Opens a LogManager on <dataDir> (running recovery when the last run was killed), creates the
// topic when missing, prints "READY clean|unclean", then runs the appenders (appender.ts) and
// prints an ACK line (workload.ts) after every durable append resolves. Any error goes to stderr
// and exits 1, so the parent can tell a death it caused from one it did not.
import { writeSync } from "node:fs";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { startAppenders } from "./appender.ts";
import { Prng } from "./prng.ts";
import { formatAck, PARTITIONS, TOPIC, TOPIC_CONFIG } from "./workload.ts";

/** Short intervals, so kills land during retention and checkpoint writes too. */
const RETENTION_CHECK_INTERVAL_MS = 100;
const RECOVERY_CHECKPOINT_INTERVAL_MS = 150;

function main(): void {
  const [dataDir, seedText] = process.argv.slice(2);
  if (dataDir === undefined || seedText === undefined)
    throw new Error("usage: appender-child.ts <dataDir> <seed>");
  const manager = LogManager.open({
    dataDir,
    retentionCheckIntervalMs: RETENTION_CHECK_INTERVAL_MS,
    recoveryCheckpointIntervalMs: RECOVERY_CHECKPOINT_INTERVAL_MS,
  });
  if (!manager.hasTopic(TOPIC)) manager.createTopic(TOPIC, { partitions: PARTITIONS, config: TOPIC_CONFIG });
  writeLine(`READY ${manager.recovery.cleanShutdown ? "clean" : "unclean"}\n`);
  const appenders = startAppenders(manager, {
    random: new Prng(Number(seedText)),
    onAck: (ack) => writeLine(formatAck(ack)),
    yieldToTimers: true,
  });
  appenders.done.catch(die);
}

/** A synchronous write: once it returns, the line is in the pipe and survives our SIGKILL. */
function writeLine(line: string): void {
  const bytes = new TextEncoder().encode(line);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(1, bytes, written, bytes.length - written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
    }
  }
}

function die(error: unknown): never {
  const text = error instanceof Error ? `${error.stack ?? error.message}` : String(error);
  writeSync(2, `appender-child failed: ${text}\n`);
  process.exit(1);
}

try {
  main();
} catch (error) {
  die(error);
}
