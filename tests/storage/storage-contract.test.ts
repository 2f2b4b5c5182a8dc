// One contract for every Storage: the same tests run against real files and the in-memory storage, so
// code tested on MemoryStorage's faults behaves the same on disk. The faults themselves come after.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ErrorName, isSluiceError } from "../../lib/errors.ts";
import { FileStorage } from "../../lib/storage/file-storage.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import type { Storage } from "../../lib/storage/storage.ts";

interface StorageFixture {
  storage: Storage;
  /** An existing, empty directory the test may use. */
  root: string;
  cleanup(): void;
}

interface ContractOptions {
  /** A storage whose device holds about `capacityBytes`, or undefined when this machine cannot make one. */
  makeSmallDevice?: (capacityBytes: number) => StorageFixture | undefined;
}

/** Room on the small device: a few segments' worth of appends before it is full. */
const SMALL_DEVICE_BYTES = 64 * 1024;

function storageContract(
  name: string,
  makeFixture: () => StorageFixture,
  options: ContractOptions = {},
): void {
  describe(`${name} storage contract`, () => {
    test("open creates a missing file", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      const path = join(root, "new.log");
      expect(storage.exists(path)).toBe(false);
      const file = storage.open(path);
      expect(file.path).toBe(path);
      expect(file.size()).toBe(0);
      expect(storage.exists(path)).toBe(true);
      expect(storage.sizeOf(path)).toBe(0);
      file.close();
    });

    test("open of a file in a missing directory throws STORAGE_ERROR", () => {
      using fixture = disposable(makeFixture());
      const error = thrownBy(() => fixture.storage.open(join(fixture.root, "missing", "a.log")));
      expectSluiceError(error, "STORAGE_ERROR");
    });

    test("appends return where each one starts and grow the size", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      const file = storage.open(join(root, "a.log"));
      expect(file.append(bytes(1, 2, 3))).toBe(0);
      expect(file.append(bytes(4))).toBe(3);
      expect(file.append(new Uint8Array(0))).toBe(4);
      expect(file.append(bytes(5, 6))).toBe(4);
      expect(file.size()).toBe(6);
      expect(storage.sizeOf(join(root, "a.log"))).toBe(6);
      file.close();
    });

    test("a reopened file keeps its bytes and appends after them", () => {
      using fixture = disposable(makeFixture());
      const path = join(fixture.root, "a.log");
      const first = fixture.storage.open(path);
      first.append(bytes(1, 2, 3));
      first.close();
      const second = fixture.storage.open(path);
      expect(second.size()).toBe(3);
      expect(second.append(bytes(4))).toBe(3);
      second.close();
      expect([...fixture.storage.readFile(path)!]).toEqual([1, 2, 3, 4]);
    });

    test("readInto reads whole ranges, fewer bytes at the end of the file and none past it", () => {
      using fixture = disposable(makeFixture());
      const file = fixture.storage.open(join(fixture.root, "a.log"));
      file.append(bytes(1, 2, 3, 4, 5));
      const target = new Uint8Array(3);
      expect(file.readInto(1, target)).toBe(3);
      expect([...target]).toEqual([2, 3, 4]);
      const tail = new Uint8Array(8);
      expect(file.readInto(3, tail)).toBe(2);
      expect([...tail.subarray(0, 2)]).toEqual([4, 5]);
      expect(file.readInto(5, new Uint8Array(4))).toBe(0);
      expect(file.readInto(100, new Uint8Array(4))).toBe(0);
      file.close();
    });

    test("truncate cuts the file and the next append starts at the cut", () => {
      using fixture = disposable(makeFixture());
      const path = join(fixture.root, "a.log");
      const file = fixture.storage.open(path);
      file.append(bytes(1, 2, 3, 4, 5));
      file.truncate(2);
      expect(file.size()).toBe(2);
      expect(file.readInto(0, new Uint8Array(8))).toBe(2);
      expect(file.append(bytes(9, 9))).toBe(2);
      file.close();
      expect([...fixture.storage.readFile(path)!]).toEqual([1, 2, 9, 9]);
    });

    test("syncDir makes a new file's directory entry durable", async () => {
      using fixture = disposable(makeFixture());
      const dir = join(fixture.root, "segments");
      fixture.storage.mkdirp(dir);
      fixture.storage.open(join(dir, "00000000000000000000.log")).close();
      await fixture.storage.syncDir(dir);
      expect(fixture.storage.list(dir).map((entry) => entry.name)).toEqual(["00000000000000000000.log"]);
    });

    test("datasync resolves once the bytes are written", async () => {
      using fixture = disposable(makeFixture());
      const file = fixture.storage.open(join(fixture.root, "a.log"));
      file.append(bytes(1, 2, 3));
      await file.datasync();
      await file.datasync();
      expect(file.size()).toBe(3);
      file.close();
    });

    test("a closed file refuses further use", async () => {
      using fixture = disposable(makeFixture());
      const file = fixture.storage.open(join(fixture.root, "a.log"));
      file.close();
      file.close();
      expect(() => file.append(bytes(1))).toThrow();
      expect(() => file.readInto(0, new Uint8Array(1))).toThrow();
      expect(() => file.truncate(0)).toThrow();
      await expect(file.datasync()).rejects.toThrow();
    });

    test("exists and sizeOf tell a missing file apart", () => {
      using fixture = disposable(makeFixture());
      const path = join(fixture.root, "nothing.log");
      expect(fixture.storage.exists(path)).toBe(false);
      expect(fixture.storage.sizeOf(path)).toBeUndefined();
    });

    test("mkdirp creates nested directories and may be repeated", () => {
      using fixture = disposable(makeFixture());
      const dir = join(fixture.root, "a", "b", "c");
      fixture.storage.mkdirp(dir);
      fixture.storage.mkdirp(dir);
      expect(fixture.storage.exists(dir)).toBe(true);
      expect(fixture.storage.list(join(fixture.root, "a"))).toEqual([{ name: "b", isDirectory: true }]);
    });

    test("list returns names with isDirectory, and nothing for a missing directory", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      storage.mkdirp(join(root, "topic-0"));
      storage.open(join(root, "meta.json")).close();
      storage.open(join(root, "topic-0", "00000000000000000000.log")).close();
      expect(sortedByName(storage.list(root))).toEqual([
        { name: "meta.json", isDirectory: false },
        { name: "topic-0", isDirectory: true },
      ]);
      expect(storage.list(join(root, "no-such-dir"))).toEqual([]);
    });

    test("remove deletes a file, a whole tree, and ignores missing paths", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      storage.open(join(root, "a.log")).close();
      storage.mkdirp(join(root, "tree", "deep"));
      storage.open(join(root, "tree", "deep", "b.log")).close();
      storage.remove(join(root, "a.log"));
      storage.remove(join(root, "tree"));
      storage.remove(join(root, "never-existed"));
      expect(storage.exists(join(root, "a.log"))).toBe(false);
      expect(storage.exists(join(root, "tree", "deep", "b.log"))).toBe(false);
      expect(storage.list(root)).toEqual([]);
    });

    test("rename moves a file, replacing one already at the target", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      storage.writeFileAtomic(join(root, "from"), bytes(1, 2));
      storage.writeFileAtomic(join(root, "to"), bytes(7, 7, 7));
      storage.rename(join(root, "from"), join(root, "to"));
      expect(storage.exists(join(root, "from"))).toBe(false);
      expect([...storage.readFile(join(root, "to"))!]).toEqual([1, 2]);
    });

    test("rename moves a directory with everything in it", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      storage.mkdirp(join(root, "topic-0"));
      storage.writeFileAtomic(join(root, "topic-0", "a.log"), bytes(3));
      storage.rename(join(root, "topic-0"), join(root, "topic-0.deleted"));
      expect(storage.exists(join(root, "topic-0"))).toBe(false);
      expect([...storage.readFile(join(root, "topic-0.deleted", "a.log"))!]).toEqual([3]);
    });

    test("rename of a missing file throws STORAGE_ERROR", () => {
      using fixture = disposable(makeFixture());
      const error = thrownBy(() => fixture.storage.rename(join(fixture.root, "a"), join(fixture.root, "b")));
      expectSluiceError(error, "STORAGE_ERROR");
    });

    test("readFile returns the whole file, or undefined when it is missing", () => {
      using fixture = disposable(makeFixture());
      const path = join(fixture.root, "a.log");
      expect(fixture.storage.readFile(path)).toBeUndefined();
      const file = fixture.storage.open(path);
      file.append(bytes(1, 2));
      file.append(bytes(3));
      expect([...fixture.storage.readFile(path)!]).toEqual([1, 2, 3]);
      file.close();
    });

    test("writeFileAtomic replaces the contents and leaves no .tmp behind", () => {
      using fixture = disposable(makeFixture());
      const { storage, root } = fixture;
      const path = join(root, "checkpoint");
      storage.writeFileAtomic(path, bytes(1, 2, 3, 4));
      storage.writeFileAtomic(path, bytes(5));
      expect([...storage.readFile(path)!]).toEqual([5]);
      expect(storage.list(root)).toEqual([{ name: "checkpoint", isDirectory: false }]);
    });

    test("sliceForSend returns exactly the bytes of the range", async () => {
      using fixture = disposable(makeFixture());
      const path = join(fixture.root, "a.log");
      const file = fixture.storage.open(path);
      file.append(pattern(1000, 7));
      const blob = fixture.storage.sliceForSend(path, 100, 350);
      expect(blob.size).toBe(250);
      expect(new Uint8Array(await blob.arrayBuffer())).toEqual(pattern(1000, 7).subarray(100, 350));
      file.close();
    });

    test("freeBytes is a non-negative number or undefined", () => {
      using fixture = disposable(makeFixture());
      const free = fixture.storage.freeBytes(fixture.root);
      if (free !== undefined) expect(free).toBeGreaterThanOrEqual(0);
    });

    const makeSmallDevice = options.makeSmallDevice;
    const smallDevice = makeSmallDevice ? () => makeSmallDevice(SMALL_DEVICE_BYTES) : undefined;
    const probe = smallDevice?.();
    probe?.cleanup();

    test.skipIf(probe === undefined)("an append that does not fit leaves the file as it was", () => {
      using fixture = disposable(smallDevice!()!);
      const path = join(fixture.root, "a.log");
      const head = pattern(1000, 1);
      const file = fixture.storage.open(path);
      file.append(head);
      expectSluiceError(
        thrownBy(() => file.append(pattern(2 * SMALL_DEVICE_BYTES, 2))),
        "DISK_FULL",
      );
      expect(file.size()).toBe(head.length);
      expect(fixture.storage.readFile(path)).toEqual(head);
      // The failed append's partial bytes were given back, so a small one still fits after it.
      expect(file.append(bytes(42))).toBe(head.length);
      file.close();
    });

    test.skipIf(probe === undefined)("a writeFileAtomic that does not fit keeps the old contents", () => {
      using fixture = disposable(smallDevice!()!);
      const { storage, root } = fixture;
      const path = join(root, "checkpoint");
      storage.writeFileAtomic(path, bytes(1, 2, 3));
      expectSluiceError(
        thrownBy(() => storage.writeFileAtomic(path, pattern(2 * SMALL_DEVICE_BYTES, 3))),
        "DISK_FULL",
      );
      expect([...storage.readFile(path)!]).toEqual([1, 2, 3]);
      expect(storage.list(root)).toEqual([{ name: "checkpoint", isDirectory: false }]);
    });
  });
}

