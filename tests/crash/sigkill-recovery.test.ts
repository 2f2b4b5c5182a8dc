// SIGKILL during appends, many times over one data directory. A child process appends under load
// (appender-child.ts); after each kill the test opens the directory itself, so recovery runs over
// the leftovers of every earlier crash, and checks that every batch the child acknowledged as
// durable is there with the exact bytes it wrote, that offsets run from the log start to the log
// end with no gap or repeat, and that no torn batch is visible.
//
// What a SIGKILL cannot show: the page cache survives a process kill, so every write(2) that
// returned is on "disk" afterwards and fdatasync is never put to the test. A torn tail needs the
// kill to land inside a write(2), which is rare (none in hundreds of kills so far); the test counts
// truncations but cannot demand one. power-loss.test.ts drops unsynced bytes and tears tails under
// the same load, and tail-damage.test.ts makes torn, bit-flipped and padded tails on purpose.
//
// CRASH_ROUNDS sets the number of kills (default 8, about 6 s); CRASH_SEED replays a run.
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import type { PartitionLog } from "../../lib/log/partition-log.ts";
import { LogManager, type PartitionRecovery } from "../../lib/topics/log-manager.ts";
import { killLiveChildren, runChildUntilKilled, tempDir } from "./harness.ts";
import { check, checkLookups, type ScannedBatch, scanPartition } from "./log-scan.ts";
import { Prng } from "./prng.ts";
import { type Ack, checkAcked, checkRecordValues, PARTITIONS, RETENTION_BYTES, TOPIC } from "./workload.ts";

// Test knobs, not service config: the house rule against reading the environment is about lib/.
const ROUNDS = Number(process.env["CRASH_ROUNDS"] ?? 8);
const SEED = Number(process.env["CRASH_SEED"] ?? 0x5eed);
/** How long the child appends before the kill, after it says it is ready. */
const RUN_MS_MIN = 100;
const RUN_MS_MAX = 600;
/** Per round: child start-up and recovery, the run itself, and the parent's full scan. */
const ROUND_TIMEOUT_MS = 6_000;
const LOOKUPS_PER_PARTITION = 32;

/** An ACK line, and whether a check after a kill has found its batch yet. */
type TrackedAck = Ack & { seen: boolean };

interface PartitionHistory {
  logStartOffset: number;
  logEndOffset: number;
}

interface Totals {
  acks: number;
  /** Durable acks found whole in the log after the kill that ended their run. */
  acksVerified: number;
  /** Durable acks whose batches retention deleted before the parent first looked. */
  acksRetainedUnseen: number;
  /** Fsyncs seen in ACK lines; fewer than acks means group commit shared syncs. */
  distinctSyncs: number;
  truncatedBytes: number;
  roundsWithTruncation: number;
  childOpenedClean: number;
  childOpenedUnclean: number;
  /** `.deleted` files a kill left behind (retention was between rename and removal). */
  deletedFilesLeftByKills: number;
  /** Where each partition's log starts after the last round: above 0 once retention ran. */
  logStartOffsets: number[];
}

afterEach(killLiveChildren);

