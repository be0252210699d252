/**
 * `train-classifier`: trains a few-label classifier of seed 002 (SPEC §3,
 * Mobincep or OrgaNet) on a folder of images laid out as DIR/<class>/<image>,
 * headless. Split 0 of a stratified 5-fold partition (60 % train, 20 %
 * validation for early stopping, 20 % test) as in the app; writes the model
 * (model.json + weights.bin, with the metadata the app's import and
 * `classify` read) and metrics.json with the test-split scores.
 *
 * Before training it times a few steps and plans the network size and the
 * epochs so that the default run ends within --minutes (10): see
 * src/models/classifier/plan.ts. After training it runs the self-checks
 * (loss fell, every class predicted, time cap) and reports them.
 */
import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { MIN_EXAMPLES_TO_SPLIT, NORMALISATIONS, classBalance, datasetFromImageFiles, type ClassifierDataset, type Normalisation } from '../models/classifier/dataset';
import {
  CLASSIFIER_DEFAULTS,
  DEFAULT_NORMALISATION,
  classifierMetadata,
  classifierSpec,
  trainAndTest,
  type ClassifierArch,
  type ClassifierTrainOptions,
  type TrainedClassifier,
} from '../models/classifier/pipeline';
import { DEFAULT_TIME_BUDGET_SECONDS, PLAN_DEFAULTS, planForDataset, plannedChoices, type TrainingPlan } from '../models/classifier/plan';
import { classifierSelfChecks } from '../models/classifier/checks';
import { describeChecks } from '../analysis/self-checks';
import { newModelId } from '../engine/model-store';
import { CliError, OptionReader, describeFsError, messageOf, parseCommandArgs, atPath, writeOutput } from './args';
import { ProgressReporter, formatDuration } from './progress';
import { fileSystemSaveHandler } from './model-io';
import { jsonNumber, printChecks, type CliIO } from './io';

const FOLDS = 5;

export const TRAIN_CLASSIFIER_USAGE = `Usage: tilescope train-classifier --data DIR --arch mobincep|organet --out MODEL [options]

Trains a few-label classifier (seed 002) on DIR/<class>/<image> (png, jpg,
tif, webp; the class is the image's parent folder). Uses split 0 of a
stratified 5-fold partition: 60 % train, 20 % validation (early stopping),
20 % test. Writes MODEL/model.json + MODEL/weights.bin (a TF.js layers model
the app imports and 'classify' reads) and MODEL/metrics.json (test accuracy,
per-class precision/recall/F1, confusion matrix, micro/macro AUC, class
balance, warnings). Progress goes to stderr, the summary to stdout.

Before training, a few steps are timed and the network size and epochs are
planned so that the run ends within --minutes: on this CPU (wasm) a
narrower network at a smaller input than the paper's (the paper's 224 px,
width 1 takes hours on 2 cores); the plan and its estimate are printed
first. Give --input-size, --width or --epochs to choose yourself. After
training, self-checks warn when the loss did not fall, a class was never
predicted on the test split, or the time cap ended training; they are
printed and written to metrics.json ("checks").

Options:
  --data DIR            folder with one sub-folder of images per class (required)
  --arch NAME           mobincep (RGB; paper: ${CLASSIFIER_DEFAULTS.mobincep.inputSize} px) or organet (grey; paper: ${CLASSIFIER_DEFAULTS.organet.inputSize} px) (required)
  --out MODEL           model folder, created if missing (required)
  --minutes M           time the planned run aims at, all in (default ${DEFAULT_TIME_BUDGET_SECONDS / 60})
  --epochs N            most training epochs (default: planned: about ${PLAN_DEFAULTS.targetSteps} optimiser
                        steps, as many as the time allows)
  --batch N             batch size (default ${PLAN_DEFAULTS.batchSize}; the paper trains Mobincep with ${CLASSIFIER_DEFAULTS.mobincep.batchSize})
  --input-size PX       side of the network input, 16–1024 (default: planned)
  --width F             width multiplier of the network, 0.05–2 (default: planned; the paper's is 1)
  --normalisation N     image: standardise each image over all channels; channel: per channel;
                        none: intensities as stored, scaled to [0, 1] (default ${DEFAULT_NORMALISATION})
  --patience N          stop after N epochs without a better validation loss, keeping the
                        best weights; 0 turns early stopping off (default: ${PLAN_DEFAULTS.patienceSteps} steps'
                        worth of epochs, at least ${PLAN_DEFAULTS.minPatience})
  --no-augment          no online augmentation (default: the network's preset)
  --seed S              seed for the split, weights, shuffling and augmentation (default 0)
  --learning-rate RATE  optimiser learning rate (default ${PLAN_DEFAULTS.learningRate}: AMSGrad for mobincep,
                        Adam for organet; the paper's 1e-4 is too slow for the planned epochs)
  --backend NAME        wasm (default) or cpu
  --quiet               no progress lines
  -h, --help            show this help`;

