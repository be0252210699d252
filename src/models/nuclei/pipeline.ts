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
import { dtypeFullScale, type PixelBlock, type SlideMetadata, type SlideSource } from '../../slide/types';
import { levelForDownsample } from '../../slide/overview';
import { computeTileGrid, type RegionOfInterest, type TileGrid, type TissueMask } from '../../tiling/tile-grid';
import { buildCspCae, rootMeanSquaredError, type CspCaeModels, type CspCaePreset } from './model';
import { detectPoints, upscaleBilinear } from './postprocess';
import { perImagePercentile } from './threshold-layer';
import { gaussianBlur } from '../../imaging/gaussian';
import { STAIN_DETECTION_DEFAULTS, countBlobs, nuclearStainSignal, peaksInCore, smoothedSignal, stainDistanceMap, stainLevel, type NuclearStain } from './stain-detect';
import { tileRegion } from '../../tiling/tile-grid';

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

/**
 * Training until the loss and the threshold t have settled (issue 15): the
 * seed trains about 6 epochs on 0.5 M patches; a fixed 2 epochs on a few
 * hundred patches left t at 77 % of its way from 0 (running average,
 * α = 0.1, 14 steps) and batch norm's moving statistics far from the
 * batches', so that at inference D′ never crossed t (0 to 13 detections on
 * fields of 700–1100 nuclei). Training now stops when both the epoch loss
 * and t change by less than their tolerances between epochs, at the epoch
 * limit, or at the time cap, whichever comes first; then t is recalibrated
 * on inference-mode D′ (calibrateThreshold).
 */
export const SETTLE_DEFAULTS = {
  /** Patches drawn at random for training. */
  trainPatches: 256,
  maxEpochs: 30,
  /** Fewest epochs before "settled" can be declared. */
  minEpochs: 3,
  /** Wall-clock cap on training, seconds (shown before training starts). */
  timeCapSeconds: 120,
  /** Relative change of the epoch loss under which it counts as settled. */
  lossTolerance: 0.02,
  /** Relative change of t under which it counts as settled. */
  thresholdTolerance: 0.03,
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
  const scale = 1 / dtypeFullScale(block.dtype);
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
  /**
   * Stop once the loss and t have settled (see SETTLE_DEFAULTS), or at the
   * time cap; `epochs` is then the upper limit. Off when absent.
   */
  untilSettled?: { minEpochs?: number; timeCapSeconds?: number; lossTolerance?: number; thresholdTolerance?: number };
}

/** How a settle-aware training run ended. */
export type SettleStop = 'settled' | 'time-cap' | 'max-epochs';

/** Per-epoch loss and t, and why training stopped (untilSettled runs). */
export interface SettleReport {
  losses: number[];
  thresholds: number[];
  stopped: SettleStop;
  seconds: number;
  timeCapSeconds: number;
}

