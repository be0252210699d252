/**
 * The CISH expression-mapping pipeline of seed 000 as separate, pure stages
 * over a SlideSource: tissue mask → tile grid → training → encoding →
 * fuzzy c-means. Workers run each stage as a job; the CLI and the tests call
 * them directly. Nothing here knows about threads or the DOM.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dtypeFullScale, type SlideMetadata, type SlideSource } from '../../slide/types';
import { levelForDownsample, readOverview } from '../../slide/overview';
import { tissueMaskPipeline, type TissuePolarity } from '../../imaging';
import {
  computeTileGrid,
  sampleTiles,
  tilesInPolygon,
  type RegionOfInterest,
  type TileGrid,
  type TissueMask,
} from '../../tiling/tile-grid';
import { fcm, type FcmResult } from '../../analysis/fcm';
import { trainModel, encodeAll, type TrainProgress, type TrainResult, type EpochSummary, TrainingControl } from '../../engine/train';
import { tileBatchProvider, tileBatches, type TileInputSpec } from '../../engine/tile-batches';
import {
  buildCishAutoencoder,
  cishEncodeFunction,
  codeIsCollapsed,
  initialiseOutputBias,
  tileStatistics,
  type CishModels,
} from './model';
import { cishLoss } from './losses';
import { preprocessTile, type PreprocessOptions } from './preprocess';
import { CISH_DEFAULTS, CISH_ENCODE_BATCH, CISH_FCM_DEFAULTS, type CishLossName } from './defaults';
import { modelArtifacts, optimizerSpec, type ReplicaPeer } from '../../engine/data-parallel';

// ---------------------------------------------------------------- mask

export interface CishMaskOptions {
  /** Downscale of the mask relative to level 0 (seed: 20). */
  downscale?: number;
  polarity?: TissuePolarity;
  /**
   * Also drop mask pixels whose own (unblurred) grey is at or above the glass
   * cut. Not in the seed: its σ = 10 blur at 1/20 scale widens the tissue by
   * ~200 level-0 px, which at 1 µm/px kept a 0.2 mm ring of pure-glass
   * tiles around the section (they took one of the K clusters), and its
   * hole filling keeps holes in the tissue.
   */
  trimGlass?: boolean;
}

export interface CishMaskResult {
  mask: TissueMask;
  threshold: number;
  polarity: 'dark' | 'bright';
  /** True when the large erosion removed everything and the filled mask was kept. */
  seedWasEmpty: boolean;
  /**
   * Grey level in [0, 1] above which a pixel of a tile counts as glass
   * (brightfield only; undefined for fluorescence or when the mask has no
   * glass or no tissue). See `glassCut`.
   */
  glassAbove?: number;
}

/**
 * Share of the way from the glass's mean grey level down to the tissue's
 * at which a pixel stops counting as glass. Glass pixels scatter a few grey
 * levels around their mean (noise, compression), tissue pixels range from
 * the pale cytoplasm (~10 % darker than glass) to dark chromogen: a cut a
 * third of the way down keeps glass noise above it and the cytoplasm of the
 * generated suite's palest counterstain mostly below it.
 */
const GLASS_CUT = 0.3;

/** The glass cut of a mask-scale grey image: mean grey off the mask minus GLASS_CUT × (glass − tissue). */
export function glassCut(small: ArrayLike<number>, mask: Uint8Array, fullScale: number): number | undefined {
  let glass = 0;
  let glassCount = 0;
  let tissue = 0;
  let tissueCount = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) {
      tissue += small[i];
      tissueCount++;
    } else {
      glass += small[i];
      glassCount++;
    }
  }
  if (glassCount === 0 || tissueCount === 0) return undefined;
  const g = glass / glassCount / fullScale;
  const t = tissue / tissueCount / fullScale;
  if (!(g > t)) return undefined;
  return g - GLASS_CUT * (g - t);
}

