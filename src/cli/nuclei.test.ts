/**
 * `nuclei` through the CLI's main(): on a synthetic H&E image written as a
 * PNG (µm/px given with --mpp), a short training run writes the points
 * table, the GeoJSON, the model and a summary with the 6-px evaluation
 * against the generator's centres; the saved model reloads with --model and
 * gives the same points. With --finetune, the detection CNN is fine-tuned
 * from point annotations and saved beside the CAE, and the summary holds F1
 * before and after. Usage errors name the option.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import os from 'node:os';
import path from 'node:path';
import { main } from './main';
import { encodePng } from './map-exports';
import { generateHeNuclei } from '../synthetic/he-nuclei';
import { fileSystemLoadHandler } from './model-io';
import '../models/nuclei/threshold-layer'; // registers the threshold layer for loading

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-nuclei-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nuclei command', () => {
  it('trains, detects, writes nuclei.csv / nuclei.geojson / model / summary with the evaluation, and reloads the model', async () => {
    const image = generateHeNuclei({ width: 300, height: 300, seed: 5 });
    const slide = path.join(dir, 'he.png');
    writeFileSync(slide, encodePng({ width: 300, height: 300, data: image.rgb, channels: 3 }));
    const truth = path.join(dir, 'truth.csv');
    const centres = Array.from({ length: image.centres.length / 2 }, (_, i) => `${image.centres[2 * i] + 0.5},${image.centres[2 * i + 1] + 0.5}`);
    writeFileSync(truth, `x,y\n${centres.join('\n')}\n`);
    const out = path.join(dir, 'run');
    const run = capture();
    const args = ['--slide', slide, '--mpp', '0.5', '--min-tissue', '0', '--truth', truth, '--threshold', '0'];
    const code = await main(['nuclei', ...args, '--epochs', '1', '--train-patches', '9', '--batch', '3', '--seed', '2', '--out', out], run.io);
    expect(code, run.out.stderr).toBe(0);
    expect(run.out.stderr).toMatch(/^train: done/m);
    expect(run.out.stderr).toMatch(/evaluation \(6-px rule\): precision \d\.\d{3}, recall \d\.\d{3}, F1 \d\.\d{3}/);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.patches.kept).toBe(9);
    expect(summary.nuclei, 'an untrained-ish model still marks some peaks at this threshold').toBeGreaterThan(0);
    expect(summary.model.preset).toBe('sixteenth');
    expect(summary.evaluation.truth).toBe(centres.length);
    expect(summary.evaluation.truePositives + summary.evaluation.falsePositives).toBe(summary.nuclei);
    const lines = readFileSync(path.join(out, 'nuclei.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe(['x', 'y', 'score', ...Array.from({ length: 6 }, (_, k) => `f${k}`), 'checks'].join(','));
    expect(lines.length - 1).toBe(summary.nuclei);
    for (const line of lines.slice(1)) {
      const [x, y] = line.split(',').map(Number);
      expect(x >= 0 && x <= 300 && y >= 0 && y <= 300).toBe(true);
    }
    const geojson = JSON.parse(readFileSync(path.join(out, 'nuclei.geojson'), 'utf8'));
    expect(geojson.features[0].geometry.coordinates).toHaveLength(summary.nuclei);
    expect(geojson.features[0].properties.classification.name).toBe('Nucleus');

    // The saved model gives the same points.
    const again = capture();
    const out2 = path.join(dir, 'reloaded');
    expect(await main(['nuclei', ...args, '--model', path.join(out, 'model'), '--out', out2], again.io), again.out.stderr).toBe(0);
    expect(readFileSync(path.join(out2, 'nuclei.csv'), 'utf8')).toBe(readFileSync(path.join(out, 'nuclei.csv'), 'utf8'));
  }, 120_000);

  it('fine-tunes the detection CNN from --finetune points after the CAE, detects with it, saves it beside the CAE and reports F1 before and after', async () => {
    const image = generateHeNuclei({ width: 200, height: 200, seed: 8 });
    const slide = path.join(dir, 'he-ft.png');
    writeFileSync(slide, encodePng({ width: 200, height: 200, data: image.rgb, channels: 3 }));
    const centres = Array.from({ length: image.centres.length / 2 }, (_, i) => [image.centres[2 * i] + 0.5, image.centres[2 * i + 1] + 0.5]);
    const truth = path.join(dir, 'truth-ft.csv');
    writeFileSync(truth, `x,y\n${centres.map((c) => c.join(',')).join('\n')}\n`);
    // Every nucleus of the top-left patch (0–100 px), as GeoJSON points.
    const labelled = centres.filter(([x, y]) => x < 100 && y < 100);
    const annotations = path.join(dir, 'finetune.geojson');
    writeFileSync(annotations, JSON.stringify({ type: 'FeatureCollection', features: labelled.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} })) }));
    const out = path.join(dir, 'finetuned');
    const run = capture();
    const args = ['--slide', slide, '--mpp', '0.5', '--min-tissue', '0', '--truth', truth, '--finetune', annotations, '--finetune-head-epochs', '1', '--finetune-epochs', '1'];
    const code = await main(['nuclei', ...args, '--epochs', '1', '--train-patches', '4', '--batch', '2', '--seed', '1', '--out', out], run.io);
    expect(code, run.out.stderr).toBe(0);
    expect(run.out.stderr).toMatch(/^finetune: done/m);
    expect(run.out.stderr).toMatch(/evaluation before fine-tuning \(6-px rule\): precision \d\.\d{3}, recall \d\.\d{3}, F1 \d\.\d{3}/);
    expect(run.out.stderr).toMatch(/^evaluation \(6-px rule\): precision/m);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.finetune.patches).toBe(1);
    expect(summary.finetune.annotatedNuclei).toBeGreaterThan(3);
    expect(summary.finetune.annotatedNuclei).toBeLessThanOrEqual(labelled.length);
    expect(summary.finetune.f1Before).toBe(summary.finetune.evaluationBefore.f1);
    expect(summary.finetune.f1After).toBe(summary.evaluation.f1);
    expect(summary.evaluation.truePositives + summary.evaluation.falsePositives).toBe(summary.nuclei);
    expect(summary.settings.finetune).toBe(annotations);
    // The points keep the CAE's foreground features; both models are saved, and the fine-tuned one reloads.
    expect(readFileSync(path.join(out, 'nuclei.csv'), 'utf8').split('\n')[0]).toBe(['x', 'y', 'score', ...Array.from({ length: 6 }, (_, k) => `f${k}`), 'checks'].join(','));
    expect(existsSync(path.join(out, 'model', 'model.json'))).toBe(true);
    const tuned = await tfl.loadLayersModel(fileSystemLoadHandler(path.join(out, 'model-finetuned', 'model.json')));
    expect(tuned.outputs[0].shape).toEqual([null, 25, 25, 1]);
    expect(tuned.layers.some((l) => l.name === 'head_5_conv')).toBe(true);
    tuned.dispose();

    const none = capture();
    const outside = path.join(dir, 'outside.csv');
    writeFileSync(outside, 'x,y\n500,500\n');
    expect(await main(['nuclei', '--slide', slide, '--mpp', '0.5', '--min-tissue', '0', '--model', path.join(out, 'model'), '--finetune', outside, '--out', path.join(dir, 'none')], none.io)).toBe(1);
    expect(none.out.stderr).toMatch(/outside\.csv: no tissue patch of the region holds an annotated point/);
  }, 120_000);

  it('rejects bad options with the reason', async () => {
    const bad = capture();
    expect(await main(['nuclei', '--slide', 'x.png', '--out', dir, '--preset', 'huge'], bad.io)).toBe(2);
    expect(bad.out.stderr).toMatch(/--preset/);
    const roi = capture();
    expect(await main(['nuclei', '--slide', 'x.png', '--out', dir, '--roi', '1,2,3'], roi.io)).toBe(2);
    expect(roi.out.stderr).toMatch(/--roi must be X,Y,W,H/);
    const missing = capture();
    expect(await main(['nuclei', '--slide', path.join(dir, 'none.png'), '--out', dir], missing.io)).toBe(1);
    expect(missing.out.stderr).toMatch(/none\.png: /);
  });
});
