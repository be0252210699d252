/**
 * `cross-validate`: k-fold cross-validation of a few-label classifier of
 * seed 002 (Mobincep or OrgaNet) on a folder of images laid out as
 * DIR/<class>/<image>, or on one of the project's labelled synthetic sets
 * (textures, FISH nuclei). Each split trains on 60 %, stops early on 20 %
 * and is scored on the remaining 20 % (k = 5), as the seed validates; with
 * --label-fraction only that share of the training and validation labels is
 * used while the test folds stay whole. Writes a JSON report (per-fold and
 * pooled accuracy, per-class scores, confusion matrix, AUCs, settings,
 * timings); this is what produced the accuracies in bench/classifiers/.
 */
import path from 'node:path';
import { NORMALISATIONS, datasetFromImages, classBalance, type ClassifierDataset, type Normalisation } from '../models/classifier/dataset';
import { CLASSIFIER_DEFAULTS, DEFAULT_NORMALISATION, classifierSpec, crossValidateClassifier, type ClassifierArch } from '../models/classifier/pipeline';
import { MOBINCEP_DEFAULTS } from '../models/mobincep';
import { ORGANET_DEFAULTS } from '../models/organet';
import { generateTextureDataset } from '../synthetic/textures';
import { generateFishDataset } from '../synthetic/fish-nuclei';
import { CliError, OptionReader, UsageError, messageOf, parseCommandArgs, writeOutput } from './args';
import { ProgressReporter, formatDuration } from './progress';
import { checkDataset, loadDataset, trainOptionsOf } from './train-classifier';
import { jsonNumber, type CliIO } from './io';

export const SYNTHETIC_SETS = ['textures', 'fish'] as const;
export type SyntheticSet = (typeof SYNTHETIC_SETS)[number];

export const CROSS_VALIDATE_USAGE = `Usage: tilescope cross-validate (--data DIR | --synthetic textures|fish) --arch mobincep|organet --out FILE.json [options]

k-fold cross-validation of a few-label classifier (seed 002): per split 60 %
train, 20 % validation (early stopping), 20 % test at k = 5; every example
is tested once. Writes FILE.json with per-fold and pooled scores (accuracy,
per-class precision/recall/F1, confusion matrix, micro/macro AUC) and prints
a summary.

Data (one of):
  --data DIR            folder with one sub-folder of images per class
  --synthetic NAME      textures (4 classes: fibrous, cellular, granular, smooth)
                        or fish (non-MNA / MNA single-nucleus FISH crops)
  --per-class N         synthetic images per class (default 100)
  --image-size PX       side of the synthetic images (default 48)
  --data-seed S         seed of the synthetic set (default 1)

Options:
  --arch NAME           mobincep or organet (required)
  --out FILE            JSON report (required)
  --folds K             folds, ≥ 3 (default 5)
  --label-fraction F    share of each split's train/validation labels used, (0, 1] (default 1)
  --epochs N            most training epochs per split (default 20)
  --batch N             batch size (default ${CLASSIFIER_DEFAULTS.mobincep.batchSize} for mobincep, ${CLASSIFIER_DEFAULTS.organet.batchSize} for organet)
  --input-size PX       side of the network input; images are resampled to it (default: the image size)
  --channels C          1 or 3 (default: 3 for mobincep, 1 for organet)
  --width F             width multiplier, 0.05–2 (default 1)
  --normalisation N     image: standardise each image over all channels; channel: per channel;
                        none: intensities as stored, scaled to [0, 1] (default ${DEFAULT_NORMALISATION})
  --patience N          early-stopping patience in epochs; 0 = off (default 5)
  --no-augment          no online augmentation (default: the network's preset)
  --learning-rate RATE  (default ${MOBINCEP_DEFAULTS.learningRate} for mobincep, ${ORGANET_DEFAULTS.learningRate} for organet)
  --seed S              seed of the folds, weights, shuffling and augmentation (default 0)
  --backend NAME        wasm (default) or cpu
  --quiet               no progress lines
  -h, --help            show this help`;

