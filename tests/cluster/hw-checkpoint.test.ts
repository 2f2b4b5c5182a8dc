// The high-watermark checkpoint file (Kafka's replication-offset-checkpoint) on its own: Kafka's text
// format written and read back, and every kind of bad file only a warning (partitions then start at
// their log start), never a crash.
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import {
  HIGH_WATERMARK_CHECKPOINT_FILE,
  HighWatermarkCheckpoint,
  readHighWatermarkCheckpoint,
} from "../../lib/cluster/hw-checkpoint.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { batch, START_MS } from "../log/helpers.ts";

const DATA_DIR = "/data";
const PATH = `${DATA_DIR}/${HIGH_WATERMARK_CHECKPOINT_FILE}`;

function collectingLog() {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  return {
    lines,
    log: (level: string, msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields }),
  };
}

/** A log manager on MemoryStorage with topics a (2 partitions) and b, high watermarks 5, 0 and 2. */
function managerWithHighWatermarks() {
  const storage = new MemoryStorage();
  const logs = LogManager.open({ dataDir: DATA_DIR, storage, clock: new ManualClock(START_MS) });
  logs.createTopic("a", { partitions: 2 });
  logs.createTopic("b", { partitions: 1 });
  for (const [topic, partition, records, highWatermark] of [
    ["a", 0, 7, 5],
    ["a", 1, 3, 0],
    ["b", 0, 2, 2],
  ] as const) {
    const log = logs.partition(topic, partition);
    log.replication.highWatermarkFollowsLogEnd = false;
    for (let i = 0; i < records; i++) log.appendSync(batch());
    log.updateHighWatermark(highWatermark);
  }
  return { storage, logs };
}

const held = [
  { topic: "a", partition: 0 },
  { topic: "a", partition: 1 },
  { topic: "b", partition: 0 },
];

describe("HighWatermarkCheckpoint", () => {
  test("writes Kafka's text format for the partitions held, and a restart reads the same offsets back", async () => {
    const { storage, logs } = managerWithHighWatermarks();
    const { lines, log } = collectingLog();
    const checkpoint = new HighWatermarkCheckpoint({ logs, intervalMs: 60_000, partitions: () => held, log });
    expect(checkpoint.checkpointed("a", 0)).toBeUndefined();
    checkpoint.start();
    checkpoint.close();
    expect(new TextDecoder().decode(storage.readFile(PATH))).toBe("0\n3\na 0 5\na 1 0\nb 0 2\n");

    const again = new HighWatermarkCheckpoint({ logs, intervalMs: 60_000, partitions: () => [], log });
    expect([again.checkpointed("a", 0), again.checkpointed("a", 1), again.checkpointed("b", 0)]).toEqual([
      5, 0, 2,
    ]);
    expect(again.checkpointed("b", 1)).toBeUndefined();
    again.close();
    expect(lines).toEqual([]);
    await logs.close();
  });

  test("partitions not held, and topics deleted since, are left out", async () => {
    const { storage, logs } = managerWithHighWatermarks();
    const { log } = collectingLog();
    const checkpoint = new HighWatermarkCheckpoint({
      logs,
      intervalMs: 60_000,
      partitions: () => [...held, { topic: "gone", partition: 0 }, { topic: "b", partition: 7 }],
      log,
    });
    logs.deleteTopic("a");
    checkpoint.start();
    checkpoint.close();
    expect(new TextDecoder().decode(storage.readFile(PATH))).toBe("0\n1\nb 0 2\n");
    await logs.close();
  });

  test("one never started (the node did not get as far as its partitions) leaves the file as it was", async () => {
    const { storage, logs } = managerWithHighWatermarks();
    storage.writeFileAtomic(PATH, new TextEncoder().encode("0\n1\na 0 4\n"));
    const { log } = collectingLog();
    const checkpoint = new HighWatermarkCheckpoint({ logs, intervalMs: 60_000, partitions: () => [], log });
    checkpoint.close();
    expect(new TextDecoder().decode(storage.readFile(PATH))).toBe("0\n1\na 0 4\n");
    await logs.close();
  });

  test("it is written every interval while the node runs", async () => {
    const { storage, logs } = managerWithHighWatermarks();
    const { log } = collectingLog();
    const checkpoint = new HighWatermarkCheckpoint({ logs, intervalMs: 20, partitions: () => held, log });
    checkpoint.start();
    const deadline = Date.now() + 5000;
    while (storage.readFile(PATH) === undefined && Date.now() < deadline) await Bun.sleep(10);
    expect(new TextDecoder().decode(storage.readFile(PATH))).toBe("0\n3\na 0 5\na 1 0\nb 0 2\n");
    logs.partition("a", 1).updateHighWatermark(3);
    const moved = Date.now() + 5000;
    while (!new TextDecoder().decode(storage.readFile(PATH)).includes("a 1 3") && Date.now() < moved)
      await Bun.sleep(10);
    expect(new TextDecoder().decode(storage.readFile(PATH))).toBe("0\n3\na 0 5\na 1 3\nb 0 2\n");
    checkpoint.close();
    await logs.close();
  });

  test("a write that fails (a full disk) is a warning, not a crash", async () => {
    const { storage, logs } = managerWithHighWatermarks();
    const { lines, log } = collectingLog();
    const checkpoint = new HighWatermarkCheckpoint({ logs, intervalMs: 60_000, partitions: () => held, log });
    checkpoint.start();
    storage.diskFullAfterBytes(0);
    checkpoint.close();
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ["warn", "high watermark checkpoint not written"],
    ]);
    expect(storage.readFile(PATH)).toBeUndefined();
    storage.clearFaults();
    await logs.close();
  });
});

