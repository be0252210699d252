import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from '../../engine/wasm-node';
import { oneHotLabels } from '../mobincep/losses';
import { defaultMmdSigma, gaussianKernel, maximumMeanDiscrepancy, organetLoss } from './losses';

/**
 * MMD and OrgaNet's loss against NumPy (float64, pair by pair, from
 * scripts/make_classifier_loss_fixtures.py).
 */

interface MmdCase {
  name: string;
  sigma: number | null;
  sigmaUsed: number;
  x: number[][];
  y: number[][];
  kxx: number;
  kyy: number;
  kxy: number;
  mmd: number;
}

interface OrganetCase {
  name: string;
  classes: number;
  gamma: number;
  labels: number[];
  logits: number[][];
  latent: number[][];
  prior: number[][];
  crossEntropy: number;
  mmd: number;
  total: number;
}

const fixtures = JSON.parse(readFileSync(new URL('../../../tests/fixtures/classifier-losses.json', import.meta.url), 'utf8')) as {
  mmd: MmdCase[];
  organet: OrganetCase[];
};

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** float32 against float64: relative 2e-5, absolute 2e-6 (MMD is a difference of means near 1). */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(2e-5 * Math.abs(expected) + 2e-6);
}

const value = (t: tf.Tensor) => t.dataSync()[0];

describe('MMD against NumPy', () => {
  it.each(fixtures.mmd.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    tf.tidy(() => {
      const x = tf.tensor2d(c.x);
      const y = tf.tensor2d(c.y);
      const sigma = c.sigma ?? undefined;
      if (c.sigma === null) expect(defaultMmdSigma(x.shape[1])).toBeCloseTo(c.sigmaUsed, 12);
      expectClose(value(tf.mean(gaussianKernel(x, x, c.sigmaUsed))), c.kxx);
      expectClose(value(tf.mean(gaussianKernel(y, y, c.sigmaUsed))), c.kyy);
      expectClose(value(tf.mean(gaussianKernel(x, y, c.sigmaUsed))), c.kxy);
      expectClose(value(maximumMeanDiscrepancy(x, y, sigma)), c.mmd);
    });
  });

  it('is 0 for identical samples, symmetric, and has finite gradients', () => {
    tf.tidy(() => {
      const x = tf.tensor2d(fixtures.mmd[0].x);
      const y = tf.tensor2d(fixtures.mmd[0].y);
      expect(Math.abs(value(maximumMeanDiscrepancy(x, x)))).toBeLessThan(1e-6);
      expectClose(value(maximumMeanDiscrepancy(y, x)), value(maximumMeanDiscrepancy(x, y)));
      const g = tf.grad((latent: tf.Tensor) => maximumMeanDiscrepancy(latent as tf.Tensor2D, y))(x);
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      // Descent on MMD alone moves a shifted sample towards the prior: its mean norm falls.
      const shifted = tf.add(x, 2) as tf.Tensor2D;
      const step = tf.grad((latent: tf.Tensor) => maximumMeanDiscrepancy(latent as tf.Tensor2D, y))(shifted);
      const moved = tf.sub(shifted, tf.mul(step, 50)) as tf.Tensor2D;
      expect(value(maximumMeanDiscrepancy(moved, y))).toBeLessThan(value(maximumMeanDiscrepancy(shifted, y)));
    });
  });

  it('rejects a bad bandwidth or mismatched lengths', () => {
    tf.tidy(() => {
      expect(() => gaussianKernel(tf.zeros([2, 3]), tf.zeros([2, 3]), 0)).toThrow(RangeError);
      expect(() => maximumMeanDiscrepancy(tf.zeros([2, 3]), tf.zeros([2, 4]))).toThrow(RangeError);
    });
  });
});

describe('OrgaNet loss against NumPy', () => {
  it.each(fixtures.organet.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    tf.tidy(() => {
      const parts = organetLoss(
        tf.tensor2d(c.logits),
        tf.tensor2d(c.latent),
        oneHotLabels(tf.tensor1d(c.labels, 'int32'), c.classes),
        tf.tensor2d(c.prior),
        { gamma: c.gamma },
      );
      expectClose(value(parts.crossEntropy), c.crossEntropy);
      expectClose(value(parts.mmd), c.mmd);
      expectClose(value(parts.total), c.total);
    });
  });

  it('uses γ = 1 by default', () => {
    const c = fixtures.organet[0];
    expect(c.gamma).toBe(1);
    tf.tidy(() => {
      const parts = organetLoss(tf.tensor2d(c.logits), tf.tensor2d(c.latent), oneHotLabels(tf.tensor1d(c.labels, 'int32'), c.classes), tf.tensor2d(c.prior));
      expectClose(value(parts.total), c.total);
    });
  });
});
