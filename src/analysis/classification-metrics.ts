/**
 * How far to trust a classifier (issue 6, SPEC §3): accuracy, per-class
 * precision, sensitivity (recall) and F1, the confusion matrix, one-vs-rest
 * ROC curves with micro and macro AUC, and the cross-validation splits the
 * seed used (k folds, each split 60/20/20 into train, validation and test).
 * Definitions follow scikit-learn's (classification_report, roc_curve,
 * roc_auc_score with multi_class='ovr'), which the tests compare with.
 */
import { confusionMatrix, type ConfusionMatrix } from './metrics';
import { Random, type Seed } from '../util/random';
import type { NumericArray } from './points';

export interface ClassScores {
  precision: number;
  /** Sensitivity. */
  recall: number;
  f1: number;
  /** Examples of the class. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** Per class 0…K−1. */
  perClass: ClassScores[];
  /** K×K, rows = true class. */
  confusion: ConfusionMatrix;
}

/**
 * Scores of predicted against true classes 0…classes−1. A ratio with an empty
 * denominator is 0 (scikit-learn's zero_division=0).
 */
export function classificationReport(yTrue: NumericArray, yPred: NumericArray, classes: number): ClassificationReport {
  if (yTrue.length !== yPred.length) throw new RangeError(`classificationReport: ${yTrue.length} true vs ${yPred.length} predicted labels`);
  const labels = Array.from({ length: classes }, (_, k) => k);
  const confusion = confusionMatrix(yTrue, yPred, labels);
  const m = confusion.matrix;
  let correct = 0;
  for (let k = 0; k < classes; k++) correct += m[k * classes + k];
  const perClass = labels.map((k) => {
    let predicted = 0;
    let support = 0;
    for (let j = 0; j < classes; j++) {
      predicted += m[j * classes + k];
      support += m[k * classes + j];
    }
    const tp = m[k * classes + k];
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1, support };
  });
  return { accuracy: yTrue.length === 0 ? 0 : correct / yTrue.length, perClass, confusion };
}

export interface RocCurve {
  /** False and true positive rates from (0, 0) to (1, 1), one point per distinct score (and the origin). */
  fpr: Float64Array;
  tpr: Float64Array;
  /** Score threshold of each point (Infinity for the origin). */
  thresholds: Float64Array;
  auc: number;
}

/**
 * ROC of scores for a binary truth (1 = positive), every distinct score a
 * point (scikit-learn's roc_curve with drop_intermediate=False), and the area
 * under it by the trapezoidal rule. Undefined (NaN) without positives or
 * negatives.
 */
export function rocCurve(positive: ArrayLike<number | boolean>, scores: NumericArray): RocCurve {
  const n = scores.length;
  if (positive.length !== n) throw new RangeError(`rocCurve: ${positive.length} labels vs ${n} scores`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) if (positive[i]) positives++;
  const negatives = n - positives;
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let q = 0; q < n; q++) {
    const i = order[q];
    if (positive[i]) tp++;
    else fp++;
    // One point per distinct score: ties move together.
    if (q + 1 < n && scores[order[q + 1]] === scores[i]) continue;
    fpr.push(negatives === 0 ? NaN : fp / negatives);
    tpr.push(positives === 0 ? NaN : tp / positives);
    thresholds.push(scores[i]);
  }
  let auc = 0;
  for (let q = 1; q < fpr.length; q++) auc += ((fpr[q] - fpr[q - 1]) * (tpr[q] + tpr[q - 1])) / 2;
  if (positives === 0 || negatives === 0) auc = NaN;
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(thresholds), auc };
}

export interface MulticlassRoc {
  /** One-vs-rest curve per class. */
  perClass: RocCurve[];
  /** Every (example, class) pair as one binary decision. */
  micro: RocCurve;
  /** Unweighted mean of the per-class AUCs (classes without positives or negatives left out). */
  macroAuc: number;
}

/** One-vs-rest ROC curves of class probabilities `scores` (n × classes, row-major) against true classes. */
export function multiclassRoc(yTrue: NumericArray, scores: NumericArray, classes: number): MulticlassRoc {
  const n = yTrue.length;
  if (scores.length !== n * classes) throw new RangeError(`multiclassRoc: ${scores.length} scores for ${n} examples × ${classes} classes`);
  const perClass = Array.from({ length: classes }, (_, k) => {
    const truth = Uint8Array.from({ length: n }, (_, i) => (yTrue[i] === k ? 1 : 0));
    const column = Float64Array.from({ length: n }, (_, i) => scores[i * classes + k]);
    return rocCurve(truth, column);
  });
  const microTruth = Uint8Array.from({ length: n * classes }, (_, q) => (yTrue[Math.floor(q / classes)] === q % classes ? 1 : 0));
  const micro = rocCurve(microTruth, scores);
  const defined = perClass.filter((c) => Number.isFinite(c.auc));
  const macroAuc = defined.length === 0 ? NaN : defined.reduce((total, c) => total + c.auc, 0) / defined.length;
  return { perClass, micro, macroAuc };
}

export interface FoldSplit {
  train: Uint32Array;
  validation: Uint32Array;
  test: Uint32Array;
}

/**
 * A stratified subset of `indices`: of each class, round(fraction × its count)
 * examples (at least one), drawn at random but reproducibly. For the few-label
 * experiments (OrgaNet with 20 % of the labels): the same test fold, fewer
 * labelled examples.
 */
export function stratifiedSubset(indices: ArrayLike<number>, labels: NumericArray, fraction: number, seed: Seed = 0): Uint32Array {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`the fraction must be in (0, 1], got ${fraction}`);
  const random = new Random(seed);
  const byClass = new Map<number, number[]>();
  for (let q = 0; q < indices.length; q++) {
    const i = indices[q];
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const kept: number[] = [];
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(key)!;
    random.shuffle(members);
    kept.push(...members.slice(0, Math.max(1, Math.round(fraction * members.length))));
  }
  return Uint32Array.from(kept.sort((a, b) => a - b));
}

/**
 * k-fold cross-validation with a validation fold, stratified by class:
 * each class's examples are shuffled and dealt round-robin into k folds; in
 * split i, fold i is the test set, fold i+1 the validation set (early
 * stopping), the rest train. With k = 5 that is the seed's 60/20/20.
 */
export function crossValidationSplits(labels: NumericArray, folds = 5, seed: Seed = 0): FoldSplit[] {
  if (!(Number.isInteger(folds) && folds >= 3)) throw new RangeError(`cross-validation needs at least 3 folds (test, validation, train), got ${folds}`);
  const random = new Random(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const foldOf = new Int32Array(labels.length);
  let dealt = 0;
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(key)!;
    random.shuffle(members);
    // Continue the deal where the previous class stopped, so small classes do not all start in fold 0.
    for (const index of members) foldOf[index] = dealt++ % folds;
  }
  return Array.from({ length: folds }, (_, f) => {
    const validationFold = (f + 1) % folds;
    const pick = (keep: (fold: number) => boolean) => Uint32Array.from(Array.from(foldOf.keys()).filter((i) => keep(foldOf[i])));
    return {
      test: pick((fold) => fold === f),
      validation: pick((fold) => fold === validationFold),
      train: pick((fold) => fold !== f && fold !== validationFold),
    };
  });
}