/** Trains the CSP-CAE on the given patches: SGD with momentum on the pixel RMSE (the seed's settings by default). */
export async function trainCspCae(
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  options: CspCaeTrainOptions = {},
): Promise<{ models: CspCaeModels; result: TrainResult; settle?: SettleReport }> {
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
    const settle = options.untilSettled;
    const losses: number[] = [];
    const thresholds: number[] = [];
    let stopped: SettleStop = 'max-epochs';
    const started = performance.now();
    const cap = settle?.timeCapSeconds ?? SETTLE_DEFAULTS.timeCapSeconds;
    // The time cap also ends an epoch midway: one epoch can be long on a CPU.
    const capController = new AbortController();
    const onUserAbort = () => capController.abort();
    options.signal?.addEventListener('abort', onUserAbort, { once: true });
    const timer = settle ? setTimeout(() => capController.abort(), cap * 1000) : undefined;
    const elapsed = () => (performance.now() - started) / 1000;
    let result: TrainResult;
    try {
      result = await trainModel({
        model: models.autoencoder,
        optimizer,
        loss: rootMeanSquaredError,
        batches: tileBatchProvider(source, grid, indices, nucleusInputSpec(patchSize), { batchSize, seed: options.seed ?? 0 }),
        epochs,
        onProgress: options.onProgress,
        onEpochEnd: (summary) => {
          losses.push(summary.loss);
          thresholds.push(models.threshold.thresholdValue);
          return options.onEpochEnd?.(summary, models);
        },
        stopAfterEpoch: settle
          ? () => {
              const e = losses.length;
              if (e >= (settle.minEpochs ?? SETTLE_DEFAULTS.minEpochs)) {
                const dl = Math.abs(losses[e - 1] - losses[e - 2]) / Math.max(1e-9, Math.abs(losses[e - 2]));
                const dt = Math.abs(thresholds[e - 1] - thresholds[e - 2]) / Math.max(0.1, Math.abs(thresholds[e - 1]));
                if (dl < (settle.lossTolerance ?? SETTLE_DEFAULTS.lossTolerance) && dt < (settle.thresholdTolerance ?? SETTLE_DEFAULTS.thresholdTolerance)) {
                  stopped = 'settled';
                  return true;
                }
              }
              if (elapsed() >= cap) {
                stopped = 'time-cap';
                return true;
              }
              return false;
            }
          : undefined,
        signal: settle ? capController.signal : options.signal,
        control: options.control,
        peers,
      });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onUserAbort);
    }
    if (options.signal?.aborted) throw new DOMException('training was cancelled', 'AbortError');
    if (settle && result.status === 'cancelled') {
      // Only the cap aborts capController without the user's signal.
      stopped = 'time-cap';
      result = { ...result, status: 'completed' };
    }
    return { models, result, settle: settle ? { losses, thresholds, stopped, seconds: elapsed(), timeCapSeconds: cap } : undefined };
  } finally {
    disposeOptimizer(optimizer);
  }
}

/**
 * Sets t from inference-mode D′ over the given patches: the mean over
 * patches of each one's (100 − p)-th percentile, the quantity training's
 * running average follows. After a short run batch norm's moving statistics
 * differ from the batches' and inference D′ lies elsewhere than the t
 * learned in training mode (on eval variant nuc-02 after 2 epochs: inference
 * D′ spanned 0.11–0.15, t = 0.73, so D = 0 everywhere). Returns t before and after.
 */
export async function calibrateThreshold(models: CspCaeModels, source: SlideSource, grid: TileGrid, indices: Uint32Array, options: { batchSize?: number; signal?: AbortSignal } = {}): Promise<{ before: number; after: number }> {
  const before = models.threshold.thresholdValue;
  const raw = models.threshold.input as tfl.SymbolicTensor;
  const encoder = tfl.model({ inputs: models.autoencoder.inputs, outputs: raw });
  const spec = nucleusInputSpec(models.inputSize);
  const batchSize = options.batchSize ?? 16;
  const p = models.threshold.sparsityPercent;
  let sum = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const picked = indices.subarray(start, Math.min(indices.length, start + batchSize));
    const values = await readTileInputs(source, grid, picked, spec, options.signal);
    sum += tf.tidy(() => {
      const d = encoder.apply(tf.tensor4d(values, [picked.length, models.inputSize, models.inputSize, 3]), { training: false }) as tf.Tensor;
      return tf.sum(perImagePercentile(d, 100 - p)).dataSync()[0];
    });
  }
  const after = indices.length > 0 ? sum / indices.length : before;
  models.threshold.setThresholdValue(after);
  return { before, after };
}

/**
 * Downscale of the tissue mask for nucleus detection: the seed-000 mask
 * works at 1/20 scale with a blur of σ = 10 and an erosion disk of 15 mask
 * pixels (200 and 300 px at full scale), sizes meant for whole slides; on a
 * field of 900² px it left out a third of the tissue (eval variant nuc-02:
 * 469 of 706 nuclei in the patches it kept). Fields under 10 000 px a side
 * get a finer mask, so the blur and the erosion stay a few per cent of the
 * field: max side / 500, between 2 and 20.
 */
