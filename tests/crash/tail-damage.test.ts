// Damage that a crash or a bad disk leaves at a log's tail, made on purpose in real files: a torn
// last batch, a flipped bit, garbage after the last batch, lost index files. Recovery must cut the
// log at the first batch that is not whole and sound, say so in its report, and leave a log that
// reads back exactly and takes appends again (reference/kafka-formats.md §2, "Recovery after an
// unclean shutdown").
//
// The fixture is written once through LogManager and closed cleanly; each test copies it, makes the
// copy look like a crash (no `.kafka_cleanshutdown`, no recovery-point checkpoint, so every segment
// is scanned) and damages partition 1. Partition 0 is left whole, so the report must name the right one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  cpSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { BATCH_HEADER_BYTES } from "../../lib/limits.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  batchSizeAt,
  CRC_OFFSET,
  decodeRecords,
  encodeBatch,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  readInt64,
} from "../../lib/log/record-batch.ts";
import { CLEAN_SHUTDOWN_FILE, LogManager, RECOVERY_POINT_FILE } from "../../lib/topics/log-manager.ts";
import { tempDir } from "./harness.ts";
import { checkLookups, type ScannedBatch, scanPartition } from "./log-scan.ts";
import { Prng } from "./prng.ts";
import { encodeValue, valuesCrc } from "./workload.ts";

const TOPIC = "damaged";
const DAMAGED = 1;
const INTACT = 0;
const FIXTURE_CONFIG = { "segment.bytes": 8 * 1024, "index.interval.bytes": 256 };
/** Segments in the fixture: enough for a truncation to have later segments to delete. */
const FIXTURE_SEGMENTS_MIN = 4;
/** Batches in the active segment, so there is a middle batch to corrupt. */
const ACTIVE_BATCHES_MIN = 4;
const FIXED_TIMESTAMP_MS = 1_700_000_000_000;

/** One batch as it sits on disk: which file, where, and what it holds. */
interface FileBatch {
  file: string;
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  valuesCrc: number;
}

interface Fixture {
  dir: string;
  /** Per partition, every batch in offset order. */
  batches: FileBatch[][];
  /** Per partition, the `.log` file names in offset order. */
  logFiles: string[][];
}

let fixture: Fixture;

beforeAll(async () => {
  fixture = await writeFixture();
});

afterAll(() => {
  rmSync(fixture.dir, { recursive: true, force: true });
});

describe("a torn last batch", () => {
  // Inside the header (before and after batchLength and the CRC) and inside the records.
  const cuts = [
    1,
    7,
    8,
    11,
    12,
    16,
    17,
    21,
    40,
    BATCH_HEADER_BYTES - 1,
    BATCH_HEADER_BYTES,
    BATCH_HEADER_BYTES + 1,
  ];
  test.each(cuts)(
    "cut %i bytes into the last batch: only that partial batch is removed",
    async (keptBytes) => {
      const last = lastBatch();
      await expectRecoveryCutsAt((dir) => truncateSync(join(dir, last.file), last.position + keptBytes), {
        keepBatches: batchesOf(DAMAGED).length - 1,
        truncatedBytes: keptBytes,
      });
    },
  );

  test("cut anywhere in the records of the last batch: only that partial batch is removed", async () => {
    const last = lastBatch();
    for (const keptBytes of [Math.floor(last.sizeBytes / 2), last.sizeBytes - 1]) {
      await expectRecoveryCutsAt((dir) => truncateSync(join(dir, last.file), last.position + keptBytes), {
        keepBatches: batchesOf(DAMAGED).length - 1,
        truncatedBytes: keptBytes,
      });
    }
  });

  test("a cut exactly between batches leaves a shorter, sound log and nothing to truncate", async () => {
    const last = lastBatch();
    const report = await expectRecoveryCutsAt((dir) => truncateSync(join(dir, last.file), last.position), {
      keepBatches: batchesOf(DAMAGED).length - 1,
      truncatedBytes: 0,
    });
    expect(report.stopReasons).toEqual([]);
  });
});

