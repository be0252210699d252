import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { syntheticHeSlide } from './test-support';
import { Random } from '../../util/random';
import { buildCspCae, disposeCspCae } from './model';
import { computeDetectionMaps, computeNucleusPatches, cspCaeDetector, detectNuclei } from './pipeline';
import {
  annotatedTiles,
  annotationsPerTile,
  buildDetectionCnn,
  detectionHeadVariables,
  dihedral,
  disposeDetectionCnn,
  fineTunedDetector,
  pointsToTargetMap,
  trainDetectionCnn,
  weightedBinaryCrossEntropy,
  type FineTuneProgress,
} from './finetune';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

const snapshot = (weights: tf.Tensor[]) => weights.map((w) => Array.from(w.dataSync()));


describe('detection CNN built from the CAE', () => {
  it('is parts 1, 2 and 5 plus five 1×1 convs with a sigmoid 25×25×1 map, weights copied from the CAE', () => {
    const cae = buildCspCae({ preset: 'sixteenth', inputSize: 100, seed: 1 });
    const built = tf.memory().numTensors;
    disposeDetectionCnn(buildDetectionCnn(cae));
    expect(tf.memory().numTensors, 'building and disposing a CNN leaves nothing behind').toBe(built);
    const cnn = buildDetectionCnn(cae, { seed: 7 });
    const names = cnn.model.layers.map((l) => l.name);
    expect(names.filter((n) => n.startsWith('part1_'))).toEqual(cae.autoencoder.layers.map((l) => l.name).filter((n) => n.startsWith('part1_')));
    expect(names.filter((n) => n.startsWith('part2_'))).toEqual(['part2_1_conv', 'part2_1_bn', 'part2_1_act', 'part2_2_conv', 'part2_2_bn']);
    expect(names.some((n) => /^part[3-8]_/.test(n) && n !== 'part5_threshold')).toBe(false);
    const convs = cnn.model.layers.filter((l) => l.name.startsWith('head_') && l.name.endsWith('_conv'));
    expect(convs.map((l) => (l.getConfig() as { filters: number }).filters)).toEqual([20, 20, 20, 20, 1]); // 320 × 1/16
    expect(convs.every((l) => (l.getConfig() as { kernelSize: number[] }).kernelSize.every((k) => k === 1))).toBe(true);
    expect((convs[4].getConfig() as { activation: string }).activation).toBe('sigmoid');

    tf.tidy(() => {
      const patches = tf.randomUniform([2, 100, 100, 3], 0, 1, 'float32', 3);
      const p = cnn.model.apply(patches, { training: false }) as tf.Tensor;
      expect(p.shape).toEqual([2, 25, 25, 1]);
      const values = p.dataSync();
      expect(values.every((v) => v > 0 && v < 1)).toBe(true);
      const [map, features] = cnn.inspector.apply(patches, { training: false }) as tf.Tensor[];
      expect(map.shape).toEqual([2, 25, 25, 1]);
      expect(features.shape).toEqual([2, 25, 25, 20]);
    });

    // Copied, layer by layer (batch norm's moving statistics and t included), into new variables.
    let compared = 0;
    for (const layer of cnn.model.layers) {
      if (!(layer.name.startsWith('part') && layer.weights.length > 0)) continue;
      const original = cae.autoencoder.getLayer(layer.name);
      expect(snapshot(layer.getWeights())).toEqual(snapshot(original.getWeights()));
      layer.weights.forEach((w, i) => expect(w.read()).not.toBe(original.weights[i].read()));
      compared++;
    }
    expect(compared).toBe(2 * 6 + 2 * 2 + 1); // convs and batch norms of parts 1 (six each) and 2 (two each), and t
    expect(cnn.threshold.slope).toBe(cae.threshold.slope);
    expect(detectionHeadVariables(cnn)).toHaveLength(10); // kernel and bias of five convs
    expect(() => buildDetectionCnn(cae, { widths: [4, 4, 4, 4, 2] })).toThrow(/last 1/);
    disposeDetectionCnn(cnn);
    // The CAE still runs after the CNN's weights are gone.
    tf.tidy(() => {
      expect((cae.autoencoder.apply(tf.zeros([1, 100, 100, 3])) as tf.Tensor).shape).toEqual([1, 100, 100, 3]);
    });
    disposeCspCae(cae);
  });

  it('turns annotated centres into a binary map of the cells that hold them', () => {
    const rect = [100, 200, 100, 100];
    const points = {
      x: Float64Array.from([100, 103.99, 104, 199.9, 150.5, 151, 200, 99.9, 120]),
      y: Float64Array.from([200, 201, 200, 299.9, 250.5, 251, 250, 250, 300]),
    };
    const map = pointsToTargetMap(points, rect, 25);
    const ones = Array.from(map.keys()).filter((i) => map[i] === 1);
    // (100, 200) and (103.99, 201) share cell (0, 0); (104, 200) is (0, 1); (199.9, 299.9) the last cell;
    // (150.5, 250.5) and (151, 251) share cell (12, 12); the right edge, left of the patch and bottom edge are outside.
    expect(ones).toEqual([0, 1, 12 * 25 + 12, 624]);
    expect(map.every((v) => v === 0 || v === 1)).toBe(true);
    // A patch read at another scale (200 level-0 px → 25 cells of 8 px).
    expect(Array.from(pointsToTargetMap({ x: Float64Array.of(7.9, 8), y: Float64Array.of(0, 0) }, [0, 0, 200, 200], 25).subarray(0, 3))).toEqual([1, 1, 0]);
  });

  it('counts the centres in each patch (half-open rectangles) and finds the annotated patches', () => {
    const { source } = syntheticHeSlide(3, 300);
    const grid = computeNucleusPatches(source.metadata, undefined, { minTissueFraction: 0 });
    const random = new Random(4);
    const points = { x: Float64Array.from({ length: 200 }, () => random.uniformRange(-20, 320)), y: Float64Array.from({ length: 200 }, () => random.uniformRange(-20, 320)) };
    // Points on patch corners belong to the patch right and below them.
    points.x.set([100, 200, 300], 0);
    points.y.set([100, 0, 0], 0);
    const counts = annotationsPerTile(grid, grid.kept, points);
    const direct = Array.from(grid.kept, (t) => points.x.filter((x, i) => x >= grid.x[t] && x < grid.x[t] + grid.width[t] && points.y[i] >= grid.y[t] && points.y[i] < grid.y[t] + grid.height[t]).length);
    expect(Array.from(counts)).toEqual(direct);
    expect(counts.reduce((a, n) => a + n, 0)).toBe(Array.from(points.x.keys()).filter((i) => points.x[i] >= 0 && points.x[i] < 300 && points.y[i] >= 0 && points.y[i] < 300).length);
    const one = { x: Float64Array.of(150, 299.5), y: Float64Array.of(50, 299.5) };
    expect(Array.from(annotatedTiles(grid, one))).toEqual([1, 8]);
  });

  it('flips and turns a patch and its map alike', () => {
    // Each pixel of a 100 px patch holds the index of its 4 px cell: every transform must keep that true.
    const size = 100;
    const patch = new Float32Array(size * size);
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) patch[r * size + c] = Math.floor(r / 4) * 25 + Math.floor(c / 4);
    const map = Float32Array.from({ length: 625 }, (_, i) => i);
    const seen = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const p = dihedral(patch, size, 1, k);
      const m = dihedral(map, 25, 1, k);
      let mismatches = 0;
      for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (p[r * size + c] !== m[Math.floor(r / 4) * 25 + Math.floor(c / 4)]) mismatches++;
      expect(mismatches, `transform ${k}`).toBe(0);
      seen.add(Array.from(m.subarray(0, 30)).join());
    }
    expect(seen.size).toBe(8);
    expect(Array.from(dihedral(Float32Array.of(1, 2, 3, 4), 2, 1, 1))).toEqual([2, 1, 4, 3]);
    expect(Array.from(dihedral(Float32Array.of(1, 2, 3, 4), 2, 1, 4))).toEqual([1, 3, 2, 4]);
  });

  it('weights the nucleus cells in the cross-entropy', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([1, 0, 0, 0]);
      const p = tf.tensor1d([0.5, 0.5, 0.1, 0.1]);
      const value = (w: number) => weightedBinaryCrossEntropy(y, p, w).dataSync()[0];
      const expected = (w: number) => -(w * Math.log(0.5) + Math.log(0.5) + 2 * Math.log(0.9)) / 4;
      expect(value(1)).toBeCloseTo(expected(1), 5);
      expect(value(10)).toBeCloseTo(expected(10), 5);
    });
  });

  it('fine-tunes on annotated patches through the training loop without leaks, leaves the CAE as it was, and detects with the same post-processing', async () => {
    const { source, points } = syntheticHeSlide(11, 200);
    const grid = computeNucleusPatches(source.metadata, undefined, { minTissueFraction: 0 });
    expect(grid.kept.length).toBe(4);
    const cae = buildCspCae({ preset: 'sixteenth', inputSize: 100, seed: 2 });
    const cnn = buildDetectionCnn(cae, { seed: 5 });
    const caeBefore = snapshot(cae.autoencoder.getWeights());
    const cnnBefore = snapshot(cnn.model.getWeights());
    // Label two patches only: every centre inside them, none elsewhere.
    const labelled = grid.kept.subarray(0, 2);
    const inside = (i: number) => Array.from(labelled).some((t) => points.x[i] >= grid.x[t] && points.x[i] < grid.x[t] + grid.width[t] && points.y[i] >= grid.y[t] && points.y[i] < grid.y[t] + grid.height[t]);
    const keep = Array.from(points.x.keys()).filter(inside);
    const annotations = { x: Float64Array.from(keep, (i) => points.x[i]), y: Float64Array.from(keep, (i) => points.y[i]) };
    expect(Array.from(annotatedTiles(grid, annotations))).toEqual(Array.from(labelled));

    const before = tf.memory().numTensors;
    const progress: FineTuneProgress[] = [];
    const result = await trainDetectionCnn(cnn, { source, grid, annotations }, { headEpochs: 1, epochs: 1, batchSize: 2, seed: 1, onProgress: (p) => progress.push(p) });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.status).toBe('completed');
    expect(result.patches).toBe(2);
    expect(result.points).toBe(keep.length);
    expect(result.positives).toBeGreaterThan(5);
    expect(result.positives).toBeLessThanOrEqual(result.points);
    expect(result.head!.history[0].loss).toBeGreaterThan(0);
    expect(progress.map((p) => `${p.phase}${p.overallEpoch}/${p.overallEpochs}`)).toEqual(['head0/2', 'all1/2']);

    expect(snapshot(cae.autoencoder.getWeights())).toEqual(caeBefore);
    const cnnAfter = snapshot(cnn.model.getWeights());
    const changed = (name: string) => {
      const i = cnn.model.weights.findIndex((w) => w.originalName.startsWith(name));
      return cnnAfter[i].some((v, j) => v !== cnnBefore[i][j]);
    };
    expect(changed('head_1_conv')).toBe(true);
    expect(changed('part1_1_conv')).toBe(true); // the second phase trains the CAE's layers too
    expect(cnn.threshold.thresholdValue).toBe(cae.threshold.thresholdValue); // t frozen

    // Detection through the shared maps and post-processing, with the CAE's X′ as features.
    const detector = fineTunedDetector(cnn, cae);
    expect(detector.featureDim).toBe(cspCaeDetector(cae).featureDim);
    const maps = await computeDetectionMaps(detector, source, grid, grid.kept);
    expect(maps.maps.length).toBe(4 * 625);
    expect(maps.maps.every((v) => v >= 0 && v <= 1)).toBe(true);
    const caeMaps = await computeDetectionMaps(cae, source, grid, grid.kept);
    expect(maps.features).toEqual(caeMaps.features);
    const found = await detectNuclei(fineTunedDetector(cnn), source, grid, grid.kept, { threshold: 0 });
    expect(found.featureDim).toBe(20);
    expect(found.features.length).toBe(found.x.length * 20);
    expect(tf.memory().numTensors).toBe(before);

    // Cancelling stops the run and leaks nothing either.
    const controller = new AbortController();
    const cancelled = await trainDetectionCnn(cnn, { source, grid, annotations }, { headEpochs: 1, epochs: 1, batchSize: 1, signal: controller.signal, onProgress: () => controller.abort() });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.all).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainDetectionCnn(cnn, { source, grid, annotations: { x: new Float64Array(0), y: new Float64Array(0) } })).rejects.toThrow(/no patch holds/);

    disposeDetectionCnn(cnn);
    disposeCspCae(cae);
  }, 120_000);
});
