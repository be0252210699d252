/**
 * The few-label classifiers of seed 002 (SPEC §3) end to end: one training
 * path for Mobincep and OrgaNet through the shared loop (online augmentation
 * in the worker, early stopping on a validation split), prediction with class
 * probabilities and the features that feed the latent explorer, evaluation
 * and k-fold cross-validation. DOM-free.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { disposeOptimizer, trainModel, type BatchProvider, type TrainProgress, type TrainResult } from '../../engine/train';
import { augment, MOBINCEP_AUGMENTATION, ORGANET_AUGMENTATION, type AugmentOptions } from '../../imaging/augment';
import { Random } from '../../util/random';
import { classificationReport, crossValidationSplits, multiclassRoc, stratifiedSubset, type ClassificationReport, type MulticlassRoc } from '../../analysis/classification-metrics';
import { buildMobincep, createMobincepOptimizer, mobincepJointModel, mobincepTrainingLoss, oneHotLabels, softmaxCrossEntropy, MOBINCEP_DEFAULTS, type MobincepTrainingLossOptions } from '../mobincep';
import { buildOrganet, createOrganetOptimizer, organetEncoder, organetTrainingLoss, fitDec, assignClusters, ORGANET_DEFAULTS, type DecModel } from '../organet';
import { NORMALISATIONS, datasetFromRects, readExamples, type ClassifierDataset, type ClassifierInputSpec, type Normalisation } from './dataset';
export { DEFAULT_NORMALISATION } from './dataset';
import type { SlideSource } from '../../slide/types';

export type ClassifierArch = 'mobincep' | 'organet';

/** What a classifier is, saved with it (the model's userDefinedMetadata carries it). */
export interface ClassifierSpec extends ClassifierInputSpec {
  arch: ClassifierArch;
  normalisation: Normalisation;
  classes: string[];
  /** Width multiplier of the network (1 = the paper's). */
  width: number;
  /** OrgaNet: side its adaptation layer maps to (224 in the paper). */
  adaptedSize?: number;
}

/** The paper's input of each network, and its batch (the thesis trains Mobincep with 4). */
export const CLASSIFIER_DEFAULTS = {
  mobincep: { inputSize: MOBINCEP_DEFAULTS.inputSize, channels: 3 as const, batchSize: 4, augmentation: MOBINCEP_AUGMENTATION },
  organet: { inputSize: ORGANET_DEFAULTS.inputSize, channels: 1 as const, batchSize: 8, augmentation: ORGANET_AUGMENTATION },
} as const;

/**
 * A classifier's spec from the user's choices, with the rule every caller
 * shares: OrgaNet's adaptation layer maps to the paper's 224 px (from its
 * 382 px input); smaller inputs keep their size.
 */
export function classifierSpec(choice: Omit<ClassifierSpec, 'adaptedSize'>): ClassifierSpec {
  return { ...choice, adaptedSize: choice.arch === 'organet' ? Math.min(ORGANET_DEFAULTS.adaptedSize, choice.inputSize) : undefined };
}

export function buildClassifier(spec: ClassifierSpec, seed?: number): LayersModel {
  const common = { classes: spec.classes.length, seed, width: spec.width };
  return spec.arch === 'mobincep'
    ? buildMobincep({ ...common, inputSize: spec.inputSize, channels: spec.channels })
    : buildOrganet({ ...common, inputSize: spec.inputSize, inputChannels: spec.channels, adaptedSize: spec.adaptedSize });
}

export interface TrainedClassifier {
  spec: ClassifierSpec;
  model: LayersModel;
  /** OrgaNet only: the clusters of the training codes and their labels. */
  dec: DecModel | null;
  result: TrainResult;
  /** Training ended at `timeCapSeconds` with epochs left (the self-check 'time-cap' reports it). */
  stoppedByTimeCap?: boolean;
}

export interface ClassifierTrainOptions {
  epochs: number;
  batchSize?: number;
  /** Online augmentation; false turns it off. Default: the network's preset. */
  augmentation?: AugmentOptions | false;
  /** Epochs without a better validation loss before stopping (the best weights are kept). */
  patience?: number;
  seed?: number;
  learningRate?: number;
  /** Mobincep's integrated loss: the γs and where the centroid terms act (default: the seed's γ = 0.01 on the features). */
  mobincepLoss?: MobincepTrainingLossOptions;
  /**
   * Wall-clock cap on training: after an epoch, training ends when the next
   * epoch would pass it (the best epoch's weights are kept when early
   * stopping is on). Unset: no cap.
   */
  timeCapSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}

