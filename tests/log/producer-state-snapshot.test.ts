// Producer state across restarts: the snapshot format (with its committed v1 fixture), snapshots at
// roll and at a clean close, rebuilds after a crash on MemoryStorage and real files, truncation, and
// a snapshot plus the batches after it giving the same state as a scan of the whole log.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { PartitionLog } from "../../lib/log/partition-log.ts";
import type { ProducerEntry } from "../../lib/log/producer-state.ts";
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  listSnapshotOffsets,
  snapshotPath,
} from "../../lib/log/producer-state-snapshot.ts";
import { FileStorage } from "../../lib/storage/file-storage.ts";
import {
  expectSluiceError,
  LOG_DIR,
  logConfig,
  memoryLog,
  START_MS,
  seededRandom,
  tempDir,
  thrownBy,
} from "./helpers.ts";
import { producerBatch } from "./producer-state-helpers.ts";

const FIXTURE_DIR = join(import.meta.dir, "..", "fixtures", "producer-snapshot", "v1");

const entries: ProducerEntry[] = [
  {
    producerId: 1,
    producerEpoch: 2,
    lastTimestamp: START_MS + 5,
    batches: [
      { firstSequence: 0, lastSequence: 1, firstOffset: 0, lastOffset: 1, timestamp: START_MS },
      { firstSequence: 2, lastSequence: 2, firstOffset: 4, lastOffset: 4, timestamp: START_MS + 5 },
    ],
  },
  {
    producerId: 2 ** 45,
    producerEpoch: 32_767,
    lastTimestamp: -1,
    batches: [{ firstSequence: 2 ** 31 - 1, lastSequence: 0, firstOffset: 2, lastOffset: 3, timestamp: -1 }],
  },
];

describe("snapshot format", () => {
  test("a snapshot decodes to the producers it was written from", () => {
    expect(decodeProducerSnapshot(encodeProducerSnapshot(entries))).toEqual(entries);
    expect(decodeProducerSnapshot(encodeProducerSnapshot([]))).toEqual([]);
  });

  test("a flipped bit anywhere fails the checksum, and so does a cut or padded file", () => {
    const bytes = encodeProducerSnapshot(entries);
    for (let position = 0; position < bytes.length; position += 7) {
      const damaged = bytes.slice();
      damaged[position]! ^= 0x10;
      expectSluiceError(
        thrownBy(() => decodeProducerSnapshot(damaged)),
        "CORRUPT_MESSAGE",
      );
    }
    expectSluiceError(
      thrownBy(() => decodeProducerSnapshot(bytes.subarray(0, bytes.length - 1))),
      "CORRUPT_MESSAGE",
    );
    expectSluiceError(
      thrownBy(() => decodeProducerSnapshot(bytes.subarray(0, 5))),
      "CORRUPT_MESSAGE",
    );
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    expectSluiceError(
      thrownBy(() => decodeProducerSnapshot(padded)),
      "CORRUPT_MESSAGE",
    );
  });

  test("the committed v1 fixture decodes to what it describes and encodes back to the same bytes", () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURE_DIR, "two-producers.snapshot")));
    const described = JSON.parse(readFileSync(join(FIXTURE_DIR, "two-producers.json"), "utf8")) as {
      version: number;
      producers: ProducerEntry[];
    };
    expect(described.version).toBe(1);
    expect(decodeProducerSnapshot(bytes)).toEqual(described.producers);
    expect(encodeProducerSnapshot(described.producers)).toEqual(bytes);
  });
});

