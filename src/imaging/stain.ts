/**
 * Colour deconvolution of brightfield H&E(-DAB) images (Ruifrok & Johnston
 * 2001), numerically as skimage.color.rgb2hed / hed2rgb in scikit-image 0.19:
 *
 *   rgb  = max(I / 255, 1e-6)                 (per channel, I in 0..255)
 *   od   = ln(rgb) / ln(1e-6)                 (optical density on a 0..1 scale:
 *                                              white → 0, a channel at 0 → 1)
 *   [H, E, D] = max(0, od · HED_FROM_RGB)     (od is a row vector)
 *
 * so od = −log10(I/255) / 6 and a stain amount of 1 is an optical density of
 * 6 (decades) along that stain's vector. The 1e-6 floor makes a channel at 0
 * jump to od = 1, far above the ≈ 0.4 of a channel at 1: such saturated
 * pixels are outliers in every channel, which hematoxylinThreshold guards
 * against.
 */
import { checkImage, type FloatImage, type Image, type InterleavedImage, type Mask } from './image';
import { percentiles } from './color';
import { thresholdOtsu } from './threshold';

type Matrix3 = readonly [readonly [number, number, number], readonly [number, number, number], readonly [number, number, number]];

/**
 * Rows are the optical-density vectors of hematoxylin, eosin and DAB
 * (Ruifrok & Johnston's values, not normalised, exactly as skimage's rgb_from_hed).
 */
export const RGB_FROM_HED: Matrix3 = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

/** Inverse of RGB_FROM_HED: maps an optical-density row vector to stain amounts. */
export const HED_FROM_RGB: Matrix3 = invert3(RGB_FROM_HED);

/** The floor on transmittance, and so the log base: amounts are ln(T)/ln(1e-6). */
export const TRANSMITTANCE_FLOOR = 1e-6;
/** −ln(1e-6): a stain amount s absorbs exp(−s · HED_LOG_SCALE · vector). */
export const HED_LOG_SCALE = -Math.log(TRANSMITTANCE_FLOOR);

/** Per-pixel stain amounts (skimage's HED units: 1 = optical density 6 along the stain vector). */
export interface HedChannels {
  hematoxylin: FloatImage;
  eosin: FloatImage;
  dab: FloatImage;
}

function invert3(m: Matrix3): Matrix3 {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const c00 = e * i - f * h;
  const c01 = -(d * i - f * g);
  const c02 = d * h - e * g;
  const det = a * c00 + b * c01 + c * c02;
  if (Math.abs(det) < 1e-12) throw new RangeError('stain matrix is singular');
  const s = 1 / det;
  return [
    [c00 * s, -(b * i - c * h) * s, (b * f - c * e) * s],
    [c01 * s, (a * i - c * g) * s, -(a * f - c * d) * s],
    [c02 * s, -(a * h - b * g) * s, (a * e - b * d) * s],
  ];
}

/** skimage's per-channel optical density: ln(max(v/255, 1e-6)) / ln(1e-6). */
function channelDensity(value: number): number {
  // img_as_float multiplies by 1/255 (not divides): keep the same rounding.
  const t = value * (1 / 255);
  return Math.log(t > TRANSMITTANCE_FLOOR ? t : TRANSMITTANCE_FLOOR) / Math.log(TRANSMITTANCE_FLOOR);
}

/** Densities of the 256 byte values, so 8-bit images need no logarithms per pixel. */
const BYTE_DENSITY: Float64Array = (() => {
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = channelDensity(v);
  return lut;
})();

/**
 * Colour deconvolution into hematoxylin, eosin and DAB amounts, as
 * skimage.color.rgb2hed(rgb) for 8-bit RGB. `rgb` is interleaved RGB or RGBA
 * (alpha ignored) on a 0..255 scale; float data are read on the same scale
 * (skimage's rgb2hed(x / 255)). Amounts are clipped below at 0, as skimage does.
 */
