/**
 * Resampling: Lanczos-3 as Pillow's Image.resize(size, Image.LANCZOS), and
 * box averaging (skimage.transform.downscale_local_mean, partial-block means,
 * and area resizing to any size).
 */
import { checkImage, checkSize, type FloatImage, type Image, type Mask } from './image';

const LANCZOS_SUPPORT = 3;
/** Pillow's fixed-point precision for 8-bit resampling (32 − 8 − 2 bits). */
const PRECISION_BITS = 22;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  // Pillow keeps the left end point (-3 <= x < 3).
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

interface Coefficients {
  /** First input index used by each output sample. */
  start: Int32Array;
  /** Number of input samples used by each output sample. */
  count: Int32Array;
  /** `kernelSize` weights per output sample (normalised to sum 1). */
  weights: Float64Array;
  kernelSize: number;
}

/**
 * Pillow's precompute_coeffs: when shrinking, the filter is stretched by the
 * scale so every input pixel contributes (antialiasing); the window is
 * clipped at the image edges and the weights renormalised there.
 */
function lanczosCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  // Multiplying by the reciprocal (not dividing) keeps Pillow's exact weights.
  const inverseScale = 1 / filterScale;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * kernelSize);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // C casts truncate toward zero.
    let lo = Math.trunc(centre - support + 0.5);
    if (lo < 0) lo = 0;
    let hi = Math.trunc(centre + support + 0.5);
    if (hi > inSize) hi = inSize;
    const n = hi - lo;
    let sum = 0;
    const base = i * kernelSize;
    for (let k = 0; k < n; k++) {
      const w = lanczos((k + lo - centre + 0.5) * inverseScale);
      weights[base + k] = w;
      sum += w;
    }
    if (sum !== 0) for (let k = 0; k < n; k++) weights[base + k] /= sum;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, kernelSize };
}

/** Pillow's normalize_coeffs_8bpc: weights to fixed point, rounded away from 0. */
function fixedPoint(weights: Float64Array): Int32Array {
  const out = new Int32Array(weights.length);
  const one = 1 << PRECISION_BITS;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    out[i] = w < 0 ? Math.trunc(-0.5 + w * one) : Math.trunc(0.5 + w * one);
  }
  return out;
}

/** Pillow's clip8: fixed-point accumulator (with its +0.5 bias) to 0..255. */
function clip8(acc: number): number {
  if (acc >= 1 << (PRECISION_BITS + 8)) return 255;
  if (acc <= 0) return 0;
  return acc >> PRECISION_BITS;
}

/**
 * Lanczos-3 resize reproducing Pillow's Image.resize(size, Image.LANCZOS):
 * horizontal pass first, then vertical.
 * - Uint8 input ("L" mode): 22-bit fixed-point weights and an 8-bit
 *   intermediate image, exactly as Pillow, so results match it bit for bit.
 * - Float32 input ("F" mode): double weights, no rounding or clipping
 *   (Lanczos overshoots: values can leave the input range).
 */
export function resizeLanczos<T extends Image>(img: T, width: number, height: number): T {
  checkImage(img);
  checkSize(width, height);
  if (width === 0 || height === 0 || img.width === 0 || img.height === 0) {
    if (width * height !== 0) throw new RangeError('cannot resize an empty image');
    return { ...img, data: new (img.data.constructor as typeof Float32Array)(0), width, height };
  }
  const bytes = img.data instanceof Uint8Array;
  let data: Uint8Array | Float32Array = img.data;
  let w = img.width;
  const h = img.height;
  if (width !== w) {
    data = bytes
      ? resizeRowsU8(data as Uint8Array, w, h, width)
      : resizeRowsF32(data as Float32Array, w, h, width);
    w = width;
  }
  if (height !== h) {
    data = bytes
      ? resizeColumnsU8(data as Uint8Array, w, h, height)
      : resizeColumnsF32(data as Float32Array, w, h, height);
  }
  if (data === img.data) data = data.slice();
  return { ...img, data, width, height };
}

function resizeRowsU8(src: Uint8Array, w: number, h: number, outW: number): Uint8Array {
  const c = lanczosCoefficients(w, outW);
  const k = fixedPoint(c.weights);
  const out = new Uint8Array(outW * h);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < outW; x++) {
      const base = x * c.kernelSize;
      const from = row + c.start[x];
      let acc = half;
      for (let i = 0, n = c.count[x]; i < n; i++) acc += src[from + i] * k[base + i];
      out[y * outW + x] = clip8(acc);
    }
  }
  return out;
}

function resizeColumnsU8(src: Uint8Array, w: number, h: number, outH: number): Uint8Array {
  const c = lanczosCoefficients(h, outH);
  const k = fixedPoint(c.weights);
  const out = new Uint8Array(w * outH);
  const acc = new Float64Array(w);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    acc.fill(half);
    const base = y * c.kernelSize;
    for (let i = 0, n = c.count[y]; i < n; i++) {
      const weight = k[base + i];
      const row = (c.start[y] + i) * w;
      for (let x = 0; x < w; x++) acc[x] += src[row + x] * weight;
    }
    for (let x = 0; x < w; x++) out[y * w + x] = clip8(acc[x]);
  }
  return out;
}

