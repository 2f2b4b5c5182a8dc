// Log compaction of one partition (lib/log/cleaner.ts) on MemoryStorage with a ManualClock: what a
// pass keeps, what it drops, which offsets reads land on afterwards, and what it leaves alone.
import { describe, expect, test } from "bun:test";
import { cleanableRange, needsCleaning } from "../../lib/log/cleaner.ts";
import {
  compressionOf,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
  utf8,
} from "../../lib/log/record-batch.ts";
import { clean, compactedLog, contents, put, putEach, rolled } from "./cleaner-helpers.ts";
import {
  batch,
  expectSluiceError,
  fileNames,
  LOG_DIR,
  memoryLog,
  START_MS,
  splitBatches,
  thrownBy,
} from "./helpers.ts";

const SECOND_MS = 1000;

/** Headers of every batch in the log, oldest first. */
function batchHeaders(log: ReturnType<typeof compactedLog>["log"]) {
  return log.segments.flatMap((segment) =>
    splitBatches(segment.readBytes(0, segment.sizeBytes)).map((bytes) => readBatchHeader(bytes)),
  );
}

describe("what a pass keeps", () => {
  test("the latest value of each key survives and the older ones vanish", async () => {
    const { log } = compactedLog();
    rolled(log, "a=1 b=1 a=2 c=1 b=2 a=3");
    const result = await clean(log);
    expect(contents(log)).toEqual([
      [3, "c", "1"],
      [4, "b", "2"],
      [5, "a", "3"],
    ]);
    expect(result).toMatchObject({ checkpoint: 6, groupsCleaned: 1, segmentsCleaned: 1, recordsRemoved: 3 });
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);
  });

  test("survivors keep their offsets, and a read at an offset compacted away continues at the next one", async () => {
    const { log } = compactedLog();
    rolled(log, "a=1 a=2 b=1 a=3");
    await clean(log);
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(4);
    for (const offset of [0, 1]) {
      expect(log.read(offset, { maxBytes: 1 }).slice?.firstOffset).toBe(2);
      expect(contents(log, offset)).toEqual([
        [2, "b", "1"],
        [3, "a", "3"],
      ]);
    }
    expect(contents(log, 3)).toEqual([[3, "a", "3"]]);
    expect(log.offsetForTimestamp(START_MS)).toEqual({ offset: 2, timestamp: START_MS });
  });

  test("records superseded inside one batch go, and the batch keeps its first and last offsets", async () => {
    const { log } = compactedLog();
    put(log, [
      ["a", "1"],
      ["b", "1"],
      ["a", "2"],
      ["b", "2"],
      ["c", "1"],
    ]);
    rolled(log, "c=2");
    await clean(log);
    expect(contents(log)).toEqual([
      [2, "a", "2"],
      [3, "b", "2"],
      [5, "c", "2"],
    ]);
    const [first] = batchHeaders(log);
    expect(first).toMatchObject({ baseOffset: 0, lastOffsetDelta: 4, recordsCount: 2 });
  });

  test("compressed batches are compacted and keep their codec", async () => {
    for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
      const { log } = compactedLog();
      put(
        log,
        [
          ["a", "1"],
          ["b", "1"],
          ["a", "2"],
          ["c", "1"],
        ],
        { compression: codec },
      );
      put(log, [["b", "2"]], { compression: codec });
      log.roll();
      await clean(log);
      expect(contents(log)).toEqual([
        [2, "a", "2"],
        [3, "c", "1"],
        [4, "b", "2"],
      ]);
      const headers = batchHeaders(log);
      expect(headers.map(compressionOf)).toEqual([codec, codec]);
      expect(headers[0]).toMatchObject({ baseOffset: 0, lastOffsetDelta: 3, recordsCount: 2 });
    }
  });

  test("a rebuilt batch keeps its producer id, epoch and base sequence", async () => {
    const { log } = compactedLog();
    put(
      log,
      [
        ["a", "1"],
        ["b", "1"],
      ],
      { producerId: 42, baseSequence: 0 },
    );
    rolled(log, "a=2");
    await clean(log);
    expect(batchHeaders(log)[0]).toMatchObject({
      baseOffset: 0,
      lastOffsetDelta: 1,
      recordsCount: 1,
      producerId: 42,
      producerEpoch: 0,
      baseSequence: 0,
    });
  });

  test("under CreateTime a rebuilt batch's maxTimestamp is its kept records' largest", async () => {
    const { log, clock } = compactedLog();
    put(log, [["a", "1"]]);
    clock.advance(SECOND_MS);
    put(log, [["b", "1"]]);
    clock.advance(SECOND_MS);
    log.appendSync(
      batchOf([
        ["b", "2", START_MS + 5 * SECOND_MS],
        ["c", "1", START_MS + 3 * SECOND_MS],
      ]),
    );
    rolled(log, "b=3");
    await clean(log);
    const rebuilt = batchHeaders(log).find((header) => header.baseOffset === 2);
    expect(rebuilt).toMatchObject({ recordsCount: 1, maxTimestamp: START_MS + 3 * SECOND_MS });
    expect(
      decodeRecords(log.readSliceBytes(log.read(3, { maxBytes: 1 }).slice!), 1 << 20)[0]!.timestamp,
    ).toBe(START_MS + 3 * SECOND_MS);
  });

  test("a batch that loses every record goes, unless it ends its segment: that one stays, empty", async () => {
    const log = await cleanedSegmentEndingEmpty();
    expect(log.segments.map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([
      [0, 2],
      [2, 4],
      [4, 4],
    ]);
    expect(batchHeaders(log)[0]).toMatchObject({ baseOffset: 1, lastOffsetDelta: 0, recordsCount: 0 });
    expect(contents(log)).toEqual([
      [2, "a", "3"],
      [3, "b", "1"],
    ]);
  });

  test("an empty batch left at a segment's end goes once a later pass merges that segment", async () => {
    const log = await cleanedSegmentEndingEmpty();
    rolled(log, "c=1");
    log.config = { ...log.config, segmentBytes: 1024 * 1024 };
    await clean(log, 4);
    expect(log.segments.map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([
      [0, 5],
      [5, 5],
    ]);
    expect(batchHeaders(log).map((header) => [header.baseOffset, header.recordsCount])).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
  });

  test("a producer's last batch stays as an empty batch when all its records go", async () => {
    const { log } = compactedLog();
    put(log, [["a", "1"]], { producerId: 7, baseSequence: 0 });
    put(log, [["a", "2"]], { producerId: 8, baseSequence: 0 });
    rolled(log, "b=1");
    await clean(log);
    expect(batchHeaders(log).map((header) => [header.producerId, header.recordsCount])).toEqual([
      [7, 0],
      [8, 1],
      [-1, 1],
    ]);
  });

  test("small segments are merged into one when a pass rewrites them", async () => {
    const { log } = compactedLog();
    for (let i = 0; i < 4; i++) rolled(log, `k=${i} x${i}=x`);
    const result = await clean(log);
    expect(result.segmentsCleaned).toBe(4);
    expect(log.segments.map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([
      [0, 8],
      [8, 8],
    ]);
    expect(contents(log).map(([offset]) => offset)).toEqual([1, 3, 5, 6, 7]);
  });
});

describe("bounded memory", () => {
  test("a pass whose keys overflow the map stops at a segment boundary and the next pass goes on", async () => {
    const { log } = compactedLog();
    rolled(log, "a=1 a=2", "b=1 b=2", "c=1");
    const first = await clean(log, 0, { offsetMapBytesMax: 1 });
    expect(first.checkpoint).toBe(2);
    expect(contents(log).map(([offset]) => offset)).toEqual([1, 2, 3, 4]);
    const second = await clean(log, first.checkpoint, { offsetMapBytesMax: 1 });
    expect(second.checkpoint).toBe(4);
    expect(contents(log).map(([offset]) => offset)).toEqual([1, 3, 4]);
  });
});

describe("tombstones", () => {
  test("a tombstone stays until delete.retention.ms after its segment's newest record, then goes", async () => {
    const { log, clock } = compactedLog({ deleteRetentionMs: 10 * SECOND_MS });
    rolled(log, "a=1 b=1 a=-");
    let result = await clean(log);
    expect(contents(log)).toEqual([
      [1, "b", "1"],
      [2, "a", null],
    ]);
    clock.advance(10 * SECOND_MS);
    rolled(log, "c=1");
    result = await clean(log, result.checkpoint);
    expect(contents(log).map(([offset]) => offset)).toEqual([1, 2, 3]);
    // The tombstone now shares a segment with c, ten seconds younger: its horizon moved with it.
    clock.advance(10 * SECOND_MS + 1);
    rolled(log, "d=1");
    await clean(log, result.checkpoint);
    expect(contents(log)).toEqual([
      [1, "b", "1"],
      [3, "c", "1"],
      [4, "d", "1"],
    ]);
  });

  test("a tombstone already past its horizon goes in the pass that removes its key's older values", async () => {
    const { log, clock } = compactedLog({ deleteRetentionMs: SECOND_MS });
    rolled(log, "a=1 a=- b=1");
    clock.advance(2 * SECOND_MS);
    await clean(log);
    expect(contents(log)).toEqual([[2, "b", "1"]]);
  });
});

describe("what a pass leaves alone", () => {
  test("the active segment is never cleaned, nor do its records supersede anything", async () => {
    const { log } = compactedLog();
    putEach(log, "a=1 a=2");
    const before = contents(log);
    expect(await clean(log)).toMatchObject({ groupsCleaned: 0, checkpoint: 0 });
    log.roll();
    putEach(log, "a=3");
    await clean(log);
    expect(contents(log)).toEqual([before[1]!, [2, "a", "3"]]);
  });

  test("segments younger than min.compaction.lag.ms stay dirty until they are old enough", async () => {
    const { log, clock } = compactedLog({ minCompactionLagMs: 60 * SECOND_MS });
    rolled(log, "a=1 a=2");
    expect(cleanableRange(log, 0)).toMatchObject({ firstUncleanableOffset: 0, dirtyBytes: 0 });
    expect(await clean(log)).toMatchObject({ groupsCleaned: 0 });
    clock.advance(60 * SECOND_MS + 1);
    expect(needsCleaning(log, 0)).toBe(true);
    await clean(log);
    expect(contents(log)).toEqual([[1, "a", "2"]]);
  });

  test("a pass runs only once the dirty share of the log reaches min.cleanable.dirty.ratio", async () => {
    const { log } = compactedLog({ minCleanableDirtyRatio: 0.5 });
    rolled(log, "a=1 b=1 c=1");
    expect(needsCleaning(log, 0)).toBe(true);
    const { checkpoint } = await clean(log);
    expect(needsCleaning(log, checkpoint)).toBe(false);
    rolled(log, "a=2");
    const range = cleanableRange(log, checkpoint);
    expect(range.dirtyRatio).toBeCloseTo(1 / 4, 2);
    expect(needsCleaning(log, checkpoint)).toBe(false);
    log.config = { ...log.config, minCleanableDirtyRatio: 0.2 };
    expect(needsCleaning(log, checkpoint)).toBe(true);
  });

  test("a log under cleanup.policy=delete never needs cleaning", () => {
    const { log } = memoryLog();
    log.appendSync(batch());
    log.appendSync(batch());
    log.roll();
    expect(needsCleaning(log, 0)).toBe(false);
  });

  test("retention deletes no segment of a compact-only log, and does under compact,delete", () => {
    const { log, clock } = compactedLog({ retentionMs: SECOND_MS });
    rolled(log, "a=1");
    putEach(log, "b=1");
    clock.advance(2 * SECOND_MS);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(0);
    log.config = { ...log.config, cleanupPolicy: "compact,delete" };
    expect(log.deleteRetainedSegments().deletedSegments).toBe(2);
  });
});

describe("appends", () => {
  test("a record without a key is INVALID_RECORD on a compacted topic, and nothing is appended", () => {
    const { log } = compactedLog();
    const keyless = batchOf([["", "v", START_MS]], { nullKey: true });
    expectSluiceError(
      thrownBy(() => log.appendSync(keyless)),
      "INVALID_RECORD",
    );
    expect(log.logEndOffset).toBe(0);
    const { log: deleting } = memoryLog();
    expect(deleting.appendSync(batchOf([["", "v", START_MS]], { nullKey: true })).baseOffset).toBe(0);
  });

  test("appends made while a pass pauses land after it and are left alone", async () => {
    const { log } = compactedLog();
    rolled(log, "a=1 a=2 b=1");
    let pauses = 0;
    const result = await clean(log, 0, {
      sliceBytes: 1,
      pause: async () => {
        put(log, [["a", `during-${pauses++}`]]);
      },
    });
    expect(result.groupsCleaned).toBe(1);
    expect(pauses).toBeGreaterThan(0);
    const rows = contents(log);
    expect(rows.slice(0, 2)).toEqual([
      [1, "a", "2"],
      [2, "b", "1"],
    ]);
    expect(rows.slice(2).map(([, , value]) => value)).toEqual(
      Array.from({ length: pauses }, (_, i) => `during-${i}`),
    );
  });

  test("a pass stops cleanly when retention removes a segment under it", async () => {
    const { log, storage, clock } = compactedLog({ cleanupPolicy: "compact,delete", retentionMs: SECOND_MS });
    rolled(log, "a=1 a=2", "b=1");
    clock.advance(2 * SECOND_MS);
    const result = await clean(log, 0, {
      sliceBytes: 1,
      pause: async () => {
        log.deleteRetainedSegments();
      },
    });
    expect(result.stopReason).toContain("removed a segment");
    expect(result.checkpoint).toBe(0);
    expect(fileNames(storage, LOG_DIR).filter((name) => /\.(cleaned|swap)$/.test(name))).toEqual([]);
  });

  test("a pass stops when the log is closed under it and leaves no temporary files", async () => {
    const { log, storage } = compactedLog();
    rolled(log, "a=1 a=2");
    const result = await clean(log, 0, {
      sliceBytes: 1,
      pause: async () => {
        await log.close();
      },
    });
    expect(result.stopReason).toBe("the log was closed");
    expect(fileNames(storage, LOG_DIR).filter((name) => /\.(cleaned|swap)$/.test(name))).toEqual([]);
  });
});

/**
 * Segments [a=1, a=2] and [a=3, b=1], too big to merge, after one pass: the first is left with an
 * empty batch at offset 1 (a=2 lost its record but ends the segment).
 */
async function cleanedSegmentEndingEmpty() {
  const { log } = compactedLog();
  rolled(log, "a=1 a=2", "a=3 b=1");
  log.config = { ...log.config, segmentBytes: log.segments[0]!.sizeBytes };
  expect((await clean(log)).checkpoint).toBe(4);
  return log;
}

/** A batch of records with explicit timestamps; `nullKey` leaves every key null. */
function batchOf(rows: Array<[string, string, number]>, options: { nullKey?: boolean } = {}): Uint8Array {
  const records = rows.map(([key, value, timestamp]) => ({
    key: options.nullKey ? null : utf8(key),
    value: utf8(value),
    headers: [],
    timestamp,
  }));
  return encodeBatch(records, { timestampMs: START_MS });
}
