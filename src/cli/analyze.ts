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
  tileDensities,
  trainCish,
} from '../models/cish/pipeline';
import { densityRanks, unsquashCodes } from '../models/cish/naming';
import { cishSelfChecks } from '../models/cish/checks';
import { worstSeverity, type SelfCheck } from '../analysis/self-checks';
import type { FcmResult } from '../analysis/fcm';
import type { TrainResult } from '../engine/train';
import { CISH_DEFAULTS, CISH_FCM_DEFAULTS, CISH_RUN_DEFAULTS } from '../models/cish/defaults';
import type { CishModels } from '../models/cish/model';
import type { PreprocessOptions } from '../models/cish/preprocess';
import type { TileGrid } from '../tiling/tile-grid';
import { buildTileCsv, buildTileGeoJson, clusterColours, type TileTable } from '../analysis/exports';
import { clusterRegionsGeoJson, downsampleForMaxSide, encodePng, renderTileMap, tileCellLattice } from './map-exports';
import { CliError, OptionReader, UsageError, messageOf, parseCommandArgs, atPath, writeOutput } from './args';
import { ProgressReporter, formatDuration } from './progress';
import { fileSystemSaveHandler } from './model-io';
import { openSlideFile, slideFileFingerprint } from './slide-file';
import type { CishModelMeta } from '../models/cish/metadata';
import { metadataJson, newModelId } from '../engine/model-store';
import { printChecks, type CliIO } from './io';

