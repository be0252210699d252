import { describe, expect, it } from 'vitest';
import { rgbToHed } from '../../imaging/stain';
import { countBlobs, nuclearStainSignal, peaksInCore, stainDistanceMap, stainLevel } from './stain-detect';

function discs(width: number, height: number, centres: Array<[number, number, number]>, inside: number, outside: number): Float32Array {
  const out = new Float32Array(width * height).fill(outside);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (const [cx, cy, r] of centres) if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) out[y * width + x] = inside;
  return out;
}

describe('nuclear stain detection', () => {
  it('haematoxylin equals rgbToHed (skimage rgb2hed) on RGB in 0…1', () => {
    const n = 500;
    const bytes = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 97 + 13) % 256);
    const expected = rgbToHed({ data: bytes, width: n, height: 1, channels: 3 }).hematoxylin.data;
    const got = nuclearStainSignal(Float32Array.from(bytes, (v) => v / 255), n, 'hematoxylin');
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    const bright = nuclearStainSignal([0.1, 0.8, 0.3], 1, 'fluorescence');
    expect(bright[0]).toBeCloseTo(0.8, 6);
  });

  it('splits two touching nuclei into two centres and ignores a speck', () => {
    const w = 60;
    const signal = discs(w, w, [[20, 30, 8], [35, 30, 8], [50, 10, 1]], 0.3, 0.02);
    const level = stainLevel(signal);
    expect(level).toBeGreaterThan(0.02);
    expect(level).toBeLessThan(0.3);
    const { distance, mask } = stainDistanceMap(signal, w, w, level);
    const peaks = peaksInCore(distance, w, w, 0, w, 3, 2);
    expect(peaks).toHaveLength(2);
    const xs = peaks.map((p) => p.x).sort((a, b) => a - b);
    expect(Math.abs(xs[0] - 20)).toBeLessThan(2.5);
    expect(Math.abs(xs[1] - 35)).toBeLessThan(2.5);
    // One blob (the touching pair) plus the speck, which is under the minimum area.
    expect(countBlobs(mask, w, w, 0, w, Math.PI * 4)).toBe(1);
    // A blob whose centroid lies outside the core is not counted.
    expect(countBlobs(mask, w, w, 30, 60, Math.PI * 4)).toBe(0);
  });
});
