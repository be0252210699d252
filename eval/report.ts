/**
 * Summaries and reports of an evaluation run (issue 15): the median and the
 * worst case of every metric over a workflow's generated variants, the
 * targets met or missed, and RESULTS.md / results.json. Pure functions: the
 * runner (eval/run.ts) gathers the outcomes and the machine's description.
 */
import type { EvalVariant, Target, VariantResult } from './types';

/** One variant's run: its result, or the error that stopped it. */
export interface VariantOutcome {
  variant: EvalVariant;
  result?: VariantResult;
  /** Set when run() threw: the variant failed. */
  error?: string;
  /** Wall time of the whole variant (generation, workflow, baseline, scoring), seconds. */
  totalSeconds: number;
}

export interface WorkflowRun {
  name: string;
  title: string;
  targets: Target[];
  outcomes: VariantOutcome[];
}

/** Median and worst of one series; null when the series is empty. */
export interface SeriesSummary {
  count: number;
  median: number | null;
  worst: number | null;
  /** The variant that gave the worst value. */
  worstVariant?: string;
}

export interface MetricSummary {
  metric: string;
  value: SeriesSummary;
  baseline: SeriesSummary;
}

export interface TargetOutcome {
  target: Target;
  /** The median or worst value (or value − baseline); null when no variant had the metric. */
  observed: number | null;
  /** For worst-case targets: the variant that gave it. */
  variantId?: string;
  /** Generated variants that entered the statistic (failed ones included). */
  count: number;
  met: boolean;
}

export interface WorkflowSummary {
  name: string;
  generatedCount: number;
  realCount: number;
  /** Ids of variants whose run threw. */
  failed: string[];
  metrics: MetricSummary[];
  seconds: SeriesSummary & { longest: number | null };
  baselineSeconds: SeriesSummary & { longest: number | null };
  /** Wall time of every variant together (generation, workflow, baseline, scoring), seconds. */
  totalSeconds: number;
  targets: TargetOutcome[];
}

// Rounding in value − baseline (0.85 − 0.80 = 0.04999…) must not miss a target.
const TARGET_TOLERANCE = 1e-9;

/**
 * The metrics of a run in the order they first appear, then any target
 * metric no variant reported (so that its column shows the gap).
 */
export function metricNames(run: WorkflowRun): string[] {
  const names: string[] = [];
  for (const o of run.outcomes) {
    for (const m of Object.keys(o.result?.metrics ?? {})) if (!names.includes(m)) names.push(m);
  }
  for (const t of run.targets) if (!names.includes(t.metric)) names.push(t.metric);
  return names;
}

interface Sample {
  value: number;
  variantId: string;
}

/** Median (mean of the two middle values for an even count) and minimum. */
export function summarizeSeries(samples: readonly Sample[]): SeriesSummary {
  if (samples.length === 0) return { count: 0, median: null, worst: null };
  // Not a - b: −∞ − −∞ is NaN.
  const sorted = [...samples].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid].value : (sorted[mid - 1].value + sorted[mid].value) / 2;
  return { count: sorted.length, median, worst: sorted[0].value, worstVariant: sorted[0].variantId };
}

function isGenerated(o: VariantOutcome): boolean {
  return !o.variant.real;
}

/**
 * The samples of one metric over the generated variants. A failed variant
 * counts as the worst possible value (−∞): a crash must never help a target.
 * A variant that ran but does not report the metric is left out (a workflow
 * may report a metric only on some of its variants).
 */
function metricSamples(run: WorkflowRun, pick: (r: VariantResult) => number | undefined, failedAs: number | null): Sample[] {
  const samples: Sample[] = [];
  for (const o of run.outcomes) {
    if (!isGenerated(o)) continue;
    if (!o.result) {
      if (failedAs !== null) samples.push({ value: failedAs, variantId: o.variant.id });
      continue;
    }
    const v = pick(o.result);
    if (v !== undefined) samples.push({ value: v, variantId: o.variant.id });
  }
  return samples;
}

function timeSummary(samples: Sample[]): SeriesSummary & { longest: number | null } {
  const s = summarizeSeries(samples);
  return { ...s, longest: samples.length ? Math.max(...samples.map((x) => x.value)) : null };
}

export function evaluateTarget(run: WorkflowRun, target: Target): TargetOutcome {
  const samples = metricSamples(
    run,
    (r) => {
      const m = r.metrics[target.metric];
      if (!m) return undefined;
      if (!target.relativeToBaseline) return m.value;
      return m.baseline === undefined ? undefined : m.value - m.baseline;
    },
    -Infinity,
  );
  const s = summarizeSeries(samples);
  const observed = target.over === 'median' ? s.median : s.worst;
  return {
    target,
    observed,
    variantId: target.over === 'worst' ? s.worstVariant : undefined,
    count: s.count,
    // A target no variant could be measured on is not met.
    met: observed !== null && observed >= target.atLeast - TARGET_TOLERANCE,
  };
}

