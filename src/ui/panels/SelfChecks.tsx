import type { SelfCheck } from '../../analysis/self-checks';
import { worstSeverity } from '../../analysis/self-checks';

/**
 * The self-checks of a finished job, shown in the panel that ran it: what was
 * seen and what to do, worst first. Nothing renders when every check passed,
 * so a quiet panel means the checks ran and found nothing.
 */
export function SelfChecks({ checks, testId }: { checks: readonly SelfCheck[] | null | undefined; testId: string }) {
  if (!checks || checks.length === 0) return null;
  const ordered = [...checks].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'failed' ? -1 : 1));
  const worst = worstSeverity(checks);
  return (
    // A failed check interrupts (alert); warnings are read in their turn (status).
    <div className={`self-checks self-checks-${worst}`} role={worst === 'failed' ? 'alert' : 'status'} data-testid={testId}>
      <strong>{worst === 'failed' ? 'This result is probably wrong' : 'Read this result with care'}</strong>
      <ul>
        {ordered.map((check) => (
          <li key={check.id} data-check={check.id} className={`self-check-${check.severity}`}>
            {check.message}. <span className="muted">{capitalise(check.action)}.</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A short mark for legends and map titles next to a result that failed a check. */
export function checkMark(checks: readonly SelfCheck[] | null | undefined): string {
  const worst = worstSeverity(checks ?? []);
  return worst === 'failed' ? ' (failed its self-checks)' : worst === 'warning' ? ' (see warnings)' : '';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
