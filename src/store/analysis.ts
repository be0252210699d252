/**
 * CISH expression-mapping results per slide, as columnar typed arrays: the
 * viewer overlay, the latent scatter and the exports all read the same
 * buffers, and nothing is kept as one object per tile.
 */
import type { StateCreator } from 'zustand';
import type { AppState } from './index';
import type { TileColumns } from '../workers/cish-protocol';
import type { Projection } from '../analysis/projection';

export interface AnalysisMask {
  data: Uint8Array;
  width: number;
  height: number;
  /** Level-0 px per mask px. */
  downsample: number;
  threshold: number;
  /** Grey level (0–1) above which a pixel inside tissue tiles is glass (computeCishMask); absent: no glass seen. */
  glassAbove?: number;
}

/** The tile lattice (level-0 px), one entry per tile, as the worker made it; `kept` and `train` index into it. */
export type AnalysisTiles = Omit<TileColumns, 'mpp'>;

export interface TrainingState {
  running: boolean;
  paused: boolean;
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number | null;
  etaSeconds: number | null;
  /** Loss of every step so far (this run). */
  stepLoss: Float32Array;
}

export interface CishAnalysis {
  slideId: string;
  /** What the items (rows of latents, entries of tiles.kept) are: tiles of the slide, or detected nuclei (each a small square). */
  itemKind: 'tile' | 'nucleus';
  /** Size + hash of the file's ends; keys everything persisted for the slide. */
  fingerprint: string | null;
  mask: AnalysisMask | null;
  /** Where "Make tiles" takes the training tiles from: a random sample, or the kept tiles inside `trainRegion`. */
  trainFrom: 'sample' | 'region';
  /** Region drawn on the slide for the training tiles: level-0 polygon [x0, y0, x1, y1, …]. */
  trainRegion: number[] | null;
  tiles: AnalysisTiles | null;
  /** Mean loss per epoch of the current model. */
  history: Float32Array | null;
  /** The time limit (minutes) that ended the current model's training; null when the loss settled or every epoch ran. */
  stoppedAtTimeLimit: number | null;
  training: TrainingState | null;
  modelId: string | null;
  modelUrl: string | null;
  /** n×latentDim, rows follow tiles.kept. */
  latents: Float32Array | null;
  /** Mean optical density of each kept tile's tissue (rows follow tiles.kept): clusters are named in its order. Null for items without one. */
  densities: Float64Array | null;
  latentDim: number;
  /** n×K memberships, rows follow tiles.kept. */
  memberships: Float32Array | null;
  labels: Int32Array | null;
  k: number;
  /** K×3 RGB colours, cluster j → colours[3j…3j+2] (ordinal: by density where known, else along the main latent axis). */
  clusterColors: Uint8Array | null;
  fpc: number | null;
  fpcCurve: { k: Int32Array; fpc: Float64Array } | null;
  /** A UMAP layout of the latents for the scatter (rows follow tiles.kept); null: PCA / the codes themselves. */
  projection: Projection | null;
  /** Map overlay display. */
  mapOpacity: number;
  membershipAlpha: boolean;
  /** Bumped whenever results change, so views can redraw cheaply. */
  version: number;
}

export interface BackendStatus {
  state: 'starting' | 'ready' | 'failed';
  backend?: string;
  reason?: string;
}

export interface AnalysisSlice {
  /**
   * Analyses by key: a slide's tile analysis under the slide id, its nuclei
   * (seed 001) under nucleiAnalysisKey(slideId). Each names its slide in
   * `slideId`; clustering, projection, the explorer and its selections work
   * on either through the key.
   */
  analysis: Record<string, CishAnalysis>;
  computeBackend: BackendStatus | null;
  /** Patches (creating when missing; `slideId` defaults to the key) the analysis under `key`. */
  patchAnalysis(key: string, patch: Partial<Omit<CishAnalysis, 'version'>>): void;
  clearAnalysis(key: string): void;
  setComputeBackend(status: BackendStatus): void;
}

/** The store key of a slide's nucleus analysis (its items are the detected nuclei). */
export function nucleiAnalysisKey(slideId: string): string {
  return `${slideId}/nuclei`;
}

export function emptyAnalysis(slideId: string): CishAnalysis {
  return {
    slideId,
    itemKind: 'tile',
    fingerprint: null,
    mask: null,
    trainFrom: 'sample',
    trainRegion: null,
    tiles: null,
    history: null,
    stoppedAtTimeLimit: null,
    training: null,
    modelId: null,
    modelUrl: null,
    latents: null,
    densities: null,
    latentDim: 0,
    memberships: null,
    labels: null,
    k: 0,
    clusterColors: null,
    fpc: null,
    fpcCurve: null,
    projection: null,
    mapOpacity: 0.6,
    membershipAlpha: false,
    version: 0,
  };
}

export const createAnalysisSlice: StateCreator<AppState, [], [], AnalysisSlice> = (set) => ({
  analysis: {},
  computeBackend: null,

  patchAnalysis(key, patch) {
    set((state) => {
      const current = state.analysis[key] ?? emptyAnalysis(key);
      return { analysis: { ...state.analysis, [key]: { ...current, ...patch, version: current.version + 1 } } };
    });
  },

  clearAnalysis(slideId) {
    set((state) => {
      if (!(slideId in state.analysis)) return {};
      const analysis = { ...state.analysis };
      delete analysis[slideId];
      return { analysis };
    });
  },

  setComputeBackend(status) {
    set({ computeBackend: status });
  },
});
