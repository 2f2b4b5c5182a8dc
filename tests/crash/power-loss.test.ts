// Power loss under load, simulated with MemoryStorage.crash(): every byte that was not fdatasynced
// is lost, except a torn prefix of each file's unsynced tail. Unlike a SIGKILL (where the page cache
// survives) this puts group commit's promise to the test, since an acknowledged durable batch must
// survive, and it tears tails on most rounds, so recovery's truncation report can be checked
// against what the crash left. Retention and recovery-point checkpoints run between appends.
//
// What it cannot show: MemoryStorage treats creating, renaming and removing files as durable at
// once, so a missing directory fsync (a new segment's name lost in a power cut) goes unseen here.
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import { joinPath } from "../../lib/storage/storage.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { startAppenders } from "./appender.ts";
import { check, checkLookups, scanPartition } from "./log-scan.ts";
import { Prng } from "./prng.ts";
import { type Ack, checkAcked, checkRecordValues, PARTITIONS, TOPIC, TOPIC_CONFIG } from "./workload.ts";

// Test knobs, not service config: the house rule against reading the environment is about lib/.
/** Power losses are cheap (no processes, no disk), so each SIGKILL round buys several of them. */
const ROUNDS = Number(process.env["CRASH_ROUNDS"] ?? 8) * 4;
const SEED = Number(process.env["CRASH_SEED"] ?? 0x5eed);
const DATA_DIR = "/data";
const APPENDS_PER_ROUND_MAX = 400;
/** Up to this much of each file's unsynced tail survives, cut anywhere. */
const TORN_TAIL_BYTES_MAX = 8 * 1024;
const RETENTION_EVERY_APPENDS = 50;
const CHECKPOINT_EVERY_APPENDS = 70;
const LOOKUPS_PER_PARTITION = 16;
/** A round is ~60 ms here; the rest is slack for a loaded CI machine. */
const ROUND_TIMEOUT_MS = 500;
/** Less than the SIGKILL test keeps: every round rescans the whole log, and memory holds it all. */
const POWER_LOSS_TOPIC_CONFIG = { ...TOPIC_CONFIG, "retention.bytes": 1024 * 1024 };

interface Totals {
  acks: number;
  /** Acks whose batches retention deleted before any check saw them (the check then proves nothing). */
  acksRetainedUnseen: number;
  truncatedBytes: number;
  roundsWithTruncation: number;
  segmentsDeletedByRecovery: number;
}

