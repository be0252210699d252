import { describe, expect, it } from 'vitest';
import { pca, pcaTransform, symmetricEigen } from './pca';
import { Random } from '../util/random';
import { loadFloat64, loadReference } from './testing/fixtures';

interface PcaCase {
  name: string;
  data: string;
  k: number;
  mean: number[];
  components: number[];
  explainedVariance: number[];
  explainedVarianceRatio: number[];
  projected: string;
}

describe('pca against scikit-learn PCA(svd_solver="full")', () => {
  for (const c of loadReference().pca as PcaCase[]) {
    it(c.name, () => {
      const points = loadFloat64(c.data);
      const dims = c.mean.length;
      const n = points.length / dims;
      const r = pca(points, dims, { components: c.k });
      for (let t = 0; t < dims; t++) expect(r.mean[t]).toBeCloseTo(c.mean[t], 12);
      for (let q = 0; q < c.k; q++) {
        expect(Math.abs(r.explainedVariance[q] - c.explainedVariance[q]) / c.explainedVariance[q]).toBeLessThan(1e-10);
        expect(Math.abs(r.explainedVarianceRatio[q] - c.explainedVarianceRatio[q])).toBeLessThan(1e-12);
        // Components and projections agree up to one sign per component.
        const sign = Math.sign(r.components[q * dims] * c.components[q * dims]) || 1;
        for (let t = 0; t < dims; t++) {
          expect(Math.abs(r.components[q * dims + t] - sign * c.components[q * dims + t])).toBeLessThan(1e-9);
        }
        const expected = loadFloat64(c.projected);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(r.projected[i * c.k + q] - sign * expected[i * c.k + q]));
        expect(worst).toBeLessThan(1e-9);
      }
    });
  }

  it('sign convention: the largest-magnitude loading of each component is positive', () => {
    const c = loadReference().pca[1] as PcaCase;
    const points = loadFloat64(c.data);
    const r = pca(points, 12, { components: 5 });
    for (let q = 0; q < 5; q++) {
      const row = Array.from(r.components.slice(q * 12, q * 12 + 12));
      const largest = row.reduce((best, v) => (Math.abs(v) > Math.abs(best) ? v : best), 0);
      expect(largest).toBeGreaterThan(0);
    }
    // Transforming new points uses the same model.
    expect(Array.from(pcaTransform(r, points.slice(0, 24)))).toEqual(Array.from(r.projected.slice(0, 10)));
  });
});

describe('symmetricEigen', () => {
  it('reconstructs random symmetric matrices: A·v = λ·v, V orthonormal, λ descending', () => {
    const rng = new Random(5);
    for (const d of [1, 2, 3, 10, 40]) {
      const a = new Float64Array(d * d);
      for (let i = 0; i < d; i++) {
        for (let j = i; j < d; j++) {
          const v = rng.normal();
          a[i * d + j] = v;
          a[j * d + i] = v;
        }
      }
      const { values, vectors } = symmetricEigen(a, d);
      for (let q = 1; q < d; q++) expect(values[q]).toBeLessThanOrEqual(values[q - 1]);
      for (let q = 0; q < d; q++) {
        for (let i = 0; i < d; i++) {
          let av = 0;
          for (let j = 0; j < d; j++) av += a[i * d + j] * vectors[q * d + j];
          expect(Math.abs(av - values[q] * vectors[q * d + i])).toBeLessThan(1e-10);
        }
        for (let p = 0; p < d; p++) {
          let dot = 0;
          for (let t = 0; t < d; t++) dot += vectors[q * d + t] * vectors[p * d + t];
          expect(Math.abs(dot - (p === q ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('handles repeated eigenvalues and diagonal input', () => {
    const { values } = symmetricEigen([2, 0, 0, 0, 5, 0, 0, 0, 2], 3);
    expect(Array.from(values)).toEqual([5, 2, 2]);
  });

  it('rejects bad input', () => {
    expect(() => pca(Float64Array.from([1, 2]), 2)).toThrow(/at least 2 points/);
    expect(() => pca(Float64Array.from([1, 2, 3, 4]), 2, { components: 3 })).toThrow(/components/);
  });
});
