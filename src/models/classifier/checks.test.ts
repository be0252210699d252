import { describe, expect, it } from 'vitest';
import { classMapSelfChecks, classifierSelfChecks } from './checks';

const classes = ['MNA', 'normal'];
const falling = [0.7, 0.55, 0.4, 0.31, 0.3].map((loss) => ({ loss }));
const mixed = Int32Array.from({ length: 40 }, (_, i) => i % 2);

describe('classifier self-checks', () => {
  it('stay quiet on a good run', () => {
    expect(classifierSelfChecks({ history: falling, predicted: mixed, classes, stoppedByTimeCap: false, timeCapMinutes: 7.5 })).toEqual([]);
    expect(classMapSelfChecks(mixed, classes)).toEqual([]);
  });

  it('a model that predicts one class for every example: one-class-predicted (failed)', () => {
    const checks = classifierSelfChecks({ history: falling, predicted: new Int32Array(40), classes, stoppedByTimeCap: false, timeCapMinutes: 7.5 });
    expect(checks.map((c) => [c.id, c.severity])).toEqual([['one-class-predicted', 'failed']]);
    expect(checks[0].message).toContain('"MNA"');
    expect(classMapSelfChecks(new Int32Array(500).fill(1), classes).map((c) => c.id)).toEqual(['one-class-predicted']);
  });

  it('a class never predicted among three: class-never-predicted (warning)', () => {
    const checks = classMapSelfChecks(Int32Array.from({ length: 30 }, (_, i) => (i % 2) * 2), ['a', 'b', 'c']);
    expect(checks.map((c) => [c.id, c.severity])).toEqual([['class-never-predicted', 'warning']]);
    expect(checks[0].message).toContain('"b"');
  });

  it('a flat loss: loss-flat; a NaN loss too', () => {
    const flat = [0.6931, 0.6932, 0.6929, 0.6931].map((loss) => ({ loss }));
    expect(classifierSelfChecks({ history: flat, predicted: mixed, classes, stoppedByTimeCap: false, timeCapMinutes: 7.5 }).map((c) => c.id)).toEqual(['loss-flat']);
    const nan = [0.69, Number.NaN].map((loss) => ({ loss }));
    expect(classifierSelfChecks({ history: nan, predicted: mixed, classes, stoppedByTimeCap: false, timeCapMinutes: 7.5 }).map((c) => c.id)).toEqual(['loss-flat']);
  });

  it("watches the validation cross-entropy when there is one: a training loss that falls by its centroid terms alone does not hide a classifier that learned nothing", () => {
    const history = [6.6, 3.1, 1.2, 0.85, 0.81].map((loss, i) => ({ loss, valLoss: [1.387, 1.39, 1.386, 1.388, 1.387][i] }));
    expect(classifierSelfChecks({ history, predicted: mixed, classes, stoppedByTimeCap: false, timeCapMinutes: 7.5 }).map((c) => c.id)).toEqual(['loss-flat']);
    const learning = [0.9, 0.7, 0.5].map((loss, i) => ({ loss, valLoss: [0.69, 0.5, 0.3][i] }));
    expect(classifierSelfChecks({ history: learning, predicted: mixed, classes, stoppedByTimeCap: false, timeCapMinutes: 7.5 })).toEqual([]);
  });

  it('training cut by the time cap: time-cap, with the cap in the message', () => {
    const checks = classifierSelfChecks({ history: falling, predicted: mixed, classes, stoppedByTimeCap: true, timeCapMinutes: 7.5 });
    expect(checks.map((c) => c.id)).toEqual(['time-cap']);
    expect(checks[0].message).toContain('7.5');
  });
});
