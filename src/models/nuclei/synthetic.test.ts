import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { createMemorySource } from '../../slide/formats/memory-source';
import { generateHeNuclei } from '../../synthetic/he-nuclei';
import { matchDetections } from '../../analysis/detection-metrics';
import { computeNucleusPatches, detectNuclei, trainCspCae } from './pipeline';
import { buildCspCae, disposeCspCae, type CspCaePreset } from './model';

/**
 * The nucleus CAE end to end on the project's synthetic H&E (known nucleus
 * centres): patches → training → detection → the paper's 6-px F1.
 * The quick test checks the machinery; TILESCOPE_NUCLEI_LONG=1 runs the
 * acceptance-sized experiment and prints F1 per threshold.
 */

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function syntheticSlide(seed: number, size: number) {
  const image = generateHeNuclei({ width: size, height: size, seed });
  const source = createMemorySource(
    { data: image.rgb, width: size, height: size, channels: 3, dtype: 'uint8' },
    {
      name: `synthetic-he-${seed}`,
      format: 'synthetic',
      channels: [
        { name: 'R', color: '#ff0000' },
        { name: 'G', color: '#00ff00' },
        { name: 'B', color: '#0000ff' },
      ],
      rgb: true,
      mppX: 0.5,
      mppY: 0.5,
      properties: {},
    },
  );
  // The generator centres pixel (i, j) on (i, j); detections use pixel centres at +0.5.
  const truthX = Float64Array.from({ length: image.centres.length / 2 }, (_, i) => image.centres[2 * i] + 0.5);
  const truthY = Float64Array.from({ length: image.centres.length / 2 }, (_, i) => image.centres[2 * i + 1] + 0.5);
  return { source, truthX, truthY };
}

async function run(options: { preset: CspCaePreset; trainSeeds: number[]; size: number; epochs: number; batchSize: number; thresholds: number[] }) {
  const patches: Array<{ source: ReturnType<typeof syntheticSlide>['source']; grid: ReturnType<typeof computeNucleusPatches> }> = [];
  for (const seed of options.trainSeeds) {
    const { source } = syntheticSlide(seed, options.size);
    patches.push({ source, grid: computeNucleusPatches(source.metadata, undefined, { minTissueFraction: 0 }) });
  }
  // One slide per training run keeps the provider simple; more slides → more epochs over different images.
  let models = undefined as Awaited<ReturnType<typeof trainCspCae>>['models'] | undefined;
  const losses: number[] = [];
  for (const { source, grid } of patches) {
    const trained = await trainCspCae(source, grid, grid.kept, { preset: options.preset, epochs: options.epochs, batchSize: options.batchSize, seed: 3, models });
    models = trained.models;
    losses.push(...trained.result.history.map((h) => h.loss));
  }
  const test = syntheticSlide(999, options.size);
  const grid = computeNucleusPatches(test.source.metadata, undefined, { minTissueFraction: 0 });
  const results = [];
  for (const threshold of options.thresholds) {
    const found = await detectNuclei(models!, test.source, grid, grid.kept, { threshold });
    const match = matchDetections(found.x, found.y, test.truthX, test.truthY, 6);
    results.push({ threshold, detections: found.x.length, truth: test.truthX.length, ...match, featureDim: found.featureDim, features: found.features.length });
  }
  return { models: models!, losses, results, t: models!.threshold.thresholdValue };
}

describe('nucleus CAE on synthetic H&E', () => {
  it('trains on patches, detects points inside the image with a feature vector each, and scores them with the 6-px rule', async () => {
    // tfjs-layers caches one tensor the first time a model is built: build once before counting.
    disposeCspCae(buildCspCae({ preset: 'sixteenth', inputSize: 100 }));
    const before = tf.memory().numTensors;
    const { models, losses, results, t } = await run({ preset: 'sixteenth', trainSeeds: [1], size: 200, epochs: 2, batchSize: 4, thresholds: [0.3] });
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(t).not.toBe(0); // the threshold's running average moved in training
    const [r] = results;
    expect(r.truth).toBeGreaterThan(20);
    expect(r.features).toBe(r.detections * r.featureDim);
    expect(r.truePositives + r.falsePositives).toBe(r.detections);
    expect(r.truePositives + r.falseNegatives).toBe(r.truth);
    disposeCspCae(models);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it.skipIf(process.env.TILESCOPE_NUCLEI_LONG !== '1')('acceptance-sized run (F1 with the 6-px rule)', async () => {
    const preset = (process.env.TILESCOPE_NUCLEI_PRESET ?? 'sixteenth') as CspCaePreset;
    const { models, losses, results, t } = await run({
      preset,
      trainSeeds: [1, 2, 3, 4],
      size: 600,
      epochs: Number(process.env.TILESCOPE_NUCLEI_EPOCHS ?? 4),
      batchSize: 16,
      thresholds: [0.1, 0.2, 0.3, 0.5, 0.7],
    });
    console.log(`preset ${preset}; loss by epoch ${losses.map((l) => l.toFixed(4)).join(' ')}; t = ${t.toFixed(3)}`);
    for (const r of results) console.log(`threshold ${r.threshold}: ${r.detections} detections, ${r.truth} nuclei, P ${r.precision.toFixed(3)} R ${r.recall.toFixed(3)} F1 ${r.f1.toFixed(3)}`);
    disposeCspCae(models);
  }, 3_600_000);
});
