import { describe, expect, it } from 'vitest';
import { Random, sampleWithoutReplacement, shuffle } from './random';
import { loadReference } from '../analysis/testing/fixtures';

describe('Random (xoshiro128**)', () => {
  it('matches the reference generator outputs for given states', () => {
    for (const vector of loadReference().xoshiro128 as { state: number[]; outputs: number[]; skip: number }[]) {
      const [a, b, c, d] = vector.state;
      const rng = Random.fromState(a, b, c, d);
      for (let q = 0; q < vector.skip; q++) rng.nextUint32();
      const got = Array.from({ length: vector.outputs.length }, () => rng.nextUint32());
      expect(got).toEqual(vector.outputs);
    }
  });

  it('is reproducible from a seed; different seeds diverge', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const sa = Array.from({ length: 20 }, () => a.uniform());
    expect(Array.from({ length: 20 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.uniform())).not.toEqual(sa);
    expect(new Random('tiles').nextUint32()).toBe(new Random('tiles').nextUint32());
    expect(new Random(2 ** 32).nextUint32()).not.toBe(new Random(0).nextUint32());
  });

  it('uniform values lie in [0, 1) with the right mean, variance and spread', () => {
    const rng = new Random(1);
    const n = 200_000;
    const bins = new Float64Array(20);
    let sum = 0;
    let sumSquares = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSquares += u * u;
      bins[Math.floor(u * 20)]++;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.003);
    expect(Math.abs(sumSquares / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    // χ² with 19 degrees of freedom: the 99.9% quantile is 43.8.
    const expected = n / 20;
    const chi2 = bins.reduce((s, o) => s + ((o - expected) * (o - expected)) / expected, 0);
    expect(chi2).toBeLessThan(43.8);
  });

  it('normal deviates have mean 0, variance 1, skew 0, kurtosis 3', () => {
    const rng = new Random(2);
    const n = 200_000;
    const values = rng.fillNormal(new Float64Array(n));
    let m1 = 0;
    for (const v of values) m1 += v;
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of values) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    expect(Math.abs(m1)).toBeLessThan(0.01);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.015);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.03);
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.06);
    // About 68.3% within one standard deviation.
    const within = values.filter((v) => Math.abs(v) < 1).length / n;
    expect(Math.abs(within - 0.6827)).toBeLessThan(0.005);
  });

  it('int(n) is unbiased, including for n that does not divide 2^32', () => {
    const rng = new Random(3);
    const counts = new Float64Array(7);
    const n = 140_000;
    for (let i = 0; i < n; i++) counts[rng.int(7)]++;
    const expected = n / 7;
    const chi2 = counts.reduce((s, o) => s + ((o - expected) * (o - expected)) / expected, 0);
    expect(chi2).toBeLessThan(22.5); // 99.9% quantile, 6 degrees of freedom
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
  });

  it('shuffle is a permutation and every position is equally likely', () => {
    const array = Int32Array.from({ length: 50 }, (_, i) => i);
    shuffle(array, 9);
    expect(Array.from(array).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Element 0 lands in each of 4 slots ~equally often.
    const rng = new Random(4);
    const slots = new Float64Array(4);
    for (let t = 0; t < 40_000; t++) slots[rng.shuffle([0, 1, 2, 3]).indexOf(0)]++;
    for (const s of slots) expect(Math.abs(s - 10_000)).toBeLessThan(400);
  });

  it('sample draws distinct in-range values, uniformly, in both regimes', () => {
    for (const [n, k] of [
      [10, 10],
      [1000, 900],
      [1_000_000, 50],
      [5, 0],
    ]) {
      const s = sampleWithoutReplacement(n, k, 5);
      expect(s.length).toBe(k);
      expect(new Set(s).size).toBe(k);
      for (const v of s) expect(v < n).toBe(true);
    }
    // Inclusion frequency of each item: k/n for both the Floyd (small k) and Fisher–Yates paths.
    for (const [n, k] of [
      [100, 5],
      [10, 6],
    ]) {
      const rng = new Random(6);
      const hits = new Float64Array(n);
      const trials = 20_000;
      for (let t = 0; t < trials; t++) for (const v of rng.sample(n, k)) hits[v]++;
      const expected = (trials * k) / n;
      for (const h of hits) expect(Math.abs(h - expected) / expected).toBeLessThan(0.1);
    }
    expect(() => sampleWithoutReplacement(3, 4, 0)).toThrow(/cannot draw 4/);
  });
});
