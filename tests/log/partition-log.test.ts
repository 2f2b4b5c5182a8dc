// PartitionLog against a naive in-memory model (a fast-check property with segments that roll often),
// then reads, appends, timestamps, compression and truncation one behaviour at a time.
//
// offsetForTimestamp follows Kafka's ListOffsets by time: the first record in offset order (at or
// after the log start) whose timestamp is >= the target, even when timestamps are not monotonic. A
// later record with a smaller timestamp never wins over an earlier one that qualifies. Under
// LogAppendTime every record of a batch carries the batch's append time, as Kafka's readers apply it.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { CodecName } from "../../lib/log/compression.ts";
import type { PartitionLog } from "../../lib/log/partition-log.ts";
import {
  compressionOf,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
  setMaxTimestamp,
  timestampTypeOf,
  utf8,
  validateBatch,
} from "../../lib/log/record-batch.ts";
import {
  batch,
  expectSluiceError,
  LOG_DIR,
  memoryLog,
  readRecords,
  START_MS,
  splitBatches,
  thrownBy,
} from "./helpers.ts";

const MAX_UNCOMPRESSED = 64 * 1024 * 1024;

interface ModelRecord {
  offset: number;
  timestamp: number;
  value: Uint8Array;
  batchBase: number;
  batchLast: number;
}

interface AppendCommand {
  valueBytes: number;
  timestamps: number[];
  compression: CodecName;
}

const appendCommand: fc.Arbitrary<AppendCommand> = fc.record({
  valueBytes: fc.integer({ min: 0, max: 400 }),
  timestamps: fc.array(
    fc.integer({ min: 0, max: 50_000 }).map((delta) => START_MS + delta),
    {
      minLength: 1,
      maxLength: 6,
    },
  ),
  compression: fc.constantFrom<CodecName>("none", "none", "none", "gzip", "lz4"),
});

/** Value bytes that differ by offset, so a read of the wrong record shows. */
function valueFor(offset: number, length: number): Uint8Array {
  const value = new Uint8Array(length);
  for (let i = 0; i < length; i++) value[i] = (offset * 7 + i) & 0xff;
  return value;
}

function appendToBoth(log: PartitionLog, model: ModelRecord[], command: AppendCommand): void {
  const baseOffset = model.length;
  const records = command.timestamps.map((timestamp, i) => ({
    key: null,
    value: valueFor(baseOffset + i, command.valueBytes),
    headers: [],
    timestamp,
  }));
  const encoded = encodeBatch(records, { compression: command.compression });
  if (encoded.length > log.config.segmentBytes) {
    // Kafka's RECORD_LIST_TOO_LARGE: a batch must fit in one segment. Nothing is written.
    const sizeBefore = log.sizeBytes;
    expectSluiceError(
      thrownBy(() => log.appendSync(encoded)),
      "RECORD_LIST_TOO_LARGE",
    );
    expect([log.sizeBytes, log.logEndOffset]).toEqual([sizeBefore, baseOffset]);
    return;
  }
  const result = log.appendSync(encoded);
  expect(result.baseOffset).toBe(baseOffset);
  expect(result.lastOffset).toBe(baseOffset + records.length - 1);
  for (const [i, record] of records.entries()) {
    model.push({
      offset: baseOffset + i,
      timestamp: record.timestamp,
      value: record.value,
      batchBase: baseOffset,
      batchLast: result.lastOffset,
    });
  }
}

/** Kafka's answer: the first record in offset order whose timestamp is >= the target. */
function modelOffsetForTimestamp(model: ModelRecord[], timestamp: number) {
  const match = model.find((record) => record.timestamp >= timestamp);
  return match && { offset: match.offset, timestamp: match.timestamp };
}

