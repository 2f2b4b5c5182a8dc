// Kafka's default partitioner, so a keyed record lands on the same partition number it would in
// Kafka: murmur2 of the key bytes, made positive, modulo the partition count. Records without a key
// stick to one partition until a batch is done, then move on (KIP-480 sticky partitioning).

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's Utils.murmur2: a signed 32-bit hash of `data`. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const at = i * 4;
    let k = data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // The 1-3 trailing bytes, as Kafka's switch with fall-through mixes them.
  const tail = words * 4;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails for int32 min). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/** The partition Kafka's producer picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/**
 * Picks partitions for keyless records: the same one for a whole produce request, a different
 * random one for the next, per topic.
 */
export class StickyPartitioner {
  readonly #current = new Map<string, number>();

  constructor(readonly random: () => number = Math.random) {}

  partition(topic: string, partitionCount: number): number {
    const current = this.#current.get(topic);
    if (current !== undefined && current < partitionCount) return current;
    const chosen = Math.floor(this.random() * partitionCount);
    this.#current.set(topic, chosen);
    return chosen;
  }

  /** A batch for `topic` was sent: the next keyless record goes to another partition. */
  batchDone(topic: string, partitionCount: number): void {
    const previous = this.#current.get(topic);
    if (partitionCount <= 1 || previous === undefined) {
      this.#current.delete(topic);
      return;
    }
    const offset = 1 + Math.floor(this.random() * (partitionCount - 1));
    this.#current.set(topic, (previous + offset) % partitionCount);
  }
}
