import { describe, expect, it } from 'vitest';
import {
  checkAboveChance,
  checkCodes,
  checkCount,
  checkGlass,
  checkLossFell,
  checkPredictedClasses,
  checkTimeCap,
  describeChecks,
  firedChecks,
  worstSeverity,
} from './self-checks';
import { createRandom } from '../util/random';

describe('checkLossFell', () => {
  it('fires on the flat loss of the stalled run in issue 15', () => {
    const flat = Array.from({ length: 70 }, () => 0.0622);
    const check = checkLossFell(flat);
    expect(check?.id).toBe('loss-flat');
    expect(check?.severity).toBe('failed');
    expect(check?.message).toContain('0.0622');
  });

  it('fires when the loss becomes NaN', () => {
    expect(checkLossFell([0.05, Number.NaN])?.id).toBe('loss-flat');
  });

  it('stays quiet when the loss falls, even if it rises again at the end', () => {
    expect(checkLossFell([0.06, 0.04, 0.02, 0.021])).toBeNull();
  });

  it('says nothing about a single epoch', () => {
    expect(checkLossFell([0.06])).toBeNull();
  });
});

describe('checkCodes', () => {
  const rng = createRandom(11);
  const random = () => rng.uniform();

  it('fires on codes that all sit near one value (the dead LeakyReLU side)', () => {
    const codes = new Float32Array(400).map(() => -0.0057 + random() * 0.00005);
    const check = checkCodes(codes, 2);
    expect(check?.id).toBe('codes-collapsed');
    expect(check?.severity).toBe('failed');
  });

  it('warns about one dead unit while the other varies', () => {
    const codes = new Float32Array(400);
    for (let i = 0; i < 200; i++) {
      codes[2 * i] = random() * 3;
      codes[2 * i + 1] = -0.001 + random() * 1e-6;
    }
    const check = checkCodes(codes, 2);
    expect(check?.id).toBe('code-unit-dead');
    expect(check?.message).toContain('unit 1');
  });

  it('stays quiet when both units spread', () => {
    const codes = new Float32Array(400).map(() => random() * 2 - 1);
    expect(checkCodes(codes, 2)).toBeNull();
  });
});

describe('checkGlass', () => {
  it('fires when most tiles are partly glass', () => {
    const fractions = Array.from({ length: 100 }, (_, i) => (i < 70 ? 0.6 : 1));
    expect(checkGlass(fractions)?.id).toBe('mostly-glass');
  });

  it('stays quiet when most tiles are tissue', () => {
    const fractions = Array.from({ length: 100 }, (_, i) => (i < 20 ? 0.6 : 0.98));
    expect(checkGlass(fractions)).toBeNull();
  });
});

describe('checkCount', () => {
  it('fails on 13 detections against an estimate of 900', () => {
    const check = checkCount(13, 900, { estimateName: 'the haematoxylin estimate' });
    expect(check?.severity).toBe('failed');
    expect(check?.message).toContain('far below the haematoxylin estimate');
  });

  it('warns at 2.5× the estimate and stays quiet at 1.3×', () => {
    expect(checkCount(2250, 900)?.severity).toBe('warning');
    expect(checkCount(1170, 900)).toBeNull();
  });

  it('says nothing without an estimate', () => {
    expect(checkCount(10, 0)).toBeNull();
  });
});

describe('checkPredictedClasses', () => {
  it('fails when every item got one class', () => {
    const check = checkPredictedClasses(new Int32Array(50).fill(1), ['tumour', 'stroma']);
    expect(check?.id).toBe('one-class-predicted');
    expect(check?.message).toContain('"stroma"');
  });

  it('warns about a class never predicted among three', () => {
    const check = checkPredictedClasses([0, 1, 0, 1, 1], ['a', 'b', 'c']);
    expect(check?.id).toBe('class-never-predicted');
    expect(check?.severity).toBe('warning');
    expect(check?.message).toContain('"c"');
  });

  it('stays quiet when every class comes up', () => {
    expect(checkPredictedClasses([0, 1, 2, 1], ['a', 'b', 'c'])).toBeNull();
  });
});

describe('collecting checks', () => {
  it('keeps the fired ones and reports the worst severity', () => {
    const checks = firedChecks(checkTimeCap(true, 10), null, checkLossFell([1, 1, 1]), undefined);
    expect(checks.map((c) => c.id)).toEqual(['time-cap', 'loss-flat']);
    expect(worstSeverity(checks)).toBe('failed');
    expect(worstSeverity(checks.slice(0, 1))).toBe('warning');
    expect(worstSeverity([])).toBeNull();
    expect(describeChecks(checks)[0]).toMatch(/^warning: training stopped at the time cap/);
  });
});

describe('checkAboveChance', () => {
  const actual = Array.from({ length: 40 }, (_, i) => (i < 20 ? 0 : 1));

  it('fails a classifier that guesses: 0.5 on two balanced classes', () => {
    const guessing = actual.map((_, i) => i % 2);
    expect(checkAboveChance(guessing, actual)?.id).toBe('accuracy-near-chance');
  });

  it('fails 0.75 when three quarters of the items are one class', () => {
    const skewed = actual.map((_, i) => (i < 30 ? 0 : 1));
    const always0 = skewed.map(() => 0);
    expect(checkAboveChance(always0, skewed)?.message).toContain('0.750');
  });

  it('stays quiet at 0.9 and says nothing about tiny test sets', () => {
    const good = actual.map((c, i) => (i < 4 ? 1 - c : c));
    expect(checkAboveChance(good, actual)).toBeNull();
    expect(checkAboveChance([0, 1, 1], [0, 0, 1])).toBeNull();
  });
});
