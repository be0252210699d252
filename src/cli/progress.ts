/**
 * Progress lines on stderr: `stage  42.0%  ETA 1m05s  detail`. Updates are
 * throttled (one line per `intervalMs` per stage, plus the final one) so a
 * log file stays readable; there are no carriage-return tricks, which keeps
 * the output usable when stderr is not a terminal.
 */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

export interface StageTiming {
  stage: string;
  seconds: number;
}

export class ProgressReporter {
  private stageName = '';
  private stageStart = 0;
  private lastLine = 0;
  readonly timings: StageTiming[] = [];

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: { quiet?: boolean; intervalMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  private emit(line: string): void {
    if (!this.options.quiet) this.write(line + '\n');
  }

  /** Starts a stage (ending the previous one). */
  begin(stage: string, detail = ''): void {
    if (this.stageName) this.end();
    this.stageName = stage;
    this.stageStart = this.now();
    this.lastLine = -Infinity;
    this.emit(`${stage}: started${detail ? ` (${detail})` : ''}`);
  }

  /**
   * Reports `done` of `total`; ETA from the caller when it knows better
   * (training), else extrapolated from the stage's elapsed time.
   */
  update(done: number, total: number, detail = '', etaSeconds?: number | null): void {
    const now = this.now();
    const final = done >= total;
    const interval = this.options.intervalMs ?? 1000;
    if (!final && now - this.lastLine < interval) return;
    this.lastLine = now;
    const elapsed = (now - this.stageStart) / 1000;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const eta = etaSeconds ?? (fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN);
    const parts = [`${this.stageName}: ${(fraction * 100).toFixed(1).padStart(5)}%`, `ETA ${formatDuration(eta)}`];
    if (detail) parts.push(detail);
    this.emit(parts.join('  '));
  }

  /** Ends the current stage and records its duration. */
  end(detail = ''): number {
    if (!this.stageName) return 0;
    const seconds = (this.now() - this.stageStart) / 1000;
    this.timings.push({ stage: this.stageName, seconds });
    this.emit(`${this.stageName}: done in ${formatDuration(seconds)}${detail ? ` (${detail})` : ''}`);
    this.stageName = '';
    return seconds;
  }

  note(line: string): void {
    this.emit(line);
  }
}
