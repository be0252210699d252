import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from './wasm-node';
import { AMSGradOptimizer, amsgrad } from './amsgrad';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** The AMSGrad update written out element by element in float64 (PyTorch's form). */
function directAmsgrad(
  start: number[],
  gradients: number[][],
  { lr, beta1, beta2, eps }: { lr: number; beta1: number; beta2: number; eps: number },
): number[][] {
  const theta = start.slice();
  const m = start.map(() => 0);
  const v = start.map(() => 0);
  const vHat = start.map(() => 0);
  const trajectory: number[][] = [];
  gradients.forEach((g, step) => {
    const t = step + 1;
    for (let j = 0; j < theta.length; j++) {
      m[j] = beta1 * m[j] + (1 - beta1) * g[j];
      v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j];
      vHat[j] = Math.max(vHat[j], v[j]);
      const mHat = m[j] / (1 - beta1 ** t);
      const denominator = Math.sqrt(vHat[j] / (1 - beta2 ** t)) + eps;
      theta[j] -= (lr * mHat) / denominator;
    }
    trajectory.push(theta.slice());
  });
  return trajectory;
}

function closeTo(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    expect(Math.abs(actual[j] - expected[j])).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected[j])));
  }
}

// A large first gradient, then small ones of changing sign: v falls after step 1, so
// v̂ (the running maximum) and v part ways and the max matters from step 2 on.
const GRADS_A = [
  [3.0, -2.0, 0.5],
  [0.1, 0.2, -0.4],
  [-0.05, 0.3, 0.6],
  [0.2, -0.1, 0.0],
  [-1.5, 0.05, 0.2],
];
const GRADS_B = [
  [[0.4, -0.3], [1.0, 2.0]],
  [[-0.2, 0.1], [0.5, -0.5]],
  [[0.0, 0.9], [-0.1, 0.2]],
  [[0.3, 0.3], [0.3, 0.3]],
  [[-2.0, 0.0], [0.0, 1.0]],
];
const START_A = [0.5, -1.0, 2.0];
const START_B = [[1.0, 2.0], [-3.0, 0.25]];

/** Fresh variables at the start values (made in tidy so that the initial tensors are freed). */
function startVariables(): [tf.Variable, tf.Variable] {
  return tf.tidy(() => [tf.variable(tf.tensor1d(START_A)), tf.variable(tf.tensor2d(START_B))]);
}

function runSteps(optimizer: tf.Optimizer, a: tf.Variable, b: tf.Variable, from: number, to: number): void {
  for (let step = from; step < to; step++) {
    tf.tidy(() => {
      optimizer.applyGradients({ [a.name]: tf.tensor1d(GRADS_A[step]), [b.name]: tf.tensor2d(GRADS_B[step]) });
    });
  }
}

