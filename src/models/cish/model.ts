import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import { CISH_DEFAULTS } from './defaults';
import { standardisedConv2dPool } from '../../engine/wasm-kernels';

/**
 * The CISH autoencoder of seed 000 (SPEC §1), built from standard tfjs-layers
 * so that models save, load and export in the ordinary TF.js layers format.
 *
 * Layout is NHWC. Two choices the seed leaves open are fixed here:
 * - LeakyReLU slope 0.01 (PyTorch's default, used by the seed) rather than
 *   tfjs-layers' default of 0.3.
 * - The decoder's transposed convs use kernel = stride with 'valid' padding
 *   (5, 3, 2, 2). The seed's Table 1 lists 3×3 kernels, but a 3×3 kernel with
 *   stride 5 or 2 cannot map 5→25→75→150→300 exactly without output padding;
 *   kernel = stride tiles the output with non-overlapping patches, so each
 *   layer is one matrix product plus a depth-to-space, which is also the
 *   fastest form on every backend.
 *
 * One addition the seed does not have: the encoder's first layer standardises
 * the input, (x − mean) / sd with the mean and sd of the training tiles
 * (fixed, not trained; identity when not given). CISH tiles are bright
 * (mean ~0.75) and differ by a few per cent in stain, so on raw intensities
 * the code varies ~5 % between tiles at the start and the short runs we
 * tested rarely learned the expression level; standardised, they do within
 * one or two epochs. The target of the reconstruction is still the raw tile.
 */

export const CISH_POOL_SIZES = [2, 2, 3, 5] as const;
export const CISH_CONV_FILTERS = [4, 8, 16, 32] as const;
export const CISH_DENSE_UNITS = [100, 25] as const;

/** Layer names; stable so that exported weights can be mapped to other frameworks. */
export const CISH_LAYER_NAMES = {
  input: 'tile',
  standardise: 'enc_standardise',
  encConv: ['enc_conv1', 'enc_conv2', 'enc_conv3', 'enc_conv4'],
  encPool: ['enc_pool1', 'enc_pool2', 'enc_pool3', 'enc_pool4'],
  flatten: 'enc_flatten',
  encDense: ['enc_dense1', 'enc_dense2', 'enc_latent'],
  encAct: ['enc_act1', 'enc_act2', 'latent'],
  latentInput: 'code',
  decDense: ['dec_dense1', 'dec_dense2', 'dec_dense3'],
  decAct: ['dec_act1', 'dec_act2', 'dec_act3'],
  reshape: 'dec_unflatten',
  decDeconv: ['dec_deconv1', 'dec_deconv2', 'dec_deconv3', 'dec_deconv4'],
} as const;

export interface CishModelOptions {
  latentDim?: number;
  /** Network input side in pixels; must be a multiple of 60 (the product of the pool sizes). */
  inputSize?: number;
  /** LeakyReLU negative slope. */
  leakyAlpha?: number;
  /** Seed for the weight initialisers, for reproducible runs. */
  seed?: number;
  /** Mean and standard deviation of the training tiles; the encoder standardises its input with them. */
  inputStatistics?: TileStatistics;
}

export interface TileStatistics {
  mean: number;
  std: number;
}

export interface CishModels {
  /** Tile [B, S, S, 1] → reconstruction [B, S, S, 1]; owns all weights. */
  autoencoder: tfl.LayersModel;
  /** Tile → latent code [B, latentDim]; shares layers with `autoencoder`. */
  encoder: tfl.LayersModel;
  /** Latent code → reconstruction; shares layers with `autoencoder`. */
  decoder: tfl.LayersModel;
}

export interface CishGeometry {
  inputSize: number;
  latentDim: number;
  /** Side of the feature map after the fourth pooling block. */
  bottleneckSize: number;
  bottleneckChannels: number;
  /** bottleneckSize² × bottleneckChannels: the flattened length (800 for 300 px). */
  flatLength: number;
}

export function cishGeometry(inputSize: number, latentDim: number): CishGeometry {
  const reduction = CISH_POOL_SIZES.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(inputSize) || inputSize <= 0 || inputSize % reduction !== 0) {
    throw new Error(`CISH input size must be a positive multiple of ${reduction}, got ${inputSize}`);
  }
  if (!Number.isInteger(latentDim) || latentDim < 1) {
    throw new Error(`latentDim must be a positive integer, got ${latentDim}`);
  }
  const bottleneckSize = inputSize / reduction;
  const bottleneckChannels = CISH_CONV_FILTERS[CISH_CONV_FILTERS.length - 1];
  return {
    inputSize,
    latentDim,
    bottleneckSize,
    bottleneckChannels,
    flatLength: bottleneckSize * bottleneckSize * bottleneckChannels,
  };
}