describe("a flipped bit", () => {
  // Every field under the CRC, the CRC itself, and the records.
  const positions = {
    "the CRC": CRC_OFFSET + 2,
    "the attributes": ATTRIBUTES_OFFSET + 1,
    lastOffsetDelta: LAST_OFFSET_DELTA_OFFSET + 3,
    maxTimestamp: MAX_TIMESTAMP_OFFSET + 7,
    recordsCount: RECORDS_COUNT_OFFSET + 3,
    "the first record": RECORDS_OFFSET + 2,
    "the last byte": -1,
  };
  test.each(Object.entries(positions))(
    "in %s of the last batch drops that batch for its CRC",
    async (_, at) => {
      const last = lastBatch();
      const report = await expectRecoveryCutsAt(
        (dir) => flipBit(join(dir, last.file), last.position + (at < 0 ? last.sizeBytes + at : at), 5),
        { keepBatches: batchesOf(DAMAGED).length - 1, truncatedBytes: last.sizeBytes },
      );
      expect(report.stopReasons).toHaveLength(1);
      expect(report.stopReasons[0]).toMatch(/CRC/);
    },
  );

  test("in the magic byte of the last batch drops that batch", async () => {
    const last = lastBatch();
    const report = await expectRecoveryCutsAt(
      (dir) => flipBit(join(dir, last.file), last.position + MAGIC_OFFSET, 0),
      {
        keepBatches: batchesOf(DAMAGED).length - 1,
        truncatedBytes: last.sizeBytes,
      },
    );
    expect(report.stopReasons[0]).toMatch(/magic/);
  });

  test.each([0, 3, 12, 20, 30])("in bit %i of the last batch's batchLength drops that batch", async (bit) => {
    const last = lastBatch();
    await expectRecoveryCutsAt(
      (dir) =>
        flipBit(join(dir, last.file), last.position + BATCH_LENGTH_OFFSET + 3 - Math.floor(bit / 8), bit % 8),
      { keepBatches: batchesOf(DAMAGED).length - 1, truncatedBytes: last.sizeBytes },
    );
  });

  // baseOffset is outside the CRC (the leader rewrites it without recomputing), so only an offset
  // check can catch a flip there. A flip that lowers it is caught as offsets going backwards.
  test("in the last batch's baseOffset, lowering it, drops that batch", async () => {
    const last = lastBatch();
    await expectRecoveryCutsAt((dir) => flipBaseOffsetBit(join(dir, last.file), last, "lower"), {
      keepBatches: batchesOf(DAMAGED).length - 1,
      truncatedBytes: last.sizeBytes,
    });
  });

  // baseOffset is outside the CRC: recovery catches a flipped bit there because a batch must start
  // exactly at the offset where the previous one ended.
  test("in the last batch's baseOffset, raising it, drops that batch rather than open a gap", async () => {
    const last = lastBatch();
    await expectRecoveryCutsAt((dir) => flipBaseOffsetBit(join(dir, last.file), last, "raise"), {
      keepBatches: batchesOf(DAMAGED).length - 1,
      truncatedBytes: last.sizeBytes,
    });
  });

  test("in a middle batch's baseOffset, raising it, truncates from that batch on", async () => {
    const active = batchesOf(DAMAGED).filter((batch) => batch.file === lastBatch().file);
    const victim = active[Math.floor(active.length / 2)]!;
    const fileBytes = statSync(fixturePath(DAMAGED, victim.file)).size;
    await expectRecoveryCutsAt((dir) => flipBaseOffsetBit(join(dir, victim.file), victim, "raise"), {
      keepBatches: batchesOf(DAMAGED).indexOf(victim),
      truncatedBytes: fileBytes - victim.position,
    });
  });

  test("in a middle batch of the active segment truncates from that batch on", async () => {
    const active = batchesOf(DAMAGED).filter((batch) => batch.file === lastBatch().file);
    const victim = active[Math.floor(active.length / 2)]!;
    const fileBytes = statSync(fixturePath(DAMAGED, victim.file)).size;
    const report = await expectRecoveryCutsAt(
      (dir) => flipBit(join(dir, victim.file), victim.position + RECORDS_OFFSET + 1, 3),
      { keepBatches: batchesOf(DAMAGED).indexOf(victim), truncatedBytes: fileBytes - victim.position },
    );
    expect(report.stopReasons[0]).toMatch(/CRC/);
    expect(report.deletedSegments).toEqual([]);
  });

  test("in a batch of an older segment truncates there and deletes every later segment", async () => {
    const files = fixture.logFiles[DAMAGED]!;
    const file = files[1]!;
    const inFile = batchesOf(DAMAGED).filter((batch) => batch.file === file);
    const victim = inFile[Math.floor(inFile.length / 2)]!;
    const laterFiles = files.slice(2);
    const laterBytes = laterFiles.reduce((sum, name) => sum + statSync(fixturePath(DAMAGED, name)).size, 0);
    const report = await expectRecoveryCutsAt(
      (dir) => flipBit(join(dir, victim.file), victim.position + victim.sizeBytes - 3, 6),
      {
        keepBatches: batchesOf(DAMAGED).indexOf(victim),
        truncatedBytes: statSync(fixturePath(DAMAGED, file)).size - victim.position + laterBytes,
      },
    );
    expect(report.deletedSegments).toEqual(laterFiles.map((name) => Number(name.slice(0, 20))));
  });
});

