import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initNodeBackend } from './wasm-node';
import { encodeAll, TrainingControl, trainModel, type Batch, type BatchProvider } from './train';

/**
 * The generic loop on a small regression model: y = x·w_true + noise-free.
 */

const W_TRUE = [0.5, -1, 2, 0.25];

function makeData(n: number, seed: number): { xs: Float32Array; ys: Float32Array } {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const xs = new Float32Array(n * 4);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let y = 0;
    for (let k = 0; k < 4; k++) {
      xs[i * 4 + k] = rand();
      y += xs[i * 4 + k] * W_TRUE[k];
    }
    ys[i] = y;
  }
  return { xs, ys };
}

function provider(n: number, batch: number, seed = 1): BatchProvider & { created: number } {
  const { xs, ys } = makeData(n, seed);
  const p = {
    created: 0,
    stepsPerEpoch: Math.ceil(n / batch),
    getBatch(_epoch: number, step: number): Batch {
      p.created++;
      const from = step * batch;
      const to = Math.min(n, from + batch);
      return {
        xs: tf.tensor2d(xs.subarray(from * 4, to * 4), [to - from, 4]),
        ys: tf.tensor2d(ys.subarray(from, to), [to - from, 1]),
      };
    },
  };
  return p;
}

function linearModel(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ inputShape: [4], units: 1, kernelInitializer: 'zeros' }));
  return model;
}

const mse = (t: tf.Tensor, p: tf.Tensor) => tf.mean(tf.squaredDifference(t, p)) as tf.Scalar;

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

