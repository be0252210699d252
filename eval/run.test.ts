import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, commandLine, evalOptionsFromEnv, mergeReports, runSuite, runWorkflow, selectVariants, type EvalOptions } from './run';
import { WORKFLOW_NAMES, isRegistered, loadWorkflow, registeredNames } from './workflows';
import type { EvalVariant, Target, VariantResult, WorkflowEval } from './types';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tilescope-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const variant = (id: string, reduced = false, real = false): EvalVariant => ({ id, description: `what ${id} varies`, seed: 424242, reduced, real });

/**
 * A stand-in workflow: the score of each variant is given; a variant whose
 * score is 'throw' throws. Records the scratch folders it was handed.
 */
function fakeWorkflow(scores: Record<string, number | 'throw'>, targets: Target[], reduced: string[] = Object.keys(scores)): WorkflowEval & { dirs: string[] } {
  const dirs: string[] = [];
  return {
    name: 'cish',
    title: 'Fake CISH',
    targets,
    dirs,
    variants: () => Object.keys(scores).map((id) => variant(id, reduced.includes(id))),
    async run(v, context): Promise<VariantResult> {
      dirs.push(context.workDir);
      // The folder is fresh and writable.
      expect(readdirSync(context.workDir)).toEqual([]);
      writeFileSync(path.join(context.workDir, 'slide.tif'), 'x');
      context.log('generated');
      const score = scores[v.id];
      if (score === 'throw') throw new Error(`cannot open ${v.id}`);
      return { variant: v, metrics: { ari: { value: score, baseline: 0.5 } }, seconds: 0.01, checks: [] };
    },
  };
}

const TARGETS: Target[] = [
  { metric: 'ari', over: 'median', atLeast: 0.85 },
  { metric: 'ari', over: 'worst', atLeast: 0.65 },
  { metric: 'ari', over: 'worst', atLeast: -0.05, relativeToBaseline: true },
];

describe('evalOptionsFromEnv', () => {
  it('runs everything into eval/ by default', () => {
    const o = evalOptionsFromEnv({});
    expect(o).toMatchObject({ reduced: false, keepScratch: false, workflows: undefined, variants: undefined });
    expect(o.outDir).toBe(path.join(REPO_ROOT, 'eval'));
    expect(o.scratchRoot).toBe(path.join(REPO_ROOT, '.cache', 'eval', 'work'));
  });

  it('keeps partial runs out of the committed report', () => {
    for (const env of [{ EVAL_WORKFLOWS: 'cish' }, { EVAL_VARIANTS: 'a' }, { EVAL_REDUCED: '1' }]) {
      expect(evalOptionsFromEnv(env).outDir).toBe(path.join(REPO_ROOT, '.cache', 'eval', 'results'));
    }
    expect(evalOptionsFromEnv({ EVAL_WORKFLOWS: 'cish', EVAL_OUT: 'out/e' }).outDir).toBe(path.join(REPO_ROOT, 'out', 'e'));
  });

  it('reads lists and flags', () => {
    const o = evalOptionsFromEnv({ EVAL_WORKFLOWS: 'cish, nuclei', EVAL_VARIANTS: 'a,b,', EVAL_REDUCED: 'true', EVAL_KEEP: '1' });
    expect(o).toMatchObject({ workflows: ['cish', 'nuclei'], variants: ['a', 'b'], reduced: true, keepScratch: true });
    expect(evalOptionsFromEnv({ EVAL_REDUCED: '0' }).reduced).toBe(false);
    expect(() => evalOptionsFromEnv({ EVAL_WORKFLOWS: 'cish,nucleii' })).toThrow('unknown workflow "nucleii"');
  });

  it('gives the command back as typed', () => {
    expect(commandLine({ reduced: false })).toBe('npm run eval');
    expect(commandLine({ workflows: ['nuclei'], variants: ['n-01'], reduced: true })).toBe('EVAL_WORKFLOWS=nuclei EVAL_VARIANTS=n-01 EVAL_REDUCED=1 npm run eval');
  });
});

