/**
 * Binary and grey morphology matching scipy.ndimage / skimage.morphology:
 * - fillHoles: scipy.ndimage.binary_fill_holes (4-connected background);
 * - binaryErosion / binaryDilation with skimage.morphology.disk(r), using
 *   skimage's border handling (erosion: outside counts as foreground;
 *   dilation: outside counts as background), computed through an exact
 *   Euclidean distance transform so any radius costs O(pixels);
 * - reconstruction by dilation (skimage.morphology.reconstruction,
 *   method='dilation', default 3×3 footprint = 8-connectivity).
 */
import { checkImage, type Image, type ImagePixels, type Mask, sameSize } from './image';

/** skimage.morphology.disk(r): offsets with x² + y² ≤ r², as a (2r+1)² mask. */
export function disk(radius: number): Mask {
  if (!Number.isInteger(radius) || radius < 0) throw new RangeError('disk radius must be a non-negative integer');
  const size = 2 * radius + 1;
  const data = new Uint8Array(size * size);
  for (let y = -radius; y <= radius; y++) {
    for (let x = -radius; x <= radius; x++) {
      data[(y + radius) * size + x + radius] = x * x + y * y <= radius * radius ? 1 : 0;
    }
  }
  return { data, width: size, height: size };
}

/**
 * Squared Euclidean distance from every pixel to the nearest pixel whose mask
 * value is `target` (1 = foreground, 0 = background; non-zero counts as 1).
 * Exact (Felzenszwalb & Huttenlocher's lower envelope of parabolas, applied
 * to the per-column distances). Pixels with no target anywhere get Infinity.
 * Pixels outside the image are never targets.
 */
export function squaredDistanceTransform(mask: Mask, target: 0 | 1): Float32Array {
  const out = new Float32Array(mask.data.length);
  forEachSquaredDistanceRow(mask, target, (y, row) => out.set(row, y * mask.width));
  return out;
}

/**
 * Runs the two EDT passes and hands each finished row of squared distances
 * to `visit` (the row buffer is reused), so callers that only threshold the
 * distances never store them all.
 */
function forEachSquaredDistanceRow(
  mask: Mask,
  target: 0 | 1,
  visit: (y: number, squaredDistances: Float64Array) => void,
): void {
  checkImage(mask, 'mask');
  const { width, height, data } = mask;
  const isTarget = (v: number) => (target === 1 ? v !== 0 : v === 0);
  // Pass 1: vertical distance to the nearest target in the same column.
  const NONE = 0x7fffffff;
  const column = new Int32Array(width * height);
  for (let x = 0; x < width; x++) column[x] = isTarget(data[x]) ? 0 : NONE;
  for (let y = 1; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const above = column[row - width + x];
      column[row + x] = isTarget(data[row + x]) ? 0 : above === NONE ? NONE : above + 1;
    }
  }
  for (let y = height - 2; y >= 0; y--) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const below = column[row + width + x];
      if (below !== NONE && below + 1 < column[row + x]) column[row + x] = below + 1;
    }
  }
  // Pass 2: per row, lower envelope of parabolas (x - q)² + column[q]².
  const result = new Float64Array(width);
  const apex = new Int32Array(width); // parabola positions in the envelope
  const apexValue = new Float64Array(width);
  const bound = new Float64Array(width + 1); // envelope breakpoints
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let k = -1;
    for (let q = 0; q < width; q++) {
      const g = column[row + q];
      if (g === NONE) continue;
      const f = g * g;
      let s = -Infinity;
      while (k >= 0) {
        const v = apex[k];
        s = (f + q * q - (apexValue[k] + v * v)) / (2 * (q - v));
        if (s > bound[k]) break;
        k--;
      }
      k++;
      apex[k] = q;
      apexValue[k] = f;
      bound[k] = k === 0 ? -Infinity : s;
      bound[k + 1] = Infinity;
    }
    if (k < 0) {
      result.fill(Infinity);
    } else {
      let j = 0;
      for (let x = 0; x < width; x++) {
        while (bound[j + 1] < x) j++;
        const dx = x - apex[j];
        result[x] = dx * dx + apexValue[j];
      }
    }
    visit(y, result);
  }
}

