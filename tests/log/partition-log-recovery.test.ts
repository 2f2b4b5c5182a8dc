// Opening a PartitionLog: a clean start trusts the files; an unclean one scans from the recovery point,
// cuts the first torn or corrupt batch, drops what follows and rebuilds indexes and leader epochs.
import { describe, expect, test } from "bun:test";
import type { PartitionLog } from "../../lib/log/partition-log.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import type { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import {
  batch,
  fileNames,
  LOG_DIR,
  memoryLog,
  readRecords,
  START_MS,
  seededRandom,
  textBatch,
} from "./helpers.ts";

const CHECKPOINT = `${LOG_DIR}/leader-epoch-checkpoint`;

function segmentPath(baseOffset: number, suffix: string): string {
  return `${LOG_DIR}/${String(baseOffset).padStart(20, "0")}${suffix}`;
}

function totalLogBytes(storage: MemoryStorage): number {
  return fileNames(storage, LOG_DIR)
    .filter((name) => name.endsWith(".log"))
    .reduce((sum, name) => sum + storage.sizeOf(`${LOG_DIR}/${name}`)!, 0);
}

interface Written {
  offset: number;
  timestamp: number;
  value: string;
  batchBase: number;
  batchLast: number;
}

/** Appends `batches` random batches and returns every record with the batch that holds it. */
function appendRandom(log: PartitionLog, batches: number, seed: number): Written[] {
  const random = seededRandom(seed);
  const written: Written[] = [];
  for (let i = 0; i < batches; i++) {
    const count = 1 + Math.floor(random() * 4);
    const timestamp = START_MS + Math.floor(random() * 10_000);
    const values = Array.from(
      { length: count },
      (_, j) => `${i}.${j}.${"z".repeat(Math.floor(random() * 60))}`,
    );
    const { baseOffset, lastOffset } = log.appendSync(textBatch(values, timestamp));
    values.forEach((value, j) => {
      written.push({
        offset: baseOffset + j,
        timestamp,
        value,
        batchBase: baseOffset,
        batchLast: lastOffset,
      });
    });
  }
  return written;
}

/** The log holds exactly `expected` (a prefix of what was written), and every lookup agrees. */
function expectLogHolds(log: PartitionLog, expected: Written[]): void {
  expect(log.logEndOffset).toBe(expected.length);
  const records = readRecords(log);
  expect(records.map((record) => [record.offset, new TextDecoder().decode(record.value!)])).toEqual(
    expected.map((record) => [record.offset, record.value]),
  );
  for (const record of expected) {
    const { slice } = log.read(record.offset, { maxBytes: 1 });
    expect([slice!.firstOffset, slice!.lastOffset]).toEqual([record.batchBase, record.batchLast]);
  }
  for (const target of [START_MS, START_MS + 2500, START_MS + 5000, START_MS + 9999, START_MS + 10_000]) {
    const match = expected.find((record) => record.timestamp >= target);
    expect(log.offsetForTimestamp(target)).toEqual(
      match && { offset: match.offset, timestamp: match.timestamp },
    );
  }
}