export function nucleusMaskDownscale(width: number, height: number): number {
  return Math.min(20, Math.max(2, Math.round(Math.max(width, height) / 500)));
}

/** What the stain side of detection needs: which stain and the level that separates nuclei from the rest. */
export interface StainSettings {
  stain: NuclearStain;
  level: number;
  /** Context read around each patch, px at the patch scale (default 24). */
  margin?: number;
}

/** Reads a patch with `margin` px of context on every side, as RGB 0…1 of (patchSize + 2·margin)². */
async function readPaddedPatch(source: SlideSource, grid: TileGrid, tile: number, patchSize: number, margin: number, signal?: AbortSignal): Promise<Float32Array> {
  const region = tileRegion(grid, tile);
  const pad = Math.round((margin * grid.tileSize) / patchSize);
  const block = await source.readRegion({ ...region, x: region.x - pad, y: region.y - pad, width: region.width + 2 * pad, height: region.height + 2 * pad }, signal);
  return patchInput(block, patchSize + 2 * margin);
}

/**
 * The level of the nuclear stain, from the data: Otsu over the (smoothed)
 * signal of up to `maxPatches` of the given patches (stainLevel).
 */
export async function estimateStainLevel(source: SlideSource, grid: TileGrid, indices: Uint32Array, stain: NuclearStain, options: { patchSize?: number; maxPatches?: number; signal?: AbortSignal } = {}): Promise<number> {
  const patchSize = options.patchSize ?? NUCLEI_DEFAULTS.patchSize;
  const step = Math.max(1, Math.floor(indices.length / (options.maxPatches ?? 64)));
  const parts: Float32Array[] = [];
  for (let i = 0; i < indices.length; i += step) {
    const rgb = await readPaddedPatch(source, grid, indices[i], patchSize, 0, options.signal);
    parts.push(smoothedSignal(nuclearStainSignal(rgb, patchSize * patchSize, stain), patchSize, patchSize));
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return stainLevel(all);
}

/**
 * Brightfield or fluorescence, from the pixels of an overview: in
 * brightfield the brightest channel of most pixels is high (glass, pink,
 * purple), in a fluorescence image most pixels are dark. Below 0.35 (of the
 * full scale) for the median pixel: fluorescence.
 */
export function guessNuclearStain(block: PixelBlock, rgb: boolean): NuclearStain {
  if (!rgb) return 'fluorescence';
  const { data, channels } = block;
  const scale = 1 / dtypeFullScale(block.dtype);
  const values: number[] = [];
  const n = block.width * block.height;
  const step = Math.max(1, Math.floor(n / 20000));
  for (let i = 0; i < n; i += step) {
    let m = data[i * channels];
    for (let c = 1; c < Math.min(3, channels); c++) m = Math.max(m, data[i * channels + c]);
    values.push(m * scale);
  }
  values.sort((a, b) => a - b);
  return values.length > 0 && values[Math.floor(values.length / 2)] < 0.35 ? 'fluorescence' : 'hematoxylin';
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
  /** Peaks of the blurred map must exceed this (D lies in 0…1). Used by the 'cae' detector. */
  threshold?: number;
  /**
   * Where points come from when the maps carry the nuclear stain:
   * 'stain': peaks of the stain's distance map; 'combined': the same map
   * weighted by the CAE's blurred D (score = distance · (w + (1 − w)·D));
   * 'cae': peaks of D alone (the seed's post-processing), gated by the stain
   * so that no point lands off a nucleus. Without the stain, always 'cae'.
   */
  detector?: NucleusPointSource;
  /** w of the 'combined' detector (0…1): the share of the score that does not depend on D. */
  caeFloor?: number;
}

export type NucleusPointSource = 'stain' | 'combined' | 'cae';

/**
 * 'stain' is the default by measurement (issue 15; a deviation from seed 001,
 * see stain-detect.ts): on eval variant nuc-02 with the CLI's defaults
 * (120 s of training) F1 was 0.945 for 'stain', 0.941 for 'combined' and
 * 0.07 for 'cae'; over the 15 generated variants 'stain' reaches a median
 * of 0.957 and a worst case of 0.889.
 */

export const DETECTION_DEFAULTS = { sigma: 2, minDistance: 4, threshold: 0.3, detector: 'stain' as NucleusPointSource, caeFloor: 0.5 } as const;

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
  /**
   * The nuclear stain around each patch (when detection was asked for it):
   * the smoothed distance to the edge of the nuclear mask, in px × 8 clamped
   * to 255, over the patch plus `border` px each side (side = patchSize +
   * 2·border), and the number of stain blobs whose centroid lies in the patch.
   */
  stain?: { stain: NuclearStain; level: number; border: number; side: number; distance: Uint8Array; blobs: Uint16Array };
  /**
   * Where points come from unless the caller says otherwise: 'cae' for the
   * maps of a fine-tuned detection CNN (learned from the user's annotations,
   * so its map, gated by the stain, is what to use); default DETECTION_DEFAULTS.detector.
   */
  defaultDetector?: NucleusPointSource;
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
  /** Separate stain blobs over the patches (when the maps carry the stain): the independent estimate for checkCount. */
  stainEstimate?: number;
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
  options: { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void; stain?: StainSettings; defaultDetector?: NucleusPointSource } = {},
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
  const stainSettings = options.stain;
  const border = STAIN_DETECTION_DEFAULTS.minDistance;
  const side = patchSize + 2 * border;
  const stainMaps = stainSettings ? new Uint8Array(indices.length * side * side) : undefined;
  const blobs = new Uint16Array(stainSettings ? indices.length : 0);
  for (let start = 0; start < indices.length; start += batchSize) {
    if (options.signal?.aborted) throw new DOMException('nucleus detection was cancelled', 'AbortError');
    const picked = indices.subarray(start, Math.min(indices.length, start + batchSize));
    picked.forEach((tile, b) => rects.set([grid.x[tile], grid.y[tile], grid.width[tile], grid.height[tile]], 4 * (start + b)));
    if (stainSettings && stainMaps) {
      const margin = stainSettings.margin ?? STAIN_DETECTION_DEFAULTS.margin;
      const full = patchSize + 2 * margin;
      for (let b = 0; b < picked.length; b++) {
        const rgb = await readPaddedPatch(source, grid, picked[b], patchSize, margin, options.signal);
        const smooth = smoothedSignal(nuclearStainSignal(rgb, full * full, stainSettings.stain), full, full);
        const { distance, mask } = stainDistanceMap(smooth, full, full, stainSettings.level);
        const off = (start + b) * side * side;
        for (let y = 0; y < side; y++)
          for (let x = 0; x < side; x++) {
            const v = distance[(y + margin - border) * full + x + margin - border] * 8;
            stainMaps[off + y * side + x] = v > 255 ? 255 : Math.round(v);
          }
        const minArea = Math.PI * STAIN_DETECTION_DEFAULTS.minRadius ** 2;
        blobs[start + b] = Math.min(65535, countBlobs(mask, full, full, margin, margin + patchSize, minArea));
      }
    }
    // With the stain, a batch without any nuclear-stain blob (glass) skips the network.
    const anyStain = !stainSettings || blobs.subarray(start, start + picked.length).some((v) => v > 0);
    if (anyStain) {
      const values = await readTileInputs(source, grid, picked, spec, options.signal);
      tf.tidy(() => {
        const input = tf.tensor4d(values, [picked.length, patchSize, patchSize, 3]);
        const { map, features: f } = detector.run(input);
        maps.set(map.dataSync(), start * mapSize * mapSize);
        features.set(f.dataSync(), start * mapSize * mapSize * featureDim);
      });
    }
    options.onProgress?.(Math.min(indices.length, start + batchSize), indices.length);
    await new Promise((resolve) => setTimeout(resolve, 0)); // let cancel messages in
  }
  const stain = stainSettings && stainMaps ? { stain: stainSettings.stain, level: stainSettings.level, border, side, distance: stainMaps, blobs } : undefined;
  return { tiles: Uint32Array.from(indices), rects, patchSize, mapSize, maps, features, featureDim, stain, defaultDetector: options.defaultDetector };
}

