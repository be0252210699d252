/**
 * The classifier workflow of the evaluation suite (issue 15, items 1 and 4):
 * `train-classifier` with its defaults (only --data, --arch mobincep and
 * --out) on labelled image folders written by ./generator.ts, as a user runs
 * it; beside it, in the same run, logistic regression on simple image
 * statistics (./baseline.ts) fitted on the same training examples and scored
 * on the same test split.
 *
 * Metrics: `accuracy_texture` on the texture sets and `accuracy_fish` on the
 * FISH crop sets (held-out test split; separate names so each has its own
 * target), `macro_f1` on both, and `within_budget` (1 when the whole command
 * took at most 10 minutes). Seeds 15xx: no classifier unit test uses them
 * (those use 1–9 and 7xx).
 *
 * Reduced (CI) variants: two (one texture set, one FISH set). With the
 * defaults each may take up to the plan's 7.5 minutes of training; on
 * 2026-12-07, with four processes sharing 2 cores, they took 2m 54s and
 * 4m 57s.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalVariant, MetricValue, Target, VariantResult, WorkflowEval } from '../types';
import type { SelfCheck } from '../../src/analysis/self-checks';
import { classificationReport, crossValidationSplits } from '../../src/analysis/classification-metrics';
import { listFiles } from '../../src/cli/train-classifier';
import { imageClassOf } from '../../src/models/classifier/dataset';
import { generateSet, writeSet, type SetOptions } from './generator';
import { imageStatistics, logisticBaseline, readPng } from './baseline';

/** What the default run must stay within (issue 15, item 4). */
export const BUDGET_SECONDS = 600;

interface ClassifierVariant extends EvalVariant {
  set: SetOptions;
}

const tex = (id: string, description: string, seed: number, reduced: boolean, set: Omit<Extract<SetOptions, { kind: 'texture' }>, 'kind' | 'seed'>): ClassifierVariant => ({
  id,
  description,
  seed,
  reduced,
  set: { kind: 'texture', seed, ...set },
});
const fish = (id: string, description: string, seed: number, reduced: boolean, set: Omit<Extract<SetOptions, { kind: 'fish' }>, 'kind' | 'seed'>): ClassifierVariant => ({
  id,
  description,
  seed,
  reduced,
  set: { kind: 'fish', seed, ...set },
});

export const CLASSIFIER_VARIANTS: ClassifierVariant[] = [
  tex('cls-01-tex2-small', 'textures: dots vs rings, 2 × 50 at 64 px', 1501, false, { classes: ['dots', 'rings'], counts: [50, 50], size: 64 }),
  fish('cls-02-fish-small', 'FISH crops: MNA vs normal, 2 × 60 at 64 px', 1502, true, { counts: [60, 60], size: 64 }),
  tex('cls-03-tex3-imbalanced-48', 'textures: fibres / mesh / patches, 80 : 40 : 30 at 48 px', 1503, true, { classes: ['fibres', 'mesh', 'patches'], counts: [80, 40, 30], size: 48 }),
  tex('cls-04-tex4-96', 'textures: rings / dots / fibres / dashes, 4 × 100 at 96 px', 1504, false, { classes: ['rings', 'dots', 'fibres', 'dashes'], counts: [100, 100, 100, 100], size: 96 }),
  tex('cls-05-tex6-64', 'textures: all six families, 6 × 60 at 64 px', 1505, false, { classes: ['rings', 'dots', 'fibres', 'mesh', 'patches', 'dashes'], counts: [60, 60, 60, 60, 60, 60], size: 64 }),
  tex('cls-06-tex2-imbalanced-128', 'textures: mesh vs patches, 200 : 50 at 128 px', 1506, false, { classes: ['mesh', 'patches'], counts: [200, 50], size: 128 }),
  tex('cls-07-tex5-noisy', 'textures: five families, noise sd 10–25 levels, 5 × 70 at 64 px', 1507, false, { classes: ['dashes', 'fibres', 'mesh', 'dots', 'rings'], counts: [70, 70, 70, 70, 70], size: 64, noise: [10, 25] }),
  tex('cls-08-tex3-weak-stain', 'textures: dots / dashes / rings, weak stain (OD 0.3–0.8) and dim (gain 0.4–0.8), 3 × 80 at 80 px', 1508, false, { classes: ['dots', 'dashes', 'rings'], counts: [80, 80, 80], size: 80, strength: [0.3, 0.8], brightness: [0.4, 0.8] }),
  fish('cls-09-fish-600', "FISH crops: the issue's case, 300 + 300 at 96 px", 1509, false, { counts: [300, 300], size: 96 }),
  fish('cls-10-fish-small-spots', 'FISH crops: small spots (sd 0.8–1.3 % of the side), 2 × 150 at 96 px', 1510, false, { counts: [150, 150], size: 96, spotSize: [0.008, 0.014] }),
  fish('cls-11-fish-dim-noisy', 'FISH crops: dim spots (peak 50–120) and noise sd 6–14, 2 × 150 at 64 px', 1511, false, { counts: [150, 150], size: 64, spotPeak: [50, 120], noise: [6, 14] }),
  fish('cls-12-fish-imbalanced', 'FISH crops: 240 normal : 80 MNA, large spots, at 80 px', 1512, false, { counts: [240, 80], size: 80, spotSize: [0.02, 0.035] }),
  fish('cls-13-fish-clusters-128', 'FISH crops: mostly amplification clusters (80 %), 2 × 120 at 128 px', 1513, false, { counts: [120, 120], size: 128, clusterShare: 0.8 }),
];

