// LogManager on real files in a temp dir (and on MemoryStorage for crashes and a full disk): topic
// metadata, validation errors with their field, restarts clean and unclean, and timed retention.
import { afterEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LogManager,
  type LogManagerOptions,
  RECOVERY_POINT_FILE,
  TOPICS_FILE,
} from "../../lib/topics/log-manager.ts";
import { batch, expectSluiceError, readRecords, START_MS, thrownBy } from "../log/helpers.ts";

const RETENTION_CHECK_MS = 5 * 60 * 1000;
const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-log-manager-"));
  tempDirs.push(dir);
  return dir;
}

function openManager(dataDir: string, options: Partial<LogManagerOptions> = {}) {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(START_MS);
  const manager = LogManager.open({
    dataDir,
    clock,
    retentionCheckIntervalMs: RETENTION_CHECK_MS,
    ...options,
  });
  return { manager, clock };
}

describe("topics", () => {
  test("a created topic has a directory per partition, Kafka's defaults and a place in topics.json", () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    const described = manager.createTopic("orders", { partitions: 3, config: { "retention.ms": "3600000" } });
    expect(described.name).toBe("orders");
    expect(described.createdMs).toBe(START_MS);
    expect(
      described.partitions.map((p) => [p.partition, p.logStartOffset, p.logEndOffset, p.segmentCount]),
    ).toEqual([
      [0, 0, 0, 1],
      [1, 0, 0, 1],
      [2, 0, 0, 1],
    ]);
    expect(described.config).toMatchObject({
      "retention.ms": 3_600_000,
      "segment.bytes": 1024 * 1024 * 1024,
      "cleanup.policy": "delete",
      "compression.type": "producer",
    });
    for (const p of [0, 1, 2]) expect(existsSync(join(dataDir, `orders-${p}`))).toBe(true);
    const metadata = JSON.parse(readFileSync(join(dataDir, TOPICS_FILE), "utf8"));
    expect(metadata.topics).toEqual([
      { name: "orders", partitions: 3, config: { "retention.ms": "3600000" }, createdMs: START_MS },
    ]);
  });

  test("topics are listed by name with their partition counts and sizes", () => {
    const { manager } = openManager(freshDataDir());
    manager.createTopic("zeta");
    manager.createTopic("alpha", { partitions: 2 });
    manager.createTopic("Beta");
    manager.partition("alpha", 1).appendSync(batch());
    expect(manager.listTopics()).toEqual([
      { name: "Beta", partitions: 1, sizeBytes: 0 },
      { name: "alpha", partitions: 2, sizeBytes: batch().length },
      { name: "zeta", partitions: 1, sizeBytes: 0 },
    ]);
  });

  test("invalid topic names are INVALID_TOPIC_NAME on the name field", () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    for (const name of ["", ".", "..", "a/b", "with space", "ünicode", "x".repeat(250), "a\u0000b"]) {
      expectSluiceError(
        thrownBy(() => manager.createTopic(name)),
        "INVALID_TOPIC_NAME",
        "name",
      );
    }
    expect(manager.createTopic("x".repeat(249)).name.length).toBe(249);
    expect(manager.createTopic("a-b_c.d").name).toBe("a-b_c.d");
  });

  test("a duplicate topic is TOPIC_ALREADY_EXISTS and leaves the first one alone", () => {
    const { manager } = openManager(freshDataDir());
    manager.createTopic("orders", { partitions: 2 });
    manager.partition("orders", 0).appendSync(batch());
    expectSluiceError(
      thrownBy(() => manager.createTopic("orders")),
      "TOPIC_ALREADY_EXISTS",
      "name",
    );
    expect(manager.describeTopic("orders").partitions[0]!.logEndOffset).toBe(1);
  });

  test("a partition count outside 1..1024 is INVALID_PARTITIONS on the partitions field", () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    for (const partitions of [0, -1, 1.5, 1025, Number.NaN, "3" as unknown as number]) {
      expectSluiceError(
        thrownBy(() => manager.createTopic("orders", { partitions })),
        "INVALID_PARTITIONS",
        "partitions",
      );
    }
    expect(readdirSync(dataDir).filter((name) => name.startsWith("orders"))).toEqual([]);
  });

  test("unknown or invalid config keys are INVALID_CONFIG naming the key, and create nothing", () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ "retention.msec": 5 }, "config.retention.msec"],
      [{ "segment.bytes": 10 }, "config.segment.bytes"],
      [{ "segment.bytes": "lots" }, "config.segment.bytes"],
      [{ "retention.ms": -2 }, "config.retention.ms"],
      [{ "max.message.bytes": 1.5 }, "config.max.message.bytes"],
      [{ "cleanup.policy": "compact,archive" }, "config.cleanup.policy"],
      [{ "compression.type": "brotli" }, "config.compression.type"],
      [{ "message.timestamp.type": "WallClock" }, "config.message.timestamp.type"],
      [{ "flush.messages": 0 }, "config.flush.messages"],
    ];
    for (const [config, field] of cases) {
      expectSluiceError(
        thrownBy(() => manager.createTopic("orders", { config: config as never })),
        "INVALID_CONFIG",
        field,
      );
    }
    expect(manager.hasTopic("orders")).toBe(false);
    expect(readdirSync(dataDir).filter((name) => name.startsWith("orders"))).toEqual([]);
  });

  test("altering a topic's config reaches its logs, and null puts a key back to its default", () => {
    const { manager } = openManager(freshDataDir());
    manager.createTopic("orders", { partitions: 2, config: { "retention.ms": 1000 } });
    const altered = manager.alterTopicConfig("orders", { "retention.bytes": "4096", "segment.ms": 60_000 });
    expect(altered.config).toMatchObject({
      "retention.ms": 1000,
      "retention.bytes": 4096,
      "segment.ms": 60_000,
    });
    expect(manager.partition("orders", 1).config).toMatchObject({ retentionBytes: 4096, segmentMs: 60_000 });
    const reset = manager.alterTopicConfig("orders", { "retention.ms": null });
    expect(reset.config["retention.ms"]).toBe(7 * 24 * 3600 * 1000);
    expect(manager.partition("orders", 0).config.retentionMs).toBe(7 * 24 * 3600 * 1000);
  });

  test("an invalid alteration changes nothing", () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    manager.createTopic("orders", { config: { "retention.ms": 1000 } });
    const before = readFileSync(join(dataDir, TOPICS_FILE), "utf8");
    expectSluiceError(
      thrownBy(() => manager.alterTopicConfig("orders", { "retention.ms": 5, nonsense: 1 })),
      "INVALID_CONFIG",
      "config.nonsense",
    );
    expect(manager.describeTopic("orders").config["retention.ms"]).toBe(1000);
    expect(readFileSync(join(dataDir, TOPICS_FILE), "utf8")).toBe(before);
  });

  test("unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION with the field at fault", () => {
    const { manager } = openManager(freshDataDir());
    manager.createTopic("orders", { partitions: 2 });
    expectSluiceError(
      thrownBy(() => manager.describeTopic("nope")),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "topic",
    );
    expectSluiceError(
      thrownBy(() => manager.alterTopicConfig("nope", {})),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "topic",
    );
    expectSluiceError(
      thrownBy(() => manager.deleteTopic("nope")),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "topic",
    );
    for (const partition of [2, -1, 0.5]) {
      expectSluiceError(
        thrownBy(() => manager.partition("orders", partition)),
        "UNKNOWN_TOPIC_OR_PARTITION",
        "partition",
      );
    }
  });

  test("a deleted topic loses its directories and metadata, and its name can be used again", () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    manager.createTopic("orders", { partitions: 2 });
    const old = manager.partition("orders", 0);
    old.appendSync(batch());
    manager.deleteTopic("orders");
    expect(manager.hasTopic("orders")).toBe(false);
    expect(existsSync(join(dataDir, "orders-0"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dataDir, TOPICS_FILE), "utf8")).topics).toEqual([]);
    expectSluiceError(
      thrownBy(() => old.appendSync(batch())),
      "LOG_CLOSED",
    );
    manager.createTopic("orders");
    expect(manager.describeTopic("orders").partitions[0]!.logEndOffset).toBe(0);
  });
});

