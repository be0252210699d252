import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SparsityThreshold, THRESHOLD_DEFAULTS, type SparsityThresholdArgs } from './threshold-layer';
import { CSP_CAE_PRESETS, CSP_CAE_TABLES, presetChannels, type CspCaePart, type CspCaePreset, type LayerSpec } from './architecture';

export * from './architecture';

/**
 * The crosswise-sparse convolutional autoencoder of seed 001 (SPEC §2,
 * Tables 1–2), from standard tfjs-layers plus the thresholding layer, so it
 * saves and loads in the ordinary TF.js layers format. NHWC.
 *
 * Parts: 1 shared encoder (two average pools: 100 → 25), 2 the detection map
 * D′ (one channel), 3 the foreground features X′, 4 the background code
 * (5×5×5), 5 the threshold D = sigmoid(r(D′ − t)), 6 X = X′ ⊙ D; decoders 7
 * (foreground, from X) and 8 (background, from the code), whose images are
 * summed. Every conv and deconv is followed by batch norm and a leaky ReLU
 * (slope 0.01, Lasagne's default, which the seed's code used), except:
 * - D′ gets batch norm only (the seed normalises D′ so that t converges; a
 *   ReLU would cut the map below zero, where most positions must lie);
 * - the two decoders' last 1×1 deconvs are linear: they produce images,
 *   which are added.
 * Convs have no bias where batch norm follows (its offset takes that role).
 *
 * Presets scale every width except the fixed ones (D′: 1, the 5-channel
 * background code, the 3-channel images): 'paper' is the seed's (31.5 M
 * parameters, 89 GFLOP per 100 px patch forward); the cost falls with the
 * square of the width, so 'quarter' (5.6 GFLOP), 'eighth' (1.4) and
 * 'sixteenth' (0.36) are for machines without a GPU.
 */

/**
 * Weight of the old value in batch norm's moving statistics: 0.9, as in
 * Lasagne (the seed's framework; α = 0.1 there) and PyTorch, not Keras's
 * 0.99, whose moving statistics lag far behind the batches in runs of a few
 * hundred steps, so that D′ at inference no longer matches the threshold t
 * learned in training.
 */
export const BATCH_NORM_MOMENTUM = 0.9;

export interface CspCaeOptions {
  preset?: CspCaePreset;
  /** Patch side in px (100 in the seed); a multiple of 20 (two pools of 2, then 5). */
  inputSize?: number;
  leakyAlpha?: number;
  threshold?: SparsityThresholdArgs;
  /** Seeds the initial weights (each layer takes the next seed); unseeded otherwise. */
  seed?: number;
}

export interface CspCaeModels {
  /** patch → reconstruction (foreground + background): what training minimises the RMSE of. */
  autoencoder: tfl.LayersModel;
  /**
   * patch → [D, X′, foreground image, background image, reconstruction]: the
   * detection map, the foreground features at each map position, and the
   * inspection images (the seed's Fig. 4). Shares every layer.
   */
  inspector: tfl.LayersModel;
  /** The thresholding layer (its t is read and frozen through it). */
  threshold: SparsityThreshold;
  preset: CspCaePreset;
  inputSize: number;
}

