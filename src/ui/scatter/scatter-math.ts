/**
 * Geometry of the latent scatter: codes → 2-D plot coordinates (the codes
 * themselves for d = 2, the first two principal components for d > 2, the
 * code against its rank for d = 1), then a linear map to canvas pixels.
 */
import { pca } from '../../analysis/pca';

export interface PlotPoints {
  /** x, y per point (plot units). */
  xy: Float32Array;
  axes: [string, string];
}

export function plotCoordinates(latents: Float32Array, dim: number): PlotPoints {
  const n = Math.floor(latents.length / dim);
  const xy = new Float32Array(2 * n);
  if (dim === 2) {
    xy.set(latents.subarray(0, 2 * n));
    return { xy, axes: ['latent 0', 'latent 1'] };
  }
  if (dim === 1 || n < 3) {
    for (let i = 0; i < n; i++) {
      xy[2 * i] = latents[i * dim];
      xy[2 * i + 1] = dim > 1 ? latents[i * dim + 1] : 0;
    }
    return { xy, axes: ['latent 0', dim > 1 ? 'latent 1' : ''] };
  }
  const projected = pca(latents, dim, { components: 2 }).projected;
  for (let i = 0; i < 2 * n; i++) xy[i] = projected[i];
  return { xy, axes: ['PC 1', 'PC 2'] };
}

/** screen = (plot · scale + offset), per axis; y grows downwards on screen. */
export interface ScatterTransform {
  sx: number;
  ox: number;
  sy: number;
  oy: number;
}

export function fitTransform(xy: Float32Array, width: number, height: number, margin = 8): ScatterTransform {
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i];
    const y = xy[i + 1];
    if (x < xMin) xMin = x;
    if (x > xMax) xMax = x;
    if (y < yMin) yMin = y;
    if (y > yMax) yMax = y;
  }
  if (!(xMax >= xMin)) [xMin, xMax] = [0, 1];
  if (!(yMax >= yMin)) [yMin, yMax] = [0, 1];
  const spanX = xMax - xMin || 1;
  const spanY = yMax - yMin || 1;
  const sx = (width - 2 * margin) / spanX;
  const sy = -(height - 2 * margin) / spanY;
  return { sx, ox: margin - xMin * sx, sy, oy: height - margin - yMin * sy };
}

/** Index of the point nearest to a canvas position within `radius` px, or -1. */
export function nearestPoint(xy: Float32Array, t: ScatterTransform, px: number, py: number, radius: number): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0, n = xy.length / 2; i < n; i++) {
    const dx = xy[2 * i] * t.sx + t.ox - px;
    const dy = xy[2 * i + 1] * t.sy + t.oy - py;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/**
 * Rasterises points into an RGBA buffer (square dots of side `size`), later
 * points over earlier ones. Linear in n: 100k points take a few ms.
 */
export function rasterise(
  xy: Float32Array,
  colours: Uint8Array,
  t: ScatterTransform,
  width: number,
  height: number,
  size: number,
  out: Uint8ClampedArray,
): void {
  const half = Math.floor(size / 2);
  for (let i = 0, n = xy.length / 2; i < n; i++) {
    const cx = Math.round(xy[2 * i] * t.sx + t.ox) - half;
    const cy = Math.round(xy[2 * i + 1] * t.sy + t.oy) - half;
    const r = colours[4 * i];
    const g = colours[4 * i + 1];
    const b = colours[4 * i + 2];
    for (let dy = 0; dy < size; dy++) {
      const y = cy + dy;
      if (y < 0 || y >= height) continue;
      for (let dx = 0; dx < size; dx++) {
        const x = cx + dx;
        if (x < 0 || x >= width) continue;
        const p = 4 * (y * width + x);
        out[p] = r;
        out[p + 1] = g;
        out[p + 2] = b;
        out[p + 3] = 255;
      }
    }
  }
}
