/**
 * What a saved CISH autoencoder carries in its userDefinedMetadata: one
 * format, written by the app's worker and by `analyze`, read by both. The
 * preprocessing travels with the weights because encoding other tiles needs
 * it: a model trained on optical density and read as intensity encodes
 * nonsense.
 */
import type { CishModels } from './model';
import { CISH_DEFAULTS, type CishIntensityMode } from './defaults';
import { savedHistory, savedId } from '../../engine/model-store';

/** The preprocessing a model was trained with (the serialisable part of PreprocessOptions). */
export interface PreprocessParams {
  mode: CishIntensityMode;
  /** Median filter radius in px; 0 = off. */
  median: number;
  contrast: boolean;
  /** Glass inside a tile (grey above this, 0–1) takes the tile's tissue mean; absent = tiles as scanned. */
  glassAbove?: number;
}

export interface CishModelMeta {
  tilescope: 'cish';
  modelId: string;
  /** The slide it was trained on (slide/fingerprint.ts). */
  fingerprint: string;
  latentDim: number;
  inputSize: number;
  preprocess: PreprocessParams;
  epochs: number;
  /** Training loss per epoch. */
  history: number[];
}

const INTENSITY_MODES: readonly CishIntensityMode[] = ['intensity', 'od'];

function preprocessOf(raw: unknown): PreprocessParams | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const p = raw as Record<string, unknown>;
  if (!INTENSITY_MODES.includes(p.mode as CishIntensityMode)) return null;
  const preprocess: PreprocessParams = {
    mode: p.mode as CishIntensityMode,
    median: typeof p.median === 'number' && p.median >= 0 ? p.median : 0,
    contrast: p.contrast === true,
  };
  if (typeof p.glassAbove === 'number' && p.glassAbove > 0 && p.glassAbove <= 1) preprocess.glassAbove = p.glassAbove;
  return preprocess;
}

/**
 * The model's metadata (`raw`, its userDefinedMetadata). Reads the command
 * line's older format too ({tilescope: 'cish-cli', preprocess}), filling
 * what it lacks from the model's layers and `ids`. A model that carries
 * none of ours gets what its layers say, and intensity input (what the
 * first models used).
 */
export function cishMetaOf(raw: unknown, models: CishModels, ids: { modelId: string; fingerprint: string }): CishModelMeta {
  const fallback = layerCishMeta(models, ids);
  if (typeof raw !== 'object' || raw === null) return fallback;
  const meta = raw as Record<string, unknown>;
  if (meta.tilescope !== 'cish' && meta.tilescope !== 'cish-cli') return fallback;
  const preprocess = preprocessOf(meta.preprocess);
  if (preprocess === null) return fallback;
  return {
    ...fallback,
    modelId: savedId(meta.modelId, fallback.modelId),
    fingerprint: savedId(meta.fingerprint, fallback.fingerprint),
    preprocess,
    epochs: typeof meta.epochs === 'number' ? meta.epochs : 0,
    history: savedHistory(meta.history),
  };
}

function layerCishMeta(models: CishModels, ids: { modelId: string; fingerprint: string }): CishModelMeta {
  return {
    tilescope: 'cish',
    modelId: ids.modelId,
    fingerprint: ids.fingerprint,
    latentDim: models.encoder.outputs[0].shape[1] ?? CISH_DEFAULTS.latentDim,
    inputSize: models.autoencoder.inputs[0].shape[1] ?? CISH_DEFAULTS.inputSize,
    preprocess: { mode: 'intensity', median: 0, contrast: false },
    epochs: 0,
    history: [],
  };
}
