import { describe, expect, it } from 'vitest';
import { linearSumAssignment } from './hungarian';
import { Random } from '../util/random';
import { loadReference } from './testing/fixtures';

interface AssignmentCase {
  rows: number;
  cols: number;
  maximize: boolean;
  tiesPossible: boolean;
  cost: number[];
  rowIndices: number[];
  colIndices: number[];
  total: number;
}

/** Exhaustive optimum over all injective row→column maps (small sizes only). */
function bruteForce(cost: Float64Array, rows: number, cols: number): number {
  let best = Infinity;
  const usedCols = new Uint8Array(cols);
  const recurse = (row: number, total: number): void => {
    if (row === rows) {
      best = Math.min(best, total);
      return;
    }
    for (let c = 0; c < cols; c++) {
      if (usedCols[c]) continue;
      usedCols[c] = 1;
      recurse(row + 1, total + cost[row * cols + c]);
      usedCols[c] = 0;
    }
  };
  recurse(0, 0);
  return best;
}

describe('linearSumAssignment', () => {
  it('matches scipy.optimize.linear_sum_assignment on random matrices', () => {
    for (const c of loadReference().assignment as AssignmentCase[]) {
      const r = linearSumAssignment(c.cost, c.rows, c.cols, c.maximize);
      expect(Math.abs(r.total - c.total)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c.total)));
      if (!c.tiesPossible) {
        expect(Array.from(r.rowIndices)).toEqual(c.rowIndices);
        expect(Array.from(r.colIndices)).toEqual(c.colIndices);
      }
      // A valid matching: distinct rows and columns, min(rows, cols) pairs.
      expect(r.rowIndices.length).toBe(Math.min(c.rows, c.cols));
      expect(new Set(r.rowIndices).size).toBe(r.rowIndices.length);
      expect(new Set(r.colIndices).size).toBe(r.colIndices.length);
    }
  });

  it('matches brute force on many small random matrices, square and rectangular', () => {
    const rng = new Random(8);
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + rng.int(5);
      const cols = 1 + rng.int(5);
      const cost = new Float64Array(rows * cols);
      for (let q = 0; q < cost.length; q++) cost[q] = rng.int(4) === 0 ? rng.int(3) : rng.normal() * 10;
      const got = linearSumAssignment(cost, rows, cols);
      const expected = rows <= cols ? bruteForce(cost, rows, cols) : bruteForce(transpose(cost, rows, cols), cols, rows);
      expect(Math.abs(got.total - expected)).toBeLessThan(1e-9);
    }
  });

  it('handles empty matrices and rejects non-finite costs', () => {
    expect(linearSumAssignment([], 0, 3).rowIndices.length).toBe(0);
    expect(() => linearSumAssignment([1, NaN], 1, 2)).toThrow(/not finite/);
    expect(() => linearSumAssignment([1, 2, 3], 2, 2)).toThrow(/expected 2×2/);
  });

  it('solves 300×300 quickly', () => {
    const rng = new Random(9);
    const cost = rng.fillUniform(new Float64Array(300 * 300));
    const start = performance.now();
    const r = linearSumAssignment(cost, 300, 300);
    expect(performance.now() - start).toBeLessThan(2000);
    expect(new Set(r.colIndices).size).toBe(300);
  });
});

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}