function resizeRowsF32(src: Float32Array, w: number, h: number, outW: number): Float32Array {
  const c = lanczosCoefficients(w, outW);
  const out = new Float32Array(outW * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < outW; x++) {
      const base = x * c.kernelSize;
      const from = row + c.start[x];
      let acc = 0;
      for (let i = 0, n = c.count[x]; i < n; i++) acc += src[from + i] * c.weights[base + i];
      out[y * outW + x] = acc;
    }
  }
  return out;
}

function resizeColumnsF32(src: Float32Array, w: number, h: number, outH: number): Float32Array {
  const c = lanczosCoefficients(h, outH);
  const out = new Float32Array(w * outH);
  const acc = new Float64Array(w);
  for (let y = 0; y < outH; y++) {
    acc.fill(0);
    const base = y * c.kernelSize;
    for (let i = 0, n = c.count[y]; i < n; i++) {
      const weight = c.weights[base + i];
      const row = (c.start[y] + i) * w;
      for (let x = 0; x < w; x++) acc[x] += src[row + x] * weight;
    }
    out.set(acc, y * w);
  }
  return out;
}

/**
 * Scales a binary mask to another size the way the seed does (Lanczos on a
 * 0/255 image), then keeps pixels ≥ 128.
 */
export function resizeMask(mask: Mask, width: number, height: number): Mask {
  checkImage(mask, 'mask');
  const scaled = new Uint8Array(mask.data.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = mask.data[i] ? 255 : 0;
  const big = resizeLanczos({ data: scaled, width: mask.width, height: mask.height }, width, height);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = big.data[i] >= 128 ? 1 : 0;
  return { data: out, width, height };
}

/**
 * skimage.transform.downscale_local_mean(image, (factorY, factorX), cval):
 * means of factorY×factorX blocks; the image is padded at the bottom/right
 * with `cval` up to a multiple of the factors, so cut blocks are diluted by
 * the padding (that is skimage's behaviour; see downscaleMean otherwise).
 */
export function downscaleLocalMean(img: Image, factorY: number, factorX = factorY, cval = 0): FloatImage {
  return blockMean(img, factorY, factorX, cval);
}

/**
 * Block means where blocks cut by the right/bottom edge average only the
 * pixels they hold; output size ceil(width/factor) × ceil(height/factor).
 * Used for the tissue mask, where a zero pad would look like dark tissue.
 */
export function downscaleMean(img: Image, factor: number): FloatImage {
  return blockMean(img, factor, factor, null);
}

function blockMean(img: Image, fy: number, fx: number, cval: number | null): FloatImage {
  checkImage(img);
  if (!Number.isInteger(fx) || !Number.isInteger(fy) || fx < 1 || fy < 1) {
    throw new RangeError('downscale factors must be positive integers');
  }
  const { width, height, data } = img;
  const ow = Math.ceil(width / fx);
  const oh = Math.ceil(height / fy);
  const sums = new Float64Array(ow);
  const out = new Float32Array(ow * oh);
  for (let by = 0; by < oh; by++) {
    sums.fill(0);
    const y0 = by * fy;
    const y1 = Math.min(y0 + fy, height);
    for (let y = y0; y < y1; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) sums[(x / fx) | 0] += data[row + x];
    }
    for (let bx = 0; bx < ow; bx++) {
      const cols = Math.min(fx, width - bx * fx);
      const held = cols * (y1 - y0);
      out[by * ow + bx] = cval === null ? sums[bx] / held : (sums[bx] + cval * (fx * fy - held)) / (fx * fy);
    }
  }
  return { data: out, width: ow, height: oh };
}

/**
 * Area resize to any size: each output pixel is the mean of the input area it
 * covers, with fractional weights for partly covered pixels (like OpenCV's
 * INTER_AREA when shrinking). For integer factors that divide the size this
 * equals downscaleMean.
 */
export function resizeArea(img: Image, width: number, height: number): FloatImage {
  checkImage(img);
  checkSize(width, height);
  if (width === 0 || height === 0) return { data: new Float32Array(0), width, height };
  const xs = areaWeights(img.width, width);
  const ys = areaWeights(img.height, height);
  // Horizontal pass into doubles, then vertical.
  const tmp = new Float64Array(width * img.height);
  for (let y = 0; y < img.height; y++) {
    const row = y * img.width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = 0, n = xs.count[x]; i < n; i++) acc += img.data[row + xs.start[x] + i] * xs.weights[x * xs.kernelSize + i];
      tmp[y * width + x] = acc;
    }
  }
  const out = new Float32Array(width * height);
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let i = 0, n = ys.count[y]; i < n; i++) {
      const wgt = ys.weights[y * ys.kernelSize + i];
      const row = (ys.start[y] + i) * width;
      for (let x = 0; x < width; x++) acc[x] += tmp[row + x] * wgt;
    }
    out.set(acc, y * width);
  }
  return { data: out, width, height };
}

/** Overlap of output cell [i·s, (i+1)·s) with each input pixel, divided by s. */
function areaWeights(inSize: number, outSize: number): Coefficients {
  const s = inSize / outSize;
  const kernelSize = Math.ceil(s) + 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * kernelSize);
  for (let i = 0; i < outSize; i++) {
    const a = i * s;
    const b = (i + 1) * s;
    const lo = Math.floor(a);
    const hi = Math.min(inSize, Math.ceil(b));
    start[i] = lo;
    count[i] = hi - lo;
    for (let j = lo; j < hi; j++) {
      weights[i * kernelSize + j - lo] = Math.max(0, Math.min(b, j + 1) - Math.max(a, j)) / s;
    }
  }
  return { start, count, weights, kernelSize };
}
