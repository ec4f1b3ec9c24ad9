import seedrandom from 'seedrandom';

/** A seeded random source; every stochastic choice in the library goes through one. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** True with probability p. */
  bernoulli(p: number): boolean;
  /** Fisher-Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[];
  /** Pick one element. */
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number | string): Rng {
  const prng = seedrandom.alea(String(seed));
  const next = (): number => prng();
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo));
  return {
    next,
    int,
    normal(): number {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    bernoulli: (p: number): boolean => next() < p,
    shuffle<T>(items: readonly T[]): T[] {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('Rng.pick: empty list');
      return items[int(0, items.length)];
    },
  };
}

/** Derive an independent integer seed for a named sub-stream (e.g. "masks", "split"). */
export function subSeed(seed: number, stream: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A seed for tf.random* ops: tf.js takes seed 0 as "no seed" (a different draw every call), so 0
 * becomes a fixed non-zero value; every other seed passes unchanged (committed results stay the same).
 */
export function tfSeed(seed: number): number {
  return seed === 0 ? 0x9e3779b9 : seed;
}