const OPTIONS = {
  data: { type: 'string' },
  synthetic: { type: 'string' },
  'per-class': { type: 'string' },
  'image-size': { type: 'string' },
  'data-seed': { type: 'string' },
  arch: { type: 'string' },
  out: { type: 'string' },
  folds: { type: 'string' },
  'label-fraction': { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  'input-size': { type: 'string' },
  channels: { type: 'string' },
  width: { type: 'string' },
  normalisation: { type: 'string' },
  patience: { type: 'string' },
  'no-augment': { type: 'boolean' },
  'learning-rate': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CrossValidateSettings {
  data: { folder: string } | { synthetic: SyntheticSet; perClass: number; imageSize: number; seed: number };
  arch: ClassifierArch;
  out: string;
  folds: number;
  labelFraction: number;
  epochs: number;
  batch: number;
  /** null: the images' own size. */
  inputSize: number | null;
  channels: 1 | 3;
  width: number;
  normalisation: Normalisation;
  patience: number;
  augment: boolean;
  learningRate: number;
  seed: number;
  backend: 'wasm' | 'cpu';
  quiet: boolean;
}

export function parseCrossValidateArgs(argv: string[]): CrossValidateSettings | 'help' {
  const { values } = parseCommandArgs(argv, OPTIONS, CROSS_VALIDATE_USAGE);
  const o = new OptionReader(values, CROSS_VALIDATE_USAGE);
  if (o.flag('help')) return 'help';
  if (o.has('data') === o.has('synthetic')) throw new UsageError('give exactly one of --data DIR and --synthetic NAME', CROSS_VALIDATE_USAGE);
  const data: CrossValidateSettings['data'] =
    o.has('data')
      ? { folder: o.required('data') }
      : {
          synthetic: o.choice('synthetic', SYNTHETIC_SETS, 'textures'),
          perClass: o.number('per-class', 100, { min: 3, max: 100_000, integer: true }),
          imageSize: o.number('image-size', 48, { min: 16, max: 1024, integer: true }),
          seed: o.number('data-seed', 1, { integer: true }),
        };
  o.required('arch');
  const arch = o.choice('arch', ['mobincep', 'organet'] as const, 'mobincep');
  const inputSize = o.optionalNumber('input-size', { min: 16, max: 1024, integer: true }) ?? null;
  return {
    data,
    arch,
    out: o.required('out'),
    folds: o.number('folds', 5, { min: 3, max: 100, integer: true }),
    labelFraction: o.number('label-fraction', 1, { min: 0, exclusiveMin: true, max: 1 }),
    epochs: o.number('epochs', 20, { min: 1, integer: true }),
    batch: o.number('batch', CLASSIFIER_DEFAULTS[arch].batchSize, { min: 1, integer: true }),
    inputSize,
    channels: o.choice('channels', ['1', '3'] as const, String(CLASSIFIER_DEFAULTS[arch].channels) as '1' | '3') === '1' ? 1 : 3,
    width: o.number('width', 1, { min: 0.05, max: 2 }),
    normalisation: o.choice('normalisation', NORMALISATIONS, DEFAULT_NORMALISATION),
    patience: o.number('patience', 5, { min: 0, integer: true }),
    augment: !o.flag('no-augment'),
    learningRate: o.number('learning-rate', arch === 'mobincep' ? MOBINCEP_DEFAULTS.learningRate : ORGANET_DEFAULTS.learningRate, { min: 0, exclusiveMin: true }),
    seed: o.number('seed', 0, { integer: true }),
    backend: o.choice('backend', ['wasm', 'cpu'] as const, 'wasm'),
    quiet: o.flag('quiet'),
  };
}

/** One of the labelled synthetic sets as a classifier dataset (in memory). */
export function syntheticDataset(name: SyntheticSet, perClass: number, size: number, seed: number): ClassifierDataset {
  return datasetFromImages(name === 'textures' ? generateTextureDataset({ perClass, size, seed, channels: 3 }) : generateFishDataset({ perClass, size, seed }));
}


export async function runCrossValidate(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCrossValidateArgs(argv);
  if (parsed === 'help') {
    io.stdout(CROSS_VALIDATE_USAGE + '\n');
    return 0;
  }
  const s = parsed;
  const progress = new ProgressReporter(io.stderr, { quiet: s.quiet });
  const startedAt = performance.now();
  const source = 'folder' in s.data ? s.data.folder : `synthetic ${s.data.synthetic}`;

  progress.begin('data', source);
  let dataset: ClassifierDataset;
  let imageSize: number | null = null;
  if ('folder' in s.data) {
    dataset = (await loadDataset(s.data.folder)).dataset;
    checkDataset(s.data.folder, dataset, classBalance(dataset).counts);
  } else {
    dataset = syntheticDataset(s.data.synthetic, s.data.perClass, s.data.imageSize, s.data.seed);
    imageSize = s.data.imageSize;
  }
  try {
    const balance = classBalance(dataset);
    progress.end(`${dataset.examples.length} images in ${dataset.classes.length} classes (${dataset.classes.map((c, k) => `${c} ${balance.counts[k]}`).join(', ')})`);
    const inputSize = s.inputSize ?? imageSize;
    if (inputSize === null) throw new UsageError('--input-size is required with --data (the images may differ in size)', CROSS_VALIDATE_USAGE);

    const { initNodeBackend } = await import('../engine/wasm-node');
    const backend = await initNodeBackend(s.backend);
    const spec = classifierSpec({ arch: s.arch, classes: dataset.classes, inputSize, channels: s.channels, width: s.width, normalisation: s.normalisation });
    let fold = 0;
    progress.begin('cross-validate', `${s.arch}, ${inputSize} px × ${s.channels}, width ${s.width}; ${s.folds} folds, labels ${Math.round(s.labelFraction * 100)} %; ${s.epochs} epochs, batch ${s.batch}, ${backend}`);
    const result = await crossValidateClassifier(dataset, spec, {
      folds: s.folds,
      labelFraction: s.labelFraction,
      ...trainOptionsOf(s),
      onFold: (f) => (fold = f),
      onFoldDone: (f, e) => progress.note(`fold ${f + 1}/${s.folds}: accuracy ${e.report.accuracy.toFixed(3)} after ${e.epochsRun} epochs`),
      onProgress: (p) => {
        const steps = p.stepsPerEpoch ?? 1;
        const done = (fold * s.epochs + p.epoch) * steps + p.step;
        progress.update(done, s.folds * s.epochs * steps, `fold ${fold + 1}/${s.folds} epoch ${p.epoch + 1} step ${p.step}/${steps} loss ${p.loss.toPrecision(4)}`);
      },
    }).catch((err: unknown) => {
      throw new CliError(source, messageOf(err));
    });
    progress.end(`mean accuracy ${result.meanAccuracy.toFixed(3)}`);

    const K = dataset.classes.length;
    const accuracies = result.folds.map((f) => f.report.accuracy);
    const mean = result.meanAccuracy;
    const sd = Math.sqrt(accuracies.reduce((t, a) => t + (a - mean) ** 2, 0) / Math.max(1, accuracies.length - 1));
    const { report, roc } = result.pooled;
    const seconds = (performance.now() - startedAt) / 1000;
    const summary = {
      data: 'folder' in s.data ? { folder: s.data.folder } : s.data,
      classes: dataset.classes,
      counts: balance.counts,
      arch: s.arch,
      spec,
      backend,
      settings: { folds: s.folds, labelFraction: s.labelFraction, epochs: s.epochs, batch: s.batch, patience: s.patience, augment: s.augment, learningRate: s.learningRate, seed: s.seed },
      meanAccuracy: jsonNumber(mean),
      sdAccuracy: jsonNumber(sd),
      folds: result.folds.map((f) => ({ accuracy: jsonNumber(f.report.accuracy), epochsRun: f.epochsRun, macroAuc: jsonNumber(f.roc.macroAuc) })),
      pooled: {
        accuracy: jsonNumber(report.accuracy),
        perClass: report.perClass.map((c, k) => ({ class: dataset.classes[k], precision: jsonNumber(c.precision), recall: jsonNumber(c.recall), f1: jsonNumber(c.f1), support: c.support })),
        // Rows: true class; columns: predicted class.
        confusion: Array.from({ length: K }, (_, r) => Array.from(report.confusion.matrix.subarray(r * K, (r + 1) * K))),
        microAuc: jsonNumber(roc.micro.auc),
        macroAuc: jsonNumber(roc.macroAuc),
      },
      seconds: jsonNumber(seconds, 1),
    };
    await writeOutput(s.out, JSON.stringify(summary, null, 2) + '\n');
    io.stdout(
      `${s.arch} on ${source}: ${s.folds}-fold accuracy ${mean.toFixed(3)} ± ${sd.toFixed(3)} (folds ${accuracies.map((a) => a.toFixed(3)).join(', ')}), ` +
        `pooled macro AUC ${Number.isFinite(roc.macroAuc) ? roc.macroAuc.toFixed(3) : 'n/a'}; wrote ${path.basename(s.out)} in ${formatDuration(seconds)}\n`,
    );
    return 0;
  } finally {
    for (const src of dataset.sources) src.close();
  }
}
