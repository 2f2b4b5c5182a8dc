// A follower's log moved to its leader's log start: truncateFullyAndStartAt (an empty log restarted at
// an offset, across clean and unclean reopens, on MemoryStorage and real files) and
// maybeIncrementLogStartOffset (whole segments below the leader's log start dropped).
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { PartitionLog } from "../../lib/log/partition-log.ts";
import { listSnapshotOffsets } from "../../lib/log/producer-state-snapshot.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { FileStorage } from "../../lib/storage/file-storage.ts";
import type { Storage } from "../../lib/storage/storage.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { readOffsetCheckpoint } from "../../lib/topics/offset-checkpoint.ts";
import {
  batch,
  expectSluiceError,
  fileNames,
  LOG_DIR,
  logConfig,
  memoryLog,
  readRecords,
  START_MS,
  tempDir,
  thrownBy,
} from "./helpers.ts";
import { producerBatch } from "./producer-state-helpers.ts";

/** A batch as a leader sends it: offsets and epoch already stamped. */
function leaderBatch(baseOffset: number, count: number, epoch: number, label = "r"): Uint8Array {
  const records = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: utf8(`${label}${baseOffset + i}`),
    headers: [],
    timestamp: START_MS,
  }));
  return encodeBatch(records, { baseOffset, partitionLeaderEpoch: epoch, timestampMs: START_MS });
}

/** A log of `batches` one-record batches in epoch 1, with an idempotent producer's batch first. */
function filledLog(log: PartitionLog, batches: number): void {
  log.appendSync(producerBatch({ producerId: 7, sequence: 0 }), { leaderEpoch: 1 });
  for (let i = 1; i < batches; i++) log.appendSync(batch(), { leaderEpoch: 1 });
}

const values = (log: PartitionLog) =>
  readRecords(log).map((record) => new TextDecoder().decode(record.value!));
const segmentBases = (log: PartitionLog) => log.segments.map((segment) => segment.baseOffset);

describe("PartitionLog.truncateFullyAndStartAt", () => {
  test("empties the log and starts it at the offset: segments, epochs, producer state and snapshots go", async () => {
    const size = batch().length;
    const { log, storage } = memoryLog({ segmentBytes: 2 * size });
    filledLog(log, 6);
    expect(segmentBases(log).length).toBeGreaterThan(1);
    expect(listSnapshotOffsets(storage, LOG_DIR).length).toBeGreaterThan(0);
    expect(log.producerState.entry(7)).toBeDefined();

    await log.truncateFullyAndStartAt(40);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark, log.recoveryPoint]).toEqual([
      40, 40, 40, 40,
    ]);
    expect(segmentBases(log)).toEqual([40]);
    expect(fileNames(storage, LOG_DIR).filter((name) => /^\d{20}\./.test(name))).toEqual([
      "00000000000000000040.index",
      "00000000000000000040.log",
      "00000000000000000040.timeindex",
    ]);
    expect(log.epochs.entries).toEqual([]);
    expect(new TextDecoder().decode(storage.readFile(`${LOG_DIR}/leader-epoch-checkpoint`))).toBe("0\n0\n");
    expect(log.producerState.entry(7)).toBeUndefined();
    expectSluiceError(
      thrownBy(() => log.read(39, { maxBytes: 1024 })),
      "OFFSET_OUT_OF_RANGE",
      "offset",
    );

    log.appendAsFollower(leaderBatch(40, 3, 4));
    log.updateHighWatermark(43);
    expect(values(log)).toEqual(["r40", "r41", "r42"]);
    expect(log.epochs.entries).toEqual([{ epoch: 4, startOffset: 40 }]);
  });

  test("an offset equal to an old segment's base, or below the old log end, still starts an empty log", async () => {
    const { log } = memoryLog();
    filledLog(log, 4);
    await log.truncateFullyAndStartAt(0);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([0, 0]);
    expect(readRecords(log)).toEqual([]);
    await log.truncateFullyAndStartAt(0);
    log.appendAsFollower(leaderBatch(0, 2, 2));
    await log.truncateFullyAndStartAt(1);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([1, 1]);
  });

  test("a clean reopen keeps the new start, and offsets continue from there", async () => {
    const fixture = memoryLog();
    filledLog(fixture.log, 5);
    await fixture.log.truncateFullyAndStartAt(100);
    fixture.log.appendAsFollower(leaderBatch(100, 2, 3));
    await fixture.log.close();
    const { log } = fixture.reopen({ cleanShutdown: true });
    expect([log.logStartOffset, log.logEndOffset]).toEqual([100, 102]);
    expect(values(log)).toEqual(["r100", "r101"]);
    expect(log.epochs.entries).toEqual([{ epoch: 3, startOffset: 100 }]);
    expect(log.appendSync(batch(), { leaderEpoch: 3 }).baseOffset).toBe(102);
    expectSluiceError(
      thrownBy(() => log.read(99, { maxBytes: 1024 })),
      "OFFSET_OUT_OF_RANGE",
    );
  });

  test("after a crash the log starts at the offset; what was synced since survives, the rest is cut", async () => {
    const fixture = memoryLog();
    filledLog(fixture.log, 5);
    await fixture.log.truncateFullyAndStartAt(100);
    fixture.log.appendAsFollower(leaderBatch(100, 2, 3));
    await fixture.log.flush();
    fixture.log.appendAsFollower(leaderBatch(102, 2, 3, "unsynced"));
    fixture.storage.crash();
    fixture.log.closeWithoutFlush();
    // The recovery point the log manager checkpointed right after the truncation.
    const { log, recovery } = fixture.reopen({ cleanShutdown: false, recoveryPoint: 100 });
    expect(recovery.cleanShutdown).toBe(false);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([100, 102]);
    expect(values(log)).toEqual(["r100", "r101"]);
    expect(log.appendSync(batch(), { leaderEpoch: 3 }).baseOffset).toBe(102);
    expectSluiceError(
      thrownBy(() => log.read(4, { maxBytes: 1024 })),
      "OFFSET_OUT_OF_RANGE",
    );
  });

  test("a crash right after the truncation reopens an empty log at the offset", async () => {
    const fixture = memoryLog();
    filledLog(fixture.log, 5);
    await fixture.log.truncateFullyAndStartAt(100);
    fixture.storage.crash();
    fixture.log.closeWithoutFlush();
    const { log } = fixture.reopen({ cleanShutdown: false, recoveryPoint: 0 });
    expect([log.logStartOffset, log.logEndOffset]).toEqual([100, 100]);
    expect(log.epochs.entries).toEqual([]);
    expect(log.producerState.entry(7)).toBeUndefined();
  });

  test("on real files the same: only the new segment is left, and a reopen starts there", async () => {
    using dir = tempDir();
    const storage: Storage = new FileStorage();
    const open = (cleanShutdown: boolean) =>
      PartitionLog.open({
        storage,
        dir: `${dir.path}/t-0`,
        config: logConfig({ segmentBytes: 3 * batch().length }),
        clock: new ManualClock(START_MS),
        cleanShutdown,
        recoveryPoint: 0,
      }).log;
    const log = open(true);
    filledLog(log, 7);
    await log.truncateFullyAndStartAt(1000);
    log.appendAsFollower(leaderBatch(1000, 3, 2));
    await log.flush();
    expect(fileNames(storage, `${dir.path}/t-0`).filter((name) => name.endsWith(".log"))).toEqual([
      "00000000000000001000.log",
    ]);
    log.closeWithoutFlush(); // as a kill -9 leaves it
    const reopened = open(false);
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([1000, 1003]);
    expect(values(reopened)).toEqual(["r1000", "r1001", "r1002"]);
    expect(reopened.appendSync(batch(), { leaderEpoch: 2 }).baseOffset).toBe(1003);
    await reopened.close();
    const again = open(true);
    expect([again.logStartOffset, again.logEndOffset]).toEqual([1000, 1004]);
    expectSluiceError(
      thrownBy(() => again.read(999, { maxBytes: 1024 })),
      "OFFSET_OUT_OF_RANGE",
    );
    await again.close();
  });

  test("through the log manager the recovery-point checkpoint says the new start at once", async () => {
    using dir = tempDir();
    const logs = LogManager.open({ dataDir: dir.path, clock: new ManualClock(START_MS) });
    logs.createTopic("t", { partitions: 1 });
    filledLog(logs.partition("t", 0), 3);
    await logs.partition("t", 0).flush();
    logs.writeRecoveryCheckpoint();
    await logs.truncateFullyAndStartAt("t", 0, 500);
    const checkpoint = readOffsetCheckpoint(logs.storage, `${dir.path}/recovery-point-offset-checkpoint`);
    expect(checkpoint.get("t 0")).toBe(500);
    await logs.close();
  });
});

