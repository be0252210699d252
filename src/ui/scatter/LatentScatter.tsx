import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { SelectionMode } from '../../analysis/selections';
import {
  fitTransform,
  limitZoom,
  nearestPoint,
  panBy,
  pointSizeFor,
  rasterise,
  toPlot,
  type DensityScratch,
  toScreen,
  wheelZoomFactor,
  zoomAbout,
  type PlotPoints,
  type ScatterTransform,
} from './scatter-math';
import { WebGLScatter } from './webgl-scatter';
import { isSoftwareGlRenderer } from '../../engine/gpu-adapters';

export interface LatentScatterProps {
  /** The points in plot units (plotCoordinates of the codes: the caller also selects in them). */
  plot: PlotPoints;
  /** RGBA per point (alpha 0 hides a point). */
  colours: Uint8Array;
  width?: number;
  height?: number;
  /** Called with the row index of a clicked point (pick tool). */
  onPick?: (index: number) => void;
  /** What a drag does: pan the view (pick), a freehand lasso or a rectangle. */
  tool?: ScatterTool;
  /**
   * A finished lasso or rectangle, as a polygon [x0, y0, x1, y1, …] in plot
   * units. Shift adds to the selection, Alt subtracts, otherwise it replaces.
   */
  onShape?: (polygon: number[], mode: SelectionMode) => void;
  /** Mode of a drag without Shift or Alt (default replace). */
  defaultMode?: SelectionMode;
  /** Row of a point to ring (e.g. the tile clicked on the slide). */
  highlight?: number | null;
  /** The point under the pointer (row), or −1 when none is within reach; not during a drag. */
  onHover?: (index: number) => void;
}

export type ScatterTool = 'pick' | 'lasso' | 'rect';

/** How far (CSS px) a press may move and still count as a click (a pick) rather than a pan. */
const CLICK_SLOP = 3;
/** Reach of pick and hover, CSS px. */
const PICK_RADIUS = 8;

/** A rectangle's two corners as its closed outline; a lasso as it is. */
function shapePolygon(tool: ScatterTool, path: number[]): number[] {
  if (tool !== 'rect') return path;
  const [x0, y0, x1, y1] = path;
  return [x0, y0, x1, y0, x1, y1, x0, y1];
}

/** A press that pans once it moves: a left press with the pick tool (a click if it does not move), or any middle press. */
interface PanGesture {
  pointerId: number;
  startX: number;
  startY: number;
  startView: ScatterTransform;
  moved: boolean;
  pickOnRelease: boolean;
}

type Backend = { kind: 'pending' } | { kind: 'webgl'; renderer: WebGLScatter } | { kind: 'canvas2d' };

/** 'webgl' or 'canvas2d' when the user (or a test) forced a renderer, else null. */
function scatterRendererOverride(): 'webgl' | 'canvas2d' | null {
  try {
    const value = globalThis.localStorage?.getItem('tilescope.scatterRenderer');
    return value === 'webgl' || value === 'canvas2d' ? value : null;
  } catch {
    return null; // storage blocked
  }
}

/**
 * The latent codes as a scatter that pans (drag with the pick tool, or a
 * middle drag with any tool) and zooms (wheel, about the cursor); 0 or a
 * double-click fits all points again. On a hardware GPU, points are drawn by
 * WebGL2 with density shading (webgl-scatter.ts) and copied onto a 2-D canvas
 * together with the highlight ring, so the element stays a 2-D canvas that can
 * be read back (PNG export, tests). Without one they are rasterised on the CPU
 * with the same shading: a software WebGL renderer (SwiftShader, llvmpipe)
 * took ~300 ms a frame for 10⁶ points where the CPU rasteriser takes tens of
 * ms (bench/RESULTS.md). Setting localStorage `tilescope.scatterRenderer` to
 * 'webgl' or 'canvas2d' overrides the choice.
 *
 * The current plot → element mapping is published as
 * data-transform="sx,ox,sy,oy" (CSS px, screenX = x·sx + ox, screenY = y·sy + oy)
 * so tests and tools can locate points whatever the view.
 */
