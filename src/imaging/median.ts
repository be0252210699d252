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
  // Edge-replicated copy (scipy's 'nearest'), so the inner loops need no clamping.
  const pw = width + 2 * radius;
  const ph = height + 2 * radius;
  const padded = new Uint8Array(pw * ph);
  for (let py = 0; py < ph; py++) {
    const sy = Math.min(Math.max(py - radius, 0), height - 1) * width;
    for (let px = 0; px < pw; px++) padded[py * pw + px] = src[sy + Math.min(Math.max(px - radius, 0), width - 1)];
  }
  const taps = 2 * radius + 1;
  const rows = new Int32Array(taps);
  const hist = new Int32Array(256);
  for (let y = 0; y < height; y++) {
    // rows[i]: padded index of image column 0 on footprint row i.
    for (let i = 0; i < taps; i++) rows[i] = (y + i) * pw + radius;
    hist.fill(0);
    for (let i = 0; i < taps; i++) {
      const half = span[i];
      for (let dx = -half; dx <= half; dx++) hist[padded[rows[i] + dx]]++;
    }
    // median and the number of window values below it
    let median = 0;
    let below = 0;
    while (below + hist[median] <= rank) below += hist[median++];
    out[y * width] = median;
    for (let x = 1; x < width; x++) {
      for (let i = 0; i < taps; i++) {
        const half = span[i];
        const leaving = padded[rows[i] + x - 1 - half];
        const entering = padded[rows[i] + x + half];
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
