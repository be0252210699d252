import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { trainModel, type BatchProvider } from '../../engine/train';
import { AMSGradOptimizer } from '../../engine/amsgrad';
import { buildMobincep, createMobincepOptimizer, disposeModelWeights } from './model';
import { mobincepTrainingLoss } from './losses';

/**
 * Mobincep trained by the shared loop on wasm (depth-wise conv gradients
 * included), at ⅛ width on 32×32 and 64×64 images so that it takes seconds.
 */

const SIZE = 32;
const CLASSES = 3;
const BATCH = 4;

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** The same 4 images every step: one bright-square class, one stripe class, one noise class. */
function images(SIZE: number): { xs: Float32Array; ys: Int32Array } {
  const xs = new Float32Array(BATCH * SIZE * SIZE * 3);
  const ys = Int32Array.from([0, 1, 2, 1]);
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  ys.forEach((label, b) => {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const v = label === 0 ? (x > SIZE / 4 && x < (3 * SIZE) / 4 && y > SIZE / 4 && y < (3 * SIZE) / 4 ? 1 : 0) : label === 1 ? ((x >> 2) & 1) : random();
        for (let c = 0; c < 3; c++) xs[((b * SIZE + y) * SIZE + x) * 3 + c] = v;
      }
    }
  });
  return { xs, ys };
}

/** One step per epoch, so no batch is read ahead when progress is reported. */
function provider(SIZE: number): BatchProvider {
  const data = images(SIZE);
  return {
    stepsPerEpoch: 1,
    getBatch: () => ({ xs: tf.tensor4d(data.xs, [BATCH, SIZE, SIZE, 3]), ys: tf.tensor1d(data.ys, 'int32') }),
  };
}

describe('Mobincep training on wasm', () => {
  it('takes finite steps that change every weight group, with AMSGrad, and leaks no tensors over 20 steps', async () => {
    const model = buildMobincep({ classes: CLASSES, inputSize: SIZE, width: 0.125, seed: 7 });
    const optimizer = createMobincepOptimizer();
    expect(optimizer).toBeInstanceOf(AMSGradOptimizer);
    const before = model.trainableWeights.map((w) => w.read().dataSync().slice());
    const losses: number[] = [];
    const tensorCounts: number[] = [];
    let weightsAfterFirst: Float32Array[] | null = null;
    const result = await trainModel({
      model,
      optimizer,
      computeLoss: mobincepTrainingLoss(model),
      batches: provider(SIZE),
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
    // The first step moved every trainable tensor (convs, BN, the linear layer).
    const changed = weightsAfterFirst!.map((after, i) => after.some((v, j) => v !== before[i][j]));
    expect(changed.every(Boolean)).toBe(true);
    // Optimiser slots are made at step 1; afterwards the count stays put.
    expect(tensorCounts[19]).toBe(tensorCounts[0]);
    optimizer.dispose();
    disposeModelWeights(model);
  });

  it("lowers the loss on a repeated batch at the seed's learning rate, centroid terms on features or logits", async () => {
    // 64 px, so that the last layers are 2×2: at 32 px they are 1×1 and batch
    // norm over 4 values per channel makes single steps jump about.
    for (const space of ['features', 'logits'] as const) {
      const model = buildMobincep({ classes: CLASSES, inputSize: 64, width: 0.125, seed: 8 });
      const optimizer = createMobincepOptimizer(); // AMSGrad, lr 1e-4
      const losses: number[] = [];
      await trainModel({
        model,
        optimizer,
        computeLoss: mobincepTrainingLoss(model, { space }),
        batches: provider(64),
        epochs: 10,
        onProgress: (p) => losses.push(p.loss),
      });
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[9]).toBeLessThan(0.75 * losses[0]);
      optimizer.dispose();
      disposeModelWeights(model);
    }
  });
});
