import { expect, test } from 'vitest';
import { histogram, thresholdOtsu, thresholdTriangle, triangleDetails } from './threshold';
import { fixtureImage, reference } from './testFixtures';

const cases = reference().thresholds as { input: string; triangle: number; otsu: number }[];

test.each(cases)('triangle and Otsu match skimage on $input', ({ input, triangle, otsu }) => {
  const img = fixtureImage(input);
  const hist = histogram(img);
  // Bin width: 1 grey level for 8-bit images, (max-min)/256 for float ones.
  const bin = hist.binCenters.length > 1 ? hist.binCenters[1] - hist.binCenters[0] : 1;
  expect(Math.abs(thresholdTriangle(img) - triangle)).toBeLessThanOrEqual(bin * 1e-6);
  expect(Math.abs(thresholdOtsu(img) - otsu)).toBeLessThanOrEqual(bin * 1e-6);
});

test('integer histograms cover min..max only; float ones 256 bins with the max in the last', () => {
  const bytes = { data: new Uint8Array([3, 3, 5, 9]), width: 4, height: 1 };
  const h = histogram(bytes);
  expect(Array.from(h.binCenters)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  expect(Array.from(h.counts)).toEqual([2, 0, 1, 0, 0, 0, 1]);
  const floats = { data: new Float32Array([0, 0.5, 1]), width: 3, height: 1 };
  const hf = histogram(floats, 4);
  expect(Array.from(hf.counts)).toEqual([1, 0, 1, 1]);
  expect(Array.from(hf.binCenters)).toEqual([0.125, 0.375, 0.625, 0.875]);
});

test('triangle reports the side of the peak (glass above for brightfield)', () => {
  const bright = fixtureImage('cmu_div5');
  expect(triangleDetails(histogram(bright)).peakAbove).toBe(true);
  const fluo = fixtureImage('dapi_l3');
  expect(triangleDetails(histogram(fluo)).peakAbove).toBe(false);
});

test('constant images return their value', () => {
  const flat = { data: new Uint8Array(10).fill(42), width: 10, height: 1 };
  expect(thresholdOtsu(flat)).toBe(42);
  expect(thresholdTriangle(flat)).toBe(42);
});
