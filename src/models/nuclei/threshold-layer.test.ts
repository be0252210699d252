import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initNodeBackend } from '../../engine/wasm-node';
import { SparsityThreshold, perImagePercentile } from './threshold-layer';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** numpy.percentile (linear) of one array, written out. */
function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (q / 100) * (s.length - 1);
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

describe('crosswise-sparse threshold layer', () => {
  it('takes each image\'s percentile like numpy (linear interpolation)', () => {
    const data = tf.tidy(() => tf.randomNormal([3, 25, 25, 1], 0, 1, 'float32', 4).arraySync() as number[][][][]);
    const flat = data.map((image) => image.flat(2));
    for (const q of [98.4, 50, 99.9, 0, 100]) {
      const got = tf.tidy(() => perImagePercentile(tf.tensor(data), q).arraySync() as number[]);
      flat.forEach((values, b) => expect(got[b]).toBeCloseTo(percentile(values, q), 5));
    }
  });

  it('t converges to the running mean of the (100 − p)-th percentile; about p % of positions then fire; t is frozen in inference', () => {
    const layer = new SparsityThreshold({ sparsityPercent: 1.6, slope: 20, momentum: 0.1 });
    const input = tfl.input({ shape: [25, 25, 1] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const before = tf.memory().numTensors;
    const history: number[] = [];
    for (let step = 0; step < 80; step++) {
      tf.tidy(() => {
        model.apply(tf.randomNormal([8, 25, 25, 1], 0, 1, 'float32', 100 + step), { training: true });
      });
      history.push(layer.thresholdValue);
    }
    expect(tf.memory().numTensors).toBe(before);
    // N(0, 1): the 98.4th percentile is 2.144; t starts at 0 and approaches it geometrically.
    expect(history[0]).toBeCloseTo(0.1 * 2.144, 0);
    expect(Math.abs(history[79] - 2.144)).toBeLessThan(0.08);
    expect(Math.abs(history[79] - history[60])).toBeLessThan(0.05);
    const settled = layer.thresholdValue;
    // Inference: new inputs, t unchanged, ≈ 1.6 % of positions above 0.5.
    const fired = tf.tidy(() => {
      const d = model.apply(tf.randomNormal([64, 25, 25, 1], 0, 1, 'float32', 7), { training: false }) as tf.Tensor;
      return tf.mean(tf.cast(tf.greater(d, 0.5), 'float32')).dataSync()[0];
    });
    expect(layer.thresholdValue).toBe(settled);
    expect(fired).toBeGreaterThan(0.012);
    expect(fired).toBeLessThan(0.02);
    // r = 20: D lies in (0.05, 0.95) only within ln(19)/20 = 0.147 of t, i.e. for
    // Φ(t + 0.147) − Φ(t − 0.147) ≈ 1.2 % of N(0, 1) inputs (with slope 1 it would be ~25 %).
    const soft = tf.tidy(() => {
      const d = model.apply(tf.randomNormal([16, 25, 25, 1], 0, 1, 'float32', 8)) as tf.Tensor;
      return tf.mean(tf.cast(tf.logicalAnd(tf.greater(d, 0.05), tf.less(d, 0.95)), 'float32')).dataSync()[0];
    });
    expect(soft).toBeGreaterThan(0.006);
    expect(soft).toBeLessThan(0.018);
    for (const w of model.weights) w.dispose();
  });

  it('round-trips its settings and t through the layers format, and rejects bad values', async () => {
    const input = tfl.input({ shape: [5, 5, 1] });
    const layer = new SparsityThreshold({ sparsityPercent: 2, slope: 10, momentum: 0.5, name: 'thr' });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    tf.tidy(() => void model.apply(tf.randomNormal([2, 5, 5, 1], 0, 1, 'float32', 1), { training: true }));
    const saved: tf.io.ModelArtifacts[] = [];
    await model.save(tf.io.withSaveHandler(async (a) => (saved.push(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const back = await tfl.loadLayersModel(tf.io.fromMemory(saved[0]));
    const copy = back.getLayer('thr') as SparsityThreshold;
    expect([copy.slope, copy.sparsityPercent, copy.momentum]).toEqual([10, 2, 0.5]);
    expect(copy.thresholdValue).toBeCloseTo(layer.thresholdValue, 6);
    expect(layer.thresholdValue).not.toBe(0);
    expect(() => new SparsityThreshold({ sparsityPercent: 0 })).toThrow(/between 0 and 100/);
    expect(() => new SparsityThreshold({ slope: -1 })).toThrow(/positive/);
    expect(() => new SparsityThreshold({ momentum: 2 })).toThrow(/\(0, 1\]/);
    for (const w of [...model.weights, ...back.weights]) w.dispose();
  });
});