const OPTIONS = {
  data: { type: 'string' },
  arch: { type: 'string' },
  out: { type: 'string' },
  minutes: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  'input-size': { type: 'string' },
  width: { type: 'string' },
  normalisation: { type: 'string' },
  patience: { type: 'string' },
  'no-augment': { type: 'boolean' },
  seed: { type: 'string' },
  'learning-rate': { type: 'string' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface TrainClassifierSettings {
  data: string;
  arch: ClassifierArch;
  out: string;
  /** Budget of the planned run, seconds. */
  budgetSeconds: number;
  epochs: number;
  batch: number;
  inputSize: number;
  width: number;
  normalisation: Normalisation;
  patience: number;
  augment: boolean;
  seed: number;
  learningRate: number;
  backend: 'wasm' | 'cpu';
  quiet: boolean;
}

/** What the user gave; sizes and epochs left out are planned (`planSettings`). */
export type ParsedTrainClassifierSettings = Omit<TrainClassifierSettings, 'epochs' | 'batch' | 'inputSize' | 'width' | 'patience' | 'learningRate'> & {
  epochs?: number;
  batch?: number;
  inputSize?: number;
  width?: number;
  patience?: number;
  learningRate?: number;
};

export function parseTrainClassifierArgs(argv: string[]): ParsedTrainClassifierSettings | 'help' {
  const { values } = parseCommandArgs(argv, OPTIONS, TRAIN_CLASSIFIER_USAGE);
  const o = new OptionReader(values, TRAIN_CLASSIFIER_USAGE);
  if (o.flag('help')) return 'help';
  const data = o.required('data');
  // Required, so no real fallback: `required` has already rejected a missing value.
  o.required('arch');
  const arch = o.choice('arch', ['mobincep', 'organet'] as const, 'mobincep');
  return {
    data,
    arch,
    out: o.required('out'),
    budgetSeconds: 60 * o.number('minutes', DEFAULT_TIME_BUDGET_SECONDS / 60, { min: 0, exclusiveMin: true }),
    epochs: o.optionalNumber('epochs', { min: 1, integer: true }),
    batch: o.optionalNumber('batch', { min: 1, integer: true }),
    inputSize: o.optionalNumber('input-size', { min: 16, max: 1024, integer: true }),
    width: o.optionalNumber('width', { min: 0.05, max: 2 }),
    normalisation: o.choice('normalisation', NORMALISATIONS, DEFAULT_NORMALISATION),
    patience: o.optionalNumber('patience', { min: 0, integer: true }),
    augment: !o.flag('no-augment'),
    seed: o.number('seed', 0, { integer: true }),
    learningRate: o.optionalNumber('learning-rate', { min: 0, exclusiveMin: true }),
    backend: o.choice('backend', ['wasm', 'cpu'] as const, 'wasm'),
    quiet: o.flag('quiet'),
  };
}

/** The settings once planned: the user's values where given, the plan's otherwise. */
export function planSettings(s: ParsedTrainClassifierSettings, plan: TrainingPlan): TrainClassifierSettings {
  const { batchSize: batch, ...chosen } = plannedChoices({ ...s, batchSize: s.batch }, plan);
  return { ...s, ...chosen, batch };
}

/** The training options the classifier commands' settings stand for (--no-augment, --patience 0 = off). */
export function trainOptionsOf(s: Pick<TrainClassifierSettings, 'epochs' | 'batch' | 'augment' | 'patience' | 'seed' | 'learningRate'>): ClassifierTrainOptions {
  return {
    epochs: s.epochs,
    batchSize: s.batch,
    augmentation: s.augment ? undefined : false,
    patience: s.patience > 0 ? s.patience : undefined,
    seed: s.seed,
    learningRate: s.learningRate,
  };
}

/** Regular files under `dir`, as paths relative to it (sorted); hidden files and folders are left out. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = rel === '' ? entry.name : path.join(rel, entry.name);
      let kind: 'file' | 'dir' | 'other' = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
      if (entry.isSymbolicLink()) {
        const info = await stat(path.join(dir, child)).catch(() => null);
        kind = info?.isFile() ? 'file' : info?.isDirectory() ? 'dir' : 'other';
      }
      if (kind === 'file') out.push(child);
      else if (kind === 'dir') await walk(child);
    }
  };
  await walk('');
  return out.sort();
}

/** Throws a CliError unless `dir` is an existing folder. */
export async function requireFolder(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    throw new CliError(dir, describeFsError(err));
  }
  if (!info.isDirectory()) throw new CliError(dir, 'not a folder');
}

/** `dir` joined with a relative path the way the user wrote `dir` (no normalisation: "./data" stays "./data/…"). */
export function underFolder(dir: string, rel: string): string {
  return dir.endsWith('/') || dir.endsWith(path.sep) ? dir + rel : dir + path.sep + rel;
}

/** A short lowercase id of the data set (its files' paths and sizes), for the model's metadata. */
async function datasetFingerprint(dir: string, files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of files) hash.update(`${rel}\t${(await stat(path.join(dir, rel))).size}\n`);
  return `d${hash.digest('hex').slice(0, 20)}`;
}