/** The log holds exactly the model's records from `logStartOffset` on, and every lookup agrees. */
function expectLogMatchesModel(log: PartitionLog, allRecords: ModelRecord[], logStartOffset = 0): void {
  const model = allRecords.filter((record) => record.offset >= logStartOffset);
  expect(log.logStartOffset).toBe(logStartOffset);
  expect(log.logEndOffset).toBe(allRecords.length);
  expect(log.highWatermark).toBe(allRecords.length);
  for (const expected of model) {
    const { slice } = log.read(expected.offset, { maxBytes: 1 });
    expect(slice).toBeDefined();
    expect([slice!.firstOffset, slice!.lastOffset, slice!.batchCount]).toEqual([
      expected.batchBase,
      expected.batchLast,
      1,
    ]);
    const decoded = decodeRecords(log.readSliceBytes(slice!), MAX_UNCOMPRESSED);
    const got = decoded.find((record) => record.offset === expected.offset);
    expect(got?.timestamp).toBe(expected.timestamp);
    expect(got?.value).toEqual(expected.value);
  }
  expect(log.read(allRecords.length, { maxBytes: 1 }).slice).toBeUndefined();
  const all = readRecords(log, logStartOffset, 700);
  expect(all.map((record) => record.offset)).toEqual(model.map((record) => record.offset));

  const timestamps = new Set<number>([START_MS - 1, START_MS + 50_001]);
  for (const record of model) for (const delta of [-1, 0, 1]) timestamps.add(record.timestamp + delta);
  for (const timestamp of timestamps) {
    expect({ timestamp, found: log.offsetForTimestamp(timestamp) }).toEqual({
      timestamp,
      found: modelOffsetForTimestamp(model, timestamp),
    });
  }
}

describe("PartitionLog against a model", () => {
  test("reads, offsets and timestamp lookups match the model through rolls, reopen, recovery and retention", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(appendCommand, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1024, max: 4096 }),
        fc.integer({ min: 0, max: 512 }),
        fc.double({ min: 0, max: 1.2, noNaN: true }),
        async (commands, segmentBytes, indexIntervalBytes, retentionFraction) => {
          const fixture = memoryLog({ segmentBytes, indexIntervalBytes });
          const model: ModelRecord[] = [];
          for (const command of commands) appendToBoth(fixture.log, model, command);
          expectLogMatchesModel(fixture.log, model);
          for (const segment of fixture.log.segments)
            expect(segment.sizeBytes).toBeLessThanOrEqual(segmentBytes);

          await fixture.log.close();
          const clean = fixture.reopen({ cleanShutdown: true });
          expect(clean.recovery.segmentsRecovered).toEqual([]);
          expectLogMatchesModel(clean.log, model);

          const recovered = fixture.reopen({ cleanShutdown: false });
          expect(recovered.recovery.truncatedBytes).toBe(0);
          expectLogMatchesModel(recovered.log, model);

          // Retention by size: whole segments go from the front, and the rest still matches.
          const log = recovered.log;
          const sizes = log.segments.map((segment) => segment.sizeBytes);
          log.config = { ...log.config, retentionBytes: Math.floor(retentionFraction * log.sizeBytes) };
          const { deletedSegments, deletedBytes } = log.deleteRetainedSegments();
          expect(deletedBytes).toBe(sizes.slice(0, deletedSegments).reduce((sum, size) => sum + size, 0));
          expect(log.logStartOffset).toBe(log.segments[0]!.baseOffset);
          const excessBytes = log.sizeBytes - log.config.retentionBytes;
          if (log.sizeBytes > 0) expect(excessBytes).toBeLessThan(log.segments[0]!.sizeBytes);
          expectLogMatchesModel(log, model, log.logStartOffset);
        },
      ),
      { seed: 20_240_601, numRuns: 40 },
    );
  });
});

/** A batch as a leader wrote it: offsets from `baseOffset`, stamped with `epoch`. */
function leaderBatch(baseOffset: number, count: number, epoch = 0, timestampMs = START_MS): Uint8Array {
  const records = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: utf8(`r${baseOffset + i}`),
    headers: [],
    timestamp: timestampMs,
  }));
  return encodeBatch(records, { baseOffset, partitionLeaderEpoch: epoch, timestampMs });
}

function appendBatches(log: PartitionLog, batches: number, recordsPerBatch = 1): void {
  for (let i = 0; i < batches; i++) log.appendSync(batch({ count: recordsPerBatch, fill: i }));
}

