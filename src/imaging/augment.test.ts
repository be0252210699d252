import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Random } from '../util/random';
import {
  type AugmentOptions,
  type ChannelImage,
  type FillMode,
  adjustBrightness,
  adjustContrast,
  affine,
  affineMatrix,
  applyAugmentParams,
  augment,
  cropResize,
  drawAugmentParams,
  elasticDeform,
  elasticDisplacement,
  flipHorizontal,
  flipVertical,
  MOBINCEP_AUGMENTATION,
  ORGANET_AUGMENTATION,
  rotate,
  smoothDisplacement,
  warp,
} from './augment';

// Written by scripts/make_augment_fixtures.py (skimage / SciPy / Pillow).
interface Encoded {
  shape: number[];
  data: string;
}
interface Reference {
  input: Encoded;
  rotate: { degrees: number; mode: FillMode; output: Encoded }[];
  affine: {
    translate: [number, number];
    scale: [number, number];
    shear: [number, number];
    rotation: number;
    mode: FillMode;
    matrix: number[];
    output: Encoded;
  }[];
  elastic: { alpha: number; sigma: number; rawX: Encoded; rawY: Encoded; dx: Encoded; dy: Encoded; maxDisplacement: number; output: Encoded }[];
  crop: { box: { x: number; y: number; width: number; height: number }; output: Encoded }[];
}

const reference = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/augment-reference.json', import.meta.url), 'utf8'),
) as Reference;

function decode(e: Encoded): Float32Array {
  const bytes = Buffer.from(e.data, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function asImage(e: Encoded): ChannelImage {
  const [height, width, channels] = e.shape;
  return { data: decode(e), width, height, channels: channels ?? 1 };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const input = asImage(reference.input);
/** Measured errors, printed once at the end for the record. */
const measured: Record<string, number> = {};

/*
 * Tolerance for the bilinear warps: both sides evaluate the same bilinear
 * formula in double precision on the same float32 input; outputs are stored
 * as float32 (half an ulp ≤ 3e-8 for values ≤ 1) and the sample coordinates
 * differ only by the rounding of the trigonometry/matrix products (~1e-14 px;
 * the interpolant has slope ≤ 1 per px here). 1e-5 leaves a wide margin and
 * would still catch any half-pixel or orientation slip (errors ~0.1–0.9).
 */
const WARP_TOLERANCE = 1e-5;

describe('geometric transforms against skimage / SciPy', () => {
  test.each(reference.rotate)('rotate $degrees° ($mode) = skimage.transform.rotate', ({ degrees, mode, output }) => {
    const out = rotate(input, degrees, { mode });
    const err = maxAbsDiff(out.data, decode(output));
    measured[`rotate ${degrees} ${mode}`] = err;
    expect(err).toBeLessThan(WARP_TOLERANCE);
  });

  test.each(reference.affine)(
    'affine rot $rotation, shear $shear, scale $scale, translate $translate ($mode) = skimage warp',
    ({ rotation, translate, scale, shear, mode, matrix, output }) => {
      const m = affineMatrix({ rotation, translate, scale, shear }, input.width, input.height);
      expect(maxAbsDiff(m, matrix)).toBeLessThan(1e-12);
      const out = affine(input, { rotation, translate, scale, shear }, { mode });
      const err = maxAbsDiff(out.data, decode(output));
      measured[`affine rot ${rotation} ${mode}`] = err;
      expect(err).toBeLessThan(WARP_TOLERANCE);
    },
  );

  test.each(reference.elastic)('elastic alpha $alpha sigma $sigma = gaussian_filter + map_coordinates', (c) => {
    const field = smoothDisplacement(decode(c.rawX), decode(c.rawY), input.width, input.height, c.alpha, c.sigma);
    // gaussian.ts keeps a float32 intermediate between its two passes: ~1e-7 relative.
    const fieldErr = Math.max(maxAbsDiff(field.dx, decode(c.dx)), maxAbsDiff(field.dy, decode(c.dy)));
    expect(fieldErr).toBeLessThan(1e-5 * c.alpha);
    expect(c.maxDisplacement).toBeGreaterThan(1); // the warp is not a near-identity
    const out = elasticDeform(input, field, { mode: 'reflect' });
    const err = maxAbsDiff(out.data, decode(c.output));
    measured[`elastic field a${c.alpha}`] = fieldErr;
    measured[`elastic a${c.alpha}`] = err;
    // Displacement errors ≤ 1e-5·alpha px move samples by that much; the
    // test image changes by ≤ 1 per px (hard edges), so ≤ 1e-5·alpha more.
    expect(err).toBeLessThan(WARP_TOLERANCE + 1e-5 * c.alpha);
  });

  test.each(reference.crop)('crop $box resized back = Pillow LANCZOS (mode F)', ({ box, output }) => {
    const out = cropResize(input, box);
    expect([out.width, out.height, out.channels]).toEqual([32, 32, 3]);
    const err = maxAbsDiff(out.data, decode(output));
    measured[`crop ${box.width}x${box.height}`] = err;
    // Pillow's float mode keeps a float32 image between its passes; we keep float32 too but
    // accumulate in double: differences are float32 rounding, ~1e-7.
    expect(err).toBeLessThan(1e-5);
  });

  test('rotation by 90° (reflect) is an exact pixel permutation (np.rot90)', () => {
    const out = rotate(input, 90);
    const { width: w, channels: C } = input;
    let err = 0;
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        // CCW on screen: output (x, y) comes from input (w − 1 − y, x).
        for (let c = 0; c < C; c++) err = Math.max(err, Math.abs(out.data[(y * w + x) * C + c] - input.data[(x * w + (w - 1 - y)) * C + c]));
      }
    }
    expect(err).toBeLessThan(1e-6);
  });

  test('composite warp = affine then elastic, up to one interpolation', () => {
    // A pure translation by whole pixels interpolates exactly, so composing with it must match.
    const field = elasticDisplacement(32, 32, 30, 3, new Random(5));
    const matrix = affineMatrix({ translate: [3, -2] }, 32, 32);
    const once = warp(input, { matrix, dx: field.dx, dy: field.dy, mode: 'reflect' });
    const twice = elasticDeform(warp(input, { matrix, mode: 'reflect' }), field, { mode: 'reflect' });
    // Differ only where the shifted image's reflection differs from reflecting the original (edges).
    let inner = 0;
    for (let y = 6; y < 26; y++) {
      for (let x = 6; x < 26; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * 32 + x) * 3 + c;
          const p = y * 32 + x;
          if (Math.abs(field.dx[p]) < 2 && Math.abs(field.dy[p]) < 2) inner = Math.max(inner, Math.abs(once.data[i] - twice.data[i]));
        }
      }
    }
    expect(inner).toBeLessThan(1e-6);
  });
});

