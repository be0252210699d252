/**
 * The evaluation runner (issue 15): runs every selected variant of every
 * registered workflow, one after the other, each in its own scratch folder; a
 * variant that throws is recorded as failed and the run goes on. Writes
 * RESULTS.md and results.json after every variant, so a run cut short still
 * leaves its figures. `npm run eval` reaches it through eval/run.eval.ts
 * (under Vitest, so that imports resolve exactly as in the app's tests).
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvalVariant, WorkflowEval, WorkflowName } from './types';
import { formatDuration, formatNumber, renderReport, reportJson, suiteProblems, type ReportHeader, type VariantOutcome, type WorkflowRun } from './report';
import type { Target } from './types';
import { WORKFLOW_NAMES, isRegistered, loadWorkflow, workflowPath } from './workflows';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Scratch folders and partial reports (gitignored). */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'eval');

export interface EvalOptions {
  /** Workflows to run; undefined: every registered one. */
  workflows?: WorkflowName[];
  /** Variant ids to run; undefined: all of them. */
  variants?: string[];
  /** Only the variants marked reduced (CI's suite). */
  reduced: boolean;
  /** Folder that receives RESULTS.md and results.json. */
  outDir: string;
  /** Parent of the per-variant scratch folders. */
  scratchRoot: string;
  /** Keep the scratch folders of variants that succeeded (failed ones are always kept). */
  keepScratch: boolean;
}