describe("PartitionLog.read", () => {
  test("a read returns one whole batch even when maxBytes is smaller", () => {
    const { log } = memoryLog();
    log.appendSync(batch({ count: 3, valueBytes: 100 }));
    const { slice } = log.read(0, { maxBytes: 10 });
    expect([slice!.firstOffset, slice!.lastOffset, slice!.batchCount]).toEqual([0, 2, 1]);
    expect(slice!.endPosition - slice!.startPosition).toBe(log.sizeBytes);
  });

  test("a read stops before the batch that would pass maxBytes", () => {
    const { log } = memoryLog();
    const size = batch({ valueBytes: 50 }).length;
    appendBatches(log, 5);
    for (const maxBytes of [size, 2 * size, 3 * size - 1, 3 * size, 100 * size]) {
      const { slice } = log.read(0, { maxBytes });
      expect(slice!.batchCount).toBe(Math.min(5, Math.max(1, Math.floor(maxBytes / batch().length))));
      expect(slice!.endPosition - slice!.startPosition).toBeLessThanOrEqual(
        Math.max(maxBytes, batch().length),
      );
    }
  });

  test("a read from inside a batch starts at that batch's first byte", () => {
    const { log } = memoryLog();
    log.appendSync(batch({ count: 2 }));
    log.appendSync(batch({ count: 4 }));
    const { slice } = log.read(4, { maxBytes: 1 });
    expect([slice!.firstOffset, slice!.lastOffset]).toEqual([2, 5]);
    const records = decodeRecords(log.readSliceBytes(slice!), MAX_UNCOMPRESSED);
    expect(records.map((record) => record.offset)).toEqual([2, 3, 4, 5]);
  });

  test("a read at the log end is empty and reports the log's bounds", () => {
    const { log } = memoryLog();
    appendBatches(log, 3);
    expect(log.read(3, { maxBytes: 1000 })).toEqual({
      slice: undefined,
      highWatermark: 3,
      logStartOffset: 0,
      logEndOffset: 3,
    });
  });

  test("a read of an empty log at offset 0 is empty", () => {
    const { log } = memoryLog();
    expect(log.read(0, { maxBytes: 1000 }).slice).toBeUndefined();
  });

  test("a read outside [logStartOffset, logEndOffset] is OFFSET_OUT_OF_RANGE", () => {
    const { log } = memoryLog();
    appendBatches(log, 3);
    for (const offset of [-1, 4, 1000, 0.5, Number.NaN]) {
      expectSluiceError(
        thrownBy(() => log.read(offset, { maxBytes: 1000 })),
        "OFFSET_OUT_OF_RANGE",
        "offset",
      );
    }
  });

  test("a consumer read never passes the high watermark; a replica read goes to the log end", () => {
    const { log } = memoryLog();
    for (let base = 0; base < 6; base += 2) log.appendAsFollower(leaderBatch(base, 2));
    expect([log.highWatermark, log.logEndOffset]).toEqual([0, 6]);
    expect(log.read(0, { maxBytes: 10_000 }).slice).toBeUndefined();
    expect(log.read(0, { maxBytes: 10_000, upTo: "log-end" }).slice!.lastOffset).toBe(5);

    log.updateHighWatermark(4);
    expect(log.read(0, { maxBytes: 10_000 }).slice!.lastOffset).toBe(3);
    expect(log.read(4, { maxBytes: 10_000 }).slice).toBeUndefined();
    expect(readRecords(log).map((record) => record.offset)).toEqual([0, 1, 2, 3]);
  });

  test("a batch that straddles the high watermark is held back whole", () => {
    const { log } = memoryLog();
    log.appendAsFollower(leaderBatch(0, 2));
    log.appendAsFollower(leaderBatch(2, 4));
    log.updateHighWatermark(4);
    const { slice } = log.read(0, { maxBytes: 10_000 });
    expect([slice!.firstOffset, slice!.lastOffset]).toEqual([0, 1]);
    expect(log.read(2, { maxBytes: 10_000 }).slice).toBeUndefined();
  });

  test("the high watermark never passes the log end and never goes back", () => {
    const { log } = memoryLog();
    log.appendAsFollower(leaderBatch(0, 3));
    log.updateHighWatermark(100);
    expect(log.highWatermark).toBe(3);
    log.updateHighWatermark(1);
    expect(log.highWatermark).toBe(3);
  });

  test("a slice ends at its segment; the next read continues in the next one", () => {
    const size = batch().length;
    const { log } = memoryLog({ segmentBytes: 2 * size });
    appendBatches(log, 5);
    expect(log.segments.length).toBe(3);
    expect(log.read(0, { maxBytes: 10_000 }).slice!.lastOffset).toBe(1);
    expect(log.read(2, { maxBytes: 10_000 }).slice!.lastOffset).toBe(3);
    expect(readRecords(log, 0, 10_000).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4]);
  });

  test("sliceBlob gives the same bytes as readSliceBytes", async () => {
    const { log } = memoryLog();
    appendBatches(log, 3);
    const { slice } = log.read(1, { maxBytes: 10_000 });
    const blobBytes = new Uint8Array(await log.sliceBlob(slice!).arrayBuffer());
    expect([...blobBytes]).toEqual([...log.readSliceBytes(slice!)]);
  });
});

