/**
 * Owns the OpenSeadragon viewer: shows the store's active slide through a
 * pool-backed tile source, keeps per-slide view positions, counts drawn and
 * failed tiles on the host element (data-tiles-drawn / data-tiles-failed),
 * and draws the overlay layers on a canvas that follows the viewport (layers
 * that opt into swipe are clipped at the divider).
 * React components only call its small API.
 */
import OpenSeadragon from 'openseadragon';
import type { AppStore, OpenSlide } from '../../store';
import { selectActiveSlide } from '../../store';
import { createSlideTileSource, type SlideTileSource, type TileLoader } from './osd-tile-source';
import { affineFromPoints, drawOverlays, IDENTITY, makeView, type Affine } from './overlays';

export interface ViewerControllerOptions {
  /** Element that carries the data-tiles-* counters (the [data-testid=viewer] wrapper). */
  host: HTMLElement;
  /** Element OpenSeadragon renders into. */
  container: HTMLElement;
  store: AppStore;
  loader: TileLoader;
  /** Concurrent tile jobs OSD may start. */
  concurrency: number;
}

/** Delay before new display settings re-render tiles, so dragging a slider stays smooth. */
const DISPLAY_DEBOUNCE_MS = 150;

export class ViewerController {
  readonly viewer: OpenSeadragon.Viewer;
  private readonly host: HTMLElement;
  private readonly store: AppStore;
  private readonly loader: TileLoader;
  private readonly overlayCanvas: HTMLCanvasElement;
  private readonly savedBounds = new Map<string, OpenSeadragon.Rect>();
  private readonly viewListeners = new Set<() => void>();
  private readonly unsubscribers: (() => void)[] = [];
  private source: SlideTileSource | null = null;
  private shownSlide: OpenSlide | null = null;
  private tilesDrawn = 0;
  private tilesFailed = 0;
  private overlayFrame = 0;
  private displayTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;

