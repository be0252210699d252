import * as tf from '@tensorflow/tfjs-core';
import type { CishLossName } from './defaults';

/** A reconstruction loss: mean over every element of the batch, returned as a scalar. */
export type ReconstructionLoss = (target: tf.Tensor, prediction: tf.Tensor) => tf.Scalar;

export const meanSquaredError: ReconstructionLoss = (target, prediction) =>
  tf.tidy(() => tf.mean(tf.squaredDifference(target, prediction)) as tf.Scalar);

export const meanAbsoluteError: ReconstructionLoss = (target, prediction) =>
  tf.tidy(() => tf.mean(tf.abs(tf.sub(target, prediction))) as tf.Scalar);

export function cishLoss(name: CishLossName): ReconstructionLoss {
  switch (name) {
    case 'mse':
      return meanSquaredError;
    case 'mae':
      return meanAbsoluteError;
    default:
      throw new Error(`unknown CISH loss '${String(name)}'`);
  }
}