/**
 * Seed 000 §2: downscale 20×, Gaussian σ = 10, triangle threshold, fill
 * holes, reconstruction from a large-radius erosion. The seed then upsizes
 * the mask with Lanczos; we keep it at 1/20 and integrate tile tissue
 * fractions from it, because a full-scale mask of a 100k-px slide would not
 * fit in memory and the fractions differ only on boundary pixels.
 */
export async function computeCishMask(
  source: SlideSource,
  options: CishMaskOptions = {},
  signal?: AbortSignal,
): Promise<CishMaskResult> {
  const downscale = options.downscale ?? 20;
  const overview = await readOverview(source, downscale, signal);
  const { block } = overview;
  const result = tissueMaskPipeline(
    { data: block.data as Uint8Array, width: block.width, height: block.height, channels: block.channels },
    { levelDownsample: overview.downsample, downscale: downscale / overview.downsample, polarity: options.polarity ?? 'auto' },
  );
  const fullScale = dtypeFullScale(block.dtype);
  const glassAbove =
    result.polarity === 'dark' && result.small.data.length === result.mask.data.length
      ? glassCut(result.small.data, result.mask.data, fullScale)
      : undefined;
  if (options.trimGlass && glassAbove !== undefined) {
    const cut = glassAbove * fullScale;
    for (let i = 0; i < result.mask.data.length; i++) if (result.mask.data[i] && result.small.data[i] >= cut) result.mask.data[i] = 0;
  }
  return {
    glassAbove,
    mask: {
      data: result.mask.data,
      width: result.mask.width,
      height: result.mask.height,
      downsample: (result.maskDownsampleX + result.maskDownsampleY) / 2,
    },
    threshold: result.threshold,
    polarity: result.polarity,
    seedWasEmpty: result.seedWasEmpty,
  };
}

// ---------------------------------------------------------------- tiles

export interface CishTileOptions {
  tileUm?: number;
  overlapUm?: number;
  minTissueFraction?: number;
  mppOverride?: number;
  roi?: RegionOfInterest;
  /** Network input side (300 in the seed). */
  inputSize?: number;
}

/**
 * The coarsest pyramid level at which a tile still has at least the network's
 * input size, so large tiles are read from an overview level instead of
 * being decoded at full resolution and shrunk.
 */
export function chooseReadLevel(metadata: SlideMetadata, tilePx0: number, inputSize: number): number {
  return levelForDownsample(metadata.levels, tilePx0 / (inputSize * 0.99));
}

export function computeCishTiles(metadata: SlideMetadata, mask: TissueMask | undefined, options: CishTileOptions = {}): TileGrid {
  const tileUm = options.tileUm ?? CISH_DEFAULTS.tileMicrons;
  const mpp = options.mppOverride ?? metadata.mppX;
  const inputSize = options.inputSize ?? CISH_DEFAULTS.inputSize;
  const level = mpp ? chooseReadLevel(metadata, tileUm / mpp, inputSize) : 0;
  return computeTileGrid(
    metadata,
    {
      tileUm,
      overlapUm: options.overlapUm ?? CISH_DEFAULTS.overlapMicrons,
      minTissueFraction: options.minTissueFraction ?? 0.5,
      mppOverride: options.mppOverride,
      level,
    },
    mask,
    options.roi,
  );
}

/** Training tiles: a seeded random sample of kept tiles, or the kept tiles inside a polygon. */
export function chooseTrainingTiles(grid: TileGrid, choice: { sample: number; seed: number } | { polygon: ArrayLike<number> }): Uint32Array {
  return 'polygon' in choice ? tilesInPolygon(grid, choice.polygon) : sampleTiles(grid, choice.sample, choice.seed);
}

export function cishInputSpec(inputSize: number, preprocess: PreprocessOptions = {}): TileInputSpec {
  return {
    inputSize,
    inputChannels: 1,
    prepare: (block) =>
      preprocessTile(
        { data: block.data, width: block.width, height: block.height, channels: block.channels as 1 | 3 | 4 },
        { ...preprocess, outputSize: inputSize },
      ),
  };
}

