import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { encodeAll, trainModel, type BatchProvider } from '../../engine/train';
import { disposeModelWeights } from '../mobincep/model';
import { buildOrganet, createOrganetOptimizer, organetEncoder } from './model';
import { organetTrainingLoss } from './losses';
import { fitDec, predictDec } from './dec';

/**
 * OrgaNet trained by the shared loop on wasm (depth-wise conv, ReLU6 and
 * residual gradients), at ¼ width on 64×64×1 images adapted to 32×32×3, so
 * that it takes seconds.
 */

const SIZE = 64;
const CLASSES = 3;
const BATCH = 6;

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** Six grey images, two per class: a centred disc, horizontal stripes, vertical stripes. */
function images(): { xs: Float32Array; ys: Int32Array } {
  const xs = new Float32Array(BATCH * SIZE * SIZE);
  const ys = Int32Array.from([0, 1, 2, 0, 1, 2]);
  ys.forEach((label, b) => {
    const phase = b >= 3 ? 2 : 0;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const disc = (x - 32) ** 2 + (y - 32) ** 2 < (14 + phase) ** 2 ? 1 : 0;
        xs[(b * SIZE + y) * SIZE + x] = label === 0 ? disc : label === 1 ? ((y + phase) >> 3) & 1 : ((x + phase) >> 3) & 1;
      }
    }
  });
  return { xs, ys };
}

/** One step per epoch, so no batch is read ahead when progress is reported. */
function provider(): BatchProvider {
  const data = images();
  return {
    stepsPerEpoch: 1,
    getBatch: () => ({ xs: tf.tensor4d(data.xs, [BATCH, SIZE, SIZE, 1]), ys: tf.tensor1d(data.ys, 'int32') }),
  };
}

const small = { classes: CLASSES, inputSize: SIZE, adaptedSize: 32, width: 0.25, latentDim: 10 } as const;

describe('OrgaNet training on wasm', () => {
  it('takes finite steps that change every weight group, with Adam, and leaks no tensors over 20 steps', async () => {
    const model = buildOrganet({ ...small, seed: 3 });
    const optimizer = createOrganetOptimizer();
    const before = model.trainableWeights.map((w) => w.read().dataSync().slice());
    const losses: number[] = [];
    const tensorCounts: number[] = [];
    let weightsAfterFirst: Float32Array[] | null = null;
    const result = await trainModel({
      model,
      optimizer,
      computeLoss: organetTrainingLoss(model, { seed: 100 }),
      batches: provider(),
      epochs: 20,
      onProgress: (p) => {
        losses.push(p.loss);
        tensorCounts.push(tf.memory().numTensors);
        if (weightsAfterFirst === null) weightsAfterFirst = model.trainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
      },
    });
    expect(result.status).toBe('completed');
    expect(losses).toHaveLength(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    const changed = weightsAfterFirst!.map((after, i) => after.some((v, j) => v !== before[i][j]));
    expect(changed.every(Boolean)).toBe(true);
    expect(tensorCounts[19]).toBe(tensorCounts[0]);
    // Repeated batch at lr 1e-4: the loss comes down.
    expect(losses[19]).toBeLessThan(0.8 * losses[0]);

    // DEC on the trained latent: fitted and applied to the training images.
    const encoder = organetEncoder(model);
    const data = images();
    const codes = await encodeAll(encoder, [tf.tensor4d(data.xs, [BATCH, SIZE, SIZE, 1])]);
    expect(codes.length).toBe(BATCH * 10);
    const dec = fitDec(codes, data.ys, CLASSES, { seed: 1 });
    expect(predictDec(dec, codes)).toHaveLength(BATCH);
    expect(dec.trainingAccuracy).toBeGreaterThan(0);
    optimizer.dispose();
    disposeModelWeights(model);
  });

  it('trains the latent-as-logits variant (the seed script\'s layout) too', async () => {
    const model = buildOrganet({ ...small, classes: 10, latentAsLogits: true, seed: 4 });
    const optimizer = createOrganetOptimizer();
    const losses: number[] = [];
    await trainModel({
      model,
      optimizer,
      computeLoss: organetTrainingLoss(model, { seed: 7 }),
      batches: provider(),
      epochs: 3,
      onProgress: (p) => losses.push(p.loss),
    });
    expect(losses.every(Number.isFinite)).toBe(true);
    optimizer.dispose();
    disposeModelWeights(model);
  });
});
