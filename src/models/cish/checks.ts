/**
 * Self-checks of a finished CISH run (issue 15, item 5): the numbers that say
 * the map may be wrong. One function so that the CLI and the app's worker
 * run the same checks with the same thresholds.
 */
import { checkCodes, checkGlass, checkLossFell, checkTimeCap, firedChecks, type SelfCheck } from '../../analysis/self-checks';

export interface CishRunFacts {
  /** Training loss per epoch, in order. */
  epochLosses: readonly number[];
  /** Latent codes of the encoded tiles, row-major. */
  codes: ArrayLike<number>;
  latentDim: number;
  /** Tissue share of every kept tile. */
  tissueFractions: ArrayLike<number>;
  /** Training ended at the time limit rather than when the loss settled. */
  stoppedByTimeLimit: boolean;
  timeLimitMinutes: number;
}

/** The checks that fired (none on a good run). */
export function cishSelfChecks(facts: CishRunFacts): SelfCheck[] {
  return firedChecks(
    checkLossFell(facts.epochLosses),
    checkCodes(facts.codes, facts.latentDim),
    checkGlass(facts.tissueFractions),
    checkTimeCap(facts.stoppedByTimeLimit, facts.timeLimitMinutes),
  );
}
