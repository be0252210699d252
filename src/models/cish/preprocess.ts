import { CISH_DEFAULTS, type CishIntensityMode } from './defaults';

/**
 * Pre-processing of one tile for the CISH autoencoder: a pure function from
 * pixels to a Float32Array of side `outputSize` (row-major, one channel) with
 * every value in [0, 1]. It has no dependency on tensors, DOM or workers.
 */

export type TilePixels = Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array;

export interface TileImage {
  /** Interleaved samples, row-major: `width * height * channels` values. */
  data: TilePixels;
  width: number;
  height: number;
  /** 1 = grey, 3 = RGB, 4 = RGBA (alpha ignored). */
  channels: 1 | 3 | 4;
}

export interface ContrastStretch {
  /** Percentile mapped to 0 (numpy's default 'linear' percentile). */
  low: number;
  /** Percentile mapped to 1. */
  high: number;
}

export interface PreprocessOptions {
  /** 'intensity': brightness in [0,1]. 'od': optical density, scaled so that 1/255 of full scale → 1. */
  mode?: CishIntensityMode;
  /** Median filter radius in pixels (square window of side 2r+1, edges repeat); 0 or absent = off. */
  median?: number;
  /** Percentile contrast stretch applied last; `true` = 1st–99th percentile. */
  contrast?: boolean | ContrastStretch;
  /** Side of the output; the tile is resized bilinearly if it differs. Default 300. */
  outputSize?: number;
  /**
   * Grey level in [0, 1] at or above which a pixel is glass: such pixels take
   * the mean grey of the tile's other pixels (see `fillGlass`). Absent = off.
   */
  glassAbove?: number;
}

/** Below this share of non-glass pixels a tile is left as it is: there is no tissue to fill from. */
const MIN_TISSUE_TO_FILL = 0.05;

/**
 * In place: every pixel at or above `glassAbove` takes the mean of the
 * pixels below it. A tile's code should describe its tissue; left as it is,
 * the glass in a tile is the largest difference between tiles and the 2-D
 * code learns the glass share instead of the stain (issue 15). Returns the
 * share of pixels that were filled.
 */
export function fillGlass(values: Float32Array, glassAbove: number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < glassAbove) {
      sum += values[i];
      count++;
    }
  }
  const glass = values.length - count;
  if (glass === 0 || count < MIN_TISSUE_TO_FILL * values.length) return glass / values.length;
  const mean = sum / count;
  for (let i = 0; i < values.length; i++) if (values[i] >= glassAbove) values[i] = mean;
  return glass / values.length;
}

/** Weights of ITU-R BT.709 luma, the same ones scikit-image's rgb2gray uses. */
export const LUMA_WEIGHTS = [0.2125, 0.7154, 0.0721] as const;

/** Darkest intensity the OD transform distinguishes: one 8-bit step. */
const OD_FLOOR = 1 / 255;
const OD_MAX = -Math.log10(OD_FLOOR);

function fullScale(data: TilePixels): number {
  if (data instanceof Uint16Array) return 65535;
  if (data instanceof Float32Array) return 1;
  return 255;
}

/** Grey level in [0,1] per pixel (luminance for colour input). */
export function toGray(image: TileImage): Float32Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  if (data.length !== n * channels) {
    throw new Error(`tile data has ${data.length} values, expected ${n * channels}`);
  }
  const scale = 1 / fullScale(data);
  const out = new Float32Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = data[i] * scale;
  } else {
    const [wr, wg, wb] = LUMA_WEIGHTS;
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      out[i] = (wr * data[j] + wg * data[j + 1] + wb * data[j + 2]) * scale;
    }
  }
  for (let i = 0; i < n; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  return out;
}

/** Median over a (2r+1)² window; pixels outside the tile take the nearest edge value. */
export function medianFilter(src: Float32Array, width: number, height: number, radius: number): Float32Array {
  const r = Math.floor(radius);
  if (r <= 0) return src.slice();
  const side = 2 * r + 1;
  const window = new Float32Array(side * side);
  const mid = (side * side - 1) >> 1;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let dy = -r; dy <= r; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy)) * width;
        for (let dx = -r; dx <= r; dx++) {
          window[k++] = src[yy + Math.min(width - 1, Math.max(0, x + dx))];
        }
      }
      window.sort();
      out[y * width + x] = window[mid];
    }
  }
  return out;
}

/**
 * Bilinear resampling with pixel-centre alignment and edge clamping (the
 * mapping of scikit-image's resize with order=1, mode='edge', no anti-aliasing).
 */
export function resizeBilinear(
  src: Float32Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  if (width === outWidth && height === outHeight) return src.slice();
  const out = new Float32Array(outWidth * outHeight);
  const sy = height / outHeight;
  const sx = width / outWidth;
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.min(height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const fx = Math.min(width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * width + x0] * (1 - wx) + src[y0 * width + x1] * wx;
      const bottom = src[y1 * width + x0] * (1 - wx) + src[y1 * width + x1] * wx;
      out[y * outWidth + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Optical density −log10(I) of an intensity in [0,1], scaled to [0,1]. */
export function opticalDensity(intensity: number): number {
  return Math.max(0, -Math.log10(Math.max(OD_FLOOR, intensity)) / OD_MAX);
}

/** numpy.percentile with its default linear interpolation. */
export function percentile(values: Float32Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Linear map of [p_low, p_high] onto [0,1], clipped; a flat tile is left unchanged. */
export function stretchContrast(values: Float32Array, stretch: ContrastStretch): Float32Array {
  const lo = percentile(values, stretch.low);
  const hi = percentile(values, stretch.high);
  if (!(hi > lo)) return values.slice();
  const scale = 1 / (hi - lo);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(1, Math.max(0, (values[i] - lo) * scale));
  return out;
}

/**
 * Tile → network input: grey level, optional median, resize to `outputSize`,
 * optional glass fill, intensity or optical density, optional contrast stretch.
 */
export function preprocessTile(image: TileImage, options: PreprocessOptions = {}): Float32Array {
  const outputSize = options.outputSize ?? CISH_DEFAULTS.inputSize;
  let values = toGray(image);
  if (options.median && options.median > 0) {
    values = medianFilter(values, image.width, image.height, options.median);
  }
  values = resizeBilinear(values, image.width, image.height, outputSize, outputSize);
  if (options.glassAbove !== undefined) fillGlass(values, options.glassAbove);
  if ((options.mode ?? CISH_DEFAULTS.intensityMode) === 'od') {
    for (let i = 0; i < values.length; i++) values[i] = opticalDensity(values[i]);
  }
  if (options.contrast) {
    const stretch = options.contrast === true ? { low: 1, high: 99 } : options.contrast;
    values = stretchContrast(values, stretch);
  }
  return values;
}
