import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initNodeBackend } from '../../engine/wasm-node';
import { disposeModelWeights } from '../mobincep/model';
import {
  adaptationGeometry,
  bottleneckBlocks,
  buildOrganet,
  makeDivisible,
  organetEncoder,
  organetForwardFlops,
  organetJointModel,
  organetParameters,
} from './model';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function trainableCount(model: LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

const shapeOf = (model: LayersModel, name: string) => model.getLayer(name).outputShape;

/**
 * The thesis gives 2.24 M, i.e. three significant figures: a count that rounds
 * to it lies in [2.235 M, 2.245 M). Trainable parameters are the comparable
 * count (PyTorch's; TF.js's countParams adds batch norm's moving statistics).
 */
const PAPER_PARAMETERS = 2.24e6;
const PAPER_HALF_DIGIT = 0.005e6;

describe('OrgaNet architecture', () => {
  it('maps 382×382×1 to 224×224×3 exactly: 34 px zero padding, 3×3 conv, stride 2', () => {
    expect(adaptationGeometry(382, 224)).toEqual({ kernel: 3, stride: 2, padding: [34, 34] });
    // Other sizes: output = ⌊(S + pad − 3) / stride⌋ + 1 = target, padding ≥ 0.
    for (const [size, target] of [
      [382, 224],
      [64, 32],
      [48, 32],
      [224, 224],
      [226, 224],
      [100, 224],
      [1000, 224],
    ]) {
      const g = adaptationGeometry(size, target);
      const padded = size + g.padding[0] + g.padding[1];
      expect(Math.floor((padded - g.kernel) / g.stride) + 1).toBe(target);
      expect(Math.min(...g.padding)).toBeGreaterThanOrEqual(0);
    }
  });

  it('has ~2.24 M parameters at 382×382×1 with a 10-d latent', () => {
    for (const latentAsLogits of [false, true]) {
      const model = buildOrganet({ classes: 10, seed: 1, latentAsLogits });
      try {
        const expected = organetParameters({ inputSize: 382, inputChannels: 1, adaptedSize: 224, width: 1, latentDim: 10, classes: 10, latentAsLogits });
        const trainable = trainableCount(model);
        console.log(
          `OrgaNet 382×382×1, latent 10, 10 classes${latentAsLogits ? ' (latent = logits)' : ' (linear head)'}: ` +
            `${trainable.toLocaleString('en')} trainable parameters (${model.countParams().toLocaleString('en')} with BN moving ` +
            `statistics); thesis 2.24 M, difference ${((100 * (trainable - PAPER_PARAMETERS)) / PAPER_PARAMETERS).toFixed(2)} %`,
        );
        expect(trainable).toBe(expected.trainable);
        expect(model.countParams()).toBe(expected.total);
        expect(Math.abs(trainable - PAPER_PARAMETERS)).toBeLessThan(PAPER_HALF_DIGIT);
      } finally {
        disposeModelWeights(model);
      }
    }
    // The MobileNet-v2 1.0 feature extractor alone: 2 223 872 (its well-known count without the 1000-class layer).
    const full = organetParameters({ inputSize: 382, inputChannels: 1, adaptedSize: 224, width: 1, latentDim: 10, classes: 10 });
    expect(full.trainable - 33 - (1280 * 10 + 10) - (10 * 10 + 10)).toBe(2_223_872);
  });

  it('has the layout and shapes of the thesis at 382 px', () => {
    const model = buildOrganet({ classes: 10, seed: 2 });
    try {
      expect(model.inputs[0].shape).toEqual([null, 382, 382, 1]);
      expect(shapeOf(model, 'adapt_pad')).toEqual([null, 450, 450, 1]);
      expect(shapeOf(model, 'adapt_conv')).toEqual([null, 224, 224, 3]);
      expect(shapeOf(model, 'adapt_bn')).toEqual([null, 224, 224, 3]);
      expect(shapeOf(model, 'stem_conv')).toEqual([null, 112, 112, 32]);
      expect(shapeOf(model, 'block1_project_bn')).toEqual([null, 112, 112, 16]);
      expect(shapeOf(model, 'block2_expand')).toEqual([null, 112, 112, 96]);
      expect(shapeOf(model, 'block2_dw')).toEqual([null, 56, 56, 96]);
      expect(shapeOf(model, 'block17_project_bn')).toEqual([null, 7, 7, 320]);
      expect(shapeOf(model, 'last_relu6')).toEqual([null, 7, 7, 1280]);
      expect(shapeOf(model, 'pool')).toEqual([null, 1280]);
      expect(shapeOf(model, 'latent')).toEqual([null, 10]);
      expect(model.outputs[0].shape).toEqual([null, 10]);
      // 17 bottlenecks, residuals where the shape is kept (10 of them), the first without expansion.
      const blocks = bottleneckBlocks(1);
      expect(blocks).toHaveLength(17);
      expect(blocks.filter((b) => b.residual).map((b) => b.name)).toEqual([
        'block3', 'block5', 'block6', 'block8', 'block9', 'block10', 'block12', 'block13', 'block15', 'block16',
      ]);
      expect(model.layers.filter((l) => l.getClassName() === 'Add')).toHaveLength(10);
      expect(() => model.getLayer('block1_expand')).toThrow();
      expect(model.getLayer('block2_expand_relu6').getConfig().maxValue).toBe(6);
      // Linear bottleneck: the projection's BN feeds the residual add (or the next block) directly.
      const consumers = (name: string) =>
        model.layers.filter((l) => l.inboundNodes.some((node) => node.inboundLayers.some((from) => from.name === name)));
      expect(consumers('block3_project_bn').map((l) => l.getClassName())).toEqual(['Add']);
      expect(consumers('adapt_bn').map((l) => l.name)).toEqual(['stem_conv']);
      expect(organetForwardFlops({ inputSize: 382, inputChannels: 1, adaptedSize: 224, width: 1, latentDim: 10, classes: 10 }) / 1e9).toBeCloseTo(0.6, 1);
    } finally {
      disposeModelWeights(model);
    }
  });

  it('saves and loads in the TF.js layers format; the encoder still comes out of the loaded model', async () => {
    const model = buildOrganet({ classes: 3, inputSize: 64, adaptedSize: 32, width: 0.25, seed: 9 });
    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 13);
    tf.tidy(() => {
      const a = organetEncoder(model).predict(x) as tf.Tensor;
      const b = organetEncoder(loaded).predict(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
    });
    x.dispose();
    disposeModelWeights(model);
    disposeModelWeights(loaded);
  });

  it('rounds widths as MobileNet-v2 (multiples of 8)', () => {
    expect([makeDivisible(32 * 0.25), makeDivisible(16 * 0.25), makeDivisible(24 * 0.35), makeDivisible(1280 * 0.25)]).toEqual([8, 8, 8, 320]);
    expect(makeDivisible(32 * 0.75)).toBe(24);
    expect(makeDivisible(96 * 1.4)).toBe(136);
  });

  it('gives the latent and the logits from shared layers; latent-as-logits needs classes = latentDim', () => {
    const model = buildOrganet({ classes: 4, latentDim: 6, inputSize: 64, adaptedSize: 32, width: 0.25, seed: 3 });
    const encoder = organetEncoder(model);
    const joint = organetJointModel(model);
    try {
      const own = new Set(model.weights.map((w) => w.read()));
      for (const w of [...encoder.weights, ...joint.weights]) expect(own.has(w.read())).toBe(true);
      const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 5);
      tf.tidy(() => {
        const logits = model.predict(x) as tf.Tensor;
        const latent = encoder.predict(x) as tf.Tensor;
        const [jointLogits, jointLatent] = joint.predict(x) as tf.Tensor[];
        expect(logits.shape).toEqual([2, 4]);
        expect(latent.shape).toEqual([2, 6]);
        expect(tf.max(tf.abs(tf.sub(logits, jointLogits))).dataSync()[0]).toBeLessThan(1e-6);
        expect(tf.max(tf.abs(tf.sub(latent, jointLatent))).dataSync()[0]).toBeLessThan(1e-6);
      });
      x.dispose();
    } finally {
      disposeModelWeights(model);
    }
    expect(() => buildOrganet({ classes: 4, latentDim: 6, latentAsLogits: true })).toThrow(RangeError);
    const shared = buildOrganet({ classes: 6, latentDim: 6, latentAsLogits: true, inputSize: 64, adaptedSize: 32, width: 0.25 });
    try {
      expect(organetJointModel(shared)).toBe(shared);
      expect(shared.outputs[0].shape).toEqual([null, 6]);
    } finally {
      disposeModelWeights(shared);
    }
  });
});