export function rgbToHed(rgb: InterleavedImage): HedChannels {
  const { width, height, channels, data } = rgb;
  const n = width * height;
  if (channels !== 3 && channels !== 4) throw new RangeError('rgbToHed: need 3 (RGB) or 4 (RGBA) channels');
  if (data.length !== n * channels) throw new RangeError('rgbToHed: data length does not match size*channels');
  const hematoxylin = new Float32Array(n);
  const eosin = new Float32Array(n);
  const dab = new Float32Array(n);
  const [[m00, m01, m02], [m10, m11, m12], [m20, m21, m22]] = HED_FROM_RGB;
  const bytes = data instanceof Uint8Array;
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    const r = bytes ? BYTE_DENSITY[data[j]] : channelDensity(data[j]);
    const g = bytes ? BYTE_DENSITY[data[j + 1]] : channelDensity(data[j + 1]);
    const b = bytes ? BYTE_DENSITY[data[j + 2]] : channelDensity(data[j + 2]);
    const h = r * m00 + g * m10 + b * m20;
    const e = r * m01 + g * m11 + b * m21;
    const d = r * m02 + g * m12 + b * m22;
    hematoxylin[i] = h > 0 ? h : 0;
    eosin[i] = e > 0 ? e : 0;
    dab[i] = d > 0 ? d : 0;
  }
  return {
    hematoxylin: { data: hematoxylin, width, height },
    eosin: { data: eosin, width, height },
    dab: { data: dab, width, height },
  };
}

/**
 * Inverse of rgbToHed (skimage.color.hed2rgb × 255): Beer–Lambert recombination
 * I = 255 · exp(−HED_LOG_SCALE · Σ amount · stain vector), clipped to 0..255,
 * unrounded, as interleaved RGB float. Amounts are used as given (no clipping),
 * so rgbToHed(hedToRgb(x)) returns x wherever x ≥ 0 and no channel saturates.
 */
export function hedToRgb(stains: HedChannels): InterleavedImage & { data: Float32Array } {
  const { hematoxylin, eosin, dab } = stains;
  checkImage(hematoxylin, 'hematoxylin');
  checkImage(eosin, 'eosin');
  checkImage(dab, 'dab');
  const { width, height } = hematoxylin;
  if (eosin.width !== width || eosin.height !== height || dab.width !== width || dab.height !== height) {
    throw new RangeError('hedToRgb: channel sizes differ');
  }
  const n = width * height;
  const out = new Float32Array(n * 3);
  const [hv, ev, dv] = RGB_FROM_HED;
  for (let i = 0; i < n; i++) {
    const h = hematoxylin.data[i];
    const e = eosin.data[i];
    const d = dab.data[i];
    for (let c = 0; c < 3; c++) {
      const t = Math.exp(-HED_LOG_SCALE * (h * hv[c] + e * ev[c] + d * dv[c]));
      out[i * 3 + c] = 255 * (t < 1 ? t : 1);
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Percentile at which hematoxylinThreshold clips the H channel before Otsu. */
export const HEMATOXYLIN_CLIP_PERCENTILE = 99.5;

/**
 * Default hematoxylin threshold: Otsu's threshold (256 bins, skimage's
 * threshold_otsu) of the H channel after clipping it at its 99.5th percentile,
 * i.e. threshold_otsu(np.minimum(H, np.percentile(H, 99.5))).
 *
 * Why the clip: pixels with a channel at 0 (JPEG overshoot, pen marks) get
 * H ≈ 0.7–1.2 through skimage's 1e-6 floor, while nuclei sit near 0.1–0.3.
 * Without the clip those few pixels stretch the histogram so far that Otsu
 * separates them alone (on the CMU-1 demo slide it picks ≈ 0.69 and marks
 * < 1 % of pixels); clipped, it separates nuclei from stroma.
 */
export function hematoxylinThreshold(hematoxylin: Image): number {
  checkImage(hematoxylin, 'hematoxylin');
  if (hematoxylin.data.length === 0) throw new RangeError('hematoxylinThreshold of an empty image');
  const [ceiling] = percentiles(hematoxylin, [HEMATOXYLIN_CLIP_PERCENTILE]);
  const clipped = new Float32Array(hematoxylin.data.length);
  for (let i = 0; i < clipped.length; i++) {
    const v = hematoxylin.data[i];
    clipped[i] = v < ceiling ? v : ceiling;
  }
  return thresholdOtsu({ data: clipped, width: hematoxylin.width, height: hematoxylin.height });
}

/**
 * Hematoxylin-positive mask: 1 where H > threshold (strictly, as
 * `H > threshold_otsu(H)` in skimage). Without a threshold, hematoxylinThreshold(h).
 */
export function hematoxylinPositive(hematoxylin: Image, threshold?: number): Mask {
  const level = threshold ?? hematoxylinThreshold(hematoxylin);
  const src = hematoxylin.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = src[i] > level ? 1 : 0;
  return { data: out, width: hematoxylin.width, height: hematoxylin.height };
}
