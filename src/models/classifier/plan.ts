/**
 * Training plans (issue 15, item 4): before a classifier trains, time a few
 * real training steps on the backend in use and choose the input size, the
 * width and the epochs so that the run fits a time budget: on a CPU (wasm)
 * the default run must end within 10 minutes on 2 cores; on a hardware GPU
 * the paper's full network is used. The plan, with its estimate, is shown
 * before training starts (train-classifier prints it; the app's worker can
 * call `planClassifierTraining` and show it, and the user may choose more).
 *
 * Why a plan and not fixed defaults: the paper's Mobincep (224 px, width 1,
 * 2.1 GFLOP per image) takes about 1.3 s per image and step here (wasm, 2
 * cores), so 360 training crops × 20 epochs is over 2 h; the width-¼ network
 * at 64 px takes about 17 ms. How long a step takes depends on the machine,
 * so it is measured, not assumed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeOptimizer } from '../../engine/train';
import { mobincepForwardFlops, createMobincepOptimizer, mobincepTrainingLoss, MOBINCEP_DEFAULTS } from '../mobincep';
import { organetForwardFlops, createOrganetOptimizer, organetTrainingLoss, ORGANET_DEFAULTS } from '../organet';
import { buildClassifier, classifierSpec, heldOutSplit, type ClassifierArch, type ClassifierSpec } from './pipeline';
import type { ClassifierDataset, Normalisation } from './dataset';

/** What the default run may take, all in: 10 minutes (issue 15). */
export const DEFAULT_TIME_BUDGET_SECONDS = 600;
/**
 * Share of the budget planned for training; the rest is for reading the
 * images, timing, testing and saving, and for steps slower than timed.
 */
export const TRAINING_SHARE = 0.75;

/**
 * Network sizes tried on a CPU, costliest first: input side and width
 * multiplier. The paper's (224 px or OrgaNet's 382, width 1) comes first;
 * sizes above the images' own side are skipped (upsampling adds cost, not
 * information). Nothing below 48 px: Mobincep's five stride-2 stages leave
 * a 1 × 1 map at 32 px, where batch norm standardises each feature over
 * the batch alone; there the default run on 400 texture images of 4 classes
 * ended with a training loss of 1.436 (ln 4 = 1.386, nothing learned) and
 * test accuracy 0.263 after 435 steps (eval/classifier, cls-04).
 */
export const CPU_LADDER: ReadonlyArray<{ inputSize: number; width: number }> = [
  { inputSize: 224, width: 1 },
  { inputSize: 160, width: 0.5 },
  { inputSize: 128, width: 0.5 },
  { inputSize: 96, width: 0.5 },
  { inputSize: 128, width: 0.25 },
  { inputSize: 96, width: 0.25 },
  { inputSize: 64, width: 0.25 },
  { inputSize: 48, width: 0.25 },
];

/**
 * The defaults of the plan. What a from-scratch network needs is optimiser
 * STEPS, not epochs: on the evaluation's sets (eval/classifier) the width-¼
 * Mobincep was still at chance after 240 steps (40 epochs of 60 images at
 * batch 16, dots against rings) and after 10 epochs of the 600 FISH
 * crops at 64 px, and an epoch of a small set is only a few steps. So a
 * size is accepted when the budget holds `minSteps` steps, the epochs are
 * what `targetSteps` need (within the budget), and early stopping waits
 * `patienceSteps` steps (in epochs, at least `minPatience`).
 */
export const PLAN_DEFAULTS = {
  minSteps: 1000,
  targetSteps: 3000,
  /** Fewest epochs planned. */
  minEpochs: 10,
  /** Most epochs planned (early stopping usually ends sooner). */
  maxEpochs: 1000,
  batchSize: 16,
  learningRate: 3e-3,
  patienceSteps: 300,
  minPatience: 8,
} as const;

export type PlanDevice = 'cpu' | 'gpu';

export interface PlanRequest {
  arch: ClassifierArch;
  classes: string[];
  channels: 1 | 3;
  normalisation: Normalisation;
  trainExamples: number;
  validationExamples: number;
  /** The images' typical (median) smaller side in px. */
  imageSide: number;
  /** 'gpu': a hardware WebGPU/WebGL backend (the paper's network); 'cpu': wasm or cpu (the ladder). */
  device: PlanDevice;
  budgetSeconds?: number;
  batchSize?: number;
  /** The user's choices: these are kept, the rest is planned around them. */
  fixed?: { inputSize?: number; width?: number; epochs?: number };
  /** Seconds per training step of a spec at a batch size (default: `timeTrainingSteps`). */
  measure?: (spec: ClassifierSpec, batchSize: number) => Promise<number>;
}