describe("readHighWatermarkCheckpoint", () => {
  test("a missing file is no checkpoint and no warning", () => {
    const { lines, log } = collectingLog();
    expect(readHighWatermarkCheckpoint(new MemoryStorage(), PATH, log)).toEqual(new Map());
    expect(lines).toEqual([]);
  });

  const malformed: Array<[string, string | Uint8Array]> = [
    ["an unknown version", "1\n1\na 0 5\n"],
    ["a count that does not match", "0\n2\na 0 5\n"],
    ["a partition that is not a number", "0\n1\na x 5\n"],
    ["a line without its offset", "0\n1\na 0\n"],
    ["a negative offset", "0\n1\na 0 -3\n"],
    ["an offset past 2^53", "0\n1\na 0 18014398509481984\n"],
    ["text that is no checkpoint at all", "hello"],
    ["an empty file", ""],
    ["binary garbage", new Uint8Array([0xff, 0x00, 0xfe, 0x0a, 0x80])],
  ];
  for (const [what, content] of malformed) {
    test(`${what}: a warning, and no checkpointed offsets`, () => {
      const storage = new MemoryStorage();
      storage.mkdirp(DATA_DIR);
      storage.writeFileAtomic(
        PATH,
        typeof content === "string" ? new TextEncoder().encode(content) : content,
      );
      const { lines, log } = collectingLog();
      expect(readHighWatermarkCheckpoint(storage, PATH, log)).toEqual(new Map());
      expect(lines.map((line) => line.level)).toEqual(["warn"]);
      expect(lines[0]!.fields?.path).toBe(PATH);
    });
  }

  test("a node whose checkpoint is unreadable still starts (the checkpoint object is built)", async () => {
    const { storage, logs } = managerWithHighWatermarks();
    storage.writeFileAtomic(PATH, new TextEncoder().encode("0\n1\na 0 -1\n"));
    const { lines, log } = collectingLog();
    const checkpoint = new HighWatermarkCheckpoint({ logs, intervalMs: 60_000, partitions: () => held, log });
    expect(checkpoint.checkpointed("a", 0)).toBeUndefined();
    expect(lines.map((line) => line.level)).toEqual(["warn"]);
    // The next write replaces the bad file with a good one.
    checkpoint.start();
    checkpoint.close();
    expect(new TextDecoder().decode(storage.readFile(PATH))).toBe("0\n3\na 0 5\na 1 0\nb 0 2\n");
    await logs.close();
  });
});
