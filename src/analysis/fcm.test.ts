import { describe, expect, it } from 'vitest';
import { argmaxRows, fcm, fpcSweep, partitionCoefficient, randomPartition, type FcmResult } from './fcm';
import { Random } from '../util/random';
import { adjustedRandIndex } from './metrics';
import { loadFloat64, loadReference } from './testing/fixtures';

const reference = loadReference();

interface FcmCase {
  name: string;
  data: string;
  initialU: string;
  finalU: string | null;
  k: number;
  m: number;
  tol: number;
  maxIter: number;
  norm: 'frobenius' | 'max';
  converged: boolean;
  centres: number[];
  fpc: number;
  iterations: number;
  objective: number[];
  labels: number[];
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('fcm against the NumPy reference (same data, same initial U)', () => {
  for (const c of reference.fcm as FcmCase[]) {
    it(`${c.name}: K=${c.k}, m=${c.m}, tol=${c.tol}, ${c.norm} norm`, () => {
      const points = loadFloat64(c.data);
      const dims = points.length / c.labels.length;
      const result = fcm(points, dims, {
        k: c.k,
        m: c.m,
        tol: c.tol,
        maxIter: c.maxIter,
        norm: c.norm,
        initialU: loadFloat64(c.initialU),
      });
      expect(result.iterations).toBe(c.iterations);
      expect(result.converged).toBe(c.converged);
      expect(maxAbsDifference(result.centres, c.centres)).toBeLessThan(1e-6);
      expect(Math.abs(result.fpc - c.fpc)).toBeLessThan(1e-9);
      expect(Array.from(result.labels)).toEqual(c.labels);
      expect(result.objective.length).toBe(c.objective.length);
      for (let t = 0; t < c.objective.length; t++) {
        expect(Math.abs(result.objective[t] - c.objective[t]) / c.objective[t]).toBeLessThan(1e-9);
      }
      if (c.finalU) expect(maxAbsDifference(result.u, loadFloat64(c.finalU))).toBeLessThan(1e-9);
    });
  }

  it('accepts Float32 points (computes in float64 from the rounded values)', () => {
    const c = (reference.fcm as FcmCase[])[0];
    const points = loadFloat64(c.data);
    const single = Float32Array.from(points);
    const fromSingle = fcm(single, 2, { k: c.k, m: c.m, tol: c.tol, initialU: loadFloat64(c.initialU) });
    const fromDouble = fcm(Float64Array.from(single), 2, { k: c.k, m: c.m, tol: c.tol, initialU: loadFloat64(c.initialU) });
    expect(Array.from(fromSingle.centres)).toEqual(Array.from(fromDouble.centres));
    expect(maxAbsDifference(fromSingle.centres, c.centres)).toBeLessThan(1e-4);
  });
});

describe('fcm behaviour', () => {
  const blobs = loadFloat64('blobs2d');

  it('is reproducible from a seed, and different seeds give different starts', () => {
    const a = fcm(blobs, 2, { k: 3, seed: 7 });
    const b = fcm(blobs, 2, { k: 3, seed: 7 });
    expect(Array.from(a.u)).toEqual(Array.from(b.u));
    expect(Array.from(randomPartition(10, 3, 1))).not.toEqual(Array.from(randomPartition(10, 3, 2)));
  });

  it('a random partition has rows summing to 1', () => {
    const u = randomPartition(1000, 5, 3);
    for (let i = 0; i < 1000; i++) {
      let s = 0;
      for (let j = 0; j < 5; j++) {
        expect(u[i * 5 + j]).toBeGreaterThanOrEqual(0);
        s += u[i * 5 + j];
      }
      expect(Math.abs(s - 1)).toBeLessThan(1e-12);
    }
  });

  it('final memberships are a partition and FPC / labels agree with U', () => {
    const r = fcm(blobs, 2, { k: 4, m: 1.7, seed: 1 });
    for (let i = 0; i < r.u.length / 4; i++) {
      const s = r.u[i * 4] + r.u[i * 4 + 1] + r.u[i * 4 + 2] + r.u[i * 4 + 3];
      expect(Math.abs(s - 1)).toBeLessThan(1e-12);
    }
    expect(r.fpc).toBeCloseTo(partitionCoefficient(r.u, 4), 15);
    expect(Array.from(r.labels)).toEqual(Array.from(argmaxRows(r.u, 4)));
    expect(r.fpc).toBeGreaterThan(0.25);
    expect(r.fpc).toBeLessThanOrEqual(1);
  });

  it('one iteration equals the literal seed formulas (Math.pow) for every power shortcut', () => {
    const points = loadFloat64('blobs5d').subarray(0, 200 * 5);
    const initialU = randomPartition(200, 4, 8);
    for (const m of [1.1, 1.25, 1.3, 1.5, 1.7, 2, 3, 5, 21]) {
      const r = fcm(points, 5, { k: 4, m, maxIter: 1, initialU });
      // Literal equations (2) and (3) of seed 000.
      const centres = new Float64Array(20);
      for (let j = 0; j < 4; j++) {
        let weight = 0;
        for (let i = 0; i < 200; i++) {
          const w = Math.pow(initialU[i * 4 + j], m);
          weight += w;
          for (let t = 0; t < 5; t++) centres[j * 5 + t] += w * points[i * 5 + t];
        }
        for (let t = 0; t < 5; t++) centres[j * 5 + t] /= weight;
      }
      const dist = (i: number, j: number): number => {
        let s = 0;
        for (let t = 0; t < 5; t++) s += (points[i * 5 + t] - centres[j * 5 + t]) ** 2;
        return Math.sqrt(s);
      };
      for (let i = 0; i < 200; i++) {
        for (let j = 0; j < 4; j++) {
          let sum = 0;
          for (let q = 0; q < 4; q++) sum += Math.pow(dist(i, j) / dist(i, q), 2 / (m - 1));
          expect(Math.abs(r.u[i * 4 + j] - 1 / sum)).toBeLessThan(1e-12);
        }
      }
      for (let q = 0; q < 20; q++) expect(Math.abs(r.centres[q] - centres[q])).toBeLessThan(1e-12);
      // The objective of iteration 2 uses u^m from the shortcut r·w·S^(−m).
      const two = fcm(points, 5, { k: 4, m, maxIter: 2, initialU, tol: 1e-300 });
      let objective = 0;
      const next = fcm(points, 5, { k: 4, m, maxIter: 1, initialU: r.u });
      for (let i = 0; i < 200; i++) {
        for (let j = 0; j < 4; j++) {
          let s = 0;
          for (let t = 0; t < 5; t++) s += (points[i * 5 + t] - next.centres[j * 5 + t]) ** 2;
          objective += Math.pow(r.u[i * 4 + j], m) * s;
        }
      }
      expect(Math.abs(two.objective[1] - objective) / objective).toBeLessThan(1e-12);
    }
  });

  it('points lying exactly on a centre get membership 1 there (no NaN)', () => {
    // Hard initial U puts the centres exactly on the two point values.
    const points = Float64Array.from([0, 0, 0, 10, 10]);
    const initialU = Float64Array.from([1, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
    const r = fcm(points, 1, { k: 2, m: 2, initialU });
    expect(Array.from(r.centres)).toEqual([0, 10]);
    expect(Array.from(r.u)).toEqual([1, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
    expect(r.iterations).toBe(1);
    expect(r.fpc).toBe(1);
    // A point sitting on two coincident centres splits evenly between them.
    const twin = fcm(Float64Array.from([5, 5, 5]), 1, { k: 2, initialU: Float64Array.from([1, 0, 1, 0, 0, 1]) });
    expect(Array.from(twin.u)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('stays finite for m close to 1 and points near centres', () => {
    const r = fcm(blobs, 2, { k: 3, m: 1.02, seed: 3, maxIter: 50 });
    expect(r.u.every(Number.isFinite)).toBe(true);
    expect(r.fpc).toBeGreaterThan(0.99);
  });

  it('onIteration reports progress and can stop the run', () => {
    const seen: number[] = [];
    const r = fcm(blobs, 2, {
      k: 3,
      tol: 1e-12,
      seed: 2,
      onIteration: (info) => {
        seen.push(info.iteration);
        return info.iteration === 4 ? 'stop' : undefined;
      },
    });
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(r.stopped).toBe(true);
    expect(r.iterations).toBe(4);
    expect(r.objective.length).toBe(4);
  });

  it('nInit keeps the start with the lowest objective and escapes local minima', () => {
    // Five groups on a line, the last one further out: like a latent code
    // ordered by expression level. A few single starts merge two groups and split another.
    const rng = new Random(11);
    const points: number[] = [];
    const truth: number[] = [];
    [0, 1, 2, 3, 4.5].forEach((centre, group) => {
      for (let i = 0; i < 200; i++) {
        const t = centre + 0.12 * rng.normal();
        points.push(t, 0.5 * t + 0.05 * rng.normal());
        truth.push(group);
      }
    });
    const x = Float64Array.from(points);
    const truthLabels = Int32Array.from(truth);
    const finalJ = (r: FcmResult) => r.objective[r.objective.length - 1];
    let singleFailures = 0;
    let multiFailures = 0;
    for (let seed = 0; seed < 40; seed++) {
      if (adjustedRandIndex(truthLabels, fcm(x, 2, { k: 5, seed }).labels) < 0.95) singleFailures++;
      if (adjustedRandIndex(truthLabels, fcm(x, 2, { k: 5, seed, nInit: 10 }).labels) < 0.95) multiFailures++;
    }
    expect(singleFailures).toBeGreaterThan(0);
    expect(multiFailures).toBe(0);

    const best = fcm(x, 2, { k: 5, seed: 3, nInit: 4 });
    const starts = [fcm(x, 2, { k: 5, seed: 3 }), ...[1, 2, 3].map((i) => fcm(x, 2, { k: 5, seed: `3/${i}` }))];
    expect(finalJ(best)).toBe(Math.min(...starts.map(finalJ)));
    // With an explicit initial U there is nothing to restart.
    const u = randomPartition(x.length / 2, 5, 1);
    expect(Array.from(fcm(x, 2, { k: 5, initialU: u, nInit: 5 }).u)).toEqual(Array.from(fcm(x, 2, { k: 5, initialU: u }).u));
    expect(() => fcm(x, 2, { k: 5, nInit: 0 })).toThrow(/nInit/);
  });

  it('the objective never increases (alternating optimisation)', () => {
    const r = fcm(blobs, 2, { k: 5, m: 1.6, tol: 1e-8, seed: 5, maxIter: 200 });
    for (let t = 1; t < r.objective.length; t++) expect(r.objective[t]).toBeLessThanOrEqual(r.objective[t - 1] * (1 + 1e-12));
  });

  it('rejects bad inputs with clear messages', () => {
    const pts = Float64Array.from([0, 0, 1, 1, 2, 2]);
    expect(() => fcm(pts, 2, { k: 1 })).toThrow(/K must be an integer ≥ 2/);
    expect(() => fcm(pts, 2, { k: 4 })).toThrow(/needs at least 4 points/);
    expect(() => fcm(pts, 2, { k: 2, m: 1 })).toThrow(/m must be a finite number > 1/);
    expect(() => fcm(pts, 2, { k: 2, tol: 0 })).toThrow(/tol must be/);
    expect(() => fcm(pts, 2, { k: 2, maxIter: 0 })).toThrow(/maxIter/);
    expect(() => fcm(Float64Array.from([0, NaN, 1, 1]), 2, { k: 2 })).toThrow(/row 0, column 1 is not finite/);
    expect(() => fcm(Float64Array.from([0, 1, 2]), 2, { k: 2 })).toThrow(/not a multiple/);
    expect(() => fcm(pts, 2, { k: 2, initialU: new Float64Array(5) })).toThrow(/initialU must have/);
    expect(() => fcm(pts, 2, { k: 2, initialU: Float64Array.from([1, 0, 0, 0, 1, 0]) })).toThrow(/row 1 sums to 0/);
    expect(() => fcm(pts, 2, { k: 2, initialU: Float64Array.from([1, 0, 1, 0, 1, 0]) })).toThrow(/cluster 1 has zero/);
  });
});

describe('fpcSweep', () => {
  it('matches fcm for each K with the same seed and peaks at the true K for 3 blobs', () => {
    const blobs = loadFloat64('blobs2d');
    const sweep = fpcSweep(blobs, 2, { kRange: [2, 3, 4, 5, 6], seed: 11, m: 2 });
    expect(Array.from(sweep.k)).toEqual([2, 3, 4, 5, 6]);
    for (let q = 0; q < sweep.k.length; q++) {
      const single = fcm(blobs, 2, { k: sweep.k[q], seed: 11, m: 2 });
      expect(sweep.fpc[q]).toBe(single.fpc);
      expect(sweep.iterations[q]).toBe(single.iterations);
    }
    // FPC is highest at K = 3 for three well separated blobs and falls beyond it.
    expect(sweep.fpc[1]).toBeGreaterThan(sweep.fpc[2]);
    expect(sweep.fpc[2]).toBeGreaterThan(sweep.fpc[4]);
  });

  it('drops K values larger than n', () => {
    const sweep = fpcSweep(Float64Array.from([0, 1, 5, 6]), 1, { kRange: [2, 3, 4, 5, 6] });
    expect(Array.from(sweep.k)).toEqual([2, 3, 4]);
  });
});

describe('fcm speed', () => {
  it('100k 2-D points, K = 7: 10 iterations well under a second', () => {
    const n = 100_000;
    const points = new Float64Array(n * 2);
    for (let i = 0; i < points.length; i++) points[i] = Math.sin(i * 12.9898) * 43758.5453 % 10;
    fcm(points, 2, { k: 7, m: 1.5, tol: 1e-12, maxIter: 2, seed: 1 }); // warm-up
    const start = performance.now();
    const r = fcm(points, 2, { k: 7, m: 1.5, tol: 1e-12, maxIter: 10, seed: 1 });
    const elapsed = performance.now() - start;
    expect(r.iterations).toBe(10);
    // Generous bound for slow CI; typically ~10× faster.
    expect(elapsed).toBeLessThan(1000);
  });
});
