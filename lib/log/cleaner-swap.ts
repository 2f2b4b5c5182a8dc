// Kafka's swap protocol, by which a cleaned segment replaces the segments it was cleaned from so that a
// crash at any point leaves either all of the old segments or the new one, never a mix:
//   1. the cleaner writes `<base>.log.cleaned`, `.index.cleaned`, `.timeindex.cleaned` and fsyncs them;
//   2. commit: renames them `.swap`, the log last (its `.log.swap` existing is the commit point), and
//      fsyncs the directory;
//   3. renames the replaced segments' files `.deleted` (removed later, after in-flight reads);
//   4. renames the `.swap` files to their final names, the log last.
// On open, completeInterruptedSwaps() finishes step 4 for every committed swap and undoes the rest.
import { isSluiceError } from "../errors.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { walkBatches } from "./batch-reader.ts";
import { LOG_SUFFIX, parseSegmentFileName, SEGMENT_FILE_SUFFIXES, segmentFileName } from "./segment.ts";

export const CLEANED_SUFFIX = ".cleaned";
export const SWAP_SUFFIX = ".swap";

/** Log last: a `.log.swap` exists only once the index files are `.swap` too. */
const LOG_LAST = [...SEGMENT_FILE_SUFFIXES.slice(1), LOG_SUFFIX];

function segmentPath(dir: string, baseOffset: number, suffix: string, tempSuffix = ""): string {
  return joinPath(dir, segmentFileName(baseOffset, suffix) + tempSuffix);
}

/** Removes the files of an abandoned clean of the segment at `baseOffset`, cleaned or committed. */
export function removeTemporaryFiles(storage: Storage, dir: string, baseOffset: number): void {
  for (const suffix of LOG_LAST) {
    storage.remove(segmentPath(dir, baseOffset, suffix, CLEANED_SUFFIX));
    storage.remove(segmentPath(dir, baseOffset, suffix, SWAP_SUFFIX));
  }
}

/** Step 2: `.cleaned` → `.swap`, the log last. The caller fsyncs the directory before step 3. */
export function commitSwap(storage: Storage, dir: string, baseOffset: number): void {
  for (const suffix of LOG_LAST) {
    storage.rename(
      segmentPath(dir, baseOffset, suffix, CLEANED_SUFFIX),
      segmentPath(dir, baseOffset, suffix, SWAP_SUFFIX),
    );
  }
}

/** Step 4: `.swap` → final names (over whatever is there), the log last. */
export function finishSwap(storage: Storage, dir: string, baseOffset: number): void {
  for (const suffix of LOG_LAST) {
    const from = segmentPath(dir, baseOffset, suffix, SWAP_SUFFIX);
    if (storage.exists(from)) storage.rename(from, segmentPath(dir, baseOffset, suffix));
  }
}

/**
 * Recovery of swaps a crash interrupted, before the directory is read: every committed swap (a
 * `<base>.log.swap`) replaces the segments whose base offsets fall in its offset range, whatever
 * step 3 got through; index `.swap` files without their log belong to an uncommitted swap and go
 * (the `.cleaned` files are removed with the other temporary files). Returns the swaps completed.
 */
export function completeInterruptedSwaps(storage: Storage, dir: string): number[] {
  const names = storage.list(dir).map((entry) => entry.name);
  const completed: number[] = [];
  for (const name of names) {
    if (!name.endsWith(SWAP_SUFFIX)) continue;
    const baseOffset = parseSegmentFileName(name.slice(0, -SWAP_SUFFIX.length));
    if (baseOffset === undefined) continue;
    const endOffset = swapEndOffset(storage, joinPath(dir, name));
    if (endOffset === undefined) {
      // Cannot happen for a swap the cleaner committed (it always keeps its last batch); a damaged
      // one is rolled back rather than allowed to replace anything.
      removeTemporaryFiles(storage, dir, baseOffset);
      continue;
    }
    for (const other of names) {
      const replaced = parseSegmentFileName(other);
      if (replaced === undefined || replaced < baseOffset || replaced >= endOffset) continue;
      for (const suffix of SEGMENT_FILE_SUFFIXES) storage.remove(segmentPath(dir, replaced, suffix));
    }
    finishSwap(storage, dir, baseOffset);
    completed.push(baseOffset);
  }
  for (const name of names) {
    if (name.endsWith(SWAP_SUFFIX) && storage.exists(joinPath(dir, name)))
      storage.remove(joinPath(dir, name));
  }
  return completed;
}

/** One past the last offset of the swap log's last whole batch, or undefined when it holds none. */
function swapEndOffset(storage: Storage, path: string): number | undefined {
  const file = storage.open(path);
  let endOffset: number | undefined;
  try {
    for (const batch of walkBatches(file, 0, file.size())) endOffset = batch.lastOffset + 1;
  } catch (error) {
    if (!isSluiceError(error)) throw error; // a header field that does not decode ends the walk
  } finally {
    file.close();
  }
  return endOffset;
}