/**
 * skimage.morphology.binary_erosion(mask, disk(radius)): a pixel stays
 * foreground when no background pixel of the image lies within distance
 * `radius` (outside the image counts as foreground, scipy border_value=True).
 */
export function binaryErosion(mask: Mask, radius: number): Mask {
  checkRadius(radius);
  const { width, height } = mask;
  const out = new Uint8Array(width * height);
  const r2 = radius * radius;
  forEachSquaredDistanceRow(mask, 0, (y, d2) => {
    const row = y * width;
    for (let x = 0; x < width; x++) out[row + x] = d2[x] > r2 ? 1 : 0;
  });
  return { data: out, width, height };
}

/**
 * skimage.morphology.binary_dilation(mask, disk(radius)): a pixel becomes
 * foreground when a foreground pixel lies within distance `radius`.
 */
export function binaryDilation(mask: Mask, radius: number): Mask {
  checkRadius(radius);
  const { width, height } = mask;
  const out = new Uint8Array(width * height);
  const r2 = radius * radius;
  forEachSquaredDistanceRow(mask, 1, (y, d2) => {
    const row = y * width;
    for (let x = 0; x < width; x++) out[row + x] = d2[x] <= r2 ? 1 : 0;
  });
  return { data: out, width, height };
}

function checkRadius(radius: number): void {
  if (!Number.isInteger(radius) || radius < 0) throw new RangeError('radius must be a non-negative integer');
}

/**
 * scipy.ndimage.binary_fill_holes with its default (cross-shaped) structure:
 * background pixels not 4-connected to the image border become foreground.
 */