describe("PartitionLog.appendSync", () => {
  test("it assigns offsets from the log end and stamps the leader epoch", () => {
    const { log } = memoryLog();
    expect(log.appendSync(batch({ count: 3 }))).toEqual({
      baseOffset: 0,
      lastOffset: 2,
      recordCount: 3,
      logAppendTime: -1,
      logStartOffset: 0,
    });
    const second = log.appendSync(batch({ count: 2 }), { leaderEpoch: 7 });
    expect([second.baseOffset, second.lastOffset]).toEqual([3, 4]);
    const [first, stamped] = splitBatches(log.readSliceBytes(log.read(0, { maxBytes: 10_000 }).slice!));
    expect(readBatchHeader(first!)).toMatchObject({ baseOffset: 0, partitionLeaderEpoch: 0 });
    expect(readBatchHeader(stamped!)).toMatchObject({ baseOffset: 3, partitionLeaderEpoch: 7 });
    // baseOffset and the epoch are outside the CRC: the stored batches still validate.
    expect(() => validateBatch(stamped!, MAX_UNCOMPRESSED)).not.toThrow();
    expect(log.epochs.entries).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 7, startOffset: 3 },
    ]);
  });

  test("a batch with a baseOffset other than 0 is INVALID_RECORD", () => {
    const { log } = memoryLog();
    const produced = encodeBatch([{ value: utf8("x"), timestamp: START_MS }], { baseOffset: 5 });
    expectSluiceError(
      thrownBy(() => log.appendSync(produced)),
      "INVALID_RECORD",
    );
  });

  test("a batch over max.message.bytes is MESSAGE_TOO_LARGE", () => {
    const produced = batch({ valueBytes: 200 });
    const { log } = memoryLog({ maxMessageBytes: produced.length - 1 });
    expectSluiceError(
      thrownBy(() => log.appendSync(produced)),
      "MESSAGE_TOO_LARGE",
    );
    expect(memoryLog({ maxMessageBytes: produced.length }).log.appendSync(produced).lastOffset).toBe(0);
  });

  test("a batch over segment.bytes is RECORD_LIST_TOO_LARGE", () => {
    const produced = batch({ valueBytes: 2000 });
    const { log } = memoryLog({ segmentBytes: produced.length - 1 });
    expectSluiceError(
      thrownBy(() => log.appendSync(produced)),
      "RECORD_LIST_TOO_LARGE",
    );
  });

  test("a batch that recompression grows past max.message.bytes is MESSAGE_TOO_LARGE", () => {
    const produced = batch({ valueBytes: 4000, compression: "gzip" });
    const { log } = memoryLog({ compressionType: "none", maxMessageBytes: 1000 });
    expect(produced.length).toBeLessThan(1000);
    expectSluiceError(
      thrownBy(() => log.appendSync(produced)),
      "MESSAGE_TOO_LARGE",
    );
    expect(log.logEndOffset).toBe(0);
  });

  test("corrupt batches are rejected with Kafka's errors", () => {
    const { log } = memoryLog();
    const flipped = batch({ valueBytes: 20 });
    flipped[70]! ^= 0x01;
    expectSluiceError(
      thrownBy(() => log.appendSync(flipped)),
      "CORRUPT_MESSAGE",
    );
    expectSluiceError(
      thrownBy(() => log.appendSync(batch().subarray(0, 40))),
      "CORRUPT_MESSAGE",
    );
    expectSluiceError(
      thrownBy(() => log.appendSync(batch().subarray(0, 70))),
      "CORRUPT_MESSAGE",
    );
    const oldMagic = batch();
    oldMagic[16] = 1;
    expectSluiceError(
      thrownBy(() => log.appendSync(oldMagic)),
      "UNSUPPORTED_MAGIC",
    );
  });

  test("nothing is written when an append is rejected", () => {
    const { storage, log } = memoryLog({ maxMessageBytes: 500 });
    appendBatches(log, 2);
    const before = {
      size: log.sizeBytes,
      end: log.logEndOffset,
      files: storage.readFile(`${LOG_DIR}/${"0".repeat(20)}.log`),
    };
    const rejected = [
      batch({ valueBytes: 600 }),
      encodeBatch([{ value: utf8("x"), timestamp: START_MS }], { baseOffset: 9 }),
      Object.assign(batch(), { 70: 0xff }),
    ];
    for (const produced of rejected) expect(() => log.appendSync(produced)).toThrow();
    expect({
      size: log.sizeBytes,
      end: log.logEndOffset,
      files: storage.readFile(`${LOG_DIR}/${"0".repeat(20)}.log`),
    }).toEqual(before);
    expect(log.epochs.entries).toEqual([{ epoch: 0, startOffset: 0 }]);
  });

  test("a closed log refuses appends with LOG_CLOSED", async () => {
    const { log } = memoryLog();
    await log.close();
    expectSluiceError(
      thrownBy(() => log.appendSync(batch())),
      "LOG_CLOSED",
    );
    expectSluiceError(await log.flush().catch((error) => error), "LOG_CLOSED");
  });
});

