/**
 * Builds a SlideSource from TIFF pages. A level is one or more pages of the
 * same size whose samples are concatenated into the output channels (one
 * RGB page; or one page per fluorescence channel in OME-TIFF). Format
 * modules (svs, ome-tiff, generic-tiff) only decide which pages form which
 * level and fill in the metadata; reading is all here and in tiff-image.ts.
 */
import { LIMITS, SlideError, type ChannelInfo, type LevelInfo, type PixelBlock, type SlideMetadata, type SlideSource } from '../types';
import { allocatePixels, checkRegion, clipRect, fillValueFor, throwIfAborted, type ChannelRegion } from './region';
import { PHOTOMETRIC, type TiffFile, type TiffPage } from './tiff';
import { TiffImage, type CachedChunk, type SampleRoute } from './tiff-image';
import { TileCache } from './tile-cache';

export interface TiffSourceSpec {
  file: TiffFile;
  format: string;
  /** Largest level first; each level lists the pages whose samples it concatenates. */
  levels: TiffPage[][];
  channels: ChannelInfo[];
  rgb: boolean;
  mppX?: number;
  mppY?: number;
  objectivePower?: number;
  associated?: { name: string; page: TiffPage }[];
  properties: Record<string, string>;
}

export const RGB_CHANNELS: ChannelInfo[] = [
  { name: 'Red', color: '#ff0000' },
  { name: 'Green', color: '#00ff00' },
  { name: 'Blue', color: '#0000ff' },
];

const CHANNEL_PALETTE = ['#ff0000', '#00ff00', '#0000ff', '#00ffff', '#ff00ff', '#ffff00', '#ffffff'];

export function defaultChannels(count: number, names?: string[]): ChannelInfo[] {
  if (count === 1) return [{ name: names?.[0] || 'Intensity', color: '#ffffff' }];
  return Array.from({ length: count }, (_, i) => ({
    name: names?.[i] || `Channel ${i}`,
    color: CHANNEL_PALETTE[i % CHANNEL_PALETTE.length],
  }));
}

/** Samples of a page that become output channels: colour images lose their alpha/extra samples. */
export function outputSamples(page: TiffPage): number {
  if (page.photometric === PHOTOMETRIC.Palette) return 3;
  const colour = page.photometric === PHOTOMETRIC.RGB || page.photometric === PHOTOMETRIC.YCbCr;
  return colour && page.samplesPerPixel > 3 ? 3 : page.samplesPerPixel;
}

export function createTiffSource(spec: TiffSourceSpec): SlideSource {
  const { file } = spec;
  const cache = new TileCache<CachedChunk>();
  const levels = spec.levels.map((pages) => pages.map((page) => new TiffImage(file, page, cache)));
  const first = levels[0][0];
  for (const parts of levels) {
    for (const part of parts) {
      if (part.width !== parts[0].width || part.height !== parts[0].height || part.dtype !== first.dtype) {
        throw new SlideError(file.name, `the pages of one level differ in size or sample type (${part.page.label})`);
      }
    }
  }
  const partChannels = levels.map((parts) => parts.map((part) => outputSamples(part.page)));
  for (const counts of partChannels) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (total !== spec.channels.length) {
      throw new SlideError(file.name, `a level has ${total} samples per pixel where ${spec.channels.length} channels were expected`);
    }
  }

  const levelInfo: LevelInfo[] = levels.map((parts) => ({
    width: parts[0].width,
    height: parts[0].height,
    tileWidth: parts[0].tileWidth,
    tileHeight: parts[0].tileHeight,
    downsample: first.width / parts[0].width,
  }));
  const associated = spec.associated ?? [];
  const metadata: SlideMetadata = {
    name: file.name,
    format: spec.format,
    width: first.width,
    height: first.height,
    levels: levelInfo,
    channels: spec.channels,
    dtype: first.dtype,
    rgb: spec.rgb,
    mppX: spec.mppX,
    mppY: spec.mppY,
    objectivePower: spec.objectivePower,
    associated: associated.map(({ name, page }) => ({ name, width: page.width, height: page.height })),
    properties: spec.properties,
  };
  const fill = fillValueFor(metadata);
  let closed = false;
  const checkOpen = () => {
    if (closed) throw new SlideError(file.name, 'the slide has been closed');
  };

  return {
    metadata,
    async readRegion(region: ChannelRegion, signal?: AbortSignal): Promise<PixelBlock> {
      checkOpen();
      throwIfAborted(signal);
      const selected = checkRegion(metadata, region);
      const { width, height } = region;
      const data = allocatePixels(metadata.dtype, width * height * selected.length, fill);
      const info = levelInfo[region.level];
      const clip = clipRect(region.x, region.y, width, height, info.width, info.height);
      if (clip) {
        const target = { data, width, height, channels: selected.length, x: region.x, y: region.y };
        const parts = levels[region.level];
        let start = 0;
        const jobs: Promise<void>[] = [];
        parts.forEach((part, p) => {
          const count = partChannels[region.level][p];
          const routes: SampleRoute[] = [];
          selected.forEach((channel, k) => {
            if (channel >= start && channel < start + count) routes.push({ sample: channel - start, channel: k });
          });
          start += count;
          if (routes.length > 0) jobs.push(part.copyInto(clip, target, routes, signal));
        });
        await Promise.all(jobs);
      }
      throwIfAborted(signal);
      return { data, width, height, channels: selected.length, dtype: metadata.dtype };
    },

    async readAssociated(name: string, signal?: AbortSignal): Promise<PixelBlock> {
      checkOpen();
      throwIfAborted(signal);
      const entry = associated.find((a) => a.name === name);
      if (!entry) {
        const known = associated.map((a) => a.name).join(', ') || 'none';
        throw new SlideError(file.name, `no associated image named "${name}" (available: ${known})`);
      }
      const { page } = entry;
      if (page.width * page.height > LIMITS.maxRegionPixels) {
        throw new SlideError(file.name, `associated image "${name}" declares ${page.width} × ${page.height} px, beyond the read limit`);
      }
      // Associated images are read once, so they bypass the level cache.
      const image = new TiffImage(file, page, new TileCache<CachedChunk>());
      const channels = outputSamples(page);
      const associatedFill = fillValueFor({ rgb: channels === 3, dtype: image.dtype });
      const data = allocatePixels(image.dtype, page.width * page.height * channels, associatedFill);
      const routes = Array.from({ length: channels }, (_, i) => ({ sample: i, channel: i }));
      const target = { data, width: page.width, height: page.height, channels, x: 0, y: 0 };
      await image.copyInto({ x: 0, y: 0, width: page.width, height: page.height }, target, routes, signal);
      throwIfAborted(signal);
      return { data, width: page.width, height: page.height, channels, dtype: image.dtype };
    },

    close() {
      closed = true;
      cache.clear();
    },
  };
}
