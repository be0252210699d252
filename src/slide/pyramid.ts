/**
 * Synthetic pyramid levels for any SlideSource whose coarsest level is still
 * large (plain images, single-level TIFFs, small SVS files): each added
 * level halves the previous one by 2 × 2 area averaging. Levels are built
 * lazily in 256-px tiles, each from a 512-px block of the level below, and
 * cached, so an overview costs one pass over the data and nothing more.
 *
 * Averaging counts only pixels inside the image (an odd last column
 * averages 2 pixels, the corner 1). Integers are rounded half up.
 */
import { abortable, allocatePixels, checkRegion, clipRect, fillValueFor, forEachLimited, throwIfAborted, type ChannelRegion } from './formats/region';
import { TileCache } from './formats/tile-cache';
import type { LevelInfo, PixelBlock, SlideMetadata, SlideSource } from './types';

/** Levels are added until the coarsest one fits within this many pixels on its longer side. */
export const PYRAMID_TARGET_SIDE = 1024;
export const SYNTHETIC_TILE_SIZE = 256;
const SYNTHETIC_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * Synthetic levels are only built over a coarsest level of at most this many
 * pixels: the top synthetic tile needs one full pass over it. A file whose
 * own pyramid stops far above that (a 30000-px "overview") is left with its
 * real levels rather than decoding hundreds of megapixels per worker.
 */
export const PYRAMID_MAX_SOURCE_PIXELS = 64 * 1024 * 1024;

export function withPyramid(source: SlideSource): SlideSource {
  const base = source.metadata.levels;
  const levels: LevelInfo[] = [...base];
  let last = levels[levels.length - 1];
  if (last.width * last.height > PYRAMID_MAX_SOURCE_PIXELS) return source;
  while (Math.max(last.width, last.height) > PYRAMID_TARGET_SIDE) {
    const width = Math.ceil(last.width / 2);
    const height = Math.ceil(last.height / 2);
    last = {
      width,
      height,
      tileWidth: SYNTHETIC_TILE_SIZE,
      tileHeight: SYNTHETIC_TILE_SIZE,
      downsample: source.metadata.width / width,
      generated: true,
    };
    levels.push(last);
  }
  if (levels.length === base.length) return source;

  const metadata: SlideMetadata = { ...source.metadata, levels };
  const allChannels = metadata.channels.map((_, i) => i);
  const fill = fillValueFor(metadata);
  const cache = new TileCache<PixelBlock>(SYNTHETIC_CACHE_BYTES);

  /** One synthetic tile (all channels), clipped to its level. */
  const tile = (level: number, tx: number, ty: number): Promise<PixelBlock> =>
    cache.getOrLoad(`${level}:${tx}:${ty}`, async () => {
      const parent = levels[level - 1];
      const size = SYNTHETIC_TILE_SIZE * 2;
      const rect = clipRect(tx * size, ty * size, size, size, parent.width, parent.height)!;
      // No signal: the tile is shared by every reader that needs it.
      const block = await readLevel({ level: level - 1, ...rect, channels: allChannels });
      const value = downsample2(block);
      return { value, bytes: value.data.byteLength };
    });

  const readLevel = async (region: ChannelRegion, signal?: AbortSignal): Promise<PixelBlock> => {
    if (region.level < base.length) return source.readRegion(region, signal);
    throwIfAborted(signal);
    const selected = checkRegion(metadata, region);
    const { x, y, width, height } = region;
    const info = levels[region.level];
    const data = allocatePixels(metadata.dtype, width * height * selected.length, fill);
    const clip = clipRect(x, y, width, height, info.width, info.height);
    if (clip) {
      const tiles: [number, number][] = [];
      const t = SYNTHETIC_TILE_SIZE;
      for (let ty = Math.floor(clip.y / t); ty <= Math.floor((clip.y + clip.height - 1) / t); ty++) {
        for (let tx = Math.floor(clip.x / t); tx <= Math.floor((clip.x + clip.width - 1) / t); tx++) tiles.push([tx, ty]);
      }
      await forEachLimited(tiles, 4, async ([tx, ty]) => {
        throwIfAborted(signal);
        const block = await abortable(tile(region.level, tx, ty), signal);
        copyBlock(block, tx * t, ty * t, { data, width, height, channels: selected, x, y }, clip);
      });
    }
    throwIfAborted(signal);
    return { data, width, height, channels: selected.length, dtype: metadata.dtype };
  };

  return {
    metadata,
    readRegion: readLevel,
    readAssociated: (name, signal) => source.readAssociated(name, signal),
    close() {
      cache.clear();
      source.close();
    },
  };
}

