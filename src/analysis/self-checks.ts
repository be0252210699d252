/**
 * Self-checks: plain tests of a finished job's numbers that say when a result
 * may be wrong (the loss did not fall, the codes collapsed, most tiles are
 * glass, a count far from the stain estimate, a class never predicted,
 * training cut by the time cap). Every workflow runs the ones that apply and
 * carries the failures with its result: into summary.json on the command
 * line, into the panel and the map legend in the app. Pure functions, no DOM.
 */

/** 'warning': read the result with care. 'failed': the result is probably wrong. */
export type CheckSeverity = 'warning' | 'failed';

export interface SelfCheck {
  /** Stable identifier (tests, exports, translations). */
  id: SelfCheckId;
  severity: CheckSeverity;
  /** What was seen, with the numbers. */
  message: string;
  /** What the user can do about it. */
  action: string;
}

export type SelfCheckId =
  | 'loss-flat'
  | 'codes-collapsed'
  | 'code-unit-dead'
  | 'mostly-glass'
  | 'count-off-estimate'
  | 'class-never-predicted'
  | 'one-class-predicted'
  | 'accuracy-near-chance'
  | 'time-cap';

/** The worst severity of a list, or null when every check passed. */
export function worstSeverity(checks: readonly SelfCheck[]): CheckSeverity | null {
  if (checks.some((c) => c.severity === 'failed')) return 'failed';
  return checks.length > 0 ? 'warning' : null;
}

/** One line per check, for logs and legends: "failed: the loss did not fall … — train longer …". */
export function describeChecks(checks: readonly SelfCheck[]): string[] {
  return checks.map((c) => `${c.severity}: ${c.message} — ${c.action}`);
}

// ---------------------------------------------------------------- training

export interface LossCheckOptions {
  /**
   * The loss must fall by at least this share of its first value between the
   * first and the best epoch (default 2 %). A stalled autoencoder in the
   * issue's example went 0.0622 → 0.0622 over 70 epochs.
   */
  minRelativeDrop?: number;
  /** Below this many epochs (or steps) nothing is said (default 2). */
  minPoints?: number;
}

/**
 * 'loss-flat' when the loss history (per epoch, or per step for short runs)
 * never fell meaningfully below its first value.
 */
export function checkLossFell(losses: readonly number[], options: LossCheckOptions = {}): SelfCheck | null {
  const minDrop = options.minRelativeDrop ?? 0.02;
  const finite = losses.filter(Number.isFinite);
  if (finite.length < losses.length) {
    return {
      id: 'loss-flat',
      severity: 'failed',
      message: `the training loss became ${losses.find((l) => !Number.isFinite(l))} (not a number)`,
      action: 'lower the learning rate and train again',
    };
  }
  if (finite.length < (options.minPoints ?? 2)) return null;
  const first = finite[0];
  const best = Math.min(...finite);
  const drop = first > 0 ? (first - best) / first : 0;
  if (drop >= minDrop) return null;
  return {
    id: 'loss-flat',
    severity: 'failed',
    message: `the training loss did not fall (${fmt(first)} → best ${fmt(best)}, ${(drop * 100).toFixed(1)} % in ${finite.length} epochs)`,
    action: 'train again with another seed, more epochs or more examples',
  };
}

export interface CodeCheckOptions {
  /**
   * A code unit is dead when its spread (robust: 5th–95th percentile range)
   * is below this share of the widest unit's spread (default 1 %), or when
   * every unit's spread is below `absoluteFloor`.
   */
  relativeFloor?: number;
  /** Spread under which the whole code counts as collapsed (default 1e-4). */
  absoluteFloor?: number;
}

/**
 * 'codes-collapsed' when every item got (nearly) the same code, and
 * 'code-unit-dead' when one latent unit carries nothing while others vary.
 * `codes` is row-major, `dim` values per item.
 */
