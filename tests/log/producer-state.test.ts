// The idempotent-producer rules of reference/kafka-formats.md §4, checked through PartitionLog's
// append: duplicates, fenced epochs, new epochs, sequence gaps and the int32 wrap.
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { ERRORS } from "../../lib/errors.ts";
import { PRODUCER_BATCHES_CACHED, PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS } from "../../lib/limits.ts";
import { PartitionLog } from "../../lib/log/partition-log.ts";
import { incrementSequence, SEQUENCE_MAX } from "../../lib/log/producer-state.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import {
  batch,
  expectSluiceError,
  LOG_DIR,
  logConfig,
  memoryLog,
  readRecords,
  START_MS,
  thrownBy,
} from "./helpers.ts";
import { producerBatch, valuesOf } from "./producer-state-helpers.ts";

const PID = 42;
const DAY_MS = 24 * 60 * 60 * 1000;

describe("duplicates", () => {
  test("a retried batch appends nothing and answers with the original offsets", () => {
    const { log } = memoryLog();
    log.appendSync(batch());
    const first = log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 3, label: "a" }));
    log.appendSync(producerBatch({ producerId: PID, sequence: 3, count: 2, label: "b" }));
    const endBefore = log.logEndOffset;

    const retry = log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 3, label: "a" }));

    expect(retry).toEqual({ ...first, duplicate: true });
    expect(retry.baseOffset).toBe(1);
    expect(retry.lastOffset).toBe(3);
    expect(log.logEndOffset).toBe(endBefore);
    expect(valuesOf(readRecords(log))).toEqual(["aaaaaaaaaa", "a0", "a1", "a2", "b0", "b1"]);
  });

  test("a retry of any of the last five batches is a duplicate, not only of the last one", () => {
    const { log } = memoryLog();
    const results = [];
    for (let i = 0; i < 7; i++) {
      results.push(
        log.appendSync(producerBatch({ producerId: PID, sequence: i * 2, count: 2, label: `${i}-` })),
      );
    }
    const endBefore = log.logEndOffset;
    // Batches 2..6 are cached; each retry gets its own offsets back.
    for (let i = 7 - PRODUCER_BATCHES_CACHED; i < 7; i++) {
      const retry = log.appendSync(producerBatch({ producerId: PID, sequence: i * 2, count: 2 }));
      expect(retry).toMatchObject({ baseOffset: results[i]!.baseOffset, lastOffset: results[i]!.lastOffset });
      expect(retry.duplicate).toBe(true);
    }
    // Batch 1 fell out of the cache: Kafka can only call it out of order.
    const evicted = thrownBy(() => log.appendSync(producerBatch({ producerId: PID, sequence: 2, count: 2 })));
    expectSluiceError(evicted, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(log.logEndOffset).toBe(endBefore);
  });

  test("a batch that overlaps a cached one without matching it is out of order", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 3 }));
    const overlap = thrownBy(() => log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 2 })));
    expectSluiceError(overlap, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(log.logEndOffset).toBe(3);
  });

  test("the same sequences under another producer id are not duplicates", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, sequence: 0 }));
    const other = log.appendSync(producerBatch({ producerId: PID + 1, sequence: 0 }));
    expect(other.duplicate).toBeUndefined();
    expect(other.baseOffset).toBe(1);
  });

  test("a duplicate under LogAppendTime answers the original append time", () => {
    const { log, clock } = memoryLog({ messageTimestampType: "LogAppendTime" });
    const first = log.appendSync(producerBatch({ producerId: PID, sequence: 0 }));
    clock.advance(5_000);
    const retry = log.appendSync(producerBatch({ producerId: PID, sequence: 0 }));
    expect(retry.logAppendTime).toBe(first.logAppendTime);
    expect(first.logAppendTime).toBe(START_MS);
  });
});

