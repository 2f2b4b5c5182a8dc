// `sluice check`'s engine: scans a data directory offline and changes nothing. Two passes, both over
// overlay storages (writes stay in memory):
//  1. the node's own startup (LogManager.open) to learn what recovery would do on the next start:
//     segments it would scan, bytes it would truncate, segments it would drop, indexes it would rebuild;
//  2. every segment of every partition, whole, whatever the recovery point says: each batch's CRC and
//     offsets, each index entry, and the offsets running on from one segment into the next.
import { isSluiceError } from "../errors.ts";
import { LOG_SUFFIX, parseSegmentFileName, segmentFileName } from "../log/segment.ts";
import { OverlayStorage } from "../storage/overlay-storage.ts";
import { joinPath } from "../storage/storage.ts";
import { LogManager } from "../topics/log-manager.ts";
import { checkSegment, type Finding } from "./segment-check.ts";

export type { Finding } from "./segment-check.ts";

export interface RecoveryForecast {
  /** Whether the node was stopped cleanly (then recovery trusts every segment and scans none). */
  cleanShutdown: boolean;
  segmentsScanned: number;
  truncatedBytes: number;
  deletedSegments: number;
  rebuiltIndexes: number;
  /** Partitions that would lose bytes, and why. */
  partitions: Array<{ topic: string; partition: number; truncatedBytes: number; reasons: string[] }>;
}

export interface CheckReport {
  dataDir: string;
  topics: number;
  partitions: number;
  segments: number;
  batches: number;
  bytesScanned: number;
  /** Undefined when the node could not even open the directory (see findings). */
  recovery: RecoveryForecast | undefined;
  findings: Finding[];
  /** True when any finding is damage: the exit code says so. */
  damaged: boolean;
}

export interface CheckOptions {
  /** Called after each segment with bytes scanned so far and the total. */
  onProgress?: (scannedBytes: number, totalBytes: number) => void;
}

interface PartitionToCheck {
  topic: string;
  partition: number;
  allowOffsetGaps: boolean;
}

/** What the next start would do, found by running it over an overlay. */
async function forecastRecovery(
  dataDir: string,
): Promise<{ forecast: RecoveryForecast; partitions: PartitionToCheck[] } | { error: string }> {
  const storage = new OverlayStorage();
  try {
    const logs = LogManager.open({
      dataDir,
      storage,
      onBackgroundError: () => undefined,
    });
    const partitions: PartitionToCheck[] = [];
    for (const { name } of logs.listTopics()) {
      const description = logs.describeTopic(name);
      const allowOffsetGaps = description.config["cleanup.policy"].includes("compact");
      for (const { partition } of description.partitions)
        partitions.push({ topic: name, partition, allowOffsetGaps });
    }
    const reports = logs.recovery.partitions;
    await logs.close();
    const forecast: RecoveryForecast = {
      cleanShutdown: logs.recovery.cleanShutdown,
      segmentsScanned: reports.reduce((sum, p) => sum + p.report.segmentsRecovered.length, 0),
      truncatedBytes: reports.reduce((sum, p) => sum + p.report.truncatedBytes, 0),
      deletedSegments: reports.reduce((sum, p) => sum + p.report.deletedSegments.length, 0),
      rebuiltIndexes: reports.reduce((sum, p) => sum + p.report.rebuiltIndexes, 0),
      partitions: reports
        .filter((p) => p.report.truncatedBytes > 0)
        .map(({ topic, partition, report }) => ({
          topic,
          partition,
          truncatedBytes: report.truncatedBytes,
          reasons: report.segmentsRecovered.flatMap((s) => (s.stopReason ? [s.stopReason] : [])),
        })),
    };
    return { forecast, partitions };
  } catch (error) {
    if (!isSluiceError(error)) throw error;
    return { error: error.message };
  } finally {
    storage.closeAll();
  }
}

function segmentBaseOffsets(storage: OverlayStorage, dir: string): number[] {
  return storage
    .list(dir)
    .flatMap(({ name, isDirectory }) => {
      const baseOffset = isDirectory ? undefined : parseSegmentFileName(name);
      return baseOffset === undefined ? [] : [baseOffset];
    })
    .sort((a, b) => a - b);
}

export async function checkDataDir(dataDir: string, options: CheckOptions = {}): Promise<CheckReport> {
  const findings: Finding[] = [];
  const opened = await forecastRecovery(dataDir);
  let partitions: PartitionToCheck[];
  if ("error" in opened) {
    findings.push({
      severity: "damage",
      file: ".",
      message: `the node cannot open this directory: ${opened.error}`,
    });
    // Still scan what is there, taking every `<name>-<n>` directory for a partition.
    partitions = new OverlayStorage().list(dataDir).flatMap(({ name, isDirectory }) => {
      const match = /^(.+)-(\d+)$/.exec(name);
      return isDirectory && match
        ? [{ topic: match[1]!, partition: Number(match[2]), allowOffsetGaps: true }]
        : [];
    });
  } else {
    partitions = opened.partitions;
  }

  const listing = new OverlayStorage();
  const work = partitions.map((p) => {
    const partitionDir = `${p.topic}-${p.partition}`;
    const baseOffsets = segmentBaseOffsets(listing, joinPath(dataDir, partitionDir));
    const bytes = baseOffsets.map(
      (base) => listing.sizeOf(joinPath(dataDir, partitionDir, segmentFileName(base, LOG_SUFFIX))) ?? 0,
    );
    return { ...p, partitionDir, baseOffsets, bytes };
  });
  const totalBytes = work.reduce((sum, w) => sum + w.bytes.reduce((a, b) => a + b, 0), 0);
  let scannedBytes = 0;
  let segments = 0;
  let batches = 0;
  for (const { partitionDir, baseOffsets, bytes, allowOffsetGaps } of work) {
    let previousNextOffset: number | undefined;
    for (const [i, baseOffset] of baseOffsets.entries()) {
      const result = checkSegment({ dataDir, partitionDir, baseOffset, allowOffsetGaps });
      findings.push(...result.findings);
      // Segments are contiguous: one that starts past where the previous ended follows a hole.
      const expected = previousNextOffset;
      const hole =
        expected !== undefined && (allowOffsetGaps ? baseOffset < expected : baseOffset !== expected);
      if (hole) {
        findings.push({
          severity: "damage",
          file: `${partitionDir}/${segmentFileName(baseOffset, LOG_SUFFIX)}`,
          message: `starts at offset ${baseOffset} but the segment before it ends at ${expected}`,
        });
      }
      previousNextOffset = result.nextOffset;
      segments++;
      batches += result.batches;
      scannedBytes += bytes[i]!;
      options.onProgress?.(scannedBytes, totalBytes);
    }
  }
  return {
    dataDir,
    topics: new Set(partitions.map((p) => p.topic)).size,
    partitions: partitions.length,
    segments,
    batches,
    bytesScanned: scannedBytes,
    recovery: "error" in opened ? undefined : opened.forecast,
    findings,
    damaged: findings.some((f) => f.severity === "damage"),
  };
}
