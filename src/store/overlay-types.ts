/**
 * What an overlay layer is (the store keeps the layers; the viewer draws
 * them, src/ui/viewer/overlays.ts): things drawn over the slide in level-0
 * pixel coordinates. The mapping level-0 → viewer-element CSS pixels is a
 * 2-D affine transform [a, b, c, d, e, f]: screenX = a·x + c·y + e,
 * screenY = b·x + d·y + f (the order of CanvasRenderingContext2D.setTransform).
 */

export type Affine = readonly [number, number, number, number, number, number];

export interface Point2 {
  x: number;
  y: number;
}

export interface Rect2 {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What a layer needs to draw one frame. */
export interface OverlayView {
  /** level-0 px → viewer-element CSS px. */
  transform: Affine;
  /** Viewer element size in CSS px. */
  width: number;
  height: number;
  /** Device pixels per CSS pixel of the canvas. */
  pixelRatio: number;
  /** Bounding box of the visible area in level-0 px (for culling). */
  visible: Rect2;
  /** CSS px per level-0 px (the zoom). */
  scale: number;
  /** x (CSS px) of the swipe divider while swipe is on; layers with `swipe` are drawn only left of it. */
  swipeX?: number;
}

interface OverlayBase {
  id: string;
  name: string;
  /** Slide the layer belongs to; null = drawn on every slide. */
  slideId: string | null;
  /** 0..1 */
  opacity: number;
  visible: boolean;
  /** Takes part in the swipe comparison: drawn only left of the divider while swipe is on. */
  swipe?: boolean;
}

/** Free drawing. The context arrives in CSS px (pixel ratio applied); use view.transform to place things. */
export interface DrawOverlay extends OverlayBase {
  kind: 'draw';
  draw: (ctx: CanvasRenderingContext2D, view: OverlayView) => void;
}

/** Filled rectangles in level-0 px, e.g. one per analysed tile. */
export interface TileMapOverlay extends OverlayBase {
  kind: 'tiles';
  /** x, y, width, height per rectangle (level-0 px). */
  rects: Float32Array | Float64Array | Uint32Array | Int32Array;
  /** r, g, b, a (0..255) per rectangle. */
  colors: Uint8Array | Uint8ClampedArray;
}

/** Dots in level-0 px, e.g. nucleus centres. */
export interface PointsOverlay extends OverlayBase {
  kind: 'points';
  /** x, y per point (level-0 px). */
  xy: Float32Array | Float64Array;
  /** r, g, b, a per point. */
  colors: Uint8Array | Uint8ClampedArray;
  /** Radius in CSS px (constant on screen, whatever the zoom). */
  radius: number;
}

export type OverlayLayer = DrawOverlay | TileMapOverlay | PointsOverlay;
export type OverlayKind = OverlayLayer['kind'];
