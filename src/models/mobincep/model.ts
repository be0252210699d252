import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AMSGradOptimizer } from '../../engine/amsgrad';
import {
  MOBINCEP_BUFFER,
  MOBINCEP_DEFAULTS,
  MOBINCEP_INCEPTION,
  MOBINCEP_SEPARABLE,
  checkWidth,
  scaledChannels,
} from './architecture';
import { SeedSequence, apply, batchNorm, kaimingUniform, viewPerModel } from './layers';

export * from './architecture';

/**
 * The Mobincep classifier (seed 002, ch. 5) from standard tfjs-layers, so it
 * saves and loads in the ordinary TF.js layers format. NHWC. Filter counts,
 * strides and the reasons for them are in architecture.ts.
 *
 * `buildMobincep` returns the classifier (image → class logits, no softmax:
 * the loss applies it). The penultimate features (the global average pool,
 * where the seed's centroid terms live) come from `mobincepFeatureModel` and,
 * together with the logits for training, from `mobincepJointModel`: both are
 * made of the classifier's own layers, so they share its weights, and both
 * work on a classifier loaded from storage (they find the layers by name).
 */

export const MOBINCEP_LAYER_NAMES = {
  input: 'image',
  /** Global average pool: the penultimate feature vector. */
  features: 'features',
  logits: 'logits',
} as const;

export interface MobincepOptions {
  /** Side of the square input (224 in the seed). Any size ≥ 1 works: the pool is global. */
  inputSize?: number;
  /** Input channels (3 in the seed). */
  channels?: number;
  /** Number of classes (output logits). */
  classes: number;
  /** Seeds the initial weights (each layer takes the next seed); unseeded otherwise. */
  seed?: number;
  /** Width multiplier on every conv's filters (1 = the seed's size); small values for tests and weak machines. */
  width?: number;
}

export function buildMobincep(options: MobincepOptions): tfl.LayersModel {
  const inputSize = options.inputSize ?? MOBINCEP_DEFAULTS.inputSize;
  const channels = options.channels ?? MOBINCEP_DEFAULTS.channels;
  const width = options.width ?? MOBINCEP_DEFAULTS.width;
  const { classes } = options;
  if (!(Number.isInteger(inputSize) && inputSize >= 1)) throw new RangeError(`input size must be a positive integer, got ${inputSize}`);
  if (!(Number.isInteger(channels) && channels >= 1)) throw new RangeError(`channels must be a positive integer, got ${channels}`);
  if (!(Number.isInteger(classes) && classes >= 2)) throw new RangeError(`Mobincep needs at least 2 classes, got ${classes}`);
  checkWidth(width);
  const seeds = new SeedSequence(options.seed);
  const c = (n: number) => scaledChannels(n, width);

  /** conv (no bias) → BN → ReLU. */
  const convBnRelu = (x: tfl.SymbolicTensor, name: string, filters: number, kernel: number, stride = 1): tfl.SymbolicTensor => {
    const cin = x.shape[x.shape.length - 1] as number;
    let y = apply(
      tfl.layers.conv2d({
        name: `${name}_conv`,
        filters,
        kernelSize: kernel,
        strides: stride,
        padding: 'same',
        useBias: false,
        kernelInitializer: kaimingUniform(kernel * kernel * cin, seeds),
      }),
      x,
    );
    y = apply(batchNorm(`${name}_bn`), y);
    return apply(tfl.layers.reLU({ name: `${name}_relu` }), y);
  };

  const image = tfl.input({ name: MOBINCEP_LAYER_NAMES.input, shape: [inputSize, inputSize, channels] });
  // 1. Buffer conv.
  const buffer = convBnRelu(image, 'buffer', c(MOBINCEP_BUFFER.filters), MOBINCEP_BUFFER.kernel, MOBINCEP_BUFFER.stride);

  // 2. Inception module: four branches, concatenated along the channels.
  const inc = MOBINCEP_INCEPTION;
  const branch1 = convBnRelu(buffer, 'inc_1x1', c(inc.branch1), 1);
  const branch3 = convBnRelu(convBnRelu(buffer, 'inc_3x3_reduce', c(inc.branch3.reduce), 1), 'inc_3x3', c(inc.branch3.filters), 3);
  const branch5 = convBnRelu(convBnRelu(buffer, 'inc_5x5_reduce', c(inc.branch5.reduce), 1), 'inc_5x5', c(inc.branch5.filters), 5);
  const pooled = apply(
    tfl.layers.averagePooling2d({ name: 'inc_pool', poolSize: inc.branchPool.pool, strides: 1, padding: 'same' }),
    buffer,
  );
  const branchPool = convBnRelu(pooled, 'inc_pool_proj', c(inc.branchPool.filters), 1);
  let x = apply(tfl.layers.concatenate({ name: 'inc_concat', axis: -1 }), [branch1, branch3, branch5, branchPool]);

  // 3. Depth-wise separable convs: 3×3 depth-wise → BN → ReLU, 1×1 point-wise → BN → ReLU.
  MOBINCEP_SEPARABLE.forEach((spec, i) => {
    const name = `sep${i + 1}`;
    x = apply(
      tfl.layers.depthwiseConv2d({
        name: `${name}_dw`,
        kernelSize: 3,
        strides: spec.stride,
        padding: 'same',
        depthMultiplier: 1,
        useBias: false,
        depthwiseInitializer: kaimingUniform(9, seeds),
      }),
      x,
    );
    x = apply(batchNorm(`${name}_dw_bn`), x);
    x = apply(tfl.layers.reLU({ name: `${name}_dw_relu` }), x);
    x = convBnRelu(x, `${name}_pw`, c(spec.filters), 1);
  });

  // 4. Global average pool → 5. linear.
  const features = apply(tfl.layers.globalAveragePooling2d({ name: MOBINCEP_LAYER_NAMES.features }), x);
  const featureLength = features.shape[1] as number;
  const logits = apply(
    tfl.layers.dense({
      name: MOBINCEP_LAYER_NAMES.logits,
      units: classes,
      kernelInitializer: kaimingUniform(featureLength, seeds),
      biasInitializer: 'zeros',
    }),
    features,
  );
  return tfl.model({ name: 'mobincep', inputs: image, outputs: logits });
}

