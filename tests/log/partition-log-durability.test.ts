// Durability of a PartitionLog on the fault-injecting MemoryStorage: group commit, the flush policy
// (flush.messages, flush.ms on a ManualClock), and what a failed fsync, a full disk and short writes do.
import { describe, expect, test } from "bun:test";
import { SluiceError } from "../../lib/errors.ts";
import { decodeRecords } from "../../lib/log/record-batch.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import type { StorageFile } from "../../lib/storage/storage.ts";
import {
  batch,
  expectSluiceError,
  LOG_DIR,
  memoryLog,
  readRecords,
  rejectionOf,
  seededRandom,
  settle,
  textBatch,
  thrownBy,
} from "./helpers.ts";

const FIRST_LOG = `${LOG_DIR}/${"0".repeat(20)}.log`;

/** A MemoryStorage whose fsyncs wait until the test releases them, so "not yet durable" is observable. */
class GatedSyncStorage extends MemoryStorage {
  #waiting: Array<() => void> = [];

  override open(path: string): StorageFile {
    const file = super.open(path);
    // writeFileAtomic opens its temporary file through open() and needs the real handle back.
    if (path.endsWith(".tmp")) return file;
    const gate = () => new Promise<void>((resolve) => this.#waiting.push(resolve));
    return {
      path: file.path,
      size: () => file.size(),
      append: (bytes) => file.append(bytes),
      readInto: (position, target) => file.readInto(position, target),
      truncate: (sizeBytes) => file.truncate(sizeBytes),
      datasync: () => gate().then(() => file.datasync()),
      close: () => file.close(),
    };
  }

  releaseSyncs(): void {
    for (const release of this.#waiting.splice(0)) release();
  }
}

/** A MemoryStorage whose `.index` appends and truncates can be made to fail, as a sick device would. */
class SickStorage extends MemoryStorage {
  failIndexAppends = false;
  failTruncates = false;

  override open(path: string): StorageFile {
    const file = super.open(path);
    if (path.endsWith(".tmp")) return file;
    const sick = (action: string) =>
      new SluiceError("STORAGE_ERROR", `injected ${action} failure on ${path}`);
    return {
      path: file.path,
      size: () => file.size(),
      append: (bytes) => {
        if (this.failIndexAppends && path.endsWith(".index")) throw sick("append");
        return file.append(bytes);
      },
      readInto: (position, target) => file.readInto(position, target),
      truncate: (sizeBytes) => {
        if (this.failTruncates) throw sick("truncate");
        file.truncate(sizeBytes);
      },
      datasync: () => file.datasync(),
      close: () => file.close(),
    };
  }
}

describe("durable appends", () => {
  test("a durable append resolves only after its bytes are fsynced", async () => {
    const storage = new GatedSyncStorage();
    const { log } = memoryLog({}, { storage });
    let resolved = false;
    const pending = log.append(batch(), { durable: true }).then(() => {
      resolved = true;
    });
    await settle();
    expect(resolved).toBe(false);
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(0);
    storage.releaseSyncs();
    await pending;
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(storage.sizeOf(FIRST_LOG));
    expect(log.recoveryPoint).toBe(1);
  });

  test("a plain append is left to the page cache", async () => {
    const { log, storage } = memoryLog();
    await log.append(batch());
    expect(storage.stats.datasyncCalls).toBe(0);
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(0);
    expect(log.recoveryPoint).toBe(0);
  });

  test("every durably acknowledged batch survives a crash", async () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = seededRandom(seed);
      const fixture = memoryLog({ segmentBytes: 1024, indexIntervalBytes: 100 });
      let acknowledgedEnd = 0;
      for (let i = 0; i < 40; i++) {
        const produced = textBatch([`${seed}-${i}`, "x".repeat(Math.floor(random() * 80))]);
        if (random() < 0.3)
          acknowledgedEnd = (await fixture.log.append(produced, { durable: true })).lastOffset + 1;
        else fixture.log.appendSync(produced);
      }
      const expected = readRecords(fixture.log);
      fixture.storage.crash({ tornTailBytes: 300, seed });
      const { log } = fixture.reopen();
      expect(log.logEndOffset).toBeGreaterThanOrEqual(acknowledgedEnd);
      const survived = readRecords(log);
      expect(survived.map((record) => [record.offset, record.value])).toEqual(
        expected.slice(0, log.logEndOffset).map((record) => [record.offset, record.value]),
      );
    }
  });

  test("concurrent durable appends share a few fsyncs", async () => {
    const { log, storage } = memoryLog();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => log.append(batch(), { durable: true })),
    );
    expect(results.map((result) => result.baseOffset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(log.groupCommitSyncs).toBeLessThanOrEqual(2);
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(storage.sizeOf(FIRST_LOG));
  });
});

