import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ceilLog2, planLevels, tileRequestFor } from './osd-tile-source';
import type { LevelInfo } from '../../slide/types';

interface GridRow {
  level: number;
  tilesX: number;
  tilesY: number;
  lastWidth: number;
  lastHeight: number;
}
interface SlideFixture {
  name: string;
  width: number;
  height: number;
  levels: LevelInfo[];
  maxLevel: number;
  bestLevelForDownsample: number[];
  osdGrid: Record<string, GridRow[]>;
}

const fixtures: SlideFixture[] = JSON.parse(
  readFileSync(new URL('../../../tests/fixtures/viewer/level-plans.json', import.meta.url), 'utf8'),
);

describe('planLevels', () => {
  it('computes OSD maxLevel as ceil(log2(longest side))', () => {
    expect(ceilLog2(1)).toBe(0);
    expect(ceilLog2(2)).toBe(1);
    expect(ceilLog2(2967)).toBe(12);
    expect(ceilLog2(4096)).toBe(12);
    expect(ceilLog2(4097)).toBe(13);
    for (const slide of fixtures) expect(planLevels(slide).maxLevel).toBe(slide.maxLevel);
  });

  for (const slide of fixtures) {
    it(`${slide.name}: reads each OSD level from the level OpenSlide picks`, () => {
      const plan = planLevels(slide, { maxFactor: 1e9 });
      expect(plan.minLevel).toBe(0);
      for (let osdLevel = 0; osdLevel <= plan.maxLevel; osdLevel++) {
        const entry = plan.levels[osdLevel]!;
        const downsample = 2 ** (plan.maxLevel - osdLevel);
        expect(entry.downsample).toBe(downsample);
        expect(entry.slideLevel).toBe(slide.bestLevelForDownsample[plan.maxLevel - osdLevel]);
        const ratio = downsample / slide.levels[entry.slideLevel].downsample;
        // Snapped to an integer when within 1 %, otherwise the exact ratio.
        expect(Math.abs(entry.factor - ratio)).toBeLessThanOrEqual(0.01 * ratio);
      }
    });

    it(`${slide.name}: output tiles match OpenSeadragon's tile grid`, () => {
      const plan = planLevels(slide);
      for (let osdLevel = plan.minLevel; osdLevel <= plan.maxLevel; osdLevel++) {
        const entry = plan.levels[osdLevel]!;
        expect(entry.tileWidth).toBe(entry.tileHeight);
        const grid = slide.osdGrid[String(entry.tileWidth)][osdLevel];
        const last = tileRequestFor(plan, osdLevel, grid.tilesX - 1, grid.tilesY - 1);
        expect(last.outWidth).toBe(Math.ceil(grid.lastWidth));
        expect(last.outHeight).toBe(Math.ceil(grid.lastHeight));
        const first = tileRequestFor(plan, osdLevel, 0, 0);
        expect(first.outWidth).toBe(grid.tilesX > 1 ? entry.tileWidth : Math.ceil(grid.lastWidth));
      }
    });

    it(`${slide.name}: tile regions tile the slide level without gaps or overlaps`, () => {
      const plan = planLevels(slide);
      for (let osdLevel = plan.minLevel; osdLevel <= plan.maxLevel; osdLevel++) {
        const entry = plan.levels[osdLevel]!;
        const tilesX = Math.ceil(slide.width / entry.downsample / entry.tileWidth);
        let expectedX = 0;
        for (let x = 0; x < tilesX; x++) {
          const request = tileRequestFor(plan, osdLevel, x, 0);
          expect(request.level).toBe(entry.slideLevel);
          expect(request.x).toBe(expectedX);
          expectedX = request.x + request.width;
          // The region is the output scaled by the factor (within rounding, or cut at the level's edge).
          expect(request.width - request.outWidth * entry.factor).toBeLessThanOrEqual(1);
          expect(request.width - request.outWidth * entry.factor).toBeGreaterThanOrEqual(x === tilesX - 1 ? -entry.factor : -1);
        }
        // The row ends exactly at the slide level's edge: no padding is read.
        expect(expectedX).toBe(slide.levels[entry.slideLevel].width);
      }
    });
  }

  it('stops at maxFactor × the coarsest level (OSD scales those tiles itself)', () => {
    const cmu = fixtures[0];
    const plan = planLevels(cmu);
    // One level, downsample 1: OSD levels 12 (1×), 11 (2×), 10 (4×) are served.
    expect(plan.maxLevel).toBe(12);
    expect(plan.minLevel).toBe(10);
    expect(plan.levels[9]).toBeUndefined();
    expect(plan.levels[10]).toMatchObject({ slideLevel: 0, factor: 4, tileWidth: 240 });
    expect(tileRequestFor(plan, 10, 2, 3)).toEqual({
      level: 0,
      x: 1920,
      y: 2880,
      width: 300,
      height: 87,
      outWidth: 75,
      outHeight: 22,
    });
    expect(() => tileRequestFor(plan, 9, 0, 0)).toThrow(RangeError);
  });

  it('falls back to 512 px tiles for strip-like or huge file tiles', () => {
    const ndpi = fixtures[1];
    const plan = planLevels(ndpi);
    expect(ndpi.levels[0].tileHeight).toBe(8);
    expect(plan.levels[plan.maxLevel]).toMatchObject({ tileWidth: 512, tileHeight: 512 });
  });

  it('treats 4.0003× scanner levels as exact', () => {
    const plan = planLevels({
      width: 46000,
      height: 32914,
      levels: [
        { width: 46000, height: 32914, tileWidth: 256, tileHeight: 256, downsample: 1 },
        { width: 11500, height: 8228, tileWidth: 256, tileHeight: 256, downsample: 4.00017 },
        { width: 2875, height: 2057, tileWidth: 256, tileHeight: 256, downsample: 16.0007 },
      ],
    });
    expect(plan.maxLevel).toBe(16);
    expect(plan.levels[14]).toMatchObject({ slideLevel: 1, factor: 1 });
    expect(plan.levels[13]).toMatchObject({ slideLevel: 1, factor: 2 });
    expect(plan.levels[12]).toMatchObject({ slideLevel: 2, factor: 1 });
    expect(plan.minLevel).toBe(10);
  });
});