export interface PlanCandidate {
  inputSize: number;
  width: number;
  /** Measured, or predicted from a measured size by FLOPs (`measured` false). */
  secondsPerStep: number;
  measured: boolean;
  secondsPerEpoch: number;
  epochsInBudget: number;
}

/** What a training run is given: the user's values where set, the plan's for the rest. */
export interface PlannedChoices {
  inputSize: number;
  width: number;
  epochs: number;
  batchSize: number;
  patience: number;
  learningRate: number;
}

/** The plan's choices (PlannedChoices) and what they rest on. */
export interface TrainingPlan extends PlannedChoices {
  secondsPerStep: number;
  secondsPerEpoch: number;
  /** Planned training time (epochs × seconds per epoch). */
  estimatedSeconds: number;
  budgetSeconds: number;
  /** Training stops at the end of the first epoch past this (the plan's training share of the budget, or more when the user fixed the size). */
  timeCapSeconds: number;
  device: PlanDevice;
  /** One line for the user: what was chosen and why. */
  summary: string;
  /** Warnings: the user's choice does not fit the budget, nothing fits, … */
  warnings: string[];
  candidates: PlanCandidate[];
}

function flops(arch: ClassifierArch, inputSize: number, width: number, channels: number, classes: number): number {
  if (arch === 'mobincep') return mobincepForwardFlops({ inputSize, channels, classes, width });
  const adaptedSize = Math.min(ORGANET_DEFAULTS.adaptedSize, inputSize);
  return organetForwardFlops({ inputSize, inputChannels: channels, adaptedSize, width, latentDim: ORGANET_DEFAULTS.latentDim, classes });
}

/**
 * Seconds per training step: builds the classifier, runs two warm-up steps
 * (the first ones are slower: kernels and buffers are set up) and then
 * `steps` timed steps on random inputs with the real loss and optimiser;
 * the median of the timed steps. Frees everything.
 */
export async function timeTrainingSteps(spec: ClassifierSpec, batchSize: number, steps = 3): Promise<number> {
  const model = buildClassifier(spec, 0);
  const optimizer = spec.arch === 'mobincep' ? createMobincepOptimizer(1e-4) : createOrganetOptimizer(1e-4);
  const computeLoss = spec.arch === 'mobincep' ? mobincepTrainingLoss(model) : organetTrainingLoss(model, { seed: 0 });
  const xs = tf.randomNormal([batchSize, spec.inputSize, spec.inputSize, spec.channels], 0, 1, 'float32', 1);
  const ys = tf.tensor1d(Array.from({ length: batchSize }, (_, i) => i % spec.classes.length), 'int32');
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    const timed: number[] = [];
    for (let s = 0; s < steps + 2; s++) {
      const start = performance.now();
      const loss = tf.tidy(() => optimizer.minimize(() => computeLoss({ xs, ys }, true), true, variables) as tf.Scalar);
      await loss.data();
      loss.dispose();
      if (s >= 2) timed.push((performance.now() - start) / 1000);
    }
    timed.sort((a, b) => a - b);
    return timed[Math.floor(timed.length / 2)];
  } finally {
    xs.dispose();
    ys.dispose();
    disposeOptimizer(optimizer);
    model.dispose();
  }
}

/** Validation and test passes cost about a third of a training step per image (forward only). */
const FORWARD_SHARE = 1 / 3;

function epochSeconds(stepSeconds: number, batchSize: number, train: number, validation: number): number {
  const steps = Math.ceil(train / batchSize);
  return steps * stepSeconds + (validation / batchSize) * stepSeconds * FORWARD_SHARE;
}

/**
 * Chooses the network size and epochs for a budget (see the file comment).
 * On a CPU: the costliest size of the ladder (not above the images' side)
 * that fits `minEpochs` in the training share of the budget, measured; the
 * epochs are what the budget holds, at most `maxEpochs`. On a GPU: the
 * paper's network, epochs from the budget. Sizes or epochs the user fixed
 * are kept; if they do not fit, the plan says so in `warnings`.
 */
