/**
 * cishSelfChecks on constructed runs: each check fires on the failure it is
 * for (a flat loss as in issue 15, collapsed codes, a mostly-glass grid, the
 * time limit) and none fires on a good run.
 */
import { describe, expect, it } from 'vitest';
import { cishSelfChecks, type CishRunFacts } from './checks';

/** 200 tiles whose 2-D codes spread along both units; a falling loss; tiles all tissue. */
function goodRun(): CishRunFacts {
  const codes = new Float32Array(400);
  for (let i = 0; i < 200; i++) {
    codes[2 * i] = (i % 20) * 0.5;
    codes[2 * i + 1] = Math.floor(i / 20) * 0.3;
  }
  return {
    epochLosses: [0.062, 0.05, 0.041, 0.037, 0.036],
    codes,
    latentDim: 2,
    tissueFractions: new Float32Array(200).fill(1),
    stoppedByTimeLimit: false,
    timeLimitMinutes: 10,
  };
}

const ids = (facts: CishRunFacts) => cishSelfChecks(facts).map((c) => c.id);

describe('cishSelfChecks', () => {
  it('stays quiet on a good run', () => {
    expect(cishSelfChecks(goodRun())).toEqual([]);
  });

  it('fires loss-flat on the issue 15 history (0.0622 → 0.0622 over 70 epochs)', () => {
    const facts = { ...goodRun(), epochLosses: Array.from({ length: 70 }, (_, e) => 0.0622 - e * 1e-7) };
    const checks = cishSelfChecks(facts);
    expect(checks.map((c) => c.id)).toEqual(['loss-flat']);
    expect(checks[0].severity).toBe('failed');
    expect(checks[0].message).toMatch(/0\.0622/);
  });

  it('fires codes-collapsed when every tile sits on the LeakyReLU 1 % side (codes −0.0057 … −0.0001)', () => {
    const codes = Float32Array.from({ length: 400 }, (_, i) => -0.0001 - ((i * 37) % 100) * 0.0000001);
    expect(ids({ ...goodRun(), codes })).toEqual(['codes-collapsed']);
  });

  it('fires code-unit-dead when one unit is constant', () => {
    const codes = goodRun().codes as Float32Array;
    for (let i = 0; i < 200; i++) codes[2 * i + 1] = -0.003;
    expect(ids({ ...goodRun(), codes })).toEqual(['code-unit-dead']);
  });

  it('fires mostly-glass when most kept tiles are partly glass', () => {
    const tissueFractions = Float32Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 1 : 0.55));
    expect(ids({ ...goodRun(), tissueFractions })).toEqual(['mostly-glass']);
  });

  it('fires time-cap when training ended at the time limit', () => {
    expect(ids({ ...goodRun(), stoppedByTimeLimit: true })).toEqual(['time-cap']);
  });
});