interface Metrics {
  classes: string[];
  test: { accuracy: number; perClass: Array<{ f1: number }> };
  checks?: SelfCheck[];
  training: { status: string; epochsRun: number; bestEpoch: number | null; seconds?: number; stoppedByTimeCap?: boolean };
  plan?: { inputSize: number; width: number; epochs: number; estimatedSeconds: number; summary: string };
}

function majorityShare(labels: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  return labels.length ? Math.max(...counts.values()) / labels.length : 0;
}

const macroF1 = (perClass: Array<{ f1: number }>) => perClass.reduce((t, c) => t + c.f1, 0) / perClass.length;

export const workflow: WorkflowEval = {
  name: 'classifier',
  title: 'Few-label classifiers (train-classifier, Mobincep, defaults)',
  variants: () => CLASSIFIER_VARIANTS.map(({ set: _set, ...v }) => v),
  targets: [
    { metric: 'accuracy_texture', over: 'worst', atLeast: 0.9 },
    { metric: 'accuracy_fish', over: 'worst', atLeast: 0.85 },
    { metric: 'within_budget', over: 'worst', atLeast: 1 },
  ] satisfies Target[],
  mustFlagBelow: { above_chance: 0.05 },
  targetsNotYetMet:
    'Mobincep trained from scratch on a few hundred images within a 10-minute CPU budget stays near chance (0.26–0.64 on the variants run, below the logistic-regression baseline); see eval/RESULTS.md',
  async run(variant, context) {
    const spec = CLASSIFIER_VARIANTS.find((v) => v.id === variant.id);
    if (!spec) throw new Error(`unknown classifier variant ${variant.id}`);
    const dataDir = path.join(context.workDir, 'data');
    const outDir = path.join(context.workDir, 'model');
    context.log(`${variant.id}: generating ${spec.set.counts.reduce((a, b) => a + b, 0)} images`);
    await writeSet(generateSet(spec.set), dataDir);

    // The command exactly as a user runs it (in this process: same code, no bundle step).
    const { runTrainClassifier } = await import('../../src/cli/train-classifier');
    const lines: string[] = [];
    const io = {
      stdout: (t: string) => lines.push(t),
      stderr: (t: string) => {
        for (const line of t.split(/[\r\n]+/)) if (/^(plan|warning|check|train: done)/.test(line)) context.log(`${variant.id}: ${line}`);
      },
    };
    const started = performance.now();
    const code = await runTrainClassifier(['--data', dataDir, '--arch', 'mobincep', '--out', outDir], io);
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`train-classifier exited with ${code}: ${lines.join('')}`);
    const metrics = JSON.parse(await readFile(path.join(outDir, 'metrics.json'), 'utf8')) as Metrics;

    // Baseline: the same split of the same files (the command lists them sorted and splits with its seed, 0).
    const baselineStarted = performance.now();
    const files = (await listFiles(dataDir)).filter((f) => imageClassOf(f) !== null);
    const labels = Int32Array.from(files, (f) => metrics.classes.indexOf(imageClassOf(f)!));
    const [split] = crossValidationSplits(labels, 5, 0);
    const features = await Promise.all(files.map(async (f) => imageStatistics(await readPng(path.join(dataDir, f)))));
    const train = Uint32Array.from([...split.train, ...split.validation]);
    const baseline = logisticBaseline(features, labels, metrics.classes.length, train, split.test);
    const truth = Int32Array.from(split.test, (i) => labels[i]);
    const baseReport = classificationReport(truth, baseline.predicted, metrics.classes.length);
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;
    if (split.test.length !== (metrics as unknown as { split: { test: number } }).split.test) throw new Error('the baseline and the command split the files differently');

    const accuracy: MetricValue = { value: metrics.test.accuracy, baseline: baseReport.accuracy };
    const plan = metrics.plan;
    const trainingSeconds = metrics.training.seconds ?? NaN;
    const result: VariantResult = {
      variant,
      metrics: {
        [spec.set.kind === 'texture' ? 'accuracy_texture' : 'accuracy_fish']: accuracy,
        macro_f1: { value: macroF1(metrics.test.perClass), baseline: macroF1(baseReport.perClass) },
        within_budget: { value: seconds <= BUDGET_SECONDS ? 1 : 0 },
        // Accuracy over always answering the commonest test class: below 0.05 the accuracy-near-chance check must fire.
        above_chance: { value: metrics.test.accuracy - majorityShare(truth), baseline: baseReport.accuracy - majorityShare(truth) },
      },
      seconds,
      baselineSeconds,
      checks: metrics.checks ?? [],
      notes:
        (plan ? `plan ${plan.inputSize} px, width ${plan.width}, ${plan.epochs} epochs, estimated ${plan.estimatedSeconds.toFixed(0)} s of training; ` : '') +
        `trained ${trainingSeconds.toFixed(0)} s, ${metrics.training.epochsRun} epochs (${metrics.training.status}${metrics.training.stoppedByTimeCap ? ', time cap' : ''}, best ${(metrics.training.bestEpoch ?? -1) + 1}); ` +
        `baseline training accuracy ${baseline.trainingAccuracy.toFixed(3)}`,
    };
    return result;
  },
};
