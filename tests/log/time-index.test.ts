import { describe, expect, test } from "bun:test";
import { TIME_INDEX_ENTRY_BYTES, TimeIndex } from "../../lib/log/time-index.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";

const BASE_OFFSET = 500;
const PATH = "/seg/00000000000000000500.timeindex";

function freshIndex(): { storage: MemoryStorage; index: TimeIndex } {
  const storage = new MemoryStorage();
  storage.mkdirp("/seg");
  return { storage, index: new TimeIndex(storage.open(PATH), BASE_OFFSET) };
}

/** A time index file of raw (timestamp high word, timestamp low word, relativeOffset) entries. */
function indexFromEntries(entries: Array<[number, number]>, extraBytes = 0, highWord = 0): TimeIndex {
  const storage = new MemoryStorage();
  storage.mkdirp("/seg");
  const bytes = new Uint8Array(entries.length * TIME_INDEX_ENTRY_BYTES + extraBytes);
  const view = new DataView(bytes.buffer);
  entries.forEach(([timestamp, relative], i) => {
    view.setInt32(i * 12, highWord);
    view.setUint32(i * 12 + 4, timestamp);
    view.setInt32(i * 12 + 8, relative);
  });
  storage.writeFileAtomic(PATH, bytes);
  return new TimeIndex(storage.open(PATH), BASE_OFFSET);
}

describe("TimeIndex", () => {
  test("an empty index sends every lookup to the segment's base offset", () => {
    const { index } = freshIndex();
    expect(index.lookup(0)).toBe(BASE_OFFSET);
    expect(index.lookup(Number.MAX_SAFE_INTEGER)).toBe(BASE_OFFSET);
    expect(index.lastEntry()).toBeUndefined();
  });

  test("a lookup takes the largest timestamp at or below the target", () => {
    const { index } = freshIndex();
    index.maybeAppend(1000, 509);
    index.maybeAppend(2000, 519);
    index.maybeAppend(3000, 529);
    expect(index.lookup(999)).toBe(BASE_OFFSET);
    expect(index.lookup(1000)).toBe(509);
    expect(index.lookup(2500)).toBe(519);
    expect(index.lookup(10_000)).toBe(529);
  });

  test("an entry is added only when the timestamp grows", () => {
    const { index } = freshIndex();
    index.maybeAppend(2000, 509);
    index.maybeAppend(2000, 519);
    index.maybeAppend(1500, 529);
    expect(index.index.count).toBe(1);
    index.maybeAppend(2001, 539);
    expect(index.lastEntry()).toEqual({ timestamp: 2001, offset: 539 });
  });

  test("timestamps past 32 bits survive a reload", () => {
    const { storage, index } = freshIndex();
    const timestamp = 1_700_000_000_123;
    index.maybeAppend(timestamp, 509);
    index.index.persist();
    const reloaded = new TimeIndex(storage.open(PATH), BASE_OFFSET);
    expect(reloaded.load(510)).toBe(true);
    expect(reloaded.lastEntry()).toEqual({ timestamp, offset: 509 });
  });

  test("load accepts an empty file", () => {
    expect(indexFromEntries([]).load(BASE_OFFSET)).toBe(true);
  });

  test("load rejects a file whose size is not a whole number of entries", () => {
    expect(indexFromEntries([[1000, 9]], 5).load(600)).toBe(false);
  });

  test("load rejects timestamps that do not grow strictly", () => {
    expect(
      indexFromEntries([
        [1000, 9],
        [1000, 19],
      ]).load(600),
    ).toBe(false);
  });

  test("load rejects offsets that go backwards", () => {
    expect(
      indexFromEntries([
        [1000, 19],
        [2000, 9],
      ]).load(600),
    ).toBe(false);
  });

  test("load rejects an offset at or past the segment's next offset", () => {
    expect(indexFromEntries([[1000, 100]]).load(600)).toBe(false);
    expect(indexFromEntries([[1000, 99]]).load(600)).toBe(true);
  });

  test("load rejects an offset below the segment's base offset", () => {
    expect(
      indexFromEntries([
        [1000, -3],
        [2000, 9],
      ]).load(600),
    ).toBe(false);
  });

  test("load rejects a timestamp outside the safe integer range instead of throwing", () => {
    expect(indexFromEntries([[1000, 9]], 0, 0x7fff_ffff).load(600)).toBe(false);
  });

  test("truncating to an offset drops the entries at or after it", () => {
    const { storage, index } = freshIndex();
    index.maybeAppend(1000, 509);
    index.maybeAppend(2000, 519);
    index.maybeAppend(3000, 529);
    index.index.persist();
    index.truncateToOffset(519);
    expect(index.lastEntry()).toEqual({ timestamp: 1000, offset: 509 });
    expect(storage.sizeOf(PATH)).toBe(12);
    expect(index.lookup(5000)).toBe(509);
  });

  test("reset empties the index and its file", () => {
    const { storage, index } = freshIndex();
    index.maybeAppend(1000, 509);
    index.reset();
    expect(index.lastEntry()).toBeUndefined();
    expect(storage.sizeOf(PATH)).toBe(0);
  });
});
