import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fitLogisticRegression, logisticPredict, logisticProbabilities, standardiser } from './logistic-regression';

/** scikit-learn's LogisticRegression(multi_class='multinomial') on random data: scripts/make_logistic_regression_fixtures.py. */
const fixture = JSON.parse(readFileSync(new URL('../../tests/fixtures/analysis/logistic-regression.json', import.meta.url), 'utf8')) as {
  cases: Array<{ seed: number; classes: number; features: number; C: number; xTrain: number[]; yTrain: number[]; xTest: number[]; coef: number[]; probabilities: number[]; predicted: number[] }>;
};

describe('multinomial logistic regression against scikit-learn', () => {
  it.each(fixture.cases.map((c) => [c.seed, c] as const))('case %i: weights, probabilities and predictions', (_, c) => {
    const model = fitLogisticRegression(c.xTrain, c.yTrain, c.classes, { C: c.C });
    const probabilities = logisticProbabilities(model, c.xTest);
    for (let i = 0; i < probabilities.length; i++) expect(probabilities[i]).toBeCloseTo(c.probabilities[i], 4);
    expect(Array.from(logisticPredict(model, c.xTest))).toEqual(c.predicted);
    // scikit-learn reports one row for two classes: the second class's (the first's is its negative).
    // Its L-BFGS stops about 1e-5 short of the optimum that Newton's method reaches, hence 4 and 3 decimals.
    const d = c.features;
    const coef = c.classes === 2 ? Array.from(model.weights.subarray(d)) : Array.from(model.weights);
    coef.forEach((w, j) => expect(w).toBeCloseTo(c.coef[j], 3));
  });

  it('learns a separable rule and fails on shuffled labels (the test can fail)', () => {
    const n = 200;
    const x = Float64Array.from({ length: n * 2 }, (_, p) => Math.sin(p * 12.9898) * 43758.5453 % 1);
    const y = Int32Array.from({ length: n }, (_, i) => (x[2 * i] > x[2 * i + 1] ? 1 : 0));
    const model = fitLogisticRegression(x, y, 2, { C: 100 });
    const right = logisticPredict(model, x).reduce((t, p, i) => t + (p === y[i] ? 1 : 0), 0);
    expect(right / n).toBeGreaterThan(0.95);
    const shuffled = Int32Array.from(y, (_, i) => y[(i * 7919) % n]);
    const m2 = fitLogisticRegression(x, shuffled, 2, { C: 100 });
    const right2 = logisticPredict(m2, x).reduce((t, p, i) => t + (p === shuffled[i] ? 1 : 0), 0);
    expect(right2 / n).toBeLessThan(0.75);
  });

  it('standardiser: zero mean, unit sd per column; a constant column stays finite', () => {
    const x = [1, 5, 3, 5, 5, 5];
    const s = standardiser(x, 2);
    expect(Array.from(s.mean)).toEqual([3, 5]);
    expect(Array.from(s.apply(x))).toEqual([-1.224744871391589, 0, 0, 0, 1.224744871391589, 0]);
  });
});