describe("snapshots on disk", () => {
  test("a roll snapshots the state at the new segment's base offset, keeping the last two", () => {
    const { log, storage } = memoryLog({ segmentBytes: 1024 });
    let sequence = 0;
    while (log.segments.length < 5) {
      log.appendSync(producerBatch({ producerId: 9, sequence, count: 4, label: "x".repeat(40) }));
      sequence += 4;
    }
    const bases = log.segments.map((segment) => segment.baseOffset);
    expect(listSnapshotOffsets(storage, LOG_DIR)).toEqual(bases.slice(-2));
    const newest = decodeProducerSnapshot(storage.readFile(snapshotPath(LOG_DIR, bases.at(-1)!))!);
    // Everything below the roll, and nothing at or above it.
    expect(newest[0]!.batches.at(-1)!.lastOffset).toBe(bases.at(-1)! - 1);
  });

  test("state survives a clean close and reopen without reading a batch header", async () => {
    const fixture = memoryLog();
    const first = fixture.log.appendSync(producerBatch({ producerId: 5, sequence: 0, count: 3 }));
    fixture.log.appendSync(producerBatch({ producerId: 6, epoch: 4, sequence: 10 }));
    const before = fixture.log.producerState.entries();
    await fixture.log.close();

    const { log } = fixture.reopen({ cleanShutdown: true });
    expect(log.producerStateLoad).toEqual({ snapshotOffset: 4, batchesScanned: 0, corruptSnapshots: 0 });
    expect(log.producerState.entries()).toEqual(before);
    const retry = log.appendSync(producerBatch({ producerId: 5, sequence: 0, count: 3 }));
    expect(retry).toMatchObject({
      baseOffset: first.baseOffset,
      lastOffset: first.lastOffset,
      duplicate: true,
    });
    expectSluiceError(
      thrownBy(() => log.appendSync(producerBatch({ producerId: 6, epoch: 3, sequence: 11 }))),
      "INVALID_PRODUCER_EPOCH",
    );
  });

  test("after a crash the state matches the batches that survived it (MemoryStorage)", async () => {
    const fixture = memoryLog({ segmentBytes: 1024 });
    const { log, storage } = fixture;
    const durable = [];
    for (let sequence = 0; sequence < 12; sequence++) {
      durable.push(log.appendSync(producerBatch({ producerId: 3, sequence, label: "y".repeat(60) })));
    }
    await log.flush();
    // Enough unsynced batches to roll: the roll's snapshot is durable, its batches are not.
    for (let sequence = 12; sequence < 30; sequence++) {
      log.appendSync(producerBatch({ producerId: 3, sequence, label: "y".repeat(60) }));
    }
    const rolledAt = listSnapshotOffsets(storage, LOG_DIR).at(-1)!;
    expect(rolledAt).toBeGreaterThan(12);
    storage.crash();

    const reopened = fixture.reopen({ cleanShutdown: false, recoveryPoint: log.recoveryPoint });
    expect(reopened.log.logEndOffset).toBe(12);
    expect(listSnapshotOffsets(storage, LOG_DIR).every((offset) => offset <= 12)).toBe(true);
    expect(reopened.log.producerState.entry(3)!.batches.at(-1)).toMatchObject({
      lastSequence: 11,
      lastOffset: 11,
    });
    // A retry of a batch that survived is a duplicate; of one that was lost, a fresh append.
    const retry = reopened.log.appendSync(
      producerBatch({ producerId: 3, sequence: 11, label: "y".repeat(60) }),
    );
    expect(retry).toMatchObject({ baseOffset: durable[11]!.baseOffset, duplicate: true });
    const lost = reopened.log.appendSync(
      producerBatch({ producerId: 3, sequence: 12, label: "y".repeat(60) }),
    );
    expect(lost.duplicate).toBeUndefined();
    expect(lost.baseOffset).toBe(12);
  });

  test("state survives an unclean stop and a clean one on real files", async () => {
    using dir = tempDir();
    const storage = new FileStorage();
    const clock = new ManualClock(START_MS);
    const open = (cleanShutdown: boolean) =>
      PartitionLog.open({
        storage,
        dir: join(dir.path, "t-0"),
        config: logConfig({ segmentBytes: 2048 }),
        clock,
        cleanShutdown,
      }).log;
    const log = open(true);
    const results = [];
    for (let sequence = 0; sequence < 40; sequence += 2) {
      results.push(
        log.appendSync(producerBatch({ producerId: 11, sequence, count: 2, label: "z".repeat(50) })),
      );
    }
    const before = log.producerState.entries();
    log.closeWithoutFlush();

    const unclean = open(false);
    expect(unclean.producerStateLoad!.snapshotOffset).toBeGreaterThan(0);
    expect(unclean.producerStateLoad!.batchesScanned).toBeGreaterThan(0);
    expect(unclean.producerState.entries()).toEqual(before);
    const retry = unclean.appendSync(
      producerBatch({ producerId: 11, sequence: 36, count: 2, label: "z".repeat(50) }),
    );
    expect(retry).toMatchObject({ baseOffset: results[18]!.baseOffset, duplicate: true });
    await unclean.close();

    const clean = open(true);
    expect(clean.producerStateLoad).toMatchObject({ snapshotOffset: clean.logEndOffset, batchesScanned: 0 });
    expect(clean.producerState.entries()).toEqual(before);
    await clean.close();
  });

  test("a snapshot plus the batches after it gives the same state as a scan of the whole log", () => {
    const random = seededRandom(20240611);
    const fixture = memoryLog({ segmentBytes: 4096 });
    const { log, storage } = fixture;
    const producers = Array.from({ length: 8 }, (_, i) => ({ producerId: 100 + i, epoch: 0, sequence: 0 }));
    const sent: Array<{ producerId: number; epoch: number; sequence: number; count: number }> = [];
    const outcomes = { duplicate: 0, refused: 0 };
    for (let i = 0; i < 400; i++) {
      const producer = producers[Math.floor(random() * producers.length)]!;
      const roll = random();
      if (roll < 0.1 && sent.length > 0) {
        // A retry of a recent batch: a duplicate, or out of order when it is no longer cached.
        const old = sent[sent.length - 1 - Math.floor(random() * Math.min(60, sent.length))]!;
        try {
          if (log.appendSync(producerBatch({ ...old, label: "r" })).duplicate) outcomes.duplicate++;
        } catch {
          outcomes.refused++;
        }
        continue;
      }
      if (roll < 0.13) {
        producer.epoch++;
        producer.sequence = 0;
      }
      const count = 1 + Math.floor(random() * 5);
      const spec = {
        producerId: producer.producerId,
        epoch: producer.epoch,
        sequence: producer.sequence,
        count,
      };
      log.appendSync(producerBatch({ ...spec, label: `p${i}-` }));
      sent.push(spec);
      producer.sequence += count;
    }
    expect(log.segments.length).toBeGreaterThan(5);
    expect(outcomes.duplicate).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    const live = log.producerState.entries();

    const fromSnapshot = fixture.reopen({ cleanShutdown: false }).log;
    expect(fromSnapshot.producerStateLoad!.snapshotOffset).toBe(log.segments.at(-1)!.baseOffset);
    expect(fromSnapshot.producerState.entries()).toEqual(live);

    for (const offset of listSnapshotOffsets(storage, LOG_DIR)) storage.remove(snapshotPath(LOG_DIR, offset));
    const fullScan = fixture.reopen({ cleanShutdown: false }).log;
    expect(fullScan.producerStateLoad!.snapshotOffset).toBeUndefined();
    expect(fullScan.producerStateLoad!.batchesScanned).toBeGreaterThan(
      fromSnapshot.producerStateLoad!.batchesScanned,
    );
    expect(fullScan.producerState.entries()).toEqual(live);
  });

  test("a damaged newest snapshot is removed and the one before it is used", () => {
    const fixture = memoryLog({ segmentBytes: 1024 });
    const { log, storage } = fixture;
    for (let sequence = 0; log.segments.length < 4; sequence++) {
      log.appendSync(producerBatch({ producerId: 8, sequence, label: "w".repeat(80) }));
    }
    const live = log.producerState.entries();
    const [older, newest] = listSnapshotOffsets(storage, LOG_DIR);
    storage.flipBit(snapshotPath(LOG_DIR, newest!), 12, 3);

    const reopened = fixture.reopen({ cleanShutdown: false }).log;
    expect(reopened.producerStateLoad).toMatchObject({ snapshotOffset: older, corruptSnapshots: 1 });
    expect(listSnapshotOffsets(storage, LOG_DIR)).toEqual([older!]);
    expect(reopened.producerState.entries()).toEqual(live);
  });

  test("truncation removes snapshots past the cut and forgets the batches it cut", () => {
    const { log, storage } = memoryLog({ segmentBytes: 1024 });
    const results = [];
    for (let sequence = 0; log.segments.length < 4; sequence++) {
      results.push(log.appendSync(producerBatch({ producerId: 4, sequence, label: "v".repeat(80) })));
    }
    const cut = log.segments[1]!.baseOffset + 1;
    log.truncateTo(cut);
    expect(log.logEndOffset).toBe(cut);
    expect(listSnapshotOffsets(storage, LOG_DIR).every((offset) => offset <= cut)).toBe(true);
    expect(log.producerState.entry(4)!.batches.at(-1)!.lastOffset).toBe(cut - 1);
    // The batch at the cut is gone, so its retry is appended again rather than called a duplicate.
    const again = log.appendSync(producerBatch({ producerId: 4, sequence: cut, label: "v".repeat(80) }));
    expect(again).toMatchObject({ baseOffset: cut });
    expect(again.duplicate).toBeUndefined();
    expect(results[cut]!.baseOffset).toBe(cut);
  });
});