describe('flips, identities and intensity formulas', () => {
  test('flips twice are the identity, and flip the right axis', () => {
    expect(maxAbsDiff(flipHorizontal(flipHorizontal(input)).data, input.data)).toBe(0);
    expect(maxAbsDiff(flipVertical(flipVertical(input)).data, input.data)).toBe(0);
    const h = flipHorizontal(input);
    const v = flipVertical(input);
    for (const [x, y, c] of [
      [0, 0, 0],
      [5, 7, 1],
      [31, 20, 2],
    ]) {
      expect(h.data[(y * 32 + x) * 3 + c]).toBe(input.data[(y * 32 + 31 - x) * 3 + c]);
      expect(v.data[(y * 32 + x) * 3 + c]).toBe(input.data[((31 - y) * 32 + x) * 3 + c]);
    }
    // A flip equals rotate(180) composed with the other flip (exact at 180°).
    expect(maxAbsDiff(flipHorizontal(flipVertical(input)).data, rotate(input, 180).data)).toBeLessThan(1e-6);
  });

  test('identity options and parameters leave the image unchanged (a copy)', () => {
    const rng = new Random(1);
    for (const options of [
      {},
      { rotation: { degrees: [0, 0] as const }, affine: { scale: [1, 1] as const, shear: [0, 0] as const, translate: [0, 0] as const } },
      { contrast: { factor: [1, 1] as const }, brightness: { delta: [0, 0] as const }, crop: { area: [1, 1] as const } },
      { flipHorizontal: 0, flipVertical: false, elastic: false as const },
    ] satisfies AugmentOptions[]) {
      const out = augment(input, options, rng);
      expect(out.data).not.toBe(input.data);
      expect(maxAbsDiff(out.data, input.data)).toBe(0);
    }
    // A warp with the identity matrix and a zero field samples pixel centres exactly.
    const zero = new Float32Array(32 * 32);
    expect(maxAbsDiff(warp(input, { dx: zero, dy: zero }).data, input.data)).toBe(0);
    expect(maxAbsDiff(rotate(input, 0, { mode: 'constant' }).data, input.data)).toBe(0);
    expect(maxAbsDiff(rotate(input, 360).data, input.data)).toBeLessThan(1e-5);
  });

  test('brightness and contrast follow their formulas exactly', () => {
    const img: ChannelImage = { data: Float32Array.from([0.1, 0.5, 0.9, 0.3, 0.2, 0.4]), width: 2, height: 1, channels: 3 };
    const b = adjustBrightness(img, 0.25);
    expect(Array.from(b.data)).toEqual(Array.from(img.data, (v) => Math.fround(v + 0.25)));
    const k = 1.7;
    const c = adjustContrast(img, k);
    const means = [0, 1, 2].map((ch) => (img.data[ch] + img.data[ch + 3]) / 2);
    expect(Array.from(c.data)).toEqual(Array.from(img.data, (v, i) => Math.fround(means[i % 3] + k * (v - means[i % 3]))));
    // Contrast keeps each channel's mean; brightness shifts it by delta.
    const big = adjustContrast(input, 0.4);
    for (let ch = 0; ch < 3; ch++) {
      let before = 0;
      let after = 0;
      for (let i = ch; i < input.data.length; i += 3) {
        before += input.data[i];
        after += big.data[i];
      }
      expect(after / 1024).toBeCloseTo(before / 1024, 5);
    }
    // In augment: contrast first, then brightness, then clip.
    const params = drawAugmentParams({ contrast: { factor: [2, 2] }, brightness: { delta: [-0.1, -0.1] }, clip: [0, 1] }, 2, 1, new Random(0));
    const both = applyAugmentParams(img, params);
    expect(Array.from(both.data)).toEqual(
      Array.from(adjustBrightness(adjustContrast(img, 2), -0.1).data, (v) => Math.min(1, Math.max(0, v))),
    );
  });
});

