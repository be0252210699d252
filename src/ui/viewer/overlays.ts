/**
 * Overlay layers: things drawn over the slide in level-0 pixel coordinates
 * (tile maps of cluster colours, nucleus points, custom drawings), on one
 * canvas kept in step with the OpenSeadragon viewport.
 *
 * The mapping level-0 → viewer-element CSS pixels is a 2-D affine transform
 * (OSD can rotate and flip), written as [a, b, c, d, e, f]:
 *   screenX = a·x + c·y + e,  screenY = b·x + d·y + f
 * (the same order as CanvasRenderingContext2D.setTransform).
 */

import type { Affine, DrawOverlay, OverlayKind, OverlayLayer, OverlayView, PointsOverlay, Point2, Rect2, TileMapOverlay } from '../../store/overlay-types';

export type { Affine, DrawOverlay, OverlayKind, OverlayLayer, OverlayView, PointsOverlay, Point2, Rect2, TileMapOverlay };

export const IDENTITY: Affine = [1, 0, 0, 1, 0, 0];

/**
 * The affine transform that sends level-0 (0,0), (1,0), (0,1) to the given
 * screen points. Taking images of a longer baseline improves precision, so
 * `unit` lets callers sample at (unit,0) and (0,unit) instead.
 */
export function affineFromPoints(origin: Point2, xAxis: Point2, yAxis: Point2, unit = 1): Affine {
  return [
    (xAxis.x - origin.x) / unit,
    (xAxis.y - origin.y) / unit,
    (yAxis.x - origin.x) / unit,
    (yAxis.y - origin.y) / unit,
    origin.x,
    origin.y,
  ];
}

export function applyAffine(t: Affine, x: number, y: number): Point2 {
  return { x: t[0] * x + t[2] * y + t[4], y: t[1] * x + t[3] * y + t[5] };
}

/** Starts a path along a closed level-0 ring [x0, y0, x1, y1, …], in the screen (CSS px) coordinates of `t`; stroke or fill it after. */
export function traceRing(ctx: CanvasRenderingContext2D, t: Affine, ring: ArrayLike<number>): void {
  ctx.beginPath();
  for (let i = 0; i + 1 < ring.length; i += 2) {
    const p = applyAffine(t, ring[i], ring[i + 1]);
    if (i === 0) ctx.moveTo(p.x, p.y);
    else ctx.lineTo(p.x, p.y);
  }
  ctx.closePath();
}

export function invertAffine(t: Affine): Affine {
  const [a, b, c, d, e, f] = t;
  const det = a * d - b * c;
  if (det === 0 || !Number.isFinite(det)) throw new Error('Overlay transform is not invertible');
  return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det];
}

/** Linear scale of the transform (CSS px per level-0 px), exact for rotations and flips. */
export function affineScale(t: Affine): number {
  return Math.sqrt(Math.abs(t[0] * t[3] - t[1] * t[2]));
}

