/**
 * The nucleus job's self-checks (issue 15, item 5), shared by the command
 * line and the app's worker: the loss did not fall, the count is far from
 * the nuclear-stain estimate, training stopped at the time cap.
 */
import { checkCount, checkLossFell, checkTimeCap, firedChecks, worstSeverity, type SelfCheck } from '../../analysis/self-checks';

export interface NucleiRunFacts {
  /** Training loss per epoch (empty when a saved model was used). */
  losses: readonly number[];
  /** Nuclei found. */
  count: number;
  /** Independent estimate: separate nuclear-stain blobs in the same patches (undefined: none). */
  stainEstimate?: number;
  /** True when training ended at the time cap before the loss and t settled. */
  stoppedByTimeCap: boolean;
  /** The cap, seconds. */
  timeCapSeconds: number;
  /** 'hematoxylin' or 'fluorescence': names the estimate in the message. */
  stain?: 'hematoxylin' | 'fluorescence';
  /** What placed the points: with 'stain' the CAE only describes each nucleus, so its time cap does not touch the count. */
  detector?: 'stain' | 'combined' | 'cae';
}

export function nucleiSelfChecks(facts: NucleiRunFacts): SelfCheck[] {
  const estimateName = facts.stain === 'fluorescence' ? 'the DAPI (bright-blob) estimate' : 'the haematoxylin-blob estimate';
  return firedChecks(
    checkLossFell(facts.losses),
    facts.stainEstimate === undefined ? null : checkCount(facts.count, facts.stainEstimate, { estimateName }),
    checkTimeCap(facts.stoppedByTimeCap, facts.timeCapSeconds / 60, facts.detector === 'stain' ? "only the codes that describe each nucleus (the points come from the nuclear stain)" : undefined),
  );
}

/** 'ok', 'warning' or 'failed': the one word the exports carry. */
export function checksVerdict(checks: readonly SelfCheck[]): 'ok' | 'warning' | 'failed' {
  return worstSeverity(checks) ?? 'ok';
}