/**
 * Floating-point operations of one forward pass of the autoencoder for one
 * tile (2 per multiply-add; pooling and activations are not counted). A
 * training step costs about 3× this per tile: the forward pass, and the
 * gradients with respect to activations and to weights, each of the same size.
 */
export function cishForwardFlops(inputSize: number = CISH_DEFAULTS.inputSize, latentDim: number = CISH_DEFAULTS.latentDim): number {
  const geometry = cishGeometry(inputSize, latentDim);
  let macs = 0;
  let side = inputSize;
  let channels = 1;
  CISH_CONV_FILTERS.forEach((filters, i) => {
    macs += side * side * 9 * channels * filters; // 3×3 'same' conv
    channels = filters;
    side /= CISH_POOL_SIZES[i];
  });
  const dense = [geometry.flatLength, ...CISH_DENSE_UNITS, latentDim, ...[...CISH_DENSE_UNITS].reverse(), geometry.flatLength];
  for (let i = 0; i + 1 < dense.length; i++) macs += dense[i] * dense[i + 1];
  // kernel = stride transposed convs: each output pixel takes one input pixel's channels.
  const deconvChannels = [32, 16, 8, 4, 1];
  [...CISH_POOL_SIZES].reverse().forEach((stride, i) => {
    side *= stride;
    macs += side * side * deconvChannels[i] * deconvChannels[i + 1];
  });
  return 2 * macs;
}

interface CishLayers {
  geometry: CishGeometry;
  encoderStack: tfl.layers.Layer[];
  decoderStack: tfl.layers.Layer[];
}

function createLayers(
  opts: Required<Omit<CishModelOptions, 'seed' | 'inputStatistics'>> & { seed?: number; inputStatistics?: TileStatistics },
): CishLayers {
  const geometry = cishGeometry(opts.inputSize, opts.latentDim);
  const n = CISH_LAYER_NAMES;
  let seedCounter = opts.seed;
  // Distinct seeds per layer; undefined keeps tfjs' own random initialisation.
  const init = () =>
    seedCounter === undefined ? undefined : tfl.initializers.glorotUniform({ seed: seedCounter++ });
  const { mean, std } = opts.inputStatistics ?? { mean: 0, std: 1 };
  if (!(Number.isFinite(mean) && std > 0 && Number.isFinite(std))) {
    throw new RangeError(`input statistics need a finite mean and a positive sd, got ${mean} and ${std}`);
  }
  const encoderStack: tfl.layers.Layer[] = [tfl.layers.rescaling({ name: n.standardise, scale: 1 / std, offset: -mean / std })];
  CISH_CONV_FILTERS.forEach((filters, i) => {
    encoderStack.push(
      tfl.layers.conv2d({
        name: n.encConv[i],
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
      }),
      tfl.layers.maxPooling2d({
        name: n.encPool[i],
        poolSize: CISH_POOL_SIZES[i],
        strides: CISH_POOL_SIZES[i],
        padding: 'valid',
      }),
    );
  });
  encoderStack.push(tfl.layers.flatten({ name: n.flatten }));
  const encUnits = [...CISH_DENSE_UNITS, opts.latentDim];
  encUnits.forEach((units, i) => {
    encoderStack.push(
      tfl.layers.dense({ name: n.encDense[i], units, kernelInitializer: init() }),
      tfl.layers.leakyReLU({ name: n.encAct[i], alpha: opts.leakyAlpha }),
    );
  });

  const decoderStack: tfl.layers.Layer[] = [];
  const decUnits = [CISH_DENSE_UNITS[1], CISH_DENSE_UNITS[0], geometry.flatLength];
  decUnits.forEach((units, i) => {
    decoderStack.push(
      tfl.layers.dense({ name: n.decDense[i], units, kernelInitializer: init() }),
      tfl.layers.leakyReLU({ name: n.decAct[i], alpha: opts.leakyAlpha }),
    );
  });
  decoderStack.push(
    tfl.layers.reshape({
      name: n.reshape,
      targetShape: [geometry.bottleneckSize, geometry.bottleneckSize, geometry.bottleneckChannels],
    }),
  );
  // Mirror of the encoder: strides undo the pools in reverse order; channels 32→16→8→4→1.
  const deconvStrides = [...CISH_POOL_SIZES].reverse();
  const deconvFilters = [16, 8, 4, 1];
  deconvStrides.forEach((stride, i) => {
    decoderStack.push(
      tfl.layers.conv2dTranspose({
        name: n.decDeconv[i],
        filters: deconvFilters[i],
        kernelSize: stride,
        strides: stride,
        padding: 'valid',
        activation: i === deconvStrides.length - 1 ? 'sigmoid' : 'relu',
        kernelInitializer: init(),
      }),
    );
  });
  return { geometry, encoderStack, decoderStack };
}

