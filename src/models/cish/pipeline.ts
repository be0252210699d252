/**
 * The CISH expression-mapping pipeline of seed 000 as separate, pure stages
 * over a SlideSource: tissue mask → tile grid → training → encoding →
 * fuzzy c-means. Workers run each stage as a job; the CLI and the tests call
 * them directly. Nothing here knows about threads or the DOM.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SlideMetadata, SlideSource } from '../../slide/types';
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
}

export interface CishMaskResult {
  mask: TissueMask;
  threshold: number;
  polarity: 'dark' | 'bright';
  /** True when the large erosion removed everything and the filled mask was kept. */
  seedWasEmpty: boolean;
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
  return {
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
          },
          signal,
          control: options.control,
          peers: options.peers,
        });
      } finally {
        optimizer.dispose();
      }
      if (restart.signal.aborted && !options.signal?.aborted) {
        disposeCishModels(models);
        options.onRestart?.(attempt + 1);
        continue;
      }
      return { models, result, restarts: attempt };
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