describe("garbage after the last batch", () => {
  const garbage: Record<string, () => Uint8Array> = {
    "1 zero byte": () => new Uint8Array(1),
    "12 zero bytes": () => new Uint8Array(12),
    "a header's worth of zeros": () => new Uint8Array(BATCH_HEADER_BYTES),
    "4 KiB of zeros (preallocated space)": () => new Uint8Array(4096),
    "5 random bytes": () => new Prng(5).fill(new Uint8Array(5)),
    "500 random bytes": () => new Prng(500).fill(new Uint8Array(500)),
    "8 KiB of random bytes": () => new Prng(8192).fill(new Uint8Array(8192)),
    "a header whose length runs past the end of the file": () => headerClaiming(10_000),
    "a second copy of the last batch": () => readBatch(lastBatch()),
  };
  test.each(Object.keys(garbage))("%s is removed and every batch is kept", async (name) => {
    const extra = garbage[name]!();
    const last = lastBatch();
    await expectRecoveryCutsAt((dir) => appendFileSync(join(dir, last.file), extra), {
      keepBatches: batchesOf(DAMAGED).length,
      truncatedBytes: extra.length,
    });
  });
});

describe("lost index files", () => {
  test("deleted .index files are rebuilt by recovery and lookups land on the right batch", async () => {
    using dir = crashedCopy();
    const files = fixture.logFiles[DAMAGED]!;
    for (const name of [files[1]!, files.at(-1)!])
      rmSync(join(dir.path, partitionDir(DAMAGED), indexName(name)));
    await expectIndexesRebuilt(dir.path);
  });

  test("a deleted .index after a clean shutdown is rebuilt too", async () => {
    using dir = crashedCopy({ clean: true });
    const files = fixture.logFiles[DAMAGED]!;
    for (const name of [files[0]!, files[2]!]) rmSync(join(dir.path, partitionDir(DAMAGED), indexName(name)));
    const report = await expectIndexesRebuilt(dir.path);
    expect(report.rebuiltIndexes).toBeGreaterThanOrEqual(2);
  });

  test("a .index cut mid-entry after a clean shutdown fails its sanity check and is rebuilt", async () => {
    using dir = crashedCopy({ clean: true });
    const path = join(dir.path, partitionDir(DAMAGED), indexName(fixture.logFiles[DAMAGED]![1]!));
    truncateSync(path, statSync(path).size - 3);
    const report = await expectIndexesRebuilt(dir.path);
    expect(report.rebuiltIndexes).toBeGreaterThanOrEqual(1);
  });

  test("deleted .timeindex files are rebuilt and lookups by time still work", async () => {
    using dir = crashedCopy({ clean: true });
    for (const name of fixture.logFiles[DAMAGED]!) {
      rmSync(join(dir.path, partitionDir(DAMAGED), name.replace(/\.log$/, ".timeindex")));
    }
    await expectIndexesRebuilt(dir.path);
    await withManager(dir.path, (manager) => {
      const log = manager.partition(TOPIC, DAMAGED);
      for (const batch of batchesOf(DAMAGED)) {
        // The fixture stamps batch i with FIXED_TIMESTAMP_MS + i * 1000.
        const timestampMs = FIXED_TIMESTAMP_MS + batchesOf(DAMAGED).indexOf(batch) * 1000;
        expect(log.offsetForTimestamp(timestampMs)?.offset).toBe(batch.baseOffset);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Checks

interface RecoveryOutcome {
  truncatedBytes: number;
  deletedSegments: number[];
  rebuiltIndexes: number;
  stopReasons: string[];
}

/**
 * Damages a crashed copy of the fixture, reopens it, and checks that recovery kept exactly the
 * first `keepBatches` batches of the damaged partition, reported `truncatedBytes`, and left a log
 * that reads back, takes an append and survives a clean restart.
 */
async function expectRecoveryCutsAt(
  damage: (partitionDir: string) => void,
  expected: { keepBatches: number; truncatedBytes: number },
): Promise<RecoveryOutcome> {
  using dir = crashedCopy();
  damage(join(dir.path, partitionDir(DAMAGED)));
  const kept = batchesOf(DAMAGED).slice(0, expected.keepBatches);
  const logEndOffset = kept.at(-1)!.lastOffset + 1;

  const outcome = await withManager(dir.path, (manager) => {
    expect(manager.recovery.cleanShutdown).toBe(false);
    const reports = manager.recovery.partitions.filter((entry) => entry.topic === TOPIC);
    expect(reports.map((entry) => entry.partition).sort()).toEqual([0, 1]);
    const damaged = reports.find((entry) => entry.partition === DAMAGED)!.report;
    const intact = reports.find((entry) => entry.partition === INTACT)!.report;
    expect(intact.truncatedBytes).toBe(0);
    expect(damaged.truncatedBytes).toBe(expected.truncatedBytes);

    const log = manager.partition(TOPIC, DAMAGED);
    expect(log.logEndOffset).toBe(logEndOffset);
    expectBatches(scanPartition(log), kept);
    expectBatches(scanPartition(manager.partition(TOPIC, INTACT)), batchesOf(INTACT));
    checkLookups(log, scanPartition(log), allOffsets(kept));

    // The recovered log takes appends where it now ends.
    const appended = log.appendSync(
      batchOfValues(DAMAGED, {
        firstOffset: logEndOffset,
        recordCount: 3,
        index: kept.length,
        random: new Prng(1),
      }),
    );
    expect(appended.baseOffset).toBe(logEndOffset);
    return {
      truncatedBytes: damaged.truncatedBytes,
      deletedSegments: damaged.deletedSegments,
      rebuiltIndexes: damaged.rebuiltIndexes,
      stopReasons: damaged.segmentsRecovered.flatMap((segment) =>
        segment.stopReason ? [segment.stopReason] : [],
      ),
    };
  });

  // After a clean close the repaired log opens without recovery and holds the same batches.
  await withManager(dir.path, (manager) => {
    expect(manager.recovery.cleanShutdown).toBe(true);
    // The indexes recovery rebuilt pass the sanity check of a clean open: nothing is scanned again.
    const { report } = manager.recovery.partitions.find(
      (entry) => entry.topic === TOPIC && entry.partition === DAMAGED,
    )!;
    expect(report.rebuiltIndexes).toBe(0);
    expect(report.segmentsRecovered).toEqual([]);
    const log = manager.partition(TOPIC, DAMAGED);
    expect(log.logEndOffset).toBe(logEndOffset + 3);
    expectBatches(scanPartition(log).slice(0, -1), kept);
  });
  return outcome;
}

/** Opens a copy whose index files were damaged and checks every lookup and the rebuilt files. */
async function expectIndexesRebuilt(dataDir: string): Promise<RecoveryOutcome> {
  const outcome = await withManager(dataDir, (manager) => {
    const log = manager.partition(TOPIC, DAMAGED);
    const report = manager.recovery.partitions.find(
      (entry) => entry.topic === TOPIC && entry.partition === DAMAGED,
    )!.report;
    expect(report.truncatedBytes).toBe(0);
    const batches = scanPartition(log);
    expectBatches(batches, batchesOf(DAMAGED));
    checkLookups(log, batches, allOffsets(batchesOf(DAMAGED)));
    return {
      truncatedBytes: report.truncatedBytes,
      deletedSegments: report.deletedSegments,
      rebuiltIndexes: report.rebuiltIndexes,
      stopReasons: [],
    };
  });
  // Index entries may be buffered until a flush, so the files are compared after the close. Both
  // indexes are derived from the log by fixed rules, so a rebuilt one matches the one appends wrote.
  for (const name of fixture.logFiles[DAMAGED]!) {
    for (const suffix of [".index", ".timeindex"]) {
      const file = name.replace(/\.log$/, suffix);
      const rebuilt = readFileSync(join(dataDir, partitionDir(DAMAGED), file));
      expect({ file, bytes: [...rebuilt] }).toEqual({
        file,
        bytes: [...readFileSync(fixturePath(DAMAGED, file))],
      });
      expect(rebuilt.length).toBeGreaterThan(0);
    }
  }
  return outcome;
}

function expectBatches(actual: readonly ScannedBatch[], expected: readonly FileBatch[]): void {
  const summary = (batch: { baseOffset: number; lastOffset: number }, crc: number) =>
    `${batch.baseOffset}..${batch.lastOffset}:${crc}`;
  expect(actual.map((batch) => summary(batch, valuesCrc(batch.values)))).toEqual(
    expected.map((batch) => summary(batch, batch.valuesCrc)),
  );
}

function allOffsets(batches: readonly FileBatch[]): number[] {
  return batches.flatMap((batch) =>
    Array.from({ length: batch.lastOffset - batch.baseOffset + 1 }, (_, i) => batch.baseOffset + i),
  );
}

// ---------------------------------------------------------------------------------------------
// Fixture

async function writeFixture(): Promise<Fixture> {
  const dir = tempDir("sluice-tail-damage-");
  const random = new Prng(0x7a11);
  await withManager(dir.path, async (manager) => {
    manager.createTopic(TOPIC, { partitions: 2, config: FIXTURE_CONFIG });
    for (let partition = 0; partition < 2; partition++) {
      const log = manager.partition(TOPIC, partition);
      for (let i = 0; ; i++) {
        const batch = batchOfValues(partition, {
          firstOffset: log.logEndOffset,
          recordCount: random.intBetween(1, 12),
          index: i,
          random,
        });
        await log.append(batch, { durable: true });
        const segments = log.describeSegments();
        const activeBatches = [...log.segments.at(-1)!.batchesFrom(0)].length;
        if (segments.length >= FIXTURE_SEGMENTS_MIN && activeBatches >= ACTIVE_BATCHES_MIN) break;
      }
    }
  });
  const batches = [0, 1].map((partition) => readFileBatches(dir.path, partition));
  const logFiles = [0, 1].map((partition) =>
    readdirSync(join(dir.path, partitionDir(partition)))
      .filter((name) => name.endsWith(".log"))
      .sort(),
  );
  return { dir: dir.path, batches, logFiles };
}

/** A batch whose record values are what workload.ts would write at those offsets; batch i is stamped i seconds in. */
function batchOfValues(
  partition: number,
  options: { firstOffset: number; recordCount: number; index: number; random: Prng },
): Uint8Array {
  const values = Array.from({ length: options.recordCount }, (_, i) =>
    encodeValue(partition, options.firstOffset + i, options.random.intBetween(0, 300)),
  );
  return encodeBatch(
    values.map((value) => ({ value })),
    { timestampMs: FIXED_TIMESTAMP_MS + options.index * 1000 },
  );
}

/** The batches of one partition read straight from its files, independently of the log code. */
function readFileBatches(dataDir: string, partition: number): FileBatch[] {
  const dir = join(dataDir, partitionDir(partition));
  const batches: FileBatch[] = [];
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith(".log"))
    .sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const view = new DataView(bytes.buffer);
    for (let position = 0; position < bytes.length; ) {
      const sizeBytes = batchSizeAt(bytes, position);
      const baseOffset = readInt64(view, position + BASE_OFFSET_OFFSET);
      const lastOffset = baseOffset + view.getInt32(position + LAST_OFFSET_DELTA_OFFSET);
      batches.push({
        file,
        position,
        sizeBytes,
        baseOffset,
        lastOffset,
        valuesCrc: recordValuesCrc(bytes.subarray(position, position + sizeBytes)),
      });
      position += sizeBytes;
    }
  }
  return batches;
}

function recordValuesCrc(batch: Uint8Array): number {
  // The fixture's batches are uncompressed, so the records take no more room than the batch.
  return valuesCrc(decodeRecords(batch, batch.length).map((record) => record.value));
}

// ---------------------------------------------------------------------------------------------
// Helpers

function batchesOf(partition: number): FileBatch[] {
  return fixture.batches[partition]!;
}

function lastBatch(): FileBatch {
  return batchesOf(DAMAGED).at(-1)!;
}

function partitionDir(partition: number): string {
  return `${TOPIC}-${partition}`;
}

function indexName(logName: string): string {
  return logName.replace(/\.log$/, ".index");
}

/** A copy of the fixture that looks like a crash: no clean-shutdown marker and no recovery point. */
function crashedCopy(options: { clean?: boolean } = {}) {
  const dir = tempDir("sluice-tail-damage-");
  cpSync(fixture.dir, dir.path, { recursive: true });
  if (!options.clean) {
    rmSync(join(dir.path, CLEAN_SHUTDOWN_FILE));
    rmSync(join(dir.path, RECOVERY_POINT_FILE));
  }
  return dir;
}

async function withManager<T>(dataDir: string, work: (manager: LogManager) => T | Promise<T>): Promise<T> {
  // A manual clock: no retention or checkpoint timer runs behind the test's back.
  const manager = LogManager.open({ dataDir, clock: new ManualClock(FIXED_TIMESTAMP_MS) });
  try {
    return await work(manager);
  } finally {
    await manager.close();
  }
}

function flipBit(path: string, position: number, bit: number): void {
  const bytes = readFileSync(path);
  bytes[position]! ^= 1 << bit;
  writeFileSync(path, bytes);
}

function fixturePath(partition: number, name: string): string {
  return join(fixture.dir, partitionDir(partition), name);
}

/** Flips the lowest bit of a batch's baseOffset that is clear ("raise") or set ("lower"). */
function flipBaseOffsetBit(path: string, batch: FileBatch, direction: "raise" | "lower"): void {
  const isSet = (bit: number) => Math.floor(batch.baseOffset / 2 ** bit) % 2 === 1;
  let bit = 0;
  while (isSet(bit) !== (direction === "lower")) bit++;
  if (bit > 52) throw new Error(`baseOffset ${batch.baseOffset} has no bit to ${direction}`);
  flipBit(path, batch.position + BASE_OFFSET_OFFSET + 7 - Math.floor(bit / 8), bit % 8);
}

function readBatch(batch: FileBatch): Uint8Array {
  const bytes = readFileSync(fixturePath(DAMAGED, batch.file));
  return new Uint8Array(bytes.subarray(batch.position, batch.position + batch.sizeBytes));
}

/** A plausible batch header (magic 2) whose batchLength promises more bytes than follow. */
function headerClaiming(sizeBytes: number): Uint8Array {
  const header = new Uint8Array(BATCH_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setInt32(BATCH_LENGTH_OFFSET, sizeBytes - 12);
  view.setInt8(MAGIC_OFFSET, 2);
  return header;
}
