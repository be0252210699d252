/**
 * The model-specific parts of a data-parallel copy (engine/data-parallel.ts):
 * each model names its loss and its encoder here, so the copies' worker stays
 * generic. Options come from the master copy's training settings.
 */
import type { ReplicaAdapter, ReplicaSpec } from '../engine/data-parallel';
import { cishEncodeFunction, splitCishAutoencoder } from './cish/model';
import { cishLoss } from './cish/losses';
import { rootMeanSquaredError } from './nuclei/model';
import type { CishLossName } from './cish/defaults';
import type * as tf from '@tensorflow/tfjs-core';

export function replicaAdapter(name: string, options: ReplicaSpec['options'] = {}): ReplicaAdapter {
  switch (name) {
    case 'cish': {
      const loss = cishLoss((options.loss as CishLossName | undefined) ?? 'mse');
      return {
        lossOf: (model, batch) => loss(batch.ys ?? batch.xs, model.apply(batch.xs, { training: true }) as tf.Tensor),
        encoder: (model) => cishEncodeFunction(splitCishAutoencoder(model).encoder),
      };
    }
    case 'csp-cae':
      return {
        lossOf: (model, batch) => rootMeanSquaredError(batch.ys ?? batch.xs, model.apply(batch.xs, { training: true }) as tf.Tensor),
      };
    default:
      throw new Error(`no data-parallel adapter for model '${name}'`);
  }
}
