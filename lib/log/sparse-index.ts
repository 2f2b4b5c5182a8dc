// A sparse, append-only index file of fixed-size entries sorted by key, mirrored in memory for
// binary search. `.index` and `.timeindex` are both this with different layouts. Indexes are derived
// data: no checksum, rebuilt by recovery whenever a sanity check fails.
import { assert } from "../assert.ts";
import type { StorageFile } from "../storage/storage.ts";

export interface IndexLayout {
  entryBytes: number;
  /** Encodes an entry; key and value are absolute (the layout makes them relative). */
  write(view: DataView, position: number, key: number, value: number): void;
  read(view: DataView, position: number): { key: number; value: number };
}

/** What a sane index file may hold: keys from `keyMin`, values within [valueMin, valueMax]. */
export interface IndexBounds {
  keyMin: number;
  valueMin: number;
  valueMax: number;
}

export interface IndexEntry {
  key: number;
  value: number;
}

const INITIAL_CAPACITY = 64;
/**
 * Entries kept in memory before they are written out in one go. Kafka maps its index files into
 * memory; batching the writes gives the same effect without a system call per entry. An index is
 * derived data, so entries lost in a crash only make a lookup scan a little further.
 */
const PENDING_ENTRIES_MAX = 256;

export class SparseIndex {
  #keys = new Float64Array(INITIAL_CAPACITY);
  #values = new Float64Array(INITIAL_CAPACITY);
  #count = 0;
  /** Entries [0, #persisted) are in the file; the rest wait for persist(). */
  #persisted = 0;

  constructor(
    readonly file: StorageFile,
    readonly layout: IndexLayout,
  ) {}

  get count(): number {
    return this.#count;
  }

  last(): IndexEntry | undefined {
    if (this.#count === 0) return undefined;
    return { key: this.#keys[this.#count - 1]!, value: this.#values[this.#count - 1]! };
  }

  entry(i: number): IndexEntry {
    assert(i >= 0 && i < this.#count, `index entry ${i} out of range`);
    return { key: this.#keys[i]!, value: this.#values[i]! };
  }

  /**
   * Loads the file into memory. Returns false when it fails the sanity check (size not a multiple
   * of the entry size, keys not strictly increasing, values decreasing or outside `bounds`, a field
   * that does not decode), so the caller rebuilds it.
   */
  load(bounds: IndexBounds): boolean {
    const sizeBytes = this.file.size();
    this.#count = 0;
    if (sizeBytes % this.layout.entryBytes !== 0) return false;
    const bytes = new Uint8Array(sizeBytes);
    if (this.file.readInto(0, bytes) !== sizeBytes) return false;
    const view = new DataView(bytes.buffer);
    for (let position = 0; position < sizeBytes; position += this.layout.entryBytes) {
      let entry: IndexEntry;
      try {
        entry = this.layout.read(view, position);
      } catch {
        // An int64 outside the safe range: garbage, so the file is rebuilt rather than trusted.
        this.#count = 0;
        return false;
      }
      const { key, value } = entry;
      const previous = this.last();
      const ordered = previous === undefined || (key > previous.key && value >= previous.value);
      const inBounds = key >= bounds.keyMin && value >= bounds.valueMin && value <= bounds.valueMax;
      if (!ordered || !inBounds) {
        this.#count = 0;
        return false;
      }
      this.#push(key, value);
    }
    this.#persisted = this.#count;
    return true;
  }

  /** Appends an entry; keys must grow strictly. */
  append(key: number, value: number): void {
    const previous = this.last();
    assert(
      previous === undefined || key > previous.key,
      `index key ${key} does not grow past ${previous?.key}`,
    );
    this.#push(key, value);
    if (this.#count - this.#persisted >= PENDING_ENTRIES_MAX) this.persist();
  }

  #push(key: number, value: number): void {
    if (this.#count === this.#keys.length) {
      const keys = new Float64Array(this.#count * 2);
      const values = new Float64Array(this.#count * 2);
      keys.set(this.#keys);
      values.set(this.#values);
      this.#keys = keys;
      this.#values = values;
    }
    this.#keys[this.#count] = key;
    this.#values[this.#count] = value;
    this.#count++;
  }

  /** The entry with the largest key <= target, or undefined when every key is larger. */
  floor(target: number): IndexEntry | undefined {
    let low = 0;
    let high = this.#count - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.#keys[mid]! <= target) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found < 0 ? undefined : { key: this.#keys[found]!, value: this.#values[found]! };
  }

  /** Drops the trailing entries that match `predicate`, in memory and on disk. */
  truncateFrom(predicate: (entry: IndexEntry) => boolean): void {
    let keep = this.#count;
    while (keep > 0 && predicate({ key: this.#keys[keep - 1]!, value: this.#values[keep - 1]! })) keep--;
    this.truncateToCount(keep);
  }

  /** Keeps only the first `count` entries. */
  truncateToCount(count: number): void {
    if (count >= this.#count) return;
    this.#count = count;
    if (count < this.#persisted) {
      this.file.truncate(count * this.layout.entryBytes);
      this.#persisted = count;
    }
  }

  /** Writes the entries still held in memory to the file, in one write. */
  persist(): void {
    const pending = this.#count - this.#persisted;
    if (pending === 0) return;
    const bytes = new Uint8Array(pending * this.layout.entryBytes);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < pending; i++) {
      const entry = this.#persisted + i;
      this.layout.write(view, i * this.layout.entryBytes, this.#keys[entry]!, this.#values[entry]!);
    }
    this.file.append(bytes);
    this.#persisted = this.#count;
  }

  reset(): void {
    this.truncateToCount(0);
    this.file.truncate(0);
  }
}
