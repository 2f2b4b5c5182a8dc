// Rolling (segment.bytes, segment.ms) and retention (retention.ms, retention.bytes) of a PartitionLog,
// with a ManualClock so nothing sleeps.
import { describe, expect, test } from "bun:test";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import {
  batch,
  expectSluiceError,
  fileNames,
  LOG_DIR,
  memoryLog,
  readRecords,
  START_MS,
  thrownBy,
} from "./helpers.ts";

const BATCH_BYTES = batch().length;
const SECOND_MS = 1000;

function segmentName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, "0") + suffix;
}

describe("rolling", () => {
  test("a segment rolls when the next batch would pass segment.bytes", () => {
    const { log, storage } = memoryLog({ segmentBytes: 3 * BATCH_BYTES });
    for (let i = 0; i < 8; i++) log.appendSync(batch());
    expect(log.describeSegments().map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
    ]);
    for (const baseOffset of [0, 3, 6]) {
      for (const suffix of [".log", ".index", ".timeindex"]) {
        expect(fileNames(storage, LOG_DIR)).toContain(segmentName(baseOffset, suffix));
      }
    }
  });

  test("a segment rolls once segment.ms has passed since its first batch's timestamp", () => {
    const { log, clock } = memoryLog({ segmentMs: 10 * SECOND_MS });
    const append = () => log.appendSync(batch({ timestamps: clock.nowMs() }));
    append();
    clock.advance(10 * SECOND_MS);
    append();
    expect(log.segments.length).toBe(1);
    clock.advance(1);
    append();
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 2]);
    clock.advance(5 * SECOND_MS);
    append();
    expect(log.segments.length).toBe(2);
  });

  test("segment.ms under LogAppendTime follows the broker clock, whatever the producer says", () => {
    const { log, clock } = memoryLog({ segmentMs: SECOND_MS, messageTimestampType: "LogAppendTime" });
    log.appendSync(batch({ timestamps: 5 }));
    clock.advance(SECOND_MS + 1);
    log.appendSync(batch({ timestamps: 5 }));
    expect(log.segments.length).toBe(2);
  });

  test("an empty active segment does not roll", () => {
    const { log } = memoryLog();
    const active = log.roll();
    expect(log.roll()).toBe(active);
    expect(log.segments.length).toBe(1);
  });

  test("a rolled segment's time index ends with its largest timestamp", () => {
    const { log } = memoryLog({ segmentBytes: 3 * BATCH_BYTES, indexIntervalBytes: 1_000_000 });
    log.appendSync(batch({ timestamps: START_MS + 30 }));
    log.appendSync(batch({ timestamps: START_MS + 70 }));
    log.appendSync(batch({ timestamps: START_MS + 50 }));
    log.appendSync(batch({ timestamps: START_MS + 10 }));
    expect(log.segments[0]!.timeIndex.lastEntry()).toEqual({ timestamp: START_MS + 70, offset: 1 });
  });
});

/** A log with segments of two batches each, their batches stamped at the given times. */
function logWithSegmentsAt(timestamps: number[], config: Parameters<typeof memoryLog>[0] = {}) {
  const fixture = memoryLog({ segmentBytes: 2 * BATCH_BYTES, retentionMs: 10 * SECOND_MS, ...config });
  for (const timestamp of timestamps) fixture.log.appendSync(batch({ timestamps: timestamp }));
  return fixture;
}

