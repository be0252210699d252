/**
 * `analyze --model cish`: the whole CISH expression-mapping pipeline of
 * seed 000 (SPEC §1) on one slide, headless: tissue mask → tile grid →
 * autoencoder training → encoding of every kept tile → fuzzy c-means, then
 * the exports (tiles.csv, clusters.geojson, map.png, overview.png, model/,
 * summary.json).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { SlideSource } from '../slide/types';
import { readOverview } from '../slide/overview';
import {
  chooseTrainingTiles,
  clusterLatents,
  computeCishMask,
  computeCishTiles,
  encodeCishTiles,
  trainCish,
} from '../models/cish/pipeline';
import { CISH_DEFAULTS, CISH_FCM_DEFAULTS } from '../models/cish/defaults';
import type { CishModels } from '../models/cish/model';
import type { PreprocessOptions } from '../models/cish/preprocess';
import type { TileGrid } from '../tiling/tile-grid';
import { buildTileCsv, buildTileGeoJson, clusterColours, clusterRanks, type TileTable } from '../analysis/exports';
import { clusterRegionsGeoJson, downsampleForMaxSide, encodePng, renderTileMap, tileCellLattice } from './map-exports';
import { CliError, OptionReader, UsageError, messageOf, parseCommandArgs, atPath, writeOutput } from './args';
import { ProgressReporter, formatDuration } from './progress';
import { fileSystemSaveHandler } from './model-io';
import { openSlideFile } from './slide-file';
import type { CliIO } from './io';

export const ANALYZE_USAGE = `Usage: tilescope analyze --slide FILE --model cish --out DIR [options]

Runs the CISH pipeline (seed 000): tissue mask, tiles, autoencoder training,
encoding of every tissue tile, fuzzy c-means. Writes DIR/tiles.csv,
DIR/clusters.geojson, DIR/map.png, DIR/overview.png, DIR/model/ and
DIR/summary.json. Progress goes to stderr.

Options:
  --slide FILE        slide or image (SVS, NDPI, OME-TIFF, TIFF, PNG, JPEG, …) (required)
  --model NAME        cish (required)
  --out DIR           output folder, created if missing (required)
  --epochs N          training epochs (default ${CISH_DEFAULTS.epochs})
  --train-tiles N     tiles drawn at random for training (default 512)
  --train-roi X,Y,W,H train on the tiles inside this level-0 rectangle instead
  --batch N           training batch size (default ${CISH_DEFAULTS.batchSize})
  --latent D          latent size (default ${CISH_DEFAULTS.latentDim})
  --lr RATE           Adam learning rate (default ${CISH_DEFAULTS.learningRate})
  --loss NAME         mse (default) or mae
  --intensity NAME    intensity (default) or od (optical density)
  --tile-um N         tile side in µm (default ${CISH_DEFAULTS.tileMicrons})
  --overlap-um N      tile overlap in µm (default ${CISH_DEFAULTS.overlapMicrons})
  --mpp N             µm per level-0 pixel, when the file lacks it or is wrong
  --min-tissue F      keep tiles with at least this tissue share (default 0.5)
  --k K               FCM clusters (default 7)
  --m M               FCM fuzziness, > 1 (default 2)
  --tol T             FCM stopping threshold (default 0.005)
  --starts N          FCM random starts, the best objective wins (default ${CISH_FCM_DEFAULTS.nInit})
  --seed S            seed for weights, tile sampling and FCM (default 0)
  --geojson KIND      regions (default: one annotation per cluster) or tiles
  --map-max-side N    long side of map.png in px (default 2048)
  --backend NAME      wasm (default) or cpu
  --quiet             no progress lines
  -h, --help          show this help`;

const OPTIONS = {
  slide: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  epochs: { type: 'string' },
  'train-tiles': { type: 'string' },
  'train-roi': { type: 'string' },
  batch: { type: 'string' },
  latent: { type: 'string' },
  lr: { type: 'string' },
  loss: { type: 'string' },
  intensity: { type: 'string' },
  'tile-um': { type: 'string' },
  'overlap-um': { type: 'string' },
  mpp: { type: 'string' },
  'min-tissue': { type: 'string' },
  k: { type: 'string' },
  m: { type: 'string' },
  tol: { type: 'string' },
  starts: { type: 'string' },
  seed: { type: 'string' },
  geojson: { type: 'string' },
  'map-max-side': { type: 'string' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface AnalyzeSettings {
  slide: string;
  out: string;
  epochs: number;
  trainTiles: number;
  trainRoi?: [number, number, number, number];
  batch: number;
  latent: number;
  learningRate: number;
  loss: 'mse' | 'mae';
  intensity: 'intensity' | 'od';
  tileUm: number;
  overlapUm: number;
  mpp?: number;
  minTissue: number;
  k: number;
  m: number;
  tol: number;
  starts: number;
  seed: number;
  geojson: 'regions' | 'tiles';
  mapMaxSide: number;
  backend: 'wasm' | 'cpu';
  quiet: boolean;
}

export function parseAnalyzeArgs(argv: string[]): AnalyzeSettings | 'help' {
  const { values } = parseCommandArgs(argv, OPTIONS, ANALYZE_USAGE);
  const o = new OptionReader(values, ANALYZE_USAGE);
  if (o.flag('help')) return 'help';
  const slide = o.required('slide');
  const model = o.required('model');
  if (model !== 'cish') throw new UsageError(`unknown --model '${model}' (available: cish)`, ANALYZE_USAGE);
  const out = o.required('out');
  const tileUm = o.number('tile-um', CISH_DEFAULTS.tileMicrons, { min: 0, exclusiveMin: true });
  const overlapUm = o.number('overlap-um', CISH_DEFAULTS.overlapMicrons, { min: 0 });
  if (!(overlapUm < tileUm)) throw new UsageError(`--overlap-um (${overlapUm}) must be smaller than --tile-um (${tileUm})`, ANALYZE_USAGE);
  let trainRoi: AnalyzeSettings['trainRoi'];
  const roiText = o.string('train-roi');
  if (roiText !== undefined) {
    const parts = roiText.split(',').map((s) => Number(s.trim()));
    if (parts.length !== 4 || parts.some((v) => !Number.isFinite(v)) || !(parts[2] > 0 && parts[3] > 0)) {
      throw new UsageError(`--train-roi must be X,Y,W,H with W, H > 0, got '${roiText}'`, ANALYZE_USAGE);
    }
    trainRoi = parts as [number, number, number, number];
  }
  return {
    slide,
    out,
    epochs: o.number('epochs', CISH_DEFAULTS.epochs, { min: 1, integer: true }),
    trainTiles: o.number('train-tiles', 512, { min: 1, integer: true }),
    trainRoi,
    batch: o.number('batch', CISH_DEFAULTS.batchSize, { min: 1, integer: true }),
    latent: o.number('latent', CISH_DEFAULTS.latentDim, { min: 1, max: 800, integer: true }),
    learningRate: o.number('lr', CISH_DEFAULTS.learningRate, { min: 0, exclusiveMin: true }),
    loss: o.choice('loss', ['mse', 'mae'] as const, CISH_DEFAULTS.loss),
    intensity: o.choice('intensity', ['intensity', 'od'] as const, CISH_DEFAULTS.intensityMode),
    tileUm,
    overlapUm,
    mpp: o.optionalNumber('mpp', { min: 0, exclusiveMin: true }),
    minTissue: o.number('min-tissue', 0.5, { min: 0, max: 1 }),
    k: o.number('k', 7, { min: 2, integer: true }),
    m: o.number('m', 2, { min: 1, exclusiveMin: true }),
    tol: o.number('tol', 0.005, { min: 0, exclusiveMin: true }),
    starts: o.number('starts', CISH_FCM_DEFAULTS.nInit, { min: 1, integer: true }),
    seed: o.number('seed', 0, { integer: true }),
    geojson: o.choice('geojson', ['regions', 'tiles'] as const, 'regions'),
    mapMaxSide: o.number('map-max-side', 2048, { min: 16, integer: true }),
    backend: o.choice('backend', ['wasm', 'cpu'] as const, 'wasm'),
    quiet: o.flag('quiet'),
  };
}

/** Level-0 rectangles of the tiles' central step × step cells, which tile the plane without overlap. */
export function tileCells(grid: TileGrid, indices: ArrayLike<number>) {
  const step = grid.stride * grid.downsample;
  const n = indices.length;
  const cells = { x: new Float64Array(n), y: new Float64Array(n), width: new Float64Array(n).fill(step), height: new Float64Array(n).fill(step) };
  for (let q = 0; q < n; q++) {
    const i = indices[q];
    cells.x[q] = grid.x[i] + (grid.width[i] - step) / 2;
    cells.y[q] = grid.y[i] + (grid.height[i] - step) / 2;
  }
  return cells;
}

