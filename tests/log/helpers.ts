// Small builders shared by the log and topic tests: batches, configs, logs on MemoryStorage, temp dirs,
// a seeded PRNG and error matchers, so each test says what it checks and not how to set it up.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { type ErrorName, isSluiceError } from "../../lib/errors.ts";
import type { CodecName } from "../../lib/log/compression.ts";
import type { LogConfig } from "../../lib/log/log-config.ts";
import { PartitionLog, type RecoveryReport } from "../../lib/log/partition-log.ts";
import { type DecodedRecord, decodeRecords, encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import type { Storage } from "../../lib/storage/storage.ts";

/** Where the clock of every test starts: a fixed wall-clock time, so timestamps repeat. */
export const START_MS = 1_700_000_000_000;

export { seededRandom } from "../../lib/random.ts";

export interface BatchSpec {
  /** Records in the batch (default 1). */
  count?: number;
  /** Bytes in each value (default 10). */
  valueBytes?: number;
  /** Timestamp of every record, or one per record (default START_MS). */
  timestamps?: number | number[];
  compression?: CodecName;
  /** Byte the values are filled with, so batches differ (default 0x61). */
  fill?: number;
}

/** A producer batch (baseOffset 0) of `count` records. */
export function batch(spec: BatchSpec = {}): Uint8Array {
  const count = spec.count ?? 1;
  const records = Array.from({ length: count }, (_, i) => ({
    key: utf8(`k${i}`),
    value: new Uint8Array(spec.valueBytes ?? 10).fill(spec.fill ?? 0x61),
    headers: [],
    timestamp: timestampAt(spec.timestamps, i),
  }));
  return encodeBatch(records, { compression: spec.compression ?? "none", timestampMs: START_MS });
}

function timestampAt(timestamps: number | number[] | undefined, i: number): number {
  if (timestamps === undefined) return START_MS;
  if (typeof timestamps === "number") return timestamps;
  return timestamps[i] ?? START_MS;
}

/** A batch whose record values are the given strings, all at `timestampMs`. */
export function textBatch(values: string[], timestampMs = START_MS): Uint8Array {
  return encodeBatch(
    values.map((value) => ({ key: null, value: utf8(value), headers: [], timestamp: timestampMs })),
    { timestampMs },
  );
}

/** Kafka's defaults, with segment files small enough to roll in a test. */
export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return {
    segmentBytes: 1024 * 1024,
    segmentMs: 7 * 24 * 60 * 60 * 1000,
    retentionMs: -1,
    retentionBytes: -1,
    maxMessageBytes: 1_048_588,
    indexIntervalBytes: 4096,
    flushMessages: Number.MAX_SAFE_INTEGER,
    flushMs: Number.MAX_SAFE_INTEGER,
    messageTimestampType: "CreateTime",
    compressionType: "producer",
    fileDeleteDelayMs: 0,
    cleanupPolicy: "delete",
    minCleanableDirtyRatio: 0.5,
    deleteRetentionMs: 24 * 60 * 60 * 1000,
    minCompactionLagMs: 0,
    ...overrides,
  };
}

export const LOG_DIR = "/data/topic-0";

export interface LogFixture {
  storage: MemoryStorage;
  clock: ManualClock;
  log: PartitionLog;
  recovery: RecoveryReport;
  /** Opens the same directory again, as after a restart (the old log is not closed). */
  reopen(options?: {
    cleanShutdown?: boolean;
    config?: Partial<LogConfig>;
    recoveryPoint?: number;
  }): LogFixture;
}

/** A PartitionLog on a fresh MemoryStorage with a ManualClock. */
export function memoryLog(
  config: Partial<LogConfig> = {},
  options: {
    storage?: MemoryStorage;
    clock?: ManualClock;
    cleanShutdown?: boolean;
    recoveryPoint?: number;
  } = {},
): LogFixture {
  const storage = options.storage ?? new MemoryStorage();
  const clock = options.clock ?? new ManualClock(START_MS);
  const opened = PartitionLog.open({
    storage,
    dir: LOG_DIR,
    config: logConfig(config),
    clock,
    cleanShutdown: options.cleanShutdown ?? true,
    recoveryPoint: options.recoveryPoint ?? 0,
  });
  return {
    storage,
    clock,
    log: opened.log,
    recovery: opened.recovery,
    reopen: (again = {}) =>
      memoryLog(
        { ...config, ...again.config },
        {
          storage,
          clock,
          cleanShutdown: again.cleanShutdown ?? false,
          recoveryPoint: again.recoveryPoint ?? 0,
        },
      ),
  };
}

/** Every record from `fromOffset` up to the high watermark, read back one slice at a time. */
export function readRecords(
  log: PartitionLog,
  fromOffset = log.logStartOffset,
  maxBytes = 64 * 1024,
): DecodedRecord[] {
  const records: DecodedRecord[] = [];
  let offset = fromOffset;
  for (;;) {
    const { slice } = log.read(offset, { maxBytes });
    if (slice === undefined) return records;
    const bytes = log.readSliceBytes(slice);
    for (const part of splitBatches(bytes)) {
      records.push(...decodeRecords(part, 64 * 1024 * 1024).filter((record) => record.offset >= offset));
    }
    offset = slice.lastOffset + 1;
  }
}

/** Cuts bytes holding whole batches back to back into one array per batch. */
export function splitBatches(bytes: Uint8Array): Uint8Array[] {
  const batches: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let position = 0; position < bytes.length; ) {
    const size = view.getInt32(position + 8) + 12;
    batches.push(bytes.subarray(position, position + size));
    position += size;
  }
  return batches;
}

/** Runs `action` and returns what it threw; fails the test when it returns. */
export function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the action to throw");
}

/** What a promise rejected with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** Asserts `error` is a SluiceError named `name` (and with `field`, when given). */
export function expectSluiceError(error: unknown, name: ErrorName, field?: string): void {
  expect(isSluiceError(error) ? error.errorName : error).toBe(name);
  if (field !== undefined) expect((error as { field?: string }).field).toBe(field);
}

/** Lets pending promise callbacks (group commits, timer-started flushes) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A temporary directory removed when the test is done with it (`using dir = tempDir()`). */
export function tempDir(prefix = "sluice-test-"): { path: string } & Disposable {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** Names of the files in a directory of a storage, sorted. */
export function fileNames(storage: Storage, dir: string): string[] {
  return storage
    .list(dir)
    .map((entry) => entry.name)
    .sort();
}
