import { describe, expect, test } from "bun:test";
import { OFFSET_INDEX_ENTRY_BYTES, OffsetIndex } from "../../lib/log/offset-index.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";

const BASE_OFFSET = 1000;
const PATH = "/seg/00000000000000001000.index";

function freshIndex(): { storage: MemoryStorage; index: OffsetIndex } {
  const storage = new MemoryStorage();
  storage.mkdirp("/seg");
  return { storage, index: new OffsetIndex(storage.open(PATH), BASE_OFFSET) };
}

/** An index file holding raw (relativeOffset, position) pairs, loaded into a new OffsetIndex. */
function indexFromEntries(entries: Array<[number, number]>, extraBytes = 0): OffsetIndex {
  const storage = new MemoryStorage();
  storage.mkdirp("/seg");
  const bytes = new Uint8Array(entries.length * OFFSET_INDEX_ENTRY_BYTES + extraBytes);
  const view = new DataView(bytes.buffer);
  entries.forEach(([relative, position], i) => {
    view.setInt32(i * 8, relative);
    view.setInt32(i * 8 + 4, position);
  });
  storage.writeFileAtomic(PATH, bytes);
  return new OffsetIndex(storage.open(PATH), BASE_OFFSET);
}

describe("OffsetIndex", () => {
  test("an empty index sends every lookup to the segment start", () => {
    const { index } = freshIndex();
    expect(index.lookup(BASE_OFFSET)).toEqual({ offset: BASE_OFFSET, position: 0 });
    expect(index.lookup(BASE_OFFSET + 500)).toEqual({ offset: BASE_OFFSET, position: 0 });
  });

  test("a lookup takes the largest entry at or below the target", () => {
    const { index } = freshIndex();
    index.append(1009, 400);
    index.append(1019, 800);
    index.append(1029, 1200);
    expect(index.lookup(1008)).toEqual({ offset: BASE_OFFSET, position: 0 });
    expect(index.lookup(1009)).toEqual({ offset: 1009, position: 400 });
    expect(index.lookup(1015)).toEqual({ offset: 1009, position: 400 });
    expect(index.lookup(1019)).toEqual({ offset: 1019, position: 800 });
    expect(index.lookup(1_000_000)).toEqual({ offset: 1029, position: 1200 });
  });

  test("entries are stored as 8-byte relative offsets and positions", () => {
    const { storage, index } = freshIndex();
    index.append(1009, 400);
    index.append(1019, 800);
    expect(storage.sizeOf(PATH)).toBe(0); // held in memory until persisted, like Kafka's mmap
    index.index.persist();
    const bytes = storage.readFile(PATH)!;
    expect(bytes.length).toBe(16);
    const view = new DataView(bytes.buffer);
    expect([view.getInt32(0), view.getInt32(4), view.getInt32(8), view.getInt32(12)]).toEqual([
      9, 400, 19, 800,
    ]);
  });

  test("a file written by one index loads into another with the same lookups", () => {
    const { storage, index } = freshIndex();
    index.append(1009, 400);
    index.append(1019, 800);
    index.index.persist();
    const reloaded = new OffsetIndex(storage.open(PATH), BASE_OFFSET);
    expect(reloaded.load(2000)).toBe(true);
    expect(reloaded.index.count).toBe(2);
    expect(reloaded.lookup(1020)).toEqual({ offset: 1019, position: 800 });
  });

  test("load accepts an empty file", () => {
    expect(indexFromEntries([]).load(0)).toBe(true);
  });

  test("load rejects a file whose size is not a whole number of entries", () => {
    expect(indexFromEntries([[9, 400]], 3).load(2000)).toBe(false);
  });

  test("load rejects offsets that do not grow strictly", () => {
    expect(
      indexFromEntries([
        [9, 400],
        [9, 800],
      ]).load(2000),
    ).toBe(false);
    expect(
      indexFromEntries([
        [19, 400],
        [9, 800],
      ]).load(2000),
    ).toBe(false);
  });

  test("load rejects positions that go backwards", () => {
    expect(
      indexFromEntries([
        [9, 800],
        [19, 400],
      ]).load(2000),
    ).toBe(false);
  });

  test("load rejects a position at or past the end of the log", () => {
    expect(indexFromEntries([[9, 2000]]).load(2000)).toBe(false);
    expect(indexFromEntries([[9, 1999]]).load(2000)).toBe(true);
  });

  test("load rejects an entry below the segment's base offset", () => {
    expect(
      indexFromEntries([
        [-5, 100],
        [9, 400],
      ]).load(2000),
    ).toBe(false);
  });

  test("load rejects a negative position", () => {
    expect(indexFromEntries([[9, -400]]).load(2000)).toBe(false);
  });

  test("truncating to a position drops the entries at or after it, in memory and on disk", () => {
    const { storage, index } = freshIndex();
    index.append(1009, 400);
    index.append(1019, 800);
    index.append(1029, 1200);
    index.index.persist();
    index.truncateToPosition(800);
    expect(index.index.count).toBe(1);
    expect(storage.sizeOf(PATH)).toBe(8);
    expect(index.lookup(1025)).toEqual({ offset: 1009, position: 400 });
    index.append(1015, 800);
    expect(index.lookup(1025)).toEqual({ offset: 1015, position: 800 });
  });

  test("truncating past the last entry keeps every entry", () => {
    const { index } = freshIndex();
    index.append(1009, 400);
    index.truncateToPosition(401);
    expect(index.index.count).toBe(1);
  });

  test("reset empties the index and its file", () => {
    const { storage, index } = freshIndex();
    index.append(1009, 400);
    index.reset();
    expect(index.index.count).toBe(0);
    expect(storage.sizeOf(PATH)).toBe(0);
    expect(index.lookup(1009)).toEqual({ offset: BASE_OFFSET, position: 0 });
  });
});