/** The slide at `width` × `height`, as 8-bit RGB (area average of the nearest finer level). */
export async function readThumbnail(source: SlideSource, width: number, height: number): Promise<Uint8Array> {
  const { metadata } = source;
  const downsample = Math.max(metadata.width / width, metadata.height / height);
  const { block } = await readOverview(source, downsample);
  const channels = block.channels;
  const rgb = metadata.rgb && channels >= 3;
  const scale = block.dtype === 'uint16' ? 1 / 257 : block.dtype === 'float32' ? 255 : 1;
  const out = new Uint8Array(width * height * 3);
  const fx = block.width / width;
  const fy = block.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * fy);
    const y1 = Math.max(y0 + 1, Math.min(block.height, Math.floor((y + 1) * fy)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * fx);
      const x1 = Math.max(x0 + 1, Math.min(block.width, Math.floor((x + 1) * fx)));
      const sums = [0, 0, 0];
      let count = 0;
      for (let yy = y0; yy < y1 && yy < block.height; yy++) {
        for (let xx = x0; xx < x1 && xx < block.width; xx++) {
          const o = (yy * block.width + xx) * channels;
          for (let c = 0; c < 3; c++) sums[c] += block.data[o + (rgb ? c : 0)];
          count++;
        }
      }
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = count ? Math.min(255, Math.round((sums[c] / count) * scale)) : 0;
    }
  }
  return out;
}