function list(value: string | undefined): string[] | undefined {
  const items = value?.split(',').map((s) => s.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

function flag(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Options from EVAL_WORKFLOWS, EVAL_VARIANTS, EVAL_REDUCED, EVAL_OUT and
 * EVAL_KEEP (Vitest owns the command line). Only a full run writes to eval/
 * by default, so that the committed RESULTS.md always holds a whole suite.
 */
export function evalOptionsFromEnv(env: Record<string, string | undefined> = process.env): EvalOptions {
  const workflows = list(env.EVAL_WORKFLOWS);
  for (const w of workflows ?? []) {
    if (!(WORKFLOW_NAMES as readonly string[]).includes(w)) {
      throw new Error(`EVAL_WORKFLOWS: unknown workflow "${w}" (known: ${WORKFLOW_NAMES.join(', ')})`);
    }
  }
  const variants = list(env.EVAL_VARIANTS);
  const reduced = flag(env.EVAL_REDUCED);
  const partial = workflows !== undefined || variants !== undefined || reduced;
  const outDir = env.EVAL_OUT
    ? path.resolve(REPO_ROOT, env.EVAL_OUT)
    : partial
      ? path.join(CACHE_DIR, 'results')
      : path.join(REPO_ROOT, 'eval');
  return {
    workflows: workflows as WorkflowName[] | undefined,
    variants,
    reduced,
    outDir,
    scratchRoot: path.join(CACHE_DIR, 'work'),
    keepScratch: flag(env.EVAL_KEEP),
  };
}

/** The command that reproduces a run with these options, for the report's heading. */
export function commandLine(options: Pick<EvalOptions, 'workflows' | 'variants' | 'reduced'>): string {
  const env: string[] = [];
  if (options.workflows) env.push(`EVAL_WORKFLOWS=${options.workflows.join(',')}`);
  if (options.variants) env.push(`EVAL_VARIANTS=${options.variants.join(',')}`);
  if (options.reduced) env.push('EVAL_REDUCED=1');
  return [...env, 'npm run eval'].join(' ');
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The variants of a workflow that these options select; checks that ids are unique and usable as folder names. */
export function selectVariants(workflow: WorkflowEval, options: Pick<EvalOptions, 'variants' | 'reduced'>): EvalVariant[] {
  const all = workflow.variants();
  const seen = new Set<string>();
  for (const v of all) {
    if (!SAFE_ID.test(v.id)) throw new Error(`${workflow.name}: variant id "${v.id}" is not usable as a folder name`);
    if (seen.has(v.id)) throw new Error(`${workflow.name}: variant id "${v.id}" appears twice`);
    seen.add(v.id);
  }
  return all.filter((v) => (!options.reduced || v.reduced) && (!options.variants || options.variants.includes(v.id)));
}

export interface RunWorkflowOptions {
  variants: EvalVariant[];
  scratchRoot: string;
  keepScratch: boolean;
  /** Progress lines (the runner adds the workflow and variant). */
  log: (line: string) => void;
  /** Called after each variant with the run so far (for partial reports). */
  onVariantDone?: (run: WorkflowRun) => void;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Runs the given variants of one workflow; errors fail their variant only. */
export async function runWorkflow(workflow: WorkflowEval, options: RunWorkflowOptions): Promise<WorkflowRun> {
  const run: WorkflowRun = { name: workflow.name, title: workflow.title, targets: workflow.targets, outcomes: [] };
  const n = options.variants.length;
  for (const [i, variant] of options.variants.entries()) {
    const workDir = path.join(options.scratchRoot, workflow.name, variant.id);
    // A fresh folder: files left by an earlier run must not be read as this run's.
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const tag = `${workflow.name} ${variant.id} (${i + 1}/${n})`;
    options.log(`${tag}: start — ${variant.description}`);
    const started = performance.now();
    let outcome: VariantOutcome;
    try {
      const result = await workflow.run(variant, { workDir, log: (line) => options.log(`${tag}: ${line}`) });
      outcome = { variant, result: { ...result, variant }, totalSeconds: (performance.now() - started) / 1000 };
      const metrics = Object.entries(result.metrics)
        .map(([k, m]) => `${k} ${formatNumber(m.value)}${m.baseline === undefined ? '' : ` (baseline ${formatNumber(m.baseline)})`}`)
        .join(', ');
      const checks = result.checks.length ? `; checks: ${result.checks.map((c) => c.id).join(', ')}` : '';
      options.log(`${tag}: done in ${formatDuration(outcome.totalSeconds)} — ${metrics}${checks}`);
      if (!options.keepScratch) rmSync(workDir, { recursive: true, force: true });
    } catch (e) {
      outcome = { variant, error: errorMessage(e), totalSeconds: (performance.now() - started) / 1000 };
      options.log(`${tag}: FAILED after ${formatDuration(outcome.totalSeconds)}: ${outcome.error} (files kept in ${workDir})`);
      if (process.env.TILESCOPE_DEBUG && e instanceof Error && e.stack) options.log(e.stack);
    }
    run.outcomes.push(outcome);
    options.onVariantDone?.(run);
  }
  return run;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Processor model and count, OS, memory: the "machine" line of the report. */
export function machineDescription(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${cpus.length} × ${model} (${os.platform()} ${os.arch()}, ${gib} GiB memory)`;
}

/** Short commit id, with a remark when the tree has uncommitted changes; undefined outside git. */
export function currentCommit(): string | undefined {
  try {
    const git = (args: string[]) =>
      execFileSync('git', ['--no-optional-locks', ...args], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const id = git(['rev-parse', '--short', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${id} (with uncommitted changes)` : id;
  } catch {
    return undefined;
  }
}

/** "[eval 1h 02m] …" lines on stderr, and the same in .cache/eval/eval.log. */
export function progressLog(started = performance.now(), logFile: string | null = path.join(CACHE_DIR, 'eval.log')) {
  if (logFile) mkdirSync(path.dirname(logFile), { recursive: true });
  return (line: string) => {
    const text = `[eval ${formatDuration((performance.now() - started) / 1000)}] ${line}\n`;
    process.stderr.write(text);
    if (logFile) appendFileSync(logFile, text);
  };
}

export interface ReportFiles {
  markdown: string;
  json: string;
}

export function writeReport(outDir: string, header: ReportHeader, runs: readonly WorkflowRun[]): ReportFiles {
  mkdirSync(outDir, { recursive: true });
  const files = { markdown: path.join(outDir, 'RESULTS.md'), json: path.join(outDir, 'results.json') };
  writeFileSync(files.markdown, renderReport(header, runs));
  writeFileSync(files.json, reportJson(header, runs));
  return files;
}

export interface SuiteResult {
  runs: WorkflowRun[];
  files: ReportFiles;
  /** Per workflow, what missed (see suiteProblems) or that it was not run; empty lists when all passed. */
  problems: Map<string, string[]>;
}

/**
 * Runs the suite these options select and writes the report. `workflows`
 * defaults to the registered ones (eval/workflows.ts); tests pass their own.
 */
export async function runSuite(
  options: EvalOptions,
  workflows?: WorkflowEval[],
  log: (line: string) => void = progressLog(),
): Promise<SuiteResult> {
  const remarks: string[] = [];
  const missing: string[] = [];
  if (!workflows) {
    const wanted = options.workflows ?? WORKFLOW_NAMES;
    missing.push(...wanted.filter((w) => !isRegistered(w)));
    if (options.workflows && missing.length) {
      throw new Error(`not registered yet: ${missing.map(workflowPath).join(', ')}`);
    }
    for (const w of missing) {
      remarks.push(`not run: ${w} (${workflowPath(w)} does not exist yet)`);
      log(`skipping ${w}: ${workflowPath(w)} does not exist yet`);
    }
    workflows = [];
    for (const w of wanted.filter(isRegistered)) workflows.push(await loadWorkflow(w));
  }
  // Select everything first: a mistyped variant id stops the run before hours of work, not after.
  const plan = workflows.map((w) => ({ workflow: w, variants: selectVariants(w, options) }));
  const unknown = (options.variants ?? []).filter((id) => !plan.some((p) => p.variants.some((v) => v.id === id)));
  if (unknown.length) {
    const known = plan.flatMap((p) => p.workflow.variants().map((v) => v.id));
    throw new Error(`EVAL_VARIANTS: no selected workflow has ${unknown.join(', ')}${options.reduced ? ' among its reduced variants' : ''} (known: ${known.join(', ')})`);
  }
  const chosen = plan.filter((p) => p.variants.length > 0 || !options.variants);
  const total = chosen.reduce((n, p) => n + p.variants.length, 0);

  const header: ReportHeader = {
    date: new Date(),
    machine: machineDescription(),
    node: process.version,
    command: commandLine(options),
    commit: currentCommit(),
    remarks,
  };
  const started = performance.now();
  const runs: WorkflowRun[] = [];
  let done = 0;
  let files = writeReport(options.outDir, { ...header, progress: `in progress: 0 of ${total} variants done` }, runs);
  log(`${plural(total, 'variant')} in ${plural(chosen.length, 'workflow')}; report: ${files.markdown}`);
  for (const { workflow, variants } of chosen) {
    const partialRuns = (current: WorkflowRun) => [...runs, current];
    const run = await runWorkflow(workflow, {
      variants,
      scratchRoot: options.scratchRoot,
      keepScratch: options.keepScratch,
      log,
      onVariantDone: (current) => {
        done++;
        writeReport(options.outDir, { ...header, progress: `in progress: ${done} of ${total} variants done` }, partialRuns(current));
      },
    });
    runs.push(run);
  }
  files = writeReport(options.outDir, { ...header, totalSeconds: (performance.now() - started) / 1000 }, runs);
  const problems = new Map(runs.map((r) => [r.name, suiteProblems(r)]));
  // The whole suite was asked for: a workflow left out makes it incomplete.
  for (const w of missing) problems.set(w, [`not run: ${workflowPath(w)} does not exist yet`]);
  for (const [name, list] of problems) {
    log(list.length ? `${name}: ${list.length} problem(s)\n  ${list.join('\n  ')}` : `${name}: every target met`);
  }
  log(`report written: ${files.markdown} and ${path.basename(files.json)}`);
  return { runs, files, problems };
}


/** A report's results.json read back: its heading and its workflows' runs. */
export function readReport(jsonFile: string): { header: ReportHeader; runs: WorkflowRun[] } {
  const data = JSON.parse(readFileSync(jsonFile, 'utf8')) as Omit<ReportHeader, 'date'> & {
    date: string;
    workflows: Array<{ name: string; title: string; targets: Target[]; outcomes: VariantOutcome[] }>;
  };
  const { workflows, date, ...rest } = data;
  return {
    header: { ...rest, date: new Date(date) },
    runs: workflows.map(({ name, title, targets, outcomes }) => ({ name, title, targets, outcomes })),
  };
}

/**
 * One report from runs made by separate processes at the same time (e.g.
 * one per core: a Node process trains on one core), as if one run had made
 * them. A workflow may be split between runs by EVAL_VARIANTS: its variants
 * are put back together in id order. Refuses a partial run, or a variant
 * twice.
 */
export function mergeReports(dirs: readonly string[], outDir: string): SuiteResult {
  const parts = dirs.map((dir) => ({ dir, ...readReport(path.join(dir, 'results.json')) }));
  const unfinished = parts.filter((p) => p.header.progress || p.header.totalSeconds === undefined).map((p) => p.dir);
  if (unfinished.length) throw new Error(`EVAL_MERGE: ${unfinished.join(', ')} did not finish`);
  const byName = new Map<string, WorkflowRun>();
  for (const run of parts.flatMap((p) => p.runs)) {
    const seen = byName.get(run.name);
    if (seen === undefined) byName.set(run.name, { ...run, outcomes: [...run.outcomes] });
    else seen.outcomes.push(...run.outcomes);
  }
  const runs = [...byName.values()];
  const ids = runs.flatMap((r) => r.outcomes.map((o) => `${r.name}/${o.variant.id}`));
  const twice = ids.filter((n, i) => ids.indexOf(n) !== i);
  if (twice.length) throw new Error(`EVAL_MERGE: ${[...new Set(twice)].join(', ')} appear in more than one run`);
  for (const run of runs) run.outcomes.sort((a, b) => a.variant.id.localeCompare(b.variant.id));
  const first = parts.reduce((a, b) => (a.header.date <= b.header.date ? a : b)).header;
  const endOf = (h: ReportHeader) => h.date.getTime() + h.totalSeconds! * 1000;
  const span = (Math.max(...parts.map((p) => endOf(p.header))) - first.date.getTime()) / 1000;
  const commits = [...new Set(parts.map((p) => p.header.commit ?? 'unknown'))];
  const clock = (d: Date) => d.toISOString().slice(11, 16);
  const header: ReportHeader = {
    date: first.date,
    machine: first.machine,
    node: first.node,
    command: `${parts.map((p) => p.header.command.replace(/ npm run eval$/, ` EVAL_OUT=${path.relative(REPO_ROOT, p.dir)} npm run eval`)).join('; ')}; then EVAL_MERGE=${dirs.map((d) => path.relative(REPO_ROOT, d)).join(',')} npm run eval`,
    commit: commits.join(', '),
    totalSeconds: span,
    remarks: [
      `${parts.length} runs made as separate processes (each trains on one core), some at the same time, then merged; ` +
        `the wall time runs from the first start to the last end (${parts.map((p) => `${p.runs.map((r) => `${r.name} (${r.outcomes.length} variant${r.outcomes.length === 1 ? '' : 's'})`).join(', ')} ${clock(p.header.date)}–${clock(new Date(endOf(p.header)))} UTC, ${formatDuration(p.header.totalSeconds!)}`).join('; ')})`,
      ...parts.flatMap((p) => p.header.remarks ?? []),
    ],
  };
  const files = writeReport(outDir, header, runs);
  return { runs, files, problems: new Map(runs.map((r) => [r.name, suiteProblems(r)])) };
}