function featuresOf(model: tfl.LayersModel): tfl.SymbolicTensor {
  return model.getLayer(MOBINCEP_LAYER_NAMES.features).output as tfl.SymbolicTensor;
}

/** image → penultimate features [B, 1024·width]; shares the classifier's layers. */
export const mobincepFeatureModel = viewPerModel((model) => tfl.model({ name: 'mobincep_features', inputs: model.inputs, outputs: featuresOf(model) }));

/** image → [logits, features] in one forward pass (for the training loss); shares the classifier's layers. */
export const mobincepJointModel = viewPerModel((model) =>
  tfl.model({ name: 'mobincep_joint', inputs: model.inputs, outputs: [model.outputs[0], featuresOf(model)] }),
);

/** The seed's optimiser: AMSGrad, learning rate 1e-4 (ε 1e-5 as in its released code). */
export function createMobincepOptimizer(learningRate: number = MOBINCEP_DEFAULTS.learningRate): AMSGradOptimizer {
  return new AMSGradOptimizer(learningRate, 0.9, 0.999, MOBINCEP_DEFAULTS.epsilon);
}

/**
 * Per-image intensity normalisation (seed: images "normalised to the same
 * dynamic range"): each image of [B, H, W, C] is stretched to [0, 1] by its
 * own minimum and maximum over all pixels and channels; a constant image
 * becomes 0.
 */
export function normaliseImages(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const lo = tf.min(images, [1, 2, 3], true);
    const hi = tf.max(images, [1, 2, 3], true);
    const range = tf.sub(hi, lo);
    const safe = tf.where(tf.greater(range, 0), range, tf.onesLike(range));
    return tf.div(tf.sub(images, lo), safe) as tf.Tensor4D;
  });
}

/** Frees every weight of a model (the feature and joint models share them). */
export function disposeModelWeights(model: tfl.LayersModel): void {
  for (const weight of model.weights) weight.dispose();
}
