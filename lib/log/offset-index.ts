// `.index`: sparse map from offset to file position within one segment.
//
// Entry, 8 bytes:  offset size field
//                       0    4 relativeOffset   lastOffset of the batch - segment baseOffset
//                       4    4 position         byte position of that batch in the .log
//
// Entry (O, P) says: the batch starting at byte P ends at offset O. A lookup for offset T takes the
// largest O <= T and scans forward from P; with no such entry it starts at the segment's byte 0.
import type { StorageFile } from "../storage/storage.ts";
import { type IndexLayout, SparseIndex } from "./sparse-index.ts";

export const OFFSET_INDEX_ENTRY_BYTES = 8;
const RELATIVE_OFFSET_OFFSET = 0;
const POSITION_OFFSET = 4;

function offsetLayout(baseOffset: number): IndexLayout {
  return {
    entryBytes: OFFSET_INDEX_ENTRY_BYTES,
    write(view, at, offset, position) {
      view.setInt32(at + RELATIVE_OFFSET_OFFSET, offset - baseOffset);
      view.setInt32(at + POSITION_OFFSET, position);
    },
    read(view, at) {
      return {
        key: baseOffset + view.getInt32(at + RELATIVE_OFFSET_OFFSET),
        value: view.getInt32(at + POSITION_OFFSET),
      };
    },
  };
}

export class OffsetIndex {
  readonly index: SparseIndex;

  constructor(
    file: StorageFile,
    readonly baseOffset: number,
  ) {
    this.index = new SparseIndex(file, offsetLayout(baseOffset));
  }

  /** Loads from disk; false means the file failed its sanity check and must be rebuilt. */
  load(logSizeBytes: number): boolean {
    // Every entry points at a batch that starts inside the log and ends in this segment.
    return this.index.load({ keyMin: this.baseOffset, valueMin: 0, valueMax: logSizeBytes - 1 });
  }

  append(lastOffset: number, position: number): void {
    this.index.append(lastOffset, position);
  }

  /** Byte position to start scanning from for `targetOffset`. */
  lookup(targetOffset: number): { offset: number; position: number } {
    const entry = this.index.floor(targetOffset);
    return entry ? { offset: entry.key, position: entry.value } : { offset: this.baseOffset, position: 0 };
  }

  /** Drops entries for batches at or past `position` (after the log is truncated there). */
  truncateToPosition(position: number): void {
    this.index.truncateFrom((entry) => entry.value >= position);
  }

  reset(): void {
    this.index.reset();
  }
}
