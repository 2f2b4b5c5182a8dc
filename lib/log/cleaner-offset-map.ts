// The log cleaner's key → latest offset map over a log's dirty section (Kafka's SkimpyOffsetMap).
// Kafka keeps a 16-byte MD5 of each key and accepts the odd collision; this map keeps the key bytes
// themselves, so two keys never share an entry, and bounds memory by counting what entries cost.
import { assert } from "../assert.ts";
import { CLEANER_OFFSET_MAP_BYTES_MAX, CLEANER_OFFSET_MAP_ENTRY_OVERHEAD_BYTES } from "../limits.ts";

/** Key bytes as a string, one char per byte (latin1 is a bijection), usable as a Map key. */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

export class OffsetMap {
  readonly #offsets = new Map<string, number>();
  #bytes = 0;

  constructor(readonly bytesMax = CLEANER_OFFSET_MAP_BYTES_MAX) {}

  /** Records `offset` as the latest for `key`; offsets arrive in log order, so the last put wins. */
  put(key: Uint8Array, offset: number): void {
    const text = keyString(key);
    const previous = this.#offsets.get(text);
    assert(previous === undefined || previous < offset, `offset ${offset} for a key already at ${previous}`);
    if (previous === undefined) this.#bytes += key.length + CLEANER_OFFSET_MAP_ENTRY_OVERHEAD_BYTES;
    this.#offsets.set(text, offset);
  }

  /** The latest offset seen for `key`, or undefined when the dirty section does not hold it. */
  latestOffset(key: Uint8Array): number | undefined {
    return this.#offsets.get(keyString(key));
  }

  get size(): number {
    return this.#offsets.size;
  }

  /** Estimated memory in use. */
  get bytes(): number {
    return this.#bytes;
  }

  get isFull(): boolean {
    return this.#bytes >= this.bytesMax;
  }
}
