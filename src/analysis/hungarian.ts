/**
 * Linear sum assignment (the "Hungarian" problem): pick one column per row,
 * no column twice, minimising (or maximising) the total cost. Rectangular
 * matrices assign min(rows, cols) pairs.
 *
 * Method: shortest augmenting paths with row/column potentials (Dijkstra-like
 * growth of one alternating tree per row), O(r²·c) for r ≤ c. Results come
 * back like scipy.optimize.linear_sum_assignment: rowIndices ascending.
 */

export interface AssignmentResult {
  /** Assigned rows, ascending. */
  rowIndices: Int32Array;
  /** Column assigned to rowIndices[q]. */
  colIndices: Int32Array;
  /** Sum of the chosen costs (in the original sign). */
  total: number;
}

/**
 * @param cost rows×cols row-major cost matrix (finite values).
 * @param maximize pick the largest total instead of the smallest.
 */
export function linearSumAssignment(
  cost: ArrayLike<number>,
  rows: number,
  cols: number,
  maximize = false,
): AssignmentResult {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`linearSumAssignment: bad shape ${rows}×${cols}`);
  }
  if (cost.length !== rows * cols) {
    throw new RangeError(`linearSumAssignment: expected ${rows}×${cols} = ${rows * cols} costs, got ${cost.length}`);
  }
  for (let q = 0; q < cost.length; q++) {
    if (!Number.isFinite(cost[q])) throw new RangeError(`linearSumAssignment: cost ${cost[q]} at ${q} is not finite`);
  }
  if (rows === 0 || cols === 0) return { rowIndices: new Int32Array(0), colIndices: new Int32Array(0), total: 0 };

  // Work on an r×c matrix with r ≤ c; transpose when there are more rows.
  const transposed = rows > cols;
  const r = transposed ? cols : rows;
  const c = transposed ? rows : cols;
  const sign = maximize ? -1 : 1;
  const a = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      a[i * c + j] = sign * (transposed ? cost[j * cols + i] : cost[i * cols + j]);
    }
  }

  // Potentials: rowPotential[i] + colPotential[j] ≤ a[i][j] throughout; equality on matched pairs.
  const rowPotential = new Float64Array(r);
  const colPotential = new Float64Array(c);
  const rowOfCol = new Int32Array(c).fill(-1);
  const shortest = new Float64Array(c);
  const previousCol = new Int32Array(c);
  const visited = new Uint8Array(c);

  for (let start = 0; start < r; start++) {
    shortest.fill(Infinity);
    visited.fill(0);
    // The tree grows from row `start`; `current` is the row being scanned, reached via column `fromCol`.
    let current = start;
    let fromCol = -1;
    let freeCol = -1;
    while (freeCol < 0) {
      let step = Infinity;
      let nextCol = -1;
      const base = current * c;
      const offset = rowPotential[current];
      for (let j = 0; j < c; j++) {
        if (visited[j]) continue;
        const reduced = a[base + j] - offset - colPotential[j];
        if (reduced < shortest[j]) {
          shortest[j] = reduced;
          previousCol[j] = fromCol;
        }
        if (shortest[j] < step) {
          step = shortest[j];
          nextCol = j;
        }
      }
      // Shift potentials so the tree's edges stay tight and nextCol becomes reachable at zero cost.
      rowPotential[start] += step;
      for (let j = 0; j < c; j++) {
        if (visited[j]) {
          rowPotential[rowOfCol[j]] += step;
          colPotential[j] -= step;
        } else {
          shortest[j] -= step;
        }
      }
      visited[nextCol] = 1;
      if (rowOfCol[nextCol] < 0) {
        freeCol = nextCol;
      } else {
        current = rowOfCol[nextCol];
        fromCol = nextCol;
      }
    }
    // Flip the alternating path back to the root row.
    let j = freeCol;
    while (j >= 0) {
      const back = previousCol[j];
      rowOfCol[j] = back >= 0 ? rowOfCol[back] : start;
      j = back;
    }
  }

  const colOfRow = new Int32Array(r).fill(-1);
  for (let j = 0; j < c; j++) if (rowOfCol[j] >= 0) colOfRow[rowOfCol[j]] = j;

  const rowIndices = new Int32Array(r);
  const colIndices = new Int32Array(r);
  let total = 0;
  if (!transposed) {
    for (let i = 0; i < r; i++) {
      rowIndices[i] = i;
      colIndices[i] = colOfRow[i];
      total += cost[i * cols + colOfRow[i]];
    }
  } else {
    // Rows of the original are the columns here: list the matched ones ascending.
    let q = 0;
    for (let j = 0; j < c; j++) {
      if (rowOfCol[j] < 0) continue;
      rowIndices[q] = j;
      colIndices[q] = rowOfCol[j];
      total += cost[j * cols + rowOfCol[j]];
      q++;
    }
  }
  return { rowIndices, colIndices, total };
}