describe('trainModel', () => {
  it('fits, reports progress and leaks no tensors', async () => {
    const model = linearModel();
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(0.05);
    const events: Array<{ epoch: number; step: number; eta: number | null; sps: number }> = [];
    const epochEnds: number[] = [];
    const result = await trainModel({
      model,
      optimizer,
      loss: mse,
      batches: provider(64, 16),
      validation: provider(32, 16, 99),
      epochs: 40,
      onProgress: (p) => events.push({ epoch: p.epoch, step: p.step, eta: p.etaSeconds, sps: p.samplesPerSecond }),
      onEpochEnd: (s) => {
        epochEnds.push(s.epoch);
      },
    });
    expect(result.status).toBe('completed');
    expect(result.epochsRun).toBe(40);
    expect(events.length).toBe(40 * 4);
    expect(events[5]).toMatchObject({ epoch: 1, step: 2 });
    expect(events.every((e) => e.eta !== null && e.eta >= 0 && e.sps > 0)).toBe(true);
    expect(events[events.length - 1].eta).toBe(0);
    expect(epochEnds).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const first = result.history[0];
    const last = result.history[result.history.length - 1];
    expect(last.loss).toBeLessThan(first.loss * 0.05);
    expect(last.valLoss).not.toBeNull();
    expect(last.valLoss!).toBeLessThan(first.valLoss! * 0.05);
    const w = (model.getWeights()[0].dataSync() as Float32Array).map((v, i) => Math.abs(v - W_TRUE[i]));
    expect(Math.max(...w)).toBeLessThan(0.1);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops on abort, disposes batches read ahead and leaks nothing', async () => {
    const model = linearModel();
    const before = tf.memory().numTensors;
    const optimizer = tf.train.sgd(0.1);
    const controller = new AbortController();
    const source = provider(160, 16);
    let steps = 0;
    const result = await trainModel({
      model,
      optimizer,
      loss: mse,
      batches: source,
      epochs: 5,
      prefetch: 3,
      signal: controller.signal,
      onProgress: () => {
        steps++;
        if (steps === 3) controller.abort();
      },
    });
    expect(result.status).toBe('cancelled');
    expect(steps).toBe(3);
    expect(source.created).toBeGreaterThan(3); // batches were read ahead …
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before); // … and released
  });

  it('stops early after `patience` epochs without improvement and can restore the best weights', async () => {
    // Loss = c(epoch) − Σw: SGD raises w every step, while c makes every epoch after the first look worse.
    const model = linearModel();
    const kernel = model.trainableWeights[0].read() as tf.Variable;
    let epochSeen = 0;
    const snapshots: number[][] = [];
    const result = await trainModel({
      model,
      optimizer: tf.train.sgd(0.1),
      computeLoss: () => tf.sub(tf.scalar(10 * epochSeen), tf.sum(kernel)) as tf.Scalar,
      batches: provider(32, 16),
      epochs: 10,
      earlyStopping: { patience: 2, restoreBestWeights: true },
      onEpochEnd: (s) => {
        snapshots.push(Array.from(kernel.dataSync()));
        epochSeen = s.epoch + 1;
      },
    });
    expect(result.status).toBe('early-stopped');
    expect(result.epochsRun).toBe(3);
    expect(result.bestEpoch).toBe(0);
    expect(Array.from(kernel.dataSync())).toEqual(snapshots[0]);
    expect(snapshots[2]).not.toEqual(snapshots[0]);
  });

  it('with waitBelow, counts patience only once the loss has gone below it', async () => {
    // Per-epoch losses: flat at chance (5.x) for five epochs, then learning (3), then worse again.
    const losses = [5, 5.1, 5.2, 5.3, 5.4, 3, 3.1, 3.2, 3.3, 3.4];
    const run = async (waitBelow?: number) => {
      const model = linearModel();
      const kernel = model.trainableWeights[0].read() as tf.Variable;
      let epochSeen = 0;
      const result = await trainModel({
        model,
        optimizer: tf.train.sgd(0.1),
        computeLoss: () => tf.add(tf.scalar(losses[epochSeen]), tf.mul(0, tf.sum(kernel))) as tf.Scalar,
        batches: provider(32, 16),
        epochs: losses.length,
        earlyStopping: { patience: 2, waitBelow },
        onEpochEnd: (s) => {
          epochSeen = s.epoch + 1;
        },
      });
      model.dispose();
      return result;
    };
    const plain = await run();
    expect(plain.status).toBe('early-stopped');
    expect(plain.epochsRun).toBe(3);
    const waiting = await run(4);
    expect(waiting.status).toBe('early-stopped');
    expect(waiting.bestEpoch).toBe(5);
    expect(waiting.epochsRun).toBe(8);
  });

  it('pauses between steps and resumes', async () => {
    const model = linearModel();
    const control = new TrainingControl();
    const stamps: number[] = [];
    let resumedAt = 0;
    const result = await trainModel({
      model,
      optimizer: tf.train.sgd(0.1),
      loss: mse,
      batches: provider(64, 16),
      epochs: 1,
      control,
      onProgress: (p) => {
        stamps.push(performance.now());
        if (p.step === 2) {
          control.pause();
          setTimeout(() => {
            resumedAt = performance.now();
            control.resume();
          }, 80);
        }
      },
    });
    expect(result.status).toBe('completed');
    expect(stamps.length).toBe(4);
    expect(stamps[2]).toBeGreaterThanOrEqual(resumedAt);
    expect(stamps[2] - stamps[1]).toBeGreaterThanOrEqual(70);
  });

  it('reads async iterables ahead and learns their length after one epoch', async () => {
    const model = linearModel();
    const { xs, ys } = makeData(48, 3);
    let produced = 0;
    let consumedSteps = 0;
    let maxAhead = 0;
    const lengths: Array<number | null> = [];
    async function* epochBatches(): AsyncGenerator<Batch> {
      for (let i = 0; i < 6; i++) {
        await Promise.resolve();
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumedSteps);
        yield {
          xs: tf.tensor2d(xs.subarray(i * 32, i * 32 + 32), [8, 4]),
          ys: tf.tensor2d(ys.subarray(i * 8, i * 8 + 8), [8, 1]),
        };
      }
    }
    const before = tf.memory().numTensors;
    const optimizer = tf.train.sgd(0.05);
    await trainModel({
      model,
      optimizer,
      loss: mse,
      batches: () => epochBatches(),
      epochs: 2,
      prefetch: 2,
      onProgress: (p) => {
        consumedSteps++;
        lengths.push(p.stepsPerEpoch);
      },
    });
    expect(lengths.slice(0, 6).every((l) => l === null)).toBe(true);
    expect(lengths.slice(6).every((l) => l === 6)).toBe(true);
    expect(maxAhead).toBeGreaterThanOrEqual(2);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('encodeAll', () => {
  it('concatenates the codes of every batch in order and disposes the inputs', async () => {
    const model = linearModel();
    model.setWeights([tf.tensor2d(W_TRUE, [4, 1]), tf.tensor1d([1])]);
    const { xs, ys } = makeData(20, 4);
    const before = tf.memory().numTensors;
    const batches = [0, 8, 16].map((from) => {
      const to = Math.min(20, from + 8);
      return tf.tensor2d(xs.subarray(from * 4, to * 4), [to - from, 4]);
    });
    const codes = await encodeAll(model, batches);
    expect(codes.length).toBe(20);
    for (let i = 0; i < 20; i++) expect(codes[i]).toBeCloseTo(ys[i] + 1, 5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
