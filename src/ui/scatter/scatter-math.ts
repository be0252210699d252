/**
 * Geometry of the latent scatter: codes → 2-D plot coordinates (the codes
 * themselves for d = 2, the first two principal components for d > 2, the
 * code against its rank for d = 1), then a linear map to canvas pixels.
 */
import { pcaProjection } from '../../analysis/projection';

export interface PlotPoints {
  /** x, y per point (plot units). */
  xy: Float32Array;
  axes: [string, string];
}

/** The codes as plot points: themselves when 2-D, else their first two principal components (analysis/projection). */
export function plotCoordinates(latents: Float32Array, dim: number): PlotPoints {
  const { xy, axes } = pcaProjection(latents, dim);
  return { xy, axes };
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

/** Side of a dot in CSS px: bigger when there are few points, so each stays visible. */
export function pointSizeFor(count: number): number {
  return count > 20000 ? 2 : count > 2000 ? 3 : 5;
}

// ---------------------------------------------------------------- view (pan and zoom)
//
// The view is a ScatterTransform itself (plot units → CSS px of the element);
// panning moves its offsets, zooming scales it about a fixed screen point.

/** CSS px of a plot point. */
export function toScreen(t: ScatterTransform, x: number, y: number): [number, number] {
  return [x * t.sx + t.ox, y * t.sy + t.oy];
}

/** Plot point under a position in CSS px. */
export function toPlot(t: ScatterTransform, px: number, py: number): [number, number] {
  return [(px - t.ox) / t.sx, (py - t.oy) / t.sy];
}

/** The view moved by (dx, dy) CSS px. */
export function panBy(t: ScatterTransform, dx: number, dy: number): ScatterTransform {
  return { sx: t.sx, ox: t.ox + dx, sy: t.sy, oy: t.oy + dy };
}

/** The view scaled by `factor` about the screen point (px, py), which keeps showing the same plot point. */
export function zoomAbout(t: ScatterTransform, px: number, py: number, factor: number): ScatterTransform {
  return { sx: t.sx * factor, ox: px - (px - t.ox) * factor, sy: t.sy * factor, oy: py - (py - t.oy) * factor };
}

/**
 * `factor` reduced so the zoom stays between `minRatio` and `maxRatio` times
 * the fitted view's: beyond those the plot is a dot or a few float32 steps wide.
 */
export function limitZoom(t: ScatterTransform, fitted: ScatterTransform, factor: number, minRatio = 0.25, maxRatio = 10_000): number {
  const ratio = Math.abs(t.sx / fitted.sx);
  return Math.min(Math.max(factor, minRatio / ratio), maxRatio / ratio);
}

/** Zoom factor of one wheel event: scrolling up (negative deltaY) zooms in, about 20 % per notch. */
export function wheelZoomFactor(deltaY: number, deltaMode = 0): number {
  // deltaMode 0: pixels (a notch is ~100), 1: lines, 2: pages.
  const pixels = deltaY * (deltaMode === 1 ? 40 : deltaMode === 2 ? 800 : 1);
  return Math.min(2, Math.max(0.5, Math.exp(-pixels * 0.002)));
}

/**
 * The view as clip-space numbers for a GPU: clip = (plot − centre) · scale.
 * The centre is the plot point in the middle of the element; subtracting it
 * before scaling keeps float32 precision when zoomed far in on large values.
 */
export function clipMapping(t: ScatterTransform, width: number, height: number): { centre: [number, number]; scale: [number, number] } {
  return {
    centre: toPlot(t, width / 2, height / 2),
    // Clip y points up, screen y down.
    scale: [(2 * t.sx) / width, (-2 * t.sy) / height],
  };
}

/** Points per device pixel at which the density lift is full (both renderers). */
export const DENSITY_SATURATION_COUNT = 64;
/** How far towards white the densest pixels go (1 would be pure white: hue lost). */
export const DENSITY_MAX_LIFT = 0.6;

/** Reusable per-pixel sums for `rasterise` (colour × alpha, and alpha), sized on first use. */
export interface DensityScratch {
  sums?: Float32Array;
}

/**
 * Rasterises points into an RGBA buffer (square dots of side `size`) with
 * the density shading of the WebGL renderer: each pixel shows the mean
 * colour of its points (alpha-weighted), lifted towards white by
 * log(count) / log(DENSITY_SATURATION_COUNT) up to DENSITY_MAX_LIFT, with
 * opacity min(count, 1). A lone opaque point keeps its exact colour. Points
 * with alpha 0 are skipped. Linear in points plus pixels: 10⁶ points take
 * tens of ms.
 */
export function rasterise(
  xy: Float32Array,
  colours: Uint8Array,
  t: ScatterTransform,
  width: number,
  height: number,
  size: number,
  out: Uint8ClampedArray,
  scratch: DensityScratch = {},
): void {
  const pixels = width * height;
  if (!scratch.sums || scratch.sums.length !== 4 * pixels) scratch.sums = new Float32Array(4 * pixels);
  const sums = scratch.sums;
  sums.fill(0);
  const half = Math.floor(size / 2);
  for (let i = 0, n = xy.length / 2; i < n; i++) {
    const a = colours[4 * i + 3] / 255;
    if (a === 0) continue;
    const cx = Math.round(xy[2 * i] * t.sx + t.ox) - half;
    const cy = Math.round(xy[2 * i + 1] * t.sy + t.oy) - half;
    if (cx >= width || cy >= height || cx + size <= 0 || cy + size <= 0) continue;
    const r = colours[4 * i] * a;
    const g = colours[4 * i + 1] * a;
    const b = colours[4 * i + 2] * a;
    for (let y = Math.max(0, cy), y1 = Math.min(height, cy + size); y < y1; y++) {
      for (let x = Math.max(0, cx), x1 = Math.min(width, cx + size); x < x1; x++) {
        const p = 4 * (y * width + x);
        sums[p] += r;
        sums[p + 1] += g;
        sums[p + 2] += b;
        sums[p + 3] += a;
      }
    }
  }
  const logSaturation = Math.log(DENSITY_SATURATION_COUNT);
  for (let p = 0; p < 4 * pixels; p += 4) {
    const count = sums[p + 3];
    if (count <= 0) {
      out[p] = out[p + 1] = out[p + 2] = out[p + 3] = 0;
      continue;
    }
    const lift = DENSITY_MAX_LIFT * Math.min(1, Math.max(0, Math.log(count) / logSaturation));
    const keep = 1 - lift;
    const white = 255 * lift;
    out[p] = (sums[p] / count) * keep + white;
    out[p + 1] = (sums[p + 1] / count) * keep + white;
    out[p + 2] = (sums[p + 2] / count) * keep + white;
    out[p + 3] = 255 * Math.min(count, 1);
  }
}
