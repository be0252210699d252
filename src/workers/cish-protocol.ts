/**
 * Messages between the main thread and the CISH analysis worker. Everything
 * here is plain data or typed arrays (transferred where the sender gives
 * them up); tensors never cross.
 */
import type { CishModelMeta, PreprocessParams } from '../models/cish/metadata';
import type { BackendName } from '../engine/backend';
import type { CishLossName } from '../models/cish/defaults';
import type { Projection } from '../analysis/projection';
import type { CspCaePreset } from '../models/nuclei/model';
import type { PatchInspectionImages } from '../models/nuclei/inspect';
import type { PlannedChoices, TrainingPlan } from '../models/classifier/plan';
import { CHECKPOINT_ID, storedModelUrl, type ModelFiles, type ModelKind, type StoredModelInfo } from '../engine/model-store';

export type { PatchInspectionImages };

export interface BackendReport {
  backend: BackendName;
  reason: string;
}

export interface MaskParams {
  /** Downscale of the mask relative to level 0 (seed: 20). */
  downscale: number;
}

export interface MaskData {
  data: Uint8Array;
  width: number;
  height: number;
  /** Level-0 px per mask px. */
  downsample: number;
}

export interface MaskResult extends MaskData {
  threshold: number;
  polarity: 'dark' | 'bright';
  seedWasEmpty: boolean;
  /** Grey level (0–1) above which a pixel inside a tissue tile counts as glass; absent when the slide shows no glass. */
  glassAbove?: number;
}

export interface TileParams {
  tileUm: number;
  overlapUm: number;
  minTissueFraction: number;
  /** Training tiles drawn at random (seeded) from the kept tiles. */
  trainCount: number;
  seed: number;
  mppOverride?: number;
  /** When set, the training tiles are the kept tiles whose centre lies in this level-0 polygon [x0, y0, x1, y1, …] instead. */
  trainRegion?: number[];
}

/** The tile grid as columns (level-0 px), one entry per lattice tile. */
export interface TileColumns {
  x: Float64Array;
  y: Float64Array;
  width: Float64Array;
  height: Float64Array;
  tissueFraction: Float32Array;
  /** Indices of kept tiles, ascending. */
  kept: Uint32Array;
  /** Indices of the training sample (subset of kept). */
  train: Uint32Array;
  /** Centre-to-centre step in level-0 px (for mosaic maps). */
  stride0: number;
  tileSize0: number;
  columns: number;
  rows: number;
  mpp: number;
}

export type { CishModelMeta, PreprocessParams };

export interface TrainParams {
  latentDim: number;
  loss: CishLossName;
  batchSize: number;
  /** The most epochs (training stops sooner when the loss settles). */
  epochs: number;
  learningRate: number;
  seed: number;
  preprocess: PreprocessParams;
  /** Epochs without a 1 % lower loss before training stops as settled (CISH_RUN_DEFAULTS); 0 or absent = every epoch. */
  patience?: number;
  /** Training stops at the first epoch end after this many minutes; 0 or absent = no limit. */
  maxMinutes?: number;
}

export interface TrainStep {
  epoch: number;
  step: number;
  stepsPerEpoch: number | null;
  loss: number;
  etaSeconds: number | null;
  /** Total epochs of this run (resumed runs count the earlier ones too). */
  epochs: number;
  epochOffset: number;
}

export interface EpochEnd {
  /** 0-based, counting earlier checkpointed epochs. */
  epoch: number;
  loss: number;
  seconds: number;
  /** IndexedDB URL of the checkpoint written at this epoch end ('' when saving failed). */
  checkpointUrl: string;
}

export interface TrainCallbacks {
  onStep(step: TrainStep): void;
  onEpoch(epoch: EpochEnd): void;
  /** A new model's code collapsed in its first epoch; training starts again from new weights. */
  onRestart(attempt: number): void;
}