/**
 * Nucleus points from detection maps (postprocess.detectPoints per patch),
 * in level-0 pixels; each point takes the feature vector (X′ for the CAE) of
 * the map cell it falls in. Patches do not overlap, so each point comes from one.
 */
export function nucleiFromMaps(d: DetectionMaps, options: NucleusDetectionOptions = {}): DetectedNuclei {
  const { sigma, minDistance, threshold, caeFloor } = { ...DETECTION_DEFAULTS, ...options };
  const detector = d.stain ? (options.detector ?? d.defaultDetector ?? DETECTION_DEFAULTS.detector) : 'cae';
  const { mapSize, patchSize, featureDim } = d;
  const scale = patchSize / mapSize;
  const xs: number[] = [];
  const ys: number[] = [];
  const scores: number[] = [];
  const features: number[] = [];
  const perPatch = new Uint32Array(d.tiles.length);
  const stain = d.stain;
  const side = stain?.side ?? 0;
  const border = stain?.border ?? 0;
  let blobs = 0;
  for (let p = 0; p < d.tiles.length; p++) {
    const map = d.maps.subarray(p * mapSize * mapSize, (p + 1) * mapSize * mapSize);
    let points: { x: ArrayLike<number>; y: ArrayLike<number>; score: ArrayLike<number> };
    const distanceAt = (x: number, y: number) => stain!.distance[p * side * side + Math.floor(y + border) * side + Math.floor(x + border)] / 8;
    if (stain) blobs += stain.blobs[p];
    if (detector === 'cae') {
      const found = detectPoints(map, mapSize, mapSize, { scale, sigma, minDistance, threshold });
      if (stain) {
        // Gate: a point must lie on the nuclear stain (never on glass or stroma).
        const keep = Array.from(found.x, (_, i) => i).filter((i) => distanceAt(found.x[i], found.y[i]) > 0);
        points = { x: keep.map((i) => found.x[i]), y: keep.map((i) => found.y[i]), score: keep.map((i) => found.score[i]) };
      } else points = found;
    } else {
      const score = new Float32Array(side * side);
      for (let i = 0; i < score.length; i++) score[i] = stain!.distance[p * side * side + i] / 8;
      if (detector === 'combined') {
        const up = upscaleBilinear(map, mapSize, mapSize, scale);
        const blurred = sigma > 0 ? gaussianBlur(up, sigma).data : up.data;
        for (let y = 0; y < side; y++) {
          const yy = Math.min(patchSize - 1, Math.max(0, y - border));
          for (let x = 0; x < side; x++) {
            const xx = Math.min(patchSize - 1, Math.max(0, x - border));
            score[y * side + x] *= caeFloor + (1 - caeFloor) * blurred[yy * patchSize + xx];
          }
        }
      }
      const floor = detector === 'combined' ? caeFloor : 1;
      const peaks = peaksInCore(score, side, side, border, border + patchSize, STAIN_DETECTION_DEFAULTS.minDistance, STAIN_DETECTION_DEFAULTS.minRadius * floor);
      points = { x: peaks.map((q) => q.x - border), y: peaks.map((q) => q.y - border), score: peaks.map((q) => q.score) };
    }
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
  return {
    x: Float32Array.from(xs),
    y: Float32Array.from(ys),
    score: Float32Array.from(scores),
    features: Float32Array.from(features),
    featureDim,
    perPatch,
    stainEstimate: stain ? blobs : undefined,
  };
}

/** computeDetectionMaps then nucleiFromMaps, with the CAE or any other detector (e.g. the fine-tuned CNN). */
export async function detectNuclei(
  network: NucleusNetwork,
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  options: NucleusDetectionOptions & { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void; stain?: StainSettings; defaultDetector?: NucleusPointSource } = {},
): Promise<DetectedNuclei> {
  return nucleiFromMaps(await computeDetectionMaps(network, source, grid, indices, options), options);
}
