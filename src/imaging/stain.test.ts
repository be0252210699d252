import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import type { InterleavedImage } from './image';
import {
  HED_FROM_RGB,
  hedToRgb,
  hematoxylinPositive,
  hematoxylinThreshold,
  RGB_FROM_HED,
  rgbToHed,
  type HedChannels,
} from './stain';
import { thresholdOtsu } from './threshold';

// Written by scripts/make_stain_reference.py (skimage 0.19.3 rgb2hed).
const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures/imaging/stain');

interface StainReference {
  rgbFromHed: number[][];
  hedFromRgb: number[][];
  images: Record<string, { file: string; width: number; height: number; channels: number; dtype: 'uint8' | 'float32' }>;
  cases: {
    name: string;
    rgb: string;
    hed: string;
    hematoxylinThreshold: number;
    hematoxylinPositive: number;
    otsuUnclipped: number;
  }[];
}

const ref = JSON.parse(readFileSync(resolve(FIXTURES, 'stain.json'), 'utf8')) as StainReference;

function loadInterleaved(name: string): InterleavedImage {
  const entry = ref.images[name];
  const bytes = gunzipSync(readFileSync(resolve(FIXTURES, entry.file)));
  const data =
    entry.dtype === 'uint8'
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice()
      : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  expect(data.length).toBe(entry.width * entry.height * entry.channels);
  return { data, width: entry.width, height: entry.height, channels: entry.channels };
}

/** Largest |ours − skimage| per channel, against an interleaved H,E,D fixture. */
function worstPerChannel(ours: HedChannels, expected: InterleavedImage): number[] {
  const channels = [ours.hematoxylin.data, ours.eosin.data, ours.dab.data];
  return channels.map((values, c) => {
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected.data[i * 3 + c]));
    return worst;
  });
}

test('stain matrices are skimage’s rgb_from_hed and its inverse', () => {
  expect(RGB_FROM_HED.map((row) => [...row])).toEqual(ref.rgbFromHed);
  HED_FROM_RGB.forEach((row, i) =>
    row.forEach((v, j) => expect(Math.abs(v - ref.hedFromRgb[i][j])).toBeLessThan(1e-14)),
  );
});

describe.each(ref.cases)('rgbToHed on $name', (c) => {
  const rgb = loadInterleaved(c.rgb);
  const expected = loadInterleaved(c.hed);
  const hed = rgbToHed(rgb);

  test('matches skimage.color.rgb2hed', () => {
    // Both sides compute in float64 and round to float32, so they agree to
    // float32 rounding of values ≤ ~1.3 (ulp ≤ 1.2e-7); 5e-7 leaves room for
    // a one-ulp difference in the summation order, nothing more.
    for (const worst of worstPerChannel(hed, expected)) expect(worst).toBeLessThan(5e-7);
  });

  test('RGBA input gives the same result as RGB', () => {
    const n = rgb.width * rgb.height;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      rgba.set(rgb.data.subarray(i * 3, i * 3 + 3) as Uint8Array, i * 4);
      rgba[i * 4 + 3] = 17;
    }
    const fromRgba = rgbToHed({ data: rgba, width: rgb.width, height: rgb.height, channels: 4 });
    expect(fromRgba.hematoxylin.data).toEqual(hed.hematoxylin.data);
    expect(fromRgba.dab.data).toEqual(hed.dab.data);
  });

  test('default hematoxylin threshold is Otsu on H clipped at its 99.5th percentile', () => {
    const threshold = hematoxylinThreshold(hed.hematoxylin);
    // Histogram bins are (max − min)/256 wide; the clip ceiling is a float32
    // percentile here and a float64 one in numpy, so the bin centres agree to ~1e-8.
    expect(Math.abs(threshold - c.hematoxylinThreshold)).toBeLessThan(1e-6);
    const mask = hematoxylinPositive(hed.hematoxylin);
    let positive = 0;
    for (const v of mask.data) positive += v;
    expect(Math.abs(positive - c.hematoxylinPositive)).toBeLessThanOrEqual(2);
    // The unclipped Otsu is skimage's too: same histogram code, no clip.
    expect(Math.abs(thresholdOtsu(hed.hematoxylin) - c.otsuUnclipped)).toBeLessThan(1e-6);
  });
});

