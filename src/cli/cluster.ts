/**
 * `cluster`: fuzzy c-means or k-means on any numeric CSV table, e.g. the
 * tiles.csv of `analyze` (re-cluster with another K without re-encoding).
 */
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fcm } from '../analysis/fcm';
import { kmeans } from '../analysis/kmeans';
import { CISH_FCM_DEFAULTS } from '../models/cish/defaults';
import { CliError, OptionReader, UsageError, atPath, messageOf, parseCommandArgs, writeOutput } from './args';
import { formatCsv, isNumericColumn, numericMatrix, parseCsv, type CsvTable } from './csv';
import type { CliIO } from './io';

export const CLUSTER_USAGE = `Usage: tilescope cluster --in TABLE.csv --out OUT.csv [options]

Clusters the rows of a numeric table. Features are the latent_* columns when
there are any, else every numeric column (old cluster/membership_* columns
are replaced, never used as features).

Options:
  --in FILE          input CSV with a header row (required)
  --out FILE         output CSV: the input columns + cluster + membership_0… (required)
  --method NAME      fcm (default) or kmeans
  --k K              number of clusters (default 7)
  --m M              FCM fuzziness, > 1 (default 2)
  --tol T            stopping threshold (fcm: ‖ΔU‖, default 0.005; kmeans: relative shift, default 1e-4)
  --max-iter N       most iterations (default 1000 for fcm, 300 for kmeans)
  --seed S           random seed (default 0)
  --starts N         random starts, the best objective wins (default 10)
  --columns A,B,…    use these columns as features instead
  -h, --help         show this help

Prints "FPC <value>" (fcm) or "inertia <value>" (kmeans) on stdout.`;

const OPTIONS = {
  in: { type: 'string' },
  out: { type: 'string' },
  method: { type: 'string' },
  k: { type: 'string' },
  m: { type: 'string' },
  tol: { type: 'string' },
  'max-iter': { type: 'string' },
  seed: { type: 'string' },
  starts: { type: 'string' },
  columns: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ClusterSettings {
  method: 'fcm' | 'kmeans';
  k: number;
  m: number;
  tol: number;
  maxIter: number;
  seed: number;
  /** Random starts (nInit); the lowest objective wins. */
  starts: number;
  columns?: string[];
}

export interface ClusterTableResult {
  table: CsvTable;
  featureColumns: string[];
  labels: Int32Array;
  /** n × k (one-hot for k-means). */
  memberships: Float64Array;
  fpc?: number;
  inertia?: number;
  iterations: number;
  converged: boolean;
}

/** Fixed significant digits without trailing zeros. */
export function formatSignificant(value: number, digits = 6): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(digits))) : String(value);
}

function isOutputColumn(name: string): boolean {
  return name === 'cluster' || /^membership_\d+$/.test(name);
}

/** Picks the feature columns: explicit names, else latent_* in index order, else all numeric ones. */
export function featureColumns(table: CsvTable, explicit?: readonly string[]): number[] {
  if (explicit && explicit.length > 0) {
    return explicit.map((name) => {
      const index = table.header.indexOf(name);
      if (index < 0) throw new Error(`no column named '${name}'`);
      if (!isNumericColumn(table, index)) throw new Error(`column '${name}' is not numeric in every row`);
      return index;
    });
  }
  const latent = table.header
    .map((name, index) => ({ index, match: /^latent_(\d+)$/.exec(name) }))
    .filter((c) => c.match !== null)
    .sort((a, b) => Number(a.match![1]) - Number(b.match![1]))
    .map((c) => c.index);
  if (latent.length > 0) {
    for (const index of latent) {
      if (!isNumericColumn(table, index)) throw new Error(`column '${table.header[index]}' is not numeric in every row`);
    }
    return latent;
  }
  const numeric = table.header.map((_, index) => index).filter((index) => !isOutputColumn(table.header[index]) && isNumericColumn(table, index));
  if (numeric.length === 0) throw new Error('the table has no numeric column to cluster');
  return numeric;
}

