// Compaction end to end on real files: the cleanup.policy config keys, LogManager cleaning compacted
// topics on its retention timer, and the cleaner-offset-checkpoint that spares a restart a new pass.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { CLEANER_CHECKPOINT_FILE, LogManager } from "../../lib/topics/log-manager.ts";
import { parseTopicConfig } from "../../lib/topics/topic-config.ts";
import { contents, put } from "./cleaner-helpers.ts";
import { expectSluiceError, START_MS, tempDir, textBatch, thrownBy } from "./helpers.ts";

const CHECK_INTERVAL_MS = 1000;

function openManager(dataDir: string, clock = new ManualClock(START_MS)) {
  const errors: unknown[] = [];
  const manager = LogManager.open({
    dataDir,
    clock,
    retentionCheckIntervalMs: CHECK_INTERVAL_MS,
    onBackgroundError: (error) => errors.push(error),
  });
  return { manager, clock, errors };
}

describe("config", () => {
  test("cleanup.policy takes Kafka's spellings of delete, compact and both", () => {
    const cases: Array<[string, string]> = [
      ["delete", "delete"],
      ["compact", "compact"],
      ["compact,delete", "compact,delete"],
      ["delete,compact", "compact,delete"],
      [" compact , delete ", "compact,delete"],
      ["compact,compact", "compact"],
    ];
    for (const [given, parsed] of cases) {
      expect(parseTopicConfig({ "cleanup.policy": given })["cleanup.policy"]).toBe(parsed as never);
    }
  });

  test("other cleanup.policy values and out-of-range compaction settings are INVALID_CONFIG", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ "cleanup.policy": "" }, "config.cleanup.policy"],
      [{ "cleanup.policy": "purge" }, "config.cleanup.policy"],
      [{ "cleanup.policy": "compact;delete" }, "config.cleanup.policy"],
      [{ "cleanup.policy": ["compact", "delete"] }, "config.cleanup.policy"],
      [{ "min.cleanable.dirty.ratio": 1.5 }, "config.min.cleanable.dirty.ratio"],
      [{ "min.cleanable.dirty.ratio": "half" }, "config.min.cleanable.dirty.ratio"],
      [{ "delete.retention.ms": -1 }, "config.delete.retention.ms"],
      [{ "min.compaction.lag.ms": 1.5 }, "config.min.compaction.lag.ms"],
    ];
    for (const [config, field] of cases) {
      expectSluiceError(
        thrownBy(() => parseTopicConfig(config)),
        "INVALID_CONFIG",
        field,
      );
    }
  });

  test("the compaction settings default to Kafka's and take numeric strings", () => {
    expect(parseTopicConfig({})).toMatchObject({
      "cleanup.policy": "delete",
      "min.cleanable.dirty.ratio": 0.5,
      "delete.retention.ms": 86_400_000,
      "min.compaction.lag.ms": 0,
    });
    expect(parseTopicConfig({ "min.cleanable.dirty.ratio": "0.25" })["min.cleanable.dirty.ratio"]).toBe(0.25);
  });

  test("a topic altered to compact rejects keyless records from then on", () => {
    using dir = tempDir();
    const { manager } = openManager(dir.path);
    manager.createTopic("events");
    const log = manager.partition("events", 0);
    log.appendSync(textBatch(["keyless"]));
    manager.alterTopicConfig("events", { "cleanup.policy": "compact" });
    expectSluiceError(
      thrownBy(() => log.appendSync(textBatch(["keyless"]))),
      "INVALID_RECORD",
    );
  });
});

describe("LogManager", () => {
  test("cleans a compacted topic on its timer, checkpoints it, and a restart finds nothing to clean", async () => {
    using dir = tempDir();
    const { manager, clock, errors } = openManager(dir.path);
    manager.createTopic("offsets", { config: { "cleanup.policy": "compact", "segment.bytes": 1024 } });
    manager.createTopic("events", { config: { "segment.bytes": 1024 } });
    const log = manager.partition("offsets", 0);
    const latest = new Map<string, string>();
    for (let i = 0; i < 80; i++) {
      const key = `group-${i % 5}`;
      put(log, [[key, `offset-${i}`]]);
      put(manager.partition("events", 0), [[key, `offset-${i}`]]);
      latest.set(key, `offset-${i}`);
    }
    const before = contents(log).length;
    const activeBase = log.segments.at(-1)!.baseOffset;
    expect(log.segments.length).toBeGreaterThan(3);

    clock.advance(CHECK_INTERVAL_MS);
    const summary = await manager.runCleaner(); // joins the run the timer started
    expect(summary).toMatchObject({ partitionsCleaned: 1, recordsRemoved: activeBase - 5 });
    expect(errors).toEqual([]);
    const cleaned = contents(log);
    expect(cleaned.length).toBeLessThan(before);
    const belowActive = cleaned.filter(([offset]) => offset < activeBase).map(([, key]) => key);
    expect(new Set(belowActive).size).toBe(belowActive.length);
    expect(new Map(cleaned.map(([, key, value]) => [key, value]))).toEqual(latest);
    expect(contents(manager.partition("events", 0)).length).toBe(80);
    const checkpoint = readFileSync(join(dir.path, CLEANER_CHECKPOINT_FILE), "utf8");
    expect(checkpoint).toBe(`0\n1\noffsets 0 ${activeBase}\n`);
    expect(readdirSync(join(dir.path, "offsets-0")).filter((name) => /\.(cleaned|swap)$/.test(name))).toEqual(
      [],
    );

    await manager.close();
    const reopened = openManager(dir.path, clock);
    expect(contents(reopened.manager.partition("offsets", 0))).toEqual(cleaned);
    expect(await reopened.manager.runCleaner()).toMatchObject({ partitionsCleaned: 0 });
    await reopened.manager.close();
  });

  test("a binary-fetch Blob taken before a cleaning still holds the bytes that were read", async () => {
    using dir = tempDir();
    const { manager } = openManager(dir.path);
    manager.createTopic("offsets", { config: { "cleanup.policy": "compact", "segment.bytes": 1024 } });
    const log = manager.partition("offsets", 0);
    for (let i = 0; i < 80; i++) put(log, [[`group-${i % 5}`, `offset-${i}`]]);
    const { slice } = log.read(0, { maxBytes: 1 << 20 });
    const expected = log.readSliceBytes(slice!);
    const blob = log.sliceBlob(slice!);
    expect((await manager.runCleaner()).partitionsCleaned).toBe(1);
    // The cleaner swapped a new file in under the segment's path; the Blob must not follow it.
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([...expected]);
    await manager.close();
  });

  test("a compacted log recovered after a crash keeps its cleaned records", async () => {
    using dir = tempDir();
    const { manager } = openManager(dir.path);
    manager.createTopic("offsets", { config: { "cleanup.policy": "compact", "segment.bytes": 1024 } });
    const log = manager.partition("offsets", 0);
    for (let i = 0; i < 60; i++) put(log, [[`k${i % 3}`, `v${i}`]]);
    await manager.runCleaner();
    const cleaned = contents(log);
    // No close: the next open finds no clean-shutdown marker and recovers every segment.
    const reopened = openManager(dir.path);
    const recovered = reopened.manager.recovery.partitions[0]!.report;
    expect(recovered.cleanShutdown).toBe(false);
    expect(recovered.segmentsRecovered.length).toBeGreaterThan(1);
    expect(recovered.truncatedBytes).toBe(0);
    expect(contents(reopened.manager.partition("offsets", 0))).toEqual(cleaned);
    await reopened.manager.close();
  });
});