describe("PartitionLog.appendAsFollower", () => {
  test("a replicated batch keeps its offsets and epoch and must start at the log end", () => {
    const { log } = memoryLog();
    log.appendAsFollower(leaderBatch(0, 3, 4));
    expect(log.logEndOffset).toBe(3);
    expect(log.epochs.entries).toEqual([{ epoch: 4, startOffset: 0 }]);
    expectSluiceError(
      thrownBy(() => log.appendAsFollower(leaderBatch(5, 1, 4))),
      "INVALID_RECORD",
    );
  });
});

describe("timestamps", () => {
  test("under CreateTime the batch keeps the producer's timestamps and maxTimestamp is recomputed", () => {
    const { log } = memoryLog();
    const produced = batch({ count: 3, timestamps: [START_MS + 5, START_MS + 9, START_MS + 1] });
    // A producer that lies about maxTimestamp (with a CRC to match): the broker recomputes it.
    setMaxTimestamp(produced, "CreateTime", START_MS);
    const result = log.appendSync(produced);
    expect(result.logAppendTime).toBe(-1);
    const stored = log.readSliceBytes(log.read(0, { maxBytes: 1 }).slice!);
    expect(readBatchHeader(stored).maxTimestamp).toBe(START_MS + 9);
    expect(timestampTypeOf(readBatchHeader(stored))).toBe("CreateTime");
    expect(log.offsetForTimestamp(START_MS + 6)).toEqual({ offset: 1, timestamp: START_MS + 9 });
  });

  test("under LogAppendTime the broker's clock stamps the batch and answers timestamp lookups", () => {
    const { log, clock } = memoryLog({ messageTimestampType: "LogAppendTime" });
    const first = log.appendSync(batch({ count: 2, timestamps: 5 }));
    expect(first.logAppendTime).toBe(START_MS);
    clock.advance(1000);
    log.appendSync(batch({ count: 2, timestamps: 5 }));
    const stored = log.readSliceBytes(log.read(2, { maxBytes: 1 }).slice!);
    const header = readBatchHeader(stored);
    expect(timestampTypeOf(header)).toBe("LogAppendTime");
    expect(header.maxTimestamp).toBe(START_MS + 1000);
    expect(() => validateBatch(stored, MAX_UNCOMPRESSED)).not.toThrow();
    // The records say 5, but Kafka reads every record of a LogAppendTime batch at the append time.
    expect(log.offsetForTimestamp(6)).toEqual({ offset: 0, timestamp: START_MS });
    expect(log.offsetForTimestamp(START_MS + 1)).toEqual({ offset: 2, timestamp: START_MS + 1000 });
    expect(log.offsetForTimestamp(START_MS + 1001)).toBeUndefined();
  });

  test("timestamp lookups follow offset order when timestamps go backwards", () => {
    const { log } = memoryLog({ indexIntervalBytes: 0 });
    log.appendSync(batch({ timestamps: START_MS + 300 }));
    log.appendSync(batch({ timestamps: START_MS + 100 }));
    log.appendSync(batch({ timestamps: START_MS + 200 }));
    log.appendSync(batch({ timestamps: START_MS + 400 }));
    // Offset 2 (200) is not the answer for 150: offset 0 (300) comes first and is late enough.
    expect(log.offsetForTimestamp(START_MS + 150)).toEqual({ offset: 0, timestamp: START_MS + 300 });
    expect(log.offsetForTimestamp(START_MS + 350)).toEqual({ offset: 3, timestamp: START_MS + 400 });
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: START_MS + 300 });
  });
});