/**
 * Mobincep's scatter weight γ2 for a batch size. The scatter term
 * Σ_k s_k², with s_k the SUM of the distances of class k's points to their
 * centroid, grows with the square of the points per class, i.e. of the
 * batch: the seed's γ2 = 0.01 was set for its batch of 4. At batch 16 the
 * unscaled term starts at about 12 against a cross-entropy of 0.7 (measured
 * on the evaluation's 600 FISH crops, 64 px, width ¼) and the network
 * shrinks its features instead of classifying. Deviation: γ2 · (4 / B)², so
 * that the term weighs against the cross-entropy as in the seed at any
 * batch; at batch 4 it is the seed's γ2 exactly.
 */
export function scatterWeight(batchSize: number): number {
  return MOBINCEP_DEFAULTS.gamma2 * (MOBINCEP_DEFAULTS.batchSize / batchSize) ** 2;
}

/**
 * Patience counts only once the validation cross-entropy is below this
 * share of the class priors' entropy (what a network that learned only the
 * class balance scores). On 4 × 100 textures the defaults stopped at epoch
 * 32 with the loss still at chance (eval/classifier, cls-04, 2026-12-07):
 * from scratch, the small network can take that long to start learning.
 */
export const CHANCE_MARGIN = 0.95;

/** Entropy (nats) of the class frequencies among `indices`. */
export function priorEntropy(dataset: ClassifierDataset, indices: Uint32Array): number {
  const counts = new Map<number, number>();
  for (const i of indices) counts.set(dataset.examples[i].label, (counts.get(dataset.examples[i].label) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / indices.length) * Math.log(c / indices.length);
  return h;
}

/**
 * Batches of examples, each read once and kept (few-label sets are small),
 * shuffled per epoch and augmented on the fly.
 */
function exampleBatches(dataset: ClassifierDataset, indices: Uint32Array, spec: ClassifierSpec, batchSize: number, augmentation: AugmentOptions | false, seed: number): BatchProvider {
  const S = spec.inputSize;
  const stride = S * S * spec.channels;
  let cache: Promise<Float32Array> | null = null;
  const inputs = () => (cache ??= readExamples(dataset, indices, spec));
  const labels = Int32Array.from(indices, (i) => dataset.examples[i].label);
  // One shuffle per epoch (seeded by it), made at the epoch's first request.
  let shuffled: { epoch: number; order: number[] } | null = null;
  const orderOf = (epoch: number): number[] => {
    if (shuffled?.epoch !== epoch) {
      const order = Array.from(indices.keys());
      const shuffle = new Random(`${seed}:${epoch}`);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(shuffle.uniform() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      shuffled = { epoch, order };
    }
    return shuffled.order;
  };
  return {
    stepsPerEpoch: Math.ceil(indices.length / batchSize),
    async getBatch(epoch, step) {
      const all = await inputs();
      const order = orderOf(epoch);
      const picked = order.slice(step * batchSize, (step + 1) * batchSize);
      const xs = new Float32Array(picked.length * stride);
      const random = new Random(`${seed}:${epoch}:${step}:augment`);
      picked.forEach((q, b) => {
        const image = { data: all.subarray(q * stride, (q + 1) * stride), width: S, height: S, channels: spec.channels };
        xs.set(augmentation ? augment(image, augmentation, random).data : image.data, b * stride);
      });
      return { xs: tf.tensor4d(xs, [picked.length, S, S, spec.channels]), ys: tf.tensor1d(Int32Array.from(picked, (q) => labels[q]), 'int32') };
    },
  };
}

/** Trains a new classifier on `train`, stopping early on `validation` (when given). */
export async function trainClassifier(
  dataset: ClassifierDataset,
  train: Uint32Array,
  validation: Uint32Array | null,
  spec: ClassifierSpec,
  options: ClassifierTrainOptions,
): Promise<TrainedClassifier> {
  if (dataset.classes.length !== spec.classes.length) throw new Error(`the data have ${dataset.classes.length} classes, the classifier ${spec.classes.length}`);
  if (train.length === 0) throw new Error('no training examples');
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? CLASSIFIER_DEFAULTS[spec.arch].batchSize;
  const augmentation = options.augmentation ?? CLASSIFIER_DEFAULTS[spec.arch].augmentation;
  const model = buildClassifier(spec, seed);
  const optimizer = spec.arch === 'mobincep' ? createMobincepOptimizer(options.learningRate) : createOrganetOptimizer(options.learningRate);
  const computeLoss = spec.arch === 'mobincep' ? mobincepTrainingLoss(model, { gamma2: scatterWeight(batchSize), ...options.mobincepLoss }) : organetTrainingLoss(model, { seed });
  const started = performance.now();
  let stoppedByTimeCap = false;
  const cap = options.timeCapSeconds;
  try {
    const result = await trainModel({
      model,
      optimizer,
      computeLoss,
      batches: exampleBatches(dataset, train, spec, batchSize, augmentation, seed),
      validation: validation && validation.length > 0 ? exampleBatches(dataset, validation, spec, batchSize, false, seed) : undefined,
      // Early stopping watches the cross-entropy alone: the centroid and MMD terms of a small
      // validation batch swing with which classes it happens to hold.
      validationLoss: (batch) =>
        tf.tidy(() => softmaxCrossEntropy(model.apply(batch.xs, { training: false }) as tf.Tensor2D, oneHotLabels(batch.ys!, spec.classes.length))),
      // The best validation epoch's weights are kept however training ends (patience, epochs or the time cap).
      earlyStopping:
        validation && validation.length > 0 && options.patience
          ? { patience: options.patience, restoreBestWeights: true, restoreOnCompletion: true, waitBelow: CHANCE_MARGIN * priorEntropy(dataset, train) }
          : undefined,
      epochs: options.epochs,
      stopAfterEpoch:
        cap === undefined
          ? undefined
          : (summary) => {
              const elapsed = (performance.now() - started) / 1000;
              stoppedByTimeCap = summary.epoch + 1 < options.epochs && elapsed + summary.seconds > cap;
              return stoppedByTimeCap;
            },
      signal: options.signal,
      onProgress: options.onProgress,
    });
    const trained: TrainedClassifier = { spec, model, dec: null, result, stoppedByTimeCap };
    if (spec.arch === 'organet') {
      // DEC: k-means on the training codes (unaugmented), clusters mapped to labels by the Hungarian method.
      const codes = await classifierOutputs(trained, dataset, train);
      trained.dec = fitDec(codes.features, Int32Array.from(train, (i) => dataset.examples[i].label), spec.classes.length, { dims: codes.featureDim, seed });
    }
    return trained;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    disposeOptimizer(optimizer);
  }
}

export interface ClassifierOutputs {
  /** n × classes, row-major: class probabilities (softmax; DEC soft assignments for OrgaNet). */
  probabilities: Float32Array;
  predicted: Int32Array;
  /** n × featureDim: the penultimate features (Mobincep) or the 10-d latent (OrgaNet), for the explorer. */
  features: Float32Array;
  featureDim: number;
}

/**
 * Runs the classifier on examples (no augmentation). OrgaNet's class is its
 * DEC label; its probabilities are DEC's Student-t soft assignments to the
 * cluster centres, summed per label. Before DEC is fitted, OrgaNet gives its
 * head's softmax.
 */
export async function classifierOutputs(trained: TrainedClassifier, dataset: ClassifierDataset, indices: ArrayLike<number>, batchSize = 16, signal?: AbortSignal): Promise<ClassifierOutputs> {
  const { spec, model } = trained;
  const K = spec.classes.length;
  const S = spec.inputSize;
  const joint = spec.arch === 'mobincep' ? mobincepJointModel(model) : null;
  const encoder = spec.arch === 'organet' ? organetEncoder(model) : null;
  const probabilities = new Float32Array(indices.length * K);
  let features = new Float32Array(0);
  let featureDim = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    if (signal?.aborted) throw new DOMException('classification was cancelled', 'AbortError');
    const picked = Array.from({ length: Math.min(batchSize, indices.length - start) }, (_, b) => indices[start + b]);
    const values = await readExamples(dataset, picked, spec, signal);
    const [probs, feats] = tf.tidy(() => {
      const x = tf.tensor4d(values, [picked.length, S, S, spec.channels]);
      if (joint) {
        const [logits, f] = joint.predict(x) as tf.Tensor[];
        return [tf.softmax(logits).dataSync() as Float32Array, f.dataSync() as Float32Array];
      }
      const latent = encoder!.predict(x) as tf.Tensor;
      const head = trained.dec ? null : (model.predict(x) as tf.Tensor);
      return [head ? (tf.softmax(head).dataSync() as Float32Array) : new Float32Array(0), latent.dataSync() as Float32Array];
    });
    const dim = feats.length / picked.length;
    if (featureDim === 0) {
      featureDim = dim;
      features = new Float32Array(indices.length * dim);
    }
    features.set(feats, start * dim);
    if (probs.length > 0) probabilities.set(probs, start * K);
    else probabilities.set(decProbabilities(trained.dec!, feats, K), start * K);
  }
  const predicted = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probabilities[i * K + k] > probabilities[i * K + best]) best = k;
    predicted[i] = best;
  }
  if (trained.dec) {
    // DEC's label is the nearest centre's; the soft assignment agrees except on near-ties, where the rule wins.
    const clusters = assignClusters(trained.dec, features);
    clusters.forEach((c, i) => (predicted[i] = trained.dec!.clusterToLabel[c]));
  }
  return { probabilities, predicted, features, featureDim };
}

