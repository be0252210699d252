import { describe, expect, it } from 'vitest';
import {
  evaluateTarget,
  formatNumber,
  renderReport,
  renderWorkflow,
  reportJson,
  silentMisses,
  suiteProblems,
  summarizeSeries,
  summarizeWorkflow,
  type ReportHeader,
  type VariantOutcome,
  type WorkflowRun,
} from './report';
import type { MetricValue, Target } from './types';

interface Row {
  id: string;
  ari?: number;
  base?: number;
  real?: boolean;
  error?: string;
  seconds?: number;
}

function outcome(r: Row): VariantOutcome {
  const variant = { id: r.id, description: `variant ${r.id}`, seed: 9000, reduced: false, real: r.real };
  if (r.error) return { variant, error: r.error, totalSeconds: 3 };
  const metrics: Record<string, MetricValue> = r.ari === undefined ? {} : { ari: { value: r.ari, baseline: r.base } };
  return { variant, result: { variant, metrics, seconds: r.seconds ?? 10, baselineSeconds: 1, checks: [] }, totalSeconds: 12 };
}

function workflowRun(rows: Row[], targets: Target[] = []): WorkflowRun {
  return { name: 'cish', title: 'CISH expression map', targets, outcomes: rows.map(outcome) };
}

const samples = (values: number[]) => values.map((value, i) => ({ value, variantId: `v${i}` }));

describe('summarizeSeries', () => {
  it('takes the middle value, the mean of the two middle ones for an even count, and the minimum', () => {
    expect(summarizeSeries(samples([0.9, 0.5, 0.7]))).toEqual({ count: 3, median: 0.7, worst: 0.5, worstVariant: 'v1' });
    const even = summarizeSeries(samples([0.9, 0.6, 0.8, 0.4]));
    expect(even.median).toBeCloseTo(0.7, 12);
    expect(even.worst).toBe(0.4);
    expect(even.worstVariant).toBe('v3');
  });

  it('is empty without samples', () => {
    expect(summarizeSeries([])).toEqual({ count: 0, median: null, worst: null });
  });

  it('orders −∞ (a failed variant) first', () => {
    const s = summarizeSeries(samples([0.8, -Infinity, -Infinity, 0.9, 0.7]));
    expect(s.worst).toBe(-Infinity);
    expect(s.median).toBe(0.7);
  });
});

describe('summarizeWorkflow', () => {
  const run = workflowRun([
    { id: 'g1', ari: 0.9, base: 0.8 },
    { id: 'g2', ari: 0.6, base: 0.7 },
    { id: 'g3', ari: 0.8, base: 0.5 },
    { id: 'real1', ari: 0.1, base: 0.2, real: true },
  ]);

  it('leaves real slides out of the median and the worst case', () => {
    const s = summarizeWorkflow(run);
    expect(s.generatedCount).toBe(3);
    expect(s.realCount).toBe(1);
    const ari = s.metrics.find((m) => m.metric === 'ari')!;
    expect(ari.value).toMatchObject({ count: 3, median: 0.8, worst: 0.6, worstVariant: 'g2' });
    expect(ari.baseline).toMatchObject({ count: 3, median: 0.7, worst: 0.5, worstVariant: 'g3' });
  });

  it('counts a failed variant as the worst value, but not in the baseline', () => {
    const s = summarizeWorkflow(workflowRun([{ id: 'g1', ari: 0.9, base: 0.8 }, { id: 'g2', error: 'out of memory' }]));
    const ari = s.metrics.find((m) => m.metric === 'ari')!;
    expect(ari.value.worst).toBe(-Infinity);
    expect(ari.value.worstVariant).toBe('g2');
    expect(ari.baseline).toMatchObject({ count: 1, worst: 0.8 });
    expect(s.failed).toEqual(['g2']);
  });

  it('reports wall times: median and longest', () => {
    const s = summarizeWorkflow(workflowRun([{ id: 'a', ari: 1, seconds: 5 }, { id: 'b', ari: 1, seconds: 50 }, { id: 'c', ari: 1, seconds: 20 }]));
    expect(s.seconds.median).toBe(20);
    expect(s.seconds.longest).toBe(50);
  });
});

