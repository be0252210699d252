import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initNodeBackend } from '../../engine/wasm-node';
import { centroidTerms, mobincepLoss, oneHotLabels, softmaxCrossEntropy } from './losses';

/**
 * Every term of Mobincep's loss against NumPy (float64, written point by point
 * from the definitions in scripts/make_classifier_loss_fixtures.py).
 */

interface MobincepCase {
  name: string;
  classes: number;
  gamma1: number;
  gamma2: number;
  labels: number[];
  logits: number[][];
  features: number[][];
  crossEntropy: number;
  separation: number;
  scatter: number;
  present: number;
  separationTerm: number;
  scatterTerm: number;
  total: number;
}

const fixtures = JSON.parse(readFileSync(new URL('../../../tests/fixtures/classifier-losses.json', import.meta.url), 'utf8')) as {
  mobincep: MobincepCase[];
};

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** float32 arithmetic against float64 references: relative 2e-5, absolute 1e-6 near 0. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(2e-5 * Math.abs(expected) + 1e-6);
}

const value = (t: tf.Tensor) => t.dataSync()[0];

describe('Mobincep loss terms against NumPy', () => {
  it.each(fixtures.mobincep.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    tf.tidy(() => {
      const logits = tf.tensor2d(c.logits);
      const features = tf.tensor2d(c.features);
      for (const labels of [tf.tensor1d(c.labels, 'int32'), tf.oneHot(tf.tensor1d(c.labels, 'int32'), c.classes)]) {
        const oneHot = oneHotLabels(labels, c.classes);
        expectClose(value(softmaxCrossEntropy(logits, oneHot)), c.crossEntropy);
        const terms = centroidTerms(features, oneHot);
        expectClose(value(terms.separation), c.separation);
        expectClose(value(terms.scatter), c.scatter);
        expect(value(terms.present)).toBe(c.present);
        const parts = mobincepLoss(logits, features, oneHot, { gamma1: c.gamma1, gamma2: c.gamma2 });
        expectClose(value(parts.crossEntropy), c.crossEntropy);
        expectClose(value(parts.separationTerm), c.separationTerm);
        expectClose(value(parts.scatterTerm), c.scatterTerm);
        expectClose(value(parts.total), c.total);
      }
    });
  });

  it('uses γ1 = γ2 = 0.01 by default', () => {
    const c = fixtures.mobincep[0];
    expect([c.gamma1, c.gamma2]).toEqual([0.01, 0.01]);
    tf.tidy(() => {
      const parts = mobincepLoss(tf.tensor2d(c.logits), tf.tensor2d(c.features), oneHotLabels(tf.tensor1d(c.labels, 'int32'), c.classes));
      expectClose(value(parts.total), c.total);
    });
  });

  it('has finite gradients when a class is absent, has one point, or is alone in the batch', () => {
    for (const c of fixtures.mobincep) {
      tf.tidy(() => {
        const oneHot = oneHotLabels(tf.tensor1d(c.labels, 'int32'), c.classes);
        const grads = tf.grads((logits: tf.Tensor, features: tf.Tensor) =>
          mobincepLoss(logits as tf.Tensor2D, features as tf.Tensor2D, oneHot).total,
        )([tf.tensor2d(c.logits), tf.tensor2d(c.features)]);
        for (const g of grads) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      });
    }
  });

  it('has finite gradients when every feature coincides (separation 0 with two classes)', () => {
    tf.tidy(() => {
      const oneHot = oneHotLabels(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);
      const features = tf.ones([4, 3]);
      const logits = tf.zeros([4, 2]);
      const parts = mobincepLoss(logits as tf.Tensor2D, features as tf.Tensor2D, oneHot);
      // γ1 / 1e-6: large, but finite.
      expectClose(value(parts.separationTerm), 0.01 / 1e-6);
      const g = tf.grad((f: tf.Tensor) => mobincepLoss(logits as tf.Tensor2D, f as tf.Tensor2D, oneHot).total)(features);
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    });
  });

  it('separation gradient moves class centroids apart, scatter gradient pulls points in', () => {
    tf.tidy(() => {
      const oneHot = oneHotLabels(tf.tensor1d([0, 0, 1, 1], 'int32'), 2);
      const features = tf.tensor2d([[-1.2], [-0.8], [0.8], [1.2]]);
      const logits = tf.zeros([4, 2]) as tf.Tensor2D;
      const separationOnly = tf.grad((f: tf.Tensor) => mobincepLoss(logits, f as tf.Tensor2D, oneHot, { gamma2: 0 }).total)(features).dataSync();
      // Descent (−gradient) pushes class 0 left and class 1 right.
      expect(-separationOnly[0]).toBeLessThan(0);
      expect(-separationOnly[3]).toBeGreaterThan(0);
      const scatterOnly = tf.grad((f: tf.Tensor) => mobincepLoss(logits, f as tf.Tensor2D, oneHot, { gamma1: 0 }).total)(features).dataSync();
      // Each point moves towards its class centroid (−1 and +1).
      expect(-scatterOnly[0]).toBeGreaterThan(0);
      expect(-scatterOnly[1]).toBeLessThan(0);
      expect(-scatterOnly[2]).toBeGreaterThan(0);
      expect(-scatterOnly[3]).toBeLessThan(0);
    });
  });

  it('rejects labels of the wrong shape', () => {
    expect(() => oneHotLabels(tf.zeros([2, 3]), 4)).toThrow(RangeError);
    expect(() => oneHotLabels(tf.zeros([2, 3, 1]), 3)).toThrow(RangeError);
  });
});