// ---------------------------------------------------------------- training

export interface CishTrainOptions {
  latentDim?: number;
  loss?: CishLossName;
  batchSize?: number;
  epochs?: number;
  learningRate?: number;
  seed?: number;
  preprocess?: PreprocessOptions;
  inputSize?: number;
  onProgress?: (p: TrainProgress) => void;
  onEpochEnd?: (summary: EpochSummary, models: CishModels) => void | Promise<void>;
  signal?: AbortSignal;
  control?: TrainingControl;
  /** Continue training these models (resume from a checkpoint; pass the remaining epochs) instead of new ones. */
  models?: CishModels;
  /**
   * New models whose code collapses early (codeIsCollapsed) are
   * thrown away and started again from other initial weights, at most this
   * many times (default 2). The seed met the same dying-unit problem and
   * answered it with LeakyReLU; that alone does not stop it in short runs.
   */
  maxRestarts?: number;
  /** Called when a collapsed start is thrown away; `attempt` counts from 1. */
  onRestart?: (attempt: number) => void;
  /** Copies of the model in other workers that share every batch (data-parallel; engine/data-parallel.ts). */
  peers?: readonly ReplicaPeer[];
  /**
   * Stop when the epoch loss has not fallen below (1 − minRelativeDrop) ×
   * its best for `patience` epochs; absent = run every epoch. Relative, not
   * train.ts's absolute minDelta: the loss's scale differs from slide to slide.
   */
  earlyStopping?: {
    patience: number;
    minRelativeDrop: number;
    /**
     * No stop before the best loss is this share below the first epoch's:
     * a run that settles before that has not learned, and the `loss-flat`
     * self-check (2 %) would call its map wrong. Default 0.
     */
    minTotalDrop?: number;
  };
  /** Stop at the first epoch end after this many seconds of training (restarts included); absent = no cap. */
  timeLimitSeconds?: number;
}

/** Gives each peer a copy of the autoencoder (its current weights) and of the optimizer. */
export async function loadCishPeers(
  peers: readonly ReplicaPeer[],
  models: CishModels,
  optimizer: tf.Optimizer,
  loss: CishLossName = CISH_DEFAULTS.loss,
): Promise<void> {
  if (peers.length === 0) return;
  const spec = { artifacts: await modelArtifacts(models.autoencoder), optimizer: optimizerSpec(optimizer), adapter: 'cish', options: { loss } };
  await Promise.all(peers.map((peer) => peer.load(spec)));
}

export interface CishTrainOutcome {
  models: CishModels;
  result: TrainResult;
  /** Starts thrown away because their code collapsed. */
  restarts: number;
  /** True when the time limit ended training (the result's status then says 'completed'). */
  stoppedByTimeLimit: boolean;
}

/**
 * Collapse is checked at epoch ends within the first epoch or the first this
 * many steps: in our runs the code either collapsed within ~50 steps or not
 * at all, and a later restart would throw away too much work.
 */
const COLLAPSE_WINDOW_STEPS = 200;

/** Weight seeds of successive starts: far apart, because each layer takes the next seed. */
const RESTART_SEED_STRIDE = 7919;

