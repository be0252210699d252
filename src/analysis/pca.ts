/**
 * Principal component analysis via the sample covariance matrix (n − 1
 * denominator, as scikit-learn) and a cyclic Jacobi eigen-decomposition.
 *
 * Jacobi is simple, robust and accurate to working precision; it costs
 * O(d³) per sweep (a handful of sweeps), comfortable for the embedding sizes
 * used here (d up to a few hundred).
 *
 * Sign convention: each component is flipped so that its entry of largest
 * magnitude is positive (the first such entry on ties). scikit-learn fixes
 * signs differently (from the projections), so compare up to sign.
 */
import { checkPoints, type PointArray } from './points';

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** d×d row-major; row q is the unit eigenvector of values[q]. */
  vectors: Float64Array;
  /** Jacobi sweeps used. */
  sweeps: number;
}

/**
 * Eigen-decomposition of a symmetric d×d matrix (row-major; only symmetry is
 * assumed, the input is not modified).
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number, maxSweeps = 100): SymmetricEigen {
  if (!Number.isInteger(d) || d < 1 || matrix.length !== d * d) {
    throw new RangeError(`symmetricEigen: expected a ${d}×${d} matrix, got ${matrix.length} values`);
  }
  const a = Float64Array.from(matrix);
  for (let q = 0; q < a.length; q++) {
    if (!Number.isFinite(a[q])) throw new RangeError(`symmetricEigen: entry ${q} is not finite`);
  }
  // v holds eigenvectors as columns while rotating.
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;

  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    let diagonal = 0;
    for (let i = 0; i < d; i++) {
      diagonal += a[i * d + i] * a[i * d + i];
      for (let j = i + 1; j < d; j++) off += a[i * d + j] * a[i * d + j];
    }
    if (off === 0 || off <= 1e-30 * diagonal) break;

    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // Skip rotations that would not change the diagonal at working precision.
        if (Math.abs(apq) < 1e-18 * (Math.abs(app) + Math.abs(aqq))) {
          a[p * d + q] = 0;
          a[q * d + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J, columns then rows.
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        const rowP = p * d;
        const rowQ = q * d;
        for (let k = 0; k < d; k++) {
          const apk = a[rowP + k];
          const aqk = a[rowQ + k];
          a[rowP + k] = c * apk - s * aqk;
          a[rowQ + k] = s * apk + c * aqk;
        }
        a[rowP + q] = 0;
        a[rowQ + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j * d + j] - a[i * d + i] || i - j);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((source, rank) => {
    values[rank] = a[source * d + source];
    let largest = 0;
    let largestAt = 0;
    for (let k = 0; k < d; k++) {
      const magnitude = Math.abs(v[k * d + source]);
      if (magnitude > largest) {
        largest = magnitude;
        largestAt = k;
      }
    }
    const sign = v[largestAt * d + source] < 0 ? -1 : 1;
    for (let k = 0; k < d; k++) vectors[rank * d + k] = sign * v[k * d + source];
  });
  return { values, vectors, sweeps };
}

export interface PcaOptions {
  /** Number of components to keep (default 2, at most d). */
  components?: number;
}

export interface PcaModel {
  dims: number;
  /** Components kept. */
  k: number;
  /** Per-feature mean subtracted before projecting. */
  mean: Float64Array;
  /** k×d row-major unit vectors, by decreasing variance. */
  components: Float64Array;
  /** Variance along each component (eigenvalues of the sample covariance). */
  explainedVariance: Float64Array;
  /** explainedVariance / total variance. */
  explainedVarianceRatio: Float64Array;
  /** Sum of all d eigenvalues (trace of the covariance). */
  totalVariance: number;
}

export interface PcaResult extends PcaModel {
  /** n×k row-major projections of the input points. */
  projected: Float64Array;
}

/** Fits PCA to n points of dimension `dims` and projects them. */
export function pca(points: PointArray, dims: number, options: PcaOptions = {}): PcaResult {
  const n = checkPoints(points, dims);
  if (n < 2) throw new RangeError(`pca: needs at least 2 points, got ${n}`);
  const k = options.components ?? Math.min(2, dims);
  if (!Number.isInteger(k) || k < 1 || k > dims) {
    throw new RangeError(`pca: components must be an integer in [1, ${dims}], got ${k}`);
  }
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let t = 0; t < dims; t++) mean[t] += points[i * dims + t];
  for (let t = 0; t < dims; t++) mean[t] /= n;

  // Upper triangle of Σ (x − μ)(x − μ)ᵀ, one centred row at a time.
  const covariance = new Float64Array(dims * dims);
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < dims; t++) row[t] = points[i * dims + t] - mean[t];
    for (let r = 0; r < dims; r++) {
      const value = row[r];
      if (value === 0) continue;
      const base = r * dims;
      for (let c = r; c < dims; c++) covariance[base + c] += value * row[c];
    }
  }
  for (let r = 0; r < dims; r++) {
    for (let c = r; c < dims; c++) {
      const value = covariance[r * dims + c] / (n - 1);
      covariance[r * dims + c] = value;
      covariance[c * dims + r] = value;
    }
  }
  const eigen = symmetricEigen(covariance, dims);
  let totalVariance = 0;
  for (let q = 0; q < dims; q++) totalVariance += Math.max(eigen.values[q], 0);
  const explainedVariance = new Float64Array(k);
  const explainedVarianceRatio = new Float64Array(k);
  for (let q = 0; q < k; q++) {
    // Round-off can leave tiny negative eigenvalues for rank-deficient data.
    explainedVariance[q] = Math.max(eigen.values[q], 0);
    explainedVarianceRatio[q] = totalVariance > 0 ? explainedVariance[q] / totalVariance : 0;
  }
  const model: PcaModel = {
    dims,
    k,
    mean,
    components: eigen.vectors.slice(0, k * dims),
    explainedVariance,
    explainedVarianceRatio,
    totalVariance,
  };
  return { ...model, projected: pcaTransform(model, points) };
}

/** Projects points onto a fitted model's components: (x − mean) · componentsᵀ. */
export function pcaTransform(model: PcaModel, points: PointArray): Float64Array {
  const dims = model.dims;
  const n = checkPoints(points, dims);
  const k = model.k;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let t = 0; t < dims; t++) s += (points[i * dims + t] - model.mean[t]) * model.components[q * dims + t];
      out[i * k + q] = s;
    }
  }
  return out;
}
