/**
 * TileGrid: the regular lattice of square tiles that the analysis reads from
 * a slide (SPEC §1 "Tiling": 150 µm tiles overlapping by 75 µm at
 * 0.5 µm/px), with the tissue share of each tile and the subset that is kept.
 *
 * Geometry (all rounding happens once, at the read level, so every tile is
 * the same whole number of pixels there):
 *   mppLevel  = mpp · downsample(level)
 *   tileSize  = round(tileUm / mppLevel)                 px at the read level
 *   stride    = round((tileUm − overlapUm) / mppLevel)   px at the read level
 *   overlap   = tileSize − stride
 * Rounding the stride directly (rather than tile − round(overlap)) keeps the
 * lattice within half a pixel of the requested µm spacing across the whole
 * slide. Example: 0.499 µm/px, 150/75 µm → tile 301 px, stride 150 px.
 *
 * Edge policy: only tiles that lie fully inside the level are made. The
 * lattice starts at (0, 0); a right/bottom margin narrower than the stride is
 * left uncovered, so no tile ever needs padding.
 *
 * Tile order is row-major: index = row · columns + column.
 */
import type { LevelInfo, Region, SlideMetadata } from '../slide/types';
import { Random, type Seed } from '../util/random';
import { pointsInPolygon, type PolygonRing } from './polygon';

export interface TileGridSettings {
  /** Tile side in µm (default 150). */
  tileUm?: number;
  /** Overlap of neighbouring tiles in µm (default 75; must be < tileUm). */
  overlapUm?: number;
  /** µm per level-0 pixel, overriding (or standing in for) the file's value. */
  mppOverride?: number;
  /** Pyramid level the tiles are read from (default 0). */
  level?: number;
  /** Keep a tile when at least this share of it is tissue (default 0.5; ignored without a mask). */
  minTissueFraction?: number;
}

export const TILE_GRID_DEFAULTS = {
  tileUm: 150,
  overlapUm: 75,
  level: 0,
  minTissueFraction: 0.5,
} as const;

/** Most tiles one grid may hold (columnar arrays of ~45 bytes per tile). */
export const MAX_TILES = 10_000_000;

/**
 * A binary tissue mask at reduced resolution: mask pixel (mx, my) covers the
 * level-0 square [mx·downsample, (mx+1)·downsample) × [my·downsample, (my+1)·downsample).
 * Non-zero means tissue. Outside the mask counts as background.
 */
export interface TissueMask {
  data: Uint8Array;
  width: number;
  height: number;
  /** Level-0 pixels per mask pixel. */
  downsample: number;
}

/** A region of interest in level-0 pixels; a tile belongs to it when its centre does. */
export type RegionOfInterest =
  | { kind: 'rectangle'; x: number; y: number; width: number; height: number }
  | { kind: 'polygon'; points: PolygonRing };

export interface TileGrid {
  level: number;
  /** Level-0 pixels per read-level pixel. */
  downsample: number;
  /** µm per level-0 pixel used for the geometry. */
  mpp: number;
  tileUm: number;
  overlapUm: number;
  /** Tile side, stride and overlap in pixels of the read level. */
  tileSize: number;
  stride: number;
  overlap: number;
  columns: number;
  rows: number;
  /** columns · rows. */
  count: number;
  /** Level-0 rectangles, one entry per tile. */
  x: Float64Array;
  y: Float64Array;
  width: Float64Array;
  height: Float64Array;
  /** Share of each tile covered by tissue (1 everywhere without a mask). */
  tissueFraction: Float32Array;
  hasMask: boolean;
  minTissueFraction: number;
  /** Indices of tiles inside the region of interest and on enough tissue, ascending. */
  kept: Uint32Array;
}

type GridMetadata = Pick<SlideMetadata, 'width' | 'height' | 'levels' | 'mppX' | 'mppY'>;

function positiveFinite(value: number, what: string): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`tile grid: ${what} must be a finite number > 0, got ${value}`);
}

function readLevel(metadata: GridMetadata, level: number): LevelInfo {
  if (!Number.isInteger(level) || level < 0) throw new RangeError(`tile grid: level must be an integer ≥ 0, got ${level}`);
  if (metadata.levels.length === 0 && level === 0) {
    return { width: metadata.width, height: metadata.height, tileWidth: 0, tileHeight: 0, downsample: 1 };
  }
  const info = metadata.levels[level];
  if (!info) throw new RangeError(`tile grid: the slide has ${metadata.levels.length} levels, no level ${level}`);
  return info;
}

