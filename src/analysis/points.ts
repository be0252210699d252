/**
 * Points are columnar: one Float32Array or Float64Array holding n rows of d
 * values (row-major, point i is data[i*d … i*d+d−1]). No per-point objects.
 */
export type PointArray = Float32Array | Float64Array;

/** Any array-like of numbers that can be indexed quickly. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | ArrayLike<number>;

/**
 * Checks a point array and its dimension, and returns n (the number of rows).
 * Throws a RangeError naming `what` when the shape is wrong or a value is not finite.
 */
export function checkPoints(points: PointArray, dims: number, what = 'points'): number {
  if (!(points instanceof Float32Array || points instanceof Float64Array)) {
    throw new TypeError(`${what} must be a Float32Array or Float64Array`);
  }
  if (!Number.isInteger(dims) || dims < 1) {
    throw new RangeError(`${what}: dimension must be a positive integer, got ${dims}`);
  }
  if (points.length % dims !== 0) {
    throw new RangeError(`${what}: length ${points.length} is not a multiple of the dimension ${dims}`);
  }
  for (let i = 0; i < points.length; i++) {
    const v = points[i];
    // v - v is NaN for ±Infinity and NaN, 0 otherwise: one comparison per value.
    if (v - v !== 0) {
      const row = Math.floor(i / dims);
      throw new RangeError(`${what}: value ${v} at row ${row}, column ${i - row * dims} is not finite`);
    }
  }
  return points.length / dims;
}

/** Checks that `labels` has one integer per point and returns it. */
export function checkLabels(labels: NumericArray, n: number, what = 'labels'): void {
  if (labels.length !== n) {
    throw new RangeError(`${what}: expected ${n} labels, got ${labels.length}`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i])) throw new RangeError(`${what}: label ${labels[i]} at ${i} is not an integer`);
  }
}

/** Squared Euclidean distance between row i of `a` and row j of `b`, both of dimension d. */
export function squaredDistance(a: PointArray, i: number, b: PointArray, j: number, dims: number): number {
  let sum = 0;
  const ai = i * dims;
  const bj = j * dims;
  for (let t = 0; t < dims; t++) {
    const diff = a[ai + t] - b[bj + t];
    sum += diff * diff;
  }
  return sum;
}
