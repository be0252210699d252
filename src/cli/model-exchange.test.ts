/**
 * Models move between the command line and the app (issue 16): a model the
 * CLI trained imports into the app's worker with what it needs to run (the
 * CISH preprocessing, the CAE's preset, the classifier's spec), and a model
 * the app exports runs in the CLI. The worker's endpoint runs here in Node
 * with an in-memory stand-in for IndexedDB, so its own import, use and
 * export code is what is tested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { main } from './main';
import { createCishEndpoint } from '../workers/cish-endpoint';
import { openSlide } from '../slide/open';
import { generateHeNuclei } from '../synthetic/he-nuclei';
import { encodePng } from './map-exports';
import { generateSet, writeSet } from '../../eval/classifier/generator';

/** 'indexeddb://' URLs kept in memory: what the worker saves, it can load again. */
function memoryModelStore(): void {
  const saved = new Map<string, tf.io.ModelArtifacts>();
  const scheme = 'indexeddb://';
  const handler = (url: string): tf.io.IOHandler => ({
    async save(artifacts) {
      saved.set(url, artifacts);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: 0, modelTopologyBytes: 0 } };
    },
    async load() {
      const artifacts = saved.get(url);
      if (!artifacts) throw new Error(`${url}: no such model`);
      return artifacts;
    },
  });
  const route = ((url: string | string[]) => (typeof url === 'string' && url.startsWith(scheme) ? handler(url) : null)) as Parameters<typeof tf.io.registerSaveRouter>[0];
  tf.io.registerSaveRouter(route);
  tf.io.registerLoadRouter(route);
}

const capture = () => {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
};

/** The files of a saved model folder as the app's import dialog hands them over. */
function folderFiles(dir: string): { files: Blob[]; names: string[] } {
  const names = readdirSync(dir).filter((n) => n === 'model.json' || n.endsWith('.bin'));
  return { files: names.map((n) => new Blob([readFileSync(path.join(dir, n))])), names };
}

let dir: string;
const endpoint = createCishEndpoint({ openSlide: (file, name) => openSlide(file, name) });