/** DEC's soft assignment q_ic ∝ (1 + ‖z_i − μ_c‖²)⁻¹ (Student's t, one degree of freedom), summed over the clusters of each label. */
export function decProbabilities(dec: DecModel, latents: Float32Array, classes: number): Float32Array {
  const n = latents.length / dec.dims;
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    let total = 0;
    const q = new Float64Array(dec.k);
    for (let c = 0; c < dec.k; c++) {
      let d2 = 0;
      for (let t = 0; t < dec.dims; t++) d2 += (latents[i * dec.dims + t] - dec.centres[c * dec.dims + t]) ** 2;
      q[c] = 1 / (1 + d2);
      total += q[c];
    }
    for (let c = 0; c < dec.k; c++) out[i * classes + dec.clusterToLabel[c]] += q[c] / total;
  }
  return out;
}

export interface ClassifierEvaluation {
  report: ClassificationReport;
  roc: MulticlassRoc;
}

export function evaluateOutputs(outputs: ClassifierOutputs, truth: ArrayLike<number>, classes: number): ClassifierEvaluation {
  return { report: classificationReport(truth, outputs.predicted, classes), roc: multiclassRoc(truth, outputs.probabilities, classes) };
}

export interface CrossValidationResult {
  folds: Array<ClassifierEvaluation & { epochsRun: number }>;
  meanAccuracy: number;
  /** Pooled over the folds' test sets (every example tested once). */
  pooled: ClassifierEvaluation;
}

