/**
 * The CISH expression-mapping pipeline of seed 000 as separate, pure stages
 * over a SlideSource: tissue mask → tile grid → training → encoding →
 * fuzzy c-means. Workers run each stage as a job; the CLI and the tests call
 * them directly. Nothing here knows about threads or the DOM.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SlideMetadata, SlideSource } from '../../slide/types';
import { readOverview } from '../../slide/overview';
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
import { buildCishAutoencoder, initialiseOutputBias, type CishModels } from './model';
import { cishLoss } from './losses';
import { preprocessTile, type PreprocessOptions } from './preprocess';
import { CISH_DEFAULTS, type CishLossName } from './defaults';

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
  let level = 0;
  metadata.levels.forEach((info, i) => {
    if (tilePx0 / info.downsample >= inputSize * 0.99) level = i;
  });
  return level;
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
}

export async function trainCish(
  source: SlideSource,
  grid: TileGrid,
  trainIndices: Uint32Array,
  options: CishTrainOptions = {},
): Promise<{ models: CishModels; result: TrainResult }> {
  const inputSize = options.inputSize ?? CISH_DEFAULTS.inputSize;
  const batchSize = options.batchSize ?? CISH_DEFAULTS.batchSize;
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const epochs = options.epochs ?? CISH_DEFAULTS.epochs;
  if (!(epochs >= 1 && Number.isInteger(epochs))) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  const spec = cishInputSpec(inputSize, options.preprocess);
  const batches = tileBatchProvider(source, grid, trainIndices, spec, { batchSize, seed: options.seed ?? 0 });
  let models = options.models;
  if (!models) {
    models = buildCishAutoencoder({ latentDim: options.latentDim ?? CISH_DEFAULTS.latentDim, inputSize, seed: options.seed });
    // The first batch of epoch 0 is read (and cached) now instead of at step 0.
    const first = await batches.getBatch(0, 0, options.signal);
    try {
      initialiseOutputBias(models, first.xs);
    } finally {
      tf.dispose([first.xs, first.ys ?? []]);
    }
  }
  const optimizer = tf.train.adam(options.learningRate ?? CISH_DEFAULTS.learningRate, 0.9, 0.999, CISH_DEFAULTS.adamEpsilon);
  try {
    const result = await trainModel({
      model: models.autoencoder,
      optimizer,
      loss: cishLoss(options.loss ?? CISH_DEFAULTS.loss),
      batches,
      epochs,
      onProgress: options.onProgress,
      onEpochEnd: options.onEpochEnd ? (summary) => options.onEpochEnd!(summary, models) : undefined,
      signal: options.signal,
      control: options.control,
    });
    return { models, result };
  } finally {
    optimizer.dispose();
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
  options: { batchSize?: number; preprocess?: PreprocessOptions; signal?: AbortSignal; onProgress?: (done: number) => void } = {},
): Promise<Float32Array> {
  const inputSize = encoder.inputs[0].shape[1] ?? CISH_DEFAULTS.inputSize;
  const spec = cishInputSpec(inputSize, options.preprocess);
  return encodeAll(
    encoder,
    tileBatches(source, grid, indices, spec, { batchSize: options.batchSize ?? 64, signal: options.signal }),
    { signal: options.signal, onProgress: options.onProgress },
  );
}

// ---------------------------------------------------------------- clustering

export interface CishClusterOptions {
  k?: number;
  m?: number;
  tol?: number;
  seed?: number;
}

/** Seed 000 §4: FCM on the latent codes (K = 7, tol 0.005 by default). */
export function clusterLatents(latents: Float32Array, latentDim: number, options: CishClusterOptions = {}): FcmResult {
  return fcm(latents, latentDim, { k: options.k ?? 7, m: options.m ?? 2, tol: options.tol ?? 0.005, seed: options.seed ?? 0 });
}