export async function loadDataset(dir: string): Promise<{ dataset: ClassifierDataset; skipped: string[]; files: string[] }> {
  await requireFolder(dir);
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch (err) {
    throw new CliError(dir, describeFsError(err));
  }
  const inputs: { path: string; blob: Blob }[] = [];
  for (const rel of files) {
    try {
      inputs.push({ path: rel, blob: await openAsBlob(path.join(dir, rel)) });
    } catch (err) {
      throw new CliError(underFolder(dir, rel), describeFsError(err));
    }
  }
  try {
    const { skipped, ...dataset } = await datasetFromImageFiles(inputs);
    return { dataset, skipped, files };
  } catch (err) {
    // The library names the file by the path it was given (relative to DIR): name it as the user would.
    const message = messageOf(err);
    const rel = files.find((f) => message.startsWith(`${f}: `));
    if (rel !== undefined) throw new CliError(underFolder(dir, rel), message.slice(rel.length + 2));
    throw new CliError(dir, message);
  }
}

export function checkDataset(dir: string, dataset: ClassifierDataset, counts: number[]): void {
  if (dataset.examples.length === 0) {
    throw new CliError(dir, 'no images in class sub-folders (expected DIR/<class>/<image> with .png, .jpg, .tif or .webp images)');
  }
  if (dataset.classes.length < 2) {
    throw new CliError(dir, `only one class sub-folder ("${dataset.classes[0]}") holds images; a classifier needs at least 2`);
  }
  dataset.classes.forEach((name, k) => {
    if (counts[k] < MIN_EXAMPLES_TO_SPLIT) {
      throw new CliError(
        underFolder(dir, name),
        `${counts[k]} image${counts[k] === 1 ? '' : 's'}; each class needs at least ${MIN_EXAMPLES_TO_SPLIT} (for the train, validation and test splits)`,
      );
    }
  });
}