describe("flush policy", () => {
  test("flush.messages syncs once that many records are unsynced", async () => {
    const { log, storage } = memoryLog({ flushMessages: 5 });
    log.appendSync(batch({ count: 2 }));
    log.appendSync(batch({ count: 2 }));
    await settle();
    expect(log.groupCommitSyncs).toBe(0);
    log.appendSync(batch({ count: 1 }));
    await settle();
    expect(log.groupCommitSyncs).toBe(1);
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(storage.sizeOf(FIRST_LOG));
    expect(log.recoveryPoint).toBe(5);
  });

  test("with flush.messages an append resolves after the sync it triggered", async () => {
    const { log, storage } = memoryLog({ flushMessages: 2 });
    await log.append(batch());
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(0);
    await log.append(batch());
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(storage.sizeOf(FIRST_LOG));
    expect(log.groupCommitSyncs).toBe(1);
  });

  test("flush.ms syncs when the oldest unsynced append is that old", async () => {
    const { log, clock, storage } = memoryLog({ flushMs: 1000 });
    log.appendSync(batch());
    clock.advance(999);
    await settle();
    expect(log.groupCommitSyncs).toBe(0);
    log.appendSync(batch());
    clock.advance(1);
    await settle();
    expect(log.groupCommitSyncs).toBe(1);
    expect(storage.durableSizeOf(FIRST_LOG)).toBe(storage.sizeOf(FIRST_LOG));
    clock.advance(5000);
    await settle();
    expect(log.groupCommitSyncs).toBe(1);
  });

  test("a flush that covers everything cancels the pending flush.ms timer", async () => {
    const { log, clock } = memoryLog({ flushMs: 1000 });
    await log.append(batch(), { durable: true });
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    await settle();
    expect(log.groupCommitSyncs).toBe(1);
  });
});

