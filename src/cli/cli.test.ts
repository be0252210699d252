/**
 * End to end: `analyze` on the demo slide (CMU-1-Small-Region.svs) through
 * the CLI's main(), `synth-cish` round trip, and the real launcher
 * (`node src/cli/run.mjs`, which bundles with Vite) as a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { main } from './main';
import { parseCsv } from './csv';
import { fileSystemLoadHandler } from './model-io';
import { encodePng, signedArea, type LinearRing } from './map-exports';
import { initNodeBackend } from '../engine/wasm-node';
import { openSlide } from '../slide/open';
import { computeCishMask, computeCishTiles, encodeCishTiles } from '../models/cish/pipeline';
import { loadCishAutoencoder } from '../models/cish/model';
import { SyntheticCishSlide } from '../synthetic/cish-slide';

const ROOT = path.resolve(__dirname, '../..');
const DEMO = '/work/shared/data/CMU-1-Small-Region.svs';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(DEMO))('analyze --model cish on the demo slide', () => {
  it('writes tiles.csv, clusters.geojson, map.png and a model that reproduces the codes', async () => {
    const out = path.join(dir, 'demo');
    const { out: streams, io } = capture();
    const code = await main(
      ['analyze', '--slide', DEMO, '--model', 'cish', '--epochs', '1', '--train-tiles', '16', '--batch', '8', '--k', '3', '--seed', '4', '--out', out],
      io,
    );
    expect(code, streams.stderr).toBe(0);
    // Progress lines: stage, percentage, ETA.
    expect(streams.stderr).toMatch(/^train: +\d+\.\d%  ETA /m);
    expect(streams.stderr).toMatch(/^encode: 100\.0%/m);
    expect(streams.stdout).toMatch(/FPC 0\.\d{4}/);

    // The kept tiles, recomputed with the pipeline stages.
    await initNodeBackend('wasm');
    const slide = await openSlide(await openAsBlob(DEMO), 'demo.svs');
    const { mask } = await computeCishMask(slide);
    const grid = computeCishTiles(slide.metadata, mask);
    const kept = Array.from(grid.kept);
    expect(kept.length).toBeGreaterThan(3);

    const table = parseCsv(readFileSync(path.join(out, 'tiles.csv'), 'utf8'));
    expect(table.header).toEqual([
      'tile_id', 'x', 'y', 'width', 'height', 'latent_0', 'latent_1', 'cluster', 'membership_0', 'membership_1', 'membership_2',
    ]);
    expect(table.rows).toHaveLength(kept.length);
    expect(table.rows.map((r) => Number(r[0]))).toEqual(kept);
    table.rows.forEach((row, q) => {
      const i = kept[q];
      expect(row.slice(1, 5).map(Number)).toEqual([grid.x[i], grid.y[i], grid.width[i], grid.height[i]]);
      const u = row.slice(8).map(Number);
      expect(u.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(Number(row[7])).toBe(u.indexOf(Math.max(...u)));
    });

    // Regions: one annotation per cluster, QuPath classification, area = kept cells.
    const geojson = JSON.parse(readFileSync(path.join(out, 'clusters.geojson'), 'utf8'));
    expect(geojson.type).toBe('FeatureCollection');
    expect(geojson.features.length).toBeGreaterThanOrEqual(1);
    const step = grid.stride * grid.downsample;
    let area = 0;
    let tiles = 0;
    for (const feature of geojson.features) {
      expect(feature.geometry.type).toBe('MultiPolygon');
      expect(feature.properties.classification.name).toMatch(/^Expression [1-3]$/);
      expect(feature.properties.classification.color).toHaveLength(3);
      for (const polygon of feature.geometry.coordinates as LinearRing[][]) for (const ring of polygon) area += signedArea(ring);
      tiles += feature.properties.measurements.tiles;
    }
    expect(tiles).toBe(kept.length);
    expect(area).toBeCloseTo(kept.length * step * step, 6);

    // Map: PNG, long side ≤ 2048, a kept tile's centre has its cluster's colour.
    const png = readFileSync(path.join(out, 'map.png'));
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    const map = decode(png);
    expect(Math.max(map.width, map.height)).toBeLessThanOrEqual(2048);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    const ds = summary.map.downsample;
    // Self-checks: listed in the summary, and every exported region is marked when one fired.
    expect(Array.isArray(summary.checks)).toBe(true);
    expect(summary.checksFailed).toBe(summary.checks.some((c: { severity: string }) => c.severity === 'failed'));
    for (const feature of geojson.features) expect(feature.properties.checksFailed === true).toBe(summary.checksFailed);
    const colourOf = (cluster: number) => summary.clustering.clusters[cluster].color as string;
    for (const q of [0, Math.floor(kept.length / 2), kept.length - 1]) {
      const i = kept[q];
      const px = Math.floor((grid.x[i] + grid.width[i] / 2) / ds);
      const py = Math.floor((grid.y[i] + grid.height[i] / 2) / ds);
      const o = (py * map.width + px) * map.channels;
      const hex = '#' + Array.from(map.data.subarray(o, o + 3), (v) => v.toString(16).padStart(2, '0')).join('');
      expect(hex).toBe(colourOf(Number(table.rows[q][7])));
    }

    // The saved model loads back and encodes a few tiles to the same codes.
    const models = await loadCishAutoencoder(fileSystemLoadHandler(path.join(out, 'model')));
    const sample = Uint32Array.from([kept[0], kept[1], kept[kept.length - 1]]);
    // With the run's preprocessing (summary.json), which includes the glass fill.
    const codes = await encodeCishTiles(models.encoder, slide, grid, sample, { preprocess: summary.preprocess });
    [0, 1, kept.length - 1].forEach((q, s) => {
      expect(codes[2 * s]).toBeCloseTo(Number(table.rows[q][5]), 5);
      expect(codes[2 * s + 1]).toBeCloseTo(Number(table.rows[q][6]), 5);
    });
    models.autoencoder.dispose();
    models.decoder.dispose();
  }, 120_000);
});

describe('synth-cish', () => {
  it('writes a pyramidal TIFF that opens with the slide reader and holds the synthetic pixels', async () => {
    const file = path.join(dir, 'synth.tif');
    const { out, io } = capture();
    expect(await main(['synth-cish', '--out', file, '--width', '1200', '--height', '800', '--seed', '9', '--tile', '256', '--quiet'], io)).toBe(0);
    expect(out.stdout).toMatch(/1200 × 800 px/);
    const slide = await openSlide(await openAsBlob(file), 'synth.tif');
    const truth = new SyntheticCishSlide({ width: 1200, height: 800, seed: 9 });
    expect(slide.metadata.width).toBe(1200);
    expect(slide.metadata.mppX).toBeCloseTo(0.5, 9);
    expect(slide.metadata.levels.length).toBeGreaterThanOrEqual(truth.metadata.levels.length);
    for (let level = 0; level < truth.metadata.levels.length; level++) {
      expect(slide.metadata.levels[level].width).toBe(truth.metadata.levels[level].width);
    }
    const region = { level: 0, x: 250, y: 300, width: 300, height: 200 };
    const written = await slide.readRegion(region);
    const expected = await truth.readRegion(region);
    expect(Buffer.from(written.data as Uint8Array).equals(Buffer.from(expected.data as Uint8Array))).toBe(true);
    slide.close();
  }, 60_000);
});

describe('usage and failures', () => {
  it('exit 2 with usage for usage errors', async () => {
    for (const argv of [
      [],
      ['frobnicate'],
      ['analyze', '--model', 'cish', '--out', dir],
      ['analyze', '--slide', DEMO, '--model', 'resnet', '--out', dir],
      ['analyze', '--slide', DEMO, '--model', 'cish', '--out', dir, '--epochs', '0'],
      ['analyze', '--slide', DEMO, '--model', 'cish', '--out', dir, '--tile-um', '100', '--overlap-um', '100'],
      ['synth-cish'],
    ]) {
      const { out, io } = capture();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(out.stderr).toMatch(/^error: /);
      expect(out.stderr).toMatch(/Usage: tilescope/);
    }
  });

  it('exit 1 with `<file>: <reason>` when the slide cannot be read', async () => {
    const missing = path.join(dir, 'nope.svs');
    let c = capture();
    expect(await main(['analyze', '--slide', missing, '--model', 'cish', '--out', path.join(dir, 'o1'), '--quiet'], c.io)).toBe(1);
    expect(c.out.stderr).toBe(`${missing}: no such file or directory\n`);
    const notASlide = path.join(ROOT, 'package.json');
    c = capture();
    expect(await main(['analyze', '--slide', notASlide, '--model', 'cish', '--out', path.join(dir, 'o2'), '--quiet'], c.io)).toBe(1);
    expect(c.out.stderr).toBe(`${notASlide}: not a recognised slide or image format\n`);
    // A plain PNG has no pixel size: the tile geometry in µm needs --mpp.
    const png = path.join(dir, 'plain.png');
    writeFileSync(png, encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(200), channels: 3 }));
    c = capture();
    expect(await main(['analyze', '--slide', png, '--model', 'cish', '--out', path.join(dir, 'o3'), '--quiet'], c.io)).toBe(1);
    expect(c.out.stderr).toBe(`${png}: the file does not state its µm per pixel; pass --mpp\n`);
  });

  it('the launcher (npm run cli) builds the bundle and keeps the exit codes', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [path.join(ROOT, 'src/cli/run.mjs'), ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const help = await run(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Commands:/);
    const bad = await run(['cluster', '--k', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/missing --in/);
  }, 120_000);
});
