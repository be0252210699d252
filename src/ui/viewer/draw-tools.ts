/**
 * Drawing on the slide: one tool at a time (rectangle, polygon or brush)
 * takes the primary mouse button / pen / touch on the viewer, shows a live
 * preview on the overlay canvas, and hands back level-0 geometry. Wheel zoom
 * and the keyboard keep working while a tool is active.
 *
 *   const tool = startTool('rectangle', { onDone: (polygon) => …, onCancel: () => … });
 *
 * Rectangle: drag; the result is the 4 level-0 corners of the screen
 * rectangle. Polygon: click the vertices, finish with a double-click or Enter
 * (Ctrl+Z / Backspace drops the last vertex). Brush: every drag is a stroke,
 * delivered piece by piece (onStroke) until the tool is stopped; Ctrl+Z calls
 * onUndo. Point: every click is delivered (onPoint) until the tool is stopped.
 * Escape cancels any tool. The pure geometry is in draw-geometry.ts.
 */
import { useSyncExternalStore } from 'react';
import type { AppStore } from '../../store';
import type { OverlayView, Point2 } from './overlays';
import type { ViewerController } from './viewer-controller';
import { imageToScreen, screenRectToPolygon, screenToImage } from './draw-geometry';
import { isTextField } from './shortcuts';

export type DrawToolKind = 'rectangle' | 'polygon' | 'brush' | 'point';

export interface BrushStrokeEvent {
  phase: 'start' | 'move' | 'end';
  /**
   * Level-0 polyline to paint, flat [x0, y0, x1, y1, …]: at 'start' the first
   * point, at 'move' the previous point followed by the new ones, at 'end' empty.
   */
  points: number[];
}

export interface DrawToolOptions {
  /** The shape drawn so far as a level-0 ring (rectangle, polygon), on every change. */
  onPreview?(polygon: number[]): void;
  /** Finished rectangle (its 4 corners) or polygon, level-0 px; the tool then stops. */
  onDone?(polygon: number[]): void;
  /** The tool stopped without a result (Escape, another tool started, the slide changed, stop()). */
  onCancel?(): void;
  /** Brush strokes as they are drawn, so painting shows at once. */
  onStroke?(event: BrushStrokeEvent): void;
  /** Brush: Ctrl+Z while the tool is active. */
  onUndo?(): void;
  /** Point: each click on the slide (level-0 px); the tool stays active until stopped. */
  onPoint?(x: number, y: number): void;
  /** Brush radius in level-0 px (drawn as the cursor outline). */
  brushRadius?: number;
  /** CSS colour of the preview. */
  color?: string;
  /** Short instruction shown over the viewer while the tool is active. */
  hint?: string;
}

export interface DrawToolHandle {
  readonly kind: DrawToolKind;
  /** Ends the tool (as a cancel, unless it already finished). */
  stop(): void;
  setBrushRadius(radius: number): void;
  setColor(color: string): void;
}

export interface ActiveTool {
  kind: DrawToolKind;
  hint: string;
}

const PREVIEW_LAYER_ID = 'draw-tool-preview';
/** Two clicks this close in time (ms) and space (screen px) finish a polygon. */
const DOUBLE_CLICK_MS = 450;
const DOUBLE_CLICK_PX = 6;
/** A rectangle smaller than this on screen (px) is taken for a stray click. */
const MIN_RECT_PX = 3;

const DEFAULT_HINTS: Record<DrawToolKind, string> = {
  rectangle: 'Drag a rectangle on the slide · Esc cancels',
  polygon: 'Click the corners · double-click or Enter to finish · Ctrl+Z drops a point · Esc cancels',
  brush: 'Drag to paint · Ctrl+Z undoes a stroke · Esc stops',
  point: 'Click the slide · Esc stops',
};

let surface: { controller: ViewerController; store: AppStore } | null = null;
let session: ToolSession | null = null;
let activeSnapshot: ActiveTool | null = null;
const listeners = new Set<() => void>();

function notify(): void {
  activeSnapshot = session ? { kind: session.kind, hint: session.hint } : null;
  for (const listener of listeners) listener();
}

/** Lets the tools draw on this viewer (the Viewer component calls it once the controller exists). */
export function attachDrawTools(controller: ViewerController, store: AppStore): () => void {
  surface = { controller, store };
  return () => {
    session?.end('cancel');
    if (surface?.controller === controller) surface = null;
  };
}

