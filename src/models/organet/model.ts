import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SeedSequence, apply, batchNorm, kaimingUniform, viewPerModel } from '../mobincep/layers';
import {
  MOBILENET_V2_LAST,
  MOBILENET_V2_STEM,
  ORGANET_DEFAULTS,
  adaptationGeometry,
  bottleneckBlocks,
  checkWidth,
  organetChannels,
} from './architecture';

export * from './architecture';

/**
 * OrgaNet (seed 002, ch. 7) from standard tfjs-layers (NHWC): adaptation
 * layer → MobileNet-v2 feature extractor → global average pool → latent
 * (dense, linear, d = 10) → classification head (dense, linear, class
 * logits). Geometry, configuration and sizes are in architecture.ts.
 *
 * Trained from scratch (the thesis's conclusion; no ImageNet weights are
 * available here): every conv and dense layer starts Kaiming-uniform, as
 * in Mobincep (the thesis initialises its adaptation and FC layers
 * "uniformly"). BN and ReLU6 as in MobileNet-v2; the projection conv of each
 * bottleneck is linear (BN, no activation); the residual is added where the
 * block keeps shape (stride 1, same channels). The adaptation layer is conv +
 * BN, no activation, as in the thesis.
 *
 * The classification head. The seed's released script put its
 * cross-entropy directly on the 10-d latent (HeLa has 10 classes), so the
 * latent doubled as the class scores; `latentAsLogits: true` builds that
 * (classes must equal latentDim). By default a separate linear head maps the
 * latent to the classes, so any class count works and the latent is free to
 * follow the MMD prior while the head reads the classes off it.
 *
 * `buildOrganet` returns the classifier (image → logits); `organetEncoder`
 * gives image → latent and `organetJointModel` image → [logits, latent], from
 * the same layers.
 */

export const ORGANET_LAYER_NAMES = {
  input: 'image',
  adaptPad: 'adapt_pad',
  adaptConv: 'adapt_conv',
  adaptBn: 'adapt_bn',
  pool: 'pool',
  latent: 'latent',
  logits: 'logits',
} as const;

export interface OrganetOptions {
  /** Side of the square input (382 for 2D HeLa). */
  inputSize?: number;
  /** Input channels (1 for HeLa). */
  inputChannels?: number;
  /** Side the adaptation layer maps to (224: MobileNet-v2's input). */
  adaptedSize?: number;
  /** Length of the latent code (10). */
  latentDim?: number;
  /** Number of classes. */
  classes: number;
  /** Use the latent as the class logits (no head), as the seed's script did; needs classes = latentDim. */
  latentAsLogits?: boolean;
  /** Seeds the initial weights (each layer takes the next seed); unseeded otherwise. */
  seed?: number;
  /** Width multiplier on every conv (1 = MobileNet-v2 1.0); small values for tests. */
  width?: number;
}

