/**
 * A small deterministic PRNG (sfc32 seeded through splitmix32) so a workload is reproducible from
 * its seed on every machine and Node version; Math.random is neither.
 */

export interface Prng {
  /** Next unsigned 32-bit integer. */
  next(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** A PRNG whose sequence depends only on `seed` (any 32-bit integer). */
export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new Error(`PRNG seed ${seed} must be an integer`);
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // let the state mix before use
  const prng: Prng = {
    next,
    float: () => next() / 4294967296,
    int(min: number, max: number): number {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) throw new Error(`PRNG range [${min}, ${max}] is not a valid integer range`);
      return min + Math.floor(prng.float() * (max - min + 1));
    },
    chance: (p: number) => prng.float() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('PRNG pick from an empty list');
      return items[Math.floor(prng.float() * items.length)] as T;
    },
  };
  return prng;
}
