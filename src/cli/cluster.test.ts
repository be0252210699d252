/**
 * `cluster` on tests/fixtures/cli/blobs.csv (sklearn make_blobs, see
 * scripts/make_cli_fixtures.py) must give exactly what src/analysis/fcm and
 * src/analysis/kmeans give on the same points and seed, and recover the
 * make_blobs truth (well-separated blobs).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fcm } from '../analysis/fcm';
import { kmeans } from '../analysis/kmeans';
import { adjustedRandIndex } from '../analysis/metrics';
import { main } from './main';
import { formatCsv, parseCsv } from './csv';
import { featureColumns } from './cluster';

const BLOBS = path.resolve(__dirname, '../../tests/fixtures/cli/blobs.csv');

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

function blobPoints() {
  const table = parseCsv(readFileSync(BLOBS, 'utf8'));
  const c0 = table.header.indexOf('latent_0');
  const c1 = table.header.indexOf('latent_1');
  const truth = Int32Array.from(table.rows, (row) => Number(row[table.header.indexOf('truth')]));
  return { table, points: Float64Array.from(table.rows.flatMap((row) => [Number(row[c0]), Number(row[c1])])), truth };
}

describe('cluster command', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tilescope-cluster-'));

  it('fcm: same labels, memberships and FPC as src/analysis/fcm with the same seed and starts', async () => {
    const outFile = path.join(dir, 'fcm.csv');
    const { out, io } = capture();
    const code = await main(['cluster', '--in', BLOBS, '--method', 'fcm', '--k', '3', '--m', '1.8', '--tol', '0.001', '--seed', '5', '--starts', '3', '--out', outFile], io);
    expect(code).toBe(0);
    const { points, truth, table: input } = blobPoints();
    const reference = fcm(points, 2, { k: 3, m: 1.8, tol: 0.001, seed: 5, nInit: 3 });
    expect(out.stdout).toBe(`FPC ${reference.fpc.toFixed(4)}\n`);
    const result = parseCsv(readFileSync(outFile, 'utf8'));
    // Input columns kept in order, the old cluster column replaced.
    expect(result.header).toEqual(['id', 'name', 'latent_0', 'latent_1', 'truth', 'cluster', 'membership_0', 'membership_1', 'membership_2']);
    expect(result.rows).toHaveLength(60);
    expect(result.rows[0][1]).toBe('tile, 0');
    expect(result.rows.map((r) => r[2])).toEqual(input.rows.map((r) => r[2]));
    const labels = Int32Array.from(result.rows, (r) => Number(r[5]));
    expect(Array.from(labels)).toEqual(Array.from(reference.labels));
    result.rows.forEach((row, i) => {
      for (let j = 0; j < 3; j++) expect(Number(row[6 + j])).toBeCloseTo(reference.u[i * 3 + j], 5);
    });
    expect(adjustedRandIndex(truth, labels)).toBe(1);
  });

  it('kmeans: same labels as src/analysis/kmeans, one-hot memberships, inertia on stdout', async () => {
    const outFile = path.join(dir, 'km.csv');
    const { out, io } = capture();
    expect(await main(['cluster', '--in', BLOBS, '--method', 'kmeans', '--k', '3', '--seed', '2', '--out', outFile], io)).toBe(0);
    const { points } = blobPoints();
    const reference = kmeans(points, 2, { k: 3, seed: 2, tol: 1e-4, maxIter: 300 });
    expect(out.stdout).toBe(`inertia ${Number(reference.inertia.toPrecision(8))}\n`);
    const result = parseCsv(readFileSync(outFile, 'utf8'));
    const labels = result.rows.map((r) => Number(r[result.header.indexOf('cluster')]));
    expect(labels).toEqual(Array.from(reference.labels));
    for (const row of result.rows) {
      const u = [0, 1, 2].map((j) => Number(row[result.header.indexOf(`membership_${j}`)]));
      expect(u.reduce((a, b) => a + b, 0)).toBe(1);
    }
  });

  it('falls back to all numeric columns when there is no latent_* column', () => {
    const table = parseCsv('name,a,b,cluster,membership_0\nx,1,2,0,1\ny,3,4,1,0\n');
    expect(featureColumns(table)).toEqual([1, 2]);
    expect(featureColumns(table, ['b'])).toEqual([2]);
    expect(() => featureColumns(table, ['name'])).toThrow(/not numeric/);
  });

  it('exit 2 with usage on bad options, exit 1 with `<file>: <reason>` on bad input', async () => {
    let c = capture();
    expect(await main(['cluster', '--in', BLOBS, '--out', path.join(dir, 'x.csv'), '--k', 'three'], c.io)).toBe(2);
    expect(c.out.stderr).toMatch(/--k must be an integer, got 'three'/);
    expect(c.out.stderr).toMatch(/Usage: tilescope cluster/);
    c = capture();
    expect(await main(['cluster', '--in', BLOBS, '--out', path.join(dir, 'x.csv'), '--method', 'kmeans', '--m', '2'], c.io)).toBe(2);
    c = capture();
    expect(await main(['cluster', '--out', 'x.csv'], c.io)).toBe(2);
    expect(c.out.stderr).toMatch(/missing --in/);
    c = capture();
    expect(await main(['cluster', '--in', BLOBS, '--out', 'x.csv', '--bogus'], c.io)).toBe(2);
    c = capture();
    const missing = path.join(dir, 'missing.csv');
    expect(await main(['cluster', '--in', missing, '--out', path.join(dir, 'x.csv')], c.io)).toBe(1);
    expect(c.out.stderr).toBe(`${missing}: no such file or directory\n`);
    const ragged = path.join(dir, 'ragged.csv');
    writeFileSync(ragged, 'a,b\n1,2\n3\n');
    c = capture();
    expect(await main(['cluster', '--in', ragged, '--out', path.join(dir, 'x.csv'), '--k', '2'], c.io)).toBe(1);
    expect(c.out.stderr).toBe(`${ragged}: line 3 has 1 fields, the header has 2\n`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('CSV', () => {
  it('reads quotes, escaped quotes, CRLF, a byte-order mark and blank lines; writes them back', () => {
    const text = '\ufeffa,"b ""q""",c\r\n1,"x,y",3\r\n\r\n"multi\nline",,z\r\n';
    const table = parseCsv(text);
    expect(table.header).toEqual(['a', 'b "q"', 'c']);
    expect(table.rows).toEqual([
      ['1', 'x,y', '3'],
      ['multi\nline', '', 'z'],
    ]);
    expect(parseCsv(formatCsv(table))).toEqual(table);
    expect(() => parseCsv('a,"b\n1,2\n')).toThrow(/unterminated/);
    expect(() => parseCsv('')).toThrow(/empty/);
  });
});