export async function planClassifierTraining(request: PlanRequest): Promise<TrainingPlan> {
  const budget = request.budgetSeconds ?? DEFAULT_TIME_BUDGET_SECONDS;
  const trainingBudget = budget * TRAINING_SHARE;
  const batchSize = request.batchSize ?? PLAN_DEFAULTS.batchSize;
  const measure = request.measure ?? timeTrainingSteps;
  const fixed = request.fixed ?? {};
  const paperSize = request.arch === 'mobincep' ? MOBINCEP_DEFAULTS.inputSize : ORGANET_DEFAULTS.inputSize;
  const spec = (inputSize: number, width: number) =>
    classifierSpec({ arch: request.arch, classes: request.classes, inputSize, channels: request.channels, width, normalisation: request.normalisation });
  const perEpoch = (step: number) => epochSeconds(step, batchSize, request.trainExamples, request.validationExamples);
  const warnings: string[] = [];

  let ladder: Array<{ inputSize: number; width: number }>;
  if (request.device === 'gpu') ladder = [{ inputSize: paperSize, width: 1 }];
  else {
    const smallest = CPU_LADDER[CPU_LADDER.length - 1];
    ladder = CPU_LADDER.map((c) => (c.inputSize === 224 && c.width === 1 ? { inputSize: paperSize, width: 1 } : c)).filter((c) => c.inputSize <= Math.max(smallest.inputSize, request.imageSide));
  }
  if (fixed.inputSize !== undefined || fixed.width !== undefined) {
    const inputSize = fixed.inputSize ?? ladder.find((c) => fixed.width === undefined || c.width <= fixed.width)?.inputSize ?? ladder[ladder.length - 1].inputSize;
    ladder = [{ inputSize, width: fixed.width ?? ladder.find((c) => c.inputSize <= inputSize)?.width ?? 0.25 }];
  }

  const candidates: PlanCandidate[] = [];
  const stepsPerEpoch = Math.max(1, Math.ceil(request.trainExamples / batchSize));
  const minEpochs = fixed.epochs ?? Math.max(PLAN_DEFAULTS.minEpochs, Math.ceil(PLAN_DEFAULTS.minSteps / stepsPerEpoch));
  const targetEpochs = Math.min(PLAN_DEFAULTS.maxEpochs, Math.max(minEpochs, Math.ceil(PLAN_DEFAULTS.targetSteps / stepsPerEpoch)));
  // A cheap reference measurement predicts the others by FLOPs (which overestimates big networks a little: small ones carry more overhead per FLOP).
  const reference = ladder[ladder.length - 1];
  const referenceStep = await measure(spec(reference.inputSize, reference.width), batchSize);
  const referenceFlops = flops(request.arch, reference.inputSize, reference.width, request.channels, request.classes.length);
  let chosen: PlanCandidate | null = null;
  for (const c of ladder) {
    const predicted = referenceStep * (flops(request.arch, c.inputSize, c.width, request.channels, request.classes.length) / referenceFlops);
    const isReference = c === reference;
    const candidate: PlanCandidate = { ...c, secondsPerStep: isReference ? referenceStep : predicted, measured: isReference, secondsPerEpoch: 0, epochsInBudget: 0 };
    const only = ladder.length === 1;
    // Measure only sizes that might fit (twice the prediction's slack), or the one size there is.
    if (!isReference && (only || perEpoch(predicted) * minEpochs <= 2 * trainingBudget)) {
      candidate.secondsPerStep = await measure(spec(c.inputSize, c.width), batchSize);
      candidate.measured = true;
    }
    candidate.secondsPerEpoch = perEpoch(candidate.secondsPerStep);
    candidate.epochsInBudget = Math.floor(trainingBudget / candidate.secondsPerEpoch);
    candidates.push(candidate);
    if (candidate.measured && (only || request.device === 'gpu' || candidate.epochsInBudget >= minEpochs)) {
      chosen = candidate;
      break;
    }
  }
  if (chosen === null) {
    // Nothing fits: the cheapest, with a warning.
    chosen = candidates[candidates.length - 1];
    warnings.push(`even the smallest network (${chosen.inputSize} px, width ${chosen.width}) fits only ${chosen.epochsInBudget} epochs in ${formatMinutes(trainingBudget)}; expect a weak classifier or allow more time`);
  }
  const epochs = fixed.epochs ?? Math.max(1, Math.min(targetEpochs, chosen.epochsInBudget));
  const estimatedSeconds = epochs * chosen.secondsPerEpoch;
  const userSized = fixed.inputSize !== undefined || fixed.width !== undefined || fixed.epochs !== undefined;
  if (userSized && estimatedSeconds > trainingBudget) {
    warnings.push(`the chosen size and epochs take about ${formatMinutes(estimatedSeconds)} of training, more than the ${formatMinutes(trainingBudget)} the defaults plan (of ${formatMinutes(budget)} in all)`);
  }
  if (request.device === 'gpu' && fixed.epochs === undefined && chosen.epochsInBudget < minEpochs) {
    warnings.push(`the paper's network fits only ${chosen.epochsInBudget} epochs in ${formatMinutes(trainingBudget)} on this GPU`);
  }
  const timeCapSeconds = userSized ? Math.max(trainingBudget, estimatedSeconds * 1.25) : trainingBudget;
  const patience = Math.min(Math.max(PLAN_DEFAULTS.minPatience, Math.ceil(PLAN_DEFAULTS.patienceSteps / stepsPerEpoch)), epochs);
  const summary =
    `${request.arch} ${chosen.inputSize} px, width ${chosen.width}, ${epochs} epochs of ${request.trainExamples} images at batch ${batchSize}: ` +
    `${(chosen.secondsPerStep * 1000).toFixed(0)} ms per step, about ${formatMinutes(chosen.secondsPerEpoch)} per epoch, ` +
    `about ${formatMinutes(estimatedSeconds)} in all (early stopping may end sooner; cap ${formatMinutes(timeCapSeconds)})` +
    (request.device === 'cpu' && (chosen.inputSize !== paperSize || chosen.width !== 1) && !userSized
      ? `; the paper's ${paperSize} px width-1 network would take about ${formatMinutes(perEpoch(referenceStep * (flops(request.arch, paperSize, 1, request.channels, request.classes.length) / referenceFlops)) * minEpochs)} for ${minEpochs} epochs here`
      : '');
  return {
    inputSize: chosen.inputSize,
    width: chosen.width,
    epochs,
    batchSize,
    patience,
    learningRate: PLAN_DEFAULTS.learningRate,
    secondsPerStep: chosen.secondsPerStep,
    secondsPerEpoch: chosen.secondsPerEpoch,
    estimatedSeconds,
    budgetSeconds: budget,
    timeCapSeconds,
    device: request.device,
    summary,
    warnings,
    candidates,
  };
}


