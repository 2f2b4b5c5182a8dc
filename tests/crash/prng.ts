// A small seeded PRNG (mulberry32), so a crash run that fails can be replayed from its seed.

import { seededUint32 } from "../../lib/random.ts";

export class Prng {
  readonly #next: () => number;

  constructor(readonly seed: number) {
    this.#next = seededUint32(seed);
  }

  /** An integer in [0, 2^32). */
  nextUint32(): number {
    return this.#next();
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [min, max]. */
  intBetween(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Fills `bytes` with random bytes, four per draw. */
  fill(bytes: Uint8Array): Uint8Array {
    for (let i = 0; i < bytes.length; i += 4) {
      let word = this.nextUint32();
      for (let j = i; j < Math.min(i + 4, bytes.length); j++) {
        bytes[j] = word & 0xff;
        word >>>= 8;
      }
    }
    return bytes;
  }
}
