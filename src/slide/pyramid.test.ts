/**
 * Synthetic pyramid levels. Pixel values against numpy are checked in
 * open.test.ts (plain-wide.png, CMU-1-Small-Region.svs); here: the level
 * geometry, odd edges on a hand-computed example, laziness and caching.
 */
import { describe, expect, test } from 'vitest';
import { createMemorySource } from './formats/memory-source';
import { downsample2, withPyramid } from './pyramid';
import type { PixelBlock, Region, SlideSource } from './types';

function countingSource(width: number, height: number): { source: SlideSource; reads: () => number } {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
  const inner = createMemorySource(
    { data, width, height, channels: 1, dtype: 'uint8' },
    { name: 'mem', format: 'png', channels: [{ name: 'Intensity', color: '#ffffff' }], rgb: false, properties: {} },
  );
  let reads = 0;
  const source: SlideSource = {
    ...inner,
    readRegion: (region: Region, signal?: AbortSignal) => {
      reads++;
      return inner.readRegion(region, signal);
    },
  };
  return { source, reads: () => reads };
}

describe('withPyramid', () => {
  test('adds halving levels until the longer side is at most 1024 px', () => {
    const { source } = countingSource(4100, 900);
    const levels = withPyramid(source).metadata.levels;
    expect(levels.map((l) => [l.width, l.height])).toEqual([
      [4100, 900],
      [2050, 450],
      [1025, 225],
      [513, 113],
    ]);
    expect(levels[3].downsample).toBeCloseTo(4100 / 513, 12);
    expect(levels[3].tileWidth).toBe(256);
  });

  test('leaves small sources untouched', () => {
    const { source } = countingSource(1024, 700);
    expect(withPyramid(source)).toBe(source);
  });

  test('computes tiles lazily and caches them', async () => {
    const { source, reads } = countingSource(3000, 2000);
    const pyramid = withPyramid(source);
    expect(reads()).toBe(0);
    const region = { level: 2, x: 10, y: 10, width: 100, height: 100 };
    const first = await pyramid.readRegion(region);
    const afterFirst = reads();
    expect(afterFirst).toBeGreaterThan(0);
    const second = await pyramid.readRegion(region);
    expect(reads()).toBe(afterFirst);
    expect(second.data).toEqual(first.data);
    // Level 2 equals two successive 2 × 2 averages of level 0.
    const base = await source.readRegion({ level: 0, x: 0, y: 0, width: 3000, height: 2000 });
    const expected = downsample2(downsample2(base));
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < 100; x++) expect(first.data[y * 100 + x]).toBe(expected.data[(y + 10) * expected.width + x + 10]);
    }
  });

  test('rejects with AbortError when aborted', async () => {
    const { source } = countingSource(3000, 2000);
    const controller = new AbortController();
    const pending = withPyramid(source).readRegion({ level: 2, x: 0, y: 0, width: 700, height: 500 }, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

test('downsample2 averages only existing pixels at odd edges, rounding half up', () => {
  // 3 × 3, one channel:
  //  1  2  3
  //  4  6  8
  //  9 10 12
  const block: PixelBlock = { data: new Uint8Array([1, 2, 3, 4, 6, 8, 9, 10, 12]), width: 3, height: 3, channels: 1, dtype: 'uint8' };
  const out = downsample2(block);
  expect([out.width, out.height]).toEqual([2, 2]);
  // (1+2+4+6)/4 = 3.25 → 3; (3+8)/2 = 5.5 → 6; (9+10)/2 = 9.5 → 10; 12.
  expect(Array.from(out.data)).toEqual([3, 6, 10, 12]);
  const floats: PixelBlock = { data: new Float32Array([0.5, 1, 2, 4]), width: 2, height: 2, channels: 1, dtype: 'float32' };
  expect(Array.from(downsample2(floats).data)).toEqual([1.875]);
});
