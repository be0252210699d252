import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from './wasm-node';
import { Replica, modelArtifacts, optimizerSpec, splitRows, type ReplicaPeer } from './data-parallel';
import { encodeAll, trainModel, type Batch } from './train';
import { buildCishAutoencoder, cishEncodeFunction, splitCishAutoencoder } from '../models/cish/model';
import { meanSquaredError } from '../models/cish/losses';
import { replicaAdapter } from '../models/replica-adapters';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function maxRelativeDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((x, i) => {
    let scale = 0;
    let diff = 0;
    for (let k = 0; k < x.length; k++) {
      scale = Math.max(scale, Math.abs(x[k]));
      diff = Math.max(diff, Math.abs(x[k] - b[i][k]));
    }
    worst = Math.max(worst, diff / Math.max(scale, 1e-12));
  });
  return worst;
}

const weightsOf = (model: { getWeights(): tf.Tensor[] }) => model.getWeights().map((w) => w.dataSync().slice() as Float32Array);

describe('data-parallel training', () => {
  it('splits rows evenly and drops empty shares', () => {
    expect(splitRows(32, 2)).toEqual([
      [0, 16],
      [16, 32],
    ]);
    expect(splitRows(7, 3)).toEqual([
      [0, 2],
      [2, 5],
      [5, 7],
    ]);
    expect(splitRows(1, 3)).toEqual([[0, 1]]);
  });

  it('two copies give the weights of one-copy training on the whole batch, stay identical, and leak nothing', async () => {
    const data = tf.tidy(() => tf.randomUniform([4, 9, 60, 60, 1], 0, 1, 'float32', 5).dataSync().slice() as Float32Array);
    const batchAt = (step: number): Batch => {
      const size = 9 * 60 * 60;
      return { xs: tf.tensor4d(data.subarray(step * size, (step + 1) * size), [9, 60, 60, 1]) };
    };
    const train = async (peers: ReplicaPeer[]) => {
      const { autoencoder } = buildCishAutoencoder({ inputSize: 60, seed: 3 });
      const optimizer = tf.train.adam(1e-3);
      for (const peer of peers) {
        await peer.load({ artifacts: await modelArtifacts(autoencoder), optimizer: optimizerSpec(optimizer), adapter: 'cish', options: { loss: 'mse' } });
      }
      const result = await trainModel({
        model: autoencoder,
        optimizer,
        loss: meanSquaredError,
        batches: { stepsPerEpoch: 4, getBatch: (_epoch, step) => batchAt(step) },
        epochs: 2,
        peers,
      });
      optimizer.dispose();
      return { autoencoder, result };
    };
    const single = await train([]);
    const before = tf.memory().numTensors;
    const copies = [new Replica(replicaAdapter), new Replica(replicaAdapter)];
    const parallel = await train(copies);
    // Same losses and weights as one copy on the whole batch (9 rows: shares of 3).
    parallel.result.history.forEach((epoch, i) => expect(epoch.loss).toBeCloseTo(single.result.history[i].loss, 6));
    const master = weightsOf(parallel.autoencoder);
    expect(maxRelativeDifference(master, weightsOf(single.autoencoder))).toBeLessThan(1e-4);
    // Weights moved: the comparison above is not of untouched initial weights.
    const fresh = buildCishAutoencoder({ inputSize: 60, seed: 3 }).autoencoder;
    const untouched = weightsOf(fresh);
    for (const variable of fresh.weights) variable.dispose();
    expect(maxRelativeDifference(master, untouched)).toBeGreaterThan(1e-3);
    for (const copy of copies) expect(maxRelativeDifference(copy.weightsForTest(), master)).toBeLessThan(1e-6);

    // Encoding shared with the copies gives the codes of encoding alone, in order.
    const encode = cishEncodeFunction(splitCishAutoencoder(parallel.autoencoder).encoder);
    const batches = () => [0, 1, 2, 3].map(batchAt);
    const alone = await encodeAll(encode, batches());
    const shared = await encodeAll(encode, batches(), { peers: copies });
    expect(shared).toHaveLength(4 * 9 * 2);
    expect(maxRelativeDifference([shared], [alone])).toBeLessThan(1e-5);

    for (const copy of copies) await copy.release();
    for (const variable of parallel.autoencoder.weights) variable.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const variable of single.autoencoder.weights) variable.dispose();
  }, 120_000);
});