  constructor(options: ViewerControllerOptions) {
    this.host = options.host;
    this.store = options.store;
    this.loader = options.loader;
    this.viewer = OpenSeadragon({
      element: options.container,
      drawer: 'canvas',
      showNavigationControl: false,
      showNavigator: true,
      navigatorPosition: 'BOTTOM_RIGHT',
      navigatorSizeRatio: 0.18,
      navigatorAutoFade: false,
      visibilityRatio: 0.2,
      minZoomImageRatio: 0.5,
      maxZoomPixelRatio: 8,
      animationTime: 0.35,
      imageLoaderLimit: options.concurrency,
      timeout: 120_000,
      tileRetryMax: 0,
      preserveImageSizeOnResize: true,
      crossOriginPolicy: false,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    });

    this.overlayCanvas = document.createElement('canvas');
    this.overlayCanvas.className = 'overlay-canvas';
    this.overlayCanvas.setAttribute('aria-hidden', 'true');
    this.viewer.canvas.appendChild(this.overlayCanvas);

    this.viewer.addHandler('tile-drawn', (event) => {
      if (!this.source || event.tiledImage.source !== this.source) return;
      if (this.source.isPlaceholder(event.tile)) return;
      this.tilesDrawn++;
      this.host.dataset.tilesDrawn = String(this.tilesDrawn);
    });
    this.viewer.addHandler('update-viewport', () => this.onViewChanged());
    this.viewer.addHandler('resize', () => this.onViewChanged());
    this.viewer.addHandler('open', () => {
      const bounds = this.shownSlide && this.savedBounds.get(this.shownSlide.id);
      if (bounds) this.viewer.viewport.fitBounds(bounds, true);
      this.onViewChanged();
    });
    this.viewer.addHandler('open-failed', (event) => {
      const name = this.shownSlide?.name ?? 'slide';
      this.store.getState().pushAlert(`${name}: the viewer could not open it (${String(event.message)})`);
    });

    this.resetCounters();
    this.unsubscribers.push(this.store.subscribe((state, previous) => this.onStoreChange(state, previous)));
    this.showSlide(selectActiveSlide(this.store.getState()) ?? null);
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.displayTimer);
    cancelAnimationFrame(this.overlayFrame);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.viewer.destroy();
  }

  /** Subscribe to viewport changes (pan, zoom, resize, slide switch). */
  onView(listener: () => void): () => void {
    this.viewListeners.add(listener);
    return () => this.viewListeners.delete(listener);
  }

  get activeSlide(): OpenSlide | null {
    return this.shownSlide;
  }

  hasImage(): boolean {
    return this.viewer.world.getItemCount() > 0;
  }

  zoomToFit(): void {
    if (this.hasImage()) this.viewer.viewport.goHome();
  }

  /** 1 CSS pixel = 1 level-0 pixel. */
  zoomTo100(): void {
    if (!this.hasImage()) return;
    const viewport = this.viewer.viewport;
    viewport.zoomTo(viewport.imageToViewportZoom(1));
  }

  zoomBy(factor: number): void {
    if (!this.hasImage()) return;
    this.viewer.viewport.zoomBy(factor);
    this.viewer.viewport.applyConstraints();
  }

  /** Screen (CSS) px per level-0 px; undefined without an image. */
  imageZoom(): number | undefined {
    if (!this.hasImage()) return undefined;
    const viewport = this.viewer.viewport;
    return viewport.viewportToImageZoom(viewport.getZoom(true));
  }

  /** Level-0 pixel coordinates under a client (window) point, or null outside the image. */
  imagePointAt(clientX: number, clientY: number): { x: number; y: number } | null {
    if (!this.hasImage() || !this.shownSlide) return null;
    const rect = this.viewer.container.getBoundingClientRect();
    const point = this.viewer.viewport.viewerElementToImageCoordinates(
      new OpenSeadragon.Point(clientX - rect.left, clientY - rect.top),
    );
    const { width, height } = this.shownSlide.metadata;
    const x = Math.floor(point.x);
    const y = Math.floor(point.y);
    if (x < 0 || y < 0 || x >= width || y >= height) return null;
    return { x, y };
  }

  /** Level-0 → viewer-element CSS px, as an affine transform. */
  imageToScreenTransform(): Affine {
    if (!this.hasImage() || !this.shownSlide) return IDENTITY;
    const unit = Math.max(1, this.shownSlide.metadata.width);
    const viewport = this.viewer.viewport;
    const toScreen = (x: number, y: number) =>
      viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
    return affineFromPoints(toScreen(0, 0), toScreen(unit, 0), toScreen(0, unit), unit);
  }

  /** Redraws the overlay canvas on the next frame (for layers whose draw() reads state that changed). */
  redrawOverlays(): void {
    if (this.overlayFrame) return;
    this.overlayFrame = requestAnimationFrame(() => {
      this.overlayFrame = 0;
      this.drawOverlayLayers();
    });
  }

  /** The current view (slide pixels plus overlays) as a PNG. */
  async exportPng(): Promise<Blob> {
    const drawerCanvas = (this.viewer.drawer as unknown as { canvas: HTMLCanvasElement }).canvas;
    const out = document.createElement('canvas');
    out.width = drawerCanvas.width;
    out.height = drawerCanvas.height;
    const ctx = out.getContext('2d')!;
    const background = getComputedStyle(this.viewer.element).backgroundColor;
    ctx.fillStyle = background && background !== 'rgba(0, 0, 0, 0)' && background !== 'transparent' ? background : '#1b1b1b';
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(drawerCanvas, 0, 0);
    if (this.overlayCanvas.width > 0 && this.overlayCanvas.height > 0) {
      ctx.drawImage(this.overlayCanvas, 0, 0, out.width, out.height);
    }
    return new Promise((resolve, reject) =>
      out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The view could not be encoded as PNG'))), 'image/png'),
    );
  }

  private resetCounters(): void {
    this.tilesDrawn = 0;
    this.tilesFailed = 0;
    this.host.dataset.tilesDrawn = '0';
    this.host.dataset.tilesFailed = '0';
  }

  private onStoreChange(state: ReturnType<AppStore['getState']>, previous: ReturnType<AppStore['getState']>): void {
    if (this.destroyed) return;
    const active = selectActiveSlide(state) ?? null;
    if (active?.id !== this.shownSlide?.id) {
      this.showSlide(active);
      return;
    }
    if (active && this.shownSlide && active.display !== this.shownSlide.display) {
      this.shownSlide = active;
      clearTimeout(this.displayTimer);
      this.displayTimer = setTimeout(() => this.rerenderTiles(), DISPLAY_DEBOUNCE_MS);
    } else if (active) {
      this.shownSlide = active;
    }
    if (state.overlays !== previous.overlays || state.swipe !== previous.swipe) this.redrawOverlays();
  }

  private showSlide(slide: OpenSlide | null): void {
    if (this.shownSlide && this.hasImage()) this.savedBounds.set(this.shownSlide.id, this.viewer.viewport.getBounds());
    for (const id of this.savedBounds.keys()) {
      if (!this.store.getState().slides.some((s) => s.id === id)) this.savedBounds.delete(id);
    }
    this.shownSlide = slide;
    this.resetCounters();
    if (!slide) {
      this.source = null;
      this.viewer.close();
      this.onViewChanged();
      return;
    }
    const slideId = slide.id;
    this.source = createSlideTileSource(OpenSeadragon, {
      slideId,
      metadata: slide.metadata,
      loader: this.loader,
      getDisplay: () => (this.store.getState().slides.find((s) => s.id === slideId) ?? slide).display,
      onTileFailed: (error) => {
        if (this.shownSlide?.id !== slideId) return;
        this.tilesFailed++;
        this.host.dataset.tilesFailed = String(this.tilesFailed);
        console.warn(`${slide.name}: tile failed`, error);
      },
    });
    this.viewer.open({ tileSource: this.source });
  }

  /** Drops rendered tiles so they are requested again with the current display settings. */
  private rerenderTiles(): void {
    if (this.destroyed) return;
    const items = [this.viewer.world.getItemAt(0), this.viewer.navigator?.world.getItemAt(0)];
    for (const item of items) item?.reset();
    this.viewer.forceRedraw();
    this.viewer.navigator?.forceRedraw();
  }

  private onViewChanged(): void {
    this.redrawOverlays();
    for (const listener of this.viewListeners) listener();
  }

  private drawOverlayLayers(): void {
    if (this.destroyed) return;
    const canvas = this.overlayCanvas;
    const width = this.viewer.container.clientWidth;
    const height = this.viewer.container.clientHeight;
    const ratio = window.devicePixelRatio || 1;
    const { overlays: layers, swipe } = this.store.getState();
    const slideId = this.shownSlide?.id ?? null;
    const anyVisible = layers.some((l) => l.visible && (l.slideId === null || l.slideId === slideId));
    // Without layers, keep the canvas empty and tiny: nothing to composite.
    const targetWidth = anyVisible && this.hasImage() ? Math.round(width * ratio) : 0;
    const targetHeight = anyVisible && this.hasImage() ? Math.round(height * ratio) : 0;
    if (canvas.width !== targetWidth || canvas.height !== targetHeight) {
      canvas.width = targetWidth;
      canvas.height = targetHeight;
    }
    if (targetWidth === 0 || targetHeight === 0) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const swipeX = swipe === null ? undefined : swipe * width;
    drawOverlays(ctx, layers, slideId, makeView(this.imageToScreenTransform(), width, height, ratio, swipeX));
  }
}