export function checkCodes(codes: ArrayLike<number>, dim: number, options: CodeCheckOptions = {}): SelfCheck | null {
  const n = Math.floor(codes.length / dim);
  if (n < 2 || dim < 1) return null;
  const spreads: number[] = [];
  for (let d = 0; d < dim; d++) {
    const column = new Float64Array(n);
    for (let i = 0; i < n; i++) column[i] = codes[i * dim + d];
    column.sort();
    spreads.push(column[Math.floor(0.95 * (n - 1))] - column[Math.floor(0.05 * (n - 1))]);
  }
  const widest = Math.max(...spreads);
  const absoluteFloor = options.absoluteFloor ?? 1e-4;
  if (!(widest > absoluteFloor)) {
    return {
      id: 'codes-collapsed',
      severity: 'failed',
      message: `the latent codes collapsed: all ${n} items got nearly the same code (spread ${widest.toExponential(1)})`,
      action: 'train again with another seed; the clusters of collapsed codes do not follow the image',
    };
  }
  const relativeFloor = options.relativeFloor ?? 0.01;
  const dead = spreads.map((s, d) => (s < relativeFloor * widest ? d : -1)).filter((d) => d >= 0);
  if (dead.length === 0) return null;
  return {
    id: 'code-unit-dead',
    severity: 'warning',
    message: `latent unit${dead.length > 1 ? 's' : ''} ${dead.join(', ')} of ${dim} carr${dead.length > 1 ? 'y' : 'ies'} almost nothing (spread under ${relativeFloor * 100} % of the widest)`,
    action: 'the map rests on fewer dimensions than the model has; train again with another seed if the clusters look wrong',
  };
}

/**
 * 'time-cap' when training ended at its time limit. `affects` names what the
 * training is for, when that is less than the whole result (e.g. only the
 * codes that describe each item), so the warning does not cast doubt on the rest.
 */
export function checkTimeCap(stoppedByCap: boolean, minutes: number, affects?: string): SelfCheck | null {
  if (!stoppedByCap) return null;
  return {
    id: 'time-cap',
    severity: 'warning',
    message: `training stopped at the time cap (${fmt(minutes)} min) before the loss settled${affects ? `; this affects ${affects}` : ''}`,
    action: 'raise the time cap or the epochs to train until the loss settles',
  };
}

// ---------------------------------------------------------------- tiles

export interface GlassCheckOptions {
  /** A tile is "partly glass" below this tissue share (default 0.9). */
  partlyBelow?: number;
  /** Warn when more than this share of the tiles is partly glass (default 0.5). */
  maxShare?: number;
}

/** 'mostly-glass' when most kept tiles hold a good deal of glass: codes then learn the glass share. */
export function checkGlass(tissueFractions: ArrayLike<number>, options: GlassCheckOptions = {}): SelfCheck | null {
  const n = tissueFractions.length;
  if (n === 0) return null;
  const below = options.partlyBelow ?? 0.9;
  let partly = 0;
  for (let i = 0; i < n; i++) if (tissueFractions[i] < below) partly++;
  const share = partly / n;
  if (share <= (options.maxShare ?? 0.5)) return null;
  return {
    id: 'mostly-glass',
    severity: 'warning',
    message: `${(share * 100).toFixed(0)} % of the ${n} tiles are partly glass (under ${(below * 100).toFixed(0)} % tissue)`,
    action: 'raise the minimum tissue fraction or use smaller tiles, so that clusters follow the stain rather than the glass',
  };
}

// ---------------------------------------------------------------- counts

export interface CountCheckOptions {
  /** Warn when the count is outside [estimate / factor, estimate × factor] (default 2). */
  factor?: number;
  /** Fail outside [estimate / failFactor, estimate × failFactor] (default 4). */
  failFactor?: number;
  /** What the estimate comes from, for the message (default 'the stain estimate'). */
  estimateName?: string;
}

