import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from './wasm-node';
import { buildCishAutoencoder } from '../models/cish/model';
import { meanSquaredError } from '../models/cish/losses';

it('profile', async () => {
  console.log(await initNodeBackend('wasm'));
  const { autoencoder, encoder } = buildCishAutoencoder({ seed: 1 });
  const xs = tf.randomUniform([32, 300, 300, 1]);
  const opt = tf.train.adam(1e-3);
  const vars = autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => tf.tidy(() => opt.minimize(() => meanSquaredError(xs, autoencoder.apply(xs, { training: true }) as tf.Tensor), true, vars) as tf.Scalar);
  for (let i = 0; i < 2; i++) { const l = step(); await l.data(); l.dispose(); }
  const times: number[] = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); const l = step(); await l.data(); l.dispose(); times.push(performance.now() - t0); }
  console.log('train step ms', times.map(t => t.toFixed(0)).join(' '));
  const enc: number[] = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); const c = tf.tidy(() => encoder.predictOnBatch(xs) as tf.Tensor); await c.data(); c.dispose(); enc.push(performance.now() - t0); }
  console.log('encode ms', enc.map(t => t.toFixed(0)).join(' '));
  const prof = await tf.profile(() => { const l = step(); return l; });
  const agg: Record<string, number> = {};
  for (const k of prof.kernels) agg[k.name] = (agg[k.name] ?? 0) + (k.kernelTimeMs as number);
  if (process.env.DETAIL) for (const k of prof.kernels) if ((k.kernelTimeMs as number) > 5) console.log(k.name, (k.kernelTimeMs as number).toFixed(1), JSON.stringify(k.inputShapes), JSON.stringify(k.outputShapes));
  console.log(Object.entries(agg).sort((a, b) => b[1] - a[1]).filter(e => e[1] > 1).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('\n'));
  console.log('total', Object.entries(agg).filter(e => !e[0].endsWith('__op')).reduce((a, b) => a + b[1], 0).toFixed(0));
}, 600000);
