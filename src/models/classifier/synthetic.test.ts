import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../../engine/wasm-node';
import { generateTextureDataset } from '../../synthetic/textures';
import { datasetFromImages } from './dataset';
import { classifierOutputs, crossValidateClassifier, trainClassifier, type ClassifierArch, type ClassifierSpec } from './pipeline';

/**
 * Issue 6's acceptance asks for ≥ 0.95 five-fold cross-validated accuracy on
 * the synthetic FISH and texture sets. The full runs take about an hour each
 * on a CPU and live in bench/classifiers/ (OrgaNet 0.961 on the textures;
 * Mobincep 0.914; FISH 0.850 / 0.755). This reduced version asserts the
 * machinery those numbers rest on: each network fits its training examples
 * (a pipeline that mixes up labels, images or batch-norm statistics cannot),
 * and the cross-validation tests every example exactly once, also with a
 * fraction of the labels.
 */

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

// 48 px: smaller inputs leave 1 × 1 maps at the end, where batch norm's batch statistics (8 values) and its moving averages disagree.
const size = 48;
const settings = { epochs: 40, batchSize: 8, learningRate: 3e-3, augmentation: false as const, seed: 2 };

function textures(arch: ClassifierArch) {
  const set = generateTextureDataset({ perClass: 16, size, seed: 1, channels: arch === 'mobincep' ? 3 : 1 });
  const data = datasetFromImages(set);
  const spec: ClassifierSpec = { arch, classes: data.classes, inputSize: size, channels: arch === 'mobincep' ? 3 : 1, width: 0.25, normalisation: 'channel', adaptedSize: arch === 'organet' ? size : undefined };
  return { data, spec };
}

describe('classifiers on the synthetic texture set (reduced)', () => {
  it.each(['mobincep', 'organet'] as ClassifierArch[])('%s fits its training examples; 3-fold CV tests each example once', async (arch) => {
    const { data, spec } = textures(arch);
    const all = Uint32Array.from(data.examples.keys());
    const trained = await trainClassifier(data, all, null, spec, settings);
    const fitted = await classifierOutputs(trained, data, all);
    const trainingAccuracy = fitted.predicted.reduce((t, p, i) => t + (p === data.examples[i].label ? 1 : 0), 0) / all.length;
    trained.model.dispose();
    console.log(`${arch}: training accuracy ${trainingAccuracy.toFixed(3)} after ${settings.epochs} epochs`);
    // The cross-validation machinery (one epoch: only its bookkeeping is checked here).
    const cv = await crossValidateClassifier(data, spec, { ...settings, epochs: 1, folds: 3 });
    expect(trainingAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(cv.pooled.report.confusion.matrix.reduce((a, b) => a + b, 0)).toBe(data.examples.length);
    const tested = cv.folds.map((f) => f.report.perClass.reduce((t, c) => t + c.support, 0));
    expect(tested.reduce((a, b) => a + b, 0)).toBe(data.examples.length);
    expect(Math.max(...tested) - Math.min(...tested)).toBeLessThanOrEqual(1);
  }, 600_000);

  it('with a label fraction, trains on fewer labels and still tests every example once', async () => {
    const { data, spec } = textures('mobincep');
    const trainedOn: number[] = [];
    const cv = await crossValidateClassifier(data, spec, {
      ...settings,
      epochs: 1,
      folds: 4,
      labelFraction: 0.25,
      onProgress: (p) => void (p.epoch === 0 && p.step === 1 && trainedOn.push(p.stepsPerEpoch!)),
    });
    // 64 examples, 4 folds: 32 train per split (8 per class) → 2 per class at 25 % → 8 examples, one batch of 8.
    expect(trainedOn).toEqual([1, 1, 1, 1]);
    expect(cv.pooled.report.confusion.matrix.reduce((a, b) => a + b, 0)).toBe(data.examples.length);
  }, 120_000);
});
