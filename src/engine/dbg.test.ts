import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from './wasm-node';

async function time(label: string, f: () => tf.Tensor, reps = 5) {
  const ts: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now(); const y = f(); y.dispose(); ts.push(performance.now() - t0);
  }
  ts.shift(); ts.sort((a, b) => a - b);
  console.log(label.padEnd(50), ts[Math.floor(ts.length / 2)].toFixed(1));
}
it('micro', async () => {
  await initNodeBackend('wasm');
  const big4 = tf.randomUniform([32, 300, 300, 4]);
  const big1 = tf.randomUniform([32, 300, 300, 1]);
  const mid4 = tf.randomUniform([32, 150, 150, 4]);
  const r = (n: string, inputs: Record<string, tf.Tensor>, attrs: object) => () => tf.engine().runKernel(n, inputs, attrs as never) as tf.Tensor;
  await time('copy/Identity 300x300x4', r('Identity', { x: big4 }, {}));
  await time('Add bias 300x300x4', () => tf.add(big4, tf.ones([4])));
  await time('Relu 300x300x4', () => tf.relu(big4));
  await time('Transpose [32,300,300,4]->[300,300,32,4]', r('Transpose', { x: big4 }, { perm: [1, 2, 0, 3] }));
  await time('Transpose [32,300,300,4]->[4,300,300,32]', r('Transpose', { x: big4 }, { perm: [3, 1, 2, 0] }));
  await time('Transpose 6d maxpool split', () => tf.transpose(tf.reshape(big4, [32, 150, 2, 150, 2, 4]), [0, 1, 3, 5, 2, 4]));
  await time('Sum axes 0,1,2 of 300x300x4', () => tf.sum(big4, [0, 1, 2]));
  await time('Sum last axis [N,4]', () => tf.sum(tf.reshape(big4, [-1, 4]), 1));
  await time('matmul ones[1,N] x [N,4]', () => tf.matMul(tf.ones([1, 32 * 300 * 300]), tf.reshape(big4, [-1, 4])));
  await time('conv1x1 [32,150,150,4] -> 4ch', () => tf.conv2d(mid4, tf.ones([1, 1, 4, 4]), 1, 'valid'));
  await time('matMul [720000,4]x[4,4]^T', () => tf.matMul(tf.reshape(mid4, [-1, 4]), tf.ones([4, 4]), false, true));
  await time('matMul [720000,4]x[4,4]', () => tf.matMul(tf.reshape(mid4, [-1, 4]), tf.ones([4, 4])));
  await time('DepthToSpace 150x150x4 -> 300x300x1', () => tf.depthToSpace(mid4, 2));
  await time('MaxPool 2 on 300x300x4', () => tf.maxPool(big4, 2, 2, 'valid'));
  await time('conv 3x3 300x300 1->4', () => tf.conv2d(big1, tf.ones([3, 3, 1, 4]), 1, 'same'));
  await time('conv 3x3 300x300 4->1 (dx)', () => tf.conv2d(big4, tf.ones([3, 3, 4, 1]), 1, 'same'));
  await time('ArgMax last axis [2.88M,4]', () => tf.argMax(tf.reshape(big4, [-1, 4]), 1));
  await time('Multiply same shape 300x300x4', () => tf.mul(big4, big4));
  await time('Step 300x300x4', () => tf.step(big4));
  await time('Equal 300x300x4', () => tf.equal(big4, big4));
  await time('Cast bool->float 300x300x4', () => tf.cast(tf.equal(big4, big4), 'float32'));
  await time('upsample via tile? resizeNN', () => tf.image.resizeNearestNeighbor(mid4, [300, 300]));
  await time('Slice big4 to 1', () => tf.slice(big4, [0, 0, 0, 0], [1, 1, 1, 1]));
}, 600000);