/** Clusters a parsed table; the returned table has the input columns (old outputs dropped) + cluster + memberships. */
export function clusterTable(input: CsvTable, settings: ClusterSettings): ClusterTableResult {
  const columns = featureColumns(input, settings.columns);
  const n = input.rows.length;
  const dims = columns.length;
  if (n < settings.k) throw new Error(`K = ${settings.k} clusters needs at least ${settings.k} rows, the table has ${n}`);
  const points = numericMatrix(input, columns);
  const k = settings.k;
  let labels: Int32Array;
  let memberships: Float64Array;
  let fpc: number | undefined;
  let inertia: number | undefined;
  let iterations: number;
  let converged: boolean;
  if (settings.method === 'fcm') {
    const result = fcm(points, dims, { k, m: settings.m, tol: settings.tol, maxIter: settings.maxIter, seed: settings.seed, nInit: settings.starts });
    labels = result.labels;
    memberships = result.u;
    fpc = result.fpc;
    iterations = result.iterations;
    converged = result.converged;
  } else {
    const result = kmeans(points, dims, { k, tol: settings.tol, maxIter: settings.maxIter, seed: settings.seed, nInit: settings.starts });
    labels = result.labels;
    memberships = new Float64Array(n * k);
    for (let i = 0; i < n; i++) memberships[i * k + labels[i]] = 1;
    inertia = result.inertia;
    iterations = result.iterations;
    converged = result.converged;
  }
  const kept = input.header.map((_, index) => index).filter((index) => !isOutputColumn(input.header[index]));
  const header = [...kept.map((index) => input.header[index]), 'cluster', ...Array.from({ length: k }, (_, j) => `membership_${j}`)];
  const rows = input.rows.map((row, i) => {
    const out = kept.map((index) => row[index]);
    out.push(String(labels[i]));
    for (let j = 0; j < k; j++) out.push(formatSignificant(memberships[i * k + j]));
    return out;
  });
  return {
    table: { header, rows },
    featureColumns: columns.map((index) => input.header[index]),
    labels,
    memberships,
    fpc,
    inertia,
    iterations,
    converged,
  };
}

export async function runCluster(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, CLUSTER_USAGE);
  const options = new OptionReader(values, CLUSTER_USAGE);
  if (options.flag('help')) {
    io.stdout(CLUSTER_USAGE + '\n');
    return 0;
  }
  const inPath = options.required('in');
  const outPath = options.required('out');
  const method = options.choice('method', ['fcm', 'kmeans'] as const, 'fcm');
  if (method === 'kmeans' && options.has('m')) throw new UsageError('--m applies to fcm only', CLUSTER_USAGE);
  const settings: ClusterSettings = {
    method,
    k: options.number('k', 7, { min: 2, integer: true }),
    m: options.number('m', 2, { min: 1, exclusiveMin: true }),
    tol: options.number('tol', method === 'fcm' ? 0.005 : 1e-4, { min: 0, exclusiveMin: true }),
    maxIter: options.number('max-iter', method === 'fcm' ? 1000 : 300, { min: 1, integer: true }),
    seed: options.number('seed', 0, { integer: true }),
    starts: options.number('starts', CISH_FCM_DEFAULTS.nInit, { min: 1, integer: true }),
    columns: options.string('columns')?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  };

  const text = await atPath(inPath, () => readFile(inPath, 'utf8'));
  let result: ClusterTableResult;
  try {
    result = clusterTable(parseCsv(text), settings);
  } catch (err) {
    throw new CliError(inPath, messageOf(err));
  }
  await atPath(outPath, () => mkdir(path.dirname(path.resolve(outPath)), { recursive: true }));
  await writeOutput(outPath, formatCsv(result.table));
  io.stderr(
    `cluster: ${result.table.rows.length} rows, features ${result.featureColumns.join(',')}, ` +
      `${result.iterations} iterations${result.converged ? '' : ' (not converged)'}\n`,
  );
  io.stdout(method === 'fcm' ? `FPC ${result.fpc!.toFixed(4)}\n` : `inertia ${formatSignificant(result.inertia!, 8)}\n`);
  return 0;
}
