/**
 * Colour to grey, optical density, inversion and intensity rescaling.
 */
import { checkImage, type FloatImage, type Image, type InterleavedImage, roundHalfEven } from './image';

/** skimage.color.rgb2gray weights (ITU-R BT.709 luma on linear values). */
export const LUMINANCE_WEIGHTS = [0.2125, 0.7154, 0.0721] as const;

export type GrayMethod =
  /** 0.2125 R + 0.7154 G + 0.0721 B, as skimage.color.rgb2gray. */
  | 'luminance'
  /** max(R, G, B): keeps a fluorescence signal whatever its display colour. */
  | 'max'
  | 'mean';

/**
 * Interleaved RGB(A) → one channel, on the input's scale (0..255 in, 0..255
 * out; skimage's rgb2gray returns the same values divided by 255).
 * `method` may also be a channel index (e.g. 2 = the blue DAPI channel).
 */
export function toGray(rgb: InterleavedImage, method: GrayMethod | number = 'luminance'): FloatImage {
  const { width, height, channels, data } = rgb;
  const n = width * height;
  if (data.length !== n * channels) throw new RangeError('toGray: data length does not match size*channels');
  const out = new Float32Array(n);
  if (typeof method === 'number') {
    if (!Number.isInteger(method) || method < 0 || method >= channels) throw new RangeError('toGray: bad channel');
    for (let i = 0, j = method; i < n; i++, j += channels) out[i] = data[j];
    return { data: out, width, height };
  }
  if (channels < 3) {
    if (channels !== 1) throw new RangeError('toGray: need 1, 3 or 4 channels');
    out.set(data);
    return { data: out, width, height };
  }
  const [wr, wg, wb] = LUMINANCE_WEIGHTS;
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    const r = data[j];
    const g = data[j + 1];
    const b = data[j + 2];
    if (method === 'luminance') out[i] = wr * r + wg * g + wb * b;
    else if (method === 'max') out[i] = r > g ? (r > b ? r : b) : g > b ? g : b;
    else out[i] = (r + g + b) / 3;
  }
  return { data: out, width, height };
}

/** toGray rounded half-to-even into 0..255 bytes (like np.round(...).astype(uint8)). */
export function toGrayByte(rgb: InterleavedImage, method: GrayMethod | number = 'luminance'): Image<Uint8Array> {
  const gray = toGray(rgb, method);
  const out = new Uint8Array(gray.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = roundHalfEven(gray.data[i]);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { data: out, width: gray.width, height: gray.height };
}

/**
 * Beer–Lambert optical density of transmitted light,
 * OD = −log10((I + 1) / (maxValue + 1)), with maxValue = 255 for 8-bit data.
 * The +1 keeps black pixels finite (OD(0) = log10(256) ≈ 2.408) and makes
 * white glass exactly 0. Values above maxValue give 0 (clipped).
 */
export function opticalDensity(img: Image, maxValue = 255): FloatImage {
  checkImage(img);
  const out = new Float32Array(img.data.length);
  const i0 = maxValue + 1;
  for (let i = 0; i < out.length; i++) {
    const od = -Math.log10((img.data[i] + 1) / i0);
    out[i] = od > 0 ? od : 0;
  }
  return { data: out, width: img.width, height: img.height };
}

/** maxValue − v for every pixel (same array type as the input). */
export function invert<T extends Image>(img: T, maxValue = 255): T {
  const out = img.data instanceof Uint8Array ? new Uint8Array(img.data.length) : new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = maxValue - img.data[i];
  return { ...img, data: out };
}

/**
 * Linear map of [inLow, inHigh] onto [outLow, outHigh] with clipping, as
 * skimage.exposure.rescale_intensity(image, in_range, out_range) for float output.
 * If inLow == inHigh the values are only clipped to the output range.
 */
export function rescaleIntensity(
  img: Image,
  inRange: readonly [number, number],
  outRange: readonly [number, number] = [0, 1],
): FloatImage {
  const [lo, hi] = inRange;
  const [olo, ohi] = outRange;
  const out = new Float32Array(img.data.length);
  const src = img.data;
  if (lo === hi) {
    for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(src[i], olo), ohi);
  } else {
    const scale = (ohi - olo) / (hi - lo);
    for (let i = 0; i < out.length; i++) {
      const v = src[i] < lo ? lo : src[i] > hi ? hi : src[i];
      out[i] = (v - lo) * scale + olo;
    }
  }
  return { data: out, width: img.width, height: img.height };
}

/**
 * Percentiles with numpy's default ('linear') interpolation:
 * position p/100·(n−1) in the sorted values. Counting sort for 8-bit data.
 */
export function percentiles(img: Image, ps: readonly number[]): number[] {
  const n = img.data.length;
  if (n === 0) return ps.map(() => NaN);
  const valueAt = sortedAccessor(img);
  return ps.map((p) => {
    if (!(p >= 0 && p <= 100)) throw new RangeError('percentile must be in [0, 100]');
    const pos = (p / 100) * (n - 1);
    const i = Math.floor(pos);
    const frac = pos - i;
    const a = valueAt(i);
    return frac === 0 ? a : a + (valueAt(Math.min(i + 1, n - 1)) - a) * frac;
  });
}

function sortedAccessor(img: Image): (rank: number) => number {
  if (img.data instanceof Uint8Array) {
    const cumulative = new Float64Array(256);
    const counts = new Float64Array(256);
    for (let i = 0; i < img.data.length; i++) counts[img.data[i]]++;
    let sum = 0;
    for (let v = 0; v < 256; v++) {
      sum += counts[v];
      cumulative[v] = sum;
    }
    return (rank) => {
      let v = 0;
      while (cumulative[v] <= rank) v++;
      return v;
    };
  }
  const sorted = Float32Array.from(img.data).sort();
  return (rank) => sorted[rank];
}

/**
 * Percentile contrast stretch: rescaleIntensity with in_range set to the
 * (low, high) percentiles, the usual skimage recipe
 * `rescale_intensity(img, in_range=tuple(np.percentile(img, (2, 98))))`.
 */
export function contrastStretch(
  img: Image,
  lowPercentile = 2,
  highPercentile = 98,
  outRange: readonly [number, number] = [0, 1],
): { image: FloatImage; inRange: [number, number] } {
  const [lo, hi] = percentiles(img, [lowPercentile, highPercentile]);
  return { image: rescaleIntensity(img, [lo, hi], outRange), inRange: [lo, hi] };
}
