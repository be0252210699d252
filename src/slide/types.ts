/**
 * The one narrow seam between file formats and everything else.
 * Format modules only *build* SlideSources; the viewer, the analysis and the
 * CLI read pixels exclusively through `readRegion`.
 */

export type PixelDType = 'uint8' | 'uint16' | 'float32';
export type PixelArray = Uint8Array | Uint16Array | Float32Array;

/** The value that stands for full intensity in each sample type (floats are stored in 0…1). */
export function dtypeFullScale(dtype: PixelDType): number {
  return dtype === 'uint8' ? 255 : dtype === 'uint16' ? 65535 : 1;
}

/** Decoded pixels, channel-interleaved (row-major, `channels` values per pixel). */
export interface PixelBlock {
  data: PixelArray;
  width: number;
  height: number;
  channels: number;
  dtype: PixelDType;
}

export interface LevelInfo {
  width: number;
  height: number;
  /** Natural read granularity of this level (file tile size, or a synthetic one). */
  tileWidth: number;
  tileHeight: number;
  /** level-0 pixels per pixel of this level (x direction). */
  downsample: number;
  /** True for levels the app computes itself (not stored in the file). */
  generated?: boolean;
}

export interface ChannelInfo {
  name: string;
  /** Display colour as #rrggbb, used when compositing fluorescence channels. */
  color: string;
}

export interface AssociatedImageInfo {
  /** 'label' | 'macro' | 'thumbnail' or a format-specific name. */
  name: string;
  width: number;
  height: number;
}

export interface SlideMetadata {
  /** File name as given by the user (untrusted text; never render as HTML). */
  name: string;
  /** Short format id: 'svs', 'ndpi', 'ome-tiff', 'tiff', 'png', 'jpeg', 'webp'. */
  format: string;
  /** Level-0 size in pixels. */
  width: number;
  height: number;
  levels: LevelInfo[];
  /** Samples per pixel as returned by readRegion (3 for RGB, N for OME channels). */
  channels: ChannelInfo[];
  dtype: PixelDType;
  /** True when the channels are a photometric RGB image, false for independent (fluorescence) channels. */
  rgb: boolean;
  /** Micrometres per level-0 pixel, when the file says so. */
  mppX?: number;
  mppY?: number;
  objectivePower?: number;
  associated: AssociatedImageInfo[];
  /** Flat, human-readable properties (vendor keys). Untrusted text. */
  properties: Record<string, string>;
}

/** A rectangle in the pixel grid of `level` (not level 0). */
export interface Region {
  level: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SlideSource {
  readonly metadata: SlideMetadata;
  /**
   * Reads a region of one level. Pixels outside the level are filled with 0
   * (or 255 for brightfield RGB, so the background looks like glass).
   * Rejects with an AbortError when `signal` fires.
   */
  readRegion(region: Region, signal?: AbortSignal): Promise<PixelBlock>;
  /** Decodes a label/macro/thumbnail image by name. */
  readAssociated(name: string, signal?: AbortSignal): Promise<PixelBlock>;
  close(): void;
}

/**
 * A user-facing failure that names the file and the reason, e.g.
 * `slide.svs: JPEG-XR compression (34892) is not supported`.
 */
export class SlideError extends Error {
  constructor(
    readonly fileName: string,
    readonly reason: string,
  ) {
    super(`${fileName}: ${reason}`);
    this.name = 'SlideError';
  }
}

/** Limits that stop decompression bombs before anything is allocated. */
export const LIMITS = {
  /** Largest level-0 side we accept (pixels). Real WSIs reach ~250k. */
  maxSide: 1_000_000,
  /** Largest single tile/strip that may be decoded at once (pixels). */
  maxTilePixels: 64 * 1024 * 1024,
  /** Largest image decoded whole (plain PNG/JPEG/strip TIFF without tiles). */
  maxWholeImagePixels: 256 * 1024 * 1024,
  /** Most tiles a level may declare. */
  maxTiles: 50_000_000,
  /** Largest region one readRegion call may return (pixels). */
  maxRegionPixels: 64 * 1024 * 1024,
} as const;
