import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Batch } from '../../engine/train';
import { MOBINCEP_DEFAULTS } from './architecture';
import { mobincepJointModel } from './model';

/**
 * Mobincep's integrated loss (seed 002, eq. 5.1):
 *
 *   L = CE + γ1 / Σ_k d²(μ_k, μ) + γ2 · Σ_k s_k²
 *
 * - CE: softmax cross-entropy of the logits, mean over the batch (eq. 5.2).
 * - μ_k: the centroid of class k in feature space; μ: the centroid of all of
 *   the batch's points; d: Euclidean distance.
 * - s_k: the scatter of class k, Σ_{i in k} ‖f_i − μ_k‖ (distances, not
 *   squared, as the seed defines it).
 * - γ1 = γ2 = 0.01 (the seed's reference runs).
 *
 * Centroids. The seed runs k-means on the features at every iteration. Here
 * the labels of the batch are known, so μ_k is the mean of the batch's
 * features of class k: what k-means is meant to find, without its costs —
 * k-means cannot even run when a batch (4 images in the seed) holds fewer
 * points than there are classes, its clusters would have to be matched to
 * classes every step, and it is not differentiable, whereas the class means
 * carry gradients to every feature. Sums run over the classes present in
 * the batch; an absent class contributes nothing.
 *
 * Degenerate batches. With fewer than two classes present every centroid is
 * μ, the separation is 0 and its inverse undefined: the term is then 0 (no
 * gradient). Otherwise the inverse is taken of Σ d² + 1e-6, finite even when
 * the centroids coincide. A distance of 0 (a class with one point) has no
 * derivative under √: it is taken as 0 with zero gradient, so no NaN.
 *
 * Feature space. By default the terms act on the penultimate features (the
 * global average pool), the "latent feature space" of the thesis. The seed's
 * released training script applied them to the logits instead; the `space`
 * option of `mobincepTrainingLoss` offers both.
 */

export const SEPARATION_EPSILON = 1e-6;

/** Class indices [B] (any numeric dtype) or one-hot rows [B, K], as float32 one-hot [B, K]. */
export function oneHotLabels(labels: tf.Tensor, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    if (labels.rank === 2) {
      if (labels.shape[1] !== classes) throw new RangeError(`one-hot labels have ${labels.shape[1]} columns, expected ${classes}`);
      return tf.cast(labels, 'float32') as tf.Tensor2D;
    }
    if (labels.rank !== 1) throw new RangeError(`labels must be class indices [B] or one-hot [B, K], got rank ${labels.rank}`);
    return tf.cast(tf.oneHot(tf.cast(labels, 'int32'), classes), 'float32') as tf.Tensor2D;
  });
}

/** Mean softmax cross-entropy of logits [B, K] against one-hot targets [B, K] (log-sum-exp form, stable). */
export function softmaxCrossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logSumExp = tf.logSumExp(logits, 1);
    const target = tf.sum(tf.mul(oneHot, logits), 1);
    return tf.mean(tf.sub(logSumExp, target)) as tf.Scalar;
  });
}

/**
 * √x for x ≥ 0 with √0 = 0 and a zero (not infinite) derivative at 0. A
 * custom gradient: the comparison that picks the zeros has no gradient of its
 * own, so it must stay off the tape.
 */
