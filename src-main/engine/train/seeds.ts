// Seeds derived from the run seed for things that must differ per step but repeat exactly on resume.

/** 32-bit mix of the inputs (murmur3 finaliser over a running hash). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // the high word of large step counts
    h = Math.imul(h ^ Math.floor(part / 2 ** 32), 0x27d4eb2d);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** The seed of the dropout mask of chain layer `layerIndex` at global step `step`. */
export function dropoutSeed(runSeed: number, step: number, layerIndex: number): number {
  return deriveSeed(runSeed, 0x64726f70, step, layerIndex);
}