export const ANALYZE_USAGE = `Usage: tilescope analyze --slide FILE --model cish --out DIR [options]

Runs the CISH pipeline (seed 000): tissue mask, tiles, autoencoder training,
encoding of every tissue tile, fuzzy c-means. Writes DIR/tiles.csv,
DIR/clusters.geojson, DIR/map.png, DIR/overview.png, DIR/model/ and
DIR/summary.json. Progress goes to stderr.

Options:
  --slide FILE        slide or image (SVS, NDPI, OME-TIFF, TIFF, PNG, JPEG, …) (required)
  --model NAME        cish (required)
  --out DIR           output folder, created if missing (required)
  --epochs N          most training epochs (default ${CISH_DEFAULTS.epochs})
  --patience N        stop when the loss has not improved for N epochs
                      (default ${CISH_RUN_DEFAULTS.patience}; 0 = always run --epochs)
  --max-minutes M     stop training at the first epoch end after M minutes
                      (default ${CISH_RUN_DEFAULTS.maxMinutes})
  --train-tiles N     tiles drawn at random for training (default 512)
  --train-roi X,Y,W,H train on the tiles inside this level-0 rectangle instead
  --batch N           training batch size (default ${CISH_DEFAULTS.batchSize})
  --latent D          latent size (default ${CISH_DEFAULTS.latentDim})
  --lr RATE           Adam learning rate (default ${CISH_DEFAULTS.learningRate})
  --loss NAME         mse (default) or mae
  --intensity NAME    intensity (default) or od (optical density)
  --glass NAME        fill (default): glass pixels inside a tile take the mean
                      of its tissue; keep: the tile as scanned
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
  patience: { type: 'string' },
  'max-minutes': { type: 'string' },
  glass: { type: 'string' },
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
  patience: number;
  maxMinutes: number;
  glass: 'fill' | 'keep';
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
    patience: o.number('patience', CISH_RUN_DEFAULTS.patience, { min: 0, integer: true }),
    maxMinutes: o.number('max-minutes', CISH_RUN_DEFAULTS.maxMinutes, { min: 0, exclusiveMin: true }),
    glass: o.choice('glass', ['fill', 'keep'] as const, CISH_RUN_DEFAULTS.glass),
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
    minTissue: o.number('min-tissue', CISH_RUN_DEFAULTS.minTissue, { min: 0, max: 1 }),
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
  try {
    const outcome = await analyzeSlide(source, s, { progress, backend, io, fingerprint: await slideFileFingerprint(s.slide) });
    io.stdout(
      `${outcome.grid.kept.length} tiles, K=${s.k}, FPC ${outcome.clusters.fpc.toFixed(4)}; wrote ${s.out} in ${formatDuration((performance.now() - startedAt) / 1000)}\n`,
    );
    return 0;
  } finally {
    source.close();
  }
}

/** What a finished run computed, for callers that measure it (eval/cish). */
export interface AnalyzeOutcome {
  grid: TileGrid;
  /** Training tile indices. */
  train: Uint32Array;
  latents: Float32Array;
  clusters: FcmResult;
  /** Rank of each cluster, 0 = lowest expression ("Expression 1"). */
  ranks: Int32Array;
  checks: SelfCheck[];
  training: TrainResult;
  restarts: number;
  stoppedByTimeLimit: boolean;
  glassAbove?: number;
  /** Seconds per stage. */
  timings: ReadonlyArray<{ stage: string; seconds: number }>;
}

/**
 * The pipeline part of `analyze` on an open slide with parsed settings:
 * mask, tiles, training, encoding, clustering, self-checks and every
 * export in `s.out`. The CLI and the evaluation suite both run this.
 */
export async function analyzeSlide(
  source: SlideSource,
  s: AnalyzeSettings,
  /** fingerprint: the slide file's (slide/fingerprint.ts), saved with the model; 'generated' for a slide made in memory. */
  context: { progress: ProgressReporter; backend: string; io: CliIO; fingerprint?: string },
): Promise<AnalyzeOutcome> {
  const { progress, backend, io } = context;
  const meta = source.metadata;
  await atPath(s.out, () => mkdir(s.out, { recursive: true }));
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
    progress.end(
      `threshold ${mask.threshold.toFixed(2)}, ${mask.polarity} tissue${mask.seedWasEmpty ? ', erosion seed empty' : ''}` +
        (mask.glassAbove === undefined ? '' : `, glass above grey ${mask.glassAbove.toFixed(3)}`),
    );

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

    const glassAbove = s.glass === 'fill' ? mask.glassAbove : undefined;
    const preprocess: PreprocessOptions = { mode: s.intensity, glassAbove };
    progress.begin(
      'train',
      `${train.length} tiles, up to ${s.epochs} epochs${s.patience > 0 ? ` (patience ${s.patience})` : ''}, at most ${s.maxMinutes} min, batch ${s.batch}, ${backend}`,
    );
    const trained = await trainCish(source, grid, train, {
      epochs: s.epochs,
      batchSize: s.batch,
      latentDim: s.latent,
      learningRate: s.learningRate,
      loss: s.loss,
      seed: s.seed,
      preprocess,
      earlyStopping:
        s.patience > 0
          ? { patience: s.patience, minRelativeDrop: CISH_RUN_DEFAULTS.minRelativeDrop, minTotalDrop: CISH_RUN_DEFAULTS.minTotalDrop }
          : undefined,
      timeLimitSeconds: s.maxMinutes * 60,
      onRestart: (attempt) => progress.note(`train: the code collapsed; restart ${attempt} from other initial weights`),
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
    progress.end(
      `${history.length} epochs, loss ${history[0]?.loss.toPrecision(4)} → ${history[history.length - 1]?.loss.toPrecision(4)}` +
        `${trained.result.status === 'early-stopped' ? ' (settled)' : ''}${trained.stoppedByTimeLimit ? ' (time limit)' : ''}` +
        `${trained.restarts ? `, ${trained.restarts} restart(s)` : ''}`,
    );

    const modelDir = path.join(s.out, 'model');
    const { autoencoder } = models;
    // The app's format (models/cish/metadata.ts): the model imports into the app with its preprocessing.
    const modelMeta: CishModelMeta = {
      tilescope: 'cish',
      modelId: newModelId(),
      fingerprint: context.fingerprint ?? 'generated',
      latentDim: s.latent,
      inputSize: CISH_DEFAULTS.inputSize,
      preprocess: { mode: s.intensity, median: 0, contrast: false, ...(glassAbove === undefined ? {} : { glassAbove }) },
      epochs: history.length,
      history: history.map((h) => h.loss),
    };
    autoencoder.setUserDefinedMetadata(metadataJson(modelMeta));
    await atPath(modelDir, () => autoencoder.save(fileSystemSaveHandler(modelDir)));

    progress.begin('encode', `${grid.kept.length} tiles`);
    const latents = await encodeCishTiles(models.encoder, source, grid, grid.kept, {
      preprocess,
      onProgress: (done) => progress.update(done, grid.kept.length, `${done}/${grid.kept.length} tiles`),
    }).catch(fail);
    const encodeSeconds = progress.end();

    progress.begin('cluster', `FCM K=${s.k} m=${s.m}`);
    const clusterCodes = unsquashCodes(latents);
    const clusters = clusterLatents(clusterCodes, s.latent, { k: s.k, m: s.m, tol: s.tol, seed: s.seed, nInit: s.starts });
    const kept = grid.kept;
    // Names and colours follow each cluster's tissue optical density (an ordinal scale of expression).
    const densities = await tileDensities(source, grid, kept, mask.glassAbove).catch(fail);
    const ranks = densityRanks(clusters.labels, densities, s.k);
    progress.end(`FPC ${clusters.fpc.toFixed(4)}, ${clusters.iterations} iterations`);

    const checks = cishSelfChecks({
      epochLosses: history.map((h) => h.loss),
      codes: clusterCodes,
      latentDim: s.latent,
      tissueFractions: Float32Array.from(kept, (i) => grid.tissueFraction[i]),
      stoppedByTimeLimit: trained.stoppedByTimeLimit,
      timeLimitMinutes: s.maxMinutes,
    });
    printChecks(io.stderr, checks);
    // 'failed' marks the map as probably wrong; warnings are listed beside it.
    const checksFailed = worstSeverity(checks) === 'failed';

    progress.begin('export');
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
    const colours = clusterColours(ranks);
    const names = Array.from(ranks, (rank) => `Expression ${rank + 1}`);
    await writeOutput(path.join(s.out, 'tiles.csv'), buildTileCsv(table));
    const geojson =
      s.geojson === 'tiles'
        ? buildTileGeoJson(table, colours, ranks)
        : clusterRegionsGeoJson(tileCellLattice({ ...grid, stepLevel0: grid.stride * grid.downsample }, kept, clusters.labels), colours, names);
    if (checks.length > 0) markChecks(geojson, checks, checksFailed);
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
      checksFailed,
      checks,
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
      mask: {
        threshold: mask.threshold,
        polarity: mask.polarity,
        downsample: mask.mask.downsample,
        seedWasEmpty: mask.seedWasEmpty,
        glassAbove: mask.glassAbove ?? null,
      },
      preprocess,
      training: { ...trained.result, restarts: trained.restarts, stoppedByTimeLimit: trained.stoppedByTimeLimit },
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
        naming: 'clusters ranked by the mean optical density of their tiles\' tissue',
        clusters: names.map((name, j) => ({ cluster: j, name, rank: ranks[j], color: hexColour(colours, j), tiles: counts[j] })),
      },
      map: { width: map.width, height: map.height, downsample },
      timings: progress.timings.concat(),
    };
    await writeOutput(path.join(s.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    progress.end();
    return {
      grid,
      train,
      latents,
      clusters,
      ranks,
      checks,
      training: trained.result,
      restarts: trained.restarts,
      stoppedByTimeLimit: trained.stoppedByTimeLimit,
      glassAbove: mask.glassAbove,
      timings: progress.timings.concat(),
    };
  } finally {
    if (models) disposeModels(models);
  }
}

/**
 * Puts the fired checks on every feature of an export (and on the
 * collection), with checksFailed when one of them failed, so a result that
 * is probably wrong is never shown as good in QuPath or elsewhere.
 */
function markChecks(geojson: unknown, checks: readonly SelfCheck[], failed: boolean): void {
  const ids = checks.map((c) => c.id);
  const collection = geojson as { features?: Array<{ properties?: Record<string, unknown> }> } & Record<string, unknown>;
  collection.checksFailed = failed;
  collection.checks = ids;
  for (const feature of collection.features ?? []) {
    feature.properties = { ...(feature.properties ?? {}), checksFailed: failed, checks: ids };
  }
}