describe('augment', () => {
  const big: ChannelImage = (() => {
    const rng = new Random(3);
    return { data: rng.fillUniform(new Float32Array(64 * 48 * 3)), width: 64, height: 48, channels: 3 };
  })();

  test('same seed, same result; parameters stay in their ranges', () => {
    const a = augment(big, ORGANET_AUGMENTATION, new Random(11));
    const b = augment(big, ORGANET_AUGMENTATION, new Random(11));
    const c = augment(big, ORGANET_AUGMENTATION, new Random(12));
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
    expect(maxAbsDiff(a.data, c.data)).toBeGreaterThan(0.1);
    const rng = new Random(4);
    let flips = 0;
    for (let k = 0; k < 200; k++) {
      const p = drawAugmentParams(MOBINCEP_AUGMENTATION, 64, 48, rng);
      if (p.flipHorizontal) flips++;
      expect(Math.abs(p.rotation)).toBeLessThanOrEqual(180);
      expect(Math.abs(p.translate[0])).toBeLessThanOrEqual(6.4);
      expect(Math.abs(p.translate[1])).toBeLessThanOrEqual(4.8);
      expect(p.scale).toBeGreaterThanOrEqual(0.9);
      expect(p.scale).toBeLessThanOrEqual(1.1);
      expect(Math.abs(p.shear[0])).toBeLessThanOrEqual(10);
      expect(p.shear[1]).toBe(0);
      expect(p.elastic).toBeNull();
      if (p.crop) {
        const { x, y, width, height } = p.crop;
        expect(x + width).toBeLessThanOrEqual(64);
        expect(y + height).toBeLessThanOrEqual(48);
        const area = (width * height) / (64 * 48);
        expect(area).toBeGreaterThan(0.6);
        expect(area).toBeLessThanOrEqual(1);
      }
    }
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
  });

  test('augment with only a rotation equals rotate() with the drawn angle', () => {
    const options: AugmentOptions = { rotation: { degrees: [-45, 45] }, fill: 'constant' };
    const params = drawAugmentParams(options, 64, 48, new Random(9));
    const out = augment(big, options, new Random(9));
    expect(params.rotation).not.toBe(0);
    expect(maxAbsDiff(out.data, rotate(big, params.rotation, { mode: 'constant' }).data)).toBe(0);
  });

  test('measured errors', () => {
    console.log(JSON.stringify(measured, null, 1));
  });
});