function applyStack(stack: tfl.layers.Layer[], x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  let y = x;
  for (const layer of stack) y = layer.apply(y) as tfl.SymbolicTensor;
  return y;
}

/**
 * Builds the autoencoder and its two halves. All three models share the same
 * layer objects, so training `autoencoder` trains `encoder` and `decoder`.
 */
export function buildCishAutoencoder(options: CishModelOptions = {}): CishModels {
  const layers = createLayers({
    latentDim: options.latentDim ?? CISH_DEFAULTS.latentDim,
    inputSize: options.inputSize ?? CISH_DEFAULTS.inputSize,
    leakyAlpha: options.leakyAlpha ?? CISH_DEFAULTS.leakyAlpha,
    seed: options.seed,
    inputStatistics: options.inputStatistics,
  });
  const { geometry } = layers;
  const tile = tfl.input({
    name: CISH_LAYER_NAMES.input,
    shape: [geometry.inputSize, geometry.inputSize, 1],
  });
  const latent = applyStack(layers.encoderStack, tile);
  const reconstruction = applyStack(layers.decoderStack, latent);
  const code = tfl.input({ name: CISH_LAYER_NAMES.latentInput, shape: [geometry.latentDim] });
  const decoded = applyStack(layers.decoderStack, code);
  return {
    autoencoder: tfl.model({ name: 'cish_autoencoder', inputs: tile, outputs: reconstruction }),
    encoder: tfl.model({ name: 'cish_encoder', inputs: tile, outputs: latent }),
    decoder: tfl.model({ name: 'cish_decoder', inputs: code, outputs: decoded }),
  };
}

/** Mean and standard deviation over every value of a batch of tiles. */
export function tileStatistics(tiles: tf.Tensor): TileStatistics {
  const [mean, variance] = tf.tidy(() => {
    const moments = tf.moments(tiles);
    return tf.stack([moments.mean, moments.variance]).dataSync();
  });
  if (!Number.isFinite(mean) || !Number.isFinite(variance)) throw new RangeError('training tiles contain non-finite values');
  // A blank batch has no spread (float32 rounding leaves ~1e-4; 8-bit tiles
  // step by 4e-3): 1 then leaves the input as it is instead of amplifying noise.
  const std = Math.sqrt(variance);
  return { mean, std: std > 1e-3 ? std : 1 };
}

/**
 * Starts the sigmoid output at the mean intensity of the training tiles
 * (last bias = logit(mean)); every other weight stays as built. From 0.5,
 * Adam (≤ lr per step) spends ~1,000 steps only moving the output to the
 * data's brightness before any tile-specific feature pays off.
 */
export function initialiseOutputBias(models: CishModels, mean: number): void {
  const clamped = Math.min(0.99, Math.max(0.01, mean));
  const output = models.autoencoder.getLayer(CISH_LAYER_NAMES.decDeconv[CISH_LAYER_NAMES.decDeconv.length - 1]);
  const [kernel, bias] = output.getWeights();
  const logit = tf.fill(bias.shape, Math.log(clamped / (1 - clamped)));
  output.setWeights([kernel, logit]);
  logit.dispose();
}

/**
 * Recovers encoder and decoder from an autoencoder loaded from storage, again
 * sharing its layers (a saved model only holds the autoencoder graph).
 */