describe("power loss during appends", () => {
  test(
    "acknowledged durable batches survive and torn tails are cut exactly, over many power losses",
    async () => {
      const storage = new MemoryStorage();
      const clock = new ManualClock();
      const random = new Prng(SEED);
      const totals: Totals = {
        acks: 0,
        acksRetainedUnseen: 0,
        truncatedBytes: 0,
        roundsWithTruncation: 0,
        segmentsDeletedByRecovery: 0,
      };
      let manager = LogManager.open({ dataDir: DATA_DIR, storage, clock });
      manager.createTopic(TOPIC, { partitions: PARTITIONS, config: POWER_LOSS_TOPIC_CONFIG });
      let acks: Ack[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        try {
          const acked = await appendUntilPowerLoss(manager, storage, random);
          totals.acks += acked.length;
          const logBytesBefore = logBytesByPartition(storage);
          // The old manager died with the power; a new process opens the same disk.
          manager = LogManager.open({ dataDir: DATA_DIR, storage, clock });
          acks = verifyAfterPowerLoss(manager, {
            seenAcks: acks,
            newAcks: acked,
            logBytesBefore,
            totals,
            random,
          });
        } catch (error) {
          throw new Error(
            `power loss ${round + 1} of ${ROUNDS} (CRASH_SEED=${SEED}): ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      }
      console.log(`power-loss: ${ROUNDS} rounds, CRASH_SEED=${SEED}: ${JSON.stringify(totals)}`);
      expect(totals.acks).toBeGreaterThan(0);
      expect(totals.acksRetainedUnseen).toBeLessThan(totals.acks / 2);
      // Torn tails are the point: with up to 8 KiB of each unsynced tail kept, most rounds cut one.
      expect(totals.roundsWithTruncation).toBeGreaterThan(ROUNDS / 4);
      await manager.close();
    },
    ROUNDS * ROUND_TIMEOUT_MS + 10_000,
  );
});

/** Runs the appenders until a random append, then cuts the power mid-flight; returns the acks. */
async function appendUntilPowerLoss(
  manager: LogManager,
  storage: MemoryStorage,
  random: Prng,
): Promise<Ack[]> {
  const acks: Ack[] = [];
  const appendsBeforeCrash = random.intBetween(1, APPENDS_PER_ROUND_MAX);
  const crash = {
    tornTailBytes: random.intBetween(0, TORN_TAIL_BYTES_MAX),
    seed: random.intBetween(0, 2 ** 31),
  };
  let appends = 0;
  const appenders = startAppenders(manager, {
    random: new Prng(random.intBetween(0, 2 ** 31)),
    onAck: (ack) => acks.push(ack),
    afterAppend: (stop) => {
      appends++;
      if (appends % RETENTION_EVERY_APPENDS === 0) manager.runRetention();
      if (appends % CHECKPOINT_EVERY_APPENDS === 0) manager.writeRecoveryCheckpoint();
      if (appends === appendsBeforeCrash) {
        storage.crash(crash);
        stop();
      }
    },
  });
  await appenders.done;
  return acks;
}

/** Bytes of `.log` files per partition, as the crash left them. */
function logBytesByPartition(storage: MemoryStorage): number[] {
  return Array.from({ length: PARTITIONS }, (_, partition) => {
    const dir = joinPath(DATA_DIR, `${TOPIC}-${partition}`);
    return storage
      .list(dir)
      .filter((entry) => entry.name.endsWith(".log"))
      .reduce((sum, entry) => sum + storage.sizeOf(joinPath(dir, entry.name))!, 0);
  });
}

interface VerifyOptions {
  /** Acks an earlier check already found. */
  seenAcks: Ack[];
  /** Acks of the run the power loss just ended. */
  newAcks: Ack[];
  logBytesBefore: number[];
  totals: Totals;
  random: Prng;
}

/** Checks every partition after recovery; returns the acks retention has not yet removed. */
function verifyAfterPowerLoss(manager: LogManager, options: VerifyOptions): Ack[] {
  check(!manager.recovery.cleanShutdown, "a directory after power loss looks cleanly shut down");
  const logBytesAfter = logBytesByPartition(manager.storage as MemoryStorage);
  let truncatedBytes = 0;
  const remaining: Ack[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const entry = manager.recovery.partitions.find((p) => p.topic === TOPIC && p.partition === partition);
    check(entry !== undefined, `no recovery report for partition ${partition}`);
    const { report } = entry;
    // Recovery must account for every byte it cut, including whole segments after a torn one.
    const cutBytes = options.logBytesBefore[partition]! - logBytesAfter[partition]!;
    check(
      report.truncatedBytes === cutBytes,
      `partition ${partition}: the report says ${report.truncatedBytes} bytes truncated, the files lost ${cutBytes}`,
    );
    truncatedBytes += report.truncatedBytes;
    options.totals.segmentsDeletedByRecovery += report.deletedSegments.length;

    const log = manager.partition(TOPIC, partition);
    const batches = scanPartition(log);
    for (const batch of batches) checkRecordValues(partition, batch);
    const byBaseOffset = new Map(batches.map((batch) => [batch.baseOffset, batch]));
    for (const ack of [...options.seenAcks, ...options.newAcks].filter((a) => a.partition === partition)) {
      if (ack.lastOffset < log.logStartOffset) {
        // Deleted by retention since it was written.
        if (options.newAcks.includes(ack)) options.totals.acksRetainedUnseen++;
        continue;
      }
      checkAcked(ack, byBaseOffset);
      remaining.push(ack);
    }
    if (log.logEndOffset > log.logStartOffset) {
      checkLookups(
        log,
        batches,
        Array.from({ length: LOOKUPS_PER_PARTITION }, () =>
          options.random.intBetween(log.logStartOffset, log.logEndOffset - 1),
        ),
      );
    }
  }
  options.totals.truncatedBytes += truncatedBytes;
  if (truncatedBytes > 0) options.totals.roundsWithTruncation++;
  return remaining;
}