export function summarizeWorkflow(run: WorkflowRun): WorkflowSummary {
  const metrics = metricNames(run).map((metric) => ({
    metric,
    value: summarizeSeries(metricSamples(run, (r) => r.metrics[metric]?.value, -Infinity)),
    // The baseline's series leaves failed variants out: their baseline was not measured either.
    baseline: summarizeSeries(metricSamples(run, (r) => r.metrics[metric]?.baseline, null)),
  }));
  return {
    name: run.name,
    generatedCount: run.outcomes.filter(isGenerated).length,
    realCount: run.outcomes.filter((o) => !isGenerated(o)).length,
    failed: run.outcomes.filter((o) => !o.result).map((o) => o.variant.id),
    metrics,
    seconds: timeSummary(metricSamples(run, (r) => r.seconds, null)),
    baselineSeconds: timeSummary(metricSamples(run, (r) => r.baselineSeconds, null)),
    totalSeconds: run.outcomes.reduce((t, o) => t + o.totalSeconds, 0),
    targets: run.targets.map((t) => evaluateTarget(run, t)),
  };
}

/**
 * What makes a (reduced) suite fail: missed targets, failed variants, and a
 * run that could not fail (no variants or no targets). Empty when it passes.
 */
export function suiteProblems(run: WorkflowRun, summary: WorkflowSummary = summarizeWorkflow(run)): string[] {
  const problems: string[] = [];
  if (run.outcomes.length === 0) problems.push('no variants were run');
  if (run.targets.length === 0) problems.push('the workflow declares no targets');
  for (const o of run.outcomes) if (!o.result) problems.push(`${o.variant.id} failed: ${o.error ?? 'unknown error'}`);
  for (const t of summary.targets) if (!t.met) problems.push(`missed: ${describeTargetOutcome(t)}`);
  return problems;
}

// ---------------------------------------------------------------- text

/** Metric values: three decimals, fewer for large numbers; −∞ (a failed variant) as "failed". */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (x === -Infinity) return 'failed';
  if (x === Infinity) return '∞';
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return x.toFixed(a >= 1000 ? 0 : a >= 100 ? 1 : 3);
}

export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  return s >= 100 ? s.toFixed(0) : s.toFixed(1);
}

