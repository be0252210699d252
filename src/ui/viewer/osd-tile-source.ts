/**
 * OpenSeadragon tile source over the decoder pool, for one open slide.
 *
 * OSD numbers pyramid levels from 0 (1×1 px) up to maxLevel (full size), each
 * level half the size of the next. Each OSD level is served from the finest
 * slide level that is not finer than it needs; when the two differ the worker
 * box-filters the region down. OSD levels that would need more than
 * `maxFactor`× downsampling of the coarsest slide level are left out through
 * `minLevel` (OSD then scales the coarsest available tiles itself).
 *
 * Tiles are loaded without URLs: `downloadTileStart` asks the pool for an
 * ImageBitmap and hands OSD a 2-D context (the canvas drawer's native type).
 * This module imports OpenSeadragon only as a type so the level mapping runs
 * under Node.
 */
import type OpenSeadragon from 'openseadragon';
import type { SlideMetadata } from '../../slide/types';
import type { DisplaySettings } from '../../slide/display';
import type { TileRequest } from '../../workers/protocol';

export interface OsdLevelPlan {
  osdLevel: number;
  /** level-0 px per px of this OSD level: 2^(maxLevel − osdLevel). */
  downsample: number;
  /** Slide level the pixels are read from. */
  slideLevel: number;
  /** Slide-level px per output px (1 = direct read). */
  factor: number;
  /** Size of that slide level (regions are clipped to it). */
  levelWidth: number;
  levelHeight: number;
  tileWidth: number;
  tileHeight: number;
}

export interface LevelPlan {
  width: number;
  height: number;
  maxLevel: number;
  minLevel: number;
  /** Indexed by OSD level; levels below minLevel are undefined. */
  levels: (OsdLevelPlan | undefined)[];
}

export interface PlanOptions {
  /** Largest downsampling the worker may do for one tile (default 4). */
  maxFactor?: number;
  /** Tile size used when a slide level's own is unsuitable (default 512). */
  fallbackTileSize?: number;
}

/** Slide levels whose downsample is within this relative distance count as matching (SVS levels are 4.0003×…). */
const LEVEL_TOLERANCE = 0.01;

/** Smallest m with 2^m ≥ n. */
export function ceilLog2(n: number): number {
  let m = 0;
  while (2 ** m < n) m++;
  return m;
}

/** The file's tile size when both sides are reasonable, else a square fallback (strips, whole-level "tiles"). */
function usableTileSize(width: number, height: number, fallback: number): { width: number; height: number } {
  const ok = (side: number) => side >= 64 && side <= 2048;
  return ok(width) && ok(height) ? { width, height } : { width: fallback, height: fallback };
}

export function planLevels(metadata: Pick<SlideMetadata, 'width' | 'height' | 'levels'>, options: PlanOptions = {}): LevelPlan {
  const maxFactor = options.maxFactor ?? 4;
  const fallback = options.fallbackTileSize ?? 512;
  const { width, height } = metadata;
  const maxLevel = ceilLog2(Math.max(width, height, 1));
  const levels: (OsdLevelPlan | undefined)[] = new Array(maxLevel + 1).fill(undefined);
  let minLevel = maxLevel;

  for (let osdLevel = maxLevel; osdLevel >= 0; osdLevel--) {
    const downsample = 2 ** (maxLevel - osdLevel);
    let slideLevel = 0;
    metadata.levels.forEach((level, index) => {
      const best = metadata.levels[slideLevel].downsample;
      if (level.downsample <= downsample * (1 + LEVEL_TOLERANCE) && level.downsample > best) slideLevel = index;
    });
    const chosen = metadata.levels[slideLevel] ?? { width, height, downsample: 1, tileWidth: fallback, tileHeight: fallback };
    let factor = downsample / chosen.downsample;
    const nearest = Math.round(factor);
    if (nearest >= 1 && Math.abs(factor - nearest) <= LEVEL_TOLERANCE * nearest) factor = nearest;
    if (factor > maxFactor && osdLevel < maxLevel) break;
    const tile = usableTileSize(chosen.tileWidth, chosen.tileHeight, fallback);
    levels[osdLevel] = {
      osdLevel,
      downsample,
      slideLevel,
      factor,
      levelWidth: chosen.width,
      levelHeight: chosen.height,
      tileWidth: tile.width,
      tileHeight: tile.height,
    };
    minLevel = osdLevel;
  }
  return { width, height, maxLevel, minLevel, levels };
}

/**
 * The slide-level region and output size of OSD tile (x, y) at `osdLevel`.
 * Output sizes match OSD's tile bounds rounded up, so edge tiles are smaller;
 * regions stop at the slide level's edge rather than reading padding.
 */
