// The swap protocol (lib/log/cleaner-swap.ts) under crashes, and restarts of a cleaned log. Each crash
// is staged by leaving in the directory the files a crash at that step would leave: the cleaned
// segment comes from the same log cleaned in a second storage.
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { CLEANED_SUFFIX, SWAP_SUFFIX } from "../../lib/log/cleaner-swap.ts";
import { PartitionLog } from "../../lib/log/partition-log.ts";
import { segmentFileName } from "../../lib/log/segment.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import { joinPath } from "../../lib/storage/storage.ts";
import { clean, contents, putEach, rolled } from "./cleaner-helpers.ts";
import { fileNames, LOG_DIR, logConfig, memoryLog, START_MS } from "./helpers.ts";

const COMPACT = { cleanupPolicy: "compact" } as const;

/** Segments [0, 2), [2, 4), [4, 6) and an active one from 6, in `storage`. */
function threeSegments(storage = new MemoryStorage()) {
  const fixture = memoryLog(COMPACT, { storage, clock: new ManualClock(START_MS) });
  const { log } = fixture;
  rolled(log, "a=1 b=1", "a=2 c=1", "b=2 a=3");
  putEach(log, "d=1");
  return fixture;
}

/** The same log, cleaned: its segments 0..2 merged into one at base 0. */
async function cleanedTwin() {
  const twin = threeSegments();
  await clean(twin.log);
  expect(twin.log.segments.map((segment) => segment.baseOffset)).toEqual([0, 6]);
  return twin;
}

function segmentPath(baseOffset: number, suffix: string): string {
  return joinPath(LOG_DIR, segmentFileName(baseOffset, suffix));
}

function copyFile(from: MemoryStorage, fromPath: string, to: MemoryStorage, toPath: string): void {
  const file = to.open(toPath);
  file.truncate(0);
  file.append(from.readFile(fromPath)!);
  file.close();
}

/** Segment files only (no epoch checkpoint or producer snapshots), sorted. */
function segmentFiles(storage: MemoryStorage): string[] {
  return fileNames(storage, LOG_DIR).filter((name) => /\.(log|index|timeindex)(\.\w+)?$/.test(name));
}

const ORIGINAL: Array<[number, string, string | null]> = [
  [0, "a", "1"],
  [1, "b", "1"],
  [2, "a", "2"],
  [3, "c", "1"],
  [4, "b", "2"],
  [5, "a", "3"],
  [6, "d", "1"],
];
const CLEANED: Array<[number, string, string | null]> = [
  [3, "c", "1"],
  [4, "b", "2"],
  [5, "a", "3"],
  [6, "d", "1"],
];

describe("a crash during a swap", () => {
  test("leaves .cleaned files that the next open removes, keeping the old segments", async () => {
    const twin = await cleanedTwin();
    const { storage, reopen } = threeSegments();
    for (const suffix of [".log", ".index", ".timeindex"]) {
      copyFile(twin.storage, segmentPath(0, suffix), storage, segmentPath(0, suffix) + CLEANED_SUFFIX);
    }
    const { log } = reopen({ cleanShutdown: false });
    expect(contents(log)).toEqual(ORIGINAL);
    expect(segmentFiles(storage).some((name) => name.endsWith(CLEANED_SUFFIX))).toBe(false);
  });

  test("before the log file was renamed .swap leaves an uncommitted swap, which is undone", async () => {
    const twin = await cleanedTwin();
    const { storage, reopen } = threeSegments();
    copyFile(twin.storage, segmentPath(0, ".log"), storage, segmentPath(0, ".log") + CLEANED_SUFFIX);
    for (const suffix of [".index", ".timeindex"]) {
      copyFile(twin.storage, segmentPath(0, suffix), storage, segmentPath(0, suffix) + SWAP_SUFFIX);
    }
    const { log } = reopen({ cleanShutdown: false });
    expect(contents(log)).toEqual(ORIGINAL);
    expect(segmentFiles(storage).filter((name) => /\.(cleaned|swap)$/.test(name))).toEqual([]);
  });

  test("after the commit completes the swap on open, whichever old segments were already renamed", async () => {
    const twin = await cleanedTwin();
    for (const renamedAway of [[], [0], [0, 2], [0, 2, 4]]) {
      const { storage, reopen } = threeSegments();
      for (const suffix of [".log", ".index", ".timeindex"]) {
        copyFile(twin.storage, segmentPath(0, suffix), storage, segmentPath(0, suffix) + SWAP_SUFFIX);
        for (const base of renamedAway)
          storage.rename(segmentPath(base, suffix), `${segmentPath(base, suffix)}.deleted`);
      }
      const { log } = reopen({ cleanShutdown: false });
      expect(contents(log)).toEqual(CLEANED);
      expect(log.segments.map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([
        [0, 6],
        [6, 7],
      ]);
      expect(segmentFiles(storage)).toEqual(segmentFiles(twin.storage));
    }
  });

  test("while the .swap files were being renamed into place completes the swap on open", async () => {
    const twin = await cleanedTwin();
    const { storage, reopen } = threeSegments();
    for (const base of [0, 2, 4]) {
      for (const suffix of [".log", ".index", ".timeindex"]) {
        storage.rename(segmentPath(base, suffix), `${segmentPath(base, suffix)}.deleted`);
      }
    }
    copyFile(twin.storage, segmentPath(0, ".index"), storage, segmentPath(0, ".index"));
    copyFile(twin.storage, segmentPath(0, ".timeindex"), storage, segmentPath(0, ".timeindex") + SWAP_SUFFIX);
    copyFile(twin.storage, segmentPath(0, ".log"), storage, segmentPath(0, ".log") + SWAP_SUFFIX);
    const { log } = reopen({ cleanShutdown: false });
    expect(contents(log)).toEqual(CLEANED);
    expect(segmentFiles(storage)).toEqual(segmentFiles(twin.storage));
  });
});

describe("restarts", () => {
  test("a cleaned log reopens with the same records and segments, after a clean stop or a crash", async () => {
    const { log, reopen, storage } = await cleanedTwin();
    const segments = log.describeSegments();
    await log.close();
    for (const cleanShutdown of [true, false]) {
      const again = reopen({ cleanShutdown });
      expect(contents(again.log)).toEqual(CLEANED);
      expect(again.log.describeSegments()).toEqual(segments);
      expect(again.recovery.truncatedBytes).toBe(0);
      again.log.closeWithoutFlush();
    }
    expect(segmentFiles(storage).filter((name) => /\.(cleaned|swap|deleted)$/.test(name))).toEqual([]);
  });

  test("a log compacted once recovers whole after its topic went back to delete, given wasCompacted", async () => {
    const { storage, clock } = await cleanedTwin();
    const open = (wasCompacted: boolean) =>
      PartitionLog.open({
        storage,
        dir: LOG_DIR,
        config: logConfig(),
        clock,
        cleanShutdown: false,
        wasCompacted,
      });
    const { log, recovery } = open(true);
    expect(contents(log)).toEqual(CLEANED);
    expect(recovery.truncatedBytes).toBe(0);
    log.closeWithoutFlush();
    // Without it, a batch past the previous one's end reads as damage: the reason for the flag.
    const strict = open(false);
    expect(strict.recovery.truncatedBytes).toBeGreaterThan(0);
  });
});
