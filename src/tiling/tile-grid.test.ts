import { describe, expect, it } from 'vitest';
import type { LevelInfo } from '../slide/types';
import { Random } from '../util/random';
import { loadReference, loadUint8 } from '../analysis/testing/fixtures';
import { pointInPolygon } from './polygon';
import { computeTileGrid, sampleTiles, tileRegion, tilesInPolygon, type TissueMask } from './tile-grid';

const reference = loadReference();

function metadata(width: number, height: number, mpp: number | undefined, levels?: LevelInfo[]) {
  return {
    width,
    height,
    mppX: mpp,
    mppY: mpp,
    levels: levels ?? [{ width, height, tileWidth: 256, tileHeight: 256, downsample: 1 }],
  };
}

const cmu = metadata(2220, 2967, 0.499);

/** Area-weighted tissue share by visiting every mask pixel under the tile (independent of the band/prefix method). */
function bruteForceFraction(mask: TissueMask, x: number, y: number, side: number): number {
  const x0 = x / mask.downsample;
  const y0 = y / mask.downsample;
  const x1 = (x + side) / mask.downsample;
  const y1 = (y + side) / mask.downsample;
  let covered = 0;
  for (let my = Math.floor(y0); my < Math.ceil(y1); my++) {
    if (my < 0 || my >= mask.height) continue;
    const wy = Math.min(my + 1, y1) - Math.max(my, y0);
    for (let mx = Math.floor(x0); mx < Math.ceil(x1); mx++) {
      if (mx < 0 || mx >= mask.width) continue;
      if (mask.data[my * mask.width + mx]) covered += wy * (Math.min(mx + 1, x1) - Math.max(mx, x0));
    }
  }
  return covered / ((x1 - x0) * (y1 - y0));
}

