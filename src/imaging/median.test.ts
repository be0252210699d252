import { expect, test } from 'vitest';
import { medianFilter, type MedianShape } from './median';
import { countDifferent, fixtureImage, reference } from './testFixtures';

const cases = reference().median as { input: string; radius: number; shape: MedianShape; output: string }[];

test.each(cases)('equals scipy median_filter(mode=nearest): $input $shape r=$radius', ({ input, radius, shape, output }) => {
  const out = medianFilter(fixtureImage(input), radius, shape);
  expect(countDifferent(out.data, fixtureImage(output).data)).toBe(0);
});

test('brute force on a small odd-shaped image near the borders', () => {
  const w = 9;
  const h = 4;
  let s = 12345;
  const data = Uint8Array.from({ length: w * h }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24);
  const r = 3;
  const out = medianFilter({ data, width: w, height: h }, r, 'disk');
  const clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const values: number[] = [];
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++)
          if (dx * dx + dy * dy <= r * r) values.push(data[clamp(y + dy, h) * w + clamp(x + dx, w)]);
      values.sort((a, b) => a - b);
      expect(out.data[y * w + x]).toBe(values[values.length >> 1]);
    }
  }
});

test('rejects float images', () => {
  expect(() => medianFilter({ data: new Float32Array(4), width: 2, height: 2 }, 1)).toThrow(TypeError);
});
