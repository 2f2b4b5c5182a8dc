// Opening a partition's segments from disk: clear what interrupted work left behind, trust the
// segments below the recovery point, recover the rest batch by batch, and cut the log at the first
// torn batch, corrupt batch or hole (everything after one was never durable).
import type { Storage } from "../storage/storage.ts";
import { joinPath } from "../storage/storage.ts";
import type { BatchLocation } from "./batch-reader.ts";
import { completeInterruptedSwaps } from "./cleaner-swap.ts";
import { recoverSegment, type SegmentRecovery } from "./recovery.ts";
import {
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  parseSegmentFileName,
  Segment,
  type SegmentOptions,
  TIME_INDEX_SUFFIX,
} from "./segment.ts";

export interface RecoveryReport {
  cleanShutdown: boolean;
  segmentsRecovered: SegmentRecovery[];
  truncatedBytes: number;
  deletedSegments: number[];
  rebuiltIndexes: number;
}

export interface LoadOptions {
  storage: Storage;
  dir: string;
  segmentOptions: SegmentOptions;
  cleanShutdown: boolean;
  /** Offsets below this were fsynced; segments wholly below it are trusted without a scan. */
  recoveryPoint: number;
  /** A compacted log has offset gaps between batches; any other log must be contiguous. */
  allowOffsetGaps: boolean;
  /** Sees every batch recovery reads (the caller re-adds leader epochs from them). */
  onRecoveredBatch?: (batch: BatchLocation) => void;
  /** Removes a segment that recovery dropped. */
  deleteSegment: (segment: Segment) => void;
}

export interface LoadedLog {
  segments: Segment[];
  report: RecoveryReport;
  /** A first, empty segment had to be created: its directory entry is not yet synced. */
  createdSegment: boolean;
}

export function loadSegments(options: LoadOptions): LoadedLog {
  const { storage, dir, segmentOptions, cleanShutdown, recoveryPoint } = options;
  const report: RecoveryReport = {
    cleanShutdown,
    segmentsRecovered: [],
    truncatedBytes: 0,
    deletedSegments: [],
    rebuiltIndexes: 0,
  };
  const baseOffsets = cleanDirectory(storage, dir);
  const recoverFrom = cleanShutdown ? Number.POSITIVE_INFINITY : recoveryPoint;
  let segments: Segment[] = [];
  for (let i = 0; i < baseOffsets.length; i++) {
    const baseOffset = baseOffsets[i]!;
    const nextBase = baseOffsets[i + 1];
    // A segment needs recovery when it may hold offsets at or past the recovery point.
    const needsRecovery =
      nextBase === undefined ? recoverFrom !== Number.POSITIVE_INFINITY : nextBase > recoverFrom;
    const opened = needsRecovery ? undefined : Segment.open(storage, dir, baseOffset, segmentOptions);
    const segment = opened?.segment ?? Segment.openForRecovery(storage, dir, baseOffset, segmentOptions);
    let recovered: SegmentRecovery | undefined;
    if (opened === undefined || !opened.indexesSane) {
      // Missing or insane indexes of a trusted segment: Kafka recovers it whole, which rebuilds them.
      if (opened !== undefined) report.rebuiltIndexes++;
      const { onRecoveredBatch: onBatch, allowOffsetGaps } = options;
      recovered = recoverSegment(segment, onBatch ? { onBatch, allowOffsetGaps } : { allowOffsetGaps });
      report.segmentsRecovered.push(recovered);
      report.truncatedBytes += recovered.truncatedBytes;
    }
    segments.push(segment);
    // Segments are contiguous: each is rolled at the log end. One that ends before the next begins
    // lost its unsynced tail in a crash (cut at a batch boundary, so no CRC fails); what follows the
    // hole was never durable either, since a flush syncs every segment it covers.
    const lostTail = nextBase !== undefined && segment.nextOffset !== nextBase;
    if (lostTail && recovered !== undefined && recovered.stopReason === undefined) {
      recovered.stopReason = `segment ends at offset ${segment.nextOffset} but the next one starts at ${nextBase}`;
    }
    if ((recovered?.truncatedBytes ?? 0) > 0 || lostTail) {
      // Everything after a corrupt batch or a hole is unreachable: drop the later segments whole.
      for (const later of baseOffsets.slice(i + 1)) {
        const doomed = Segment.openForRecovery(storage, dir, later, segmentOptions);
        report.truncatedBytes += doomed.sizeBytes;
        report.deletedSegments.push(later);
        options.deleteSegment(doomed);
      }
      break;
    }
  }
  const createdSegment = segments.length === 0;
  if (createdSegment) segments.push(Segment.create(storage, dir, 0, segmentOptions));
  // An empty segment before the last (left by a crash during a roll) holds nothing: drop it.
  segments = segments.filter((segment, i) => {
    if (i === segments.length - 1 || !segment.isEmpty) return true;
    options.deleteSegment(segment);
    return false;
  });
  // Recovered segments before the active one get the time index's closing entry, as at a roll.
  for (const segment of segments.slice(0, -1)) segment.onBecomeInactive();
  return { segments, report, createdSegment };
}

/** Removes leftovers of interrupted work and returns the segment base offsets, ascending. */
function cleanDirectory(storage: Storage, dir: string): number[] {
  // A cleaned segment committed as `.swap` before a crash replaces the segments it was made from;
  // any other `.swap` or `.cleaned` file is an unfinished clean and goes below.
  completeInterruptedSwaps(storage, dir);
  const entries = storage.list(dir);
  const names = new Set(entries.map((entry) => entry.name));
  const baseOffsets: number[] = [];
  for (const { name, isDirectory } of entries) {
    if (isDirectory) continue;
    const path = joinPath(dir, name);
    if (
      name.endsWith(DELETED_SUFFIX) ||
      name.endsWith(".tmp") ||
      name.endsWith(".cleaned") ||
      name.endsWith(".swap")
    ) {
      storage.remove(path);
      continue;
    }
    const baseOffset = parseSegmentFileName(name);
    if (baseOffset !== undefined) {
      baseOffsets.push(baseOffset);
      continue;
    }
    // An index whose log is gone is an orphan: Kafka deletes it too.
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      if (name.endsWith(suffix) && !names.has(`${name.slice(0, -suffix.length)}.log`)) storage.remove(path);
    }
  }
  return baseOffsets.sort((a, b) => a - b);
}
