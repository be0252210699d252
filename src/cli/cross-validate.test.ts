/**
 * `cross-validate` through the CLI's main(): a tiny run on the synthetic
 * texture set (bookkeeping of the report: every example tested once, the
 * folds' scores, the settings) and the usage errors. The accuracies the
 * command measures at full size are in bench/classifiers/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from './main';
import { syntheticDataset } from './cross-validate';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

let dir: string;
beforeAll(() => void (dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-cv-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TINY = ['--synthetic', 'textures', '--per-class', '6', '--image-size', '32', '--width', '0.25', '--epochs', '1', '--batch', '8', '--folds', '3'];

describe('cross-validate command', () => {
  it('writes per-fold and pooled scores in which every synthetic example is tested once', async () => {
    const out = path.join(dir, 'cv.json');
    const run = capture();
    const code = await main(['cross-validate', ...TINY, '--arch', 'mobincep', '--out', out], run.io);
    expect(code, run.out.stderr).toBe(0);
    for (const f of [1, 2, 3]) expect(run.out.stderr).toMatch(new RegExp(`^fold ${f}/3: accuracy \\d\\.\\d{3} after 1 epochs$`, 'm'));
    expect(run.out.stdout).toMatch(/^mobincep on synthetic textures: 3-fold accuracy \d\.\d{3} ± \d\.\d{3} \(folds \d\.\d{3}, \d\.\d{3}, \d\.\d{3}\)/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.classes).toEqual(['fibrous', 'cellular', 'granular', 'smooth']);
    expect(report.counts).toEqual([6, 6, 6, 6]);
    expect(report.data).toEqual({ synthetic: 'textures', perClass: 6, imageSize: 32, seed: 1 });
    expect(report.spec).toMatchObject({ arch: 'mobincep', inputSize: 32, channels: 3, width: 0.25 });
    expect(report.settings).toMatchObject({ folds: 3, labelFraction: 1, epochs: 1, batch: 8 });
    expect(report.folds).toHaveLength(3);
    const matrix: number[][] = report.pooled.confusion;
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(24);
    expect(matrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([6, 6, 6, 6]);
    const correct = matrix.reduce((t, row, k) => t + row[k], 0);
    expect(report.pooled.accuracy).toBeCloseTo(correct / 24, 4);
    const mean = report.folds.reduce((t: number, f: { accuracy: number }) => t + f.accuracy, 0) / 3;
    expect(report.meanAccuracy).toBeCloseTo(mean, 3);
  }, 120_000);

  it('the synthetic sets are the generators\' images, grouped by class', () => {
    const fish = syntheticDataset('fish', 3, 32, 5);
    expect(fish.classes).toEqual(['non-MNA', 'MNA']);
    expect(fish.examples.map((e) => e.label)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(fish.examples[0]).toMatchObject({ width: 32, height: 32 });
  });

  it.each([
    [['--synthetic', 'textures', '--data', 'x'], /exactly one of --data DIR and --synthetic NAME/],
    [['--arch', 'mobincep'], /exactly one of --data DIR and --synthetic NAME/],
    [['--synthetic', 'stripes'], /--synthetic must be one of textures, fish/],
    [['--synthetic', 'textures', '--label-fraction', '0'], /--label-fraction must be > 0/],
    [['--synthetic', 'textures', '--folds', '2'], /--folds must be ≥ 3/],
  ])('rejects %j with a usage error', async (args, message) => {
    const run = capture();
    const code = await main(['cross-validate', '--arch', 'organet', '--out', path.join(dir, 'x.json'), ...args], run.io);
    expect(code).toBe(2);
    expect(run.out.stderr).toMatch(message);
  });

  it('names the folder when --data is not one', async () => {
    const run = capture();
    const missing = path.join(dir, 'nowhere');
    const code = await main(['cross-validate', '--data', missing, '--input-size', '32', '--arch', 'mobincep', '--out', path.join(dir, 'y.json'), '--quiet'], run.io);
    expect(code).toBe(1);
    expect(run.out.stderr).toContain(missing);
  });
});
