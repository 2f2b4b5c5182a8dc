// Checks one segment without changing it: every batch's length, magic, offsets and CRC-32C (the log's
// own recovery code, run over an overlay storage), and that each entry of its `.index` and
// `.timeindex` points where the log says it should.
import type { BatchLocation } from "../log/batch-reader.ts";
import { OffsetIndex } from "../log/offset-index.ts";
import { NO_TIMESTAMP } from "../log/record-batch.ts";
import { recoverSegment } from "../log/recovery.ts";
import { INDEX_SUFFIX, LOG_SUFFIX, Segment, segmentFileName, TIME_INDEX_SUFFIX } from "../log/segment.ts";
import { TimeIndex } from "../log/time-index.ts";
import { OverlayStorage } from "../storage/overlay-storage.ts";
import { joinPath } from "../storage/storage.ts";

export interface Finding {
  /** damage: data or an index is wrong; notice: something recovery handles by design (a missing index). */
  severity: "damage" | "notice";
  /** The file concerned, relative to the data directory. */
  file: string;
  message: string;
}

export interface SegmentCheck {
  baseOffset: number;
  batches: number;
  sizeBytes: number;
  /** Where the valid batches end; below sizeBytes when something after them is torn or corrupt. */
  validBytes: number;
  /** The offset after the last valid batch. */
  nextOffset: number;
  findings: Finding[];
}

interface IndexEntries {
  present: boolean;
  sane: boolean;
  entries: Array<{ key: number; value: number }>;
}

/** Reads an index file through its own class (the same sanity check the log applies when it opens). */
function readIndex(dir: string, baseOffset: number, kind: "offset" | "time", bound: number): IndexEntries {
  const suffix = kind === "offset" ? INDEX_SUFFIX : TIME_INDEX_SUFFIX;
  const path = joinPath(dir, segmentFileName(baseOffset, suffix));
  const storage = new OverlayStorage();
  try {
    if (!storage.exists(path)) return { present: false, sane: false, entries: [] };
    const file = storage.open(path);
    const index = kind === "offset" ? new OffsetIndex(file, baseOffset) : new TimeIndex(file, baseOffset);
    const sane = index.load(bound);
    const entries = [];
    for (let i = 0; i < index.index.count; i++) entries.push(index.index.entry(i));
    return { present: true, sane, entries };
  } finally {
    storage.closeAll();
  }
}

export function checkSegment(options: {
  dataDir: string;
  /** The partition directory's name: "orders-0". */
  partitionDir: string;
  baseOffset: number;
  /** A compacted log may skip offsets between batches. */
  allowOffsetGaps: boolean;
}): SegmentCheck {
  const { baseOffset, partitionDir } = options;
  const dir = joinPath(options.dataDir, partitionDir);
  const logName = `${partitionDir}/${segmentFileName(baseOffset, LOG_SUFFIX)}`;
  const findings: Finding[] = [];
  const storage = new OverlayStorage();
  const batchesAt = new Map<number, BatchLocation>();
  const batchesByLastOffset = new Map<number, BatchLocation>();
  let recovered: ReturnType<typeof recoverSegment>;
  let sizeBytes: number;
  let nextOffset: number;
  try {
    // indexIntervalBytes only shapes the indexes recovery rebuilds in memory; they are thrown away.
    const segment = Segment.openForRecovery(storage, dir, baseOffset, {
      indexIntervalBytes: 4096,
      createdMs: 0,
    });
    sizeBytes = segment.sizeBytes;
    recovered = recoverSegment(segment, {
      allowOffsetGaps: options.allowOffsetGaps,
      onBatch: (batch) => {
        batchesAt.set(batch.position, batch);
        batchesByLastOffset.set(batch.lastOffset, batch);
      },
    });
    nextOffset = segment.nextOffset;
  } finally {
    storage.closeAll();
  }
  if (recovered.truncatedBytes > 0) {
    findings.push({
      severity: "damage",
      file: logName,
      message: `${recovered.stopReason ?? "invalid batch"}: ${recovered.truncatedBytes} bytes from byte ${recovered.validBytes} on are unreadable`,
    });
  }
  const valid = { validBytes: recovered.validBytes, nextOffset };
  findings.push(
    ...checkOffsetIndex(options, sizeBytes, valid, batchesAt),
    ...checkTimeIndex(options, valid, batchesByLastOffset),
  );
  return {
    baseOffset,
    batches: recovered.batches,
    sizeBytes,
    validBytes: recovered.validBytes,
    nextOffset,
    findings,
  };
}