storageContract("FileStorage", makeFileFixture, { makeSmallDevice: makeTmpfsFixture });
storageContract("MemoryStorage", makeMemoryFixture, {
  makeSmallDevice: (capacityBytes) => {
    const fixture = makeMemoryFixture();
    fixture.storage.diskFullAfterBytes(capacityBytes);
    return fixture;
  },
});

describe("MemoryStorage faults", () => {
  test("a failed datasync rejects with STORAGE_ERROR and makes nothing durable", async () => {
    const { storage, file, path } = memoryFileWith(bytes(1, 2, 3));
    storage.failDatasync();
    const error = await file.datasync().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expectSluiceError(error, "STORAGE_ERROR");
    expect(storage.durableSizeOf(path)).toBe(0);
    storage.crash();
    expect(storage.readFile(path)).toEqual(new Uint8Array(0));
  });

  test("only the next count datasync calls fail", async () => {
    const { storage, file, path } = memoryFileWith(bytes(1, 2, 3));
    storage.failDatasync(2);
    await expect(file.datasync()).rejects.toThrow();
    await expect(file.datasync()).rejects.toThrow();
    await file.datasync();
    expect(storage.durableSizeOf(path)).toBe(3);
    expect(storage.faults.datasyncFailures).toBe(0);
  });

  test("held datasyncs take effect at once but settle only when released", async () => {
    const { storage, file, path } = memoryFileWith(bytes(1, 2, 3));
    const release = storage.holdDatasyncs();
    let settled = false;
    const sync = file.datasync().then(() => {
      settled = true;
    });
    for (let turn = 0; turn < 10; turn++) await Bun.sleep(0);
    expect(settled).toBe(false);
    expect(storage.durableSizeOf(path)).toBe(3);
    release();
    await sync;
    expect(settled).toBe(true);
    await file.datasync(); // released: later syncs are not held
  });

  test("an append that does not fit throws DISK_FULL and leaves the file as it was", () => {
    const { storage, file, path } = memoryFileWith(bytes(1, 2, 3));
    storage.diskFullAfterBytes(10);
    expect(file.append(pattern(6, 1))).toBe(3);
    expect(storage.freeBytes(path)).toBe(4);
    expectSluiceError(
      thrownBy(() => file.append(pattern(5, 2))),
      "DISK_FULL",
    );
    expect(file.size()).toBe(9);
    expect(storage.freeBytes(path)).toBe(4);
    expect(storage.readFile(path)).toEqual(concat(bytes(1, 2, 3), pattern(6, 1)));
  });

  test("the storage stays readable after the disk fills", async () => {
    const { storage, file, path } = memoryFileWith(pattern(100, 4));
    storage.diskFullAfterBytes(0);
    expectSluiceError(
      thrownBy(() => file.append(bytes(1))),
      "DISK_FULL",
    );
    const target = new Uint8Array(100);
    expect(file.readInto(0, target)).toBe(100);
    expect(target).toEqual(pattern(100, 4));
    expect(new Uint8Array(await storage.sliceForSend(path, 0, 10).arrayBuffer())).toEqual(pattern(10, 4));
    await file.datasync();
    storage.diskFullAfterBytes(undefined);
    expect(storage.freeBytes(path)).toBeUndefined();
    expect(file.append(bytes(1))).toBe(100);
  });

  test("short writes are invisible to the caller", () => {
    const storage = new MemoryStorage();
    storage.mkdirp("/d");
    storage.shortWrites();
    const file = storage.open("/d/a.log");
    const appends = [1, 2, 17, 300, 4096, 5].map((length, seed) => pattern(length, seed));
    const positions = appends.map((chunk) => file.append(chunk));
    expect(positions).toEqual([0, 1, 3, 20, 320, 4416]);
    expect(storage.readFile("/d/a.log")).toEqual(concat(...appends));
    // The loop really ran: more low-level writes than appends.
    expect(storage.stats.writeCalls).toBeGreaterThan(appends.length * 2);
  });

  test("short writes on a full disk still leave the file as it was", () => {
    const { storage, file, path } = memoryFileWith(bytes(9, 9));
    storage.shortWrites();
    storage.diskFullAfterBytes(50);
    expectSluiceError(
      thrownBy(() => file.append(pattern(80, 5))),
      "DISK_FULL",
    );
    expect(storage.stats.writeCalls).toBeGreaterThan(2);
    expect(storage.readFile(path)).toEqual(bytes(9, 9));
    expect(storage.freeBytes(path)).toBe(50);
  });

  test("a crash keeps only the bytes made durable by datasync", async () => {
    const { storage, file, path } = memoryFileWith(bytes(1, 2, 3));
    await file.datasync();
    file.append(bytes(4, 5));
    expect(storage.durableSizeOf(path)).toBe(3);
    storage.crash();
    expect(storage.readFile(path)).toEqual(bytes(1, 2, 3));
    const reopened = storage.open(path);
    expect(reopened.size()).toBe(3);
    expect(reopened.append(bytes(6))).toBe(3);
    expect(storage.readFile(path)).toEqual(bytes(1, 2, 3, 6));
  });

  test("a crash keeps files that were created, renamed, removed or written atomically", () => {
    const storage = new MemoryStorage();
    storage.mkdirp("/d/topic-0");
    storage.open("/d/empty.log").close();
    storage.writeFileAtomic("/d/checkpoint", bytes(1, 2));
    storage.writeFileAtomic("/d/old", bytes(3));
    storage.rename("/d/old", "/d/new");
    storage.remove("/d/topic-0");
    storage.crash();
    expect(sortedByName(storage.list("/d"))).toEqual([
      { name: "checkpoint", isDirectory: false },
      { name: "empty.log", isDirectory: false },
      { name: "new", isDirectory: false },
    ]);
    expect(storage.readFile("/d/checkpoint")).toEqual(bytes(1, 2));
    expect(storage.readFile("/d/new")).toEqual(bytes(3));
  });

  test("a crash with tornTailBytes keeps a prefix of the unsynced bytes, the same for the same seed", async () => {
    const durable = pattern(100, 1);
    const unsynced = pattern(500, 2);
    async function afterCrash(seed: number): Promise<Uint8Array> {
      const { storage, file, path } = memoryFileWith(durable);
      await file.datasync();
      file.append(unsynced);
      storage.crash({ tornTailBytes: 300, seed });
      return storage.readFile(path)!;
    }
    const lengths = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const survived = await afterCrash(seed);
      expect(survived.length).toBeGreaterThanOrEqual(100);
      expect(survived.length).toBeLessThanOrEqual(400);
      expect(survived).toEqual(concat(durable, unsynced).subarray(0, survived.length));
      expect(await afterCrash(seed)).toEqual(survived);
      lengths.add(survived.length);
    }
    expect(lengths.size).toBeGreaterThan(1);
  });

  test("files opened before a crash refuse further use", async () => {
    const { storage, file, path } = memoryFileWith(bytes(1));
    storage.crash();
    for (const use of [() => file.append(bytes(2)), () => file.size(), () => file.truncate(0)]) {
      expectSluiceError(thrownBy(use), "STORAGE_ERROR");
    }
    await expect(file.datasync()).rejects.toThrow();
    file.close();
    expect(storage.open(path).size()).toBe(0);
  });

  test("flipBit corrupts one bit of the written and the durable bytes", async () => {
    const { storage, file, path } = memoryFileWith(bytes(0b0000_0000, 0b1111_1111));
    await file.datasync();
    storage.flipBit(path, 1, 3);
    const target = new Uint8Array(2);
    file.readInto(0, target);
    expect([...target]).toEqual([0, 0b1111_0111]);
    storage.crash();
    expect(storage.readFile(path)).toEqual(bytes(0, 0b1111_0111));
  });

  test("a shrinking truncate is durable at once, growth only after datasync", async () => {
    const { storage, file, path } = memoryFileWith(bytes(1, 2, 3, 4));
    await file.datasync();
    file.truncate(2);
    expect(storage.durableSizeOf(path)).toBe(2);
    file.truncate(6);
    expect(storage.readFile(path)).toEqual(bytes(1, 2, 0, 0, 0, 0));
    storage.crash();
    expect(storage.readFile(path)).toEqual(bytes(1, 2));
  });
});

