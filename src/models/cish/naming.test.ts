/**
 * densityRanks: cluster names follow the tissue's optical density, whatever
 * order the clusters came out of FCM in and whatever the glass share.
 */
import { describe, expect, it } from 'vitest';
import { clusterRanks } from '../../analysis/exports';
import { densityRanks, rankClusters, unsquashCodes } from './naming';

describe('densityRanks', () => {
  it('ranks clusters by the mean density of their tiles, lowest first', () => {
    const labels = [2, 2, 0, 0, 1, 1];
    const densities = [0.1, 0.12, 0.5, 0.55, 0.3, 0.28];
    expect(Array.from(densityRanks(labels, densities, 3))).toEqual([2, 1, 0]);
  });

  it('puts an empty cluster last', () => {
    expect(Array.from(densityRanks([1, 1, 2], [0.4, 0.5, 0.2], 3))).toEqual([2, 1, 0]);
  });
});

describe('unsquashCodes', () => {
  it('undoes the code layer LeakyReLU: negative codes ÷ α, positive ones unchanged', () => {
    const codes = Float32Array.from([-0.01, 0.5, -0.002, 0]);
    expect(Array.from(unsquashCodes(codes, 0.01))).toEqual(Array.from(Float32Array.from([-1, 0.5, -0.2, 0])));
    expect(codes[0]).toBeCloseTo(-0.01, 7);
  });
});

describe('rankClusters (the app panel\'s names)', () => {
  // Three clusters along the first code axis: 0 at x = 5, 1 at x = −5, 2 at x = 0.
  const latents = Float32Array.from([5, 0, 5.2, 0, -5, 0, -5.1, 0, 0, 0, 0.1, 0]);
  const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);

  it('follows the tile densities when the encoder measured them, not the latent axis', () => {
    const densities = Float64Array.from([0.1, 0.1, 0.9, 0.8, 0.5, 0.5]);
    expect(Array.from(rankClusters({ latents, latentDim: 2, densities, labels, k: 3 }))).toEqual([0, 2, 1]);
  });

  it('falls back to the main latent axis without densities (nuclei, classifier features), from hard labels or memberships', () => {
    const centres = [5.1, 0, -5.05, 0, 0.05, 0];
    const expected = Array.from(clusterRanks(latents, 2, Float64Array.from(centres), 3));
    expect(Array.from(rankClusters({ latents, latentDim: 2, densities: null, labels, k: 3 }))).toEqual(expected);
    const memberships = new Float32Array(18);
    labels.forEach((l, i) => (memberships[i * 3 + l] = 1));
    expect(Array.from(rankClusters({ latents, latentDim: 2, densities: null, labels, memberships, k: 3 }))).toEqual(expected);
    // The order is a permutation: the middle cluster (x = 0) is ranked between the two ends.
    expect(new Set(expected).size).toBe(3);
    expect(expected[2]).toBe(1);
  });

  it('ignores densities of another length (a stale record)', () => {
    const stale = Float64Array.from([0.9, 0.1]);
    expect(Array.from(rankClusters({ latents, latentDim: 2, densities: stale, labels, k: 3 }))).toEqual(Array.from(rankClusters({ latents, latentDim: 2, densities: null, labels, k: 3 })));
  });
});
