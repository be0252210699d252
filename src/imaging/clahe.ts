/**
 * Contrast-limited adaptive histogram equalisation reproducing
 * skimage.exposure.equalize_adapthist (skimage 0.19) on grey images,
 * step by step, so outputs agree to float rounding:
 * 1. scale to 14-bit (0..16383) over the image's own min..max, then to
 *    `nbins` bins of 1 + 16384/nbins grey levels;
 * 2. pad by reflection so the image tiles into kernel-sized blocks, with the
 *    histogram blocks offset by half a kernel from the interpolation blocks;
 * 3. clip each block histogram at clipLimit·(kernel area) and redistribute
 *    the excess as skimage's clip_histogram does;
 * 4. map each pixel through the four surrounding block mappings, bilinearly
 *    weighted, then stretch the result to 0..1.
 */
import { checkImage, type FloatImage, type Image, minMax, roundHalfEven } from './image';

const GREY_LEVELS = 16384;

export interface ClaheOptions {
  /** Contextual region size [height, width] or one number for both; default 1/8 of each side. */
  kernelSize?: number | readonly [number, number];
  /** Normalised clip limit in (0, 1); 0 or ≥ 1 disables clipping. Default 0.01. */
  clipLimit?: number;
  /** Histogram bins. Default 256. */
  nbins?: number;
}

/**
 * CLAHE of a grey image: Uint8 (0..255) or Float (0..1, as skimage expects
 * of float images). Returns Float32 in 0..1.
 */
export function equalizeAdaptHist(img: Image, options: ClaheOptions = {}): FloatImage {
  checkImage(img);
  const { width: w, height: h } = img;
  const clipLimit = options.clipLimit ?? 0.01;
  const nbins = options.nbins ?? 256;
  if (w === 0 || h === 0) return { data: new Float32Array(0), width: w, height: h };
  const ks = options.kernelSize;
  const [ky, kx] =
    ks === undefined
      ? [Math.max(Math.floor(h / 8), 1), Math.max(Math.floor(w / 8), 1)]
      : typeof ks === 'number'
        ? [Math.trunc(ks), Math.trunc(ks)]
        : [Math.trunc(ks[0]), Math.trunc(ks[1])];
  if (!(ky >= 1 && kx >= 1)) throw new RangeError('kernelSize must be >= 1');

  const levels = toFourteenBit(img);

  // Reflect padding: half a kernel before, up to a whole number of kernels
  // plus half a kernel after (numpy 'reflect', edge pixel not repeated).
  const padTop = ky >> 1;
  const padLeft = kx >> 1;
  const H = h + padTop + ((ky - (h % ky)) % ky) + Math.ceil(ky / 2);
  const W = w + padLeft + ((kx - (w % kx)) % kx) + Math.ceil(kx / 2);
  const binSize = 1 + Math.floor(GREY_LEVELS / nbins);
  const binned = new Uint16Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = reflect(y - padTop, h);
    for (let x = 0; x < W; x++) {
      binned[y * W + x] = Math.floor(levels[sy * w + reflect(x - padLeft, w)] / binSize);
    }
  }

  // Block mappings on a grid framed by one repeated block on every side.
  const blocksY = H / ky;
  const blocksX = W / kx;
  const histY = blocksY - 1;
  const histX = blocksX - 1;
  const area = kx * ky;
  const clim = clipLimit > 0 ? Math.max(Math.trunc(clipLimit * area), 1) : area;
  const scale = (GREY_LEVELS - 1) / area;
  const maps: Int32Array[] = [];
  const hist = new Float64Array(nbins);
  for (let by = 0; by < histY; by++) {
    for (let bx = 0; bx < histX; bx++) {
      hist.fill(0);
      const y0 = padTop + by * ky;
      const x0 = padLeft + bx * kx;
      for (let y = y0; y < y0 + ky; y++) {
        for (let x = x0; x < x0 + kx; x++) hist[binned[y * W + x]]++;
      }
      clipHistogram(hist, clim);
      const map = new Int32Array(nbins);
      let cumulative = 0;
      for (let b = 0; b < nbins; b++) {
        cumulative += hist[b];
        const v = cumulative * scale;
        map[b] = Math.trunc(v > GREY_LEVELS - 1 ? GREY_LEVELS - 1 : v);
      }
      maps.push(map);
    }
  }
  // Mapping of framed-grid block (gy, gx): the framing repeats the edge blocks.
  const mapAt = (gy: number, gx: number) => {
    const hy = Math.min(Math.max(gy - 1, 0), histY - 1);
    const hx = Math.min(Math.max(gx - 1, 0), histX - 1);
    return maps[hy * histX + hx];
  };

  // Interpolate (float32 accumulation and truncation to integers, as skimage).
  const f32 = Math.fround;
  const result = new Float64Array(w * h);
  for (let y = padTop; y < padTop + h; y++) {
    const by = Math.floor(y / ky);
    const cy = (y - by * ky) / ky;
    let bx = -1;
    let topLeft = maps[0];
    let topRight = maps[0];
    let bottomLeft = maps[0];
    let bottomRight = maps[0];
    for (let x = padLeft; x < padLeft + w; x++) {
      if (Math.floor(x / kx) !== bx) {
        bx = Math.floor(x / kx);
        topLeft = mapAt(by, bx);
        topRight = mapAt(by, bx + 1);
        bottomLeft = mapAt(by + 1, bx);
        bottomRight = mapAt(by + 1, bx + 1);
      }
      const cx = (x - bx * kx) / kx;
      const b = binned[y * W + x];
      let acc = 0;
      acc = f32(acc + f32(topLeft[b] * ((1 - cx) * (1 - cy))));
      acc = f32(acc + f32(topRight[b] * (cx * (1 - cy))));
      acc = f32(acc + f32(bottomLeft[b] * ((1 - cx) * cy)));
      acc = f32(acc + f32(bottomRight[b] * (cx * cy)));
      result[(y - padTop) * w + (x - padLeft)] = Math.trunc(acc);
    }
  }
  // Final stretch to 0..1 over the result's own range.
  const { min, max } = minMax(result);
  const out = new Float32Array(w * h);
  if (max === min) {
    for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(result[i], 0), 1);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (result[i] - min) / (max - min);
  }
  return { data: out, width: w, height: h };
}