describe("clean open", () => {
  test("a clean close reopens without scanning, with the same offsets and lookups", async () => {
    const fixture = memoryLog({ segmentBytes: 1024, indexIntervalBytes: 200 });
    const written = appendRandom(fixture.log, 40, 1);
    const segmentsBefore = fixture.log.describeSegments();
    await fixture.log.close();
    const { log, recovery } = fixture.reopen({ cleanShutdown: true });
    expect(recovery).toEqual({
      cleanShutdown: true,
      segmentsRecovered: [],
      truncatedBytes: 0,
      deletedSegments: [],
      rebuiltIndexes: 0,
    });
    expect(log.describeSegments()).toEqual(segmentsBefore);
    expect([log.logStartOffset, log.highWatermark, log.recoveryPoint]).toEqual([
      0,
      written.length,
      written.length,
    ]);
    expectLogHolds(log, written);
  });

  test("missing .index and .timeindex files are rebuilt with the same entries", async () => {
    const fixture = memoryLog({ segmentBytes: 1024, indexIntervalBytes: 100 });
    const written = appendRandom(fixture.log, 30, 2);
    await fixture.log.close();
    const bases = fixture.log.segments.map((segment) => segment.baseOffset);
    const indexBytes = bases.map((base) => fixture.storage.readFile(segmentPath(base, ".index")));
    fixture.storage.remove(segmentPath(bases[0]!, ".index"));
    fixture.storage.remove(segmentPath(bases[1]!, ".timeindex"));
    const { log, recovery } = fixture.reopen({ cleanShutdown: true });
    expect(recovery.rebuiltIndexes).toBe(2);
    expect(recovery.truncatedBytes).toBe(0);
    expectLogHolds(log, written);
    expect(bases.map((base) => fixture.storage.readFile(segmentPath(base, ".index")))).toEqual(indexBytes);
    expect(fixture.storage.exists(segmentPath(bases[1]!, ".timeindex"))).toBe(true);
  });

  test("indexes that fail their sanity check are rebuilt", async () => {
    const fixture = memoryLog({ segmentBytes: 1024, indexIntervalBytes: 100 });
    const written = appendRandom(fixture.log, 30, 3);
    await fixture.log.close();
    const [first, second, third] = fixture.log.segments.map((segment) => segment.baseOffset);
    // Not a whole number of entries; offsets going backwards; an entry that points inside a batch.
    fixture.storage.writeFileAtomic(segmentPath(first!, ".timeindex"), new Uint8Array(13));
    const backwards = new Uint8Array(16);
    new DataView(backwards.buffer).setInt32(0, 5);
    new DataView(backwards.buffer).setInt32(8, 2);
    fixture.storage.writeFileAtomic(segmentPath(second!, ".index"), backwards);
    const inside = fixture.storage.readFile(segmentPath(third!, ".index"))!;
    expect(inside.length).toBeGreaterThan(0);
    const view = new DataView(inside.buffer);
    view.setInt32(inside.length - 4, view.getInt32(inside.length - 4) + 3);
    fixture.storage.writeFileAtomic(segmentPath(third!, ".index"), inside);

    const { log, recovery } = fixture.reopen({ cleanShutdown: true });
    expect(recovery.rebuiltIndexes).toBe(3);
    expectLogHolds(log, written);
  });

  test("leftover .deleted, .tmp, .swap and .cleaned files and orphaned indexes are removed", async () => {
    const fixture = memoryLog();
    fixture.log.appendSync(batch());
    await fixture.log.close();
    const leftovers = [
      "00000000000000000000.log.deleted",
      "00000000000000000000.index.swap",
      "00000000000000000000.log.cleaned",
      "leader-epoch-checkpoint.tmp",
      "00000000000000000077.index",
      "00000000000000000077.timeindex",
    ];
    for (const name of leftovers) fixture.storage.writeFileAtomic(`${LOG_DIR}/${name}`, new Uint8Array(8));
    fixture.reopen({ cleanShutdown: true });
    expect(fileNames(fixture.storage, LOG_DIR)).toEqual([
      "00000000000000000000.index",
      "00000000000000000000.log",
      "00000000000000000000.timeindex",
      // Producer state as of the log end, written at the clean close (producer-state-snapshot.ts).
      "00000000000000000001.snapshot",
      "leader-epoch-checkpoint",
    ]);
  });
});