export function buildOrganet(options: OrganetOptions): tfl.LayersModel {
  const inputSize = options.inputSize ?? ORGANET_DEFAULTS.inputSize;
  const inputChannels = options.inputChannels ?? ORGANET_DEFAULTS.inputChannels;
  const adaptedSize = options.adaptedSize ?? ORGANET_DEFAULTS.adaptedSize;
  const latentDim = options.latentDim ?? ORGANET_DEFAULTS.latentDim;
  const width = options.width ?? ORGANET_DEFAULTS.width;
  const { classes } = options;
  if (!(Number.isInteger(inputChannels) && inputChannels >= 1)) throw new RangeError(`input channels must be a positive integer, got ${inputChannels}`);
  if (!(Number.isInteger(latentDim) && latentDim >= 1)) throw new RangeError(`latentDim must be a positive integer, got ${latentDim}`);
  if (!(Number.isInteger(classes) && classes >= 2)) throw new RangeError(`OrgaNet needs at least 2 classes, got ${classes}`);
  if (options.latentAsLogits && classes !== latentDim) {
    throw new RangeError(`the latent can serve as the logits only when classes (${classes}) = latentDim (${latentDim})`);
  }
  checkWidth(width);
  const geometry = adaptationGeometry(inputSize, adaptedSize);
  const seeds = new SeedSequence(options.seed);
  const n = ORGANET_LAYER_NAMES;

  const conv = (x: tfl.SymbolicTensor, name: string, filters: number, kernel: number, stride = 1, padding: 'same' | 'valid' = 'same') => {
    const cin = x.shape[x.shape.length - 1] as number;
    return apply(
      tfl.layers.conv2d({
        name,
        filters,
        kernelSize: kernel,
        strides: stride,
        padding,
        useBias: false,
        kernelInitializer: kaimingUniform(kernel * kernel * cin, seeds),
      }),
      x,
    );
  };
  const relu6 = (x: tfl.SymbolicTensor, name: string) => apply(tfl.layers.reLU({ name, maxValue: 6 }), x);

  const image = tfl.input({ name: n.input, shape: [inputSize, inputSize, inputChannels] });
  // 1. Adaptation layer: zero padding, 3×3 conv (stride 2 for 382 → 224), BN.
  let x = image;
  if (geometry.padding[0] + geometry.padding[1] > 0) {
    x = apply(tfl.layers.zeroPadding2d({ name: n.adaptPad, padding: [geometry.padding, geometry.padding] }), x);
  }
  x = conv(x, n.adaptConv, ORGANET_DEFAULTS.adaptedChannels, geometry.kernel, geometry.stride, 'valid');
  x = apply(batchNorm(n.adaptBn), x);

  // 2. MobileNet-v2 feature extractor.
  x = conv(x, 'stem_conv', organetChannels(MOBILENET_V2_STEM.filters, width), MOBILENET_V2_STEM.kernel, MOBILENET_V2_STEM.stride);
  x = relu6(apply(batchNorm('stem_bn'), x), 'stem_relu6');
  for (const block of bottleneckBlocks(width)) {
    const input = x;
    let y = x;
    if (block.expansion !== 1) {
      y = conv(y, `${block.name}_expand`, block.hiddenChannels, 1);
      y = relu6(apply(batchNorm(`${block.name}_expand_bn`), y), `${block.name}_expand_relu6`);
    }
    y = apply(
      tfl.layers.depthwiseConv2d({
        name: `${block.name}_dw`,
        kernelSize: 3,
        strides: block.stride,
        padding: 'same',
        depthMultiplier: 1,
        useBias: false,
        depthwiseInitializer: kaimingUniform(9, seeds),
      }),
      y,
    );
    y = relu6(apply(batchNorm(`${block.name}_dw_bn`), y), `${block.name}_dw_relu6`);
    y = conv(y, `${block.name}_project`, block.outputChannels, 1);
    y = apply(batchNorm(`${block.name}_project_bn`), y); // linear bottleneck: no activation
    x = block.residual ? apply(tfl.layers.add({ name: `${block.name}_add` }), [input, y]) : y;
  }
  x = conv(x, 'last_conv', organetChannels(MOBILENET_V2_LAST, width), 1);
  x = relu6(apply(batchNorm('last_bn'), x), 'last_relu6');

  // 3. Pool → latent → head.
  const pooled = apply(tfl.layers.globalAveragePooling2d({ name: n.pool }), x);
  const latent = apply(
    tfl.layers.dense({
      name: n.latent,
      units: latentDim,
      kernelInitializer: kaimingUniform(pooled.shape[1] as number, seeds),
      biasInitializer: 'zeros',
    }),
    pooled,
  );
  const logits = options.latentAsLogits
    ? latent
    : apply(
        tfl.layers.dense({ name: n.logits, units: classes, kernelInitializer: kaimingUniform(latentDim, seeds), biasInitializer: 'zeros' }),
        latent,
      );
  return tfl.model({ name: 'organet', inputs: image, outputs: logits });
}

function latentOf(model: tfl.LayersModel): tfl.SymbolicTensor {
  return model.getLayer(ORGANET_LAYER_NAMES.latent).output as tfl.SymbolicTensor;
}

/** True when the classifier's output is the latent itself (built with `latentAsLogits`). */
export function organetLatentIsOutput(model: tfl.LayersModel): boolean {
  return model.outputs[0] === latentOf(model);
}

/** image → latent code [B, latentDim]; shares the classifier's layers. */
export const organetEncoder = viewPerModel((model) => tfl.model({ name: 'organet_encoder', inputs: model.inputs, outputs: latentOf(model) }));

/**
 * image → [logits, latent] in one forward pass; shares the classifier's
 * layers. For a latent-as-logits model the classifier itself is returned
 * (its one output is both).
 */
export const organetJointModel = viewPerModel((model) =>
  organetLatentIsOutput(model) ? model : tfl.model({ name: 'organet_joint', inputs: model.inputs, outputs: [model.outputs[0], latentOf(model)] }),
);

/** The seed's optimiser: Adam, learning rate 1e-4. */
export function createOrganetOptimizer(learningRate: number = ORGANET_DEFAULTS.learningRate): tf.Optimizer {
  return tf.train.adam(learningRate);
}