export function LatentScatter({
  plot,
  colours,
  width = 270,
  height = 200,
  onPick,
  tool = 'pick',
  onShape,
  defaultMode = 'replace',
  highlight = null,
  onHover,
}: LatentScatterProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [backend, setBackend] = useState<Backend>({ kind: 'pending' });
  const densityScratch = useRef<DensityScratch>({});
  /** The lasso or rectangle being drawn, in plot units (so zooming mid-drag keeps it on its points). */
  const [path, setPath] = useState<number[] | null>(null);
  const panRef = useRef<PanGesture | null>(null);
  const [panning, setPanning] = useState(false);

  // The view is kept with the fit it was derived from: new data (or a new
  // size) gives a new fit, and with it the fitted view again.
  const fitted = useMemo(() => fitTransform(plot.xy, width, height), [plot, width, height]);
  const [viewState, setViewState] = useState<{ fitted: ScatterTransform; view: ScatterTransform } | null>(null);
  const view = viewState && viewState.fitted === fitted ? viewState.view : fitted;
  const fittedRef = useRef(fitted);
  useLayoutEffect(() => {
    fittedRef.current = fitted;
  }, [fitted]);
  const updateView = useCallback((change: (current: ScatterTransform, fitted: ScatterTransform) => ScatterTransform) => {
    setViewState((previous) => {
      const base = fittedRef.current;
      const current = previous && previous.fitted === base ? previous.view : base;
      return { fitted: base, view: change(current, base) };
    });
  }, []);
  const resetView = useCallback(() => setViewState(null), []);

  // The GPU renderer draws on a canvas outside the document; it falls back to
  // 2-D for good if WebGL2 is missing or its context is lost.
  useLayoutEffect(() => {
    const override = scatterRendererOverride();
    let renderer = override === 'canvas2d' ? null : WebGLScatter.create(document.createElement('canvas'), { onContextLost: () => setBackend({ kind: 'canvas2d' }) });
    if (renderer && override !== 'webgl' && isSoftwareGlRenderer(renderer.rendererName)) {
      renderer.dispose();
      renderer = null;
    }
    setBackend(renderer ? { kind: 'webgl', renderer } : { kind: 'canvas2d' });
    return () => renderer?.dispose();
  }, []);
  const renderer = backend.kind === 'webgl' ? backend.renderer : null;

  // Uploads happen when the data change, not per frame.
  useLayoutEffect(() => renderer?.setPoints(plot.xy), [renderer, plot]);
  useLayoutEffect(() => renderer?.setColours(colours), [renderer, colours]);

  // Drawn before the browser paints, so the pixels always match data-transform.
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || backend.kind === 'pending') return;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.round(width * ratio);
    const h = Math.round(height * ratio);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const n = plot.xy.length / 2;
    const size = pointSizeFor(n);
    if (renderer && !renderer.lost) {
      renderer.resize(w, h);
      renderer.render(view, width, height, size);
      // Same task as the render, so the drawing buffer is still there to copy.
      ctx.clearRect(0, 0, w, h);
      ctx.drawImage(renderer.canvas, 0, 0);
    } else {
      const image = ctx.createImageData(w, h);
      const scaled = { sx: view.sx * ratio, ox: view.ox * ratio, sy: view.sy * ratio, oy: view.oy * ratio };
      rasterise(plot.xy, colours, scaled, w, h, Math.max(1, Math.round(size * ratio)), image.data, densityScratch.current);
      ctx.putImageData(image, 0, 0);
    }
    if (highlight !== null && highlight >= 0 && highlight < n) {
      const [x, y] = toScreen(view, plot.xy[2 * highlight], plot.xy[2 * highlight + 1]);
      ctx.beginPath();
      ctx.arc(x * ratio, y * ratio, 6 * ratio, 0, 2 * Math.PI);
      ctx.lineWidth = 2 * ratio;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
    }
  }, [backend, renderer, plot, colours, view, width, height, highlight]);

  // React's wheel listeners are passive; this one must stop the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const x = event.clientX - rect.left;
      const y = event.clientY - rect.top;
      const factor = wheelZoomFactor(event.deltaY, event.deltaMode);
      updateView((current, base) => zoomAbout(current, x, y, limitZoom(current, base, factor)));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [updateView]);

  const local = (event: React.PointerEvent | React.MouseEvent) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };

  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const pansHere = event.button === 1 || (event.button === 0 && tool === 'pick');
    if (!pansHere && event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const [x, y] = local(event);
    if (pansHere) {
      panRef.current = { pointerId: event.pointerId, startX: x, startY: y, startView: view, moved: false, pickOnRelease: event.button === 0 };
      return;
    }
    const [px, py] = toPlot(view, x, y);
    setPath(tool === 'rect' ? [px, py, px, py] : [px, py]);
  };

  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const [x, y] = local(event);
    const pan = panRef.current;
    if (pan && pan.pointerId === event.pointerId) {
      const dx = x - pan.startX;
      const dy = y - pan.startY;
      if (!pan.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
      if (!pan.moved) setPanning(true);
      pan.moved = true;
      updateView(() => panBy(pan.startView, dx, dy));
      return;
    }
    if (!path) {
      onHover?.(nearestPoint(plot.xy, view, x, y, PICK_RADIUS));
      return;
    }
    const [px, py] = toPlot(view, x, y);
    if (tool === 'rect') setPath([path[0], path[1], px, py]);
    else {
      // A vertex every 2 px of the screen is enough detail for a freehand outline.
      const [lastX, lastY] = toScreen(view, path[path.length - 2], path[path.length - 1]);
      if (Math.hypot(x - lastX, y - lastY) >= 2) setPath([...path, px, py]);
    }
  };

  const onPointerUp = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const pan = panRef.current;
    if (pan && pan.pointerId === event.pointerId) {
      panRef.current = null;
      setPanning(false);
      if (pan.pickOnRelease && !pan.moved && onPick && tool === 'pick') {
        const [x, y] = local(event);
        const index = nearestPoint(plot.xy, view, x, y, PICK_RADIUS);
        if (index >= 0) onPick(index);
      }
      return;
    }
    if (!path) return;
    setPath(null);
    const polygon = shapePolygon(tool, path);
    if (polygon.length < 6 || !onShape) return;
    onShape(polygon, event.shiftKey ? 'add' : event.altKey ? 'subtract' : defaultMode);
  };

  const onPointerCancel = () => {
    panRef.current = null;
    setPanning(false);
    setPath(null);
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLCanvasElement>) => {
    if (event.key !== '0' || event.ctrlKey || event.metaKey || event.altKey) return;
    resetView();
    event.preventDefault();
    event.stopPropagation();
  };

  const shapeOnScreen = path && shapePolygon(tool, path).flatMap((v, q, all) => (q % 2 === 0 ? toScreen(view, v, all[q + 1]) : []));
  const n = plot.xy.length / 2;
  return (
    <figure className="latent-scatter">
      <canvas
        ref={canvasRef}
        data-testid="latent-scatter"
        data-point-count={n}
        data-transform={`${view.sx},${view.ox},${view.sy},${view.oy}`}
        data-tool={tool}
        data-highlight={highlight ?? ''}
        data-renderer={backend.kind === 'pending' ? undefined : backend.kind}
        tabIndex={0}
        // content-box: the bitmap is width × height CSS px; inside the border (the app's border-box) it would be squeezed.
        style={{ width, height, boxSizing: 'content-box', cursor: panning ? 'grabbing' : tool === 'pick' ? 'grab' : 'crosshair', touchAction: 'none' }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerCancel}
        onPointerLeave={() => onHover?.(-1)}
        // A middle press would otherwise start the browser's autoscroll.
        onMouseDown={(event) => event.button === 1 && event.preventDefault()}
        onDoubleClick={resetView}
        onKeyDown={onKeyDown}
        title={
          tool === 'pick'
            ? 'Click a point to show its tile · drag to pan · wheel to zoom · 0 or double-click fits'
            : 'Drag to select; Shift adds, Alt subtracts · middle-drag pans · wheel zooms · 0 fits'
        }
      />
      {shapeOnScreen && (
        <svg className="latent-scatter-shape" width={width} height={height} aria-hidden="true">
          <polygon points={shapeOnScreen.join(' ')} />
        </svg>
      )}
      <figcaption className="muted">
        {plot.axes[0]} → · {plot.axes[1]} ↑ · {n} tiles
      </figcaption>
    </figure>
  );
}