export interface TrainOutcome {
  modelId: string;
  modelUrl: string;
  status: 'completed' | 'early-stopped' | 'cancelled';
  /** Mean loss per epoch (the whole run, resumed epochs included). */
  history: Float32Array;
  /** Starts thrown away because the code collapsed (see trainCish). */
  restarts: number;
  /** Training ended at `maxMinutes`, not because the loss settled. */
  stoppedByTimeLimit: boolean;
}

/** Codes of every kept tile, and what names the clusters. */
export interface EncodeOutcome {
  /**
   * n×dim codes with the code layer's LeakyReLU undone (unsquashCodes): what
   * FCM clusters and the explorer plots, as in the command line's analyze.
   */
  latents: Float32Array;
  dim: number;
  /** Mean optical density of each kept tile's tissue (tileDensities): clusters are named in its order. */
  densities: Float64Array;
}

export interface ResumeFrom {
  checkpointUrl: string;
  epochsDone: number;
  history: number[];
}

/** Nucleus CAE training (seed 001; SGD with momentum 0.9 on the pixel RMSE). */
export interface NucleiTrainParams {
  /** The slide's fingerprint: the saved model is filed under it. */
  fingerprint: string;
  preset: CspCaePreset;
  epochs: number;
  trainPatches: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export interface NucleiTrainStep {
  epoch: number;
  step: number;
  stepsPerEpoch: number | null;
  loss: number;
  etaSeconds: number | null;
}

export interface NucleiModelInfo {
  /** Where it is stored (IndexedDB); null when it could not be saved. */
  url: string | null;
  modelId: string;
  preset: CspCaePreset;
  parameters: number;
  /** The frozen threshold t of the detection map. */
  threshold: number;
  /** RMSE per epoch. */
  history: Float32Array;
  patches: number;
}

export interface NucleiPointParams {
  threshold: number;
  minDistance: number;
  sigma: number;
}

/** What a classifier (seed 002: Mobincep or OrgaNet) learns from: labelled rectangles of the slide, or image files laid out as <class>/<image> (zips are expanded). */
export type ClassifierExamples =
  | {
      kind: 'regions';
      classes: string[];
      /** n × 4 level-0 x, y, width, height, and each one's class. */
      rects: Float64Array;
      labels: Int32Array;
    }
  | { kind: 'images'; files: { path: string; blob: Blob }[] };

export interface ClassifierTrainRequest {
  arch: 'mobincep' | 'organet';
  examples: ClassifierExamples;
  /** How each image is standardised (see ClassifierInputSpec). */
  normalisation: 'image' | 'channel' | 'none';
  /**
   * Network input side and width multiplier (1 = the paper's network),
   * epochs, batch, patience (epochs without a better validation loss) and
   * learning rate. Each one left out is planned from timed steps so that the
   * run fits `budgetSeconds` (models/classifier/plan.ts), as the command line does.
   */
  inputSize?: number;
  width?: number;
  epochs?: number;
  batchSize?: number;
  patience?: number;
  learningRate?: number;
  /** Time budget of the planned run (default 10 minutes). */
  budgetSeconds?: number;
  augment: boolean;
  seed: number;
  /** The slide's fingerprint: the saved model is filed under it. */
  fingerprint: string;
}

/** The plan a classifier trains by, shown before training starts. */
export type ClassifierPlanInfo = PlannedChoices & Pick<TrainingPlan, 'estimatedSeconds' | 'timeCapSeconds' | 'summary' | 'warnings'>;

export interface ClassifierTrainStep {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number | null;
  loss: number;
  valLoss: number | null;
  etaSeconds: number | null;
}

export interface RocCurveData {
  fpr: Float64Array;
  tpr: Float64Array;
  auc: number;
}

/** Scores on the held-out test part (20 %) of the labelled examples. */
export interface ClassifierMetrics {
  accuracy: number;
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
  support: Int32Array;
  /** K × K, rows = true class. */
  confusion: Int32Array;
  perClassRoc: RocCurveData[];
  microRoc: RocCurveData;
  macroAuc: number;
  /** Self-checks that fired (issue 15: loss flat, one class predicted, time cap; models/classifier/checks.ts). */
  checks?: import('../analysis/self-checks').SelfCheck[];
}

export interface ClassifierInfo {
  arch: 'mobincep' | 'organet';
  classes: string[];
  parameters: number;
  inputSize: number;
  channels: 1 | 3;
  width: number;
  /** Training and validation loss per epoch. */
  loss: Float32Array;
  valLoss: Float32Array;
  epochsRun: number;
  stoppedEarly: boolean;
  split: { train: number; validation: number; test: number };
  /** Null for a classifier loaded from storage (its test scores are not kept with it). */
  metrics: ClassifierMetrics | null;
  url: string | null;
  modelId: string;
}

export interface ClassifyOutcome {
  predicted: Int32Array;
  /** n × classes. */
  probabilities: Float32Array;
  /** n × featureDim: the penultimate features (Mobincep) or the latent (OrgaNet). */
  features: Float32Array;
  featureDim: number;
}

/** Fine-tuning of the detection CNN from point annotations (seed 001 §5.3). */
export interface NucleiFineTuneParams {
  /** Epochs of the added layers alone, then of the whole network (defaults: FINETUNE_DEFAULTS). */
  headEpochs?: number;
  epochs?: number;
  seed: number;
}

export interface NucleiFineTuneStep {
  /** Over both phases (the added layers, then all layers). */
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number | null;
  loss: number;
  phase: 'head' | 'all';
}

export interface NucleiFineTuneOutcome {
  patches: number;
  points: number;
  loss: number;
}

export interface NucleiDetectParams extends NucleiPointParams {
  /** Detect with the fine-tuned CNN when the slide has one. */
  fineTuned?: boolean;
  /** Level-0 rectangle x, y, width, height; null: the whole slide. */
  roi: [number, number, number, number] | null;
}

export interface NucleiDetections {
  /** Level-0 px. */
  x: Float32Array;
  y: Float32Array;
  score: Float32Array;
  features: Float32Array;
  featureDim: number;
  /** The patches looked at (x, y, width, height, level-0 px) and the nuclei found in each. */
  patchRects: Float64Array;
  perPatch: Uint32Array;
  /** Self-checks that fired (issue 15: e.g. the count far from the nuclear-stain estimate). */
  checks?: import('../analysis/self-checks').SelfCheck[];
}

/** UMAP settings (umap-learn's names); see analysis/projection.ts. */
export interface UmapParams {
  seed: number;
  nNeighbors: number;
  minDist: number;
}

export interface ClusterParams {
  /** Fuzzy c-means (the seed's) or k-means (hard clusters; memberships are one-hot). */
  method: 'fcm' | 'kmeans';
  k: number;
  m: number;
  tol: number;
  seed: number;
  /** Random starts; the lowest objective wins (see fcm()). */
  nInit: number;
}

export interface ClusterOutcome {
  /** n×K row-major memberships. */
  memberships: Float32Array;
  labels: Int32Array;
  /** K×d centres. */
  centres: Float64Array;
  fpc: number;
  iterations: number;
  converged: boolean;
}

export interface FpcCurve {
  k: Int32Array;
  fpc: Float64Array;
}

export type { ModelFiles, ModelKind, StoredModelInfo } from '../engine/model-store';

/** Metadata saved inside model.json (userDefinedMetadata) so a model carries its preprocessing. */
export interface CishWorkerApi {
  init(): Promise<BackendReport>;
  open(slideId: string, file: Blob, name: string): Promise<void>;
  close(slideId: string): Promise<void>;
  mask(slideId: string, params: MaskParams, jobId: string): Promise<MaskResult>;
  tiles(slideId: string, params: TileParams, mask: MaskData | null): Promise<TileColumns>;
  train(
    slideId: string,
    fingerprint: string,
    params: TrainParams,
    callbacks: TrainCallbacks,
    jobId: string,
    resume?: ResumeFrom,
  ): Promise<TrainOutcome>;
  pause(jobId: string): void;
  resume(jobId: string): void;
  cancel(jobId: string): void;
  /** Encodes every kept tile with the slide's current model; n×d latents. */
  /** `glassAbove`: the slide's glass level (its mask's), left out of the tile densities. */
  encode(slideId: string, onProgress: (done: number, total: number) => void, jobId: string, glassAbove?: number): Promise<EncodeOutcome>;
  /** Cancellable: cancel(jobId) stops it between FCM iterations or k-means starts. */
  cluster(latents: Float32Array, dim: number, params: ClusterParams, jobId: string): Promise<ClusterOutcome>;
  fpcSweep(latents: Float32Array, dim: number, params: Omit<ClusterParams, 'k'>, kMin: number, kMax: number, jobId: string): Promise<FpcCurve>;
  /** Trains the nucleus CAE (seed 001) on patches of the slide's tissue; it becomes the slide's nucleus model. */
  trainNuclei(slideId: string, params: NucleiTrainParams, onStep: (p: NucleiTrainStep) => void, jobId: string): Promise<NucleiModelInfo>;
  /** Detects nuclei in a level-0 rectangle (or the whole slide) with the slide's nucleus model; keeps the maps. */
  detectNuclei(slideId: string, params: NucleiDetectParams, onProgress: (done: number, total: number) => void, jobId: string): Promise<NucleiDetections>;
  /** Points again from the kept maps with other post-processing settings (fast: no network). */
  redetectNuclei(slideId: string, params: NucleiPointParams): Promise<NucleiDetections>;
  /** The seed's Fig. 4 for the detection patch holding level-0 point (x, y): input, D, foreground, background, reconstruction. */
  inspectNucleusPatch(slideId: string, x: number, y: number): Promise<PatchInspectionImages>;
  /** UMAP of the latents to 2-D for the scatter (PCA needs no worker). */
  project(
    latents: Float32Array,
    dim: number,
    params: UmapParams,
    onProgress: (done: number, total: number) => void,
    jobId: string,
  ): Promise<Projection>;
  /** Models in IndexedDB (of one kind when given), newest first. */
  listModels(kind?: ModelKind): Promise<StoredModelInfo[]>;
  /** Makes a stored CISH autoencoder the slide's current one. */
  useModel(slideId: string, url: string): Promise<CishModelMeta>;
  /** Fine-tunes the detection CNN on the slide's patches that hold the points (every nucleus in them annotated); detection can then use it. */
  fineTuneNuclei(
    slideId: string,
    points: { x: Float64Array; y: Float64Array },
    params: NucleiFineTuneParams,
    onStep: (p: NucleiFineTuneStep) => void,
    jobId: string,
  ): Promise<NucleiFineTuneOutcome>;
  /** Trains a classifier on labelled rectangles of the slide (60/20/20 split); it becomes the slide's classifier. */
  trainClassifier(slideId: string, request: ClassifierTrainRequest, onStep: (p: ClassifierTrainStep) => void, jobId: string, onPlan?: (plan: ClassifierPlanInfo) => void): Promise<ClassifierInfo>;
  /** Makes a stored classifier (Mobincep or OrgaNet) the slide's classifier. */
  useClassifier(slideId: string, url: string): Promise<ClassifierInfo>;
  /** Classifies rectangles of a slide (e.g. its tissue tiles) with the classifier trained on `classifierSlideId`. */
  classify(classifierSlideId: string, slideId: string, rects: Float64Array, onProgress: (done: number, total: number) => void, jobId: string): Promise<ClassifyOutcome>;
  /** Makes a stored nucleus CAE the slide's nucleus model. */
  useNucleiModel(slideId: string, url: string): Promise<NucleiModelInfo>;
  deleteModel(url: string): Promise<void>;
  /** Any stored model as model.json + weights. */
  exportModel(url: string): Promise<ModelFiles>;
  /** Imports model.json + weights file(s) of any kind into IndexedDB (the kind comes from its metadata); returns where it went. */
  importModel(files: Blob[], names: string[]): Promise<StoredModelInfo>;
}

export const modelUrl = (fingerprint: string, id: string): string => storedModelUrl('cish', fingerprint, id);
export const checkpointUrl = (fingerprint: string): string => storedModelUrl('cish', fingerprint, CHECKPOINT_ID);
