/**
 * Geometry of the drawing tools, free of the DOM: screen ↔ level-0
 * conversion through the viewer's affine transform, screen rectangles as
 * level-0 polygons, and brush strokes rasterised into a downsampled mask.
 * Polygons are flat level-0 rings [x0, y0, x1, y1, …] (last joins first),
 * the form src/tiling/polygon.ts takes.
 */
import { applyAffine, invertAffine, type Affine, type Point2 } from './overlays';

/** Viewer-element CSS px → level-0 px (inverse of the overlay transform; handles rotation and flip). */
export function screenToImage(transform: Affine, x: number, y: number): Point2 {
  return applyAffine(invertAffine(transform), x, y);
}

export function imageToScreen(transform: Affine, x: number, y: number): Point2 {
  return applyAffine(transform, x, y);
}

/**
 * The screen rectangle spanned by two corners, as a level-0 polygon of its 4
 * corners (clockwise on screen). On a rotated view this is a rotated
 * rectangle in level-0 px: the region is what the user saw.
 */
export function screenRectToPolygon(transform: Affine, a: Point2, b: Point2): number[] {
  const inverse = invertAffine(transform);
  const x0 = Math.min(a.x, b.x);
  const x1 = Math.max(a.x, b.x);
  const y0 = Math.min(a.y, b.y);
  const y1 = Math.max(a.y, b.y);
  const out: number[] = [];
  for (const [x, y] of [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) {
    const p = applyAffine(inverse, x, y);
    out.push(p.x, p.y);
  }
  return out;
}

/** Signed shoelace area of a flat ring (positive when clockwise in y-down coordinates). */
export function polygonArea(ring: ArrayLike<number>): number {
  const n = Math.floor(ring.length / 2);
  let twice = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    twice += ring[2 * i] * ring[2 * j + 1] - ring[2 * j] * ring[2 * i + 1];
  }
  return twice / 2;
}

/** Axis-aligned bounding box of a flat ring. */
export function polygonBounds(ring: ArrayLike<number>): { x: number; y: number; width: number; height: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < ring.length; i += 2) {
    minX = Math.min(minX, ring[i]);
    maxX = Math.max(maxX, ring[i]);
    minY = Math.min(minY, ring[i + 1]);
    maxY = Math.max(maxY, ring[i + 1]);
  }
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

/** Binary mask at `downsample` level-0 px per pixel (same layout as the tissue mask). */
export interface PaintableMask {
  data: Uint8Array;
  width: number;
  height: number;
  downsample: number;
}

/** Mask-pixel box [x0, x1) × [y0, y1) touched by a paint call. */
export interface MaskBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Brush radius in mask pixels. Never below half a mask pixel's diagonal, so
 * that every pixel a stroke passes through is painted and a thin brush still
 * leaves a connected line.
 */
export function brushRadiusInMask(radius0: number, downsample: number): number {
  return Math.max(radius0 / downsample, Math.SQRT1_2);
}

/** Squared distance from (px, py) to the segment (ax, ay)–(bx, by). */
function segmentDistance2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const length2 = dx * dx + dy * dy;
  let t = length2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / length2 : 0;
  t = Math.max(0, Math.min(1, t));
  const ex = px - (ax + t * dx);
  const ey = py - (ay + t * dy);
  return ex * ex + ey * ey;
}

/**
 * Paints a brush stroke into the mask: every mask pixel whose centre lies
 * within the brush radius of the polyline `points` (level-0 px, flat; one
 * point is a dab) gets `value`. Works on the pixels near each segment only.
 * Returns the box of pixels that changed, or null when none did.
 */
export function paintStroke(mask: PaintableMask, points: ArrayLike<number>, radius0: number, value: number): MaskBox | null {
  const { data, width, height, downsample } = mask;
  const r = brushRadiusInMask(radius0, downsample);
  const r2 = r * r;
  const count = Math.floor(points.length / 2);
  let box: MaskBox | null = null;
  // Segments i → i+1; a single point is a segment of length 0 (a dab).
  const segments = count === 1 ? 1 : count - 1;
  for (let s = 0; s < segments; s++) {
    // Segment in mask px, whose pixel centres sit at integer + 0.5.
    const ax = points[2 * s] / downsample;
    const ay = points[2 * s + 1] / downsample;
    const next = Math.min(s + 1, count - 1);
    const bx = points[2 * next] / downsample;
    const by = points[2 * next + 1] / downsample;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r - 0.5));
    const x1 = Math.min(width, Math.ceil(Math.max(ax, bx) + r + 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r - 0.5));
    const y1 = Math.min(height, Math.ceil(Math.max(ay, by) + r + 0.5));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = y * width + x;
        if (data[i] === value) continue;
        if (segmentDistance2(x + 0.5, y + 0.5, ax, ay, bx, by) > r2) continue;
        data[i] = value;
        if (!box) box = { x0: x, y0: y, x1: x + 1, y1: y + 1 };
        else {
          box.x0 = Math.min(box.x0, x);
          box.y0 = Math.min(box.y0, y);
          box.x1 = Math.max(box.x1, x + 1);
          box.y1 = Math.max(box.y1, y + 1);
        }
      }
    }
  }
  return box;
}

/** Number of non-zero pixels. */
export function countNonZero(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  return n;
}
