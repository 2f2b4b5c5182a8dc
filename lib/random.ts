// One small seeded PRNG (mulberry32) for everything that must replay from a seed: torn writes in the
// fault-injecting storage, test inputs, benchmark payloads. Not for anything security-related.

/** An integer in [0, 2^32) per call; the same sequence for the same seed. */
export function seededUint32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A float in [0, 1) per call; the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 0x1_0000_0000;
}
