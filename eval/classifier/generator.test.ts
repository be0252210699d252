/**
 * The classifier evaluation's generator and baseline (not the evaluation
 * itself, which is eval/classifier/workflow.ts): determinism, the folder
 * layout train-classifier reads, that a texture class is not given away by
 * its mean intensity, and that the baseline's statistics separate FISH crops
 * (the rule is in the spot counts). Seeds 7xx, not the evaluation's 15xx.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSet, writeSet, type TextureSetOptions } from './generator';
import { imageStatistics, logisticBaseline, readPng } from './baseline';
import { crossValidationSplits } from '../../src/analysis/classification-metrics';

function accuracyOf(features: Float64Array[], labels: number[], classes: number): number {
  const [split] = crossValidationSplits(labels, 5, 0);
  const result = logisticBaseline(features, labels, classes, Uint32Array.from([...split.train, ...split.validation]), split.test);
  return result.predicted.reduce((t, p, q) => t + (p === labels[split.test[q]] ? 1 : 0), 0) / split.test.length;
}

describe('classifier evaluation sets', () => {
  it('are a pure function of the seed, and written as DIR/<class>/<image>.png', async () => {
    const options: TextureSetOptions = { kind: 'texture', classes: ['dots', 'mesh'], counts: [3, 2], size: 24, seed: 711 };
    const a = generateSet(options);
    expect(a.labels).toEqual([0, 0, 0, 1, 1]);
    expect(Buffer.from(generateSet(options).images[4].data).equals(Buffer.from(a.images[4].data))).toBe(true);
    expect(Buffer.from(generateSet({ ...options, seed: 712 }).images[4].data).equals(Buffer.from(a.images[4].data))).toBe(false);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-eval-set-'));
    try {
      await writeSet(a, dir);
      expect(readdirSync(dir).sort()).toEqual(['dots', 'mesh']);
      expect(readdirSync(path.join(dir, 'mesh')).sort()).toEqual(['mesh-0000.png', 'mesh-0001.png']);
      const back = await readPng(path.join(dir, 'mesh', 'mesh-0001.png'));
      expect([back.width, back.height, back.channels]).toEqual([24, 24, 3]);
      expect(Buffer.from(back.data as Uint8Array).equals(Buffer.from(a.images[4].data))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('texture classes are not given away by their mean colour', () => {
    const set = generateSet({ kind: 'texture', classes: ['rings', 'dots', 'fibres', 'dashes'], counts: [50, 50, 50, 50], size: 48, seed: 721 });
    const full = set.images.map((im) => imageStatistics({ ...im, channels: 3 }));
    const means = full.map((f) => Float64Array.of(f[0], f[9], f[18]));
    const meanOnly = accuracyOf(means, set.labels, 4);
    // Chance is 0.25; a generator leaking the class into the mean colour would let this reach ~1.
    expect(meanOnly).toBeLessThan(0.5);
  });

  it('FISH crops: the baseline statistics (spot counts per channel) separate MNA from normal', () => {
    const set = generateSet({ kind: 'fish', counts: [80, 80], size: 64, seed: 731 });
    expect(set.classNames).toEqual(['MNA', 'normal']);
    const features = set.images.map((im) => imageStatistics({ ...im, channels: 3 }));
    expect(accuracyOf(features, set.labels, 2)).toBeGreaterThan(0.8);
    // Mean colour alone does much worse: the rule is in the counts, not the overall brightness.
    const means = features.map((f) => Float64Array.of(f[0], f[9], f[18]));
    expect(accuracyOf(means, set.labels, 2)).toBeLessThan(accuracyOf(features, set.labels, 2));
  });
});
