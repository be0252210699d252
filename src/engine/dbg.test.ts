import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initNodeBackend } from './wasm-node';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
it('leak', async () => {
  await initNodeBackend('wasm');
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ inputShape: [4], units: 1 }));
  const x = tf.ones([2, 4]);
  for (const mk of [() => tf.train.sgd(0.1), () => tf.train.adam(0.1), () => tf.train.sgd(0.1)]) {
    const opt = mk();
    const b = tf.memory().numTensors;
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let i = 0; i < 2; i++) { const l = tf.tidy(() => opt.minimize(() => tf.mean(model.apply(x) as tf.Tensor) as tf.Scalar, true, vars)); l!.dispose(); }
    const mid = tf.memory().numTensors;
    opt.dispose();
    console.log(opt.getClassName(), b, mid, tf.memory().numTensors);
  }
});