/** Computes the tile lattice, tissue fractions and kept tiles. */
export function computeTileGrid(
  metadata: GridMetadata,
  settings: TileGridSettings = {},
  mask?: TissueMask,
  roi?: RegionOfInterest,
): TileGrid {
  const tileUm = settings.tileUm ?? TILE_GRID_DEFAULTS.tileUm;
  const overlapUm = settings.overlapUm ?? TILE_GRID_DEFAULTS.overlapUm;
  const levelIndex = settings.level ?? TILE_GRID_DEFAULTS.level;
  const minTissueFraction = settings.minTissueFraction ?? TILE_GRID_DEFAULTS.minTissueFraction;
  positiveFinite(tileUm, 'tileUm');
  if (!(overlapUm >= 0) || !(overlapUm < tileUm)) {
    throw new RangeError(`tile grid: overlapUm must be in [0, tileUm = ${tileUm}), got ${overlapUm}`);
  }
  if (!(minTissueFraction >= 0 && minTissueFraction <= 1)) {
    throw new RangeError(`tile grid: minTissueFraction must be in [0, 1], got ${minTissueFraction}`);
  }
  const mpp = settings.mppOverride ?? metadata.mppX ?? metadata.mppY;
  if (mpp === undefined) {
    throw new RangeError('tile grid: the slide does not state its µm per pixel; set mppOverride');
  }
  positiveFinite(mpp, settings.mppOverride !== undefined ? 'mppOverride' : 'the slide µm per pixel');

  const level = readLevel(metadata, levelIndex);
  const downsample = level.downsample;
  positiveFinite(downsample, `downsample of level ${levelIndex}`);
  const levelMpp = mpp * downsample;
  const tileSize = Math.round(tileUm / levelMpp);
  const stride = Math.round((tileUm - overlapUm) / levelMpp);
  if (tileSize < 1 || stride < 1) {
    throw new RangeError(
      `tile grid: ${tileUm} µm tiles with ${overlapUm} µm overlap are under one pixel at ${levelMpp.toPrecision(4)} µm/px`,
    );
  }
  const columns = level.width >= tileSize ? Math.floor((level.width - tileSize) / stride) + 1 : 0;
  const rows = level.height >= tileSize ? Math.floor((level.height - tileSize) / stride) + 1 : 0;
  const count = columns * rows;
  if (count > MAX_TILES) {
    throw new RangeError(`tile grid: ${count} tiles exceed the limit of ${MAX_TILES}; use larger tiles or less overlap`);
  }

  const x = new Float64Array(count);
  const y = new Float64Array(count);
  const width = new Float64Array(count).fill(tileSize * downsample);
  const height = new Float64Array(count).fill(tileSize * downsample);
  for (let r = 0; r < rows; r++) {
    const top = r * stride * downsample;
    for (let c = 0; c < columns; c++) {
      const index = r * columns + c;
      x[index] = c * stride * downsample;
      y[index] = top;
    }
  }

  const tissueFraction = new Float32Array(count);
  if (mask) {
    computeTissueFractions(mask, columns, rows, stride * downsample, tileSize * downsample, tissueFraction);
  } else {
    tissueFraction.fill(1);
  }

  const inRegion = roi ? tilesInRegion(x, y, tileSize * downsample, roi) : null;
  const threshold = mask ? minTissueFraction : 0;
  let keptCount = 0;
  for (let index = 0; index < count; index++) {
    if ((!inRegion || inRegion[index]) && tissueFraction[index] >= threshold) keptCount++;
  }
  const kept = new Uint32Array(keptCount);
  for (let index = 0, q = 0; index < count; index++) {
    if ((!inRegion || inRegion[index]) && tissueFraction[index] >= threshold) kept[q++] = index;
  }

  return {
    level: levelIndex,
    downsample,
    mpp,
    tileUm,
    overlapUm,
    tileSize,
    stride,
    overlap: tileSize - stride,
    columns,
    rows,
    count,
    x,
    y,
    width,
    height,
    tissueFraction,
    hasMask: !!mask,
    minTissueFraction,
    kept,
  };
}

function tilesInRegion(x: Float64Array, y: Float64Array, side: number, roi: RegionOfInterest): Uint8Array {
  const count = x.length;
  const half = side / 2;
  if (roi.kind === 'rectangle') {
    const inside = new Uint8Array(count);
    const right = roi.x + roi.width;
    const bottom = roi.y + roi.height;
    for (let i = 0; i < count; i++) {
      const cx = x[i] + half;
      const cy = y[i] + half;
      inside[i] = cx >= roi.x && cx < right && cy >= roi.y && cy < bottom ? 1 : 0;
    }
    return inside;
  }
  if (roi.kind === 'polygon') {
    const { cx, cy } = centresOf(x, y, half);
    return pointsInPolygon(cx, cy, roi.points);
  }
  throw new RangeError(`tile grid: unknown region kind '${(roi as { kind: string }).kind}'`);
}

function centresOf(x: Float64Array, y: Float64Array, half: number): { cx: Float64Array; cy: Float64Array } {
  const cx = new Float64Array(x.length);
  const cy = new Float64Array(y.length);
  for (let i = 0; i < x.length; i++) {
    cx[i] = x[i] + half;
    cy[i] = y[i] + half;
  }
  return { cx, cy };
}

