/**
 * `train-classifier` and `classify` through the CLI's main(), on generated
 * images: two classes of small PNGs that differ clearly (checkerboards against
 * stripes) in class sub-folders, a tiny network (32 px input, width
 * 0.25, 2 epochs). Checks the saved model (its metadata rebuilds the
 * classifier), metrics.json, predictions.csv for the same folder, the class
 * map outputs of a generated slide (a PNG) and that bad inputs fail with a
 * message naming the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { main } from './main';
import { encodePng } from './map-exports';
import { parseCsv } from './csv';
import { fileSystemLoadHandler, fileSystemSaveHandler } from './model-io';
import { trainedClassifierFromModel } from '../models/classifier/pipeline';
import { Random } from '../util/random';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

/**
 * RGB stripes (horizontal or vertical, at random) or a checkerboard, with a
 * random period, phase and noise: classes that stay distinct under the
 * networks' flip and rotation augmentation.
 */
function pattern(width: number, height: number, kind: 'stripes' | 'checks', random: Random): Uint8Array {
  const period = 4 + Math.floor(random.uniform() * 4);
  const phase = random.uniform() * period;
  const vertical = random.uniform() < 0.5;
  const half = (t: number) => Math.floor((t + phase) / (period / 2));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dark = kind === 'stripes' ? half(vertical ? x : y) % 2 === 0 : (half(x) + half(y)) % 2 === 0;
      const v = (dark ? 70 : 200) + Math.round((random.uniform() - 0.5) * 30);
      data.set([v, Math.round(v * 0.7), Math.round(v * 0.9)], (y * width + x) * 3);
    }
  }
  return data;
}

const CLASSES = ['checks', 'stripes'] as const;

function writeImageFolder(dir: string, perClass: number, seed: number): void {
  const random = new Random(seed);
  for (const klass of CLASSES) {
    mkdirSync(path.join(dir, klass), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      writeFileSync(path.join(dir, klass, `img${i}.png`), encodePng({ width: 40, height: 40, data: pattern(40, 40, klass, random), channels: 3 }));
    }
  }
}

