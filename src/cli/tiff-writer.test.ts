/**
 * The tiled BigTIFF writer against tifffile: tests/fixtures/cli/pattern.tif
 * was written by this writer from `patternPixel` and decoded by tifffile in
 * scripts/make_cli_fixtures.py, which stored what tifffile saw (page layout,
 * compression, predictor, resolution, per-page pixel sums and sample pixels)
 * in pattern-tifffile.json. Here we write the same pattern again and check
 * that (1) its pixels equal what tifffile decoded, and (2) the project's own
 * reader (openSlide) opens it as a 3-level pyramid with the right pixels.
 *
 * Regenerate: CLI_WRITE_FIXTURES=1 npx vitest run src/cli/tiff-writer.test.ts
 * then /usr/bin/python3 scripts/make_cli_fixtures.py
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { openAsBlob } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSlide } from '../slide/open';
import { applyHorizontalPredictor, writeTiledTiff, type TiffLevelWriter } from './tiff-writer';

const FIXTURES = path.resolve(__dirname, '../../tests/fixtures/cli');
const SIZES: [number, number][] = [
  [300, 200],
  [150, 100],
  [75, 50],
];
const TILE = 64;
const MPP = 0.5;

/** A pattern that differs between neighbours, channels and levels (so predictor and tiling errors show). */
function patternPixel(x: number, y: number, level: number): [number, number, number] {
  return [(x * 7 + y * 3 + level * 50) & 255, (x ^ (y * 5)) & 255, (x * y + 11 * level) & 255];
}

function patternLevel(level: number): TiffLevelWriter {
  const [width, height] = SIZES[level];
  return {
    width,
    height,
    read: async (x0, y0, w, h) => {
      const out = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(patternPixel(x0 + x, y0 + y, level), (y * w + x) * 3);
      return out;
    },
  };
}

interface TifffileView {
  bigtiff: boolean;
  pages: {
    shape: [number, number, number];
    tile: [number, number];
    compression: number;
    predictor: number;
    subfiletype: number;
    xresolution: [number, number];
    resolutionunit: number;
    sum: number[];
    samples: { x: number; y: number; rgb: number[] }[];
  }[];
}

async function writePattern(file: string): Promise<void> {
  await writeTiledTiff(file, [0, 1, 2].map(patternLevel), { tileSize: TILE, mpp: MPP, description: 'tilescope test pattern' });
}

describe('tiled BigTIFF writer', () => {
  it('writes what tifffile decodes as the pattern, page by page', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-tiff-'));
    try {
      const file = path.join(dir, 'pattern.tif');
      await writePattern(file);
      if (process.env.CLI_WRITE_FIXTURES === '1') copyFileSync(file, path.join(FIXTURES, 'pattern.tif'));
      const view = JSON.parse(readFileSync(path.join(FIXTURES, 'pattern-tifffile.json'), 'utf8')) as TifffileView;
      expect(view.bigtiff).toBe(true);
      expect(view.pages).toHaveLength(3);
      view.pages.forEach((page, level) => {
        const [width, height] = SIZES[level];
        expect(page.shape).toEqual([height, width, 3]);
        expect(page.tile).toEqual([TILE, TILE]);
        expect(page.compression).toBe(8);
        expect(page.predictor).toBe(2);
        expect(page.subfiletype).toBe(level === 0 ? 0 : 1);
        expect(page.resolutionunit).toBe(3);
        expect(page.xresolution[0] / page.xresolution[1]).toBeCloseTo(10000 / MPP, 6);
        const sum = [0, 0, 0];
        for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) patternPixel(x, y, level).forEach((v, c) => (sum[c] += v));
        expect(page.sum).toEqual(sum);
        for (const s of page.samples) expect(s.rgb).toEqual(patternPixel(s.x, s.y, level));
      });
      // The project's reader sees the same pyramid and pixels.
      const slide = await openSlide(await openAsBlob(file), 'pattern.tif');
      expect(slide.metadata.levels.slice(0, 3).map((l) => [l.width, l.height])).toEqual(SIZES);
      expect(slide.metadata.mppX).toBeCloseTo(MPP, 9);
      for (const level of [0, 2]) {
        const [width, height] = SIZES[level];
        const block = await slide.readRegion({ level, x: 0, y: 0, width, height });
        const expected = new Uint8Array(width * height * 3);
        for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) expected.set(patternPixel(x, y, level), (y * width + x) * 3);
        expect(Buffer.from(block.data as Uint8Array).equals(Buffer.from(expected))).toBe(true);
      }
      slide.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('horizontal differencing works per sample and wraps modulo 256', () => {
    const row = Uint8Array.from([10, 20, 30, 5, 25, 30, 255, 0, 31]);
    applyHorizontalPredictor(row, 3, 1, 3);
    expect(Array.from(row)).toEqual([10, 20, 30, 251, 5, 0, 250, 231, 1]);
  });

  it('rejects tile sizes that are not multiples of 16', async () => {
    await expect(writeTiledTiff(path.join(os.tmpdir(), 'never.tif'), [patternLevel(0)], { tileSize: 100 })).rejects.toThrow(/multiple of 16/);
  });
});