/**
 * Exact area-weighted tissue share of every tile. The mask is treated as
 * piecewise constant, so a tile edge that cuts a mask pixel counts the cut
 * part only.
 *
 * Separable integral image: per tile row, the mask rows under that row are
 * summed (partial rows weighted by their covered height) into one column
 * profile, whose running sum then gives each tile's integral with two
 * lookups (linear inside a pixel, which is exact for a constant pixel).
 * Work ≈ (tile / stride) × mask size; memory is one mask row.
 */
function computeTissueFractions(
  mask: TissueMask,
  columns: number,
  rows: number,
  strideL0: number,
  sideL0: number,
  out: Float32Array,
): void {
  const { data, width, height, downsample } = mask;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`tissue mask: bad size ${width}×${height}`);
  }
  if (data.length !== width * height) {
    throw new RangeError(`tissue mask: ${width}×${height} needs ${width * height} bytes, got ${data.length}`);
  }
  positiveFinite(downsample, 'tissue mask downsample');
  const side = sideL0 / downsample; // tile side in mask pixels
  const area = side * side;
  const profile = new Float64Array(width);
  const prefix = new Float64Array(width + 1);

  for (let r = 0; r < rows; r++) {
    const top = (r * strideL0) / downsample;
    const bottom = top + side;
    profile.fill(0);
    const firstRow = Math.max(0, Math.floor(top));
    const lastRow = Math.min(height, Math.ceil(bottom)); // exclusive
    for (let my = firstRow; my < lastRow; my++) {
      const weight = Math.min(my + 1, bottom) - Math.max(my, top);
      if (weight <= 0) continue;
      const base = my * width;
      for (let mx = 0; mx < width; mx++) if (data[base + mx] !== 0) profile[mx] += weight;
    }
    for (let mx = 0; mx < width; mx++) prefix[mx + 1] = prefix[mx] + profile[mx];
    for (let c = 0; c < columns; c++) {
      const left = (c * strideL0) / downsample;
      const covered = cumulative(prefix, profile, width, left + side) - cumulative(prefix, profile, width, left);
      const fraction = covered / area;
      out[r * columns + c] = fraction > 1 ? 1 : fraction < 0 ? 0 : fraction;
    }
  }
}

/** Integral of the column profile over [0, position), exact for fractional positions. */
function cumulative(prefix: Float64Array, profile: Float64Array, width: number, position: number): number {
  if (position <= 0) return 0;
  if (position >= width) return prefix[width];
  const whole = Math.floor(position);
  return prefix[whole] + (position - whole) * profile[whole];
}

/** The read-level rectangle of tile `index`, ready for SlideSource.readRegion. */
export function tileRegion(grid: TileGrid, index: number): Region {
  if (!Number.isInteger(index) || index < 0 || index >= grid.count) {
    throw new RangeError(`tileRegion: index ${index} outside 0…${grid.count - 1}`);
  }
  const column = index % grid.columns;
  const row = (index - column) / grid.columns;
  return {
    level: grid.level,
    x: column * grid.stride,
    y: row * grid.stride,
    width: grid.tileSize,
    height: grid.tileSize,
  };
}

/**
 * `n` distinct kept tiles drawn at random (reproducible from `seed`),
 * returned in ascending index order so reads sweep the slide once. Asking for
 * at least as many tiles as are kept returns all of them.
 */
export function sampleTiles(grid: TileGrid, n: number, seed: Seed): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleTiles: n must be an integer ≥ 0, got ${n}`);
  const available = grid.kept.length;
  if (n >= available) return grid.kept.slice();
  const picks = new Random(seed).sample(available, n);
  const out = new Uint32Array(n);
  for (let q = 0; q < n; q++) out[q] = grid.kept[picks[q]];
  return out.sort();
}

/**
 * Tiles whose centre lies inside `polygon` (level-0 px, even–odd rule), in
 * ascending order. By default only kept tiles are considered.
 */
export function tilesInPolygon(grid: TileGrid, polygon: PolygonRing, keptOnly = true): Uint32Array {
  const candidates = keptOnly ? grid.kept : null;
  const total = candidates ? candidates.length : grid.count;
  const cx = new Float64Array(total);
  const cy = new Float64Array(total);
  for (let q = 0; q < total; q++) {
    const index = candidates ? candidates[q] : q;
    cx[q] = grid.x[index] + grid.width[index] / 2;
    cy[q] = grid.y[index] + grid.height[index] / 2;
  }
  const inside = pointsInPolygon(cx, cy, polygon);
  let hits = 0;
  for (let q = 0; q < total; q++) hits += inside[q];
  const out = new Uint32Array(hits);
  for (let q = 0, h = 0; q < total; q++) if (inside[q]) out[h++] = candidates ? candidates[q] : q;
  return out;
}
