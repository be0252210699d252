/**
 * The contract between the evaluation harness (eval/run.ts) and each
 * workflow's evaluation (eval/<workflow>/workflow.ts). A workflow lists its
 * variants (generated inputs that vary what real slides vary, plus the real
 * slides), runs the workflow on one of them exactly as a user would (the
 * command's defaults, no per-input settings), and returns its metrics beside
 * a simple baseline's measured on the same input in the same run.
 */
import type { SelfCheck } from '../src/analysis/self-checks';

export type WorkflowName = 'cish' | 'nuclei' | 'classifier';

export interface EvalVariant {
  /** Unique within the workflow, used in file names: e.g. 'cish-07-dab-weak-jpeg'. */
  id: string;
  /** What varies, in words, for the results table. */
  description: string;
  /** Generator seed. The workflow's unit tests never use these seeds. */
  seed: number;
  /** Part of the reduced suite that CI runs (a few small variants). */
  reduced: boolean;
  /** Real slide (from ../shared/data) rather than a generated one. */
  real?: boolean;
}

export interface MetricValue {
  /** The workflow's value with its defaults. */
  value: number;
  /** The simple baseline's value on the same input, when the metric has one. */
  baseline?: number;
}

export interface VariantResult {
  variant: EvalVariant;
  /** Named metrics, e.g. { ari: {value: 0.91, baseline: 0.84}, rho: {value: 0.95} }. */
  metrics: Record<string, MetricValue>;
  /** Wall time of the workflow itself (not generation, not the baseline), seconds. */
  seconds: number;
  /** Wall time of the baseline, seconds. */
  baselineSeconds?: number;
  /** Self-checks that fired on this run. */
  checks: SelfCheck[];
  /** Free-form notes (what the workflow chose, counts, …). */
  notes?: string;
}

/** A target on the median or the worst case of one metric over the suite's generated variants. */
export interface Target {
  metric: string;
  /** 'median' or 'worst' (the minimum) over the variants. */
  over: 'median' | 'worst';
  /** The value must be at least this. */
  atLeast: number;
  /** Or, relative to the baseline: the value minus the baseline must be at least this (e.g. -0.05). */
  relativeToBaseline?: boolean;
}

export interface EvalContext {
  /** Scratch folder for this variant's generated files and outputs. */
  workDir: string;
  /** Progress lines for the log. */
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface WorkflowEval {
  name: WorkflowName;
  /** Heading of the workflow's section in RESULTS.md. */
  title: string;
  variants(): EvalVariant[];
  run(variant: EvalVariant, context: EvalContext): Promise<VariantResult>;
  targets: Target[];
  /**
   * Set, with the reason, while the workflow's defaults are known to miss
   * its targets (the full run in RESULTS.md shows by how much). CI then
   * cannot hold it to the targets; it holds it to honesty instead: no
   * variant may fail to run, and every variant below `mustFlagBelow` must
   * have fired a self-check (a result that may be wrong says so).
   */
  targetsNotYetMet?: string;
  /**
   * Where a result must have fired a self-check: metric → the value below
   * which it is probably wrong. Default: each absolute target's threshold.
   * (A classifier at 0.75 on two classes is weak, not wrong, and says its
   * accuracy; one at chance must say it learned nothing.)
   */
  mustFlagBelow?: Record<string, number>;
}