describe("PartitionLog.maybeIncrementLogStartOffset", () => {
  test("drops whole segments below the leader's log start, never past the high watermark or the active one", () => {
    const size = batch().length;
    const { log, storage } = memoryLog({ segmentBytes: 2 * size });
    for (let i = 0; i < 7; i++) log.appendSync(batch(), { leaderEpoch: 1 });
    expect(segmentBases(log)).toEqual([0, 2, 4, 6]);
    log.replication.highWatermarkFollowsLogEnd = false;
    log.resetHighWatermark(3);

    // 5 is inside the segment at 4: only the segments wholly below it could go, and the high
    // watermark (3) keeps the one at 2.
    expect(log.maybeIncrementLogStartOffset(5)).toBe(1);
    expect([log.logStartOffset, ...segmentBases(log)]).toEqual([2, 2, 4, 6]);
    expect(storage.exists(`${LOG_DIR}/00000000000000000000.log`)).toBe(false);
    expect(log.epochs.entries).toEqual([{ epoch: 1, startOffset: 2 }]);

    log.updateHighWatermark(7);
    expect(log.maybeIncrementLogStartOffset(5)).toBe(1);
    expect(log.logStartOffset).toBe(4);
    expect(log.maybeIncrementLogStartOffset(100)).toBe(1);
    expect(segmentBases(log)).toEqual([6]);
    expect(log.maybeIncrementLogStartOffset(100)).toBe(0);
    expect(readRecords(log).map((record) => record.offset)).toEqual([6]);
    expectSluiceError(
      thrownBy(() => log.read(5, { maxBytes: 1024 })),
      "OFFSET_OUT_OF_RANGE",
    );
  });

  test("a leader log start at or below this log's start changes nothing", () => {
    const { log } = memoryLog({ segmentBytes: 2 * batch().length });
    for (let i = 0; i < 5; i++) log.appendSync(batch());
    expect(log.maybeIncrementLogStartOffset(0)).toBe(0);
    expect(log.maybeIncrementLogStartOffset(1)).toBe(0);
    expect(segmentBases(log)).toEqual([0, 2, 4]);
  });
});