function hexColour(colours: Uint8Array, j: number): string {
  return '#' + Array.from(colours.subarray(3 * j, 3 * j + 3), (v) => v.toString(16).padStart(2, '0')).join('');
}

/**
 * The encoder's layers belong to the autoencoder graph only once (their
 * reference count is 1) while the decoder's are applied twice, so disposing
 * the autoencoder and then the decoder frees every weight exactly once.
 */
function disposeModels(models: CishModels): void {
  try {
    models.autoencoder.dispose();
    models.decoder.dispose();
  } catch {
    // The process is about to end; a refcount surprise must not fail a finished run.
  }
}


export async function runAnalyze(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseAnalyzeArgs(argv);
  if (parsed === 'help') {
    io.stdout(ANALYZE_USAGE + '\n');
    return 0;
  }
  const s = parsed;
  const progress = new ProgressReporter(io.stderr, { quiet: s.quiet });
  const startedAt = performance.now();

  await atPath(s.out, () => mkdir(s.out, { recursive: true }));

  const { initNodeBackend } = await import('../engine/wasm-node');
  const backend = await initNodeBackend(s.backend);
  if (backend !== s.backend) progress.note(`backend: ${s.backend} unavailable, using ${backend}`);

  progress.begin('open');
  const source = await openSlideFile(s.slide);
  const meta = source.metadata;
  progress.end(`${meta.format} ${meta.width} × ${meta.height} px, ${meta.levels.length} levels, ${meta.mppX ?? '?'} µm/px`);
  // Every later failure is about this slide.
  const fail = (err: unknown): never => {
    if (err instanceof CliError) throw err;
    throw new CliError(s.slide, messageOf(err));
  };

  let models: CishModels | undefined;
  try {
    if (s.mpp === undefined && meta.mppX === undefined) {
      throw new CliError(s.slide, 'the file does not state its µm per pixel; pass --mpp');
    }
    progress.begin('mask');
    const mask = await computeCishMask(source).catch(fail);
    progress.end(`threshold ${mask.threshold.toFixed(2)}, ${mask.polarity} tissue${mask.seedWasEmpty ? ', erosion seed empty' : ''}`);

    progress.begin('tiles');
    let grid: TileGrid;
    try {
      grid = computeCishTiles(meta, mask.mask, {
        tileUm: s.tileUm,
        overlapUm: s.overlapUm,
        minTissueFraction: s.minTissue,
        mppOverride: s.mpp,
      });
    } catch (err) {
      return fail(err);
    }
    progress.end(
      `${grid.columns} × ${grid.rows} grid, ${grid.kept.length} on tissue, ${grid.tileSize} px at level ${grid.level}`,
    );
    if (grid.kept.length === 0) throw new CliError(s.slide, 'no tile lies on tissue (try --min-tissue lower, or smaller --tile-um)');
    if (grid.kept.length < s.k) {
      throw new CliError(s.slide, `only ${grid.kept.length} tiles on tissue, fewer than --k ${s.k}`);
    }

    const train = s.trainRoi
      ? chooseTrainingTiles(grid, {
          polygon: [
            s.trainRoi[0], s.trainRoi[1],
            s.trainRoi[0] + s.trainRoi[2], s.trainRoi[1],
            s.trainRoi[0] + s.trainRoi[2], s.trainRoi[1] + s.trainRoi[3],
            s.trainRoi[0], s.trainRoi[1] + s.trainRoi[3],
          ],
        })
      : chooseTrainingTiles(grid, { sample: s.trainTiles, seed: s.seed });
    if (train.length === 0) throw new CliError(s.slide, 'no tissue tile inside --train-roi');

    const preprocess: PreprocessOptions = { mode: s.intensity };
    progress.begin('train', `${train.length} tiles, ${s.epochs} epochs, batch ${s.batch}, ${backend}`);
    const trained = await trainCish(source, grid, train, {
      epochs: s.epochs,
      batchSize: s.batch,
      latentDim: s.latent,
      learningRate: s.learningRate,
      loss: s.loss,
      seed: s.seed,
      preprocess,
      onProgress: (p) => {
        const steps = p.stepsPerEpoch ?? 1;
        progress.update(
          p.epoch * steps + p.step,
          s.epochs * steps,
          `epoch ${p.epoch + 1}/${s.epochs} step ${p.step}/${steps} loss ${p.loss.toPrecision(4)} ${p.samplesPerSecond.toFixed(1)} tiles/s`,
          p.etaSeconds,
        );
      },
    }).catch(fail);
    models = trained.models;
    const history = trained.result.history;
    progress.end(`final loss ${history[history.length - 1]?.loss.toPrecision(4)}`);

    const modelDir = path.join(s.out, 'model');
    const { autoencoder } = models;
    await atPath(modelDir, () => autoencoder.save(fileSystemSaveHandler(modelDir)));

    progress.begin('encode', `${grid.kept.length} tiles`);
    const latents = await encodeCishTiles(models.encoder, source, grid, grid.kept, {
      preprocess,
      onProgress: (done) => progress.update(done, grid.kept.length, `${done}/${grid.kept.length} tiles`),
    }).catch(fail);
    const encodeSeconds = progress.end();

    progress.begin('cluster', `FCM K=${s.k} m=${s.m}`);
    const clusters = clusterLatents(latents, s.latent, { k: s.k, m: s.m, tol: s.tol, seed: s.seed, nInit: s.starts });
    progress.end(`FPC ${clusters.fpc.toFixed(4)}, ${clusters.iterations} iterations`);

    progress.begin('export');
    const kept = grid.kept;
    const table: TileTable = {
      x: grid.x,
      y: grid.y,
      width: grid.width,
      height: grid.height,
      ids: kept,
      latents,
      dim: s.latent,
      labels: clusters.labels,
      memberships: clusters.u,
      k: s.k,
    };
    // Colours and class names follow each cluster's rank along the main latent axis (an ordinal scale).
    const ranks = clusterRanks(latents, s.latent, clusters.centres, s.k);
    const colours = clusterColours(ranks);
    const names = Array.from(ranks, (rank) => `Expression ${rank + 1}`);
    await writeOutput(path.join(s.out, 'tiles.csv'), buildTileCsv(table));
    const geojson =
      s.geojson === 'tiles'
        ? buildTileGeoJson(table, colours, ranks)
        : clusterRegionsGeoJson(tileCellLattice({ ...grid, stepLevel0: grid.stride * grid.downsample }, kept, clusters.labels), colours, names);
    await writeOutput(path.join(s.out, 'clusters.geojson'), JSON.stringify(geojson));
    const downsample = downsampleForMaxSide(meta.width, meta.height, s.mapMaxSide);
    const map = renderTileMap(tileCells(grid, kept), clusters.labels, colours, {
      slideWidth: meta.width,
      slideHeight: meta.height,
      downsample,
      background: [255, 255, 255, 255],
    });
    await writeOutput(path.join(s.out, 'map.png'), encodePng(map));
    const thumbnail = await readThumbnail(source, map.width, map.height).catch(fail);
    await writeOutput(path.join(s.out, 'overview.png'), encodePng({ width: map.width, height: map.height, data: thumbnail, channels: 3 }));
    const counts = new Array<number>(s.k).fill(0);
    for (const label of clusters.labels) counts[label]++;
    const summary = {
      slide: s.slide,
      format: meta.format,
      width: meta.width,
      height: meta.height,
      mpp: grid.mpp,
      backend,
      settings: { ...s, out: undefined, quiet: undefined },
      tiles: {
        grid: grid.count,
        columns: grid.columns,
        rows: grid.rows,
        kept: kept.length,
        training: train.length,
        tileSizePx: grid.tileSize,
        strideLevelPx: grid.stride,
        readLevel: grid.level,
      },
      mask: { threshold: mask.threshold, polarity: mask.polarity, downsample: mask.mask.downsample, seedWasEmpty: mask.seedWasEmpty },
      training: trained.result,
      encodeTilesPerSecond: kept.length / Math.max(1e-9, encodeSeconds),
      clustering: {
        method: 'fcm',
        k: s.k,
        m: s.m,
        tol: s.tol,
        starts: s.starts,
        fpc: clusters.fpc,
        iterations: clusters.iterations,
        converged: clusters.converged,
        centres: Array.from(clusters.centres),
        clusters: names.map((name, j) => ({ cluster: j, name, rank: ranks[j], color: hexColour(colours, j), tiles: counts[j] })),
      },
      map: { width: map.width, height: map.height, downsample },
      timings: progress.timings.concat(),
    };
    await writeOutput(path.join(s.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    progress.end();
    io.stdout(
      `${kept.length} tiles, K=${s.k}, FPC ${clusters.fpc.toFixed(4)}; wrote ${s.out} in ${formatDuration((performance.now() - startedAt) / 1000)}\n`,
    );
    return 0;
  } finally {
    if (models) disposeModels(models);
    source.close();
  }
}