export async function trainCish(
  source: SlideSource,
  grid: TileGrid,
  trainIndices: Uint32Array,
  options: CishTrainOptions = {},
): Promise<CishTrainOutcome> {
  const inputSize = options.inputSize ?? CISH_DEFAULTS.inputSize;
  const batchSize = options.batchSize ?? CISH_DEFAULTS.batchSize;
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const epochs = options.epochs ?? CISH_DEFAULTS.epochs;
  if (!(epochs >= 1 && Number.isInteger(epochs))) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  const spec = cishInputSpec(inputSize, options.preprocess);
  const batches = tileBatchProvider(source, grid, trainIndices, spec, { batchSize, seed: options.seed ?? 0 });
  const maxRestarts = options.models ? 0 : (options.maxRestarts ?? 2);
  const startedAt = performance.now();
  const overTime = () => options.timeLimitSeconds !== undefined && (performance.now() - startedAt) / 1000 >= options.timeLimitSeconds;
  // New models take their input standardisation and output bias from the
  // first batch of epoch 0, read (and cached) now instead of at step 0; it
  // is also the batch the collapse check encodes.
  const first = options.models ? null : await batches.getBatch(0, 0, options.signal);
  try {
    const statistics = first ? tileStatistics(first.xs) : null;
    for (let attempt = 0; ; attempt++) {
      let models = options.models;
      if (!models) {
        const seed = options.seed === undefined ? undefined : options.seed + attempt * RESTART_SEED_STRIDE;
        models = buildCishAutoencoder({
          latentDim: options.latentDim ?? CISH_DEFAULTS.latentDim,
          inputSize,
          seed,
          inputStatistics: statistics!,
        });
        initialiseOutputBias(models, statistics!.mean);
      }
      const restart = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, restart.signal]) : restart.signal;
      // Why the loop was told to stop after an epoch (trainModel's stopAfterEpoch), if it was.
      let stoppedBy: 'settled' | 'time-limit' | null = null;
      let bestLoss = Infinity;
      let firstLoss = NaN;
      let sinceBest = 0;
      const optimizer = tf.train.adam(options.learningRate ?? CISH_DEFAULTS.learningRate, 0.9, 0.999, CISH_DEFAULTS.adamEpsilon);
      let result: TrainResult;
      try {
        await loadCishPeers(options.peers ?? [], models, optimizer, options.loss);
        result = await trainModel({
          model: models.autoencoder,
          optimizer,
          loss: cishLoss(options.loss ?? CISH_DEFAULTS.loss),
          batches,
          epochs,
          onProgress: options.onProgress,
          onEpochEnd: async (summary) => {
            const early = summary.epoch === 0 || (summary.epoch + 1) * batches.stepsPerEpoch <= COLLAPSE_WINDOW_STEPS;
            if (early && attempt < maxRestarts && first && codeIsCollapsed(models, first.xs)) {
              restart.abort();
              return;
            }
            await options.onEpochEnd?.(summary, models);
            const stopping = options.earlyStopping;
            if (stopping) {
              if (Number.isNaN(firstLoss)) firstLoss = summary.loss;
              if (summary.loss < bestLoss * (1 - stopping.minRelativeDrop)) {
                bestLoss = summary.loss;
                sinceBest = 0;
              } else {
                bestLoss = Math.min(bestLoss, summary.loss);
                sinceBest++;
              }
            }
            // The last epoch ends the run anyway: it is no stop of ours.
            if (summary.epoch + 1 >= epochs) return;
            const learned = bestLoss <= firstLoss * (1 - (stopping?.minTotalDrop ?? 0));
            if (stopping && learned && sinceBest >= Math.max(1, stopping.patience)) stoppedBy = 'settled';
            else if (overTime()) stoppedBy = 'time-limit';
          },
          stopAfterEpoch: () => stoppedBy !== null,
          signal,
          control: options.control,
          peers: options.peers,
        });
      } finally {
        optimizer.dispose();
      }
      // A code that collapsed later than the early window (or that early
      // stopping settled on) is as useless: start again while starts remain.
      const collapsedAtEnd =
        !restart.signal.aborted && !options.signal?.aborted && attempt < maxRestarts && first !== null && codeIsCollapsed(models, first.xs);
      if ((restart.signal.aborted || collapsedAtEnd) && !options.signal?.aborted) {
        disposeCishModels(models);
        options.onRestart?.(attempt + 1);
        continue;
      }
      // stopAfterEpoch ends a run as 'completed'; a settled loss is an early stop.
      const stoppedByTimeLimit = stoppedBy === 'time-limit' && !options.signal?.aborted;
      if (stoppedBy === 'settled' && !options.signal?.aborted) result = { ...result, status: 'early-stopped' };
      return { models, result, restarts: attempt, stoppedByTimeLimit };
    }
  } finally {
    if (first) tf.dispose([first.xs, first.ys ?? []]);
  }
}