/** Starts a tool on the viewer, cancelling any other. Throws when no slide is shown. */
export function startTool(kind: DrawToolKind, options: DrawToolOptions = {}): DrawToolHandle {
  if (!surface || !surface.controller.hasImage() || !surface.controller.activeSlide) throw new Error('open a slide to draw on it');
  session?.end('cancel');
  const started = new ToolSession(kind, options, surface.controller, surface.store);
  session = started;
  notify();
  return {
    kind,
    stop: () => started.end('cancel'),
    setBrushRadius: (radius) => started.setBrushRadius(radius),
    setColor: (color) => started.setColor(color),
  };
}

/** Cancels the active tool, if any. */
export function stopTool(): void {
  session?.end('cancel');
}

export function activeTool(): ActiveTool | null {
  return activeSnapshot;
}

export function subscribeTool(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The active tool for React components (re-renders when a tool starts or ends). */
export function useActiveTool(): ActiveTool | null {
  return useSyncExternalStore(subscribeTool, activeTool, activeTool);
}

/**
 * Whether OpenSeadragon's mouse navigation is on. Viewer.isMouseNavEnabled()
 * reads a property the tracker never sets (undefined in OSD 6.1), so ask the tracker.
 */
function mouseNavEnabled(viewer: ViewerController['viewer']): boolean {
  const tracker = (viewer as unknown as { innerTracker?: { isTracking(): boolean } }).innerTracker;
  return tracker ? tracker.isTracking() : true;
}

/**
 * The click and dblclick that follow the press which finished a shape must
 * not reach OpenSeadragon (a double-click would zoom in).
 */
function swallowTrailingClicks(element: HTMLElement): void {
  const swallow = (event: Event) => event.stopPropagation();
  element.addEventListener('click', swallow, true);
  element.addEventListener('dblclick', swallow, true);
  setTimeout(() => {
    element.removeEventListener('click', swallow, true);
    element.removeEventListener('dblclick', swallow, true);
  }, DOUBLE_CLICK_MS + 50);
}

class ToolSession {
  readonly hint: string;
  private readonly element: HTMLElement;
  private readonly slideId: string | undefined;
  private brushRadius: number;
  private color: string;
  /** Polygon vertices so far (level-0, flat). */
  private vertices: number[] = [];
  /** Rectangle: the corner where the drag began (level-0, so zooming mid-drag is harmless). */
  private anchor: Point2 | null = null;
  /** Pointer position in viewer-element px, null when outside the viewer. */
  private pointer: Point2 | null = null;
  /** Pointer id of the drag in progress (rectangle or brush stroke). */
  private dragPointer: number | null = null;
  private lastStroke: Point2 | null = null;
  private lastClick: { x: number; y: number; time: number } | null = null;
  private navWasEnabled = true;
  private ended = false;
  private readonly stopView: () => void;

  constructor(
    readonly kind: DrawToolKind,
    private readonly options: DrawToolOptions,
    private readonly controller: ViewerController,
    private readonly store: AppStore,
  ) {
    this.hint = options.hint ?? DEFAULT_HINTS[kind];
    this.brushRadius = options.brushRadius ?? 0;
    this.color = options.color ?? '#ffd400';
    this.element = controller.viewer.element;
    this.slideId = controller.activeSlide?.id;
    // Capture phase on the element that holds OpenSeadragon: its trackers (on
    // inner elements) never see the presses, so no pan, click- or double-click zoom.
    for (const type of ['pointerdown', 'mousedown', 'mouseup', 'click', 'dblclick'] as const) {
      this.element.addEventListener(type, this.onPress, true);
    }
    window.addEventListener('pointermove', this.onMove, true);
    window.addEventListener('pointerup', this.onRelease, true);
    window.addEventListener('pointercancel', this.onRelease, true);
    window.addEventListener('keydown', this.onKey, true);
    this.element.classList.add('drawing-tool');
    // The slide changed under the tool: its coordinates would be meaningless.
    this.stopView = controller.onView(() => {
      if (controller.activeSlide?.id !== this.slideId) this.end('cancel');
    });
    store.getState().addOverlay({
      id: PREVIEW_LAYER_ID,
      name: 'Drawing',
      slideId: null,
      kind: 'draw',
      opacity: 1,
      visible: true,
      draw: (ctx, view) => this.drawPreview(ctx, view),
    });
  }

  setBrushRadius(radius: number): void {
    this.brushRadius = radius;
    this.controller.redrawOverlays();
  }

  setColor(color: string): void {
    this.color = color;
    this.controller.redrawOverlays();
  }

  end(how: 'done' | 'cancel', polygon?: number[]): void {
    if (this.ended) return;
    this.ended = true;
    if (this.dragPointer !== null && this.kind === 'brush') this.options.onStroke?.({ phase: 'end', points: [] });
    this.releaseNavigation();
    for (const type of ['pointerdown', 'mousedown', 'mouseup', 'click', 'dblclick'] as const) {
      this.element.removeEventListener(type, this.onPress, true);
    }
    swallowTrailingClicks(this.element);
    window.removeEventListener('pointermove', this.onMove, true);
    window.removeEventListener('pointerup', this.onRelease, true);
    window.removeEventListener('pointercancel', this.onRelease, true);
    window.removeEventListener('keydown', this.onKey, true);
    this.element.classList.remove('drawing-tool');
    this.stopView();
    this.store.getState().removeOverlay(PREVIEW_LAYER_ID);
    if (session === this) {
      session = null;
      notify();
    }
    if (how === 'done' && polygon) this.options.onDone?.(polygon);
    else this.options.onCancel?.();
  }

  // ------------------------------------------------------------ events

  private screenPoint(event: { clientX: number; clientY: number }): Point2 {
    const rect = this.controller.viewer.container.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  private toImage(p: Point2): Point2 {
    return screenToImage(this.controller.imageToScreenTransform(), p.x, p.y);
  }

  /** Presses on the navigator (the overview in the corner) still steer the view. */
  private onNavigator(target: EventTarget | null): boolean {
    const navigator = this.controller.viewer.navigator as { element?: HTMLElement } | undefined;
    return !!navigator?.element && target instanceof Node && navigator.element.contains(target);
  }

  private readonly onPress = (event: Event): void => {
    if (this.onNavigator(event.target)) return;
    event.stopPropagation();
    if (event.type !== 'pointerdown') return;
    const press = event as PointerEvent;
    if (press.button !== 0) return;
    press.preventDefault();
    const p = this.screenPoint(press);
    this.pointer = p;
    if (this.kind === 'point') {
      const image = this.toImage(p);
      this.options.onPoint?.(image.x, image.y);
      return;
    }
    if (this.kind === 'polygon') {
      this.addVertex(p, press.timeStamp);
      return;
    }
    // A stroke whose release never arrived ends before the next begins.
    if (this.dragPointer !== null && this.kind === 'brush') this.options.onStroke?.({ phase: 'end', points: [] });
    this.holdNavigation(press.pointerId);
    const image = this.toImage(p);
    if (this.kind === 'rectangle') {
      this.anchor = image;
      this.options.onPreview?.(this.rectangle(p));
    } else {
      this.lastStroke = image;
      this.options.onStroke?.({ phase: 'start', points: [image.x, image.y] });
    }
    this.controller.redrawOverlays();
  };

  private readonly onMove = (event: PointerEvent): void => {
    const p = this.screenPoint(event);
    const { clientWidth, clientHeight } = this.controller.viewer.container;
    const inside = p.x >= 0 && p.y >= 0 && p.x < clientWidth && p.y < clientHeight;
    this.pointer = inside || this.dragPointer !== null ? p : null;
    if (this.dragPointer === event.pointerId) {
      if (this.kind === 'rectangle' && this.anchor) {
        this.options.onPreview?.(this.rectangle(p));
      } else if (this.kind === 'brush' && this.lastStroke) {
        // Coalesced events keep fast strokes smooth.
        const moves = event.getCoalescedEvents?.() ?? [];
        const points = [this.lastStroke.x, this.lastStroke.y];
        for (const move of moves.length ? moves : [event]) {
          const image = this.toImage(this.screenPoint(move));
          points.push(image.x, image.y);
        }
        this.lastStroke = { x: points[points.length - 2], y: points[points.length - 1] };
        this.options.onStroke?.({ phase: 'move', points });
      }
    } else if (this.kind === 'polygon' && this.vertices.length > 0 && this.pointer) {
      this.options.onPreview?.(this.polygonWithPointer());
    }
    this.controller.redrawOverlays();
  };

  private readonly onRelease = (event: PointerEvent): void => {
    if (this.dragPointer !== event.pointerId) return;
    this.releaseNavigation();
    if (this.kind === 'brush') {
      this.lastStroke = null;
      this.options.onStroke?.({ phase: 'end', points: [] });
    } else if (this.kind === 'rectangle' && this.anchor) {
      const end = this.screenPoint(event);
      const start = imageToScreen(this.controller.imageToScreenTransform(), this.anchor.x, this.anchor.y);
      this.anchor = null;
      if (Math.abs(end.x - start.x) >= MIN_RECT_PX && Math.abs(end.y - start.y) >= MIN_RECT_PX) {
        this.end('done', screenRectToPolygon(this.controller.imageToScreenTransform(), start, end));
        return;
      }
    }
    this.controller.redrawOverlays();
  };

  private readonly onKey = (event: KeyboardEvent): void => {
    if (isTextField(event.target)) return;
    const undo = (event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'z';
    if (event.key === 'Escape') {
      // Not stopped: Escape also closes the help and the like.
      this.end('cancel');
      return;
    }
    if (event.key === 'Enter' && this.kind === 'polygon') {
      this.finishPolygon();
    } else if ((undo || event.key === 'Backspace') && this.kind === 'polygon') {
      this.vertices.splice(-2, 2);
      this.options.onPreview?.(this.vertices.slice());
      this.controller.redrawOverlays();
    } else if (undo && this.kind === 'brush') {
      if (this.dragPointer === null) this.options.onUndo?.();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  };

  /**
   * OpenSeadragon's own mouse navigation is off while a drag of ours is in
   * progress; the pointer is captured so the release arrives even outside the window.
   */
  private holdNavigation(pointerId: number): void {
    if (this.dragPointer === null) this.navWasEnabled = mouseNavEnabled(this.controller.viewer);
    this.dragPointer = pointerId;
    this.controller.viewer.setMouseNavEnabled(false);
    try {
      this.element.setPointerCapture(pointerId);
    } catch {
      // Not an active pointer (synthetic events): the window listeners still see the release.
    }
  }

  private releaseNavigation(): void {
    if (this.dragPointer === null) return;
    if (this.element.hasPointerCapture(this.dragPointer)) this.element.releasePointerCapture(this.dragPointer);
    this.dragPointer = null;
    this.controller.viewer.setMouseNavEnabled(this.navWasEnabled);
  }

  // ------------------------------------------------------------ shapes

  private rectangle(pointer: Point2): number[] {
    const t = this.controller.imageToScreenTransform();
    const start = this.anchor ? imageToScreen(t, this.anchor.x, this.anchor.y) : pointer;
    return screenRectToPolygon(t, start, pointer);
  }

  private polygonWithPointer(): number[] {
    if (!this.pointer) return this.vertices.slice();
    const p = this.toImage(this.pointer);
    return [...this.vertices, p.x, p.y];
  }

  private addVertex(p: Point2, time: number): void {
    const last = this.lastClick;
    this.lastClick = { x: p.x, y: p.y, time };
    if (last && time - last.time < DOUBLE_CLICK_MS && Math.hypot(p.x - last.x, p.y - last.y) < DOUBLE_CLICK_PX) {
      this.lastClick = null;
      this.finishPolygon();
      return;
    }
    const image = this.toImage(p);
    this.vertices.push(image.x, image.y);
    this.options.onPreview?.(this.vertices.slice());
    this.controller.redrawOverlays();
  }

  private finishPolygon(): void {
    if (this.vertices.length >= 6) this.end('done', this.vertices.slice());
  }

  // ------------------------------------------------------------ preview

  private drawPreview(ctx: CanvasRenderingContext2D, view: OverlayView): void {
    const t = view.transform;
    const path: Point2[] = [];
    let closed = false;
    if (this.kind === 'rectangle' && this.anchor && this.pointer) {
      const a = imageToScreen(t, this.anchor.x, this.anchor.y);
      const b = this.pointer;
      path.push(a, { x: b.x, y: a.y }, b, { x: a.x, y: b.y });
      closed = true;
    } else if (this.kind === 'polygon') {
      for (let i = 0; i + 1 < this.vertices.length; i += 2) path.push(imageToScreen(t, this.vertices[i], this.vertices[i + 1]));
      if (this.pointer && path.length > 0) path.push(this.pointer);
      closed = path.length > 2;
    }
    ctx.lineJoin = 'round';
    if (path.length > 1) {
      ctx.beginPath();
      ctx.moveTo(path[0].x, path[0].y);
      for (const p of path.slice(1)) ctx.lineTo(p.x, p.y);
      if (closed) ctx.closePath();
      this.strokeTwice(ctx);
    }
    if (this.kind === 'polygon') {
      ctx.fillStyle = this.color;
      for (let i = 0; i + 1 < this.vertices.length; i += 2) {
        const p = imageToScreen(t, this.vertices[i], this.vertices[i + 1]);
        ctx.fillRect(p.x - 3, p.y - 3, 6, 6);
      }
    }
    if (this.kind === 'brush' && this.pointer) {
      ctx.beginPath();
      ctx.arc(this.pointer.x, this.pointer.y, Math.max(2, this.brushRadius * view.scale), 0, 2 * Math.PI);
      this.strokeTwice(ctx);
    }
  }

  /** A dark halo under the coloured line keeps it visible on light and dark tissue. */
  private strokeTwice(ctx: CanvasRenderingContext2D): void {
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.lineWidth = 3;
    ctx.stroke();
    ctx.strokeStyle = this.color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}
