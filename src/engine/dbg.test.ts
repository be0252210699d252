import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from './wasm-node';
import { buildCishAutoencoder } from '../models/cish/model';
import { meanSquaredError } from '../models/cish/losses';

it('profile', async () => {
  await initNodeBackend('wasm');
  const { autoencoder, encoder } = buildCishAutoencoder({ seed: 1 });
  const xs = tf.randomUniform([32, 300, 300, 1]);
  const opt = tf.train.adam(1e-3);
  const vars = autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => tf.tidy(() => opt.minimize(() => meanSquaredError(xs, autoencoder.apply(xs, { training: true }) as tf.Tensor), true, vars) as tf.Scalar);
  const enc = () => tf.tidy(() => encoder.predictOnBatch(xs) as tf.Tensor);
  for (const [label, f] of [['train', step], ['encode', enc]] as const) {
    for (let i = 0; i < 2; i++) { const l = f(); await l.data(); l.dispose(); }
    let best: { name: string; ms: number; shapes: string }[] | null = null;
    for (let r = 0; r < 4; r++) {
      const prof = await tf.profile(() => f());
      const rows = prof.kernels.filter(k => !k.name.endsWith('__op')).map(k => ({ name: k.name, ms: k.kernelTimeMs as number, shapes: JSON.stringify(k.inputShapes) }));
      if (best === null) best = rows; else rows.forEach((row, i) => { if (best![i] && best![i].name === row.name) best![i].ms = Math.min(best![i].ms, row.ms); });
    }
    const agg: Record<string, number> = {};
    for (const k of best!) agg[k.name] = (agg[k.name] ?? 0) + k.ms;
    if (process.env.DETAIL) for (const k of best!) if (k.ms > 3) console.log(label, k.name, k.ms.toFixed(1), k.shapes);
    console.log(label, Object.entries(agg).sort((a, b) => b[1] - a[1]).filter(e => e[1] > 1).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '));
    console.log(label, 'total(min per kernel)', Object.values(agg).reduce((a, b) => a + b, 0).toFixed(0));
  }
}, 600000);
