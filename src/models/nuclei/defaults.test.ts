/**
 * The default `nuclei` path, as a user runs it (runNuclei with only --slide,
 * --out and --quiet, plus a shorter time cap so that the test takes under a
 * minute: the cap bounds the CAE's training, which describes the nuclei but
 * does not place the default points), on fields this project's nucleus code
 * was not tuned on: the eval's independent generator with a seed the eval
 * does not use, and the project's own synthetic H&E. F1 ≥ 0.7 by the 6-px
 * rule at 0.5 µm/px. Before issue 15 the same path found 0 of 706 nuclei on
 * such a field (F1 0).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNuclei } from '../../cli/nuclei';
import { matchDetections } from '../../analysis/detection-metrics';
import type { SlideSource } from '../../slide/types';
import { fieldSource, generateField } from '../../../eval/nuclei/generator';
import { fieldOptions } from '../../../eval/nuclei/workflow';
import { syntheticHeSlide } from './test-support';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function runDefault(source: SlideSource) {
  const out = mkdtempSync(path.join(tmpdir(), 'nuclei-defaults-'));
  dirs.push(out);
  const err: string[] = [];
  const code = await runNuclei(['--slide', source.metadata.name, '--out', out, '--quiet', '--time-cap', '15'], { stdout: () => {}, stderr: (t) => err.push(t) }, { source });
  expect(code, err.join('')).toBe(0);
  const rows = readFileSync(path.join(out, 'nuclei.csv'), 'utf8').trim().split('\n');
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
  return {
    x: rows.slice(1).map((r) => Number(r.split(',')[0])),
    y: rows.slice(1).map((r) => Number(r.split(',')[1])),
    header: rows[0],
    summary,
    stderr: err.join(''),
  };
}

describe('nuclei with its defaults', () => {
  it('finds the nuclei of an independent generated H&E field (F1 ≥ 0.7)', async () => {
    const field = generateField(fieldOptions(4243, { width: 600, height: 600, mpp: 0.5, diameterUm: [6, 13], density: 25, clusterShare: 0.3 }));
    const run = await runDefault(fieldSource(field, 'unit-field.png'));
    const m = matchDetections(run.x, run.y, field.x, field.y, 6);
    expect(m.f1, `P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)}`).toBeGreaterThanOrEqual(0.7);
    // The time cap is announced before training and the checks are written out.
    expect(run.stderr).toMatch(/at most \d+ epochs or 15 s/);
    expect(Array.isArray(run.summary.checks)).toBe(true);
    expect(run.summary.training.timeCapSeconds).toBe(15);
    expect(run.header.endsWith(',checks')).toBe(true);
    // No point on glass: every detection lies where the generator put tissue.
    const onGlass = run.x.filter((x, i) => !field.tissue[Math.floor(run.y[i]) * field.width + Math.floor(x)]).length;
    expect(onGlass).toBe(0);
  }, 180_000);

  it('finds the nuclei of the project\'s own synthetic H&E (F1 ≥ 0.7)', async () => {
    const { source, points } = syntheticHeSlide(31, 500);
    const run = await runDefault(source);
    const m = matchDetections(run.x, run.y, points.x, points.y, 6);
    expect(m.f1, `P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)} (${run.x.length} of ${points.x.length})`).toBeGreaterThanOrEqual(0.7);
  }, 180_000);
});