describe('AMSGrad optimizer', () => {
  it('matches the direct AMSGrad update over five steps (two variables, lr 0.1, ε 1e-8)', () => {
    const settings = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const [a, b] = startVariables();
    const optimizer = new AMSGradOptimizer(settings.lr, settings.beta1, settings.beta2, settings.eps);
    const expectedA = directAmsgrad(START_A, GRADS_A, settings);
    const expectedB = directAmsgrad(START_B.flat(), GRADS_B.map((g) => g.flat()), settings);
    for (let step = 0; step < GRADS_A.length; step++) {
      runSteps(optimizer, a, b, step, step + 1);
      closeTo(a.dataSync(), expectedA[step], 2e-6);
      closeTo(b.dataSync(), expectedB[step], 2e-6);
    }
    expect(optimizer.iterations).toBe(5);
    // PyTorch 1.13, torch.optim.Adam(amsgrad=True) in float64 with these settings and
    // gradients, gives after five steps (printed once and copied here):
    closeTo(a.dataSync(), [0.22002655905594037, -0.746792498413168, 1.7649039814365393], 2e-6);
    optimizer.dispose();
    tf.dispose([a, b]);
  });

  it('differs from Adam once the second moment falls, and equals it before', () => {
    const settings = { lr: 0.1, beta1: 0.9, beta2: 0.9, eps: 1e-8 };
    const [a, b] = startVariables();
    const [adamA, adamB] = startVariables();
    const ams = new AMSGradOptimizer(settings.lr, settings.beta1, settings.beta2, settings.eps);
    const adam = tf.train.adam(settings.lr, settings.beta1, settings.beta2, settings.eps);
    runSteps(ams, a, b, 0, 1);
    runSteps(adam, adamA, adamB, 0, 1);
    closeTo(a.dataSync(), Array.from(adamA.dataSync()), 1e-6);
    runSteps(ams, a, b, 1, 5);
    runSteps(adam, adamA, adamB, 1, 5);
    const gap = Math.max(...Array.from(a.dataSync()).map((x, j) => Math.abs(x - adamA.dataSync()[j])));
    expect(gap).toBeGreaterThan(1e-3);
    closeTo(a.dataSync(), directAmsgrad(START_A, GRADS_A, settings)[4], 2e-6);
    ams.dispose();
    adam.dispose();
    tf.dispose([a, b, adamA, adamB]);
  });

  it('minimises a quadratic through minimize()', () => {
    const x = tf.tidy(() => tf.variable(tf.tensor1d([3, -4])));
    const optimizer = amsgrad({ learningRate: 0.2 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const loss = optimizer.minimize(() => tf.sum(tf.square(x)) as tf.Scalar, true)!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.2);
    optimizer.dispose();
    x.dispose();
  });

  it('saves and restores its state (getWeights / setWeights) and continues identically', async () => {
    const settings = { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6 };
    const [a, b] = startVariables();
    const first = new AMSGradOptimizer(settings.lr, settings.beta1, settings.beta2, settings.eps);
    runSteps(first, a, b, 0, 3);

    const saved = await first.getWeights();
    expect(saved.map((w) => w.name)).toEqual([
      'iter',
      `${a.name}/m`,
      `${b.name}/m`,
      `${a.name}/v`,
      `${b.name}/v`,
      `${a.name}/vhat`,
      `${b.name}/vhat`,
    ]);
    expect(saved[0].tensor.dataSync()[0]).toBe(3);
    // A copy elsewhere: other variables (other names), the same values, the state restored.
    const [copyA, copyB] = tf.tidy(() => [tf.variable(a.clone()), tf.variable(b.clone())]);
    const restored = AMSGradOptimizer.fromConfig(AMSGradOptimizer, first.getConfig()) as AMSGradOptimizer;
    const transferred = saved.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    await restored.setWeights(transferred);
    tf.dispose(transferred.map((w) => w.tensor));
    saved[0].tensor.dispose();
    expect(restored.iterations).toBe(3);

    runSteps(first, a, b, 3, 5);
    runSteps(restored, copyA, copyB, 3, 5);
    expect(Array.from(copyA.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(copyB.dataSync())).toEqual(Array.from(b.dataSync()));
    closeTo(a.dataSync(), directAmsgrad(START_A, GRADS_A, settings)[4], 2e-6);
    first.dispose();
    restored.dispose();
    tf.dispose([a, b, copyA, copyB]);
  });

  it('is registered for serialisation by class name', () => {
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[new AMSGradOptimizer(1e-4).getClassName()];
    expect(entry).toBeDefined();
    const rebuilt = entry[1](entry[0], { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-5 }) as AMSGradOptimizer;
    expect(rebuilt).toBeInstanceOf(AMSGradOptimizer);
    expect(rebuilt.getConfig()).toEqual({ learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-5 });
  });

  it('leaks no tensors: slots are made once, freed by dispose() and by setWeights()', async () => {
    const before = tf.memory().numTensors;
    // Made inside tidy so that the initial values are freed (variables survive tidy).
    const [a, b] = tf.tidy(() => [tf.variable(tf.tensor1d(START_A)), tf.variable(tf.tensor2d(START_B))]);
    const optimizer = new AMSGradOptimizer(0.01);
    runSteps(optimizer, a, b, 0, 1);
    const afterOne = tf.memory().numTensors;
    expect(afterOne).toBe(before + 2 + 6); // two variables, three slots each
    runSteps(optimizer, a, b, 1, 5);
    expect(tf.memory().numTensors).toBe(afterOne);
    const saved = await optimizer.getWeights();
    await optimizer.setWeights(saved); // replaces its slots by new ones
    saved[0].tensor.dispose();
    expect(tf.memory().numTensors).toBe(afterOne);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad settings', () => {
    expect(() => new AMSGradOptimizer(-1)).toThrow(RangeError);
    expect(() => new AMSGradOptimizer(1e-3, 1)).toThrow(RangeError);
    expect(() => new AMSGradOptimizer(1e-3, 0.9, -0.1)).toThrow(RangeError);
  });
});
