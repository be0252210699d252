/**
 * Principal component analysis via the sample covariance matrix (n − 1
 * denominator, as scikit-learn) and a symmetric eigen-decomposition
 * (Householder tridiagonalisation + implicit QR, O(d³)).
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
  /** Implicit QR steps used. */
  steps: number;
}

/**
 * Eigen-decomposition of a symmetric d×d matrix (row-major; only symmetry is
 * assumed, the input is not modified).
 *
 * 1. Householder reduction to tridiagonal form T = Qᵀ A Q, building Qᵀ.
 * 2. Implicit symmetric QR steps with Wilkinson shifts on T (Givens rotations
 *    chasing the bulge), deflating converged off-diagonal entries; every
 *    rotation is also applied to the rows of Qᵀ, which end up as eigenvectors.
 * Everything walks rows of row-major arrays, so it stays cache-friendly for
 * d in the hundreds (d = 768 takes seconds, not minutes as with Jacobi).
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number, maxStepsPerValue = 60): SymmetricEigen {
  if (!Number.isInteger(d) || d < 1 || matrix.length !== d * d) {
    throw new RangeError(`symmetricEigen: expected a ${d}×${d} matrix, got ${matrix.length} values`);
  }
  const a = Float64Array.from(matrix);
  for (let q = 0; q < a.length; q++) {
    if (!Number.isFinite(a[q])) throw new RangeError(`symmetricEigen: entry ${q} is not finite`);
  }
  // Symmetrise so that round-off asymmetry in the input cannot bias the result.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const mean = 0.5 * (a[i * d + j] + a[j * d + i]);
      a[i * d + j] = mean;
      a[j * d + i] = mean;
    }
  }
  const qt = new Float64Array(d * d); // rows: basis vectors (Qᵀ)
  for (let i = 0; i < d; i++) qt[i * d + i] = 1;
  const diagonal = new Float64Array(d);
  const off = new Float64Array(Math.max(d - 1, 0)); // off[i] couples i and i+1
  tridiagonalise(a, d, qt, diagonal, off);
  const steps = tridiagonalQr(diagonal, off, d, qt, maxStepsPerValue);

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => diagonal[j] - diagonal[i] || i - j);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((source, rank) => {
    values[rank] = diagonal[source];
    const row = source * d;
    let largest = 0;
    let largestAt = 0;
    for (let k = 0; k < d; k++) {
      const magnitude = Math.abs(qt[row + k]);
      if (magnitude > largest) {
        largest = magnitude;
        largestAt = k;
      }
    }
    const sign = qt[row + largestAt] < 0 ? -1 : 1;
    for (let k = 0; k < d; k++) vectors[rank * d + k] = sign * qt[row + k];
  });
  return { values, vectors, steps };
}

/**
 * Householder reduction of the symmetric matrix `a` (overwritten) to
 * tridiagonal form. Only the upper triangle of the trailing block is kept up
 * to date (each reflector is a symmetric rank-2 update), which halves the
 * work. Reflector k is stored in row k of `a` right of the superdiagonal, and
 * Q = H₀H₁…H_{d−3} is formed backwards at the end, where each product only
 * touches the trailing block; `qt` receives Qᵀ.
 */