function makeFileFixture(): StorageFixture {
  const root = mkdtempSync(join(tmpdir(), "sluice-"));
  return { storage: new FileStorage(), root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function makeMemoryFixture(): StorageFixture & { storage: MemoryStorage } {
  const storage = new MemoryStorage();
  storage.mkdirp("/sluice");
  return { storage, root: "/sluice", cleanup: () => {} };
}

/**
 * A real small device: a tmpfs of `capacityBytes` mounted on a temp dir, so ENOSPC comes from the
 * kernel. Needs root (or CAP_SYS_ADMIN); undefined when mount fails, and the tests skip.
 */
function makeTmpfsFixture(capacityBytes: number): StorageFixture | undefined {
  const root = mkdtempSync(join(tmpdir(), "sluice-tmpfs-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${capacityBytes}`, "tmpfs", root]);
  if (mounted.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    const reason = mounted.error?.message ?? String(mounted.stderr).trim();
    console.warn(
      `skipping FileStorage disk-full tests: mount -t tmpfs needs root or CAP_SYS_ADMIN (${reason})`,
    );
    return undefined;
  }
  return {
    storage: new FileStorage(),
    root,
    cleanup: () => {
      const unmounted = spawnSync("umount", [root]);
      if (unmounted.status !== 0) spawnSync("umount", ["-l", root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Lets a fixture be held with `using`, so cleanup runs however the test ends. */
function disposable<T extends StorageFixture>(fixture: T): T & Disposable {
  return Object.assign(fixture, { [Symbol.dispose]: () => fixture.cleanup() });
}

function memoryFileWith(contents: Uint8Array) {
  const storage = new MemoryStorage();
  storage.mkdirp("/d");
  const path = "/d/a.log";
  const file = storage.open(path);
  file.append(contents);
  return { storage, file, path };
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the action to throw");
}

function expectSluiceError(error: unknown, name: ErrorName): void {
  expect(isSluiceError(error, name) ? name : error).toBe(name);
}

function bytes(...values: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values);
}

/** Deterministic bytes that differ by position and seed, so misplaced ranges show. */
function pattern(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function sortedByName<T extends { name: string }>(entries: T[]): T[] {
  return [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
}