describe('computeTileGrid geometry', () => {
  it('CMU-1-Small-Region (2220×2967 at 0.499 µm/px): 301 px tiles, stride 150, 13×18 tiles', () => {
    const grid = computeTileGrid(cmu);
    expect(grid.tileSize).toBe(301);
    expect(grid.stride).toBe(150);
    expect(grid.overlap).toBe(151);
    expect([grid.columns, grid.rows, grid.count]).toEqual([13, 18, 234]);
    // Row-major order; the last tile ends inside the image (edge policy: full tiles only).
    expect([grid.x[1], grid.y[1], grid.x[13], grid.y[13]]).toEqual([150, 0, 0, 150]);
    expect(grid.x[233] + grid.width[233]).toBe(2101);
    expect(grid.y[233] + grid.height[233]).toBe(2851);
    expect(grid.kept.length).toBe(234);
    expect(Array.from(grid.tissueFraction.slice(0, 3))).toEqual([1, 1, 1]);
  });

  for (const c of reference.gridCases as {
    slide: string;
    width: number;
    height: number;
    mpp: number;
    levels: { width: number; height: number; downsample: number }[];
    level: number;
    tileUm: number;
    overlapUm: number;
    mppOverride: number | null;
    tileSize: number;
    stride: number;
    columns: number;
    rows: number;
    first: number[] | null;
    last: number[] | null;
  }[]) {
    it(`${c.slide} level ${c.level}, ${c.tileUm}/${c.overlapUm} µm${c.mppOverride ? `, mpp ${c.mppOverride}` : ''}`, () => {
      const levels = c.levels.map((l) => ({ ...l, tileWidth: 256, tileHeight: 256 }));
      const grid = computeTileGrid(metadata(c.width, c.height, c.mpp, levels), {
        level: c.level,
        tileUm: c.tileUm,
        overlapUm: c.overlapUm,
        mppOverride: c.mppOverride ?? undefined,
      });
      expect([grid.tileSize, grid.stride, grid.columns, grid.rows]).toEqual([c.tileSize, c.stride, c.columns, c.rows]);
      const last = grid.count - 1;
      expect([grid.x[0], grid.y[0], grid.width[0], grid.height[0]]).toEqual(c.first);
      expect([grid.x[last], grid.y[last], grid.width[last], grid.height[last]]).toEqual(c.last);
      // Every tile lies fully inside level 0.
      for (let i = 0; i < grid.count; i++) {
        expect(grid.x[i] + grid.width[i]).toBeLessThanOrEqual(c.width);
        expect(grid.y[i] + grid.height[i]).toBeLessThanOrEqual(c.height);
      }
      // tileRegion gives the read-level rectangle of the same tile.
      const region = tileRegion(grid, last);
      expect(region).toEqual({
        level: c.level,
        x: c.last![0] / c.levels[c.level].downsample,
        y: c.last![1] / c.levels[c.level].downsample,
        width: c.tileSize,
        height: c.tileSize,
      });
    });
  }

  it('an image smaller than one tile has no tiles', () => {
    const grid = computeTileGrid(metadata(200, 5000, 0.5));
    expect(grid.count).toBe(0);
    expect(grid.kept.length).toBe(0);
  });

  it('rejects bad settings with clear messages', () => {
    expect(() => computeTileGrid(metadata(1000, 1000, undefined))).toThrow(/set mppOverride/);
    expect(() => computeTileGrid(cmu, { overlapUm: 150 })).toThrow(/overlapUm must be in \[0, tileUm/);
    expect(() => computeTileGrid(cmu, { tileUm: -1 })).toThrow(/tileUm must be/);
    expect(() => computeTileGrid(cmu, { level: 3 })).toThrow(/no level 3/);
    expect(() => computeTileGrid(cmu, { tileUm: 0.1, overlapUm: 0 })).toThrow(/under one pixel/);
    expect(() => computeTileGrid(metadata(900_000, 900_000, 0.25), { tileUm: 1, overlapUm: 0 })).toThrow(/exceed the limit/);
    expect(() => computeTileGrid(cmu, { minTissueFraction: 2 })).toThrow(/minTissueFraction/);
  });
});

describe('tissue fraction', () => {
  const t = reference.tileGrid;
  const mask: TissueMask = {
    data: loadUint8('tissueMask'),
    width: t.maskWidth,
    height: t.maskHeight,
    downsample: t.maskDownsample,
  };

  it('matches the NumPy exact-coverage reference (non-integer mask downsample)', () => {
    const grid = computeTileGrid(cmu, { minTissueFraction: 0.5 }, mask);
    expect([grid.columns, grid.rows]).toEqual([t.columns, t.rows]);
    let worst = 0;
    for (let i = 0; i < grid.count; i++) worst = Math.max(worst, Math.abs(grid.tissueFraction[i] - t.tissueFraction[i]));
    expect(worst).toBeLessThan(1e-6); // float32 storage
    const expectedKept = (t.tissueFraction as number[]).flatMap((f, i) => (f >= 0.5 ? [i] : []));
    // Fractions within float32 rounding of the threshold could flip; none are that close here.
    expect(Array.from(grid.kept)).toEqual(expectedKept);
    expect(grid.kept.length).toBeGreaterThan(20);
    expect(grid.kept.length).toBeLessThan(grid.count);
  });

  it('matches a brute-force pixel walk for random masks, levels and tile sizes', () => {
    const rng = new Random(12);
    for (let trial = 0; trial < 12; trial++) {
      const downsample = [1, 4, 7.3, 16, 31.5][rng.int(5)];
      const width = 1500 + rng.int(3000);
      const height = 1500 + rng.int(3000);
      const mw = Math.ceil(width / downsample) + rng.int(3) - 1; // mask a little smaller or larger than the slide
      const mh = Math.ceil(height / downsample) + rng.int(3) - 1;
      const data = new Uint8Array(mw * mh);
      for (let q = 0; q < data.length; q++) data[q] = rng.uniform() < 0.6 ? 255 : 0;
      const m: TissueMask = { data, width: mw, height: mh, downsample };
      const levelDownsample = [1, 2, 4][rng.int(3)];
      const levels = [1, 2, 4].map((ds) => ({
        width: Math.floor(width / ds),
        height: Math.floor(height / ds),
        tileWidth: 256,
        tileHeight: 256,
        downsample: ds,
      }));
      const grid = computeTileGrid(
        metadata(width, height, 0.25 + rng.uniform() * 0.5, levels),
        { level: [1, 2, 4].indexOf(levelDownsample), tileUm: 40 + rng.uniform() * 200, overlapUm: rng.uniform() * 30 },
        m,
      );
      expect(grid.count).toBeGreaterThan(0);
      // Every tile of small grids, a random 300 of large ones (the pixel walk is slow).
      const check = grid.count <= 300 ? Array.from({ length: grid.count }, (_, i) => i) : Array.from(rng.sample(grid.count, 300));
      for (const i of check) {
        const expected = bruteForceFraction(m, grid.x[i], grid.y[i], grid.width[i]);
        expect(Math.abs(grid.tissueFraction[i] - expected)).toBeLessThan(1e-6);
      }
    }
  });

  it('minTissueFraction filters tiles; 0 keeps all', () => {
    const strict = computeTileGrid(cmu, { minTissueFraction: 0.9 }, mask);
    const loose = computeTileGrid(cmu, { minTissueFraction: 0 }, mask);
    expect(loose.kept.length).toBe(loose.count);
    for (const i of strict.kept) expect(strict.tissueFraction[i]).toBeGreaterThanOrEqual(0.9);
    expect(strict.kept.length).toBe(Array.from(strict.tissueFraction).filter((f) => f >= 0.9).length);
  });

  it('110k tiles with a mask: count and tissue fractions against brute force', () => {
    // 100k × 100k px at 0.25 µm/px: 600 px tiles, stride 300 → 332 × 332 tiles; mask at 1/32.
    const side = 100_000;
    const ds = 32;
    const mw = Math.ceil(side / ds);
    const data = new Uint8Array(mw * mw);
    for (let q = 0; q < data.length; q++) data[q] = (q * 2654435761) % 7 < 3 ? 1 : 0;
    const grid = computeTileGrid(metadata(side, side, 0.25), {}, { data, width: mw, height: mw, downsample: ds });
    expect(grid.count).toBe(332 * 332);
    for (const i of [0, 5000, 110_223]) {
      expect(Math.abs(grid.tissueFraction[i] - bruteForceFraction({ data, width: mw, height: mw, downsample: ds }, grid.x[i], grid.y[i], grid.width[i]))).toBeLessThan(1e-6);
    }
  });
});

describe('regions of interest and selection', () => {
  it('a rectangle ROI keeps the tiles whose centre lies in it', () => {
    const grid = computeTileGrid(cmu, {}, undefined, { kind: 'rectangle', x: 500, y: 400, width: 800, height: 1000 });
    const expected: number[] = [];
    for (let i = 0; i < grid.count; i++) {
      const cx = grid.x[i] + grid.width[i] / 2;
      const cy = grid.y[i] + grid.height[i] / 2;
      if (cx >= 500 && cx < 1300 && cy >= 400 && cy < 1400) expected.push(i);
    }
    expect(Array.from(grid.kept)).toEqual(expected);
    expect(expected.length).toBe(5 * 7); // centres 750…1350 step 150 in x → 5; 450…1350 in y → 7
  });

  it('a polygon ROI and tilesInPolygon agree with the single-point test', () => {
    const triangle = [100, 100, 2100, 300, 600, 2900];
    const grid = computeTileGrid(cmu, {}, undefined, { kind: 'polygon', points: triangle });
    const expected: number[] = [];
    for (let i = 0; i < grid.count; i++) {
      if (pointInPolygon(grid.x[i] + grid.width[i] / 2, grid.y[i] + grid.height[i] / 2, triangle)) expected.push(i);
    }
    expect(Array.from(grid.kept)).toEqual(expected);
    const full = computeTileGrid(cmu);
    expect(Array.from(tilesInPolygon(full, triangle))).toEqual(expected);
    // keptOnly: a lasso over a filtered grid never returns dropped tiles.
    const small = [0, 0, 1000, 0, 1000, 1000, 0, 1000];
    const inBoth = tilesInPolygon(grid, small);
    for (const i of inBoth) expect(expected).toContain(i);
    expect(tilesInPolygon(grid, small, false).length).toBeGreaterThanOrEqual(inBoth.length);
  });

  it('sampleTiles draws distinct kept tiles, ascending, reproducibly', () => {
    const grid = computeTileGrid(cmu, {}, undefined, { kind: 'rectangle', x: 0, y: 0, width: 1500, height: 3000 });
    const a = sampleTiles(grid, 40, 3);
    expect(Array.from(a)).toEqual(Array.from(sampleTiles(grid, 40, 3)));
    expect(Array.from(a)).not.toEqual(Array.from(sampleTiles(grid, 40, 4)));
    expect(new Set(a).size).toBe(40);
    const kept = new Set(grid.kept);
    for (const i of a) expect(kept.has(i)).toBe(true);
    for (let q = 1; q < a.length; q++) expect(a[q]).toBeGreaterThan(a[q - 1]);
    expect(Array.from(sampleTiles(grid, 10_000, 1))).toEqual(Array.from(grid.kept));
  });
});