export function tileRequestFor(plan: LevelPlan, osdLevel: number, x: number, y: number): TileRequest {
  const level = plan.levels[osdLevel];
  if (!level) throw new RangeError(`OSD level ${osdLevel} is not served (min ${plan.minLevel})`);
  const { tileWidth: tw, tileHeight: th, factor, downsample } = level;
  const levelWidth = plan.width / downsample;
  const levelHeight = plan.height / downsample;
  const outWidth = Math.max(1, Math.ceil(Math.min(tw, levelWidth - x * tw)));
  const outHeight = Math.max(1, Math.ceil(Math.min(th, levelHeight - y * th)));
  const left = Math.round(x * tw * factor);
  const top = Math.round(y * th * factor);
  return {
    level: level.slideLevel,
    x: left,
    y: top,
    width: Math.max(1, Math.min(Math.round((x * tw + outWidth) * factor), level.levelWidth) - left),
    height: Math.max(1, Math.min(Math.round((y * th + outHeight) * factor), level.levelHeight) - top),
    outWidth,
    outHeight,
  };
}

/** What the tile source needs from the decoder pool. */
export interface TileLoader {
  readTile(slideId: string, request: TileRequest, display: DisplaySettings, signal: AbortSignal): Promise<ImageBitmap>;
}

export interface SlideTileSourceOptions {
  slideId: string;
  metadata: SlideMetadata;
  loader: TileLoader;
  /** Read at every tile request, so new settings apply after a reset. */
  getDisplay: () => DisplaySettings;
  onTileFailed?: (error: unknown) => void;
  plan?: PlanOptions;
}

export interface SlideTileSource extends OpenSeadragon.TileSource {
  readonly slideId: string;
  readonly plan: LevelPlan;
  /** True when the tile currently shows the failure placeholder. */
  isPlaceholder(tile: OpenSeadragon.Tile): boolean;
}

const PLACEHOLDER_FILL = '#808080';
const PLACEHOLDER_EDGE = '#6a6a6a';

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

function placeholderContext(width: number, height: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = PLACEHOLDER_FILL;
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = PLACEHOLDER_EDGE;
  ctx.lineWidth = 2;
  ctx.strokeRect(1, 1, width - 2, height - 2);
  return ctx;
}

function bitmapContext(bitmap: ImageBitmap): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  return ctx;
}

interface JobState {
  controller: AbortController;
}

/** Builds the tile source. `OSD` is the OpenSeadragon namespace (passed in to keep this module importable under Node). */
export function createSlideTileSource(OSD: typeof OpenSeadragon, options: SlideTileSourceOptions): SlideTileSource {
  const plan = planLevels(options.metadata, options.plan);
  const failedKeys = new Set<string>();
  const { slideId, loader, getDisplay } = options;
  const keyOf = (level: number, x: number, y: number) => `tilescope:${slideId}/${level}/${x}_${y}`;

  class PoolTileSource extends OSD.TileSource {
    readonly slideId = slideId;
    readonly plan = plan;

    getTileWidth(level: number): number {
      return plan.levels[level]?.tileWidth ?? 512;
    }

    getTileHeight(level: number): number {
      return plan.levels[level]?.tileHeight ?? 512;
    }

    getTileUrl(level: number, x: number, y: number): string {
      return keyOf(level, x, y);
    }

    getTileHashKey(level: number, x: number, y: number): string {
      return keyOf(level, x, y);
    }

    tileExists(level: number, x: number, y: number): boolean {
      return plan.levels[level] !== undefined && super.tileExists(level, x, y);
    }

    hasTransparency(): boolean {
      return false;
    }

    isPlaceholder(tile: OpenSeadragon.Tile): boolean {
      return failedKeys.has(tile.cacheKey);
    }

    downloadTileStart(job: OpenSeadragon.ImageJob): void {
      const { level, x, y } = job.tile;
      const key = keyOf(level, x, y);
      const controller = new AbortController();
      (job.userData as JobState).controller = controller;
      // OSD ends the job itself on abort or timeout (jobId becomes null); then we must not finish it again.
      const jobOpen = () => job.jobId !== null && !controller.signal.aborted;
      let request: TileRequest;
      try {
        request = tileRequestFor(plan, level, x, y);
      } catch (error) {
        job.fail(String(error), null);
        return;
      }
      loader.readTile(slideId, request, getDisplay(), controller.signal).then(
        (bitmap) => {
          if (!jobOpen()) {
            bitmap.close();
            return;
          }
          const ctx = bitmapContext(bitmap);
          bitmap.close();
          failedKeys.delete(key);
          job.finish(ctx, null, 'context2d');
        },
        (error: unknown) => {
          if (!jobOpen()) return;
          if (isAbort(error)) {
            job.fail('Tile request cancelled', null);
            return;
          }
          // A broken tile shows a grey placeholder instead of a hole, and is counted.
          failedKeys.add(key);
          options.onTileFailed?.(error);
          job.finish(placeholderContext(request.outWidth, request.outHeight), null, 'context2d');
        },
      );
    }

    downloadTileAbort(job: OpenSeadragon.ImageJob): void {
      (job.userData as Partial<JobState>).controller?.abort();
    }
  }

  return new PoolTileSource({
    width: plan.width,
    height: plan.height,
    tileSize: 512,
    tileOverlap: 0,
    minLevel: plan.minLevel,
    maxLevel: plan.maxLevel,
  }) as SlideTileSource;
}
