/**
 * The CISH map with the `analyze` defaults, as a user runs it, on one small
 * generated slide (the eval's variant 01 look, but seed 4242, which the
 * suite does not use): ARI on interior tiles must reach the suite's worst-case
 * target (0.65), stay within 0.05 of the mean-colour k-means baseline on the same
 * tiles, and the cluster names must rise with the expression level. Before
 * issue 15's changes this kind of slide gave ARI 0.10–0.80 (the codes
 * followed the glass share), so the test can fail. ~1–3 min on 2 cores.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cishWorkflow, runCishVariant } from './workflow';

describe('CISH analyze defaults on a generated slide', () => {
  it('ARI ≥ 0.65, at most 0.05 below the mean-colour baseline, names follow expression', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cish-default-'));
    try {
      const variant = { ...cishWorkflow.variants()[0], seed: 4242 };
      const { outcome, scores, seconds, slide } = await runCishVariant(variant, { workDir: dir, log: () => {} });
      const { grid } = outcome;
      // Reported, not asserted: the seed's blurred mask keeps some pure-glass tiles at the edge (README).
      const glassOnly = Array.from(grid.kept).filter((i) => slide.regionTruth(grid.x[i], grid.y[i], grid.width[i], grid.height[i]).tissue < 0.05);
      const h = outcome.training.history;
      console.log(
        `ARI ${scores.ari.toFixed(3)} (baseline ${scores.baselineAri.toFixed(3)}, tissue-only colour ${scores.tissueColourAri.toFixed(3)}), ` +
          `|ρ| ${scores.rho.toFixed(3)} of ${scores.rhoCeiling.toFixed(3)}, names ρ ${scores.namesRho.toFixed(3)}, ` +
          `${scores.interior.length} interior of ${outcome.grid.kept.length} tiles, ${h.length} epochs, ${seconds.toFixed(0)} s, ` +
          `checks: ${outcome.checks.map((c) => c.id).join(', ') || 'none'}, glass-only tiles kept: ${glassOnly.length}`,
      );
      expect(scores.interior.length).toBeGreaterThanOrEqual(20);
      // The suite's worst-case target; this seed gave 0.852 against a baseline of 0.850 (2026-12-07): the margin is thin; the runs 0.10–0.80.
      expect(scores.ari).toBeGreaterThanOrEqual(0.65);
      // The per-variant rule: never more than 0.05 below the mean-colour baseline.
      expect(scores.ari).toBeGreaterThanOrEqual(scores.baselineAri - 0.05);
      expect(scores.namesRho).toBeGreaterThan(0.5);
      expect(outcome.checks.filter((c) => c.severity === 'failed')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