describe('evaluateTarget', () => {
  const run = workflowRun([
    { id: 'g1', ari: 0.9, base: 0.5 },
    { id: 'g2', ari: 0.7, base: 0.72 },
    { id: 'g3', ari: 0.85, base: 0.8 },
    { id: 'real', ari: 0.0, base: 0.9, real: true },
  ]);

  it('meets or misses on the median', () => {
    expect(evaluateTarget(run, { metric: 'ari', over: 'median', atLeast: 0.85 })).toMatchObject({ met: true, observed: 0.85, count: 3 });
    expect(evaluateTarget(run, { metric: 'ari', over: 'median', atLeast: 0.86 })).toMatchObject({ met: false, observed: 0.85 });
  });

  it('meets or misses on the worst case, naming the variant', () => {
    expect(evaluateTarget(run, { metric: 'ari', over: 'worst', atLeast: 0.7 })).toMatchObject({ met: true, variantId: 'g2' });
    expect(evaluateTarget(run, { metric: 'ari', over: 'worst', atLeast: 0.71 })).toMatchObject({ met: false, observed: 0.7, variantId: 'g2' });
  });

  it('relative to the baseline: per variant value − baseline, then median or worst', () => {
    // Differences 0.4, −0.02, 0.05: median 0.05, worst −0.02 (g2). The real slide's −0.9 does not count.
    const median = evaluateTarget(run, { metric: 'ari', over: 'median', atLeast: 0.05, relativeToBaseline: true });
    expect(median.met).toBe(true); // 0.85 − 0.8 is 0.04999… in floating point
    expect(median.observed).toBeCloseTo(0.05, 12);
    const worst = evaluateTarget(run, { metric: 'ari', over: 'worst', atLeast: -0.01, relativeToBaseline: true });
    expect(worst).toMatchObject({ met: false, variantId: 'g2' });
    expect(worst.observed).toBeCloseTo(-0.02, 12);
    expect(evaluateTarget(run, { metric: 'ari', over: 'worst', atLeast: -0.05, relativeToBaseline: true }).met).toBe(true);
  });

  it('is missed when a variant failed, however good the others', () => {
    const r = workflowRun([{ id: 'a', ari: 1, base: 0 }, { id: 'b', ari: 1, base: 0 }, { id: 'c', error: 'boom' }]);
    expect(evaluateTarget(r, { metric: 'ari', over: 'worst', atLeast: 0 })).toMatchObject({ met: false, observed: -Infinity, variantId: 'c' });
    expect(evaluateTarget(r, { metric: 'ari', over: 'median', atLeast: 0.5 }).met).toBe(true);
    expect(evaluateTarget(r, { metric: 'ari', over: 'worst', atLeast: -0.05, relativeToBaseline: true }).met).toBe(false);
  });

  it('is missed when no variant reports the metric; variants without it are left out', () => {
    expect(evaluateTarget(run, { metric: 'rho', over: 'median', atLeast: 0 })).toMatchObject({ met: false, observed: null, count: 0 });
    const partial = workflowRun([{ id: 'a', ari: 0.9 }, { id: 'b' }]);
    expect(evaluateTarget(partial, { metric: 'ari', over: 'worst', atLeast: 0.9 })).toMatchObject({ met: true, count: 1 });
    expect(evaluateTarget(partial, { metric: 'ari', over: 'worst', atLeast: 0, relativeToBaseline: true })).toMatchObject({ met: false, observed: null });
  });
});

describe('suiteProblems', () => {
  const targets: Target[] = [
    { metric: 'ari', over: 'median', atLeast: 0.85 },
    { metric: 'ari', over: 'worst', atLeast: 0.65 },
  ];

  it('is empty when every target is met', () => {
    expect(suiteProblems(workflowRun([{ id: 'a', ari: 0.9 }, { id: 'b', ari: 0.7 }, { id: 'c', ari: 0.95 }], targets))).toEqual([]);
  });

  it('lists missed targets with their numbers, and failed variants', () => {
    const problems = suiteProblems(workflowRun([{ id: 'a', ari: 0.9 }, { id: 'b', ari: 0.4 }, { id: 'c', error: 'no tissue found' }], targets));
    expect(problems).toContain('c failed: no tissue found');
    expect(problems).toContain('missed: worst ari ≥ 0.650: failed (c), over 3 generated variants');
    expect(problems).toContain('missed: median ari ≥ 0.850: 0.400, over 3 generated variants');
  });

  it('fails a run that could not fail: no variants or no targets', () => {
    expect(suiteProblems(workflowRun([], targets))).toContain('no variants were run');
    expect(suiteProblems(workflowRun([{ id: 'a', ari: 1 }]))).toEqual(['the workflow declares no targets']);
  });
});

