import { describe, expect, it } from 'vitest';
import { kmeans, kmeansPlusPlus } from './kmeans';
import { adjustedRandIndex } from './metrics';
import { loadFloat64, loadReference } from './testing/fixtures';

const reference = loadReference();

interface KMeansCase {
  name: string;
  data: string;
  k: number;
  init: number[];
  inertia: number;
  centres: number[];
  labels: number[];
  iterations: number;
}

describe('kmeans against scikit-learn (Lloyd, same initial centres)', () => {
  for (const c of reference.kmeans as KMeansCase[]) {
    it(c.name, () => {
      const points = loadFloat64(c.data);
      const dims = points.length / c.labels.length;
      const r = kmeans(points, dims, { k: c.k, init: Float64Array.from(c.init) });
      expect(Math.abs(r.inertia - c.inertia) / c.inertia).toBeLessThan(1e-10);
      for (let q = 0; q < c.centres.length; q++) expect(Math.abs(r.centres[q] - c.centres[q])).toBeLessThan(1e-9);
      expect(Array.from(r.labels)).toEqual(c.labels);
      expect(r.iterations).toBe(c.iterations);
      expect(r.converged).toBe(true);
    });
  }
});

describe('kmeans behaviour', () => {
  const blobs = loadFloat64('blobs2d');
  const truth = reference.blobs2dLabels as number[];

  it('k-means++ with n_init finds the three blobs, reproducibly', () => {
    const a = kmeans(blobs, 2, { k: 3, nInit: 4, seed: 1 });
    const b = kmeans(blobs, 2, { k: 3, nInit: 4, seed: 1 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(adjustedRandIndex(truth, a.labels)).toBeGreaterThan(0.95);
  });

  it('more restarts never give a worse inertia than the first run alone', () => {
    for (let seed = 0; seed < 5; seed++) {
      const one = kmeans(blobs, 2, { k: 6, nInit: 1, seed });
      const many = kmeans(blobs, 2, { k: 6, nInit: 5, seed });
      expect(many.inertia).toBeLessThanOrEqual(one.inertia);
    }
  });

  it('k-means++ picks distinct data points, spread over the blobs', () => {
    const centres = kmeansPlusPlus(blobs, 2, 3, 7);
    const rows = new Set<string>();
    for (let j = 0; j < 3; j++) {
      let found = false;
      for (let i = 0; i < blobs.length / 2; i++) {
        if (blobs[2 * i] === centres[2 * j] && blobs[2 * i + 1] === centres[2 * j + 1]) found = true;
      }
      expect(found).toBe(true);
      rows.add(`${centres[2 * j]},${centres[2 * j + 1]}`);
    }
    expect(rows.size).toBe(3);
  });

  it('empty clusters are refilled, so every cluster ends non-empty', () => {
    const points = Float64Array.from([0, 0, 0.1, 0, 10, 10, 10.1, 10, 5, 5]);
    // Third centre is far from everything and starts empty.
    const r = kmeans(points, 2, { k: 3, init: Float64Array.from([0, 0, 10, 10, 1000, 1000]) });
    const used = new Set(r.labels);
    expect(used.size).toBe(3);
    expect(r.inertia).toBeLessThan(60);
  });

  it('handles duplicate points and K = n', () => {
    const points = Float64Array.from([1, 1, 1, 1, 1, 1]);
    expect(kmeans(points, 2, { k: 2, seed: 0 }).inertia).toBe(0);
    const spread = Float64Array.from([0, 1, 2, 3]);
    expect(kmeans(spread, 1, { k: 4, seed: 0 }).inertia).toBe(0);
  });

  it('validates inputs', () => {
    expect(() => kmeans(blobs, 2, { k: 0 })).toThrow(/K must be/);
    expect(() => kmeans(Float64Array.from([0, 1]), 1, { k: 3 })).toThrow(/needs at least 3 points/);
    expect(() => kmeans(blobs, 2, { k: 2, init: new Float64Array(3) })).toThrow(/init centres/);
  });
});