export interface CrossValidationOptions extends ClassifierTrainOptions {
  folds?: number;
  /**
   * Share of each split's training and validation examples whose labels are
   * used (stratified; default 1). The test fold stays whole, so 0.25 at
   * k = 5 compares 20 % of the labels with the full 80 % on the same tests.
   */
  labelFraction?: number;
  onFold?: (fold: number, folds: number) => void;
  /** After each split, with its test scores. */
  onFoldDone?: (fold: number, evaluation: ClassifierEvaluation & { epochsRun: number }) => void;
}

/** k-fold cross-validation (60/20/20 at k = 5): train on each split, stop on its validation fold, test on its test fold. */
export async function crossValidateClassifier(dataset: ClassifierDataset, spec: ClassifierSpec, options: CrossValidationOptions): Promise<CrossValidationResult> {
  const labels = Int32Array.from(dataset.examples, (e) => e.label);
  const splits = crossValidationSplits(labels, options.folds ?? 5, options.seed ?? 0);
  const K = spec.classes.length;
  const folds: CrossValidationResult['folds'] = [];
  const pooledProbabilities = new Float32Array(labels.length * K);
  const pooledPredicted = new Int32Array(labels.length);
  for (let f = 0; f < splits.length; f++) {
    options.onFold?.(f, splits.length);
    const split = splits[f];
    const fraction = options.labelFraction ?? 1;
    const labelled = (indices: Uint32Array, part: string) => (fraction < 1 ? stratifiedSubset(indices, labels, fraction, `${options.seed ?? 0}:${f}:${part}`) : indices);
    const trained = await trainClassifier(dataset, labelled(split.train, 'train'), labelled(split.validation, 'validation'), spec, options);
    try {
      const outputs = await classifierOutputs(trained, dataset, split.test, 16, options.signal);
      const truth = Int32Array.from(split.test, (i) => labels[i]);
      folds.push({ ...evaluateOutputs(outputs, truth, K), epochsRun: trained.result.epochsRun });
      options.onFoldDone?.(f, folds[f]);
      split.test.forEach((i, q) => {
        pooledPredicted[i] = outputs.predicted[q];
        pooledProbabilities.set(outputs.probabilities.subarray(q * K, (q + 1) * K), i * K);
      });
    } finally {
      trained.model.dispose();
    }
  }
  const pooled = evaluateOutputs({ probabilities: pooledProbabilities, predicted: pooledPredicted, features: new Float32Array(0), featureDim: 0 }, labels, K);
  return { folds, meanAccuracy: folds.reduce((t, f) => t + f.report.accuracy, 0) / folds.length, pooled };
}


