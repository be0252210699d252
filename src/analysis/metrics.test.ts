import { describe, expect, it } from 'vitest';
import {
  adjustedRandIndex,
  averageRanks,
  confusionMatrix,
  contingencyTable,
  daviesBouldinScore,
  homogeneityCompletenessVMeasure,
  matchClustersToClasses,
  silhouetteSamples,
  silhouetteScore,
  spearman,
} from './metrics';
import { loadFloat64, loadReference } from './testing/fixtures';

const reference = loadReference();

describe('label metrics against scikit-learn', () => {
  for (const c of reference.labelMetrics as {
    name: string;
    a: number[];
    b: number[];
    ari: number;
    homogeneity: number;
    completeness: number;
    vMeasure: number;
  }[]) {
    it(c.name, () => {
      expect(adjustedRandIndex(c.a, c.b)).toBeCloseTo(c.ari, 12);
      const h = homogeneityCompletenessVMeasure(c.a, c.b);
      expect(h.homogeneity).toBeCloseTo(c.homogeneity, 12);
      expect(h.completeness).toBeCloseTo(c.completeness, 12);
      expect(h.vMeasure).toBeCloseTo(c.vMeasure, 12);
    });
  }

  it('ARI is symmetric and invariant to renaming', () => {
    const c = reference.labelMetrics[1];
    expect(adjustedRandIndex(c.b, c.a)).toBeCloseTo(adjustedRandIndex(c.a, c.b), 14);
    expect(adjustedRandIndex(c.a.map((v: number) => 7 - v), c.b)).toBeCloseTo(adjustedRandIndex(c.a, c.b), 14);
  });

  it('confusion matrix matches sklearn.metrics.confusion_matrix', () => {
    const c = reference.confusion;
    const m = confusionMatrix(c.true, c.pred);
    expect(m.labels).toEqual(c.labels);
    expect(Array.from(m.matrix)).toEqual(c.matrix);
  });

  it('contingency table counts pairs of labels', () => {
    const t = contingencyTable([0, 0, 1, 1, 1], [5, 6, 6, 6, -1]);
    expect(t.rowLabels).toEqual([0, 1]);
    expect(t.colLabels).toEqual([-1, 5, 6]);
    expect(Array.from(t.table)).toEqual([0, 1, 1, 1, 0, 2]);
  });
});

describe('geometry metrics against scikit-learn', () => {
  for (const c of reference.geometryMetrics as {
    name: string;
    data: string;
    labels: number[];
    silhouette: number;
    daviesBouldin: number;
  }[]) {
    it(c.name, () => {
      const points = loadFloat64(c.data);
      const dims = points.length / c.labels.length;
      expect(silhouetteScore(points, dims, c.labels)).toBeCloseTo(c.silhouette, 12);
      expect(daviesBouldinScore(points, dims, c.labels)).toBeCloseTo(c.daviesBouldin, 12);
      expect(daviesBouldinScore(Float32Array.from(points), dims, c.labels)).toBeCloseTo(c.daviesBouldin, 5);
    });
  }

  it('sampled silhouette is close to the full value and reproducible', () => {
    const c = reference.geometryMetrics[0];
    const points = loadFloat64(c.data);
    const a = silhouetteScore(points, 2, c.labels, { sampleSize: 800, seed: 3 });
    expect(a).toBe(silhouetteScore(points, 2, c.labels, { sampleSize: 800, seed: 3 }));
    expect(Math.abs(a - c.silhouette)).toBeLessThan(0.02);
  });

  it('silhouette of a singleton is 0, and needs 2…n−1 clusters', () => {
    const points = Float64Array.from([0, 0.1, 0.2, 10]);
    const s = silhouetteSamples(points, 1, [0, 0, 0, 1]);
    expect(s[3]).toBe(0);
    // Point 0: a = mean(0.1, 0.2) = 0.15, b = 10 → (10 − 0.15) / 10.
    expect(s[0]).toBeCloseTo(0.985, 12);
    expect(() => silhouetteScore(points, 1, [0, 0, 0, 0])).toThrow(/2 ≤ clusters/);
    expect(() => silhouetteScore(points, 1, [0, 1, 2, 3])).toThrow(/2 ≤ clusters/);
  });

  it('Davies–Bouldin is 0 for clusters collapsed onto points', () => {
    expect(daviesBouldinScore(Float64Array.from([0, 0, 5, 5]), 1, [0, 0, 1, 1])).toBe(0);
  });
});

describe('Spearman ρ against scipy.stats.spearmanr', () => {
  for (const c of reference.spearman as { name: string; x: number[]; y: number[]; rho: number }[]) {
    it(c.name, () => {
      expect(spearman(c.x, c.y)).toBeCloseTo(c.rho, 12);
    });
  }

  it('average ranks for ties, NaN for constant input', () => {
    expect(Array.from(averageRanks([10, 20, 10, 30, 20, 20]))).toEqual([1.5, 4, 1.5, 6, 4, 4]);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});

describe('matchClustersToClasses (Hungarian on the contingency table)', () => {
  it('recovers a relabelled partition exactly', () => {
    const classes = reference.blobs2dLabels as number[];
    const clusters = classes.map((v) => [2, 0, 1][v]);
    const m = matchClustersToClasses(clusters, classes);
    expect(m.accuracy).toBe(1);
    expect(m.clusterLabels).toEqual([0, 1, 2]);
    expect(m.classLabels).toEqual([1, 2, 0]);
    expect(Array.from(m.mapped)).toEqual(classes);
  });

  it('leaves surplus clusters unmatched and counts only matched agreement', () => {
    const classes = [0, 0, 0, 1, 1, 1];
    const clusters = [5, 5, 6, 7, 7, 7];
    const m = matchClustersToClasses(clusters, classes);
    expect(m.classLabels).toEqual([0, null, 1]);
    expect(m.accuracy).toBeCloseTo(5 / 6, 14);
    expect(Array.from(m.mapped)).toEqual([0, 0, -1, 1, 1, 1]);
  });
});