export function splitCishAutoencoder(autoencoder: tfl.LayersModel): CishModels {
  const n = CISH_LAYER_NAMES;
  const latentLayer = autoencoder.getLayer(n.encAct[2]);
  const encoder = tfl.model({
    name: 'cish_encoder',
    inputs: autoencoder.inputs,
    outputs: latentLayer.output as tfl.SymbolicTensor,
  });
  const latentDim = (latentLayer.outputShape as number[])[1];
  const code = tfl.input({ name: n.latentInput, shape: [latentDim] });
  const decoderStack: tfl.layers.Layer[] = [];
  for (let i = 0; i < 3; i++) decoderStack.push(autoencoder.getLayer(n.decDense[i]), autoencoder.getLayer(n.decAct[i]));
  decoderStack.push(autoencoder.getLayer(n.reshape));
  for (const name of n.decDeconv) decoderStack.push(autoencoder.getLayer(name));
  const decoder = tfl.model({ name: 'cish_decoder', inputs: code, outputs: applyStack(decoderStack, code) });
  return { autoencoder, encoder, decoder };
}

/** Loads a saved autoencoder (any TF.js IO handler or URL) and splits it. */
export async function loadCishAutoencoder(source: string | io.IOHandler): Promise<CishModels> {
  const autoencoder = await tfl.loadLayersModel(source);
  return splitCishAutoencoder(autoencoder);
}

/**
 * True when every code unit sits on the 1 %-slope side of the code's
 * LeakyReLU for most of `tiles` (its median output is negative). The first
 * steps shrink the code towards zero, because a decoder that has not yet
 * learned to use it only turns its variation into error; in some
 * initialisations both units cross zero. Gradients through them are then
 * 100× smaller, below Adam's ε for most weights, and the code stays
 * uninformative for the rest of a short run.
 */
export function codeIsCollapsed(models: CishModels, tiles: tf.Tensor): boolean {
  const codes = tf.tidy(() => (models.encoder.predict(tiles) as tf.Tensor).arraySync() as number[][]);
  if (codes.length === 0) return false;
  const units = codes[0].length;
  for (let unit = 0; unit < units; unit++) {
    const values = codes.map((code) => code[unit]).sort((a, b) => a - b);
    if (values[Math.floor(values.length / 2)] >= 0) return false;
  }
  return true;
}

/**
 * The encoder as an inference function, equal to `encoder.apply(xs)` but with
 * its first block (standardise → 3×3 conv → ReLU → 2×2 max-pool) run as one
 * op: on wasm that is one pass over the tile instead of four, which writes no
 * standardised copy and no full-size conv output (about a third of an encode
 * went to those). Models without the standardising layer, or with other
 * settings, run unchanged.
 */
export function cishEncodeFunction(encoder: tfl.LayersModel): (xs: tf.Tensor) => tf.Tensor {
  const unchanged = (xs: tf.Tensor) => encoder.apply(xs, { training: false }) as tf.Tensor;
  const n = CISH_LAYER_NAMES;
  const layers = encoder.layers;
  const at = (name: string) => layers.findIndex((l) => l.name === name);
  const [iStandardise, iConv, iPool] = [at(n.standardise), at(n.encConv[0]), at(n.encPool[0])];
  if (iStandardise < 0 || iConv !== iStandardise + 1 || iPool !== iConv + 1) return unchanged;
  const standardise = layers[iStandardise].getConfig() as { scale?: number; offset?: number };
  const conv = layers[iConv].getConfig() as { activation?: string; padding?: string; strides?: number[]; useBias?: boolean };
  const pool = layers[iPool].getConfig() as { poolSize?: number[]; strides?: number[]; padding?: string };
  const poolSize = pool.poolSize?.[0];
  const simple =
    typeof standardise.scale === 'number' &&
    typeof standardise.offset === 'number' &&
    (conv.activation === 'relu' || conv.activation === 'linear') &&
    (conv.padding === 'same' || conv.padding === 'valid') &&
    (conv.strides ?? [1, 1]).every((s) => s === 1) &&
    conv.useBias !== false &&
    (poolSize === 1 || poolSize === 2) &&
    pool.poolSize?.[1] === poolSize &&
    (pool.strides ?? pool.poolSize)?.every((s) => s === poolSize) === true &&
    pool.padding === 'valid';
  if (!simple) return unchanged;
  const rest = layers.slice(iPool + 1);
  const options = {
    scale: standardise.scale as number,
    offset: standardise.offset as number,
    activation: conv.activation as 'relu' | 'linear',
    pad: conv.padding as 'same' | 'valid',
    pool: poolSize as number,
  };
  return (xs) =>
    tf.tidy(() => {
      // Weights are read at each call: training may have replaced them since.
      const [kernel, bias] = layers[iConv].getWeights();
      let y = standardisedConv2dPool(xs, kernel, bias, options);
      for (const layer of rest) y = layer.apply(y, { training: false }) as tf.Tensor;
      return y;
    });
}
