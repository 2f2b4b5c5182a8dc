// A property of compaction, checked against a naive model (a map of key → last value) over random
// appends, rolls, cleanings at random times, and reopens: cleaning never changes what the log says
// each key's value is, never alters a record it keeps, and reads land on the next survivor.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { PartitionLog } from "../../lib/log/partition-log.ts";
import { clean, compactedLog, contents, put } from "./cleaner-helpers.ts";

const DELETE_RETENTION_MS = 1000;

type Op =
  | { kind: "put"; key: string; value: string | null }
  | { kind: "roll" }
  | { kind: "clean"; advanceMs: number }
  | { kind: "reopen" };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      key: fc.constantFrom("a", "b", "c", "d", "e"),
      value: fc.option(fc.string({ maxLength: 6 }), { freq: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "roll" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("clean" as const),
      advanceMs: fc.integer({ min: 0, max: 3 * DELETE_RETENTION_MS }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

type Row = [number, string, string | null];

/** An appended record and when it was appended. */
interface Appended {
  row: Row;
  timestampMs: number;
}

/** Each key's value by the rows, in order: a tombstone deletes it (what a consumer would build). */
function materialize(rows: Row[]): Map<string, string> {
  const view = new Map<string, string>();
  for (const [, key, value] of rows) {
    if (value === null) view.delete(key);
    else view.set(key, value);
  }
  return view;
}

function check(log: PartitionLog, history: Appended[], checkpoint: number): void {
  const appended = history.map((entry) => entry.row);
  const rows = contents(log);
  // The model: same key → value view as everything ever appended.
  expect(materialize(rows)).toEqual(materialize(appended));
  // Survivors are the very records appended at their offsets, in offset order.
  for (const row of rows) expect(row).toEqual(appended[row[0]]!);
  // The part a pass finished holds each key at most once.
  const cleanedKeys = rows.filter(([offset]) => offset < checkpoint).map(([, key]) => key);
  expect(new Set(cleanedKeys).size).toBe(cleanedKeys.length);
  // A read from any offset starts at the batch holding the first survivor at or after it.
  for (let offset = log.logStartOffset; offset < log.logEndOffset; offset++) {
    const slice = log.read(offset, { maxBytes: 1 }).slice!;
    expect(slice.lastOffset).toBeGreaterThanOrEqual(offset);
    const next = rows.find(([survivor]) => survivor >= offset);
    if (next !== undefined) expect(slice.firstOffset).toBeLessThanOrEqual(next[0]);
  }
  expect(contents(log, log.logEndOffset)).toEqual([]);
  expect(log.logEndOffset).toBe(appended.length);
  // A key's latest record is a tombstone younger than delete.retention.ms: it is still there.
  const latest = new Map(history.map((entry) => [entry.row[1], entry]));
  for (const { row, timestampMs } of latest.values()) {
    if (row[2] === null && log.clock.nowMs() - timestampMs <= DELETE_RETENTION_MS)
      expect(rows).toContainEqual(row);
  }
}

describe("compaction against a key → last value model", () => {
  test("random appends, rolls, cleanings and reopens keep the model's view and every kept record", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 80, size: "max" }), async (ops) => {
        let fixture = compactedLog({ segmentBytes: 250, deleteRetentionMs: DELETE_RETENTION_MS });
        const history: Appended[] = [];
        let checkpoint = 0;
        for (const step of ops) {
          const { log } = fixture;
          if (step.kind === "put") {
            put(log, [[step.key, step.value]]);
            history.push({ row: [history.length, step.key, step.value], timestampMs: log.clock.nowMs() });
          } else if (step.kind === "roll") {
            log.roll();
          } else if (step.kind === "clean") {
            fixture.clock.advance(step.advanceMs);
            checkpoint = (await clean(log, checkpoint)).checkpoint;
          } else {
            log.closeWithoutFlush();
            fixture = fixture.reopen({ cleanShutdown: false });
          }
          if (step.kind !== "put") check(fixture.log, history, checkpoint);
        }
        check(fixture.log, history, checkpoint);
      }),
      { seed: 20_250_301, numRuns: 50 },
    );
  });
});