describe("faults", () => {
  test("a failed fsync fails the durable append and takes the log offline, still readable", async () => {
    const { log, storage } = memoryLog();
    log.appendSync(batch());
    storage.failDatasync(1);
    expectSluiceError(await rejectionOf(log.append(batch(), { durable: true })), "STORAGE_ERROR");
    expect(log.isOffline).toBe(true);
    expectSluiceError(
      thrownBy(() => log.appendSync(batch())),
      "STORAGE_ERROR",
    );
    expectSluiceError(await rejectionOf(log.flush()), "STORAGE_ERROR");
    expect(readRecords(log).map((record) => record.offset)).toEqual([0, 1]);
  });

  test("durable appends queued behind a failed fsync fail too, even if the next fsync would work", async () => {
    const { log, storage } = memoryLog();
    storage.failDatasync(1);
    const first = log.append(batch(), { durable: true });
    const second = log.append(batch(), { durable: true });
    expectSluiceError(await rejectionOf(first), "STORAGE_ERROR");
    expectSluiceError(await rejectionOf(second), "STORAGE_ERROR");
  });

  test("closing an offline log rejects, so the directory is not marked clean", async () => {
    const { log, storage } = memoryLog();
    storage.failDatasync(1);
    await rejectionOf(log.append(batch(), { durable: true }));
    expectSluiceError(await rejectionOf(log.close()), "STORAGE_ERROR");
    expectSluiceError(
      thrownBy(() => log.appendSync(batch())),
      "LOG_CLOSED",
    );
  });

  test("after a failed fsync and a crash, reopening recovers the durable prefix", async () => {
    const fixture = memoryLog();
    await fixture.log.append(batch(), { durable: true });
    fixture.storage.failDatasync(1);
    await rejectionOf(fixture.log.append(batch(), { durable: true }));
    fixture.storage.crash();
    const { log } = fixture.reopen();
    expect(log.logEndOffset).toBe(1);
    expect(log.appendSync(batch()).baseOffset).toBe(1);
  });

  test("a full disk fails the append with DISK_FULL, leaves nothing partial, and appends resume later", async () => {
    // Every budget from 0 bytes up, so the disk fills during the log write, an index entry, the epoch
    // checkpoint and a roll in turn.
    const size = batch({ valueBytes: 30 }).length;
    for (let budget = 0; budget < 3 * size + 64; budget += 7) {
      const fixture = memoryLog({ segmentBytes: 3 * size, indexIntervalBytes: 0 });
      const { log, storage } = fixture;
      log.appendSync(batch({ valueBytes: 30 }));
      storage.diskFullAfterBytes(budget);
      let failure: unknown;
      for (let i = 0; i < 10 && failure === undefined; i++) {
        const end = log.logEndOffset;
        const bytes = log.sizeBytes;
        try {
          log.appendSync(batch({ valueBytes: 30, fill: i }));
        } catch (error) {
          failure = error;
          expect([log.logEndOffset, log.sizeBytes]).toEqual([end, bytes]);
        }
      }
      expectSluiceError(failure, "DISK_FULL");
      const before = readRecords(log).map((record) => record.offset);
      expect(before).toEqual(Array.from({ length: log.logEndOffset }, (_, i) => i));
      storage.diskFullAfterBytes(undefined);
      expect(log.appendSync(batch()).baseOffset).toBe(before.length);
      expect(readRecords(log).map((record) => record.offset)).toEqual([...before, before.length]);
      await log.close();
      const reopened = fixture.reopen({ cleanShutdown: true });
      expect(reopened.recovery.rebuiltIndexes).toBe(0);
      expect(readRecords(reopened.log).length).toBe(before.length + 1);
      expect(fixture.reopen({ cleanShutdown: false }).recovery.truncatedBytes).toBe(0);
    }
  });

  test("retention deleting segments while an fsync is in flight leaves the log writable", async () => {
    const storage = new GatedSyncStorage();
    const { log } = memoryLog(
      { segmentBytes: 1024, retentionBytes: 2048, fileDeleteDelayMs: 0, indexIntervalBytes: 0 },
      { storage },
    );
    for (let i = 0; i < 40; i++) log.appendSync(textBatch(["x".repeat(200)]));
    const durable = log.append(textBatch(["last"]), { durable: true });
    await Bun.sleep(0); // the group commit is now waiting in its fdatasync
    expect(log.deleteRetainedSegments().deletedSegments).toBeGreaterThan(0);
    storage.releaseSyncs();
    await durable;
    expect(log.isOffline).toBe(false);
    expect(log.appendSync(textBatch(["after"])).baseOffset).toBe(41);
  });

  test("a failed append that cannot be undone takes the log offline until recovery", () => {
    const storage = new SickStorage();
    const fixture = memoryLog({ indexIntervalBytes: 0 }, { storage });
    fixture.log.appendSync(batch());
    storage.failIndexAppends = true;
    // Index entries are written in groups (sparse-index.ts): append until a group write fails.
    let failure: unknown;
    for (let i = 0; i < 1000 && failure === undefined; i++) {
      try {
        fixture.log.appendSync(batch());
      } catch (error) {
        failure = error;
      }
    }
    expectSluiceError(failure, "STORAGE_ERROR");
    expect(fixture.log.isOffline).toBe(false);
    const kept = fixture.log.logEndOffset;
    storage.failTruncates = true;
    expectSluiceError(
      thrownBy(() => fixture.log.appendSync(batch())),
      "STORAGE_ERROR",
    );
    expect(fixture.log.isOffline).toBe(true);
    expect(readRecords(fixture.log).map((record) => record.offset)).toEqual(
      Array.from({ length: kept }, (_, i) => i),
    );
    storage.failIndexAppends = false;
    storage.failTruncates = false;
    // The orphaned batch carries the next offset and a valid CRC: recovery keeps it.
    const { log } = fixture.reopen();
    expect(log.logEndOffset).toBe(kept + 1);
    expect(log.appendSync(batch()).baseOffset).toBe(kept + 1);
  });

  test("short writes are invisible to the log", () => {
    const fixture = memoryLog({ segmentBytes: 2048, indexIntervalBytes: 64 });
    fixture.storage.shortWrites(true);
    for (let i = 0; i < 30; i++) fixture.log.appendSync(textBatch([`value ${i}`, "y".repeat(i * 5)]));
    expect(fixture.storage.stats.writeCalls).toBeGreaterThan(60);
    const records = readRecords(fixture.log);
    expect(records.length).toBe(60);
    expect(new TextDecoder().decode(records[58]!.value!)).toBe("value 29");
    const reopened = fixture.reopen();
    expect(reopened.recovery.truncatedBytes).toBe(0);
    expect(
      decodeRecords(reopened.log.readSliceBytes(reopened.log.read(58, { maxBytes: 1 }).slice!), 1 << 20)[0]!
        .offset,
    ).toBe(58);
  });
});
