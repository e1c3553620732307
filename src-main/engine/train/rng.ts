// xoshiro128** seeded through splitmix32: a small PRNG whose whole state is four 32-bit words.
export interface RngState {
  algorithm: 'xoshiro128**';
  s: [number, number, number, number];
}

export interface SeededRandom {
  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  nextInt(n: number): number;
  getState(): RngState;
}

export function createRandom(seed: number): SeededRandom {
  let x = seed >>> 0;
  const splitmix = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return restoreRandom({ algorithm: 'xoshiro128**', s: [splitmix(), splitmix(), splitmix(), splitmix()] });
}

export function restoreRandom(state: RngState): SeededRandom {
  if (state.algorithm !== 'xoshiro128**' || state.s.length !== 4) throw new Error(`unknown PRNG state ${JSON.stringify(state)}`);
  const s = Uint32Array.from(state.s);
  if (s.every((w) => w === 0)) s[0] = 1; // the all-zero state is a fixed point
  const rotl = (v: number, k: number) => (v << k) | (v >>> (32 - k));
  const nextUint32 = () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  return {
    nextInt(n: number): number {
      if (!(Number.isInteger(n) && n >= 1 && n <= 2 ** 32)) throw new Error(`nextInt: n must be a whole number in [1, 2^32], got ${n}`);
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const r = nextUint32();
        if (r < limit) return r % n;
      }
    },
    getState: () => ({ algorithm: 'xoshiro128**', s: [s[0], s[1], s[2], s[3]] }),
  };
}
