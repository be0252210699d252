/**
 * User actions that touch both the decoder pool and the store: opening and
 * closing slides. Failures become alerts reading `<file name>: <reason>`;
 * one bad file never affects the slides already open.
 */
import { appStore, errorMessage } from '../store';
import { defaultDisplaySettings, type DisplaySettings } from '../slide/display';
import type { SlideMetadata } from '../slide/types';
import { getDecoderPool } from './services';

export const DEMO_SLIDE_PATH = 'demo/CMU-1-Small-Region.svs';

/** The reader's errors already start with "<name>: "; anything else gets the prefix here. */
export function fileErrorMessage(name: string, error: unknown): string {
  const message = errorMessage(error);
  return message.startsWith(`${name}: `) ? message : `${name}: ${message}`;
}

/** Opens one file; resolves to the new slide id, or null when it failed (an alert is shown). */
export async function openSlideFile(file: Blob, name: string): Promise<string | null> {
  const store = appStore.getState();
  try {
    const { slideId, metadata } = await getDecoderPool().open(file, name);
    let display = defaultDisplaySettings(metadata);
    // Full-range limits leave 16-bit and float fluorescence nearly black: start from the data's own range.
    if (display.mode === 'composite' && metadata.dtype !== 'uint8') display = await autoContrast(slideId, metadata, display);
    store.addSlide({ id: slideId, name, metadata, display });
    return slideId;
  } catch (error) {
    store.pushAlert(fileErrorMessage(name, error));
    return null;
  }
}

/** Display settings with contrast limits estimated from the slide (unchanged when that fails). */
export async function autoContrast(slideId: string, metadata: SlideMetadata, display: DisplaySettings): Promise<DisplaySettings> {
  try {
    const limits = await getDecoderPool().estimateContrast(slideId);
    return {
      ...display,
      channels: display.channels.map((channel, i) => {
        const limit = limits[i];
        if (!limit || !(limit.max > limit.min)) return channel;
        return { ...channel, min: limit.min, max: limit.max };
      }),
    };
  } catch (error) {
    console.warn(`${metadata.name}: contrast estimate failed`, error);
    return display;
  }
}

/** Opens files one after the other; the last one that opens becomes active. */
export async function openFiles(files: Iterable<File>): Promise<void> {
  for (const file of files) await openSlideFile(file, file.name);
}

export function closeSlide(slideId: string): void {
  getDecoderPool().close(slideId);
  appStore.getState().removeSlide(slideId);
  for (const layer of appStore.getState().overlays) {
    if (layer.slideId === slideId) appStore.getState().removeOverlay(layer.id);
  }
}

/** Fetches the bundled demo slide relative to the page, so any base path works. */
export async function openDemoSlide(): Promise<void> {
  const name = DEMO_SLIDE_PATH.split('/').pop()!;
  try {
    const response = await fetch(new URL(DEMO_SLIDE_PATH, document.baseURI));
    if (!response.ok) throw new Error(`demo slide could not be loaded (HTTP ${response.status})`);
    await openSlideFile(await response.blob(), name);
  } catch (error) {
    appStore.getState().pushAlert(fileErrorMessage(name, error));
  }
}
