import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classificationReport, crossValidationSplits, multiclassRoc, rocCurve, stratifiedSubset } from './classification-metrics';

interface Case {
  classes: number;
  y: number[];
  pred: number[];
  probs: number[];
  accuracy: number;
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  confusion: number[];
  curves: Array<{ fpr: number[]; tpr: number[]; thresholds: Array<number | null> }>;
  perClassAuc: number[];
  microAuc: number;
  macroAuc: number;
}
// From scikit-learn: scripts/make_classification_metrics_fixtures.py.
const { cases } = JSON.parse(readFileSync(path.resolve(__dirname, '../../tests/fixtures/analysis/classification-metrics.json'), 'utf8')) as { cases: Case[] };

const close = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 10);
};

describe.each(cases.map((c, i) => [i, c] as const))('classification metrics against scikit-learn, case %i', (_, c) => {
  it('accuracy, per-class precision / sensitivity / F1 (zero division → 0), confusion matrix', () => {
    const report = classificationReport(c.y, c.pred, c.classes);
    expect(report.accuracy).toBeCloseTo(c.accuracy, 12);
    close(report.perClass.map((s) => s.precision), c.precision);
    close(report.perClass.map((s) => s.recall), c.recall);
    close(report.perClass.map((s) => s.f1), c.f1);
    expect(report.perClass.map((s) => s.support)).toEqual(c.support);
    expect(Array.from(report.confusion.matrix)).toEqual(c.confusion);
  });

  it('one-vs-rest ROC curves point by point (tied scores move together), micro and macro AUC', () => {
    const roc = multiclassRoc(c.y, c.probs, c.classes);
    roc.perClass.forEach((curve, k) => {
      close(curve.fpr, c.curves[k].fpr);
      close(curve.tpr, c.curves[k].tpr);
      close(curve.thresholds.slice(1), c.curves[k].thresholds.slice(1) as number[]);
      expect(curve.thresholds[0]).toBe(Infinity);
      expect(curve.auc).toBeCloseTo(c.perClassAuc[k], 10);
    });
    expect(roc.micro.auc).toBeCloseTo(c.microAuc, 10);
    expect(roc.macroAuc).toBeCloseTo(c.macroAuc, 10);
  });
});

describe('rocCurve edge cases', () => {
  it('a perfect ranking has AUC 1, a reversed one 0; one class alone leaves AUC undefined', () => {
    expect(rocCurve([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]).auc).toBe(1);
    expect(rocCurve([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]).auc).toBe(0);
    expect(rocCurve([1, 1], [0.3, 0.4]).auc).toBeNaN();
    expect(() => rocCurve([1], [0.1, 0.2])).toThrow(/1 labels vs 2 scores/);
  });
});

describe('crossValidationSplits', () => {
  it('5 folds: 60/20/20 per split, stratified, every example tested exactly once, deterministic per seed', () => {
    const labels = Int32Array.from({ length: 103 }, (_, i) => (i < 50 ? 0 : i < 90 ? 1 : 2));
    const splits = crossValidationSplits(labels, 5, 7);
    expect(splits).toHaveLength(5);
    const tested = new Int32Array(labels.length);
    for (const split of splits) {
      const all = [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b);
      expect(all).toEqual(Array.from(labels.keys())); // a partition
      expect(split.test.length / labels.length).toBeCloseTo(0.2, 1);
      expect(split.validation.length / labels.length).toBeCloseTo(0.2, 1);
      for (const i of split.test) tested[i]++;
      // Stratified: each class's share of the test fold is within one example of its share overall.
      for (const [klass, count] of [[0, 50], [1, 40], [2, 13]]) {
        const inTest = Array.from(split.test).filter((i) => labels[i] === klass).length;
        expect(Math.abs(inTest - count / 5)).toBeLessThanOrEqual(1);
      }
    }
    expect(Array.from(tested).every((t) => t === 1)).toBe(true);
    expect(crossValidationSplits(labels, 5, 7)).toEqual(splits);
    expect(crossValidationSplits(labels, 5, 8)[0].test).not.toEqual(splits[0].test);
    expect(() => crossValidationSplits(labels, 2)).toThrow(/at least 3 folds/);
  });
});

describe('stratifiedSubset', () => {
  it('keeps round(fraction × count) of each class (at least one), only from the given indices, reproducibly', () => {
    const labels = Int32Array.from({ length: 60 }, (_, i) => (i < 40 ? 0 : i < 57 ? 1 : 2));
    const indices = Uint32Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 !== 0);
    const given = new Set(indices);
    const subset = stratifiedSubset(indices, labels, 0.25, 'a');
    const perClass = (list: ArrayLike<number>) => [0, 1, 2].map((k) => Array.from(list).filter((i) => labels[i] === k).length);
    const counts = perClass(indices);
    expect(counts).toEqual([26, 12, 2]);
    expect(perClass(subset)).toEqual([7, 3, 1]); // 6.5 rounds up, 3 exactly, 0.5 rounds up (and at least one anyway)
    expect(perClass(stratifiedSubset(indices, labels, 0.1))).toEqual([3, 1, 1]); // 0.2 of a class still keeps one
    expect(Array.from(subset).every((i) => given.has(i))).toBe(true);
    expect(new Set(subset).size).toBe(subset.length);
    expect(Array.from(subset)).toEqual(Array.from(subset).sort((a, b) => a - b));
    expect(stratifiedSubset(indices, labels, 0.25, 'a')).toEqual(subset);
    expect(stratifiedSubset(indices, labels, 0.25, 'b')).not.toEqual(subset);
    expect(stratifiedSubset(indices, labels, 1)).toEqual(Uint32Array.from(indices));
    expect(() => stratifiedSubset(indices, labels, 0)).toThrow(/fraction/);
    expect(() => stratifiedSubset(indices, labels, 1.5)).toThrow(/fraction/);
  });
});