describe("a full disk", () => {
  test("a topic whose metadata cannot be written is not created, and leaves no directory", () => {
    const storage = new MemoryStorage();
    const { manager } = openManager("/data", { storage });
    storage.diskFullAfterBytes(0);
    expectSluiceError(
      thrownBy(() => manager.createTopic("orders", { partitions: 2 })),
      "DISK_FULL",
    );
    expect(manager.hasTopic("orders")).toBe(false);
    expect(storage.list("/data").filter((entry) => entry.isDirectory)).toEqual([]);
    storage.diskFullAfterBytes(undefined);
    expect(manager.createTopic("orders", { partitions: 2 }).partitions.length).toBe(2);
  });

  test("a topic whose deletion cannot be recorded stays whole and usable", () => {
    const storage = new MemoryStorage();
    const { manager } = openManager("/data", { storage });
    manager.createTopic("orders");
    manager.partition("orders", 0).appendSync(batch());
    storage.diskFullAfterBytes(0);
    expectSluiceError(
      thrownBy(() => manager.deleteTopic("orders")),
      "DISK_FULL",
    );
    expectSluiceError(
      thrownBy(() => manager.alterTopicConfig("orders", { "retention.ms": 5000 })),
      "DISK_FULL",
    );
    storage.diskFullAfterBytes(undefined);
    expect(manager.describeTopic("orders").config["retention.ms"]).toBe(7 * 24 * 3600 * 1000);
    expect(manager.partition("orders", 0).appendSync(batch()).baseOffset).toBe(1);
  });
});

