/**
 * What a saved crosswise-sparse CAE carries in its userDefinedMetadata: one
 * format, written by the app's worker and by `nuclei`, read by both. A
 * model without it (saved by the command line before it wrote any) is still
 * recognised by its layers, and its preset read from its first layer's
 * width.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { CSP_CAE_PRESETS, splitCspCae, type CspCaeModels, type CspCaePreset } from './model';
import { CSP_CAE_TABLES, presetChannels } from './architecture';
import { savedHistory, savedId } from '../../engine/model-store';

export interface NucleiModelMeta {
  tilescope: 'cspcae';
  /** The slide it was trained on (slide/fingerprint.ts). */
  fingerprint: string;
  modelId: string;
  preset: CspCaePreset;
  /** RMSE per epoch. */
  history: number[];
  /** Training patches. */
  patches: number;
}

/** True when the model has the layers only a crosswise-sparse CAE has. */
export function isCspCae(model: tfl.LayersModel): boolean {
  const names = new Set(model.layers.map((l) => l.name));
  return names.has('part6_sparse') && names.has('part5_threshold') && names.has('reconstruction');
}

/** The preset whose width gives the model's first convolution its filters. */
function presetOfLayers(model: tfl.LayersModel): CspCaePreset {
  const first = CSP_CAE_TABLES.part1[0];
  const filters = (model.getLayer('part1_1_conv').getConfig() as { filters: number }).filters;
  const found = (Object.keys(CSP_CAE_PRESETS) as CspCaePreset[]).find((p) => presetChannels(first, p) === filters);
  if (found === undefined) throw new Error(`a crosswise-sparse CAE with ${filters} filters in its first layer matches no preset`);
  return found;
}

/**
 * The models and metadata of a loaded CAE. Throws, naming what is missing,
 * when it is not a crosswise-sparse CAE.
 */
export function cspCaeFromSaved(autoencoder: tfl.LayersModel, ids: { modelId: string; fingerprint: string }): { models: CspCaeModels; meta: NucleiModelMeta } {
  if (!isCspCae(autoencoder)) throw new Error('not a nucleus CAE (a crosswise-sparse autoencoder has parts 5 and 6 and a reconstruction)');
  const raw = (autoencoder.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const preset = typeof raw.preset === 'string' && raw.preset in CSP_CAE_PRESETS ? (raw.preset as CspCaePreset) : presetOfLayers(autoencoder);
  const meta: NucleiModelMeta = {
    tilescope: 'cspcae',
    fingerprint: savedId(raw.fingerprint, ids.fingerprint),
    modelId: savedId(raw.modelId, ids.modelId),
    preset,
    history: savedHistory(raw.history),
    patches: typeof raw.patches === 'number' ? raw.patches : 0,
  };
  return { models: splitCspCae(autoencoder, preset), meta };
}
