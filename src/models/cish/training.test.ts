import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { encodeAll, trainModel, type BatchProvider } from '../../engine/train';
import { buildCishAutoencoder } from './model';
import { meanSquaredError } from './losses';
import { syntheticBatch } from './testing/synthetic-tiles';

/**
 * CISH training at full size (300×300) on the wasm backend, with small
 * batches so that it stays fast on two cores.
 */

const SIZE = 300;

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function provider(data: Float32Array, count: number, batch: number): BatchProvider {
  return {
    stepsPerEpoch: Math.ceil(count / batch),
    getBatch: (_epoch, step) => {
      const from = step * batch;
      const to = Math.min(count, from + batch);
      return { xs: tf.tensor4d(data.subarray(from * SIZE * SIZE, to * SIZE * SIZE), [to - from, SIZE, SIZE, 1]) };
    },
  };
}

describe('CISH training on wasm', () => {
  it('runs training steps (no missing kernel), lowers the loss and leaks no tensors', async () => {
    const { autoencoder } = buildCishAutoencoder({ seed: 5 });
    const { data } = syntheticBatch(8, SIZE, 100);
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(5e-3);
    const losses: number[] = [];
    const result = await trainModel({
      model: autoencoder,
      optimizer,
      loss: meanSquaredError,
      batches: provider(data, 8, 8),
      epochs: 6,
      onProgress: (p) => losses.push(p.loss),
    });
    expect(result.status).toBe('completed');
    expect(losses.length).toBe(6);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Every step goes downhill on the same batch: the gradients are right in sign and scale.
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(losses[5]).toBeLessThan(losses[0] * 0.995);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('separates two kinds of tiles in the 2-D latent space after a short training', async () => {
    const { autoencoder, encoder } = buildCishAutoencoder({ seed: 9 });
    const count = 16;
    const { data, labels } = syntheticBatch(count, SIZE, 200);
    const optimizer = tf.train.adam(2e-3);
    const result = await trainModel({
      model: autoencoder,
      optimizer,
      loss: meanSquaredError,
      batches: provider(data, count, 8),
      epochs: 8,
    });
    optimizer.dispose();
    expect(result.history[result.history.length - 1].loss).toBeLessThan(result.history[0].loss);

    const batches = [0, 8].map((from) =>
      tf.tensor4d(data.subarray(from * SIZE * SIZE, (from + 8) * SIZE * SIZE), [8, SIZE, SIZE, 1]),
    );
    const codes = await encodeAll(encoder, batches);
    expect(codes.length).toBe(count * 2);
    // Project on the line between the class centroids: the classes must not overlap.
    const mean = [0, 1].map((c) => {
      const idx = labels.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
      return [0, 1].map((d) => idx.reduce((s, i) => s + codes[i * 2 + d], 0) / idx.length);
    });
    const axis = [mean[1][0] - mean[0][0], mean[1][1] - mean[0][1]];
    const separation = Math.hypot(axis[0], axis[1]);
    expect(separation).toBeGreaterThan(0);
    const proj = labels.map((_, i) => codes[i * 2] * axis[0] + codes[i * 2 + 1] * axis[1]);
    const class0 = proj.filter((_, i) => labels[i] === 0);
    const class1 = proj.filter((_, i) => labels[i] === 1);
    expect(Math.max(...class0)).toBeLessThan(Math.min(...class1));
  });
});
