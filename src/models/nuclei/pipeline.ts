/**
 * The nucleus CAE's pipeline over a slide (seed 001, SPEC §2): 100 × 100 px
 * patches at 0.5 µm/px (read from the nearest pyramid level and resampled
 * when the slide's scale differs), training through the shared loop with
 * SGD + momentum on the pixel RMSE, and the inspection outputs per patch.
 * DOM-free: the analysis worker, the CLI and the tests run it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { disposeOptimizer, trainModel, type TrainProgress, type TrainResult, type EpochSummary, TrainingControl } from '../../engine/train';
import { readTileInputs, tileBatchProvider, type TileInputSpec } from '../../engine/tile-batches';
import type { ReplicaPeer } from '../../engine/data-parallel';
import { modelArtifacts, optimizerSpec } from '../../engine/data-parallel';
import { resizeArea } from '../../imaging/resize';
import type { PixelBlock, SlideMetadata, SlideSource } from '../../slide/types';
import { levelForDownsample } from '../../slide/overview';
import { computeTileGrid, type RegionOfInterest, type TileGrid, type TissueMask } from '../../tiling/tile-grid';
import { buildCspCae, rootMeanSquaredError, type CspCaeModels, type CspCaePreset } from './model';
import { detectPoints } from './postprocess';

export const NUCLEI_DEFAULTS = {
  /** The seed's scale (20× objective). */
  micronsPerPixel: 0.5,
  patchSize: 100,
  batchSize: 32,
  learningRate: 0.03,
  momentum: 0.9,
  /** The seed's loss converged in about 6 epochs (on 0.5 M patches). */
  epochs: 6,
  preset: 'sixteenth' as CspCaePreset,
} as const;

export interface NucleusPatchOptions {
  patchSize?: number;
  micronsPerPixel?: number;
  mppOverride?: number;
  /** Share of a patch that must be tissue (0 keeps every patch). */
  minTissueFraction?: number;
  roi?: RegionOfInterest;
}

/**
 * Non-overlapping patches of `patchSize` px at `micronsPerPixel` over the
 * tissue, read from the coarsest level that still has that resolution.
 */
export function computeNucleusPatches(metadata: SlideMetadata, mask: TissueMask | undefined, options: NucleusPatchOptions = {}): TileGrid {
  const patchSize = options.patchSize ?? NUCLEI_DEFAULTS.patchSize;
  const micronsPerPixel = options.micronsPerPixel ?? NUCLEI_DEFAULTS.micronsPerPixel;
  const mpp = options.mppOverride ?? metadata.mppX;
  if (!mpp) throw new RangeError(`${metadata.name}: the slide does not state its µm per pixel; set it to detect nuclei at ${micronsPerPixel} µm/px`);
  const patchUm = patchSize * micronsPerPixel;
  // The level whose pixels are at most micronsPerPixel wide (1 % slack for rounding in files).
  const level = levelForDownsample(metadata.levels, (micronsPerPixel / mpp) * 1.01);
  return computeTileGrid(
    metadata,
    { tileUm: patchUm, overlapUm: 0, minTissueFraction: options.minTissueFraction ?? 0.5, mppOverride: options.mppOverride, level },
    mask,
    options.roi,
  );
}

/** RGB in [0, 1], resampled to patchSize² (area averaging when shrinking). */
export function nucleusInputSpec(patchSize: number = NUCLEI_DEFAULTS.patchSize): TileInputSpec {
  return {
    inputSize: patchSize,
    inputChannels: 3,
    prepare: (block: PixelBlock) => patchInput(block, patchSize),
  };
}

