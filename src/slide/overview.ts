/**
 * Reads a whole low-resolution view of a slide: the finest pyramid level whose
 * downsample does not exceed the wanted one, read in tile-sized pieces so no
 * single request is huge. Used by whole-slide steps such as the tissue mask.
 */
import type { LevelInfo, PixelBlock, SlideSource } from './types';
import { LIMITS } from './types';

export interface Overview {
  block: PixelBlock;
  level: number;
  /** Level-0 pixels per overview pixel. */
  downsample: number;
}

/** The coarsest level whose downsample does not exceed `maxDownsample` (level 0 when none does). */
export function levelForDownsample(levels: readonly Pick<LevelInfo, 'downsample'>[], maxDownsample: number): number {
  let level = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i].downsample <= maxDownsample) level = i;
  return level;
}

export async function readOverview(source: SlideSource, maxDownsample: number, signal?: AbortSignal): Promise<Overview> {
  const levels = source.metadata.levels;
  const level = levelForDownsample(levels, maxDownsample);
  const info = levels[level];
  if (info.width * info.height > LIMITS.maxWholeImagePixels) {
    throw new Error(
      `the slide has no level coarse enough for an overview (finest level ≤ ${maxDownsample}× is ${info.width} × ${info.height} px)`,
    );
  }
  const channels = source.metadata.channels.length;
  const Ctor = source.metadata.dtype === 'uint8' ? Uint8Array : source.metadata.dtype === 'uint16' ? Uint16Array : Float32Array;
  const data = new Ctor(info.width * info.height * channels);
  const piece = 2048;
  for (let y = 0; y < info.height; y += piece) {
    for (let x = 0; x < info.width; x += piece) {
      const width = Math.min(piece, info.width - x);
      const height = Math.min(piece, info.height - y);
      const part = await source.readRegion({ level, x, y, width, height }, signal);
      for (let row = 0; row < height; row++) {
        const from = row * width * channels;
        data.set(part.data.subarray(from, from + width * channels), ((y + row) * info.width + x) * channels);
      }
    }
  }
  return {
    block: { data, width: info.width, height: info.height, channels, dtype: source.metadata.dtype },
    level,
    downsample: info.downsample,
  };
}
