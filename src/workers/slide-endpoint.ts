/**
 * The logic of one slide decoder worker, free of Comlink and of browser-only
 * APIs so it runs under Node in tests. The worker file wires it to Comlink and
 * to createImageBitmap.
 */
import type { PixelBlock, SlideMetadata, SlideSource } from '../slide/types';
import type { DisplaySettings } from '../slide/display';
import { estimateContrastLimits } from '../slide/display';
import type { ContrastLimits, TileRequest } from './protocol';
import { fitWithin, resampleBlock } from './downsample';

/** Largest region read to estimate contrast (the coarsest level is usually far smaller). */
const CONTRAST_SAMPLE_SIDE = 2048;

export interface SlideEndpointDeps<TImage> {
  openSlide(file: Blob, name: string): Promise<SlideSource>;
  renderRgba(block: PixelBlock, display: DisplaySettings): Uint8ClampedArray;
  /** Wraps RGBA pixels into what is sent back (an ImageBitmap in the browser). */
  toImage(rgba: Uint8ClampedArray, width: number, height: number): Promise<TImage>;
}

export interface SlideEndpoint<TImage> {
  open(file: Blob, name: string, slideId: string): Promise<{ slideId: string; metadata: SlideMetadata }>;
  readTile(slideId: string, request: TileRequest, display: DisplaySettings, requestId: number): Promise<TImage>;
  readAssociated(slideId: string, name: string, maxSide: number, requestId: number): Promise<TImage>;
  estimateContrast(slideId: string, requestId: number): Promise<ContrastLimits[]>;
  cancel(requestId: number): void;
  close(slideId: string): void;
  /** Number of requests currently running (for tests and diagnostics). */
  pending(): number;
}

function abortError(): DOMException {
  return new DOMException('The tile request was cancelled', 'AbortError');
}

/** Associated images (label, macro, thumbnail) are photographs: show them as grey or RGB, whatever the slide's channels. */
export function associatedRgba(block: PixelBlock): Uint8ClampedArray {
  const { width, height, channels, data } = block;
  const out = new Uint8ClampedArray(width * height * 4);
  let max = 255;
  if (block.dtype !== 'uint8') {
    max = 0;
    for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
    if (!(max > 0)) max = 1;
  }
  const scale = 255 / max;
  for (let p = 0, q = 0; p < width * height; p++, q += channels) {
    const r = data[q] * scale;
    const g = channels >= 3 ? data[q + 1] * scale : r;
    const b = channels >= 3 ? data[q + 2] * scale : r;
    out[4 * p] = r;
    out[4 * p + 1] = g;
    out[4 * p + 2] = b;
    out[4 * p + 3] = 255;
  }
  return out;
}

export function createSlideEndpoint<TImage>(deps: SlideEndpointDeps<TImage>): SlideEndpoint<TImage> {
  const sources = new Map<string, Promise<SlideSource>>();
  const controllers = new Map<number, AbortController>();

  async function sourceFor(slideId: string): Promise<SlideSource> {
    const source = sources.get(slideId);
    if (!source) throw new Error(`Slide ${slideId} is not open in this worker`);
    return source;
  }

  async function withRequest<T>(requestId: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    controllers.set(requestId, controller);
    try {
      return await run(controller.signal);
    } finally {
      controllers.delete(requestId);
    }
  }

  return {
    async open(file, name, slideId) {
      let source = sources.get(slideId);
      if (!source) {
        source = deps.openSlide(file, name);
        sources.set(slideId, source);
        // A failed open must not poison the id for a retry.
        source.catch(() => sources.delete(slideId));
      }
      return { slideId, metadata: (await source).metadata };
    },

    readTile(slideId, request, display, requestId) {
      return withRequest(requestId, async (signal) => {
        const source = await sourceFor(slideId);
        if (signal.aborted) throw abortError();
        const { outWidth, outHeight, ...region } = request;
        const block = await source.readRegion(region, signal);
        if (signal.aborted) throw abortError();
        const scaled = resampleBlock(block, outWidth, outHeight);
        const rgba = deps.renderRgba(scaled, display);
        return deps.toImage(rgba, scaled.width, scaled.height);
      });
    },

    readAssociated(slideId, name, maxSide, requestId) {
      return withRequest(requestId, async (signal) => {
        const source = await sourceFor(slideId);
        const block = await source.readAssociated(name, signal);
        if (signal.aborted) throw abortError();
        const size = fitWithin(block.width, block.height, maxSide);
        const scaled = resampleBlock(block, size.width, size.height);
        return deps.toImage(associatedRgba(scaled), scaled.width, scaled.height);
      });
    },

    estimateContrast(slideId, requestId) {
      return withRequest(requestId, async (signal) => {
        const source = await sourceFor(slideId);
        const levels = source.metadata.levels;
        const level = levels.length - 1;
        const { width, height } = levels[level];
        const w = Math.min(width, CONTRAST_SAMPLE_SIDE);
        const h = Math.min(height, CONTRAST_SAMPLE_SIDE);
        const region = { level, x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
        const block = await source.readRegion(region, signal);
        return estimateContrastLimits(block);
      });
    },

    cancel(requestId) {
      controllers.get(requestId)?.abort();
    },

    close(slideId) {
      const source = sources.get(slideId);
      sources.delete(slideId);
      source?.then((s) => s.close()).catch(() => undefined);
    },

    pending() {
      return controllers.size;
    },
  };
}
