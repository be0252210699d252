import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fitWithin, resampleBlock } from './downsample';
import type { PixelBlock, PixelDType } from '../slide/types';

interface ResampleCase {
  name: string;
  dtype: PixelDType;
  width: number;
  height: number;
  channels: number;
  input: number[];
  outWidth: number;
  outHeight: number;
  expected: number[];
}

const cases: ResampleCase[] = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/viewer/resample.json', import.meta.url), 'utf8'),
);

const arrays = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array } as const;

describe('resampleBlock', () => {
  for (const c of cases) {
    it(`matches the reference: ${c.name}`, () => {
      const block: PixelBlock = {
        data: new arrays[c.dtype](c.input),
        width: c.width,
        height: c.height,
        channels: c.channels,
        dtype: c.dtype,
      };
      const out = resampleBlock(block, c.outWidth, c.outHeight);
      expect(out).toMatchObject({ width: c.outWidth, height: c.outHeight, channels: c.channels, dtype: c.dtype });
      expect(out.data).toBeInstanceOf(arrays[c.dtype]);
      if (c.dtype === 'float32') {
        Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(c.expected[i], 5));
      } else {
        expect(Array.from(out.data)).toEqual(c.expected);
      }
    });
  }

  it('returns the same block when the size already matches', () => {
    const block: PixelBlock = { data: new Uint8Array(12), width: 2, height: 2, channels: 3, dtype: 'uint8' };
    expect(resampleBlock(block, 2, 2)).toBe(block);
  });

  it('enlarges by repeating pixels', () => {
    const block: PixelBlock = { data: new Uint8Array([10, 20]), width: 2, height: 1, channels: 1, dtype: 'uint8' };
    expect(Array.from(resampleBlock(block, 4, 2).data)).toEqual([10, 10, 20, 20, 10, 10, 20, 20]);
  });
});

describe('fitWithin', () => {
  it('keeps the aspect ratio and never enlarges', () => {
    expect(fitWithin(1000, 500, 200)).toEqual({ width: 200, height: 100 });
    expect(fitWithin(387, 1280, 200)).toEqual({ width: 60, height: 200 });
    expect(fitWithin(50, 40, 200)).toEqual({ width: 50, height: 40 });
  });
});