const safeSqrt = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const positive = tf.greater(x, 0);
  const root = tf.where(positive, tf.sqrt(tf.where(positive, x, tf.onesLike(x))), tf.zerosLike(x));
  save([root]);
  return {
    value: root,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [r] = saved;
      const live = tf.greater(r, 0);
      return tf.where(live, tf.div(dy, tf.mul(tf.where(live, r, tf.onesLike(r)), 2)), tf.zerosLike(r));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

export interface CentroidTerms {
  /** Σ_k d²(μ_k, μ) over the classes present. */
  separation: tf.Scalar;
  /** Σ_k s_k² over the classes present. */
  scatter: tf.Scalar;
  /** Number of classes present in the batch. */
  present: tf.Scalar;
}

/** The two centroid statistics of a batch: features [B, D], one-hot labels [B, K]. */
export function centroidTerms(features: tf.Tensor2D, oneHot: tf.Tensor2D): CentroidTerms {
  return tf.tidy(() => {
    const counts = tf.sum(oneHot, 0); // [K]
    const isPresent = tf.cast(tf.greater(counts, 0), 'float32');
    const centroids = tf.div(tf.matMul(oneHot, features, true, false), tf.expandDims(tf.maximum(counts, 1), 1)); // [K, D]; 0 for absent classes
    const overall = tf.mean(features, 0, true); // [1, D]
    // (x − y)² as square(sub): TF.js's SquaredDifference gradient does not reduce over broadcast axes.
    const centroidDistances = tf.mul(tf.sum(tf.square(tf.sub(centroids, overall)), 1), isPresent);
    const separation = tf.sum(centroidDistances) as tf.Scalar;
    const own = tf.matMul(oneHot, centroids); // [B, D]: each point's class centroid
    const distances = safeSqrt(tf.sum(tf.square(tf.sub(features, own)), 1)); // [B]
    const perClass = tf.squeeze(tf.matMul(oneHot, tf.expandDims(distances, 1), true, false), [1]); // s_k [K]
    const scatter = tf.sum(tf.square(perClass)) as tf.Scalar;
    return { separation, scatter, present: tf.sum(isPresent) as tf.Scalar };
  });
}

export interface MobincepLossOptions {
  gamma1?: number;
  gamma2?: number;
}

export interface MobincepLossParts {
  total: tf.Scalar;
  crossEntropy: tf.Scalar;
  /** γ1 / (Σ_k d²(μ_k, μ) + 1e-6), or 0 with fewer than two classes present. */
  separationTerm: tf.Scalar;
  /** γ2 · Σ_k s_k². */
  scatterTerm: tf.Scalar;
}

/** The integrated loss and its parts: logits [B, K], features [B, D], one-hot labels [B, K]. */
export function mobincepLoss(logits: tf.Tensor2D, features: tf.Tensor2D, oneHot: tf.Tensor2D, options: MobincepLossOptions = {}): MobincepLossParts {
  const gamma1 = options.gamma1 ?? MOBINCEP_DEFAULTS.gamma1;
  const gamma2 = options.gamma2 ?? MOBINCEP_DEFAULTS.gamma2;
  return tf.tidy(() => {
    const crossEntropy = softmaxCrossEntropy(logits, oneHot);
    const { separation, scatter, present } = centroidTerms(features, oneHot);
    const separable = tf.greaterEqual(present, 2);
    const denominator = tf.where(separable, tf.add(separation, SEPARATION_EPSILON), tf.onesLike(separation));
    const separationTerm = tf.where(separable, tf.div(gamma1, denominator), tf.zerosLike(separation)) as tf.Scalar;
    const scatterTerm = tf.mul(scatter, gamma2) as tf.Scalar;
    const total = tf.addN([crossEntropy, separationTerm, scatterTerm]) as tf.Scalar;
    return { total, crossEntropy, separationTerm, scatterTerm };
  });
}

export interface MobincepTrainingLossOptions extends MobincepLossOptions {
  /** Where the centroid terms act: the pooled features (default) or the logits (as the seed's script). */
  space?: 'features' | 'logits';
}

/**
 * `computeLoss` for the shared training loop (engine/train.ts): batches carry
 * images in `xs` and labels in `ys` (class indices [B] or one-hot [B, K]).
 * The joint logits-and-features model is built once per classifier.
 */
export function mobincepTrainingLoss(model: LayersModel, options: MobincepTrainingLossOptions = {}): (batch: Batch, training: boolean) => tf.Scalar {
  const joint = mobincepJointModel(model);
  const classes = model.outputs[0].shape[1] as number;
  const space = options.space ?? 'features';
  return (batch, training) =>
    tf.tidy(() => {
      if (batch.ys === undefined) throw new Error('Mobincep training batches need labels (ys)');
      const [logits, features] = joint.apply(batch.xs, { training }) as tf.Tensor2D[];
      const oneHot = oneHotLabels(batch.ys, classes);
      return mobincepLoss(logits, space === 'logits' ? logits : features, oneHot, options).total;
    });
}