describe("compression.type", () => {
  const codecs: CodecName[] = ["gzip", "snappy", "lz4", "zstd"];

  test("producer keeps each batch as it was sent", () => {
    const { log } = memoryLog({ compressionType: "producer" });
    for (const codec of codecs) {
      const produced = batch({ count: 3, valueBytes: 100, compression: codec });
      const copy = produced.slice();
      const { baseOffset } = log.appendSync(produced);
      const stored = log.readSliceBytes(log.read(baseOffset, { maxBytes: 1 }).slice!);
      expect(compressionOf(readBatchHeader(stored))).toBe(codec);
      // Only the leader's fields (offset, epoch) differ: the bytes under the CRC are untouched.
      expect(stored.subarray(17)).toEqual(copy.subarray(17));
    }
  });

  test("a topic codec recompresses batches sent with another and keeps their records", () => {
    for (const target of ["none", ...codecs] as const) {
      const { log } = memoryLog({ compressionType: target });
      for (const codec of ["none", ...codecs] as const) {
        const produced = encodeBatch(
          [
            {
              key: utf8("a"),
              value: utf8("one"),
              headers: [{ key: "h", value: utf8("x") }],
              timestamp: START_MS + 2,
            },
            { key: null, value: null, timestamp: START_MS + 1 },
          ],
          { compression: codec, producerId: 42, producerEpoch: 3, baseSequence: 17 },
        );
        const { baseOffset } = log.appendSync(produced);
        const stored = log.readSliceBytes(log.read(baseOffset, { maxBytes: 1 }).slice!);
        const header = readBatchHeader(stored);
        expect(compressionOf(header)).toBe(target);
        expect(header).toMatchObject({
          producerId: 42,
          producerEpoch: 3,
          baseSequence: 17,
          maxTimestamp: START_MS + 2,
        });
        expect(() => validateBatch(stored, MAX_UNCOMPRESSED)).not.toThrow();
        const records = decodeRecords(stored, MAX_UNCOMPRESSED);
        expect(
          records.map((record) => [
            record.offset,
            record.timestamp,
            record.value && new TextDecoder().decode(record.value),
          ]),
        ).toEqual([
          [baseOffset, START_MS + 2, "one"],
          [baseOffset + 1, START_MS + 1, null],
        ]);
        expect(records[0]!.headers).toEqual([{ key: "h", value: utf8("x") }]);
      }
    }
  });
});