export function buildCspCae(options: CspCaeOptions = {}): CspCaeModels {
  const preset = options.preset ?? 'quarter';
  if (!(preset in CSP_CAE_PRESETS)) throw new RangeError(`unknown preset '${preset}' (use ${Object.keys(CSP_CAE_PRESETS).join(', ')})`);
  const inputSize = options.inputSize ?? 100;
  if (!(Number.isInteger(inputSize) && inputSize >= 20 && inputSize % 20 === 0)) {
    throw new RangeError(`the patch side must be a multiple of 20 px (two pools of 2, then one of 5), got ${inputSize}`);
  }
  const alpha = options.leakyAlpha ?? 0.01;
  let seed = options.seed;
  const init = () => (seed === undefined ? undefined : tfl.initializers.glorotUniform({ seed: seed++ }));

  const stack = (part: CspCaePart, x: tfl.SymbolicTensor): tfl.SymbolicTensor => {
    let y = x;
    CSP_CAE_TABLES[part].forEach((spec: LayerSpec, i: number) => {
      const name = `${part}_${i + 1}`;
      if (spec.kind === 'pool') {
        y = tfl.layers.averagePooling2d({ name: `${name}_pool`, poolSize: spec.kernel, strides: spec.stride }).apply(y) as tfl.SymbolicTensor;
        return;
      }
      const after = spec.after ?? 'bn-leaky';
      const common = {
        name: `${name}_${spec.kind}`,
        filters: presetChannels(spec, preset),
        kernelSize: spec.kernel,
        padding: 'same' as const,
        useBias: after === 'linear',
        kernelInitializer: init(),
      };
      const layer =
        spec.kind === 'conv'
          ? tfl.layers.conv2d(common)
          : tfl.layers.conv2dTranspose({ ...common, strides: spec.stride ?? 1 });
      y = layer.apply(y) as tfl.SymbolicTensor;
      if (after !== 'linear') y = tfl.layers.batchNormalization({ name: `${name}_bn`, momentum: BATCH_NORM_MOMENTUM }).apply(y) as tfl.SymbolicTensor;
      if (after === 'bn-leaky') y = tfl.layers.leakyReLU({ name: `${name}_act`, alpha }).apply(y) as tfl.SymbolicTensor;
    });
    return y;
  };

  const patch = tfl.input({ name: 'patch', shape: [inputSize, inputSize, 3] });
  const shared = stack('part1', patch);
  const detectionRaw = stack('part2', shared); // D′
  const features = stack('part3', shared); // X′
  const backgroundCode = stack('part4', shared);
  const threshold = new SparsityThreshold({ name: 'part5_threshold', ...THRESHOLD_DEFAULTS, ...options.threshold });
  const detection = threshold.apply(detectionRaw) as tfl.SymbolicTensor; // D
  const sparse = tfl.layers.multiply({ name: 'part6_sparse' }).apply([features, detection]) as tfl.SymbolicTensor; // X = X′ ⊙ D
  const foreground = stack('part7', sparse);
  const background = stack('part8', backgroundCode);
  const reconstruction = tfl.layers.add({ name: 'reconstruction' }).apply([foreground, background]) as tfl.SymbolicTensor;

  const autoencoder = tfl.model({ name: 'csp_cae', inputs: patch, outputs: reconstruction });
  const inspector = tfl.model({ name: 'csp_cae_inspector', inputs: patch, outputs: [detection, features, foreground, background, reconstruction] });
  return { autoencoder, inspector, threshold, preset, inputSize };
}

/** Pixel RMSE between patches and their reconstructions (the seed's loss). */
export function rootMeanSquaredError(target: tf.Tensor, prediction: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.mean(tf.squaredDifference(target, prediction))) as tf.Scalar);
}

/** Frees every weight of the models (they share all layers). */
export function disposeCspCae(models: CspCaeModels): void {
  for (const variable of models.autoencoder.weights) variable.dispose();
}

/**
 * The models again from an autoencoder loaded from storage (a saved model
 * holds the autoencoder graph only): the inspector's outputs are the inputs
 * of the sparse product (X′, D) and of the final sum (foreground, background).
 */
export function splitCspCae(autoencoder: tfl.LayersModel, preset: CspCaePreset): CspCaeModels {
  if (!(preset in CSP_CAE_PRESETS)) throw new RangeError(`unknown preset '${preset}'`);
  const layerOrNull = (name: string) => autoencoder.layers.find((l) => l.name === name);
  const sparse = layerOrNull('part6_sparse');
  const sum = layerOrNull('reconstruction');
  const threshold = layerOrNull('part5_threshold');
  if (!sparse || !sum || !(threshold instanceof SparsityThreshold)) throw new Error('not a crosswise-sparse CAE (parts 5, 6 or the reconstruction are missing)');
  const [features, detection] = sparse.input as tfl.SymbolicTensor[];
  const [foreground, background] = sum.input as tfl.SymbolicTensor[];
  const inspector = tfl.model({
    name: 'csp_cae_inspector',
    inputs: autoencoder.inputs,
    outputs: [detection, features, foreground, background, autoencoder.outputs[0]],
  });
  const inputSize = autoencoder.inputs[0].shape[1] ?? 100;
  return { autoencoder, inspector, threshold, preset, inputSize };
}