/**
 * Frees every weight of the three models. They share layer objects, and
 * LayersModel.dispose() reference-counts per model, so disposing the models
 * one by one either leaks the encoder's weights or double-frees; freeing the
 * autoencoder's variables (which include all layers) is exact.
 */
export function disposeCishModels(models: CishModels): void {
  for (const variable of models.autoencoder.weights) variable.dispose();
}

// ---------------------------------------------------------------- encoding

export async function encodeCishTiles(
  encoder: CishModels['encoder'],
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  options: {
    batchSize?: number;
    preprocess?: PreprocessOptions;
    signal?: AbortSignal;
    onProgress?: (done: number) => void;
    /** Copies of the model (loaded with its current weights by the caller) that encode every other batch. */
    peers?: readonly ReplicaPeer[];
  } = {},
): Promise<Float32Array> {
  const inputSize = encoder.inputs[0].shape[1] ?? CISH_DEFAULTS.inputSize;
  const spec = cishInputSpec(inputSize, options.preprocess);
  return encodeAll(
    cishEncodeFunction(encoder),
    tileBatches(source, grid, indices, spec, { batchSize: options.batchSize ?? CISH_ENCODE_BATCH, signal: options.signal }),
    { signal: options.signal, onProgress: options.onProgress, peers: options.peers },
  );
}

// ---------------------------------------------------------------- clustering

export interface CishClusterOptions {
  k?: number;
  m?: number;
  tol?: number;
  seed?: number;
  nInit?: number;
}

/** Seed 000 §4: FCM on the latent codes, with CISH_FCM_DEFAULTS where options are left out. */
export function clusterLatents(latents: Float32Array, latentDim: number, options: CishClusterOptions = {}): FcmResult {
  const d = CISH_FCM_DEFAULTS;
  return fcm(latents, latentDim, { k: options.k ?? d.k, m: options.m ?? d.m, tol: options.tol ?? d.tol, seed: options.seed ?? 0, nInit: options.nInit ?? d.nInit });
}

// ---------------------------------------------------------------- naming

/**
 * Mean optical density of each tile's non-glass pixels, read from an
 * overview with ~8 pixels across a tile (cheap on any slide). Chromogen
 * only adds density, so the denser tiles are the more expressing ones
 * whatever the stain's colour.
 */
export async function tileDensities(
  source: SlideSource,
  grid: TileGrid,
  indices: ArrayLike<number>,
  glassAbove: number | undefined,
  signal?: AbortSignal,
): Promise<Float64Array> {
  const overview = await readOverview(source, Math.max(1, (grid.tileSize * grid.downsample) / 8), signal);
  const { block, downsample } = overview;
  const fullScale = dtypeFullScale(block.dtype);
  const rgb = source.metadata.rgb && block.channels >= 3;
  const cut = glassAbove ?? Infinity;
  const out = new Float64Array(indices.length);
  for (let q = 0; q < indices.length; q++) {
    const i = indices[q];
    const x0 = Math.max(0, Math.floor(grid.x[i] / downsample));
    const y0 = Math.max(0, Math.floor(grid.y[i] / downsample));
    const x1 = Math.min(block.width, Math.max(x0 + 1, Math.round((grid.x[i] + grid.width[i]) / downsample)));
    const y1 = Math.min(block.height, Math.max(y0 + 1, Math.round((grid.y[i] + grid.height[i]) / downsample)));
    let sum = 0;
    let count = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const o = (y * block.width + x) * block.channels;
        const grey = rgb
          ? (0.2125 * block.data[o] + 0.7154 * block.data[o + 1] + 0.0721 * block.data[o + 2]) / fullScale
          : block.data[o] / fullScale;
        if (grey >= cut) continue;
        sum += -Math.log10(Math.max(1 / 255, grey));
        count++;
      }
    }
    out[q] = count ? sum / count : 0;
  }
  return out;
}
