/**
 * Argument handling shared by the CLI commands: typed option parsing on top
 * of node:util parseArgs, and the two error kinds that decide the exit code.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command line: exit code 2, message plus the command's usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure tied to a file: exit code 1, printed as `<file>: <reason>`. */
export class CliError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'CliError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode; its errors become UsageErrors carrying `usage`. */
export function parseCommandArgs(
  argv: string[],
  options: OptionSpec,
  usage: string,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, usage);
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // parseArgs messages are one sentence plus a hint on a second line; keep the first.
    throw new UsageError(message.split('\n')[0], usage);
  }
}

export class OptionReader {
  constructor(
    private readonly values: Record<string, string | boolean | undefined>,
    private readonly usage: string,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const value = this.values[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} needs a value`, this.usage);
    return value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new UsageError(`missing --${name}`, this.usage);
    return value;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.string(name, fallback);
    if (!(choices as readonly string[]).includes(value)) {
      throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'`, this.usage);
    }
    return value as T;
  }

  /** A finite number within [min, max] (exclusive bounds when `exclusiveMin`). */
  number(
    name: string,
    fallback: number,
    range: { min?: number; max?: number; exclusiveMin?: boolean; integer?: boolean } = {},
  ): number {
    const text = this.string(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    const kind = range.integer ? 'an integer' : 'a number';
    if (!Number.isFinite(value) || text.trim() === '' || (range.integer && !Number.isInteger(value))) {
      throw new UsageError(`--${name} must be ${kind}, got '${text}'`, this.usage);
    }
    if (range.min !== undefined && (range.exclusiveMin ? !(value > range.min) : !(value >= range.min))) {
      throw new UsageError(`--${name} must be ${range.exclusiveMin ? '>' : '≥'} ${range.min}, got ${text}`, this.usage);
    }
    if (range.max !== undefined && !(value <= range.max)) {
      throw new UsageError(`--${name} must be ≤ ${range.max}, got ${text}`, this.usage);
    }
    return value;
  }

  optionalNumber(name: string, range: { min?: number; max?: number; exclusiveMin?: boolean; integer?: boolean } = {}): number | undefined {
    return this.has(name) ? this.number(name, 0, range) : undefined;
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** "no such file" rather than Node's "ENOENT: no such file or directory, open '…'". */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent path is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return messageOf(err);
  }
}

/** Runs a file-system action on `file`; its failure becomes a CliError naming the file and the reason. */
export async function atPath<T>(file: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    throw new CliError(file, describeFsError(err));
  }
}

/** Writes an output file; a failure names the file. */
export function writeOutput(file: string, data: string | Uint8Array): Promise<void> {
  return atPath(file, () => writeFile(file, data));
}
