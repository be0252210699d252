import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from '../../engine/wasm-node';
import { CSP_CAE_PRESETS, buildCspCae, cspCaeForwardFlops, cspCaeParameters, disposeCspCae, rootMeanSquaredError, type CspCaePreset } from './model';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

const shapeOf = (models: ReturnType<typeof buildCspCae>, name: string) => models.autoencoder.getLayer(name).outputShape;

describe('crosswise-sparse CAE (seed 001, Tables 1–2)', () => {
  it('the paper preset has the tables\' layer shapes and its parameter count', () => {
    const models = buildCspCae({ preset: 'paper', seed: 1 });
    expect(shapeOf(models, 'part1_2_conv')).toEqual([null, 100, 100, 120]);
    expect(shapeOf(models, 'part1_3_pool')).toEqual([null, 50, 50, 120]);
    expect(shapeOf(models, 'part1_8_act')).toEqual([null, 25, 25, 1024]);
    expect(shapeOf(models, 'part2_2_bn')).toEqual([null, 25, 25, 1]); // D′
    expect(shapeOf(models, 'part3_2_act')).toEqual([null, 25, 25, 100]); // X′
    expect(shapeOf(models, 'part4_2_pool')).toEqual([null, 5, 5, 128]);
    expect(shapeOf(models, 'part4_4_act')).toEqual([null, 5, 5, 5]); // background code
    expect(shapeOf(models, 'part5_threshold')).toEqual([null, 25, 25, 1]); // D
    expect(shapeOf(models, 'part6_sparse')).toEqual([null, 25, 25, 100]); // X = X′ ⊙ D
    expect(shapeOf(models, 'part7_3_deconv')).toEqual([null, 50, 50, 640]);
    expect(shapeOf(models, 'part7_6_deconv')).toEqual([null, 100, 100, 320]);
    expect(shapeOf(models, 'part7_9_deconv')).toEqual([null, 100, 100, 3]);
    expect(shapeOf(models, 'part8_3_deconv')).toEqual([null, 25, 25, 128]);
    expect(shapeOf(models, 'part8_6_deconv')).toEqual([null, 50, 50, 128]);
    expect(shapeOf(models, 'part8_9_deconv')).toEqual([null, 100, 100, 64]);
    expect(shapeOf(models, 'part8_12_deconv')).toEqual([null, 100, 100, 3]);
    expect(models.autoencoder.outputs[0].shape).toEqual([null, 100, 100, 3]);
    const count = models.autoencoder.countParams();
    expect(count).toBe(cspCaeParameters('paper'));
    console.log(`CSP-CAE parameters: paper ${count.toLocaleString('en')}`);
    disposeCspCae(models);
  }, 60_000);

  it('width presets scale every layer but D′, the background code and the images; costs are counted', () => {
    const report: string[] = [];
    for (const preset of Object.keys(CSP_CAE_PRESETS) as CspCaePreset[]) {
      if (preset === 'paper') continue;
      const models = buildCspCae({ preset, seed: 2 });
      expect(models.autoencoder.countParams()).toBe(cspCaeParameters(preset));
      expect(shapeOf(models, 'part2_2_bn')).toEqual([null, 25, 25, 1]);
      expect(shapeOf(models, 'part4_4_act')).toEqual([null, 5, 5, 5]);
      expect(shapeOf(models, 'part3_2_act')).toEqual([null, 25, 25, Math.round(100 * CSP_CAE_PRESETS[preset].width)]);
      report.push(`${preset} ${models.autoencoder.countParams().toLocaleString('en')} parameters, ${(cspCaeForwardFlops(preset) / 1e9).toFixed(2)} GFLOP per patch`);
      disposeCspCae(models);
    }
    // The paper preset's forward pass: part 1 alone is 2·(100²·25·3·100 + 100²·25·100·120 + …) multiply-adds.
    expect(cspCaeForwardFlops('paper')).toBeGreaterThan(cspCaeForwardFlops('quarter') * 10);
    expect(cspCaeForwardFlops('paper', 100)).toBeGreaterThan(2 * (100 * 100 * 25 * 3 * 100 + 100 * 100 * 25 * 100 * 120));
    console.log(`CSP-CAE presets: paper ${(cspCaeForwardFlops('paper') / 1e9).toFixed(2)} GFLOP per patch; ${report.join('; ')}`);
    expect(() => buildCspCae({ inputSize: 90 })).toThrow(/multiple of 20/);
    expect(() => buildCspCae({ preset: 'huge' as CspCaePreset })).toThrow(/unknown preset/);
  });

  it('trains a step on wasm (every gradient kernel present), updates t, and leaks nothing', async () => {
    const models = buildCspCae({ preset: 'eighth', seed: 3, inputSize: 40 });
    const optimizer = tf.train.momentum(0.03, 0.9);
    const x = tf.randomUniform([4, 40, 40, 3], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const t0 = models.threshold.thresholdValue;
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      const loss = tf.tidy(() => optimizer.minimize(() => rootMeanSquaredError(x, models.autoencoder.apply(x, { training: true }) as tf.Tensor), true)!);
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(models.threshold.thresholdValue).not.toBe(t0);
    // Optimizer slots are created on the first step; after that the count stays.
    const after = tf.memory().numTensors;
    tf.tidy(() => void optimizer.minimize(() => rootMeanSquaredError(x, models.autoencoder.apply(x, { training: true }) as tf.Tensor)));
    expect(tf.memory().numTensors).toBe(after);
    expect(after).toBeGreaterThanOrEqual(before);
    const [d, features, fg, bg, recon] = models.inspector.predict(x) as tf.Tensor[];
    expect(d.shape).toEqual([4, 10, 10, 1]);
    expect(features.shape).toEqual([4, 10, 10, Math.round(100 / 8)]);
    const sum = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.add(fg, bg), recon))).dataSync()[0]);
    expect(sum).toBeLessThan(1e-5);
    tf.dispose([x, d, features, fg, bg, recon]);
    optimizer.dispose();
    disposeCspCae(models);
  }, 60_000);
});
