/**
 * Seedable pseudo-random numbers. Everything random in Tilescope takes a seed
 * and draws from one of these, so runs are reproducible in workers, tests and
 * the CLI alike.
 *
 * Generator: xoshiro128** (32-bit state words, period 2^128 − 1), seeded by
 * expanding the user's seed with splitmix32 so that nearby seeds (0, 1, 2 …)
 * give unrelated streams.
 */

/** Anything that can act as a seed: an integer (only the low 32 bits count) or a string. */
export type Seed = number | string;

function seedToUint32(seed: Seed): number {
  if (typeof seed === 'string') {
    // FNV-1a over UTF-16 code units: stable across platforms.
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  }
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  // Keep the low 32 bits of the integer part, and fold in higher bits so 2^32 ≠ 0.
  const integer = Math.trunc(seed);
  const low = integer >>> 0;
  const high = Math.floor(integer / 4294967296) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b9)) >>> 0;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second value of the last polar-method pair, or NaN when none is cached. */
  private spareNormal = NaN;

  constructor(seed: Seed = 0) {
    let x = seedToUint32(seed);
    // splitmix32 expands one word into four well-mixed state words.
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // An all-zero state would be a fixed point of xoshiro.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with an explicit xoshiro128** state (for checks against the reference C code). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Random {
    if (((s0 | s1 | s2 | s3) >>> 0) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    const rng = new Random(0);
    rng.s0 = s0 >>> 0;
    rng.s1 = s1 >>> 0;
    rng.s2 = s2 >>> 0;
    rng.s3 = s3 >>> 0;
    return rng;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const t = s1 << 9;
    // result = rotl(s1 * 5, 7) * 9
    const a = Math.imul(s1, 5);
    const result = Math.imul((a << 7) | (a >>> 25), 9) >>> 0;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform double in [low, high). */
  uniformRange(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n must be in [1, 2^32]. */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296) || !Number.isInteger(n)) {
      throw new RangeError(`int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    }
    // Largest multiple of n that fits in 2^32; draws above it would bias the modulo.
    const limit = 4294967296 - (4294967296 % n);
    let r = this.nextUint32();
    while (r >= limit) r = this.nextUint32();
    return r % n;
  }

  /** Standard normal deviate (Marsaglia polar method; pairs are cached). */
  normal(mean = 0, sd = 1): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal;
      this.spareNormal = NaN;
      return mean + sd * z;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * factor;
    return mean + sd * u * factor;
  }

  /** Fills `out` with uniform [0, 1) values and returns it. */
  fillUniform<T extends Float32Array | Float64Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }

  /** Fills `out` with N(mean, sd²) values and returns it. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, sd = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, sd);
    return out;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /**
   * `k` distinct integers from [0, n), in random order.
   * Uses a partial Fisher–Yates when k is a large share of n, and Floyd's
   * algorithm (O(k) memory) when k is small against n.
   */
  sample(n: number, k: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0 || n > 4294967295) {
      throw new RangeError(`sample: population size must be an integer in [0, 2^32), got ${n}`);
    }
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`sample: cannot draw ${k} distinct items from ${n}`);
    }
    const out = new Uint32Array(k);
    if (k === 0) return out;
    if (k * 8 >= n) {
      const pool = new Uint32Array(n);
      for (let i = 0; i < n; i++) pool[i] = i;
      for (let i = 0; i < k; i++) {
        const j = i + this.int(n - i);
        const tmp = pool[i];
        pool[i] = pool[j];
        pool[j] = tmp;
        out[i] = pool[i];
      }
      return out;
    }
    const chosen = new Set<number>();
    for (let j = n - k, i = 0; j < n; j++, i++) {
      const t = this.int(j + 1);
      const pick = chosen.has(t) ? j : t;
      chosen.add(pick);
      out[i] = pick;
    }
    // Floyd's order is biased towards late picks at the end; shuffle to make it random.
    return this.shuffle(out);
  }
}

/** Shorthand for `new Random(seed)`. */
export function createRandom(seed: Seed = 0): Random {
  return new Random(seed);
}

/** Shuffles `array` in place with a fresh generator seeded by `seed`. */
export function shuffle<T extends { length: number; [index: number]: unknown }>(array: T, seed: Seed): T {
  return new Random(seed).shuffle(array);
}

/** `k` distinct integers from [0, n) in random order, reproducible from `seed`. */
export function sampleWithoutReplacement(n: number, k: number, seed: Seed): Uint32Array {
  return new Random(seed).sample(n, k);
}