describe("sequences and epochs", () => {
  test("a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER (Kafka 45) and appends nothing", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 2 }));
    const gap = thrownBy(() => log.appendSync(producerBatch({ producerId: PID, sequence: 3 })));
    expectSluiceError(gap, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect((gap as { kafkaCode: number }).kafkaCode).toBe(45);
    expect(log.logEndOffset).toBe(2);
    // The producer may go on from the right sequence.
    expect(log.appendSync(producerBatch({ producerId: PID, sequence: 2 })).baseOffset).toBe(2);
  });

  test("an epoch below the stored one is INVALID_PRODUCER_EPOCH (Kafka 47), even for a batch it wrote", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, epoch: 0, sequence: 0 }));
    log.appendSync(producerBatch({ producerId: PID, epoch: 1, sequence: 0 }));
    for (const sequence of [0, 1, 7]) {
      const fenced = thrownBy(() => log.appendSync(producerBatch({ producerId: PID, epoch: 0, sequence })));
      expectSluiceError(fenced, "INVALID_PRODUCER_EPOCH");
      expect((fenced as { kafkaCode: number }).kafkaCode).toBe(47);
    }
    expect(log.logEndOffset).toBe(2);
  });

  test("a new epoch must start at sequence 0", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, epoch: 0, sequence: 0, count: 5 }));
    const resumed = thrownBy(() => log.appendSync(producerBatch({ producerId: PID, epoch: 1, sequence: 5 })));
    expectSluiceError(resumed, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    const fresh = log.appendSync(producerBatch({ producerId: PID, epoch: 1, sequence: 0 }));
    expect(fresh.baseOffset).toBe(5);
    expect(log.producerState.entry(PID)).toMatchObject({ producerEpoch: 1, batches: [{ firstSequence: 0 }] });
  });

  test("an unknown producer may start at any sequence, and must continue from it", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, epoch: 3, sequence: 1_000, count: 2 }));
    expectSluiceError(
      thrownBy(() => log.appendSync(producerBatch({ producerId: PID, epoch: 3, sequence: 0 }))),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    expect(log.appendSync(producerBatch({ producerId: PID, epoch: 3, sequence: 1_002 })).baseOffset).toBe(2);
  });

  test("sequences wrap to 0 after int32 max, inside a batch and between batches", () => {
    const { log } = memoryLog();
    // SEQUENCE_MAX - 1, SEQUENCE_MAX, 0: the batch's last sequence is 0.
    log.appendSync(producerBatch({ producerId: PID, sequence: SEQUENCE_MAX - 1, count: 3 }));
    expect(log.producerState.entry(PID)!.batches[0]).toMatchObject({
      firstSequence: SEQUENCE_MAX - 1,
      lastSequence: 0,
    });
    expectSluiceError(
      thrownBy(() => log.appendSync(producerBatch({ producerId: PID, sequence: SEQUENCE_MAX + 0 }))),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    expect(log.appendSync(producerBatch({ producerId: PID, sequence: 1 })).baseOffset).toBe(3);
    // A retry of the wrapping batch is still recognised.
    const retry = log.appendSync(producerBatch({ producerId: PID, sequence: SEQUENCE_MAX - 1, count: 3 }));
    expect(retry).toMatchObject({ baseOffset: 0, lastOffset: 2, duplicate: true });

    const other = memoryLog().log;
    other.appendSync(producerBatch({ producerId: PID, sequence: SEQUENCE_MAX }));
    expect(other.appendSync(producerBatch({ producerId: PID, sequence: 0 })).baseOffset).toBe(1);
  });

  test("incrementSequence wraps as Kafka's DefaultRecordBatch.incrementSequence", () => {
    expect(incrementSequence(0, 4)).toBe(4);
    expect(incrementSequence(SEQUENCE_MAX, 1)).toBe(0);
    expect(incrementSequence(SEQUENCE_MAX - 2, 5)).toBe(2);
    expect(incrementSequence(SEQUENCE_MAX - 5, 5)).toBe(SEQUENCE_MAX);
  });

  test("batches without a producer id are never checked or remembered", () => {
    const { log } = memoryLog();
    log.appendSync(batch());
    log.appendSync(batch());
    expect(log.producerState.producerCount).toBe(0);
  });

  test("the errors are 409s with Kafka's codes, and not retriable", () => {
    expect(ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER).toMatchObject({
      status: 409,
      kafkaCode: 45,
      retriable: false,
    });
    expect(ERRORS.INVALID_PRODUCER_EPOCH).toMatchObject({ status: 409, kafkaCode: 47, retriable: false });
  });
});

