import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  fillGlass,
  medianFilter,
  opticalDensity,
  percentile,
  preprocessTile,
  resizeBilinear,
  stretchContrast,
  toGray,
} from './preprocess';

/** References from scikit-image, scipy and numpy: scripts/cish_torch_equivalence.py preprocess. */
const ref = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../../tests/fixtures/cish/preprocess.json'), 'utf8'),
) as {
  width: number;
  height: number;
  rgb: number[];
  gray: number[];
  median3: number[];
  resizeUp: { width: number; height: number; values: number[] };
  resizeDown: { width: number; height: number; values: number[] };
  od: number[];
  stretch1to99: number[];
  pipeline: { size: number; median: number; contrast: [number, number]; values: number[] };
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const image = { data: Uint8Array.from(ref.rgb), width: ref.width, height: ref.height, channels: 3 as const };

describe('CISH preprocessing against scikit-image / scipy / numpy', () => {
  const gray = toGray(image);

  it('grey level equals skimage rgb2gray', () => {
    expect(maxAbsDiff(gray, ref.gray)).toBeLessThan(1e-6);
  });

  it('median equals scipy.ndimage.median_filter(size=3, mode=nearest)', () => {
    expect(maxAbsDiff(medianFilter(gray, ref.width, ref.height, 1), ref.median3)).toBeLessThan(1e-6);
  });

  it('bilinear resize equals skimage resize(order=1, mode=edge, anti_aliasing=False)', () => {
    const up = resizeBilinear(gray, ref.width, ref.height, ref.resizeUp.width, ref.resizeUp.height);
    expect(maxAbsDiff(up, ref.resizeUp.values)).toBeLessThan(1e-5);
    const down = resizeBilinear(gray, ref.width, ref.height, ref.resizeDown.width, ref.resizeDown.height);
    expect(maxAbsDiff(down, ref.resizeDown.values)).toBeLessThan(1e-5);
  });

  it('optical density and percentile stretch equal numpy', () => {
    expect(maxAbsDiff(gray.map(opticalDensity), ref.od)).toBeLessThan(1e-6);
    expect(maxAbsDiff(stretchContrast(gray, { low: 1, high: 99 }), ref.stretch1to99)).toBeLessThan(1e-5);
  });

  it('the whole pipeline equals the Python composition', () => {
    const out = preprocessTile(image, {
      mode: 'od',
      median: ref.pipeline.median,
      contrast: { low: ref.pipeline.contrast[0], high: ref.pipeline.contrast[1] },
      outputSize: ref.pipeline.size,
    });
    expect(out.length).toBe(ref.pipeline.size ** 2);
    expect(maxAbsDiff(out, ref.pipeline.values)).toBeLessThan(1e-5);
  });
});

describe('CISH preprocessing behaviour', () => {
  it('maps 8-bit grey, 16-bit and RGBA input to [0, 1] at 300×300 by default', () => {
    const grey = preprocessTile({ data: new Uint8Array(300 * 300).fill(255), width: 300, height: 300, channels: 1 });
    expect(grey.length).toBe(90000);
    expect(grey[0]).toBe(1);
    const deep = preprocessTile({ data: new Uint16Array(4).fill(65535 / 2), width: 2, height: 2, channels: 1 });
    expect(deep.length).toBe(90000);
    expect(deep[123]).toBeCloseTo(0.5, 4);
    const rgba = new Uint8Array([255, 0, 0, 7]);
    expect(preprocessTile({ data: rgba, width: 1, height: 1, channels: 4 }, { outputSize: 1 })[0]).toBeCloseTo(
      0.2125,
      6,
    );
  });

  it('inverts brightness in OD mode: dark stain gives high values, white background 0', () => {
    const data = new Uint8Array([255, 128, 1, 0]);
    const out = preprocessTile({ data, width: 2, height: 2, channels: 1 }, { mode: 'od', outputSize: 2 });
    expect(out[0]).toBe(0);
    expect(out[1]).toBeGreaterThan(0);
    expect(out[2]).toBeCloseTo(1, 6);
    expect(out[3]).toBeCloseTo(1, 6);
  });

  it('leaves a flat tile flat under contrast stretching', () => {
    const flat = new Float32Array(16).fill(0.4);
    expect(Array.from(stretchContrast(flat, { low: 1, high: 99 }))).toEqual(Array.from(flat));
  });

  it('computes numpy-style percentiles', () => {
    const v = Float32Array.from([4, 1, 3, 2]);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 50)).toBe(2.5);
    expect(percentile(v, 100)).toBe(4);
  });

  it('rejects data of the wrong length', () => {
    expect(() => toGray({ data: new Uint8Array(5), width: 2, height: 2, channels: 1 })).toThrow(/expected 4/);
  });
});

describe('fillGlass', () => {
  it('gives glass pixels the mean of the tissue pixels and leaves tissue as it is', () => {
    const values = Float32Array.from([0.95, 0.5, 0.7, 0.96, 0.6, 0.99]);
    const share = fillGlass(values, 0.9);
    expect(share).toBeCloseTo(0.5, 9);
    expect(Array.from(values)).toEqual(Array.from(Float32Array.from([0.6, 0.5, 0.7, 0.6, 0.6, 0.6])));
  });

  it('leaves a tile of (almost) only glass unchanged: there is no tissue to fill from', () => {
    const values = new Float32Array(100).fill(0.97);
    values[0] = 0.4;
    fillGlass(values, 0.9);
    expect(values[1]).toBeCloseTo(0.97, 6);
  });

  it('runs inside preprocessTile before the optical density, so half-glass and all-tissue tiles of one stain match', () => {
    const tissue = new Uint8Array(16).fill(120);
    const half = Uint8Array.from({ length: 16 }, (_, i) => (i % 2 ? 120 : 245));
    const options = { outputSize: 4, mode: 'od' as const, glassAbove: 0.9 };
    const a = preprocessTile({ data: tissue, width: 4, height: 4, channels: 1 }, options);
    const b = preprocessTile({ data: half, width: 4, height: 4, channels: 1 }, options);
    expect(Array.from(b)).toEqual(Array.from(a));
    const kept = preprocessTile({ data: half, width: 4, height: 4, channels: 1 }, { outputSize: 4, mode: 'od' });
    expect(Array.from(kept)).not.toEqual(Array.from(a));
  });
});
