/**
 * Remaining-time estimate from progress samples. Uses the rate over a recent
 * window rather than since the start, so a job that speeds up or slows down
 * (warm-up, early stopping, a cache becoming hot) gets an honest ETA soon.
 */
export interface ProgressSample {
  /** Milliseconds, any monotonic clock. */
  time: number;
  /** 0..1 */
  progress: number;
}

export class EtaEstimator {
  private samples: ProgressSample[] = [];

  constructor(
    /** How far back the rate is measured (ms). */
    private readonly windowMs = 10_000,
  ) {}

  /** Records a sample and returns the estimated seconds left, or null when unknown yet. */
  update(progress: number, time: number): number | null {
    const clamped = Math.min(1, Math.max(0, progress));
    const last = this.samples[this.samples.length - 1];
    // Progress that goes backwards means a new phase: restart the estimate.
    if (last && clamped < last.progress) this.samples = [];
    this.samples.push({ time, progress: clamped });
    // Keep one sample older than the window so the window is always spanned.
    while (this.samples.length > 2 && this.samples[1].time <= time - this.windowMs) this.samples.shift();
    return etaSeconds(this.samples);
  }
}

/** Seconds left at the rate between the first and last sample; null if no rate yet. */
export function etaSeconds(samples: readonly ProgressSample[]): number | null {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (last.progress >= 1) return 0;
  const elapsed = (last.time - first.time) / 1000;
  const advanced = last.progress - first.progress;
  if (elapsed <= 0 || advanced <= 0) return null;
  return ((1 - last.progress) * elapsed) / advanced;
}

/** "12 s", "3 min 05 s", "1 h 02 min" — compact and stable while counting down. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '…';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
