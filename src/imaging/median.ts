/**
 * Median filter for 8-bit images, matching
 * scipy.ndimage.median_filter(image, footprint=disk(r) or size=2r+1,
 * mode='nearest') (= skimage.filters.median(image, disk(r))).
 *
 * Sliding histogram (Huang): moving one pixel right swaps the pixels leaving
 * and entering each footprint row, and the median is tracked incrementally,
 * so the cost per pixel is O(r) rather than O(r²).
 */
import { type ByteImage, checkImage, type Image } from './image';

export type MedianShape = 'disk' | 'square';

export function medianFilter(img: Image, radius: number, shape: MedianShape = 'disk'): ByteImage {
  checkImage(img);
  if (!(img.data instanceof Uint8Array)) throw new TypeError('medianFilter needs an 8-bit (Uint8Array) image');
  if (!Number.isInteger(radius) || radius < 0) throw new RangeError('radius must be a non-negative integer');
  const { width, height } = img;
  const src = img.data;
  const out = new Uint8Array(width * height);
  if (width === 0 || height === 0) return { data: out, width, height };
  // Half-width of each footprint row dy = -r..r.
  const span = new Int32Array(2 * radius + 1);
  let count = 0;
  for (let dy = -radius; dy <= radius; dy++) {
    const half = shape === 'disk' ? Math.floor(Math.sqrt(radius * radius - dy * dy)) : radius;
    span[dy + radius] = half;
    count += 2 * half + 1;
  }
  // scipy picks the element of rank size//2 (the footprint size is always odd here).
  const rank = count >> 1;
  const clampX = (x: number) => (x < 0 ? 0 : x >= width ? width - 1 : x);
  const rows = new Int32Array(2 * radius + 1);
  const hist = new Int32Array(256);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i <= 2 * radius; i++) {
      const yy = y + i - radius;
      rows[i] = (yy < 0 ? 0 : yy >= height ? height - 1 : yy) * width;
    }
    hist.fill(0);
    for (let i = 0; i <= 2 * radius; i++) {
      const half = span[i];
      for (let dx = -half; dx <= half; dx++) hist[src[rows[i] + clampX(dx)]]++;
    }
    // median and the number of window values below it
    let median = 0;
    let below = 0;
    while (below + hist[median] <= rank) below += hist[median++];
    out[y * width] = median;
    for (let x = 1; x < width; x++) {
      for (let i = 0; i <= 2 * radius; i++) {
        const half = span[i];
        const leaving = src[rows[i] + clampX(x - 1 - half)];
        const entering = src[rows[i] + clampX(x + half)];
        if (leaving === entering) continue;
        hist[leaving]--;
        if (leaving < median) below--;
        hist[entering]++;
        if (entering < median) below++;
      }
      while (below > rank) below -= hist[--median];
      while (below + hist[median] <= rank) below += hist[median++];
      out[y * width + x] = median;
    }
  }
  return { data: out, width, height };
}