/** Level-0 bounding box of the screen rectangle [0,width]×[0,height]. */
export function visibleRect(t: Affine, width: number, height: number): Rect2 {
  const inv = invertAffine(t);
  const corners = [applyAffine(inv, 0, 0), applyAffine(inv, width, 0), applyAffine(inv, 0, height), applyAffine(inv, width, height)];
  const xs = corners.map((p) => p.x);
  const ys = corners.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

export function makeView(transform: Affine, width: number, height: number, pixelRatio: number, swipeX?: number): OverlayView {
  const view: OverlayView = { transform, width, height, pixelRatio, visible: visibleRect(transform, width, height), scale: affineScale(transform) };
  if (swipeX !== undefined) view.swipeX = swipeX;
  return view;
}

/** Width (CSS px, from the left edge) a layer is clipped to, or null when it is drawn whole. */
export function swipeClipWidth(layer: Pick<OverlayLayer, 'swipe'>, view: Pick<OverlayView, 'swipeX' | 'width'>): number | null {
  if (!layer.swipe || view.swipeX === undefined) return null;
  return Math.max(0, Math.min(view.width, view.swipeX));
}

function intersects(r: Rect2, x: number, y: number, w: number, h: number): boolean {
  return x < r.x + r.width && x + w > r.x && y < r.y + r.height && y + h > r.y;
}

/** Caches `rgba(...)` strings by packed colour: tile maps reuse a handful of colours. */
function colourCache(): (colors: ArrayLike<number>, i: number) => string {
  const cache = new Map<number, string>();
  return (colors, i) => {
    const r = colors[4 * i];
    const g = colors[4 * i + 1];
    const b = colors[4 * i + 2];
    const a = colors[4 * i + 3];
    const key = ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
    let style = cache.get(key);
    if (style === undefined) {
      style = `rgba(${r},${g},${b},${(a / 255).toFixed(3)})`;
      cache.set(key, style);
    }
    return style;
  };
}

function drawTileMap(ctx: CanvasRenderingContext2D, layer: TileMapOverlay, view: OverlayView): void {
  const { rects, colors } = layer;
  const count = Math.min(Math.floor(rects.length / 4), Math.floor(colors.length / 4));
  const style = colourCache();
  const t = view.transform;
  const ratio = view.pixelRatio;
  // Draw in level-0 units so rotation/flip apply to the rectangles too.
  ctx.setTransform(t[0] * ratio, t[1] * ratio, t[2] * ratio, t[3] * ratio, t[4] * ratio, t[5] * ratio);
  for (let i = 0; i < count; i++) {
    const x = rects[4 * i];
    const y = rects[4 * i + 1];
    const w = rects[4 * i + 2];
    const h = rects[4 * i + 3];
    if (colors[4 * i + 3] === 0 || !intersects(view.visible, x, y, w, h)) continue;
    ctx.fillStyle = style(colors, i);
    ctx.fillRect(x, y, w, h);
  }
}

function drawPoints(ctx: CanvasRenderingContext2D, layer: PointsOverlay, view: OverlayView): void {
  const { xy, colors } = layer;
  const count = Math.min(Math.floor(xy.length / 2), Math.floor(colors.length / 4));
  const style = colourCache();
  const t = view.transform;
  const r = layer.radius;
  ctx.setTransform(view.pixelRatio, 0, 0, view.pixelRatio, 0, 0);
  for (let i = 0; i < count; i++) {
    const x = xy[2 * i];
    const y = xy[2 * i + 1];
    const sx = t[0] * x + t[2] * y + t[4];
    const sy = t[1] * x + t[3] * y + t[5];
    if (sx < -r || sy < -r || sx > view.width + r || sy > view.height + r || colors[4 * i + 3] === 0) continue;
    ctx.fillStyle = style(colors, i);
    ctx.beginPath();
    ctx.arc(sx, sy, r, 0, 2 * Math.PI);
    ctx.fill();
  }
}

/** Draws every visible layer of `layers` that belongs to `slideId`, bottom first. */
export function drawOverlays(
  ctx: CanvasRenderingContext2D,
  layers: readonly OverlayLayer[],
  slideId: string | null,
  view: OverlayView,
): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  for (const layer of layers) {
    if (!layer.visible || layer.opacity <= 0) continue;
    if (layer.slideId !== null && layer.slideId !== slideId) continue;
    ctx.save();
    ctx.globalAlpha = Math.min(1, layer.opacity);
    try {
      const clipWidth = swipeClipWidth(layer, view);
      if (clipWidth !== null) {
        ctx.setTransform(view.pixelRatio, 0, 0, view.pixelRatio, 0, 0);
        ctx.beginPath();
        ctx.rect(0, 0, clipWidth, view.height);
        ctx.clip();
      }
      if (layer.kind === 'tiles') drawTileMap(ctx, layer, view);
      else if (layer.kind === 'points') drawPoints(ctx, layer, view);
      else {
        ctx.setTransform(view.pixelRatio, 0, 0, view.pixelRatio, 0, 0);
        layer.draw(ctx, view);
      }
    } catch (error) {
      // One broken layer must not take the others (or the viewer) down.
      console.error(`Overlay layer ${layer.id} failed to draw`, error);
    } finally {
      ctx.restore();
    }
  }
}