function copyBlock(
  block: PixelBlock,
  blockX: number,
  blockY: number,
  target: { data: PixelBlock['data']; width: number; height: number; channels: number[]; x: number; y: number },
  clip: { x: number; y: number; width: number; height: number },
): void {
  const x0 = Math.max(clip.x, blockX);
  const y0 = Math.max(clip.y, blockY);
  const x1 = Math.min(clip.x + clip.width, blockX + block.width);
  const y1 = Math.min(clip.y + clip.height, blockY + block.height);
  const sc = block.channels;
  const tc = target.channels.length;
  for (let y = y0; y < y1; y++) {
    let s = ((y - blockY) * block.width + (x0 - blockX)) * sc;
    let d = ((y - target.y) * target.width + (x0 - target.x)) * tc;
    for (let x = x0; x < x1; x++, s += sc, d += tc) {
      for (let k = 0; k < tc; k++) target.data[d + k] = block.data[s + target.channels[k]];
    }
  }
}

/** 2 × 2 area average over the pixels that exist; output is ceil(w/2) × ceil(h/2). */
export function downsample2(block: PixelBlock): PixelBlock {
  const { width, height, channels: ch, dtype } = block;
  const ow = Math.ceil(width / 2);
  const oh = Math.ceil(height / 2);
  const src = block.data;
  const out = allocatePixels(dtype, ow * oh * ch, 0);
  const integer = dtype !== 'float32';
  const fullCols = width >> 1; // output columns whose 2 × 2 block is complete horizontally
  const rowStride = width * ch;
  for (let oy = 0; oy < oh; oy++) {
    const top = oy * 2 * rowStride;
    const twoRows = oy * 2 + 1 < height;
    const bottom = twoRows ? top + rowStride : top;
    let o = oy * ow * ch;
    // Interior: four pixels (or two when the last row is alone).
    if (twoRows && integer) {
      for (let ox = 0, a = top, b = bottom; ox < fullCols; ox++, a += ch, b += ch) {
        for (let c = 0; c < ch; c++, a++, b++, o++) out[o] = (src[a] + src[a + ch] + src[b] + src[b + ch] + 2) >> 2;
      }
    } else {
      const count = twoRows ? 4 : 2;
      for (let ox = 0, a = top, b = bottom; ox < fullCols; ox++, a += ch, b += ch) {
        for (let c = 0; c < ch; c++, a++, b++, o++) {
          const sum = twoRows ? src[a] + src[a + ch] + src[b] + src[b + ch] : src[a] + src[a + ch];
          out[o] = integer ? Math.floor(sum / count + 0.5) : sum / count;
        }
      }
    }
    // Odd width: the last column averages one pixel per row.
    if (fullCols < ow) {
      const a = top + fullCols * 2 * ch;
      const b = bottom + fullCols * 2 * ch;
      const count = twoRows ? 2 : 1;
      for (let c = 0; c < ch; c++, o++) {
        const sum = twoRows ? src[a + c] + src[b + c] : src[a + c];
        out[o] = integer ? Math.floor(sum / count + 0.5) : sum / count;
      }
    }
  }
  return { data: out, width: ow, height: oh, channels: ch, dtype };
}
