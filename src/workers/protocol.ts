/**
 * What crosses between the main thread and a slide decoder worker. Requests
 * are plain data; pixels come back only as transferred ImageBitmaps.
 */
import type { Region, SlideMetadata } from '../slide/types';
import type { DisplaySettings } from '../slide/display';

/** A region of one slide level, rendered to `outWidth × outHeight` (box-filtered when smaller). */
export interface TileRequest extends Region {
  outWidth: number;
  outHeight: number;
}

export interface ContrastLimits {
  min: number;
  max: number;
}

export interface OpenResult {
  slideId: string;
  metadata: SlideMetadata;
}

/** The Comlink endpoint a slide worker exposes. */
export interface SlideWorkerApi {
  /** Opens `file` under `slideId` (the pool chooses ids so every worker agrees). */
  open(file: Blob, name: string, slideId: string): Promise<OpenResult>;
  readTile(slideId: string, request: TileRequest, display: DisplaySettings, requestId: number): Promise<ImageBitmap>;
  /** Label/macro/thumbnail, scaled down to fit `maxSide` (never up). */
  readAssociated(slideId: string, name: string, maxSide: number, requestId: number): Promise<ImageBitmap>;
  /** Contrast limits per channel (0.1/99.9 percentiles) from the coarsest level. */
  estimateContrast(slideId: string, requestId: number): Promise<ContrastLimits[]>;
  /** Aborts a running request; unknown ids are ignored. */
  cancel(requestId: number): void;
  close(slideId: string): void;
}
