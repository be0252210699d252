/**
 * densityRanks: cluster names follow the tissue's optical density, whatever
 * order the clusters came out of FCM in and whatever the glass share.
 */
import { describe, expect, it } from 'vitest';
import { densityRanks, unsquashCodes } from './pipeline';

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