export interface HeldOutTraining {
  trained: TrainedClassifier;
  /** Scores on the held-out test fold (20 %, never seen in training or early stopping). */
  test: ClassifierEvaluation;
  split: { train: number; validation: number; test: number };
  /** The test examples (indices into the dataset) and their predicted classes, for the self-checks. */
  testIndices: Uint32Array;
  predicted: Int32Array;
}

/**
 * The app's training (explorer classes, drawn shapes or image files alike):
 * trains on the first split of a stratified 5-fold partition (60 % train,
 * 20 % validation for early stopping) and scores the remaining 20 %.
 */
/** The train / validation / test split trainAndTest uses: the first of 5 stratified folds with `seed`. */
export function heldOutSplit(dataset: ClassifierDataset, seed: number) {
  return crossValidationSplits(Int32Array.from(dataset.examples, (e) => e.label), 5, seed)[0];
}

export async function trainAndTest(dataset: ClassifierDataset, spec: ClassifierSpec, options: ClassifierTrainOptions): Promise<HeldOutTraining> {
  const labels = Int32Array.from(dataset.examples, (e) => e.label);
  const split = heldOutSplit(dataset, options.seed ?? 0);
  const trained = await trainClassifier(dataset, split.train, split.validation, spec, options);
  try {
    const outputs = await classifierOutputs(trained, dataset, split.test, 16, options.signal);
    const test = evaluateOutputs(outputs, Int32Array.from(split.test, (i) => labels[i]), dataset.classes.length);
    return { trained, test, split: { train: split.train.length, validation: split.validation.length, test: split.test.length }, testIndices: split.test, predicted: outputs.predicted };
  } catch (error) {
    trained.model.dispose();
    throw error;
  }
}

/** Classifies level-0 rectangles of a slide (e.g. every tissue tile), in batches, with progress. */
export async function classifyRects(
  trained: TrainedClassifier,
  source: SlideSource,
  rects: Float64Array,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; batchSize?: number } = {},
): Promise<ClassifierOutputs> {
  const n = rects.length / 4;
  const dataset = datasetFromRects(source, trained.spec.classes, rects, new Int32Array(n));
  const batch = options.batchSize ?? 64;
  const K = trained.spec.classes.length;
  const probabilities = new Float32Array(n * K);
  const predicted = new Int32Array(n);
  let features = new Float32Array(0);
  let featureDim = 0;
  for (let start = 0; start < n; start += batch) {
    const indices = Uint32Array.from({ length: Math.min(batch, n - start) }, (_, i) => start + i);
    const part = await classifierOutputs(trained, dataset, indices, 16, options.signal);
    if (featureDim === 0) {
      featureDim = part.featureDim;
      features = new Float32Array(n * featureDim);
    }
    probabilities.set(part.probabilities, start * K);
    predicted.set(part.predicted, start);
    features.set(part.features, start * featureDim);
    options.onProgress?.(start + indices.length, n);
    await new Promise((resolve) => setTimeout(resolve, 0)); // let a cancel message in
  }
  return { probabilities, predicted, features, featureDim };
}

// ------------------------------------------------------------------ saved classifiers

/** What a saved classifier carries in its userDefinedMetadata (the worker's saveClassifier and the CLI write it). */
export interface ClassifierMetadata {
  tilescope: ClassifierArch;
  fingerprint: string;
  modelId: string;
  spec: ClassifierSpec;
  /** OrgaNet's DEC clusters (null for Mobincep, or before DEC is fitted). */
  dec: { k: number; dims: number; centres: number[]; clusterToLabel: number[] } | null;
}

/**
 * The metadata to set on a trained classifier's model before saving it. It
 * must be plain JSON: tfjs-layers' setUserDefinedMetadata rejects a key whose
 * value is undefined (such as a Mobincep spec's `adaptedSize`), so such keys
 * are left out.
 */
