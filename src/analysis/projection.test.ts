import { describe, expect, it } from 'vitest';
import { Random } from '../util/random';
import { pcaProjection, UMAP_MAX_ITEMS } from './projection';
import { umapProjection } from './umap';

/** `groups` Gaussian blobs in `dim` dimensions, centres 10 sd apart on random axes. */
function blobs(groups: number, perGroup: number, dim: number, seed: number) {
  const rng = new Random(seed);
  const centres = Array.from({ length: groups }, () => Array.from({ length: dim }, () => rng.normal() * 10));
  const latents = new Float32Array(groups * perGroup * dim);
  const labels: number[] = [];
  for (let g = 0; g < groups; g++)
    for (let p = 0; p < perGroup; p++) {
      const row = labels.length;
      labels.push(g);
      for (let d = 0; d < dim; d++) latents[row * dim + d] = centres[g][d] + rng.normal();
    }
  return { latents, labels };
}

/** Share of points whose k nearest neighbours in the 2-D layout mostly carry their own label. */
function neighbourAgreement(xy: Float32Array, labels: number[], k = 5): number {
  const n = labels.length;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const d = labels.map((_, j) => (j === i ? Infinity : (xy[2 * i] - xy[2 * j]) ** 2 + (xy[2 * i + 1] - xy[2 * j + 1]) ** 2));
    const nearest = d.map((v, j) => [v, j]).sort((a, b) => a[0] - b[0]).slice(0, k);
    const same = nearest.filter(([, j]) => labels[j] === labels[i]).length;
    if (same > k / 2) agree++;
  }
  return agree / n;
}

describe('UMAP projection', () => {
  it('keeps separated groups of an 8-D set apart in 2-D, reproducibly, with progress', async () => {
    const { latents, labels } = blobs(4, 60, 8, 3);
    const progress: number[] = [];
    const a = await umapProjection(latents, 8, { seed: 7, nEpochs: 150, onProgress: (done, total) => progress.push(done / total) });
    expect(a.axes).toEqual(['UMAP 1', 'UMAP 2']);
    expect(a.xy).toHaveLength(2 * labels.length);
    expect(a.xy.every(Number.isFinite)).toBe(true);
    expect(neighbourAgreement(a.xy, labels)).toBeGreaterThan(0.97);
    // Shuffled labels give chance agreement: the measure can fail.
    const rng = new Random(11);
    const shuffled = [...labels];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    expect(neighbourAgreement(a.xy, shuffled)).toBeLessThan(0.6);
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.length).toBeGreaterThan(10);
    const b = await umapProjection(latents, 8, { seed: 7, nEpochs: 150 });
    expect(Array.from(b.xy)).toEqual(Array.from(a.xy));
  });

  it('stops when cancelled and rejects bad parameters with the reason', async () => {
    const { latents } = blobs(2, 40, 4, 1);
    let slices = 0;
    const cancelled = umapProjection(latents, 4, {
      nEpochs: 200,
      checkCancelled: () => {
        if (++slices > 3) throw new DOMException('The job was cancelled', 'AbortError');
      },
    });
    await expect(cancelled).rejects.toThrow(/cancelled/);
    await expect(umapProjection(latents, 4, { nNeighbors: 1 })).rejects.toThrow(/neighbours must be a whole number ≥ 2/);
    await expect(umapProjection(latents.subarray(0, 10 * 4), 4)).rejects.toThrow(/more items \(10\) than neighbours \(15\)/);
    await expect(umapProjection(latents, 4, { minDist: 2 })).rejects.toThrow(/min_dist/);
    await expect(umapProjection(new Float32Array((UMAP_MAX_ITEMS + 1) * 2), 2)).rejects.toThrow(/limited to 50,000 items/);
  });
});

describe('PCA projection', () => {
  it('passes 2-D codes through and projects wider ones on their two main axes', () => {
    const two = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(pcaProjection(two, 2).xy)).toEqual([1, 2, 3, 4]);
    // Points on a line along (1, 1, 0) in 3-D: PC 1 carries all the spread.
    const line = new Float32Array(30);
    for (let i = 0; i < 10; i++) line.set([i, i, 0], 3 * i);
    const p = pcaProjection(line, 3);
    expect(p.axes).toEqual(['PC 1', 'PC 2']);
    for (let i = 0; i < 10; i++) {
      expect(Math.abs(p.xy[2 * i])).toBeCloseTo(Math.abs((i - 4.5) * Math.SQRT2), 4);
      expect(p.xy[2 * i + 1]).toBeCloseTo(0, 4);
    }
  });
});
