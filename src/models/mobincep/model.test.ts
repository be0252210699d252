import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initNodeBackend } from '../../engine/wasm-node';
import {
  buildMobincep,
  disposeModelWeights,
  mobincepFeatureLength,
  mobincepFeatureModel,
  mobincepForwardFlops,
  mobincepJointModel,
  mobincepParameters,
  normaliseImages,
} from './model';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function trainableCount(model: LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

const shapeOf = (model: LayersModel, name: string) => model.getLayer(name).outputShape;

/**
 * The thesis states the size only as "about 13 times fewer than
 * Inception-ResNet-v2 (56 M)", i.e. ~4.3 M, a value given to two significant
 * figures: any count that rounds to 4.3 M ([4.25 M, 4.35 M)) agrees with it.
 * The trainable count is the comparable one (PyTorch counts parameters, not
 * batch norm's running statistics).
 */
const PAPER_PARAMETERS = 4.3e6;
const PAPER_HALF_DIGIT = 0.05e6;

describe('Mobincep architecture', () => {
  it.each([2, 3, 10, 15])('has ~4.3 M parameters at 224×224×3 with %i classes', (classes) => {
    const model = buildMobincep({ classes, seed: 1 });
    try {
      const expected = mobincepParameters({ inputSize: 224, channels: 3, classes, width: 1 });
      const trainable = trainableCount(model);
      console.log(
        `Mobincep 224×224×3, ${classes} classes: ${trainable.toLocaleString('en')} trainable parameters ` +
          `(${model.countParams().toLocaleString('en')} with BN moving statistics); thesis ~4.3 M, ` +
          `difference ${((100 * (trainable - PAPER_PARAMETERS)) / PAPER_PARAMETERS).toFixed(2)} %`,
      );
      expect(trainable).toBe(expected.trainable);
      expect(model.countParams()).toBe(expected.total);
      expect(Math.abs(trainable - PAPER_PARAMETERS)).toBeLessThan(PAPER_HALF_DIGIT);
    } finally {
      disposeModelWeights(model);
    }
  });

  it('has the seed layout and output shapes at 224 px', () => {
    const model = buildMobincep({ classes: 15, seed: 2 });
    try {
      expect(model.inputs[0].shape).toEqual([null, 224, 224, 3]);
      expect(shapeOf(model, 'buffer_conv')).toEqual([null, 112, 112, 32]);
      expect(shapeOf(model, 'inc_1x1_conv')).toEqual([null, 112, 112, 32]);
      expect(shapeOf(model, 'inc_3x3_conv')).toEqual([null, 112, 112, 64]);
      expect(shapeOf(model, 'inc_5x5_conv')).toEqual([null, 112, 112, 16]);
      expect(shapeOf(model, 'inc_pool_proj_conv')).toEqual([null, 112, 112, 16]);
      expect(shapeOf(model, 'inc_concat')).toEqual([null, 112, 112, 128]);
      expect(shapeOf(model, 'sep1_dw')).toEqual([null, 56, 56, 128]);
      expect(shapeOf(model, 'sep3_pw_conv')).toEqual([null, 28, 28, 256]);
      expect(shapeOf(model, 'sep5_pw_conv')).toEqual([null, 14, 14, 512]);
      expect(shapeOf(model, 'sep13_pw_relu')).toEqual([null, 7, 7, 1024]);
      expect(shapeOf(model, 'features')).toEqual([null, 1024]);
      expect(model.outputs[0].shape).toEqual([null, 15]);
      // Every conv is followed by BN and ReLU; convs carry no bias.
      const consumers = (name: string) =>
        model.layers.filter((l) => l.inboundNodes.some((node) => node.inboundLayers.some((from) => from.name === name)));
      for (const layer of model.layers) {
        const kind = layer.getClassName();
        if (kind !== 'Conv2D' && kind !== 'DepthwiseConv2D') continue;
        const [bn, ...otherUses] = consumers(layer.name);
        expect(otherUses).toHaveLength(0);
        expect(bn.getClassName()).toBe('BatchNormalization');
        expect(consumers(bn.name).map((l) => l.getClassName())).toEqual(['ReLU']);
        expect(layer.getConfig().useBias).toBe(false);
      }
      expect(model.layers.filter((l) => l.getClassName() === 'DepthwiseConv2D')).toHaveLength(13);
      expect(mobincepForwardFlops({ inputSize: 224, channels: 3, classes: 15, width: 1 }) / 1e9).toBeCloseTo(2.09, 2);
    } finally {
      disposeModelWeights(model);
    }
  });

  it('initialises convs Kaiming-uniform: U(±√(6 / fan_in)), depth-wise fan-in k²', () => {
    const model = buildMobincep({ classes: 3, seed: 3 });
    try {
      const check = (name: string, fanIn: number) => {
        const values = model.getLayer(name).getWeights()[0].dataSync();
        const bound = Math.sqrt(6 / fanIn);
        let max = 0;
        let sumSquares = 0;
        for (const v of values) {
          max = Math.max(max, Math.abs(v));
          sumSquares += v * v;
        }
        expect(max).toBeLessThanOrEqual(bound);
        expect(max).toBeGreaterThan(0.9 * bound);
        // The variance of U(−b, b) is b²/3.
        expect(Math.sqrt(sumSquares / values.length)).toBeCloseTo(bound / Math.sqrt(3), 1);
      };
      check('buffer_conv', 27);
      check('inc_3x3_conv', 9 * 48);
      check('sep12_dw', 9);
      check('sep12_pw_conv', 1024);
      check('logits', 1024);
    } finally {
      disposeModelWeights(model);
    }
  });

  it('scales with the width multiplier and any input size', () => {
    const model = buildMobincep({ classes: 4, width: 0.25, inputSize: 40, channels: 1, seed: 4 });
    try {
      expect(shapeOf(model, 'inc_concat')).toEqual([null, 20, 20, 32]);
      expect(shapeOf(model, 'features')).toEqual([null, mobincepFeatureLength(0.25)]);
      expect(mobincepFeatureLength(0.25)).toBe(256);
      expect(model.countParams()).toBe(mobincepParameters({ inputSize: 40, channels: 1, classes: 4, width: 0.25 }).total);
    } finally {
      disposeModelWeights(model);
    }
  });

  it('gives the penultimate features and the logits from shared layers', () => {
    const model = buildMobincep({ classes: 3, width: 0.125, inputSize: 32, seed: 5 });
    const featureModel = mobincepFeatureModel(model);
    const joint = mobincepJointModel(model);
    try {
      const own = new Set(model.weights.map((w) => w.read()));
      for (const w of [...featureModel.weights, ...joint.weights]) expect(own.has(w.read())).toBe(true);
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 11);
      tf.tidy(() => {
        const logits = model.predict(x) as tf.Tensor;
        const features = featureModel.predict(x) as tf.Tensor;
        const [jointLogits, jointFeatures] = joint.predict(x) as tf.Tensor[];
        expect(logits.shape).toEqual([2, 3]);
        expect(features.shape).toEqual([2, 128]);
        expect(tf.max(tf.abs(tf.sub(logits, jointLogits))).dataSync()[0]).toBeLessThan(1e-6);
        expect(tf.max(tf.abs(tf.sub(features, jointFeatures))).dataSync()[0]).toBeLessThan(1e-6);
        // Features are post-ReLU averages.
        expect(tf.min(features).dataSync()[0]).toBeGreaterThanOrEqual(0);
      });
      x.dispose();
    } finally {
      disposeModelWeights(model);
    }
  });

  it('saves and loads in the TF.js layers format; features still come out of the loaded model', async () => {
    const model = buildMobincep({ classes: 3, width: 0.125, inputSize: 32, seed: 6 });
    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 12);
    tf.tidy(() => {
      const a = mobincepFeatureModel(model).predict(x) as tf.Tensor;
      const b = mobincepFeatureModel(loaded).predict(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
      const logits = tf.sub(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor);
      expect(tf.max(tf.abs(logits)).dataSync()[0]).toBeLessThan(1e-6);
    });
    x.dispose();
    disposeModelWeights(model);
    disposeModelWeights(loaded);
  });

  it('rejects bad options', () => {
    expect(() => buildMobincep({ classes: 1 })).toThrow(RangeError);
    expect(() => buildMobincep({ classes: 3, width: 0 })).toThrow(RangeError);
    expect(() => buildMobincep({ classes: 3, inputSize: 0 })).toThrow(RangeError);
  });

  it('normalises each image to [0, 1] by its own range', () => {
    tf.tidy(() => {
      const images = tf.stack([tf.fill([2, 2, 1], 5), tf.tensor3d([[[1], [3]], [[2], [5]]])]) as tf.Tensor4D;
      expect(Array.from(normaliseImages(images).dataSync())).toEqual([0, 0, 0, 0, 0, 0.5, 0.25, 1]);
    });
  });
});