function tridiagonalise(a: Float64Array, d: number, qt: Float64Array, diagonal: Float64Array, off: Float64Array): void {
  const v = new Float64Array(d);
  const p = new Float64Array(d);
  const betas = new Float64Array(d);
  for (let k = 0; k < d - 2; k++) {
    const first = k + 1;
    const rowK = k * d;
    // x = A[k][first…d−1] (row k, upper triangle); reflect it onto α·e₁.
    const x0 = a[rowK + first];
    let tail2 = 0;
    for (let j = first + 1; j < d; j++) tail2 += a[rowK + j] * a[rowK + j];
    if (tail2 === 0) {
      off[k] = x0;
      continue; // already tridiagonal in this row; betas[k] = 0 marks H = I
    }
    const norm = Math.sqrt(x0 * x0 + tail2);
    const alpha = x0 >= 0 ? -norm : norm;
    v[first] = x0 - alpha;
    for (let j = first + 1; j < d; j++) v[j] = a[rowK + j];
    const beta = 2 / (v[first] * v[first] + tail2); // 2 / vᵀv
    // p = β A₂₂ v from the upper triangle (each stored entry used for both halves).
    for (let i = first; i < d; i++) p[i] = 0;
    for (let i = first; i < d; i++) {
      const row = i * d;
      const vi = v[i];
      let s = a[row + i] * vi;
      for (let j = i + 1; j < d; j++) {
        const aij = a[row + j];
        s += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += s;
    }
    let pv = 0;
    for (let i = first; i < d; i++) {
      p[i] *= beta;
      pv += p[i] * v[i];
    }
    // w = p − (β/2)(pᵀv) v ; A₂₂ ← A₂₂ − v wᵀ − w vᵀ (upper triangle only).
    const half = 0.5 * beta * pv;
    for (let i = first; i < d; i++) p[i] -= half * v[i];
    for (let i = first; i < d; i++) {
      const row = i * d;
      const vi = v[i];
      const wi = p[i];
      for (let j = i; j < d; j++) a[row + j] -= vi * p[j] + wi * v[j];
    }
    off[k] = alpha;
    betas[k] = beta;
    // Keep v in row k for the back-accumulation (first entry lives in `p`-free slot via scaling below).
    a[rowK + first] = v[first];
  }
  if (d >= 2) off[d - 2] = a[(d - 2) * d + d - 1];
  for (let i = 0; i < d; i++) diagonal[i] = a[i * d + i];

  // Q = H₀ H₁ … : start from I and apply H_k from the left, last reflector first.
  // Qᵀ is accumulated directly: Qᵀ = … H₁ H₀ ⇒ apply H_k on the right, last first,
  // i.e. for rows i ≥ k+1 of the trailing block: row ← row − β (row·v) vᵀ.
  const q = qt;
  q.fill(0);
  for (let i = 0; i < d; i++) q[i * d + i] = 1;
  for (let k = d - 3; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const first = k + 1;
    const rowK = k * d;
    // Rows of Qᵀ below `first` are zero outside columns ≥ first at this point.
    for (let i = first; i < d; i++) {
      const row = i * d;
      let dot = 0;
      for (let j = first; j < d; j++) dot += q[row + j] * a[rowK + j];
      const scale = beta * dot;
      if (scale === 0) continue;
      for (let j = first; j < d; j++) q[row + j] -= scale * a[rowK + j];
    }
  }
}

/** Implicit-shift QR on a symmetric tridiagonal matrix; returns the number of QR steps. */
function tridiagonalQr(diagonal: Float64Array, off: Float64Array, d: number, qt: Float64Array, maxStepsPerValue: number): number {
  let steps = 0;
  let hi = d - 1;
  const limit = maxStepsPerValue * Math.max(d, 1);
  while (hi > 0) {
    // Deflate negligible couplings.
    for (let i = 0; i < hi; i++) {
      if (Math.abs(off[i]) <= Number.EPSILON * (Math.abs(diagonal[i]) + Math.abs(diagonal[i + 1]))) off[i] = 0;
    }
    if (off[hi - 1] === 0) {
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && off[lo - 1] !== 0) lo--;
    if (++steps > limit) throw new Error('symmetricEigen: QR iteration did not converge');

    // Wilkinson shift: the eigenvalue of the trailing 2×2 block nearer its last entry.
    const half = 0.5 * (diagonal[hi - 1] - diagonal[hi]);
    const coupling = off[hi - 1];
    const shift = diagonal[hi] - (coupling * coupling) / (half + (half >= 0 ? 1 : -1) * Math.hypot(half, coupling));
    let x = diagonal[lo] - shift;
    let z = off[lo];
    for (let k = lo; k < hi; k++) {
      const q = k + 1;
      // Rotation on (k, q) with Pᵀ[x, z] = [r, 0].
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      if (k > lo) off[k - 1] = r; // the bulge is folded into the previous coupling
      const app = diagonal[k];
      const aqq = diagonal[q];
      const apq = off[k];
      diagonal[k] = c * c * app + 2 * c * s * apq + s * s * aqq;
      diagonal[q] = s * s * app - 2 * c * s * apq + c * c * aqq;
      off[k] = c * s * (aqq - app) + (c * c - s * s) * apq;
      if (q < hi) {
        // The rotation pushes a bulge to (q+1, k); the next rotation removes it.
        z = s * off[q];
        off[q] = c * off[q];
        x = off[k];
      }
      const rowK = k * d;
      const rowQ = q * d;
      for (let j = 0; j < d; j++) {
        const vk = qt[rowK + j];
        const vq = qt[rowQ + j];
        qt[rowK + j] = c * vk + s * vq;
        qt[rowQ + j] = c * vq - s * vk;
      }
    }
  }
  return steps;
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
