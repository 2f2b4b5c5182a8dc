import { describe, expect, test } from "bun:test";
import { LeaderEpochCache } from "../../lib/log/leader-epoch-checkpoint.ts";
import { utf8 } from "../../lib/log/record-batch.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";

const PATH = "/p/leader-epoch-checkpoint";

function freshCache(contents?: string): { storage: MemoryStorage; cache: LeaderEpochCache } {
  const storage = new MemoryStorage();
  storage.mkdirp("/p");
  if (contents !== undefined) storage.writeFileAtomic(PATH, utf8(contents));
  return { storage, cache: LeaderEpochCache.load(storage, PATH) };
}

function fileText(storage: MemoryStorage): string {
  return new TextDecoder().decode(storage.readFile(PATH));
}

describe("LeaderEpochCache", () => {
  test("a new epoch is written as Kafka's text checkpoint", () => {
    const { storage, cache } = freshCache();
    cache.assign(0, 0);
    cache.assign(0, 10);
    cache.assign(3, 25);
    expect(fileText(storage)).toBe("0\n2\n0 0\n3 25\n");
    expect(LeaderEpochCache.load(storage, PATH).entries).toEqual(cache.entries);
  });

  test("an older epoch is ignored and a newer one at the same offset replaces the last", () => {
    const { cache } = freshCache();
    cache.assign(2, 0);
    cache.assign(1, 5);
    cache.assign(3, 5);
    cache.assign(4, 5);
    expect(cache.entries).toEqual([
      { epoch: 2, startOffset: 0 },
      { epoch: 4, startOffset: 5 },
    ]);
  });

  test("endOffsetFor gives the next epoch's start, or the log end for the latest", () => {
    const { cache } = freshCache("0\n2\n1 0\n4 30\n");
    expect(cache.endOffsetFor(0, 100)).toBe(0);
    expect(cache.endOffsetFor(1, 100)).toBe(30);
    expect(cache.endOffsetFor(3, 100)).toBe(30);
    expect(cache.endOffsetFor(4, 100)).toBe(100);
  });

  test("truncating from the end drops epochs that start at or after the offset", () => {
    const { storage, cache } = freshCache("0\n3\n1 0\n2 10\n3 20\n");
    cache.truncateFromEnd(20);
    expect(fileText(storage)).toBe("0\n2\n1 0\n2 10\n");
    cache.truncateFromEnd(11);
    expect(cache.entries.length).toBe(2);
  });

  test("truncating from the start moves the epoch in force to the new log start", () => {
    const { storage, cache } = freshCache("0\n3\n1 0\n2 10\n3 20\n");
    cache.truncateFromStart(15);
    expect(fileText(storage)).toBe("0\n2\n2 15\n3 20\n");
    const single = freshCache("0\n1\n0 0\n");
    single.cache.truncateFromStart(7);
    expect(single.cache.entries).toEqual([{ epoch: 0, startOffset: 7 }]);
    single.cache.truncateFromStart(7);
    expect(single.cache.entries).toEqual([{ epoch: 0, startOffset: 7 }]);
  });

  test("a malformed file loads as an empty cache that asks to be rebuilt", () => {
    for (const text of [
      "1\n0\n",
      "0\n2\n0 0\n",
      "0\n1\nzero 0\n",
      "0\n1\n0 0 0\n",
      "0\n2\n3 0\n1 5\n",
      "0\n1\n1e3 0\n",
    ]) {
      const { cache } = freshCache(text);
      expect({ text, entries: cache.entries, needsRebuild: cache.needsRebuild }).toEqual({
        text,
        entries: [],
        needsRebuild: true,
      });
    }
    expect(freshCache().cache.needsRebuild).toBe(false);
  });
});
