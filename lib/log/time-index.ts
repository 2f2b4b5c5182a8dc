// `.timeindex`: sparse map from timestamp to offset within one segment.
//
// Entry, 12 bytes: offset size field
//                       0    8 timestamp        largest record timestamp seen so far in the segment
//                       8    4 relativeOffset   last offset of the batch that carried it - baseOffset
//
// Entries are written only when the largest timestamp grows, and once more when the segment closes,
// so timestamps are strictly increasing and a lookup is a binary search.
import type { StorageFile } from "../storage/storage.ts";
import { readInt64, writeInt64 } from "./record-batch.ts";
import { type IndexLayout, SparseIndex } from "./sparse-index.ts";

export const TIME_INDEX_ENTRY_BYTES = 12;
const TIMESTAMP_OFFSET = 0;
const RELATIVE_OFFSET_OFFSET = 8;

function timeLayout(baseOffset: number): IndexLayout {
  return {
    entryBytes: TIME_INDEX_ENTRY_BYTES,
    write(view, at, timestamp, offset) {
      writeInt64(view, at + TIMESTAMP_OFFSET, timestamp);
      view.setInt32(at + RELATIVE_OFFSET_OFFSET, offset - baseOffset);
    },
    read(view, at) {
      return {
        key: readInt64(view, at + TIMESTAMP_OFFSET),
        value: baseOffset + view.getInt32(at + RELATIVE_OFFSET_OFFSET),
      };
    },
  };
}

export class TimeIndex {
  readonly index: SparseIndex;

  constructor(
    file: StorageFile,
    readonly baseOffset: number,
  ) {
    this.index = new SparseIndex(file, timeLayout(baseOffset));
  }

  /** Loads from disk; false means the file failed its sanity check and must be rebuilt. */
  load(nextOffset: number): boolean {
    // Every entry names an offset of this segment; timestamps may be anything a producer sent.
    return this.index.load({
      keyMin: Number.MIN_SAFE_INTEGER,
      valueMin: this.baseOffset,
      valueMax: nextOffset - 1,
    });
  }

  /** Adds (timestamp, offset) when the timestamp is larger than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.index.last();
    if (last !== undefined && timestamp <= last.key) return;
    if (last !== undefined && offset < last.value) return;
    this.index.append(timestamp, offset);
  }

  /** The offset to start looking from for records at or after `timestamp`. */
  lookup(timestamp: number): number {
    return this.index.floor(timestamp)?.value ?? this.baseOffset;
  }

  lastEntry(): { timestamp: number; offset: number } | undefined {
    const last = this.index.last();
    return last && { timestamp: last.key, offset: last.value };
  }

  /** Drops entries at or past `offset` (after the log is truncated there). */
  truncateToOffset(offset: number): void {
    this.index.truncateFrom((entry) => entry.value >= offset);
  }

  reset(): void {
    this.index.reset();
  }
}