export function plannedChoices(given: Partial<PlannedChoices>, plan: TrainingPlan): PlannedChoices {
  return {
    inputSize: given.inputSize ?? plan.inputSize,
    width: given.width ?? plan.width,
    epochs: given.epochs ?? plan.epochs,
    batchSize: given.batchSize ?? plan.batchSize,
    patience: given.patience ?? plan.patience,
    learningRate: given.learningRate ?? plan.learningRate,
  };
}

/** The median of the examples' smaller sides (level 0 px). */
export function medianImageSide(dataset: ClassifierDataset): number {
  const sides = dataset.examples.map((e) => Math.min(e.width, e.height)).sort((a, b) => a - b);
  return sides.length === 0 ? 0 : sides[Math.floor((sides.length - 1) / 2)];
}

/**
 * Plans the training of `dataset` as trainAndTest will split it
 * (heldOutSplit with `seed`): the command line and the app's worker
 * both plan through this.
 */
export function planForDataset(
  dataset: ClassifierDataset,
  request: Omit<PlanRequest, 'classes' | 'trainExamples' | 'validationExamples' | 'imageSide'> & { seed: number },
): Promise<TrainingPlan> {
  const { seed, ...rest } = request;
  const split = heldOutSplit(dataset, seed);
  return planClassifierTraining({
    ...rest,
    classes: dataset.classes,
    trainExamples: split.train.length,
    validationExamples: split.validation.length,
    imageSide: medianImageSide(dataset),
  });
}

export function formatMinutes(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(seconds < 600 ? 1 : 0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The plan's device for a TF.js backend name: the app only picks WebGPU or
 * WebGL on a hardware adapter (engine/backend.ts), so those are GPUs; wasm
 * and cpu plan for a CPU.
 */
export function planDeviceOf(backend: string): PlanDevice {
  return backend === 'webgpu' || backend === 'webgl' ? 'gpu' : 'cpu';
}
