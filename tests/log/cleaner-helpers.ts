// Builders for the log cleaner's tests: keyed records as text, a compacted log on MemoryStorage, a
// pass that never waits, and the log's contents as [offset, key, value] rows.
import { type CleanOptions, type CleanResult, cleanLog } from "../../lib/log/cleaner.ts";
import type { CodecName } from "../../lib/log/compression.ts";
import type { LogConfig } from "../../lib/log/log-config.ts";
import type { AppendResult, PartitionLog } from "../../lib/log/partition-log.ts";
import { encodeBatch, type RecordInput, utf8 } from "../../lib/log/record-batch.ts";
import { type LogFixture, memoryLog, readRecords, START_MS } from "./helpers.ts";

/** A record as tests write it: key and value as text, null value for a tombstone. */
export type Put = [key: string, value: string | null];

/** A compacted log whose segments never roll by themselves (tests roll with log.roll()). */
export function compactedLog(config: Partial<LogConfig> = {}): LogFixture {
  return memoryLog({ cleanupPolicy: "compact", ...config });
}

export function recordOf([key, value]: Put, timestamp = START_MS): RecordInput {
  return { key: utf8(key), value: value === null ? null : utf8(value), headers: [], timestamp };
}

/** Appends one batch holding `puts`, stamped at the log clock's time. */
export function put(
  log: PartitionLog,
  puts: Put[],
  options: { compression?: CodecName; producerId?: number; baseSequence?: number } = {},
): AppendResult {
  const now = log.clock.nowMs();
  const batch = encodeBatch(
    puts.map((entry) => recordOf(entry, now)),
    {
      timestampMs: now,
      compression: options.compression ?? "none",
      producerId: options.producerId ?? -1,
      producerEpoch: options.producerId === undefined ? -1 : 0,
      baseSequence: options.baseSequence ?? -1,
    },
  );
  return log.appendSync(batch);
}

/** "a=1 b=2 a=-" as puts: key=value pairs apart by spaces, `-` for a tombstone. */
export function parsePuts(text: string): Put[] {
  return text
    .split(" ")
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const [key, value] = pair.split("=") as [string, string];
      return [key, value === "-" ? null : value];
    });
}

/** Appends each put (an array, or text as parsePuts reads it) as a batch of its own. */
export function putEach(log: PartitionLog, puts: Put[] | string): void {
  for (const entry of typeof puts === "string" ? parsePuts(puts) : puts) put(log, [entry]);
}

/** Appends each text's puts (see parsePuts) and rolls after each: one closed segment per text. */
export function rolled(log: PartitionLog, ...segments: string[]): void {
  for (const puts of segments) {
    putEach(log, puts);
    log.roll();
  }
}

/** A cleaning pass that does not wait between slices. */
export function clean(
  log: PartitionLog,
  checkpoint = 0,
  options: Partial<CleanOptions> = {},
): Promise<CleanResult> {
  return cleanLog(log, { checkpoint, pause: () => Promise.resolve(), ...options });
}

const decoder = new TextDecoder();

/** Every record from `fromOffset` on as [offset, key, value] (null for a tombstone). */
export function contents(log: PartitionLog, fromOffset?: number): Array<[number, string, string | null]> {
  return readRecords(log, fromOffset).map((record) => [
    record.offset,
    record.key === null ? "<null>" : decoder.decode(record.key),
    record.value === null ? null : decoder.decode(record.value),
  ]);
}
