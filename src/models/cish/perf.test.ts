import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from '../../engine/wasm-node';
import { setSimdKernelsEnabled } from '../../engine/simd';
import { buildCishAutoencoder } from './model';
import { meanSquaredError } from './losses';

/**
 * Timings of the CISH model on the wasm backend in Node (single-threaded
 * SIMD), batch 32 of 300×300: encoder forward and one Adam/MSE step.
 * Skipped unless TILESCOPE_BENCH=1; compare with
 * the PyTorch timings that `npm run bench` takes in the same run (bench/models_reference.py).
 */

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe.skipIf(process.env.TILESCOPE_BENCH !== '1')('CISH performance (wasm, Node)', () => {
  it('times encoding and training', async () => {
    expect(await initNodeBackend('wasm')).toBe('wasm');
    const runs = Number(process.env.TILESCOPE_BENCH_RUNS ?? 7);
    const { autoencoder, encoder } = buildCishAutoencoder({ seed: 1 });
    const xs = tf.randomUniform([32, 300, 300, 1], 0, 1, 'float32', 3);
    const vars = autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
    const report: string[] = [];
    for (const simd of [true, false]) {
      setSimdKernelsEnabled(simd);
      const optimizer = tf.train.adam(1e-3);
      const step = async () => {
        const loss = tf.tidy(
          () =>
            optimizer.minimize(
              () => meanSquaredError(xs, autoencoder.apply(xs, { training: true }) as tf.Tensor),
              true,
              vars,
            ) as tf.Scalar,
        );
        await loss.data();
        loss.dispose();
      };
      const encode = async () => {
        const codes = tf.tidy(() => encoder.predictOnBatch(xs) as tf.Tensor);
        await codes.data();
        codes.dispose();
      };
      for (const [name, fn] of [
        ['encoder forward', encode],
        ['training step', step],
      ] as const) {
        await fn();
        await fn();
        const times: number[] = [];
        const cpu: number[] = [];
        for (let i = 0; i < runs; i++) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await fn();
          times.push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1000);
        }
        // CPU time is what one thread spends; on a shared, loaded machine it is far
        // steadier than wall time (the wasm backend is single-threaded here).
        report.push(
          `tfjs wasm ${simd ? 'with' : 'without'} SIMD kernels, ${name}: wall median ${median(times).toFixed(0)} ` +
            `(min ${Math.min(...times).toFixed(0)}), CPU median ${median(cpu).toFixed(0)} ms/batch 32`,
        );
      }
      optimizer.dispose();
    }
    setSimdKernelsEnabled(true);
    xs.dispose();
    console.log(report.join('\n'));
  }, 600_000);
});