describe('selectVariants', () => {
  it('filters by reduced and by id', () => {
    const w = fakeWorkflow({ a: 1, b: 1, c: 1 }, [], ['a', 'c']);
    expect(selectVariants(w, { reduced: false }).map((v) => v.id)).toEqual(['a', 'b', 'c']);
    expect(selectVariants(w, { reduced: true }).map((v) => v.id)).toEqual(['a', 'c']);
    expect(selectVariants(w, { reduced: true, variants: ['b', 'c'] }).map((v) => v.id)).toEqual(['c']);
  });

  it('refuses duplicate ids and ids that are no folder name', () => {
    const w = fakeWorkflow({ a: 1 }, []);
    expect(() => selectVariants({ ...w, variants: () => [variant('a'), variant('a')] }, { reduced: false })).toThrow('appears twice');
    expect(() => selectVariants({ ...w, variants: () => [variant('../x')] }, { reduced: false })).toThrow('not usable as a folder name');
  });
});

describe('runWorkflow', () => {
  it('gives each variant a fresh scratch folder, records a throw as a failed variant and goes on', async () => {
    const scratch = path.join(tmp, 'scratch');
    // A stale file from an earlier run must be gone when the variant starts.
    mkdirSync(path.join(scratch, 'cish', 'v1'), { recursive: true });
    writeFileSync(path.join(scratch, 'cish', 'v1', 'old.csv'), 'stale');
    const w = fakeWorkflow({ v1: 0.9, v2: 'throw', v3: 0.8 }, TARGETS);
    const lines: string[] = [];
    const partial: number[] = [];
    const run = await runWorkflow(w, {
      variants: w.variants(),
      scratchRoot: scratch,
      keepScratch: false,
      log: (l) => lines.push(l),
      onVariantDone: (r) => partial.push(r.outcomes.length),
    });
    expect(w.dirs).toEqual(['v1', 'v2', 'v3'].map((id) => path.join(scratch, 'cish', id)));
    expect(run.outcomes.map((o) => [o.variant.id, o.result?.metrics.ari.value, o.error])).toEqual([
      ['v1', 0.9, undefined],
      ['v2', undefined, 'cannot open v2'],
      ['v3', 0.8, undefined],
    ]);
    expect(partial).toEqual([1, 2, 3]);
    // Successful variants' files are removed, a failed one's kept for a look.
    expect(existsSync(w.dirs[0])).toBe(false);
    expect(existsSync(path.join(w.dirs[1], 'slide.tif'))).toBe(true);
    expect(lines).toContain('cish v1 (1/3): generated');
    expect(lines.some((l) => l.startsWith('cish v2 (2/3): FAILED after') && l.includes('cannot open v2'))).toBe(true);
    expect(lines.some((l) => l.startsWith('cish v3 (3/3): done in') && l.includes('ari 0.800 (baseline 0.500)'))).toBe(true);
  });

  it('keeps every scratch folder when asked', async () => {
    const w = fakeWorkflow({ k1: 0.9 }, TARGETS);
    await runWorkflow(w, { variants: w.variants(), scratchRoot: path.join(tmp, 'keep'), keepScratch: true, log: () => {} });
    expect(existsSync(path.join(w.dirs[0], 'slide.tif'))).toBe(true);
  });
});