describe("retention", () => {
  test("segments past retention.ms are deleted oldest first and the log start moves past them", () => {
    const { log, clock } = logWithSegmentsAt([
      START_MS,
      START_MS,
      START_MS,
      START_MS + 5000,
      START_MS + 9000,
    ]);
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 2, 4]);
    clock.advance(10 * SECOND_MS + 1);
    expect(log.deleteRetainedSegments()).toEqual({ deletedSegments: 1, deletedBytes: 2 * BATCH_BYTES });
    expect(log.logStartOffset).toBe(2);
    expect(log.read(2, { maxBytes: 1 }).logStartOffset).toBe(2);
    expectSluiceError(
      thrownBy(() => log.read(1, { maxBytes: 1000 })),
      "OFFSET_OUT_OF_RANGE",
      "offset",
    );
    clock.advance(5 * SECOND_MS);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(1);
    expect(log.logStartOffset).toBe(4);
    expect(readRecords(log).map((record) => record.offset)).toEqual([4]);
  });

  test("retention stops at the first segment that does not qualify", () => {
    const { log, clock } = logWithSegmentsAt([
      START_MS,
      START_MS,
      START_MS + 9000,
      START_MS,
      START_MS,
      START_MS,
    ]);
    clock.advance(10 * SECOND_MS + 1);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(1);
    expect(log.logStartOffset).toBe(2);
  });

  test("when the active segment alone is past retention it is rolled and then deleted", () => {
    const { log, clock, storage } = logWithSegmentsAt([START_MS]);
    clock.advance(10 * SECOND_MS + 1);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(1);
    expect([log.logStartOffset, log.logEndOffset, log.segments.length]).toEqual([1, 1, 1]);
    expect(log.read(1, { maxBytes: 1000 }).slice).toBeUndefined();
    expect(log.appendSync(batch({ timestamps: clock.nowMs() })).baseOffset).toBe(1);
    expect(fileNames(storage, LOG_DIR).filter((name) => name.endsWith(".log"))).toEqual([
      segmentName(1, ".log"),
    ]);
  });

  test("every segment past retention goes, the active one after a roll", () => {
    const { log, clock } = logWithSegmentsAt([START_MS, START_MS, START_MS, START_MS, START_MS]);
    clock.advance(10 * SECOND_MS + 1);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(3);
    expect([log.logStartOffset, log.logEndOffset, log.sizeBytes]).toEqual([5, 5, 0]);
  });

  test("an empty log has nothing to delete", () => {
    const { log, clock } = memoryLog({ retentionMs: 1 });
    clock.advance(10);
    expect(log.deleteRetainedSegments()).toEqual({ deletedSegments: 0, deletedBytes: 0 });
    expect(log.segments.length).toBe(1);
  });

  test("retention.ms of -1 keeps data forever", () => {
    const { log, clock } = logWithSegmentsAt([START_MS, START_MS, START_MS], { retentionMs: -1 });
    clock.advance(365 * 24 * 3600 * SECOND_MS);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(0);
  });

  test("retention.bytes deletes the oldest segments while the rest still exceed it", () => {
    const config = { retentionMs: -1, retentionBytes: 3 * BATCH_BYTES };
    const { log } = logWithSegmentsAt(
      [START_MS, START_MS, START_MS, START_MS, START_MS, START_MS, START_MS],
      config,
    );
    expect(log.sizeBytes).toBe(7 * BATCH_BYTES);
    // 7 - 3 = 4 batches over: two full segments of two; the third would leave 1 batch < 3.
    expect(log.deleteRetainedSegments()).toEqual({ deletedSegments: 2, deletedBytes: 4 * BATCH_BYTES });
    expect(log.logStartOffset).toBe(4);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(0);
  });

  test("retention never deletes a segment whose successor starts above the high watermark", () => {
    const { log, clock } = memoryLog({ segmentBytes: 2 * BATCH_BYTES, retentionMs: 10 * SECOND_MS });
    for (let offset = 0; offset < 5; offset++) {
      log.appendAsFollower(
        encodeBatch([{ value: utf8("x"), timestamp: START_MS }], {
          baseOffset: offset,
          partitionLeaderEpoch: 0,
        }),
      );
    }
    clock.advance(10 * SECOND_MS + 1);
    log.updateHighWatermark(1);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(0);
    log.updateHighWatermark(3);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(1);
    log.updateHighWatermark(4);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(1);
    // The active segment may be rolled away only once the high watermark reaches the log end.
    expect(log.logStartOffset).toBe(4);
    log.updateHighWatermark(5);
    expect(log.deleteRetainedSegments().deletedSegments).toBe(1);
    expect(log.logStartOffset).toBe(5);
  });

  test("deleted segments are renamed .deleted and removed after file.delete.delay.ms", () => {
    const { log, clock, storage } = logWithSegmentsAt([START_MS, START_MS, START_MS + 9000], {
      fileDeleteDelayMs: 60 * SECOND_MS,
    });
    clock.advance(10 * SECOND_MS + 1);
    log.deleteRetainedSegments();
    const deleted = [".log", ".index", ".timeindex"].map((suffix) => segmentName(0, `${suffix}.deleted`));
    expect(fileNames(storage, LOG_DIR)).toEqual(expect.arrayContaining(deleted));
    expect(fileNames(storage, LOG_DIR)).not.toContain(segmentName(0, ".log"));
    clock.advance(60 * SECOND_MS - 1);
    expect(fileNames(storage, LOG_DIR)).toEqual(expect.arrayContaining(deleted));
    clock.advance(1);
    expect(fileNames(storage, LOG_DIR).filter((name) => name.endsWith(".deleted"))).toEqual([]);
  });

  test("a slice read before its segment was deleted can still be copied during the delay", () => {
    const { log, clock } = logWithSegmentsAt([START_MS, START_MS, START_MS + 9000], {
      fileDeleteDelayMs: 1000,
    });
    const { slice } = log.read(0, { maxBytes: 10_000 });
    clock.advance(10 * SECOND_MS + 1);
    log.deleteRetainedSegments();
    expect(log.readSliceBytes(slice!).length).toBe(2 * BATCH_BYTES);
  });

  test("close removes segments still waiting for their delete delay", async () => {
    const { log, clock, storage } = logWithSegmentsAt([START_MS, START_MS, START_MS + 9000], {
      fileDeleteDelayMs: 60 * SECOND_MS,
    });
    clock.advance(10 * SECOND_MS + 1);
    log.deleteRetainedSegments();
    await log.close();
    expect(fileNames(storage, LOG_DIR).filter((name) => name.endsWith(".deleted"))).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  test("the log start survives a reopen and the epoch checkpoint starts there", async () => {
    const fixture = logWithSegmentsAt([START_MS, START_MS, START_MS, START_MS + 9000]);
    fixture.clock.advance(10 * SECOND_MS + 1);
    fixture.log.deleteRetainedSegments();
    expect(fixture.log.epochs.entries).toEqual([{ epoch: 0, startOffset: 2 }]);
    await fixture.log.close();
    const { log } = fixture.reopen({ cleanShutdown: true });
    expect([log.logStartOffset, log.logEndOffset]).toEqual([2, 4]);
    expect(readRecords(log).map((record) => record.offset)).toEqual([2, 3]);
  });
});