/** "1h 02m", "12m 03s", "4.2 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s).padStart(2, '0')}s`;
}

export function describeTarget(t: Target): string {
  const quantity = t.relativeToBaseline ? `${t.metric} − baseline` : t.metric;
  return `${t.over} ${quantity} ≥ ${formatNumber(t.atLeast)}`;
}

export function describeTargetOutcome(t: TargetOutcome): string {
  const where = t.variantId ? ` (${t.variantId})` : '';
  const what = t.observed === null ? 'no variant reported it' : `${formatNumber(t.observed)}${where}`;
  return `${describeTarget(t.target)}: ${what}, over ${t.count} generated variant${t.count === 1 ? '' : 's'}`;
}

/** Table cells: no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim() || '—';
}

function valueCell(value: number | null | undefined, baseline: number | null | undefined): string {
  const v = formatNumber(value);
  return baseline === null || baseline === undefined ? v : `${v} (baseline ${formatNumber(baseline)})`;
}

function checksCell(result: VariantResult): string {
  return result.checks.map((c) => (c.severity === 'failed' ? `${c.id} (failed)` : c.id)).join(', ');
}

/** One workflow's section: the per-variant table, median and worst, and the targets. */
export function renderWorkflow(run: WorkflowRun, summary: WorkflowSummary = summarizeWorkflow(run)): string {
  const metrics = metricNames(run);
  const lines: string[] = [`## ${run.title}`, ''];
  const header = ['variant', 'what varies', ...metrics, 'workflow s', 'baseline s', 'self-checks', 'notes'];
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  for (const o of run.outcomes) {
    const id = o.variant.real ? `${o.variant.id} (real)` : o.variant.id;
    const r = o.result;
    const row = r
      ? [
          id,
          o.variant.description,
          ...metrics.map((m) => valueCell(r.metrics[m]?.value, r.metrics[m]?.baseline)),
          formatSeconds(r.seconds),
          formatSeconds(r.baselineSeconds),
          checksCell(r),
          r.notes ?? '',
        ]
      : [
          id,
          o.variant.description,
          ...metrics.map(() => 'failed'),
          '—',
          '—',
          '',
          `**failed** after ${formatSeconds(o.totalSeconds)} s: ${o.error ?? 'unknown error'}`,
        ];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  const byMetric = new Map(summary.metrics.map((m) => [m.metric, m]));
  const statRow = (label: string, pick: 'median' | 'worst') => {
    const row = [
      `**${label}**`,
      `${summary.generatedCount} generated`,
      ...metrics.map((m) => {
        const s = byMetric.get(m);
        return valueCell(s?.value[pick], s?.baseline[pick]);
      }),
      formatSeconds(pick === 'median' ? summary.seconds.median : summary.seconds.longest),
      formatSeconds(pick === 'median' ? summary.baselineSeconds.median : summary.baselineSeconds.longest),
      '',
      pick === 'worst' ? 'wall times: the longest' : '',
    ];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  };
  statRow('median', 'median');
  statRow('worst', 'worst');
  lines.push('');
  const notes = [
    `Median and worst (the minimum) over the ${summary.generatedCount} generated variant${summary.generatedCount === 1 ? '' : 's'}`,
    summary.realCount > 0 ? `; real-slide variants (marked "real") are listed above but not counted` : '',
    summary.failed.length > 0 ? `; a failed variant counts as the worst possible value (failed: ${summary.failed.join(', ')})` : '',
    '.',
    ` All ${run.outcomes.length} variant${run.outcomes.length === 1 ? '' : 's'} took ${formatDuration(summary.totalSeconds)}`,
    ' (generation, workflow, baseline and scoring).',
  ];
  lines.push(notes.join(''), '');
  lines.push('Targets:', '');
  if (summary.targets.length === 0) lines.push('- (none declared)');
  for (const t of summary.targets) lines.push(`- ${t.met ? 'met' : '**missed**'}: ${describeTargetOutcome(t)}`);
  lines.push('');
  return lines.join('\n');
}

export interface ReportHeader {
  /** When the run started. */
  date: Date;
  /** e.g. "2 × Intel(R) Xeon(R) … (linux x64)". */
  machine: string;
  /** process.version. */
  node: string;
  /** The command that produced the report, as a user would type it. */
  command: string;
  /** Commit the run was made from, when known. */
  commit?: string;
  /** Total wall time, seconds (absent while the run goes on). */
  totalSeconds?: number;
  /** Set while the run goes on, e.g. "in progress: 5 of 40 variants done". */
  progress?: string;
  /** Extra lines, e.g. workflows that were not run. */
  remarks?: string[];
}

export function renderReport(header: ReportHeader, runs: readonly WorkflowRun[]): string {
  const summaries = runs.map((r) => summarizeWorkflow(r));
  const lines = ['# Evaluation results', ''];
  if (header.progress) lines.push(`**Partial report — ${header.progress}.**`, '');
  lines.push(
    `- date: ${header.date.toISOString().replace('T', ' ').slice(0, 16)} UTC`,
    `- machine: ${header.machine}`,
    `- Node ${header.node}`,
    `- command: \`${header.command}\``,
  );
  if (header.commit) lines.push(`- commit: ${header.commit}`);
  if (header.totalSeconds !== undefined) lines.push(`- total wall time: ${formatDuration(header.totalSeconds)}`);
  for (const r of header.remarks ?? []) lines.push(`- ${r}`);
  lines.push('');
  const missed = summaries.flatMap((s) => s.targets.filter((t) => !t.met).map((t) => `${s.name}: ${describeTarget(t.target)}`));
  const failed = summaries.reduce((n, s) => n + s.failed.length, 0);
  lines.push(
    `Targets: ${summaries.reduce((n, s) => n + s.targets.length, 0) - missed.length} met, ${missed.length} missed` +
      (missed.length ? ` (${missed.join('; ')})` : '') +
      `. Failed variants: ${failed}.`,
    '',
  );
  lines.push(
    'Each metric is shown as "workflow value (baseline value)", both measured on the same input in the same run; ' +
      'the workflow runs with its defaults only. Wall times are in seconds.',
    '',
  );
  runs.forEach((r, i) => lines.push(renderWorkflow(r, summaries[i])));
  return lines.join('\n');
}

/** The same data for machines; −∞ and other non-finite numbers become null. */
export function reportJson(header: ReportHeader, runs: readonly WorkflowRun[]): string {
  const data = {
    ...header,
    date: header.date.toISOString(),
    workflows: runs.map((r) => ({ ...r, summary: summarizeWorkflow(r) })),
  };
  return JSON.stringify(data, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/**
 * Variants that fall below a threshold (`thresholds`, metric → value; by
 * default each absolute target's) while no self-check fired: results that
 * look confident and are not. Failed variants are listed by suiteProblems.
 */
export function silentMisses(run: WorkflowRun, thresholds?: Record<string, number>): string[] {
  const limits = Object.entries(thresholds ?? Object.fromEntries(run.targets.filter((t) => !t.relativeToBaseline).map((t) => [t.metric, t.atLeast])));
  const out: string[] = [];
  for (const outcome of run.outcomes) {
    const result = outcome.result;
    if (!result || result.checks.length > 0) continue;
    for (const [metric, limit] of limits) {
      const value = result.metrics[metric]?.value;
      if (value !== undefined && value < limit) {
        out.push(`${outcome.variant.id}: ${metric} ${formatNumber(value)} < ${formatNumber(limit)} and no self-check fired`);
        break;
      }
    }
  }
  return out;
}