describe('runSuite', () => {
  const options = (name: string, extra: Partial<EvalOptions> = {}): EvalOptions => ({
    reduced: true,
    outDir: path.join(tmp, name, 'out'),
    scratchRoot: path.join(tmp, name, 'work'),
    keepScratch: false,
    ...extra,
  });

  it('passes a good workflow and writes RESULTS.md and results.json', async () => {
    // 'slow' is not reduced: it must not run.
    const w = fakeWorkflow({ g1: 0.95, g2: 0.9, g3: 0.7, slow: 'throw' }, TARGETS, ['g1', 'g2', 'g3']);
    const { problems, files, runs } = await runSuite(options('good'), [w], () => {});
    expect(problems.get('cish')).toEqual([]);
    expect(runs[0].outcomes.map((o) => o.variant.id)).toEqual(['g1', 'g2', 'g3']);
    const md = readFileSync(files.markdown, 'utf8');
    expect(md).toContain('- command: `EVAL_REDUCED=1 npm run eval`');
    expect(md).toContain('Targets: 3 met, 0 missed. Failed variants: 0.');
    expect(md).not.toContain('Partial report');
    expect(JSON.parse(readFileSync(files.json, 'utf8')).workflows[0].summary.targets.every((t: { met: boolean }) => t.met)).toBe(true);
  });

  it('fails a workflow that misses a target, naming the target and the variant', async () => {
    const w = fakeWorkflow({ g1: 0.95, g2: 0.9, g3: 0.4 }, TARGETS);
    const { problems } = await runSuite(options('bad'), [w], () => {});
    expect(problems.get('cish')).toEqual([
      'missed: worst ari ≥ 0.650: 0.400 (g3), over 3 generated variants',
      'missed: worst ari − baseline ≥ -0.050: -0.100 (g3), over 3 generated variants',
    ]);
  });

  it('merges runs made in parallel into one report, and refuses an unfinished one or a workflow twice', async () => {
    const a = fakeWorkflow({ g1: 0.95, g2: 0.9 }, TARGETS);
    const b = { ...fakeWorkflow({ h1: 0.3, h2: 0.9 }, TARGETS), name: 'nuclei' as const, title: 'Fake nuclei' };
    const ra = await runSuite(options('merge-a', { workflows: ['cish'] }), [a], () => {});
    const rb = await runSuite(options('merge-b', { workflows: ['nuclei'] }), [b], () => {});
    const dirs = [path.dirname(ra.files.json), path.dirname(rb.files.json)];
    const merged = mergeReports(dirs, path.join(tmp, 'merged'));
    expect(merged.runs.map((r) => r.name)).toEqual(['cish', 'nuclei']);
    expect(merged.problems.get('cish')).toEqual([]);
    expect(merged.problems.get('nuclei')).toContain('missed: worst ari ≥ 0.650: 0.300 (h1), over 2 generated variants');
    const md = readFileSync(merged.files.markdown, 'utf8');
    expect(md).toContain('Fake CISH');
    expect(md).toContain('Fake nuclei');
    expect(md).toContain('2 runs made as separate processes (each trains on one core), some at the same time, then merged');
    expect(md).not.toContain('Partial report');
    expect(() => mergeReports([dirs[0], dirs[0]], path.join(tmp, 'merged-twice'))).toThrow('cish/g1, cish/g2 appear in more than one run');
    // One workflow split between two runs by EVAL_VARIANTS comes back whole, in id order.
    const split = fakeWorkflow({ g1: 0.95, g2: 0.9, g3: 0.4 }, TARGETS);
    const s1 = await runSuite(options('split-1', { workflows: ['cish'], variants: ['g3'] }), [split], () => {});
    const s2 = await runSuite(options('split-2', { workflows: ['cish'], variants: ['g1', 'g2'] }), [split], () => {});
    const whole = mergeReports([path.dirname(s1.files.json), path.dirname(s2.files.json)], path.join(tmp, 'merged-split'));
    expect(whole.runs.map((r) => [r.name, r.outcomes.map((o) => o.variant.id)])).toEqual([['cish', ['g1', 'g2', 'g3']]]);
    expect(whole.problems.get('cish')).toContain('missed: worst ari ≥ 0.650: 0.400 (g3), over 3 generated variants');
    expect(readFileSync(whole.files.markdown, 'utf8')).toContain('cish (1 variant)');
    const partial = path.join(tmp, 'partial');
    mkdirSync(partial, { recursive: true });
    const json = JSON.parse(readFileSync(ra.files.json, 'utf8'));
    writeFileSync(path.join(partial, 'results.json'), JSON.stringify({ ...json, progress: 'in progress: 1 of 2 variants done', totalSeconds: undefined }));
    expect(() => mergeReports([partial, dirs[1]], path.join(tmp, 'merged-partial'))).toThrow(`${partial} did not finish`);
  });

  it('stops before running anything when a variant id is unknown', async () => {
    const w = fakeWorkflow({ g1: 0.9 }, TARGETS);
    await expect(runSuite(options('typo', { variants: ['g1', 'g9'] }), [w], () => {})).rejects.toThrow('EVAL_VARIANTS: no selected workflow has g9');
    expect(w.dirs).toEqual([]);
  });
});

describe('registry', () => {
  it('knows the three workflows and loads only those whose module exists', async () => {
    expect(WORKFLOW_NAMES).toEqual(['cish', 'nuclei', 'classifier']);
    for (const name of WORKFLOW_NAMES) {
      expect(isRegistered(name)).toBe(existsSync(path.join(REPO_ROOT, 'eval', name, 'workflow.ts')));
    }
    expect(registeredNames().every((n) => isRegistered(n))).toBe(true);
    expect(isRegistered('other')).toBe(false);
    const missing = WORKFLOW_NAMES.find((n) => !isRegistered(n));
    if (missing) await expect(loadWorkflow(missing)).rejects.toThrow(`eval/${missing}/workflow.ts does not exist`);
  });
});