export function fillHoles(mask: Mask): Mask {
  checkImage(mask, 'mask');
  const { width, height, data } = mask;
  const n = width * height;
  // 1 = background reached from the border.
  const outside = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  const push = (i: number) => {
    if (data[i] === 0 && outside[i] === 0) {
      outside[i] = 1;
      stack[top++] = i;
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (top > 0) {
    const i = stack[--top];
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < n - width) push(i + width);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = outside[i] ? 0 : 1;
  return { data: out, width, height };
}

/**
 * Binary reconstruction by dilation: the 8-connected components of `mask`
 * that contain at least one `seed` pixel (breadth-first flood, O(pixels)).
 * Same result as skimage's reconstruction(seed, mask) on 0/1 images; like
 * skimage it rejects a seed that is not inside the mask.
 */
export function reconstructBinary(seed: Mask, mask: Mask): Mask {
  checkImage(seed, 'seed');
  checkImage(mask, 'mask');
  if (!sameSize(seed, mask)) throw new RangeError('seed and mask sizes differ');
  const { width, height } = mask;
  const n = width * height;
  const out = new Uint8Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    if (seed.data[i] === 0) continue;
    if (mask.data[i] === 0) throw new RangeError('reconstruction by dilation needs seed <= mask');
    out[i] = 1;
    queue[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    const i = queue[head];
    const x = i % width;
    const y = (i - x) / width;
    const y0 = y > 0 ? y - 1 : 0;
    const y1 = y < height - 1 ? y + 1 : y;
    const x0 = x > 0 ? x - 1 : 0;
    const x1 = x < width - 1 ? x + 1 : x;
    for (let yy = y0; yy <= y1; yy++) {
      for (let xx = x0; xx <= x1; xx++) {
        const j = yy * width + xx;
        if (out[j] === 0 && mask.data[j] !== 0) {
          out[j] = 1;
          queue[tail++] = j;
        }
      }
    }
  }
  return { data: out, width, height };
}

/**
 * Grey reconstruction by dilation (skimage.morphology.reconstruction with
 * method='dilation' and its default 8-connected footprint): the largest image
 * ≤ mask obtainable by repeatedly dilating `seed` under `mask`.
 * Vincent's hybrid algorithm: one forward and one backward raster pass, then
 * a FIFO queue finishes the propagation. Output has the seed's array type.
 */
export function reconstructionByDilation<T extends ImagePixels>(seed: Image<T>, mask: Image): Image<T> {
  checkImage(seed, 'seed');
  checkImage(mask, 'mask');
  if (!sameSize(seed, mask)) throw new RangeError('seed and mask sizes differ');
  const { width, height } = seed;
  const n = width * height;
  if (n === 0) return { data: seed.data.slice() as T, width, height };
  // Work on copies with a 1-pixel frame holding the smallest seed value (as
  // skimage pads): the frame can never raise anything, so no bounds checks.
  let lowest = Infinity;
  for (let i = 0; i < n; i++) {
    if (seed.data[i] > mask.data[i]) throw new RangeError('reconstruction by dilation needs seed <= mask');
    if (seed.data[i] < lowest) lowest = seed.data[i];
  }
  const pw = width + 2;
  const ph = height + 2;
  const J = new Float64Array(pw * ph).fill(lowest);
  const I = new Float64Array(pw * ph).fill(lowest);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      J[(y + 1) * pw + x + 1] = seed.data[y * width + x];
      I[(y + 1) * pw + x + 1] = mask.data[y * width + x];
    }
  }
  // Neighbours already visited in a forward raster scan; negate for backward.
  const before = [-1, -pw - 1, -pw, -pw + 1];
  const all = [-pw - 1, -pw, -pw + 1, -1, 1, pw - 1, pw, pw + 1];
  for (let y = 1; y <= height; y++) {
    for (let p = y * pw + 1, end = y * pw + width; p <= end; p++) {
      let m = J[p];
      for (const d of before) if (J[p + d] > m) m = J[p + d];
      J[p] = m < I[p] ? m : I[p];
    }
  }
  const queue = new GrowableQueue(Math.max(16, n >> 4));
  for (let y = height; y >= 1; y--) {
    for (let p = y * pw + width; p >= y * pw + 1; p--) {
      let m = J[p];
      for (const d of before) if (J[p - d] > m) m = J[p - d];
      const v = m < I[p] ? m : I[p];
      J[p] = v;
      for (const d of before) {
        const q = p - d;
        if (J[q] < v && J[q] < I[q]) {
          queue.push(p);
          break;
        }
      }
    }
  }
  while (queue.size > 0) {
    const p = queue.shift();
    const v = J[p];
    for (const d of all) {
      const q = p + d;
      if (J[q] < v && I[q] !== J[q]) {
        J[q] = v < I[q] ? v : I[q];
        queue.push(q);
      }
    }
  }
  const out = (seed.data instanceof Uint8Array ? new Uint8Array(n) : new Float32Array(n)) as T;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[y * width + x] = J[(y + 1) * pw + x + 1];
  }
  return { data: out, width, height };
}

/** FIFO of pixel indices in a ring buffer that doubles when full. */
class GrowableQueue {
  private buffer: Int32Array;
  private head = 0;
  size = 0;

  constructor(capacity: number) {
    this.buffer = new Int32Array(capacity);
  }

  push(value: number): void {
    if (this.size === this.buffer.length) {
      const bigger = new Int32Array(this.buffer.length * 2);
      for (let i = 0; i < this.size; i++) bigger[i] = this.buffer[(this.head + i) % this.buffer.length];
      this.buffer = bigger;
      this.head = 0;
    }
    this.buffer[(this.head + this.size) % this.buffer.length] = value;
    this.size++;
  }

  shift(): number {
    const value = this.buffer[this.head];
    this.head = (this.head + 1) % this.buffer.length;
    this.size--;
    return value;
  }
}
