/**
 * Parameter fields of the CISH panel: text as typed, parsed and checked
 * before any job starts, so a bad value shows its error next to the field.
 */

export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  integer?: boolean;
}

export type Parsed = { ok: true; value: number; warning?: string } | { ok: false; error: string };

export function parseNumber(text: string, rule: NumberRule): Parsed {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'required' };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, error: 'not a number' };
  if (rule.integer && !Number.isInteger(value)) return { ok: false, error: 'whole number' };
  if (rule.above !== undefined && !(value > rule.above)) return { ok: false, error: `must be > ${rule.above}` };
  if (rule.min !== undefined && value < rule.min) return { ok: false, error: `must be ≥ ${rule.min}` };
  if (rule.max !== undefined && value > rule.max) return { ok: false, error: `must be ≤ ${rule.max}` };
  return { ok: true, value };
}

/** Parses every field; `values` is complete only when `errors` is empty. */
export function parseAll<K extends string>(
  texts: Record<K, string>,
  rules: Record<K, NumberRule>,
): { values: Record<K, number>; errors: Partial<Record<K, string>> } {
  const values = {} as Record<K, number>;
  const errors: Partial<Record<K, string>> = {};
  for (const key of Object.keys(rules) as K[]) {
    const parsed = parseNumber(texts[key], rules[key]);
    if (parsed.ok) values[key] = parsed.value;
    else errors[key] = parsed.error;
  }
  return { values, errors };
}