let dir: string;
let data: string;
let model: string;
const TINY = ['--input-size', '32', '--width', '0.25', '--epochs', '2', '--batch', '8', '--seed', '3', '--learning-rate', '0.001'];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-classifier-'));
  data = path.join(dir, 'data');
  writeImageFolder(data, 12, 1);
  writeFileSync(path.join(data, 'README.txt'), 'not an image, and not in a class folder');
  model = path.join(dir, 'model');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train-classifier and classify commands', () => {
  it('trains Mobincep on a class-per-folder image set and writes the model and metrics.json', async () => {
    const run = capture();
    const code = await main(['train-classifier', '--data', data, '--arch', 'mobincep', ...TINY, '--out', model], run.io);
    expect(code, run.out.stderr).toBe(0);
    expect(run.out.stderr).toMatch(/^data: done .*24 images in 2 classes \(checks 12, stripes 12\), 1 other files skipped/m);
    expect(run.out.stderr).toMatch(/^train: done/m);
    expect(run.out.stdout).toMatch(/^mobincep: 24 images, 2 classes; split 14 train \/ 5 validation \/ 5 test; 2 epochs$/m);
    expect(run.out.stdout).toMatch(/^test accuracy \d\.\d{3}, micro AUC (\d\.\d{3}|n\/a), macro AUC/m);
    expect(run.out.stdout).toMatch(/^ {2}checks +\d\.\d{3} +\d\.\d{3} +\d\.\d{3} +\d+$/m);
    for (const file of ['model.json', 'weights.bin', 'metrics.json']) expect(existsSync(path.join(model, file)), file).toBe(true);

    const metrics = JSON.parse(readFileSync(path.join(model, 'metrics.json'), 'utf8'));
    expect(metrics.classes).toEqual([...CLASSES]);
    expect(metrics.split).toMatchObject({ folds: 5, fold: 0, train: 14, validation: 5, test: 5 });
    expect(metrics.balance.counts).toEqual({ checks: 12, stripes: 12 });
    expect(metrics.warnings).toEqual([]);
    expect(metrics.test.accuracy).toBeGreaterThanOrEqual(0);
    expect(metrics.test.accuracy).toBeLessThanOrEqual(1);
    expect(metrics.test.perClass.map((c: { class: string }) => c.class)).toEqual([...CLASSES]);
    expect(metrics.test.perClass.reduce((t: number, c: { support: number }) => t + c.support, 0)).toBe(5);
    const matrix: number[][] = metrics.test.confusion.matrix;
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(5);
    expect(matrix.map((row) => row[0] + row[1])).toEqual(metrics.test.perClass.map((c: { support: number }) => c.support));
    expect(metrics.test.macroAuc === null || (metrics.test.macroAuc >= 0 && metrics.test.macroAuc <= 1)).toBe(true);
    expect(metrics.training.epochsRun).toBe(2);
    expect(metrics.spec).toMatchObject({ arch: 'mobincep', inputSize: 32, channels: 3, width: 0.25 });

    // The metadata is the app's (kind, fingerprint, id, spec, dec) and rebuilds the classifier.
    const json = JSON.parse(readFileSync(path.join(model, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata).toMatchObject({ tilescope: 'mobincep', spec: { arch: 'mobincep', classes: [...CLASSES] }, dec: null });
    expect(json.userDefinedMetadata.fingerprint).toMatch(/^[0-9a-z]+$/);
    expect(json.userDefinedMetadata.modelId).toMatch(/^[0-9a-z]+$/);
    const loaded = await tfl.loadLayersModel(fileSystemLoadHandler(model));
    const trained = trainedClassifierFromModel(loaded);
    expect(trained.spec).toEqual(metrics.spec);
    expect(trained.spec.normalisation).toBe('image');
    expect(trained.dec).toBeNull();
    // A model saved before the normalisation was recorded was standardised per channel; a wrong value is refused.
    const meta = json.userDefinedMetadata;
    const { normalisation: _recorded, ...older } = meta.spec;
    loaded.setUserDefinedMetadata({ ...meta, spec: older });
    expect(trainedClassifierFromModel(loaded).spec.normalisation).toBe('channel');
    loaded.setUserDefinedMetadata({ ...meta, spec: { ...meta.spec, normalisation: 'global' } });
    expect(() => trainedClassifierFromModel(loaded)).toThrow(/normalisation must be one of image, channel, none, got global/);
    loaded.dispose();
  }, 60_000);

  it('classifies a folder of images into predictions.csv (file as given, class, confidence)', async () => {
    const out = path.join(dir, 'predicted');
    const run = capture();
    // A trailing slash is kept as given.
    const code = await main(['classify', '--model', model, '--images', data + '/', '--out', out, '--quiet'], run.io);
    expect(code, run.out.stderr).toBe(0);
    expect(run.out.stderr).toBe('');
    const table = parseCsv(readFileSync(path.join(out, 'predictions.csv'), 'utf8'));
    expect(table.header).toEqual(['file', 'class', 'confidence']);
    expect(table.rows).toHaveLength(24);
    const expected = [...CLASSES].flatMap((c) => Array.from({ length: 12 }, (_, i) => `${data}/${c}/img${i}.png`)).sort();
    expect(table.rows.map((r) => r[0]).sort()).toEqual(expected);
    for (const [, klass, confidence] of table.rows) {
      expect([...CLASSES]).toContain(klass);
      const p = Number(confidence);
      // The predicted class is the most probable of two: at least one half.
      expect(p >= 0.5 && p <= 1, confidence).toBe(true);
    }
    expect(run.out.stdout).toMatch(/^24 images: checks \d+, stripes \d+ → /);
  }, 30_000);

  it('maps a slide: class-map.png, tiles.csv, classes.geojson and summary.json whose counts and areas add up', async () => {
    // 256 × 128 px at 1 µm/px: checks on the left half, stripes on the right; 32 µm tiles → 8 × 4.
    const random = new Random(9);
    const left = pattern(128, 128, 'checks', random);
    const right = pattern(128, 128, 'stripes', random);
    const rgb = new Uint8Array(256 * 128 * 3);
    for (let y = 0; y < 128; y++) {
      rgb.set(left.subarray(y * 128 * 3, (y + 1) * 128 * 3), y * 256 * 3);
      rgb.set(right.subarray(y * 128 * 3, (y + 1) * 128 * 3), (y * 256 + 128) * 3);
    }
    const slide = path.join(dir, 'slide.png');
    writeFileSync(slide, encodePng({ width: 256, height: 128, data: rgb, channels: 3 }));
    const out = path.join(dir, 'map');
    const run = capture();
    const code = await main(['classify', '--model', path.join(model, 'model.json'), '--slide', slide, '--mpp', '1', '--tile-um', '32', '--min-tissue', '0', '--out', out], run.io);
    expect(code, run.out.stderr).toBe(0);
    expect(run.out.stderr).toMatch(/^tiles: done .*8 × 4 grid of 32 µm, 32 on tissue/m);
    for (const file of ['class-map.png', 'overview.png', 'tiles.csv', 'classes.geojson', 'summary.json']) expect(existsSync(path.join(out, file)), file).toBe(true);

    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.tiles.classified).toBe(32);
    expect(summary.classes.map((c: { class: string }) => c.class)).toEqual([...CLASSES]);
    const tiles = summary.classes.map((c: { tiles: number }) => c.tiles);
    expect(tiles[0] + tiles[1]).toBe(32);
    // 32 µm tiles without overlap: 0.001024 mm² each.
    expect(summary.tiles.cellMm2).toBeCloseTo(0.001024, 9);
    summary.classes.forEach((c: { tiles: number; areaMm2: number }) => expect(c.areaMm2).toBeCloseTo(c.tiles * 0.001024, 9));
    expect(summary.tissueAreaMm2).toBeCloseTo(32 * 0.001024, 9);
    expect(summary.map).toMatchObject({ width: 256, height: 128, downsample: 1 });

    const table = parseCsv(readFileSync(path.join(out, 'tiles.csv'), 'utf8'));
    expect(table.header).toEqual(['x', 'y', 'width', 'height', 'class', 'confidence']);
    expect(table.rows).toHaveLength(32);
    expect(table.rows.filter((r) => r[4] === 'checks')).toHaveLength(tiles[0]);
    for (const [x, y, w, h, , p] of table.rows) {
      expect([Number(w), Number(h)]).toEqual([32, 32]);
      expect(Number(x) % 32 === 0 && Number(y) % 32 === 0).toBe(true);
      expect(Number(p) >= 0.5 && Number(p) <= 1).toBe(true);
    }
    const geojson = JSON.parse(readFileSync(path.join(out, 'classes.geojson'), 'utf8'));
    const cells = geojson.features.reduce((t: number, f: { properties: { measurements: { tiles: number } } }) => t + f.properties.measurements.tiles, 0);
    expect(cells).toBe(32);
    expect(run.out.stdout).toMatch(/^32 tiles: checks \d+ \(\d\.\d{3} mm²\), stripes \d+ \(\d\.\d{3} mm²\) → /);
  }, 30_000);

  it('trains OrgaNet (grey, DEC clusters in the metadata) and classifies with the reloaded model', async () => {
    const small = path.join(dir, 'small');
    writeImageFolder(small, 5, 4);
    const organet = path.join(dir, 'organet');
    const run = capture();
    const code = await main(['train-classifier', '--data', small, '--arch', 'organet', ...TINY, '--epochs', '1', '--no-augment', '--out', organet, '--quiet'], run.io);
    expect(code, run.out.stderr).toBe(0);
    // Fewer than 10 images per class: a warning for each, and in metrics.json.
    expect(run.out.stderr).toMatch(/^warning: class "checks" has 5 examples/m);
    const metrics = JSON.parse(readFileSync(path.join(organet, 'metrics.json'), 'utf8'));
    expect(metrics.warnings).toHaveLength(2);
    expect(metrics.balance.tooFew).toEqual([...CLASSES]);
    expect(metrics.spec).toMatchObject({ arch: 'organet', channels: 1, inputSize: 32, adaptedSize: 32 });
    const json = JSON.parse(readFileSync(path.join(organet, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.dec.k).toBe(2);
    expect(json.userDefinedMetadata.dec.centres).toHaveLength(2 * json.userDefinedMetadata.dec.dims);

    const out = path.join(dir, 'organet-predicted');
    const again = capture();
    expect(await main(['classify', '--model', organet, '--images', small, '--out', out, '--quiet'], again.io), again.out.stderr).toBe(0);
    const table = parseCsv(readFileSync(path.join(out, 'predictions.csv'), 'utf8'));
    expect(table.rows).toHaveLength(10);
    for (const [file, klass, p] of table.rows) {
      expect(file.startsWith(small + path.sep)).toBe(true);
      expect([...CLASSES]).toContain(klass);
      expect(Number(p) >= 0 && Number(p) <= 1).toBe(true);
    }
  }, 60_000);

  it('fails on bad inputs with a message naming the option or the file', async () => {
    const fails = async (argv: string[], code: number, message: RegExp) => {
      const run = capture();
      expect(await main(argv, run.io), run.out.stderr).toBe(code);
      expect(run.out.stderr).toMatch(message);
      return run.out.stderr;
    };
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const out = path.join(dir, 'never');
    // Usage errors: exit 2.
    await fails(['train-classifier', '--arch', 'mobincep', '--out', out], 2, /error: missing --data/);
    await fails(['train-classifier', '--data', data, '--out', out], 2, /error: missing --arch/);
    await fails(['train-classifier', '--data', data, '--arch', 'resnet', '--out', out], 2, /--arch must be one of mobincep, organet, got 'resnet'/);
    await fails(['train-classifier', '--data', data, '--arch', 'organet', '--width', '0', '--out', out], 2, /--width must be ≥ 0\.05, got 0/);
    await fails(['train-classifier', '--data', data, '--arch', 'organet', '--epochs', '1.5', '--out', out], 2, /--epochs must be an integer, got '1\.5'/);
    await fails(['classify', '--model', model, '--out', out], 2, /give either --slide FILE or --images DIR/);
    await fails(['classify', '--model', model, '--slide', 'a.png', '--images', data, '--out', out], 2, /give either --slide FILE or --images DIR/);

    // Failures tied to a file: exit 1, `<file>: <reason>`.
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    await fails(['train-classifier', '--data', empty, '--arch', 'mobincep', '--out', out], 1, new RegExp(`^${escape(empty)}: no images in class sub-folders`, 'm'));
    await fails(['train-classifier', '--data', path.join(dir, 'missing'), '--arch', 'mobincep', '--out', out], 1, new RegExp(`^${escape(path.join(dir, 'missing'))}: no such file or directory`, 'm'));
    const one = path.join(dir, 'one-class');
    mkdirSync(path.join(one, 'only'), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(path.join(one, 'only', `${i}.png`), readFileSync(path.join(data, 'stripes', `img${i}.png`)));
    await fails(['train-classifier', '--data', one, '--arch', 'mobincep', '--out', out], 1, new RegExp(`^${escape(one)}: only one class sub-folder \\("only"\\) holds images`, 'm'));
    const few = path.join(dir, 'few');
    mkdirSync(path.join(few, 'a'), { recursive: true });
    mkdirSync(path.join(few, 'b'), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(path.join(few, 'a', `${i}.png`), readFileSync(path.join(data, 'stripes', `img${i}.png`)));
    writeFileSync(path.join(few, 'b', '0.png'), readFileSync(path.join(data, 'checks', 'img0.png')));
    await fails(['train-classifier', '--data', few, '--arch', 'mobincep', '--out', out], 1, new RegExp(`^${escape(path.join(few, 'b'))}: 1 image; each class needs at least 3`, 'm'));
    const broken = path.join(dir, 'broken');
    mkdirSync(path.join(broken, 'a'), { recursive: true });
    writeFileSync(path.join(broken, 'a', 'bad.png'), new Uint8Array(16));
    await fails(['train-classifier', '--data', broken, '--arch', 'mobincep', '--out', out], 1, new RegExp(`^${escape(path.join(broken, 'a', 'bad.png'))}: `, 'm'));
    expect(existsSync(out), 'nothing is written when the data are refused').toBe(false);

    // Not a model: a folder without model.json, and a layers model without classifier metadata.
    await fails(['classify', '--model', data, '--images', data, '--out', out], 1, new RegExp(`^${escape(path.join(data, 'model.json'))}: no such file: not a model folder`, 'm'));
    const plain = path.join(dir, 'plain-model');
    const dense = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    await dense.save(fileSystemSaveHandler(plain));
    dense.dispose();
    await fails(['classify', '--model', plain, '--images', data, '--out', out], 1, new RegExp(`^${escape(path.join(plain, 'model.json'))}: not a Tilescope classifier`, 'm'));
    const noWeights = path.join(dir, 'no-weights');
    mkdirSync(noWeights);
    writeFileSync(path.join(noWeights, 'model.json'), readFileSync(path.join(model, 'model.json')));
    await fails(['classify', '--model', noWeights, '--images', data, '--out', out], 1, new RegExp(`^${escape(path.join(noWeights, 'weights.bin'))}: no such file or directory`, 'm'));
    await fails(['classify', '--model', model, '--images', empty, '--out', out], 1, new RegExp(`^${escape(empty)}: no images`, 'm'));
    await fails(['classify', '--model', model, '--slide', path.join(dir, 'slide.png'), '--out', out], 1, /slide\.png: the file does not state its µm per pixel; pass --mpp/);
  }, 30_000);
});