export function patchInput(block: PixelBlock, patchSize: number): Float32Array {
  const { width, height, channels } = block;
  if (channels < 3) throw new Error(`nucleus detection needs RGB patches, got ${channels} channel${channels === 1 ? '' : 's'}`);
  const scale = block.dtype === 'uint16' ? 1 / 65535 : block.dtype === 'float32' ? 1 : 1 / 255;
  const out = new Float32Array(patchSize * patchSize * 3);
  for (let c = 0; c < 3; c++) {
    const plane = new Float32Array(width * height);
    for (let i = 0; i < width * height; i++) plane[i] = block.data[i * channels + c] * scale;
    const resized = width === patchSize && height === patchSize ? plane : resizeArea({ data: plane, width, height }, patchSize, patchSize).data;
    for (let i = 0; i < patchSize * patchSize; i++) out[i * 3 + c] = resized[i];
  }
  return out;
}

export interface CspCaeTrainOptions {
  preset?: CspCaePreset;
  patchSize?: number;
  batchSize?: number;
  epochs?: number;
  learningRate?: number;
  momentum?: number;
  seed?: number;
  /** Continue training these models (resume) instead of new ones. */
  models?: CspCaeModels;
  onProgress?: (p: TrainProgress) => void;
  onEpochEnd?: (summary: EpochSummary, models: CspCaeModels) => void | Promise<void>;
  signal?: AbortSignal;
  control?: TrainingControl;
  peers?: readonly ReplicaPeer[];
}

/** Trains the CSP-CAE on the given patches: SGD with momentum on the pixel RMSE (the seed's settings by default). */
export async function trainCspCae(
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  options: CspCaeTrainOptions = {},
): Promise<{ models: CspCaeModels; result: TrainResult }> {
  const patchSize = options.patchSize ?? NUCLEI_DEFAULTS.patchSize;
  const batchSize = options.batchSize ?? NUCLEI_DEFAULTS.batchSize;
  const epochs = options.epochs ?? NUCLEI_DEFAULTS.epochs;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  const learningRate = options.learningRate ?? NUCLEI_DEFAULTS.learningRate;
  if (!(learningRate > 0)) throw new RangeError(`learning rate must be positive, got ${learningRate}`);
  const models = options.models ?? buildCspCae({ preset: options.preset ?? NUCLEI_DEFAULTS.preset, inputSize: patchSize, seed: options.seed });
  const optimizer = tf.train.momentum(learningRate, options.momentum ?? NUCLEI_DEFAULTS.momentum);
  const peers = options.peers ?? [];
  try {
    if (peers.length > 0) {
      const spec = { artifacts: await modelArtifacts(models.autoencoder), optimizer: optimizerSpec(optimizer), adapter: 'csp-cae' };
      await Promise.all(peers.map((peer) => peer.load(spec)));
    }
    const result = await trainModel({
      model: models.autoencoder,
      optimizer,
      loss: rootMeanSquaredError,
      batches: tileBatchProvider(source, grid, indices, nucleusInputSpec(patchSize), { batchSize, seed: options.seed ?? 0 }),
      epochs,
      onProgress: options.onProgress,
      onEpochEnd: (summary) => options.onEpochEnd?.(summary, models),
      signal: options.signal,
      control: options.control,
      peers,
    });
    return { models, result };
  } finally {
    disposeOptimizer(optimizer);
  }
}

/** The seed's Fig. 4 for a batch of patches: detection map, foreground, background and their sum. */
export interface PatchInspection {
  /** [B, S/4, S/4] detection map D (0…1). */
  detection: Float32Array;
  mapSize: number;
  /** [B, S, S, 3] images. */
  foreground: Float32Array;
  background: Float32Array;
  reconstruction: Float32Array;
}

export function inspectPatches(models: CspCaeModels, patches: tf.Tensor4D): PatchInspection {
  return tf.tidy(() => {
    const [d, , fg, bg, recon] = models.inspector.apply(patches, { training: false }) as tf.Tensor[];
    return {
      detection: d.dataSync().slice() as Float32Array,
      mapSize: d.shape[1]!,
      foreground: fg.dataSync().slice() as Float32Array,
      background: bg.dataSync().slice() as Float32Array,
      reconstruction: recon.dataSync().slice() as Float32Array,
    };
  });
}

