import { expect, test } from 'vitest';
import { gaussianBlur, gaussianKernel } from './gaussian';
import { fixtureImage, maxAbsDiff, reference } from './testFixtures';

test('kernel radius and normalisation follow scipy (radius = int(4*sigma + 0.5))', () => {
  for (const [sigma, radius] of [[0.5, 2], [1, 4], [2.6, 10], [10, 40], [7.3, 29]] as const) {
    const k = gaussianKernel(sigma);
    expect(k.length - 1).toBe(radius);
    let sum = k[0];
    for (let i = 1; i < k.length; i++) sum += 2 * k[i];
    expect(sum).toBeCloseTo(1, 12);
  }
});

test.each(reference().gaussian as { input: string; sigma: number; output: string }[])(
  'matches skimage.filters.gaussian(mode=nearest) on $input, sigma $sigma',
  ({ input, sigma, output }) => {
    const blurred = gaussianBlur(fixtureImage(input), sigma);
    const expected = fixtureImage(output);
    expect([blurred.width, blurred.height]).toEqual([expected.width, expected.height]);
    // Inputs are 0..255; the brief's tolerance is 1e-3 on a 0..1 scale.
    expect(maxAbsDiff(blurred.data, expected.data) / 255).toBeLessThan(1e-6);
  },
);

test('constant image stays constant; sigma 0 is the identity', () => {
  const flat = { data: new Float32Array(30).fill(7), width: 6, height: 5 };
  expect(maxAbsDiff(gaussianBlur(flat, 3).data, flat.data)).toBeLessThan(1e-5);
  const ramp = { data: Float32Array.from({ length: 30 }, (_, i) => i), width: 6, height: 5 };
  expect(Array.from(gaussianBlur(ramp, 0).data)).toEqual(Array.from(ramp.data));
  // Blurring along one axis only leaves a horizontal ramp's columns untouched.
  const rows = gaussianBlur(ramp, [2, 0]);
  const colRamp = Float32Array.from({ length: 30 }, (_, i) => i % 6);
  const blurredCols = gaussianBlur({ data: colRamp, width: 6, height: 5 }, [2, 0]);
  expect(maxAbsDiff(blurredCols.data, colRamp)).toBeLessThan(1e-5);
  expect(rows.data[0]).not.toBe(0);
});