describe("restarts", () => {
  test("a clean restart brings back every topic with the same offsets, configs and creation times", async () => {
    const dataDir = freshDataDir();
    const { manager, clock } = openManager(dataDir);
    manager.createTopic("orders", { partitions: 2, config: { "segment.bytes": 1024 } });
    clock.advance(1000);
    manager.createTopic("audit");
    for (let i = 0; i < 30; i++) manager.partition("orders", i % 2).appendSync(batch({ valueBytes: 40 }));
    manager.partition("audit", 0).appendSync(batch({ count: 3 }));
    const before = ["orders", "audit"].map((name) => manager.describeTopic(name));
    await manager.close();
    expect(existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(true);

    const { manager: again } = openManager(dataDir);
    expect(existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(false);
    expect(again.recovery.cleanShutdown).toBe(true);
    expect(again.recovery.partitions.every((p) => p.report.segmentsRecovered.length === 0)).toBe(true);
    expect(["orders", "audit"].map((name) => again.describeTopic(name))).toEqual(before);
    expect(readRecords(again.partition("orders", 1)).length).toBe(15);
    expect(again.partition("orders", 0).appendSync(batch()).baseOffset).toBe(15);
    await again.close();
  });

  test("an unclean restart recovers every partition and keeps what was written", async () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    manager.createTopic("orders", { partitions: 2, config: { "segment.bytes": 1024 } });
    for (let i = 0; i < 20; i++) manager.partition("orders", i % 2).appendSync(batch({ valueBytes: 40 }));
    // No close: the process "dies" with everything in the page cache.
    const { manager: again } = openManager(dataDir);
    expect(again.recovery.cleanShutdown).toBe(false);
    expect(again.recovery.partitions.map((p) => p.report.segmentsRecovered.length > 0)).toEqual([true, true]);
    expect(again.describeTopic("orders").partitions.map((p) => p.logEndOffset)).toEqual([10, 10]);
    await again.close();
  });

  test("after a crash the durable appends survive and the torn tail is cut", async () => {
    const storage = new MemoryStorage();
    const { manager } = openManager("/data", { storage });
    manager.createTopic("orders", { config: { "segment.bytes": 2048 } });
    const log = manager.partition("orders", 0);
    for (let i = 0; i < 10; i++) await log.append(batch({ valueBytes: 50 }), { durable: true });
    for (let i = 0; i < 10; i++) log.appendSync(batch({ valueBytes: 50 }));
    storage.crash({ tornTailBytes: 500, seed: 7 });
    const { manager: again } = openManager("/data", { storage });
    const recovered = again.partition("orders", 0);
    expect(again.recovery.cleanShutdown).toBe(false);
    expect(recovered.logEndOffset).toBeGreaterThanOrEqual(10);
    expect(readRecords(recovered).map((record) => record.offset)).toEqual(
      Array.from({ length: recovered.logEndOffset }, (_, i) => i),
    );
  });

  test("the recovery-point checkpoint limits an unclean start to the unsynced tail", async () => {
    const storage = new MemoryStorage();
    const { manager, clock } = openManager("/data", { storage, recoveryCheckpointIntervalMs: 1000 });
    manager.createTopic("orders", { config: { "segment.bytes": 1024 } });
    const log = manager.partition("orders", 0);
    for (let i = 0; i < 30; i++) log.appendSync(batch({ valueBytes: 40 }));
    await log.flush();
    clock.advance(1000);
    const checkpoint = new TextDecoder().decode(storage.readFile(`/data/${RECOVERY_POINT_FILE}`));
    expect(checkpoint).toBe("0\n1\norders 0 30\n");
    log.appendSync(batch());
    const { manager: again } = openManager("/data", { storage });
    const report = again.recovery.partitions[0]!.report;
    expect(report.segmentsRecovered.map((segment) => segment.baseOffset)).toEqual([
      log.segments.at(-1)!.baseOffset,
    ]);
    expect(again.partition("orders", 0).logEndOffset).toBe(31);
  });

  test("a partition directory that belongs to no topic is removed at start", async () => {
    const dataDir = freshDataDir();
    const { manager } = openManager(dataDir);
    manager.createTopic("orders");
    await manager.close();
    mkdirSync(join(dataDir, "ghost-0"));
    mkdirSync(join(dataDir, "orders-1"));
    openManager(dataDir);
    expect(readdirSync(dataDir).filter((name) => !name.startsWith("."))).toEqual(
      expect.not.arrayContaining(["ghost-0", "orders-1"]),
    );
    expect(existsSync(join(dataDir, "orders-0"))).toBe(true);
  });

  test("a malformed topics.json is a STORAGE_ERROR, not a crash", () => {
    const dataDir = freshDataDir();
    writeFileSync(join(dataDir, TOPICS_FILE), "{ not json");
    expectSluiceError(
      thrownBy(() => openManager(dataDir)),
      "STORAGE_ERROR",
    );
  });

  test("a close after a failed fsync closes the logs but does not mark the directory clean", async () => {
    const storage = new MemoryStorage();
    const { manager } = openManager("/data", { storage });
    manager.createTopic("orders");
    manager.partition("orders", 0).appendSync(batch());
    storage.failDatasync(1);
    expectSluiceError(await manager.close().catch((error) => error), "STORAGE_ERROR");
    expect(storage.exists(`/data/${CLEAN_SHUTDOWN_FILE}`)).toBe(false);
    expect(openManager("/data", { storage }).manager.recovery.cleanShutdown).toBe(false);
  });
});

describe("retention", () => {
  test("retention runs on the clock's timer every check interval", () => {
    const storage = new MemoryStorage();
    const { manager, clock } = openManager("/data", { storage });
    manager.createTopic("orders", {
      config: { "segment.bytes": 1024, "retention.ms": 60_000, "file.delete.delay.ms": 0 },
    });
    const log = manager.partition("orders", 0);
    for (let i = 0; i < 20; i++) log.appendSync(batch({ valueBytes: 100, timestamps: clock.nowMs() }));
    const segments = log.segments.length;
    expect(segments).toBeGreaterThan(2);
    clock.advance(RETENTION_CHECK_MS - 1);
    expect(log.logStartOffset).toBe(0);
    clock.advance(1);
    // Five minutes after the appends, everything is past one minute of retention.
    expect([log.logStartOffset, log.segments.length]).toEqual([20, 1]);
    log.appendSync(batch({ timestamps: clock.nowMs() }));
    clock.advance(RETENTION_CHECK_MS);
    expect(log.logStartOffset).toBe(21);
  });

  test("a failing retention run is reported and retried at the next interval", () => {
    const storage = new MemoryStorage();
    const errors: string[] = [];
    const { manager, clock } = openManager("/data", {
      storage,
      onBackgroundError: (_error, work) => errors.push(work),
    });
    manager.createTopic("orders", { config: { "retention.ms": 1000 } });
    const log = manager.partition("orders", 0);
    log.appendSync(batch({ timestamps: clock.nowMs() }));
    storage.diskFullAfterBytes(0);
    clock.advance(RETENTION_CHECK_MS);
    expect(errors).toContain("retention of orders-0");
    expect(log.logStartOffset).toBe(0);
    storage.diskFullAfterBytes(undefined);
    clock.advance(RETENTION_CHECK_MS);
    expect(log.logStartOffset).toBe(1);
  });

  test("close stops the timers", async () => {
    const { manager, clock } = openManager(freshDataDir());
    manager.createTopic("orders");
    expect(clock.pendingTimers).toBe(2);
    await manager.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