export function classifierMetadata(trained: TrainedClassifier, fingerprint: string, modelId: string): ClassifierMetadata {
  const { arch, classes, inputSize, channels, width, adaptedSize, normalisation } = trained.spec;
  const spec: ClassifierSpec = { arch, classes: [...classes], inputSize, channels, width, normalisation, ...(adaptedSize === undefined ? {} : { adaptedSize }) };
  const dec = trained.dec ? { k: trained.dec.k, dims: trained.dec.dims, centres: Array.from(trained.dec.centres), clusterToLabel: Array.from(trained.dec.clusterToLabel) } : null;
  return { tilescope: arch, fingerprint, modelId, spec, dec };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/**
 * A loaded classifier model back as a TrainedClassifier, from the spec and
 * DEC clusters its metadata carries. Throws, with the reason, when the model
 * is not a Tilescope classifier or its metadata does not fit its layers. The
 * training history is not saved: `result` is an empty completed run.
 */
export function trainedClassifierFromModel(model: LayersModel): TrainedClassifier {
  const meta = model.getUserDefinedMetadata() as Partial<Record<keyof ClassifierMetadata, unknown>> | undefined;
  const kind = meta?.tilescope;
  if (kind !== 'mobincep' && kind !== 'organet') {
    throw new Error(typeof kind === 'string' ? `a ${kind} model, not a classifier (mobincep or organet)` : 'not a Tilescope classifier (its metadata names no mobincep or organet model)');
  }
  const raw = meta!.spec as Partial<ClassifierSpec> | undefined;
  if (typeof raw !== 'object' || raw === null) throw new Error(`the ${kind} model's metadata has no classifier spec`);
  const classes = raw.classes;
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string')) throw new Error('the classifier spec needs at least 2 class names');
  if (raw.arch !== kind) throw new Error(`the classifier spec names ${String(raw.arch)}, the model ${kind}`);
  if (!isCount(raw.inputSize)) throw new Error(`the classifier spec's input size is not a positive integer (${String(raw.inputSize)})`);
  if (raw.channels !== 1 && raw.channels !== 3) throw new Error(`the classifier spec's channels must be 1 or 3, got ${String(raw.channels)}`);
  const width = typeof raw.width === 'number' && raw.width > 0 ? raw.width : 1;
  if (raw.normalisation !== undefined && !NORMALISATIONS.includes(raw.normalisation)) throw new Error(`the classifier spec's normalisation must be one of ${NORMALISATIONS.join(', ')}, got ${String(raw.normalisation)}`);
  // Models saved before the choice existed were standardised per channel.
  const spec: ClassifierSpec = { arch: kind, classes: [...classes], inputSize: raw.inputSize, channels: raw.channels, width, normalisation: raw.normalisation ?? 'channel' };
  if (kind === 'organet' && isCount(raw.adaptedSize)) spec.adaptedSize = raw.adaptedSize;
  const input = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || input?.[1] !== spec.inputSize || input?.[2] !== spec.inputSize || input?.[3] !== spec.channels) {
    throw new Error(`the model's input ${JSON.stringify(input?.slice(1))} does not match its spec (${spec.inputSize} × ${spec.inputSize} × ${spec.channels})`);
  }
  const units = model.outputs[0]?.shape[model.outputs[0].shape.length - 1];
  if (units !== classes.length) throw new Error(`the model has ${String(units)} outputs for ${classes.length} classes`);

  let dec: DecModel | null = null;
  const rawDec = meta!.dec as Partial<NonNullable<ClassifierMetadata['dec']>> | null | undefined;
  if (kind === 'organet' && rawDec) {
    const { k, dims, centres, clusterToLabel } = rawDec;
    const numbers = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!isCount(k) || !isCount(dims) || !numbers(centres, k * dims) || !numbers(clusterToLabel, k) || !clusterToLabel.every((c) => Number.isInteger(c) && c >= 0 && c < classes.length)) {
      throw new Error('the OrgaNet model\'s DEC clusters (metadata "dec") are malformed');
    }
    const latent = organetEncoder(model).outputs[0].shape[1];
    if (latent !== dims) throw new Error(`the OrgaNet model's latent has ${String(latent)} dimensions, its DEC clusters ${dims}`);
    dec = { k, dims, centres: Float64Array.from(centres), clusterToLabel: Int32Array.from(clusterToLabel), trainingAccuracy: Number.NaN };
  }
  return { spec, model, dec, result: { status: 'completed', epochsRun: 0, history: [], bestEpoch: null, bestLoss: null } };
}