describe("PartitionLog.truncateTo", () => {
  test("truncation cuts whole batches, drops later segments and lowers the high watermark", () => {
    const size = batch().length;
    const { log, storage } = memoryLog({ segmentBytes: 2 * size, indexIntervalBytes: 0 });
    appendBatches(log, 6);
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 2, 4]);
    const removed = log.truncateTo(3);
    expect(removed).toBe(3 * size);
    expect([log.logEndOffset, log.highWatermark]).toEqual([3, 3]);
    expect(log.segments.map((segment) => segment.baseOffset)).toEqual([0, 2]);
    expect(storage.list(LOG_DIR).some((entry) => entry.name.startsWith("00000000000000000004"))).toBe(false);
    expect(readRecords(log).map((record) => record.offset)).toEqual([0, 1, 2]);
    expect(log.appendSync(batch()).baseOffset).toBe(3);
  });

  test("an offset inside a batch cuts that whole batch", () => {
    const { log } = memoryLog();
    log.appendSync(batch({ count: 2 }));
    log.appendSync(batch({ count: 4 }));
    log.truncateTo(4);
    expect(log.logEndOffset).toBe(2);
    expect(log.appendSync(batch()).baseOffset).toBe(2);
    expect(readRecords(log).map((record) => record.offset)).toEqual([0, 1, 2]);
  });

  test("truncating at or past the log end changes nothing", () => {
    const { log } = memoryLog();
    appendBatches(log, 3);
    expect(log.truncateTo(3)).toBe(0);
    expect(log.truncateTo(10)).toBe(0);
    expect(log.logEndOffset).toBe(3);
  });

  test("the truncated log keeps working across a clean reopen", async () => {
    const size = batch().length;
    const fixture = memoryLog({ segmentBytes: 2 * size, indexIntervalBytes: 0 });
    appendBatches(fixture.log, 5);
    fixture.log.truncateTo(3);
    fixture.log.appendSync(batch({ timestamps: START_MS + 50 }));
    await fixture.log.close();
    const { log } = fixture.reopen({ cleanShutdown: true });
    expect(log.logEndOffset).toBe(4);
    expect(readRecords(log).map((record) => record.offset)).toEqual([0, 1, 2, 3]);
    expect(log.offsetForTimestamp(START_MS + 1)).toEqual({ offset: 3, timestamp: START_MS + 50 });
  });

  test("the leader epoch checkpoint is truncated with the log", () => {
    const fixture = memoryLog();
    fixture.log.appendSync(batch({ count: 2 }), { leaderEpoch: 1 });
    fixture.log.appendSync(batch({ count: 2 }), { leaderEpoch: 2 });
    fixture.log.appendSync(batch({ count: 2 }), { leaderEpoch: 3 });
    expect(new TextDecoder().decode(fixture.storage.readFile(`${LOG_DIR}/leader-epoch-checkpoint`))).toBe(
      "0\n3\n1 0\n2 2\n3 4\n",
    );
    fixture.log.truncateTo(4);
    expect(fixture.log.epochs.entries).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 2 },
    ]);
    expect(new TextDecoder().decode(fixture.storage.readFile(`${LOG_DIR}/leader-epoch-checkpoint`))).toBe(
      "0\n2\n1 0\n2 2\n",
    );
    expect(fixture.log.epochs.endOffsetFor(1, fixture.log.logEndOffset)).toBe(2);
    expect(fixture.log.epochs.endOffsetFor(2, fixture.log.logEndOffset)).toBe(4);
    // Cutting into epoch 2's batch removes the batch and with it the epoch's only entry.
    fixture.log.truncateTo(3);
    expect(fixture.log.epochs.entries).toEqual([{ epoch: 1, startOffset: 0 }]);
  });
});

describe("PartitionLog.readSliceInto", () => {
  test("reads a slice into the caller's buffer when it fits, else into a new one", () => {
    const { log } = memoryLog({});
    for (let i = 0; i < 5; i++) log.appendSync(batch());
    const { slice } = log.read(0, { maxBytes: 1 << 20 });
    const expected = log.readSliceBytes(slice!);
    const roomy = new Uint8Array(expected.length + 100);
    const intoRoomy = log.readSliceInto(slice!, roomy);
    expect(intoRoomy.buffer).toBe(roomy.buffer);
    expect(intoRoomy).toEqual(expected);
    const small = new Uint8Array(4);
    const intoNew = log.readSliceInto(slice!, small);
    expect(intoNew.buffer).not.toBe(small.buffer);
    expect(intoNew).toEqual(expected);
  });
});
