// What the data directory costs on disk: the bytes of its files and the free space of its file
// system (statfs), for the node overview. Kept here because it reads the file system directly.
import { lstatSync, readdirSync, statfsSync } from "node:fs";
import { join } from "node:path";

export interface DiskUsage {
  /** Bytes of every file under the data directory (allocated blocks, as `du` counts). */
  usedBytes: number;
  /** Bytes an unprivileged process may still write on the data directory's file system. */
  freeBytes: number;
  /** Size of that file system. */
  totalBytes: number;
}

export function diskUsage(dir: string): DiskUsage {
  const fs = statfsSync(dir);
  return {
    usedBytes: directoryBytes(dir),
    freeBytes: fs.bavail * fs.bsize,
    totalBytes: fs.blocks * fs.bsize,
  };
}

/**
 * Sums allocated bytes (st_blocks × 512: preallocated index files count for what they hold) without
 * following links. A file removed while the walk runs (retention, compaction) is skipped.
 */
function directoryBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const stat = lstatSync(path);
      total += stat.isDirectory() ? directoryBytes(path) : stat.blocks * 512;
    } catch {
      // Gone between readdir and lstat: it no longer costs anything.
    }
  }
  return total;
}