type Where = { dataDir: string; partitionDir: string; baseOffset: number };

/** Where the valid part of a segment ends: index entries past it go with the damaged tail. */
type ValidPart = { validBytes: number; nextOffset: number };

function pastValidNotice(file: string, entries: number): Finding[] {
  if (entries === 0) return [];
  return [
    {
      severity: "notice",
      file,
      message: `${entries} entries point into the damaged tail; recovery drops them`,
    },
  ];
}

function checkOffsetIndex(
  where: Where,
  logBytes: number,
  valid: ValidPart,
  batchesAt: Map<number, BatchLocation>,
): Finding[] {
  const file = `${where.partitionDir}/${segmentFileName(where.baseOffset, INDEX_SUFFIX)}`;
  const index = readIndex(joinPath(where.dataDir, where.partitionDir), where.baseOffset, "offset", logBytes);
  if (!index.present) return [{ severity: "notice", file, message: "missing: the next start rebuilds it" }];
  if (!index.sane && logBytes > 0) {
    return [
      {
        severity: "damage",
        file,
        message:
          "fails the sanity check (size not a multiple of 8, offsets not increasing, or a position past the log)",
      },
    ];
  }
  const findings: Finding[] = [];
  let pastValid = 0;
  for (const [i, { key: lastOffset, value: position }] of index.entries.entries()) {
    if (position >= valid.validBytes) {
      pastValid++;
      continue;
    }
    const batch = batchesAt.get(position);
    if (batch === undefined || batch.lastOffset !== lastOffset) {
      const found =
        batch === undefined ? "no valid batch starts there" : `the batch there ends at ${batch.lastOffset}`;
      findings.push({
        severity: "damage",
        file,
        message: `entry ${i} says offset ${lastOffset} ends the batch at byte ${position}, but ${found}`,
      });
      return findings; // one wrong entry is enough to know the index must be rebuilt
    }
  }
  return pastValidNotice(file, pastValid);
}

function checkTimeIndex(where: Where, valid: ValidPart, byLastOffset: Map<number, BatchLocation>): Finding[] {
  const file = `${where.partitionDir}/${segmentFileName(where.baseOffset, TIME_INDEX_SUFFIX)}`;
  // Loaded without an upper offset bound: entries past the valid part are told apart below.
  const index = readIndex(
    joinPath(where.dataDir, where.partitionDir),
    where.baseOffset,
    "time",
    Number.MAX_SAFE_INTEGER,
  );
  if (!index.present) return [{ severity: "notice", file, message: "missing: the next start rebuilds it" }];
  if (!index.sane && valid.nextOffset > where.baseOffset) {
    return [
      {
        severity: "damage",
        file,
        message:
          "fails the sanity check (size not a multiple of 12, timestamps not increasing, or an offset outside the segment)",
      },
    ];
  }
  let pastValid = 0;
  for (const [i, { key: timestamp, value: offset }] of index.entries.entries()) {
    if (offset >= valid.nextOffset) {
      pastValid++;
      continue;
    }
    // An entry (T, O): T is the largest timestamp up to the batch ending at O, which carries it.
    if (timestamp === NO_TIMESTAMP) continue;
    const batch = byLastOffset.get(offset);
    if (batch === undefined || batch.maxTimestamp !== timestamp) {
      const found =
        batch === undefined
          ? "no valid batch ends at that offset"
          : `that batch's max timestamp is ${batch.maxTimestamp}`;
      return [
        {
          severity: "damage",
          file,
          message: `entry ${i} says timestamp ${timestamp} at offset ${offset}, but ${found}`,
        },
      ];
    }
  }
  return pastValidNotice(file, pastValid);
}