/** numpy 'reflect' index for any offset (period 2(n−1)). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m >= n ? period - m : m;
}

/** img_as_uint followed by rescale_intensity(out_range=(0, 16383)) and rounding. */
function toFourteenBit(img: Image): Uint16Array {
  const n = img.data.length;
  const sixteen = new Float64Array(n);
  if (img.data instanceof Uint8Array) {
    for (let i = 0; i < n; i++) sixteen[i] = img.data[i] * 257;
  } else {
    for (let i = 0; i < n; i++) {
      const v = img.data[i] < 0 ? 0 : img.data[i] > 1 ? 1 : img.data[i];
      sixteen[i] = roundHalfEven(v * 65535);
    }
  }
  const { min, max } = minMax(sixteen);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      min === max
        ? Math.min(sixteen[i], GREY_LEVELS - 1)
        : roundHalfEven(((sixteen[i] - min) / (max - min)) * (GREY_LEVELS - 1));
  }
  return out;
}

/**
 * skimage's clip_histogram: cut bins at `limit`, spread the excess evenly,
 * then hand out what is left one count at a time across the bins still
 * under the limit.
 */
function clipHistogram(hist: Float64Array, limit: number): void {
  const n = hist.length;
  let excess = 0;
  for (let i = 0; i < n; i++) {
    if (hist[i] > limit) {
      excess += hist[i] - limit;
      hist[i] = limit;
    }
  }
  const increment = Math.floor(excess / n);
  const upper = limit - increment;
  for (let i = 0; i < n; i++) {
    if (hist[i] < upper) {
      hist[i] += increment;
      excess -= increment;
    }
  }
  for (let i = 0; i < n; i++) {
    if (hist[i] >= upper && hist[i] < limit) {
      excess += hist[i] - limit;
      hist[i] = limit;
    }
  }
  while (excess > 0) {
    const before = excess;
    for (let start = 0; start < n; start++) {
      let under = 0;
      for (let i = 0; i < n; i++) if (hist[i] < limit) under++;
      const step = Math.max(1, Math.floor(under / excess));
      let given = 0;
      for (let i = start; i < n; i += step) {
        if (hist[i] < limit) {
          hist[i]++;
          given++;
        }
      }
      excess -= given;
      if (excess <= 0) break;
    }
    if (before === excess) break;
  }
}