/** 'count-off-estimate' when a detection count is far from an independent estimate. */
export function checkCount(count: number, estimate: number, options: CountCheckOptions = {}): SelfCheck | null {
  if (!(estimate > 0) || !Number.isFinite(count)) return null;
  const factor = options.factor ?? 2;
  const failFactor = options.failFactor ?? 4;
  const ratio = Math.max(count, 0.5) / estimate;
  if (ratio >= 1 / factor && ratio <= factor) return null;
  const failed = ratio < 1 / failFactor || ratio > failFactor;
  const name = options.estimateName ?? 'the stain estimate';
  return {
    id: 'count-off-estimate',
    severity: failed ? 'failed' : 'warning',
    message: `${count} detections, ${ratio < 1 ? 'far below' : 'far above'} ${name} of about ${Math.round(estimate)} (${ratio.toFixed(2)}×)`,
    action: ratio < 1 ? 'train longer or lower the detection threshold' : 'raise the detection threshold or the minimum distance',
  };
}

// ---------------------------------------------------------------- classes

/**
 * 'one-class-predicted' (failed) when every item got the same class, else
 * 'class-never-predicted' (warning) naming the classes that never came up.
 */
export function checkPredictedClasses(predicted: ArrayLike<number>, classNames: readonly string[]): SelfCheck | null {
  if (predicted.length === 0 || classNames.length < 2) return null;
  const counts = new Array<number>(classNames.length).fill(0);
  for (let i = 0; i < predicted.length; i++) {
    const c = predicted[i];
    if (c >= 0 && c < counts.length) counts[c]++;
  }
  const used = counts.filter((c) => c > 0).length;
  if (used === 1) {
    const only = classNames[counts.findIndex((c) => c > 0)];
    return {
      id: 'one-class-predicted',
      severity: 'failed',
      message: `every one of the ${predicted.length} items was predicted "${only}"`,
      action: 'the classifier did not learn to separate the classes: train longer, add examples, or check the labels',
    };
  }
  const never = classNames.filter((_, k) => counts[k] === 0);
  if (never.length === 0) return null;
  return {
    id: 'class-never-predicted',
    severity: 'warning',
    message: `class${never.length > 1 ? 'es' : ''} ${never.map((n) => `"${n}"`).join(', ')} never predicted in ${predicted.length} items`,
    action: 'check that class on its examples; add examples of it or train longer',
  };
}

export interface ChanceCheckOptions {
  /** Fail when held-out accuracy is below the majority class's share plus this (default 0.05). */
  margin?: number;
  /** Say nothing about fewer held-out items (default 10). */
  minItems?: number;
}

/**
 * 'accuracy-near-chance' when a classifier's held-out accuracy is no better
 * than always answering the commonest class: it learned nothing usable,
 * even when it does predict every class.
 */
export function checkAboveChance(predicted: ArrayLike<number>, actual: ArrayLike<number>, options: ChanceCheckOptions = {}): SelfCheck | null {
  const n = Math.min(predicted.length, actual.length);
  if (n < (options.minItems ?? 10)) return null;
  let correct = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (predicted[i] === actual[i]) correct++;
    counts.set(actual[i], (counts.get(actual[i]) ?? 0) + 1);
  }
  const accuracy = correct / n;
  const chance = Math.max(...counts.values()) / n;
  if (accuracy >= chance + (options.margin ?? 0.05)) return null;
  return {
    id: 'accuracy-near-chance',
    severity: 'failed',
    message: `held-out accuracy ${accuracy.toFixed(3)} is no better than always answering the commonest class (${chance.toFixed(3)}) on ${n} items`,
    action: 'the classifier learned nothing usable: add examples, train longer, or allow more time',
  };
}

/** Collects the checks that fired, dropping the nulls. */
export function firedChecks(...checks: ReadonlyArray<SelfCheck | null | undefined>): SelfCheck[] {
  return checks.filter((c): c is SelfCheck => !!c);
}

function fmt(x: number): string {
  return Math.abs(x) >= 0.01 ? x.toFixed(4) : x.toPrecision(3);
}
