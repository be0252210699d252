/**
 * Self-checks of a classifier run (issue 15, item 5): the plain tests that
 * say when a trained classifier or a class map may be wrong. The CLI
 * (train-classifier's metrics.json, classify's summary.json) and the app's
 * worker call the same functions, so both say the same thing.
 */
import { checkAboveChance, checkLossFell, checkPredictedClasses, checkTimeCap, firedChecks, type SelfCheck } from '../../analysis/self-checks';
import type { EpochSummary } from '../../engine/train';

export interface ClassifierRunFacts {
  /** Per-epoch history (the loop's): the validation cross-entropy when there is one, else the training loss. */
  history: ReadonlyArray<Pick<EpochSummary, 'loss'> & { valLoss?: number | null }>;
  /** Predicted classes of the held-out test examples (or any examples the run was scored on). */
  predicted: ArrayLike<number>;
  classes: readonly string[];
  /** Whether training ended because the time cap was reached rather than by early stopping or the epoch count. */
  stoppedByTimeCap: boolean;
  /** The cap, in minutes (for the message). */
  timeCapMinutes: number;
  /** True classes of the same examples as `predicted`, when known: enables the near-chance check. */
  actual?: ArrayLike<number>;
}

/**
 * After training: the loss did not fall; every test example got one class
 * (or a class never came up); training was cut by the time cap.
 *
 * The loss watched is the validation cross-entropy when every epoch has one:
 * Mobincep's training loss adds centroid terms that fall by themselves
 * (6.6 → 0.8 in a default run whose classifier stayed at chance, its
 * validation cross-entropy at ln 4 throughout: eval/classifier cls-04), and
 * OrgaNet's adds the MMD term.
 */
export function classifierSelfChecks(facts: ClassifierRunFacts): SelfCheck[] {
  const validation = facts.history.map((h) => h.valLoss);
  const watched = validation.length > 0 && validation.every((v) => v !== null && v !== undefined) ? (validation as number[]) : facts.history.map((h) => h.loss);
  return firedChecks(
    checkLossFell(watched),
    checkPredictedClasses(facts.predicted, facts.classes),
    facts.actual ? checkAboveChance(facts.predicted, facts.actual) : null,
    checkTimeCap(facts.stoppedByTimeCap, facts.timeCapMinutes),
  );
}

/** On a class map (classify, the app's map): every tile one class, or a class never predicted. */
export function classMapSelfChecks(predicted: ArrayLike<number>, classes: readonly string[]): SelfCheck[] {
  return firedChecks(checkPredictedClasses(predicted, classes));
}
