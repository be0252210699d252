/**
 * Separable Gaussian blur matching skimage.filters.gaussian(image, sigma,
 * mode='nearest', truncate=4.0, preserve_range=True), i.e.
 * scipy.ndimage.gaussian_filter with edge-replicating borders.
 */
import { checkImage, type FloatImage, type Image } from './image';

/**
 * Normalised 1-D kernel, centre first: weights[k] applies to offsets ±k.
 * Radius = int(truncate·sigma + 0.5), as scipy.
 */
export function gaussianKernel(sigma: number, truncate = 4.0): Float64Array {
  if (!(sigma >= 0)) throw new RangeError('sigma must be >= 0');
  const radius = Math.floor(truncate * sigma + 0.5);
  const half = new Float64Array(radius + 1);
  if (radius === 0) {
    half[0] = 1;
    return half;
  }
  let sum = 0;
  for (let k = 0; k <= radius; k++) {
    half[k] = Math.exp((-0.5 * k * k) / (sigma * sigma));
    sum += k === 0 ? half[k] : 2 * half[k];
  }
  for (let k = 0; k <= radius; k++) half[k] /= sum;
  return half;
}

export interface GaussianOptions {
  /** Kernel half-width in sigmas (scipy's `truncate`). Default 4. */
  truncate?: number;
}

/**
 * Gaussian blur, O(width·height·radius). Output is Float32 on the input's
 * scale (0..255 stays 0..255). `sigma` may differ per axis: [sigmaY, sigmaX].
 * A sigma of 0 leaves that axis untouched, as scipy does.
 */
export function gaussianBlur(
  img: Image,
  sigma: number | readonly [number, number],
  options: GaussianOptions = {},
): FloatImage {
  checkImage(img);
  const truncate = options.truncate ?? 4.0;
  const [sigmaY, sigmaX] = typeof sigma === 'number' ? [sigma, sigma] : sigma;
  const { width, height } = img;
  let data: Float32Array = Float32Array.from(img.data);
  if (width === 0 || height === 0) return { data, width, height };
  if (sigmaX > 1e-15) data = blurRows(data, width, height, gaussianKernel(sigmaX, truncate));
  if (sigmaY > 1e-15) data = blurColumns(data, width, height, gaussianKernel(sigmaY, truncate));
  return { data, width, height };
}

/** Horizontal pass: each row is copied into an edge-extended buffer first. */
function blurRows(src: Float32Array, width: number, height: number, weights: Float64Array): Float32Array {
  const radius = weights.length - 1;
  const out = new Float32Array(src.length);
  const padded = new Float64Array(width + 2 * radius);
  const w0 = weights[0];
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const first = src[row];
    const last = src[row + width - 1];
    for (let i = 0; i < radius; i++) {
      padded[i] = first;
      padded[radius + width + i] = last;
    }
    for (let x = 0; x < width; x++) padded[radius + x] = src[row + x];
    for (let x = 0; x < width; x++) {
      const c = x + radius;
      let acc = w0 * padded[c];
      for (let k = 1; k <= radius; k++) acc += weights[k] * (padded[c - k] + padded[c + k]);
      out[row + x] = acc;
    }
  }
  return out;
}

/**
 * Vertical pass, row by row so memory is read sequentially: every output row
 * is a weighted sum of whole input rows (rows outside the image clamp to the
 * first/last one, scipy's 'nearest').
 */
function blurColumns(src: Float32Array, width: number, height: number, weights: Float64Array): Float32Array {
  const radius = weights.length - 1;
  const out = new Float32Array(src.length);
  const acc = new Float64Array(width);
  const last = height - 1;
  for (let y = 0; y < height; y++) {
    const w0 = weights[0];
    const centre = y * width;
    for (let x = 0; x < width; x++) acc[x] = w0 * src[centre + x];
    for (let k = 1; k <= radius; k++) {
      const wk = weights[k];
      const above = (y - k < 0 ? 0 : y - k) * width;
      const below = (y + k > last ? last : y + k) * width;
      for (let x = 0; x < width; x++) acc[x] += wk * (src[above + x] + src[below + x]);
    }
    for (let x = 0; x < width; x++) out[centre + x] = acc[x];
  }
  return out;
}