describe("expiry and dry runs", () => {
  test("a producer idle longer than producer.id.expiration.ms is forgotten", () => {
    const fixture = memoryLog();
    const { log, clock } = fixture;
    log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 2 }));
    clock.advance(DAY_MS - 1);
    expectSluiceError(
      thrownBy(() =>
        log.appendSync(producerBatch({ producerId: PID, sequence: 5, timestampMs: clock.nowMs() })),
      ),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    clock.advance(1);
    // Idle a whole day since its last batch's timestamp: any sequence starts it again.
    const again = log.appendSync(producerBatch({ producerId: PID, sequence: 5, timestampMs: clock.nowMs() }));
    expect(again.duplicate).toBeUndefined();
    expect(log.producerState.entry(PID)!.batches).toHaveLength(1);
  });

  test("a shorter expiry can be set when the log is opened, and idle producers are swept", () => {
    const clock = new ManualClock(START_MS);
    const { log } = PartitionLog.open({
      storage: new MemoryStorage(),
      dir: LOG_DIR,
      config: logConfig(),
      clock,
      cleanShutdown: true,
      producerIdExpirationMs: 1_000,
    });
    expect(memoryLog().log.producerIdExpirationMs).toBe(DAY_MS);
    log.appendSync(producerBatch({ producerId: 1, sequence: 0, timestampMs: START_MS }));
    log.appendSync(producerBatch({ producerId: 2, sequence: 0, timestampMs: START_MS + 900 }));
    clock.advance(1_500);
    expect(log.producerState.removeExpired(clock.nowMs())).toBe(1);
    expect(log.producerState.entries().map((entry) => entry.producerId)).toEqual([2]);
    // The sweep also runs on its own, on an append at least ten minutes after the last one.
    clock.advance(PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS);
    log.appendSync(producerBatch({ producerId: 3, sequence: 0, timestampMs: clock.nowMs() }));
    expect(log.producerState.entries().map((entry) => entry.producerId)).toEqual([3]);
  });

  test("a dry run checks batches in order against the state without changing it", () => {
    const { log } = memoryLog();
    log.appendSync(producerBatch({ producerId: PID, sequence: 0, count: 2 }));
    const before = log.producerState.entries();
    const dryRun = log.producerState.dryRun(START_MS);
    const header = (sequence: number, count = 1) => ({
      producerId: PID,
      producerEpoch: 0,
      baseSequence: sequence,
      lastOffsetDelta: count - 1,
      maxTimestamp: START_MS,
    });
    dryRun.append(header(0, 2)); // a duplicate passes
    dryRun.append(header(2, 3));
    dryRun.append(header(5));
    dryRun.append(header(5)); // a duplicate of a batch earlier in the same request
    expectSluiceError(
      thrownBy(() => dryRun.append(header(9))),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    expect(log.producerState.entries()).toEqual(before);
  });

  test("a follower's appends keep the same producer state as the leader's", () => {
    const leader = memoryLog().log;
    for (let i = 0; i < 4; i++) leader.appendSync(producerBatch({ producerId: PID, sequence: i }));
    const follower = memoryLog().log;
    const { slice } = leader.read(0, { maxBytes: 1 << 20 });
    const bytes = leader.readSliceBytes(slice!);
    for (let position = 0; position < bytes.length; ) {
      const size = new DataView(bytes.buffer, bytes.byteOffset).getInt32(position + 8) + 12;
      follower.appendAsFollower(bytes.slice(position, position + size));
      position += size;
    }
    expect(follower.producerState.entries()).toEqual(leader.producerState.entries());
  });
});