export interface NucleusDetectionOptions {
  /** Gaussian sigma on the upscaled map, in patch pixels. */
  sigma?: number;
  /** Minimum distance between nuclei, in patch pixels (peak_local_max's min_distance). */
  minDistance?: number;
  /** Peaks of the blurred map must exceed this (D lies in 0…1). */
  threshold?: number;
}

export const DETECTION_DEFAULTS = { sigma: 2, minDistance: 4, threshold: 0.3 } as const;

/** The network's outputs for a set of patches, kept so that points can be re-derived live (threshold, distance). */
export interface DetectionMaps {
  /** Patch ids of the grid, in order. */
  tiles: Uint32Array;
  /** Level-0 rectangle of each patch: x, y, width, height. */
  rects: Float64Array;
  patchSize: number;
  mapSize: number;
  /** Detection map per patch (D for the CAE, the probability map for the fine-tuned CNN), [tiles × mapSize²]. */
  maps: Float32Array;
  /** Features per map cell (the CAE's X′ unless the detector says otherwise), [tiles × mapSize² × featureDim]. */
  features: Float32Array;
  featureDim: number;
}

export interface DetectedNuclei {
  /** Level-0 pixel coordinates (pixel centres at +0.5) and the blurred map value. */
  x: Float32Array;
  y: Float32Array;
  score: Float32Array;
  /** The detector's features at each nucleus's map cell (the CAE's foreground features X′), n × dim row-major (the explorer's items). */
  features: Float32Array;
  featureDim: number;
  /** Nuclei per patch (same order as the maps' tiles), for counts and the density map. */
  perPatch: Uint32Array;
}

/**
 * What detection needs from a network: patches in, a detection map (0…1, a
 * quarter of the patch's side) and a feature vector per map cell out. The
 * unsupervised CAE (cspCaeDetector: D and X′) and the fine-tuned CNN
 * (finetune.ts, fineTunedDetector) both provide one, so that both go through
 * the same post-processing.
 */
export interface NucleusDetector {
  /** Patch side in px. */
  inputSize: number;
  /** Features per map cell. */
  featureDim: number;
  /**
   * [B, S, S, 3] patches (RGB in 0…1) → map [B, S/4, S/4, 1] and features
   * [B, S/4, S/4, featureDim], in inference mode. Called inside tf.tidy.
   */
  run(patches: tf.Tensor4D): { map: tf.Tensor; features: tf.Tensor };
}

/** Either network detection accepts: the unsupervised CAE's models, or any detector. */
export type NucleusNetwork = CspCaeModels | NucleusDetector;

const caeDetectors = new WeakMap<CspCaeModels, NucleusDetector>();

/**
 * The CAE as a detector: D and X′ from a model sharing the inspector's
 * layers that stops at the encoder (the decoders' images are not needed).
 */
export function cspCaeDetector(models: CspCaeModels): NucleusDetector {
  let detector = caeDetectors.get(models);
  if (detector === undefined) {
    const [detection, features] = models.inspector.outputs;
    const encoder = tfl.model({ inputs: models.inspector.inputs, outputs: [detection, features] });
    detector = {
      inputSize: models.inputSize,
      featureDim: (features.shape[3] ?? 1) as number,
      run(patches) {
        const [map, f] = encoder.apply(patches, { training: false }) as tf.Tensor[];
        return { map, features: f };
      },
    };
    caeDetectors.set(models, detector);
  }
  return detector;
}

function asDetector(network: NucleusNetwork): NucleusDetector {
  return 'run' in network ? network : cspCaeDetector(network);
}