export async function runTrainClassifier(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseTrainClassifierArgs(argv);
  if (parsed === 'help') {
    io.stdout(TRAIN_CLASSIFIER_USAGE + '\n');
    return 0;
  }
  const given = parsed;
  const progress = new ProgressReporter(io.stderr, { quiet: given.quiet });
  const startedAt = performance.now();

  progress.begin('data', given.data);
  const { dataset, skipped, files } = await loadDataset(given.data);
  let trained: TrainedClassifier | undefined;
  try {
    const balance = classBalance(dataset);
    checkDataset(given.data, dataset, balance.counts);
    progress.end(
      `${dataset.examples.length} images in ${dataset.classes.length} classes (${dataset.classes.map((c, k) => `${c} ${balance.counts[k]}`).join(', ')})` +
        (skipped.length > 0 ? `, ${skipped.length} other files skipped` : ''),
    );
    for (const warning of balance.warnings) io.stderr(`warning: ${warning}\n`);

    await atPath(given.out, () => mkdir(given.out, { recursive: true }));
    const { initNodeBackend } = await import('../engine/wasm-node');
    const backend = await initNodeBackend(given.backend);
    if (backend !== given.backend) progress.note(`backend: ${given.backend} unavailable, using ${backend}`);

    // Plan the size and epochs from timed steps (on the split trainAndTest will use).
    progress.begin('plan', `timing training steps on ${backend}`);
    const plan = await planForDataset(dataset, {
      arch: given.arch,
      channels: CLASSIFIER_DEFAULTS[given.arch].channels,
      normalisation: given.normalisation,
      device: 'cpu',
      budgetSeconds: given.budgetSeconds,
      batchSize: given.batch,
      fixed: { inputSize: given.inputSize, width: given.width, epochs: given.epochs },
      seed: given.seed,
    });
    progress.end(plan.summary);
    // The plan is shown even with --quiet: it is what the user waits for.
    if (given.quiet) io.stderr(`plan: ${plan.summary}\n`);
    for (const warning of plan.warnings) io.stderr(`warning: ${warning}\n`);
    const s = planSettings(given, plan);

    const spec = classifierSpec({
      arch: s.arch,
      classes: dataset.classes,
      inputSize: s.inputSize,
      channels: CLASSIFIER_DEFAULTS[s.arch].channels,
      width: s.width,
      normalisation: s.normalisation,
    });
    const fail = (err: unknown): never => {
      if (err instanceof CliError) throw err;
      throw new CliError(s.data, messageOf(err));
    };

    progress.begin('train', `${s.arch}, ${spec.inputSize} px × ${spec.channels}, width ${s.width}; ${s.epochs} epochs, batch ${s.batch}, ${backend}`);
    const held = await trainAndTest(dataset, spec, {
      ...trainOptionsOf(s),
      timeCapSeconds: plan.timeCapSeconds,
      onProgress: (p) => {
        const steps = p.stepsPerEpoch ?? 1;
        const val = p.valLoss === null ? '' : ` validation ${p.valLoss.toPrecision(4)}`;
        progress.update(p.epoch * steps + p.step, s.epochs * steps, `epoch ${p.epoch + 1}/${s.epochs} step ${p.step}/${steps} loss ${p.loss.toPrecision(4)}${val}`, p.etaSeconds);
      },
    }).catch(fail);
    const current = held.trained;
    trained = current;
    const { split } = held;
    const { report, roc } = held.test;
    const result = current.result;
    const last = result.history.at(-1);
    progress.end(
      `${split.train} train / ${split.validation} validation / ${split.test} test; ${result.epochsRun} epochs${result.status === 'early-stopped' ? ` (stopped early, best epoch ${(result.bestEpoch ?? 0) + 1})` : ''}, loss ${last?.loss.toPrecision(4)}` +
        (last?.valLoss != null ? `, validation ${last.valLoss.toPrecision(4)}` : '') +
        `; test accuracy ${report.accuracy.toFixed(3)}`,
    );

    const checks = classifierSelfChecks({
      history: result.history,
      predicted: held.predicted,
      actual: Array.from(held.testIndices, (i) => dataset.examples[i].label),
      classes: dataset.classes,
      stoppedByTimeCap: current.stoppedByTimeCap ?? false,
      timeCapMinutes: plan.timeCapSeconds / 60,
    });
    printChecks(io.stderr, checks);

    progress.begin('save', s.out);
    const { model } = current;
    model.setUserDefinedMetadata(classifierMetadata(current, await datasetFingerprint(s.data, files), newModelId()) as unknown as object);
    await atPath(s.out, () => model.save(fileSystemSaveHandler(s.out)));
    const K = dataset.classes.length;
    const metrics = {
      data: s.data,
      arch: s.arch,
      classes: dataset.classes,
      spec,
      parameters: current.model.countParams(),
      backend,
      settings: { ...s, data: undefined, out: undefined, quiet: undefined },
      split: { folds: FOLDS, fold: 0, seed: s.seed, ...split },
      balance: {
        counts: Object.fromEntries(dataset.classes.map((c, k) => [c, balance.counts[k]])),
        tooFew: balance.tooFew,
        skippedFiles: skipped.length,
      },
      warnings: [...balance.warnings, ...plan.warnings],
      plan: {
        inputSize: plan.inputSize,
        width: plan.width,
        epochs: plan.epochs,
        batchSize: plan.batchSize,
        patience: plan.patience,
        learningRate: plan.learningRate,
        device: plan.device,
        secondsPerStep: jsonNumber(plan.secondsPerStep, 4),
        secondsPerEpoch: jsonNumber(plan.secondsPerEpoch, 2),
        estimatedSeconds: jsonNumber(plan.estimatedSeconds, 1),
        budgetSeconds: plan.budgetSeconds,
        timeCapSeconds: jsonNumber(plan.timeCapSeconds, 1),
        summary: plan.summary,
        candidates: plan.candidates.map((c) => ({ ...c, secondsPerStep: jsonNumber(c.secondsPerStep, 4), secondsPerEpoch: jsonNumber(c.secondsPerEpoch, 2) })),
      },
      checks,
      training: {
        status: result.status,
        stoppedByTimeCap: current.stoppedByTimeCap ?? false,
        seconds: jsonNumber(result.history.reduce((t, h) => t + h.seconds, 0), 1),
        epochsRun: result.epochsRun,
        bestEpoch: result.bestEpoch,
        bestLoss: result.bestLoss,
        history: result.history.map((h) => ({ epoch: h.epoch, loss: h.loss, valLoss: h.valLoss, seconds: jsonNumber(h.seconds, 3) })),
      },
      dec: current.dec ? { k: current.dec.k, dims: current.dec.dims, trainingAccuracy: current.dec.trainingAccuracy } : null,
      test: {
        examples: split.test,
        accuracy: report.accuracy,
        perClass: report.perClass.map((c, k) => ({ class: dataset.classes[k], precision: c.precision, recall: c.recall, f1: c.f1, support: c.support })),
        confusion: {
          classes: dataset.classes,
          // Rows: true class; columns: predicted class.
          matrix: Array.from({ length: K }, (_, r) => Array.from(report.confusion.matrix.subarray(r * K, (r + 1) * K))),
        },
        // null where a class has no positives or no negatives in the test split.
        microAuc: jsonNumber(roc.micro.auc, 6),
        macroAuc: jsonNumber(roc.macroAuc, 6),
        perClassAuc: Object.fromEntries(dataset.classes.map((c, k) => [c, jsonNumber(roc.perClass[k].auc, 6)])),
      },
      timings: progress.timings.concat(),
    };
    await writeOutput(path.join(s.out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    progress.end();

    const width = Math.max(5, ...dataset.classes.map((c) => c.length));
    const lines = [
      `${s.arch}: ${dataset.examples.length} images, ${K} classes; split ${split.train} train / ${split.validation} validation / ${split.test} test; ${result.epochsRun} epochs`,
      ...describeChecks(checks).map((line) => `check ${line}`),
      `test accuracy ${report.accuracy.toFixed(3)}, micro AUC ${Number.isFinite(roc.micro.auc) ? roc.micro.auc.toFixed(3) : 'n/a'}, macro AUC ${Number.isFinite(roc.macroAuc) ? roc.macroAuc.toFixed(3) : 'n/a'}`,
      `  ${'class'.padEnd(width)}  precision  recall     F1  support`,
      ...report.perClass.map(
        (c, k) => `  ${dataset.classes[k].padEnd(width)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(5)}  ${String(c.support).padStart(7)}`,
      ),
      `wrote ${s.out} (model.json, weights.bin, metrics.json) in ${formatDuration((performance.now() - startedAt) / 1000)}`,
    ];
    io.stdout(lines.join('\n') + '\n');
    return 0;
  } finally {
    trained?.model.dispose();
    for (const source of dataset.sources) source.close();
  }
}
