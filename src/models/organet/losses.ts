import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Batch } from '../../engine/train';
import { oneHotLabels, softmaxCrossEntropy } from '../mobincep/losses';
import { ORGANET_DEFAULTS } from './architecture';
import { organetJointModel, organetLatentIsOutput } from './model';

/**
 * OrgaNet's loss (seed 002, eq. 7.1–7.3): L = CE + γ·MMD(latent, N(0, I)),
 * γ = 1.
 *
 * MMD (eq. 7.2) between the batch's latent codes x_1…x_n and as many samples
 * y_1…y_n drawn from the prior N(0, I) at each step:
 *
 *   MMD = mean_ij k(x_i, x_j) + mean_ij k(y_i, y_j) − 2·mean_ij k(x_i, y_j)
 *
 * with all pairs, the diagonal included (the plug-in, biased estimate, ≥ 0;
 * what the seed's script computes), and the Gaussian kernel
 * k(a, b) = exp(−‖a − b‖² / (2σ²)).
 *
 * Bandwidth: 2σ² = d², d the latent length (σ ≈ 7.07 for d = 10). This is
 * the kernel of the seed's released training script (there written
 * exp(−mean_t (a_t − b_t)² / d), the InfoVAE convention). It is wide: two
 * independent N(0, I) points lie √(2d) ≈ 4.5 apart, where the kernel is still
 * 0.82, so the term mainly matches the latent's overall location and spread
 * to the prior's and does not ask each class cluster to fill the Gaussian,
 * which would fight the cross-entropy's separation of the classes. The
 * median heuristic (2σ² = the median squared distance ≈ 2d) is the usual
 * alternative: pass `sigma` to use any other bandwidth.
 */

/** Default bandwidth σ for latents of length d: 2σ² = d². */
export function defaultMmdSigma(dims: number): number {
  return dims / Math.SQRT2;
}

/** Gaussian kernel matrix [n, m] between rows of x [n, d] and y [m, d]. */
export function gaussianKernel(x: tf.Tensor2D, y: tf.Tensor2D, sigma: number): tf.Tensor2D {
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new RangeError(`kernel bandwidth must be a positive number, got ${sigma}`);
  return tf.tidy(() => {
    // ‖x_i − y_j‖² from the differences themselves (exact; no cancellation).
    const differences = tf.sub(tf.expandDims(x, 1), tf.expandDims(y, 0)); // [n, m, d]
    const squared = tf.sum(tf.square(differences), 2);
    return tf.exp(tf.mul(squared, -1 / (2 * sigma * sigma))) as tf.Tensor2D;
  });
}

/** Squared MMD between the samples x [n, d] and y [m, d] (V-statistic). σ defaults to d/√2. */
export function maximumMeanDiscrepancy(x: tf.Tensor2D, y: tf.Tensor2D, sigma?: number): tf.Scalar {
  if (x.shape[1] !== y.shape[1]) throw new RangeError(`MMD: samples of length ${x.shape[1]} and ${y.shape[1]}`);
  const bandwidth = sigma ?? defaultMmdSigma(x.shape[1]);
  return tf.tidy(() => {
    const xx = tf.mean(gaussianKernel(x, x, bandwidth));
    const yy = tf.mean(gaussianKernel(y, y, bandwidth));
    const xy = tf.mean(gaussianKernel(x, y, bandwidth));
    return tf.sub(tf.add(xx, yy), tf.mul(xy, 2)) as tf.Scalar;
  });
}

export interface OrganetLossOptions {
  /** Weight of the MMD term (1). */
  gamma?: number;
  /** Kernel bandwidth σ (default d/√2). */
  sigma?: number;
}

export interface OrganetLossParts {
  total: tf.Scalar;
  crossEntropy: tf.Scalar;
  mmd: tf.Scalar;
}

/** CE of the logits [B, K] + γ·MMD(latent [B, d], prior samples [m, d]). */
export function organetLoss(
  logits: tf.Tensor2D,
  latent: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  prior: tf.Tensor2D,
  options: OrganetLossOptions = {},
): OrganetLossParts {
  const gamma = options.gamma ?? ORGANET_DEFAULTS.gamma;
  return tf.tidy(() => {
    const crossEntropy = softmaxCrossEntropy(logits, oneHot);
    const mmd = maximumMeanDiscrepancy(latent, prior, options.sigma);
    return { total: tf.add(crossEntropy, tf.mul(mmd, gamma)) as tf.Scalar, crossEntropy, mmd };
  });
}

export interface OrganetTrainingLossOptions extends OrganetLossOptions {
  /**
   * Seeds the prior samples: step i draws with seed + i, so runs repeat.
   * Unseeded otherwise.
   */
  seed?: number;
}

/**
 * `computeLoss` for the shared training loop (engine/train.ts): batches carry
 * images in `xs` and labels in `ys` (class indices [B] or one-hot [B, K]).
 * Each call draws B fresh samples of N(0, I) for the MMD term.
 */
export function organetTrainingLoss(model: LayersModel, options: OrganetTrainingLossOptions = {}): (batch: Batch, training: boolean) => tf.Scalar {
  const joint = organetJointModel(model);
  const latentIsOutput = organetLatentIsOutput(model);
  const classes = model.outputs[0].shape[1] as number;
  let draws = 0;
  return (batch, training) =>
    tf.tidy(() => {
      if (batch.ys === undefined) throw new Error('OrgaNet training batches need labels (ys)');
      const outputs = joint.apply(batch.xs, { training });
      const [logits, latent] = latentIsOutput ? [outputs as tf.Tensor2D, outputs as tf.Tensor2D] : (outputs as tf.Tensor2D[]);
      const [rows, dims] = latent.shape;
      const seed = options.seed === undefined ? undefined : options.seed + draws;
      draws++;
      const prior = tf.randomNormal([rows, dims], 0, 1, 'float32', seed) as tf.Tensor2D;
      return organetLoss(logits, latent, oneHotLabels(batch.ys, classes), prior, options).total;
    });
}