/** Runs the network over the patches (inference only): detection maps and per-cell features (X′ for the CAE). */
export async function computeDetectionMaps(
  network: NucleusNetwork,
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  options: { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<DetectionMaps> {
  const detector = asDetector(network);
  const patchSize = detector.inputSize;
  const spec = nucleusInputSpec(patchSize);
  const batchSize = options.batchSize ?? 16;
  const mapSize = patchSize / 4;
  const featureDim = detector.featureDim;
  const maps = new Float32Array(indices.length * mapSize * mapSize);
  const features = new Float32Array(indices.length * mapSize * mapSize * featureDim);
  const rects = new Float64Array(indices.length * 4);
  for (let start = 0; start < indices.length; start += batchSize) {
    if (options.signal?.aborted) throw new DOMException('nucleus detection was cancelled', 'AbortError');
    const picked = indices.subarray(start, Math.min(indices.length, start + batchSize));
    const values = await readTileInputs(source, grid, picked, spec, options.signal);
    tf.tidy(() => {
      const input = tf.tensor4d(values, [picked.length, patchSize, patchSize, 3]);
      const { map, features: f } = detector.run(input);
      maps.set(map.dataSync(), start * mapSize * mapSize);
      features.set(f.dataSync(), start * mapSize * mapSize * featureDim);
    });
    picked.forEach((tile, b) => rects.set([grid.x[tile], grid.y[tile], grid.width[tile], grid.height[tile]], 4 * (start + b)));
    options.onProgress?.(Math.min(indices.length, start + batchSize), indices.length);
    await new Promise((resolve) => setTimeout(resolve, 0)); // let cancel messages in
  }
  return { tiles: Uint32Array.from(indices), rects, patchSize, mapSize, maps, features, featureDim };
}

/**
 * Nucleus points from detection maps (postprocess.detectPoints per patch),
 * in level-0 pixels; each point takes the feature vector (X′ for the CAE) of
 * the map cell it falls in. Patches do not overlap, so each point comes from one.
 */
export function nucleiFromMaps(d: DetectionMaps, options: NucleusDetectionOptions = {}): DetectedNuclei {
  const { sigma, minDistance, threshold } = { ...DETECTION_DEFAULTS, ...options };
  const { mapSize, patchSize, featureDim } = d;
  const scale = patchSize / mapSize;
  const xs: number[] = [];
  const ys: number[] = [];
  const scores: number[] = [];
  const features: number[] = [];
  const perPatch = new Uint32Array(d.tiles.length);
  for (let p = 0; p < d.tiles.length; p++) {
    const map = d.maps.subarray(p * mapSize * mapSize, (p + 1) * mapSize * mapSize);
    const points = detectPoints(map, mapSize, mapSize, { scale, sigma, minDistance, threshold });
    // Patch pixels → level-0 pixels.
    const toLevel0 = d.rects[4 * p + 2] / patchSize;
    perPatch[p] = points.x.length;
    for (let i = 0; i < points.x.length; i++) {
      const cx = Math.min(mapSize - 1, Math.floor(points.x[i] / scale));
      const cy = Math.min(mapSize - 1, Math.floor(points.y[i] / scale));
      xs.push(d.rects[4 * p] + points.x[i] * toLevel0);
      ys.push(d.rects[4 * p + 1] + points.y[i] * toLevel0);
      scores.push(points.score[i]);
      const cell = ((p * mapSize + cy) * mapSize + cx) * featureDim;
      for (let k = 0; k < featureDim; k++) features.push(d.features[cell + k]);
    }
  }
  return { x: Float32Array.from(xs), y: Float32Array.from(ys), score: Float32Array.from(scores), features: Float32Array.from(features), featureDim, perPatch };
}

/** computeDetectionMaps then nucleiFromMaps, with the CAE or any other detector (e.g. the fine-tuned CNN). */
export async function detectNuclei(
  network: NucleusNetwork,
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  options: NucleusDetectionOptions & { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<DetectedNuclei> {
  return nucleiFromMaps(await computeDetectionMaps(network, source, grid, indices, options), options);
}