describe("unclean open", () => {
  test("torn tails are cut back to the last whole batch, whatever the crash tears", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const fixture = memoryLog({ segmentBytes: 1024, indexIntervalBytes: 64 });
      const written = appendRandom(fixture.log, 30, seed);
      fixture.storage.crash({ tornTailBytes: 4096, seed });
      const bytesAfterCrash = totalLogBytes(fixture.storage);
      const { log, recovery } = fixture.reopen();
      expect(recovery.cleanShutdown).toBe(false);
      expect(recovery.truncatedBytes).toBe(bytesAfterCrash - log.sizeBytes);
      expect(totalLogBytes(fixture.storage)).toBe(log.sizeBytes);
      expectLogHolds(log, written.slice(0, log.logEndOffset));
      // Appends continue from the recovered end, and the rebuilt indexes load cleanly next time.
      const more = appendRandom(log, 3, seed + 100);
      expect(more[0]!.offset).toBe(log.logEndOffset - more.length);
    }
  });

  test("a crash that tears a batch header leaves the batches before it", () => {
    const fixture = memoryLog();
    fixture.log.appendSync(batch());
    fixture.log.appendSync(batch());
    const whole = batch().length;
    const file = fixture.storage.open(segmentPath(0, ".log"));
    file.truncate(whole + 30);
    const { log, recovery } = fixture.reopen();
    expect(log.logEndOffset).toBe(1);
    expect(recovery.truncatedBytes).toBe(30);
    expect(recovery.segmentsRecovered[0]!.stopReason).toContain("partial batch header");
  });

  test("a bit flipped inside the last segment cuts the log at that batch", () => {
    const fixture = memoryLog({ indexIntervalBytes: 0 });
    const written = appendRandom(fixture.log, 10, 9);
    const victim = fixture.log.read(written[Math.floor(written.length / 2)]!.offset, { maxBytes: 1 }).slice!;
    const sizeBefore = fixture.log.sizeBytes;
    fixture.storage.flipBit(segmentPath(0, ".log"), victim.startPosition + 65, 3);
    const { log, recovery } = fixture.reopen();
    expect(log.logEndOffset).toBe(victim.firstOffset);
    expect(recovery.truncatedBytes).toBe(sizeBefore - victim.startPosition);
    expect(recovery.segmentsRecovered.at(-1)!.stopReason).toContain("CRC");
    expectLogHolds(log, written.slice(0, victim.firstOffset));
  });

  test("a bit flipped in an earlier segment drops every later segment", () => {
    const fixture = memoryLog({ segmentBytes: 1024 });
    const written = appendRandom(fixture.log, 40, 10);
    const bases = fixture.log.segments.map((segment) => segment.baseOffset);
    expect(bases.length).toBeGreaterThan(3);
    const victim = fixture.log.read(bases[1]! + 1, { maxBytes: 1 }).slice!;
    fixture.storage.flipBit(segmentPath(bases[1]!, ".log"), victim.startPosition + 40, 0);
    const { log, recovery } = fixture.reopen();
    expect(recovery.deletedSegments).toEqual(bases.slice(2));
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual(bases.slice(0, 2));
    expect(log.logEndOffset).toBe(victim.firstOffset);
    for (const base of bases.slice(2)) expect(fixture.storage.exists(segmentPath(base, ".log"))).toBe(false);
    expectLogHolds(log, written.slice(0, victim.firstOffset));
  });

  test("a segment that lost its tail at a batch boundary ends the log there, with no hole", () => {
    const size = batch().length;
    const fixture = memoryLog({ segmentBytes: 3 * size });
    for (let i = 0; i < 5; i++) fixture.log.appendSync(batch());
    expect(fixture.log.segments.map((segment) => segment.baseOffset)).toEqual([0, 3]);
    // The crash kept segment 3 but only the first batch of segment 0: no CRC fails anywhere.
    fixture.storage.open(segmentPath(0, ".log")).truncate(size);
    const { log, recovery } = fixture.reopen();
    expect([log.logEndOffset, log.segments.length]).toEqual([1, 1]);
    expect(recovery.deletedSegments).toEqual([3]);
    expect(recovery.truncatedBytes).toBe(2 * size);
    expect(recovery.segmentsRecovered[0]!.stopReason).toContain("next one starts at 3");
    expect(log.appendSync(batch()).baseOffset).toBe(1);
  });

  test("segments wholly below the recovery point are trusted and not scanned", () => {
    const fixture = memoryLog({ segmentBytes: 1024 });
    appendRandom(fixture.log, 40, 11);
    const bases = fixture.log.segments.map((segment) => segment.baseOffset);
    const { recovery } = fixture.reopen({ recoveryPoint: bases[2]! });
    expect(recovery.segmentsRecovered.map((segment) => segment.baseOffset)).toEqual(bases.slice(2));
  });

  test("the leader epoch checkpoint is truncated to the recovered log end", () => {
    const fixture = memoryLog();
    fixture.log.appendSync(batch({ count: 2 }), { leaderEpoch: 1 });
    fixture.log.appendSync(batch({ count: 2 }), { leaderEpoch: 2 });
    fixture.log.appendSync(batch({ count: 2 }), { leaderEpoch: 3 });
    fixture.storage.open(segmentPath(0, ".log")).truncate(2 * batch({ count: 2 }).length + 10);
    const { log } = fixture.reopen();
    expect(log.logEndOffset).toBe(4);
    expect(new TextDecoder().decode(fixture.storage.readFile(CHECKPOINT))).toBe("0\n2\n1 0\n2 2\n");
  });

  test("a missing or malformed leader epoch checkpoint is rebuilt from the batches", () => {
    for (const damage of [
      (storage: MemoryStorage) => storage.remove(CHECKPOINT),
      (storage: MemoryStorage) => storage.writeFileAtomic(CHECKPOINT, utf8("0\n7\nnonsense\n")),
    ]) {
      const fixture = memoryLog({ segmentBytes: 1024 });
      for (const epoch of [0, 0, 2, 2, 5])
        fixture.log.appendSync(textBatch(["x".repeat(300)]), { leaderEpoch: epoch });
      damage(fixture.storage);
      for (const cleanShutdown of [true, false]) {
        const { log } = fixture.reopen({ cleanShutdown });
        expect(log.epochs.entries).toEqual([
          { epoch: 0, startOffset: 0 },
          { epoch: 2, startOffset: 2 },
          { epoch: 5, startOffset: 4 },
        ]);
      }
    }
  });

  test("a follower's batches keep their epochs through recovery", () => {
    const fixture = memoryLog();
    for (const [base, epoch] of [
      [0, 3],
      [1, 3],
      [2, 4],
    ] as const) {
      fixture.log.appendAsFollower(
        encodeBatch([{ value: utf8("f"), timestamp: START_MS }], {
          baseOffset: base,
          partitionLeaderEpoch: epoch,
        }),
      );
    }
    const { log } = fixture.reopen();
    expect(log.epochs.entries).toEqual([
      { epoch: 3, startOffset: 0 },
      { epoch: 4, startOffset: 2 },
    ]);
  });
});
