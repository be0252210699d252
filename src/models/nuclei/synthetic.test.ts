import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { syntheticHeSlide } from './test-support';
import { matchDetections } from '../../analysis/detection-metrics';
import { DETECTION_DEFAULTS, computeNucleusPatches, detectNuclei, nucleusInputSpec, trainCspCae } from './pipeline';
import { readTileInputs } from '../../engine/tile-batches';
import { buildCspCae, disposeCspCae, type CspCaePreset } from './model';
import { buildDetectionCnn, disposeDetectionCnn, fineTunedDetector, trainDetectionCnn, type AnnotatedPatches } from './finetune';
import { Random } from '../../util/random';

/**
 * The nucleus CAE end to end on the project's synthetic H&E (known nucleus
 * centres): patches → training → detection → the paper's 6-px F1.
 * The quick test checks the machinery; the second is issue 5's acceptance
 * (F1 ≥ 0.80) and prints F1 per threshold (TILESCOPE_NUCLEI_PRESET and
 * TILESCOPE_NUCLEI_EPOCHS vary it), then issue 7's: fine-tuning the
 * detection CNN on 5 % of the labels raises F1.
 */

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});


async function run(options: { preset: CspCaePreset; trainSeeds: number[]; size: number; epochs: number; batchSize: number; thresholds: number[] }) {
  const patches: Array<ReturnType<typeof syntheticHeSlide> & { grid: ReturnType<typeof computeNucleusPatches> }> = [];
  for (const seed of options.trainSeeds) {
    const slide = syntheticHeSlide(seed, options.size);
    patches.push({ ...slide, grid: computeNucleusPatches(slide.source.metadata, undefined, { minTissueFraction: 0 }) });
  }
  // One slide per training run keeps the provider simple; more slides → more epochs over different images.
  let models = undefined as Awaited<ReturnType<typeof trainCspCae>>['models'] | undefined;
  const losses: number[] = [];
  for (const { source, grid } of patches) {
    const trained = await trainCspCae(source, grid, grid.kept, { preset: options.preset, epochs: options.epochs, batchSize: options.batchSize, seed: 3, models });
    models = trained.models;
    losses.push(...trained.result.history.map((h) => h.loss));
  }
  const test = syntheticHeSlide(999, options.size);
  const grid = computeNucleusPatches(test.source.metadata, undefined, { minTissueFraction: 0 });
  const results = [];
  for (const threshold of options.thresholds) {
    const found = await detectNuclei(models!, test.source, grid, grid.kept, { threshold });
    const match = matchDetections(found.x, found.y, test.points.x, test.points.y, 6);
    results.push({ threshold, detections: found.x.length, truth: test.points.x.length, ...match, featureDim: found.featureDim, features: found.features.length });
  }
  return { models: models!, losses, results, t: models!.threshold.thresholdValue, training: patches, test, grid };
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

  // Issue 5's acceptance: F1 ≥ 0.80 with the 6-px rule, unsupervised. About 2.5 min on 2 cores (deterministic: seeded weights and patches).
  // Issue 7's on the same model and held-out image: fine-tuning on 5 % of the labels raises F1 (about 30 s more).
  it('unsupervised CSP-CAE (1/16 preset) reaches F1 ≥ 0.80 on held-out synthetic H&E, and fine-tuning on 5 % of the labels raises it', async () => {
    const preset = (process.env.TILESCOPE_NUCLEI_PRESET ?? 'sixteenth') as CspCaePreset;
    const { models, losses, results, t, training, test, grid } = await run({
      preset,
      trainSeeds: [1, 2, 3, 4],
      size: 600,
      epochs: Number(process.env.TILESCOPE_NUCLEI_EPOCHS ?? 6),
      batchSize: 16,
      thresholds: [0.1, 0.2, DETECTION_DEFAULTS.threshold, 0.5, 0.7],
    });
    console.log(`preset ${preset}; loss by epoch ${losses.map((l) => l.toFixed(4)).join(' ')}; t = ${t.toFixed(3)}`);
    const probe = syntheticHeSlide(999, 200);
    const probeGrid = computeNucleusPatches(probe.source.metadata, undefined, { minTissueFraction: 0 });
    const values = await readTileInputs(probe.source, probeGrid, probeGrid.kept, nucleusInputSpec(100));
    const share = tf.tidy(() => {
      const [d] = models.inspector.apply(tf.tensor4d(values, [probeGrid.kept.length, 100, 100, 3]), { training: false }) as tf.Tensor[];
      return [tf.mean(tf.cast(tf.greater(d, 0.5), 'float32')).dataSync()[0], tf.max(d).dataSync()[0]];
    });
    console.log(`inference: share of map positions with D > 0.5: ${(100 * share[0]).toFixed(2)} %, max D ${share[1].toFixed(3)}`);
    for (const r of results) console.log(`threshold ${r.threshold}: ${r.detections} detections, ${r.truth} nuclei, P ${r.precision.toFixed(3)} R ${r.recall.toFixed(3)} F1 ${r.f1.toFixed(3)}`);
    // About the seed's p = 1.6 % of map positions fire (one per nucleus, ~10 per patch), and the default threshold does it.
    expect(share[0]).toBeGreaterThan(0.005);
    expect(share[0]).toBeLessThan(0.08);
    const atDefault = results.find((r) => r.threshold === DETECTION_DEFAULTS.threshold)!;
    expect(atDefault.f1).toBeGreaterThanOrEqual(0.8);
    // A map that fires everywhere or nowhere fails: the highest threshold finds far fewer nuclei.
    expect(results[results.length - 1].recall).toBeLessThan(atDefault.recall);

    // Fine-tuning (seed 001, section 5.3; the paper's "CSP-CNN (5% data)"). "5 % of the labels" here:
    // 5 % of the CAE's training patches (7 of the 4 × 36), drawn at random with a fixed seed, with every
    // nucleus inside each drawn patch annotated and no annotations elsewhere. Whole patches, not 5 % of
    // the nuclei scattered over all patches: in a partly labelled patch the unlabelled nuclei would be
    // taught as background. Scored as above, at the default threshold, on the same held-out image.
    const candidates = training.flatMap((slide, s) => Array.from(slide.grid.kept, (tile) => ({ s, tile })));
    const drawn = Array.from(new Random('finetune-5%').sample(candidates.length, Math.round(0.05 * candidates.length)), (k) => candidates[k]);
    const labelled: AnnotatedPatches[] = training.map((slide, s) => ({
      source: slide.source,
      grid: slide.grid,
      annotations: slide.points,
      patches: Uint32Array.from(drawn.filter((d) => d.s === s), (d) => d.tile),
    }));
    const cnn = buildDetectionCnn(models, { seed: 1 });
    const started = performance.now();
    const tuned = await trainDetectionCnn(cnn, labelled, { seed: 1 });
    const seconds = (performance.now() - started) / 1000;
    const found = await detectNuclei(fineTunedDetector(cnn, models), test.source, grid, grid.kept, { threshold: DETECTION_DEFAULTS.threshold });
    const after = matchDetections(found.x, found.y, test.points.x, test.points.y, 6);
    console.log(
      `fine-tuned on ${tuned.patches} of ${candidates.length} training patches (${tuned.points} annotated nuclei) in ${seconds.toFixed(0)} s; ` +
        `threshold ${DETECTION_DEFAULTS.threshold}: F1 ${atDefault.f1.toFixed(3)} (P ${atDefault.precision.toFixed(3)} R ${atDefault.recall.toFixed(3)}) unsupervised → ` +
        `${after.f1.toFixed(3)} (P ${after.precision.toFixed(3)} R ${after.recall.toFixed(3)}) fine-tuned`,
    );
    expect(tuned.patches).toBe(7);
    expect(after.f1).toBeGreaterThan(atDefault.f1);
    disposeDetectionCnn(cnn);
    disposeCspCae(models);
  }, 3_600_000);
});