describe("SIGKILL during appends", () => {
  test(
    "every durable batch survives repeated kills, offsets stay contiguous and no torn batch is visible",
    async () => {
      using dir = tempDir();
      const random = new Prng(SEED);
      let pendingAcks: TrackedAck[] = [];
      const history = new Map<number, PartitionHistory>();
      const totals: Totals = {
        acks: 0,
        acksVerified: 0,
        acksRetainedUnseen: 0,
        distinctSyncs: 0,
        truncatedBytes: 0,
        roundsWithTruncation: 0,
        childOpenedClean: 0,
        childOpenedUnclean: 0,
        deletedFilesLeftByKills: 0,
        logStartOffsets: [],
      };
      for (let round = 0; round < ROUNDS; round++) {
        try {
          const run = await runChildUntilKilled(dir.path, {
            seed: random.intBetween(0, 2 ** 31),
            runMs: random.intBetween(RUN_MS_MIN, RUN_MS_MAX),
          });
          if (run.openedAfter === "clean") totals.childOpenedClean++;
          else totals.childOpenedUnclean++;
          countAcks(run.acks, totals);
          pendingAcks.push(...run.acks.map((ack) => ({ ...ack, seen: false })));
          pendingAcks = await verifyAfterKill(dir.path, {
            acks: pendingAcks,
            history,
            totals,
            random,
            closeCleanly: round % 2 === 0,
          });
        } catch (error) {
          throw new Error(
            `round ${round + 1} of ${ROUNDS} (CRASH_SEED=${SEED}): ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      console.log(`sigkill-recovery: ${ROUNDS} rounds, CRASH_SEED=${SEED}: ${JSON.stringify(totals)}`);
      expect(totals.acks).toBeGreaterThan(0);
      // Retention must not delete most batches before anyone looks, or the ack check proves little.
      expect(totals.acksVerified).toBeGreaterThan(totals.acks / 2);
      // Several appends in flight per partition: some fsync must have acknowledged more than one.
      expect(totals.distinctSyncs).toBeLessThan(totals.acks);
      if (ROUNDS >= 3) {
        // The parent alternates clean and unclean closes, so the child starts both ways.
        expect(totals.childOpenedClean).toBeGreaterThan(0);
        expect(totals.childOpenedUnclean).toBeGreaterThan(0);
      }
    },
    ROUNDS * ROUND_TIMEOUT_MS + 10_000,
  );
});

function countAcks(acks: readonly Ack[], totals: Totals): void {
  totals.acks += acks.length;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    totals.distinctSyncs += new Set(
      acks.filter((ack) => ack.partition === partition).map((ack) => ack.groupCommitSyncs),
    ).size;
  }
}

interface VerifyOptions {
  acks: TrackedAck[];
  history: Map<number, PartitionHistory>;
  totals: Totals;
  random: Prng;
  closeCleanly: boolean;
}

/** Opens the killed child's directory, checks every partition, and returns the acks still in range. */
async function verifyAfterKill(dataDir: string, options: VerifyOptions): Promise<TrackedAck[]> {
  // A manual clock: the manager's retention and checkpoint timers must never fire in this process.
  options.totals.deletedFilesLeftByKills += countDeletedFiles(dataDir);
  const manager = LogManager.open({ dataDir, clock: new ManualClock() });
  try {
    check(manager.recovery.cleanShutdown === false, "the directory of a killed node looks cleanly shut down");
    check(manager.hasTopic(TOPIC), `topic ${TOPIC} is missing after recovery`);
    let truncatedBytes = 0;
    const remaining: TrackedAck[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const recovery = manager.recovery.partitions.find(
        (entry) => entry.topic === TOPIC && entry.partition === partition,
      );
      check(recovery !== undefined, `no recovery report for partition ${partition}`);
      const log = manager.partition(TOPIC, partition);
      const acks = options.acks.filter((ack) => ack.partition === partition);
      remaining.push(...verifyPartition(log, partition, { ...options, acks, recovery }));
      truncatedBytes += recovery.report.truncatedBytes;
    }
    options.totals.truncatedBytes += truncatedBytes;
    if (truncatedBytes > 0) options.totals.roundsWithTruncation++;
    return remaining;
  } finally {
    if (options.closeCleanly) {
      await manager.close();
    } else {
      // Leaves no clean-shutdown marker (open removed it) and syncs nothing: the next start recovers.
      for (let partition = 0; partition < PARTITIONS; partition++)
        manager.partition(TOPIC, partition).closeWithoutFlush();
    }
  }
}

function verifyPartition(
  log: PartitionLog,
  partition: number,
  options: VerifyOptions & { recovery: PartitionRecovery },
): TrackedAck[] {
  const { report } = options.recovery;
  const where = `partition ${partition}`;
  check(!report.cleanShutdown, `${where}: the report says clean shutdown`);
  // Without the marker every log scans at least its active segment (from the recovery point).
  check(report.segmentsRecovered.length > 0, `${where}: recovery scanned no segment`);
  check(
    log.highWatermark === log.logEndOffset,
    `${where}: high watermark ${log.highWatermark} != log end ${log.logEndOffset}`,
  );

  const batches = scanPartition(log);
  for (const batch of batches) checkRecordValues(partition, batch);

  const previous = options.history.get(partition) ?? { logStartOffset: 0, logEndOffset: 0 };
  // Every write(2) that returned survives a SIGKILL, so recovery may cut only what the last child
  // was writing when it died, never what an earlier round already saw whole.
  check(
    log.logEndOffset >= previous.logEndOffset,
    `${where}: the log end went back from ${previous.logEndOffset} to ${log.logEndOffset} (report: ${JSON.stringify(report)})`,
  );
  check(
    log.logStartOffset >= previous.logStartOffset,
    `${where}: the log start went back to ${log.logStartOffset}`,
  );
  if (log.logStartOffset > 0) {
    // Retention deletes a segment only while the rest still holds retention.bytes, so a missing
    // prefix with less than that left means recovery, not retention, dropped it.
    check(
      log.sizeBytes + report.truncatedBytes >= RETENTION_BYTES,
      `${where}: the log starts at ${log.logStartOffset} but holds only ${log.sizeBytes} bytes`,
    );
  }
  options.history.set(partition, { logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset });
  options.totals.logStartOffsets[partition] = log.logStartOffset;

  const remaining = checkAcks(log, partition, batches, options);
  checkLookups(
    log,
    batches,
    Array.from({ length: LOOKUPS_PER_PARTITION }, () =>
      options.random.intBetween(log.logStartOffset, log.logEndOffset - 1),
    ),
  );
  checkDirectory(log);
  return remaining;
}

/** Each acknowledged batch is present whole, unless retention deleted its segment since. */
function checkAcks(
  log: PartitionLog,
  partition: number,
  batches: readonly ScannedBatch[],
  options: VerifyOptions,
): TrackedAck[] {
  const byBaseOffset = new Map(batches.map((batch) => [batch.baseOffset, batch]));
  const remaining: TrackedAck[] = [];
  for (const ack of options.acks) {
    if (ack.lastOffset < log.logStartOffset) {
      if (!ack.seen) options.totals.acksRetainedUnseen++;
      continue;
    }
    check(
      ack.baseOffset >= log.logStartOffset,
      `partition ${partition}: acknowledged batch ${ack.baseOffset}..${ack.lastOffset} straddles the log start ${log.logStartOffset}`,
    );
    checkAcked(ack, byBaseOffset);
    if (!ack.seen) options.totals.acksVerified++;
    remaining.push({ ...ack, seen: true });
  }
  return remaining;
}

function countDeletedFiles(dataDir: string): number {
  let count = 0;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const dir = join(dataDir, `${TOPIC}-${partition}`);
    count += readdirSync(dir).filter((name) => name.endsWith(".deleted")).length;
  }
  return count;
}

/** After open, nothing interrupted work left behind remains, and every segment on disk is in the log. */
function checkDirectory(log: PartitionLog): void {
  const names = readdirSync(log.dir);
  const leftovers = names.filter((name) => /\.(deleted|tmp|cleaned|swap)$/.test(name));
  check(leftovers.length === 0, `${log.dir}: leftovers after recovery: ${leftovers.join(", ")}`);
  const logFiles = names.filter((name) => name.endsWith(".log")).sort();
  const segmentFiles = log.segments.map((segment) => segment.path(".log").split("/").at(-1)!);
  check(
    JSON.stringify(logFiles) === JSON.stringify(segmentFiles),
    `${log.dir}: files ${logFiles.join(",")} but segments ${segmentFiles.join(",")}`,
  );
  for (const name of logFiles) {
    const base = join(log.dir, name.slice(0, -".log".length));
    check(names.includes(`${base.split("/").at(-1)}.index`), `${base}.index is missing`);
  }
}