test('on the slide crop the clip matters: plain Otsu would keep only saturated pixels', () => {
  const slide = ref.cases.find((c) => c.name === 'cmu_crop')!;
  // Nuclei on this H&E slide have H ≈ 0.1–0.3; saturated pixels ≈ 0.7–1.2.
  expect(slide.hematoxylinThreshold).toBeGreaterThan(0.05);
  expect(slide.hematoxylinThreshold).toBeLessThan(0.2);
  expect(slide.otsuUnclipped).toBeGreaterThan(0.5);
  const size = ref.images[slide.rgb].width * ref.images[slide.rgb].height;
  expect(slide.hematoxylinPositive / size).toBeGreaterThan(0.05);
});

test('white is zero stain; a channel at 0 hits the 1e-6 floor (density 1)', () => {
  const hed = rgbToHed({ data: new Uint8Array([255, 255, 255, 0, 255, 255]), width: 2, height: 1, channels: 3 });
  expect([hed.hematoxylin.data[0], hed.eosin.data[0], hed.dab.data[0]]).toEqual([0, 0, 0]);
  // Red channel at 0: od = (1, 0, 0), so the amounts are row 0 of HED_FROM_RGB, clipped at 0.
  expect(hed.hematoxylin.data[1]).toBeCloseTo(HED_FROM_RGB[0][0], 6);
  expect(hed.eosin.data[1]).toBe(0);
  expect(hed.dab.data[1]).toBe(0);
});

test('hedToRgb inverts rgbToHed (Beer–Lambert with the same vectors)', () => {
  const amounts = [
    [0, 0, 0],
    [0.1, 0, 0],
    [0, 0.05, 0],
    [0.2, 0.03, 0.01],
    [0.02, 0.06, 0],
  ];
  const n = amounts.length;
  const channel = (k: number) => ({ data: Float32Array.from(amounts, (a) => a[k]), width: n, height: 1 });
  const stains = { hematoxylin: channel(0), eosin: channel(1), dab: channel(2) };
  const rgb = hedToRgb(stains);
  // Pure hematoxylin 0.1 = optical density 0.6 × (0.65, 0.70, 0.29): a blue-purple.
  expect(rgb.data[3]).toBeCloseTo(255 * 10 ** (-0.6 * 0.65), 3);
  expect(rgb.data[5]).toBeCloseTo(255 * 10 ** (-0.6 * 0.29), 3);
  // Float input (unrounded) comes back to float32 precision …
  const back = rgbToHed(rgb);
  for (let i = 0; i < n; i++) {
    expect(back.hematoxylin.data[i]).toBeCloseTo(amounts[i][0], 6);
    expect(back.eosin.data[i]).toBeCloseTo(amounts[i][1], 6);
    expect(back.dab.data[i]).toBeCloseTo(amounts[i][2], 6);
  }
  // … and 8-bit rounding costs at most half a grey level: < 0.004 in amount at these densities.
  const bytes = Uint8Array.from(rgb.data, (v) => Math.round(v));
  const fromBytes = rgbToHed({ data: bytes, width: n, height: 1, channels: 3 });
  for (let i = 0; i < n; i++) expect(Math.abs(fromBytes.hematoxylin.data[i] - amounts[i][0])).toBeLessThan(4e-3);
});

test('hematoxylinPositive is strict and honours an explicit threshold', () => {
  // Values exactly representable in float32, so "equal to the threshold" is exact.
  const h = { data: new Float32Array([0, 0.0625, 0.125, 0.25]), width: 4, height: 1 };
  expect(Array.from(hematoxylinPositive(h, 0.125).data)).toEqual([0, 0, 0, 1]);
  expect(Array.from(hematoxylinPositive(h, 0.01).data)).toEqual([0, 1, 1, 1]);
});

test('rejects bad shapes', () => {
  expect(() => rgbToHed({ data: new Uint8Array(6), width: 2, height: 1, channels: 1 })).toThrow(RangeError);
  expect(() => rgbToHed({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 })).toThrow(RangeError);
});