beforeAll(() => {
  memoryModelStore();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-exchange-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('models trained by the command line import into the app, and back', () => {
  it.each(['intensity', 'od'] as const)('CISH autoencoder trained on %s keeps its preprocessing', async (mode) => {
    const slide = path.join(dir, `cish-${mode}.tiff`);
    const io = capture();
    expect(await main(['synth-cish', '--out', slide, '--width', '1200', '--height', '800', '--seed', '9', '--tile', '256', '--quiet'], io.io)).toBe(0);
    const out = path.join(dir, `analyze-${mode}`);
    const run = capture();
    const code = await main(['analyze', '--slide', slide, '--model', 'cish', '--intensity', mode, '--epochs', '1', '--train-tiles', '8', '--batch', '4', '--k', '2', '--seed', '4', '--out', out, '--quiet'], run.io);
    expect(code, run.out.stderr).toBe(0);

    const { files, names } = folderFiles(path.join(out, 'model'));
    const stored = await endpoint.importModel(files, names);
    expect(stored.kind).toBe('cish');
    await endpoint.open(`s-${mode}`, new Blob([readFileSync(slide)]), slide);
    const meta = await endpoint.useModel(`s-${mode}`, stored.url);
    expect(meta.preprocess.mode).toBe(mode);
    expect(meta.epochs).toBe(1);
    expect(meta.history).toHaveLength(1);
    // The fingerprint is the slide's, as the app computes it: the model is found again for this slide.
    expect(stored.fingerprint).toMatch(/^[0-9a-z]+x[0-9a-f]{20}$/);
  }, 180_000);

  it('nucleus CAE: the CLI model imports with its preset; the app export runs in the CLI with the same points', async () => {
    const image = generateHeNuclei({ width: 200, height: 200, seed: 15 });
    const slide = path.join(dir, 'he.png');
    writeFileSync(slide, encodePng({ width: 200, height: 200, data: image.rgb, channels: 3 }));
    const args = ['--slide', slide, '--mpp', '0.5', '--min-tissue', '0', '--threshold', '0', '--quiet'];
    const out = path.join(dir, 'nuclei');
    const run = capture();
    expect(await main(['nuclei', ...args, '--epochs', '1', '--train-patches', '4', '--batch', '2', '--seed', '2', '--out', out], run.io), run.out.stderr).toBe(0);

    const { files, names } = folderFiles(path.join(out, 'model'));
    const stored = await endpoint.importModel(files, names);
    expect(stored.kind).toBe('cspcae');
    await endpoint.open('he', new Blob([readFileSync(slide)]), slide);
    const info = await endpoint.useNucleiModel('he', stored.url);
    expect(info.preset).toBe(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')).model.preset);
    expect(info.history).toHaveLength(1);

    const exported = await endpoint.exportModel(stored.url);
    const back = path.join(dir, 'exported-cae');
    mkdirSync(back);
    writeFileSync(path.join(back, 'model.json'), Buffer.from(await exported.json.arrayBuffer()));
    writeFileSync(path.join(back, `${exported.baseName}.weights.bin`), Buffer.from(await exported.weights.arrayBuffer()));
    const again = capture();
    const out2 = path.join(dir, 'nuclei-again');
    expect(await main(['nuclei', ...args, '--model', back, '--out', out2], again.io), again.out.stderr).toBe(0);
    expect(readFileSync(path.join(out2, 'nuclei.csv'), 'utf8')).toBe(readFileSync(path.join(out, 'nuclei.csv'), 'utf8'));
  }, 180_000);

  it.each(['mobincep', 'organet'] as const)('%s classifier: the CLI model imports and classifies; the app export classifies in the CLI', async (arch) => {
    const data = path.join(dir, `data-${arch}`);
    await writeSet(generateSet({ kind: 'texture', classes: ['dots', 'rings'], counts: [8, 8], size: 32, seed: 77 }), data);
    const model = path.join(dir, `model-${arch}`);
    const run = capture();
    const tiny = ['--input-size', '32', '--width', '0.25', '--epochs', '1', '--batch', '8', '--seed', '3', '--quiet'];
    expect(await main(['train-classifier', '--data', data, '--arch', arch, ...tiny, '--out', model], run.io), run.out.stderr).toBe(0);

    const { files, names } = folderFiles(model);
    const stored = await endpoint.importModel(files, names);
    expect(stored.kind).toBe(arch);
    // A classifier is held per slide in the worker: any open slide will do.
    const blank = encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(200), channels: 3 });
    await endpoint.open(`c-${arch}`, new Blob([blank.slice().buffer as ArrayBuffer]), 'blank.png');
    const info = await endpoint.useClassifier(`c-${arch}`, stored.url);
    expect(info.classes).toEqual(['dots', 'rings']);
    expect(info.inputSize).toBe(32);

    const exported = await endpoint.exportModel(stored.url);
    const back = path.join(dir, `exported-${arch}`);
    mkdirSync(back);
    writeFileSync(path.join(back, 'model.json'), Buffer.from(await exported.json.arrayBuffer()));
    writeFileSync(path.join(back, `${exported.baseName}.weights.bin`), Buffer.from(await exported.weights.arrayBuffer()));
    const a = capture();
    const b = capture();
    expect(await main(['classify', '--model', model, '--images', data, '--out', path.join(dir, `classes-${arch}-cli`), '--quiet'], a.io), a.out.stderr).toBe(0);
    expect(await main(['classify', '--model', back, '--images', data, '--out', path.join(dir, `classes-${arch}-app`), '--quiet'], b.io), b.out.stderr).toBe(0);
    const csv = (which: string) => readdirSync(path.join(dir, `classes-${arch}-${which}`)).filter((f) => f.endsWith('.csv')).map((f) => readFileSync(path.join(dir, `classes-${arch}-${which}`, f), 'utf8'));
    expect(csv('cli').length).toBeGreaterThan(0);
    expect(csv('cli')[0].trim().split('\n').length).toBeGreaterThan(16); // a header and the 16 images
    expect(csv('app')).toEqual(csv('cli'));
  }, 180_000);
});