describe('markdown', () => {
  const targets: Target[] = [
    { metric: 'ari', over: 'median', atLeast: 0.5 },
    { metric: 'ari', over: 'worst', atLeast: 0.65 },
  ];
  const run = workflowRun(
    [
      { id: 'cish-01', ari: 0.912, base: 0.84 },
      { id: 'cish-02', ari: 0.4, base: 0.61 },
      { id: 'cish-03', error: 'tile | grid empty\nsecond line' },
      { id: 'cmu-1', ari: 0.3, base: 0.2, real: true },
    ],
    targets,
  );
  run.outcomes[0].result!.checks = [{ id: 'mostly-glass', severity: 'warning', message: 'm', action: 'a' }];
  run.outcomes[1].result!.checks = [{ id: 'loss-flat', severity: 'failed', message: 'm', action: 'a' }];
  run.outcomes[1].result!.notes = 'chose K = 4';
  const lines = renderWorkflow(run).split('\n');
  const row = (start: string) => lines.find((l) => l.startsWith(start)) ?? '';

  it('has a row per variant with value and baseline, times, checks and notes', () => {
    expect(lines[0]).toBe('## CISH expression map');
    expect(lines).toContain('| variant | what varies | ari | workflow s | baseline s | self-checks | notes |');
    expect(row('| cish-01 |')).toBe('| cish-01 | variant cish-01 | 0.912 (baseline 0.840) | 10.0 | 1.0 | mostly-glass | — |');
    expect(row('| cish-02 |')).toContain('| loss-flat (failed) | chose K = 4 |');
  });

  it('shows a variant that threw as failed, with its message on one line', () => {
    expect(row('| cish-03 |')).toBe('| cish-03 | variant cish-03 | failed | — | — | — | **failed** after 3.0 s: tile \\| grid empty second line |');
  });

  it('marks real slides and leaves them out of median and worst', () => {
    expect(row('| cmu-1 (real) |')).toContain('0.300 (baseline 0.200)');
    expect(row('| **median** |')).toBe('| **median** | 3 generated | 0.400 (baseline 0.725) | 10.0 | 1.0 | — | — |');
    expect(row('| **worst** |')).toBe('| **worst** | 3 generated | failed (baseline 0.610) | 10.0 | 1.0 | — | wall times: the longest |');
    expect(lines.join('\n')).toContain('real-slide variants (marked "real") are listed above but not counted');
    // 12 s for each of three variants that ran, 3 s for the one that failed.
    expect(lines.join('\n')).toContain('All 4 variants took 39.0 s (generation, workflow, baseline and scoring).');
  });

  it('lists each target as met or missed with its numbers', () => {
    expect(lines).toContain('- **missed**: median ari ≥ 0.500: 0.400, over 3 generated variants');
    expect(lines).toContain('- **missed**: worst ari ≥ 0.650: failed (cish-03), over 3 generated variants');
    const good = renderWorkflow(workflowRun([{ id: 'a', ari: 0.9 }, { id: 'b', ari: 0.7 }], targets));
    expect(good).toContain('- met: median ari ≥ 0.500: 0.800, over 2 generated variants');
    expect(good).toContain('- met: worst ari ≥ 0.650: 0.700 (b), over 2 generated variants');
    expect(good).not.toContain('missed');
  });

  it('heads the report with date, machine, Node, command and a count of targets', () => {
    const header: ReportHeader = {
      date: new Date('2026-12-07T16:30:00Z'),
      machine: '2 × Test CPU',
      node: 'v20.0.0',
      command: 'npm run eval',
      commit: 'abc1234',
      totalSeconds: 3725,
      remarks: ['not run: nuclei'],
    };
    const md = renderReport(header, [run]);
    expect(md).toContain('- date: 2026-12-07 16:30 UTC\n- machine: 2 × Test CPU\n- Node v20.0.0\n- command: `npm run eval`\n- commit: abc1234\n- total wall time: 1h 02m\n- not run: nuclei');
    expect(md).toContain('Targets: 0 met, 2 missed (cish: median ari ≥ 0.500; cish: worst ari ≥ 0.650). Failed variants: 1.');
    expect(md).not.toContain('Partial report');
    expect(renderReport({ ...header, progress: 'in progress: 1 of 4 variants done' }, [run])).toContain('**Partial report — in progress: 1 of 4 variants done.**');
  });

  it('writes the same data as JSON, with a failed worst case as null', () => {
    const data = JSON.parse(reportJson({ date: new Date(0), machine: 'm', node: 'v', command: 'c' }, [run]));
    expect(data.date).toBe('1970-01-01T00:00:00.000Z');
    const wf = data.workflows[0];
    expect(wf.outcomes[2]).toMatchObject({ error: 'tile | grid empty\nsecond line' });
    expect(wf.summary.targets[1]).toMatchObject({ met: false, observed: null, variantId: 'cish-03' });
    expect(wf.summary.metrics[0].value.median).toBe(0.4);
  });
});

describe('formatNumber', () => {
  it('keeps integers, rounds fractions by size, names the failed case', () => {
    expect([formatNumber(12), formatNumber(0.91234), formatNumber(123.456), formatNumber(12345.6)]).toEqual(['12', '0.912', '123.5', '12346']);
    expect([formatNumber(-Infinity), formatNumber(null), formatNumber(NaN)]).toEqual(['failed', '—', '—']);
  });
});

describe('silentMisses', () => {
  const targets: Target[] = [{ metric: 'ari', over: 'worst', atLeast: 0.65 }];

  it('names a variant below a target that fired no self-check', () => {
    const run = workflowRun([{ id: 'good', ari: 0.9 }, { id: 'quiet-miss', ari: 0.3 }], targets);
    expect(silentMisses(run)).toEqual(['quiet-miss: ari 0.300 < 0.650 and no self-check fired']);
  });

  it('uses the given thresholds instead of the targets', () => {
    const run = workflowRun([{ id: 'weak', ari: 0.5 }, { id: 'wrong', ari: 0.1 }], targets);
    expect(silentMisses(run, { ari: 0.2 })).toEqual(['wrong: ari 0.100 < 0.200 and no self-check fired']);
  });

  it('accepts a miss that a self-check flagged', () => {
    const run = workflowRun([{ id: 'flagged', ari: 0.3 }], targets);
    run.outcomes[0].result!.checks.push({ id: 'loss-flat', severity: 'failed', message: 'flat', action: 'train again' });
    expect(silentMisses(run)).toEqual([]);
  });
});
