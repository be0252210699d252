/// <reference lib="webworker" />
/**
 * One slide decoder worker: opens its own SlideSource per slide, decodes and
 * renders tiles, and hands them back as transferred ImageBitmaps.
 */
import * as Comlink from 'comlink';
import { openSlide } from '../slide/open';
import { renderRgba } from '../slide/display';
import { createSlideEndpoint } from './slide-endpoint';
import type { SlideWorkerApi } from './protocol';

const endpoint = createSlideEndpoint<ImageBitmap>({
  openSlide,
  renderRgba,
  async toImage(rgba, width, height) {
    // ImageData needs a buffer of its own (not a view into a larger or shared one).
    const pixels = rgba.byteOffset === 0 && rgba.buffer.byteLength === rgba.byteLength && rgba.buffer instanceof ArrayBuffer
      ? (rgba as Uint8ClampedArray<ArrayBuffer>)
      : new Uint8ClampedArray(rgba);
    return createImageBitmap(new ImageData(pixels, width, height));
  },
});

const api: SlideWorkerApi = {
  open: (file, name, slideId) => endpoint.open(file, name, slideId),
  async readTile(slideId, request, display, requestId) {
    const bitmap = await endpoint.readTile(slideId, request, display, requestId);
    return Comlink.transfer(bitmap, [bitmap]);
  },
  async readAssociated(slideId, name, maxSide, requestId) {
    const bitmap = await endpoint.readAssociated(slideId, name, maxSide, requestId);
    return Comlink.transfer(bitmap, [bitmap]);
  },
  estimateContrast: (slideId, requestId) => endpoint.estimateContrast(slideId, requestId),
  cancel: (requestId) => endpoint.cancel(requestId),
  close: (slideId) => endpoint.close(slideId),
};

Comlink.expose(api);
