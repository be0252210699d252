/**
 * A single-level SlideSource over pixels already in memory (plain PNG, JPEG
 * and WebP files, which must be decoded whole).
 */
import { SlideError, type PixelBlock, type SlideMetadata, type SlideSource } from '../types';
import { allocatePixels, checkRegion, clipRect, fillValueFor, throwIfAborted, type ChannelRegion } from './region';

/** Synthetic tile size reported for images that have no tiles of their own. */
export const MEMORY_TILE_SIZE = 512;

export function createMemorySource(
  image: PixelBlock,
  info: Omit<SlideMetadata, 'width' | 'height' | 'levels' | 'dtype' | 'associated'>,
): SlideSource {
  const metadata: SlideMetadata = {
    ...info,
    width: image.width,
    height: image.height,
    dtype: image.dtype,
    levels: [
      {
        width: image.width,
        height: image.height,
        tileWidth: Math.min(image.width, MEMORY_TILE_SIZE),
        tileHeight: Math.min(image.height, MEMORY_TILE_SIZE),
        downsample: 1,
      },
    ],
    associated: [],
  };
  const fill = fillValueFor(metadata);
  let pixels: PixelBlock | undefined = image;

  return {
    metadata,
    async readRegion(region: ChannelRegion, signal?: AbortSignal): Promise<PixelBlock> {
      throwIfAborted(signal);
      if (!pixels) throw new SlideError(metadata.name, 'the slide has been closed');
      const selected = checkRegion(metadata, region);
      const { x, y, width, height } = region;
      const out = allocatePixels(metadata.dtype, width * height * selected.length, fill);
      const clip = clipRect(x, y, width, height, pixels.width, pixels.height);
      if (clip) {
        const src = pixels.data;
        const sc = pixels.channels;
        const tc = selected.length;
        for (let row = clip.y; row < clip.y + clip.height; row++) {
          let s = (row * pixels.width + clip.x) * sc;
          let d = ((row - y) * width + (clip.x - x)) * tc;
          for (let i = 0; i < clip.width; i++, s += sc, d += tc) {
            for (let k = 0; k < tc; k++) out[d + k] = src[s + selected[k]];
          }
        }
      }
      return { data: out, width, height, channels: selected.length, dtype: metadata.dtype };
    },
    async readAssociated(name: string): Promise<PixelBlock> {
      throw new SlideError(metadata.name, `no associated image named "${name}" (available: none)`);
    },
    close() {
      pixels = undefined;
    },
  };
}
