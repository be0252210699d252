import { describeChecks, type SelfCheck } from '../analysis/self-checks';

/** Where a command writes; tests capture both streams instead of using the process's. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A number for a JSON report, rounded to `digits` decimals; null when not finite (JSON has no NaN). */
export function jsonNumber(v: number, digits = 4): number | null {
  return Number.isFinite(v) ? Number(v.toFixed(digits)) : null;
}

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** The fired self-checks, one line each ("check <severity> <id>: … <action>"), every command alike. */
export function printChecks(write: (text: string) => void, checks: readonly SelfCheck[]): void {
  for (const line of describeChecks(checks)) write(`check ${line}\n`);
}
