/**
 * k-means (Lloyd) with greedy k-means++ seeding.
 *
 * The iteration mirrors scikit-learn's "lloyd" algorithm so results can be
 * checked against it with the same initial centres:
 *   - each iteration assigns points to the nearest centre, then moves centres
 *     to the means of their points;
 *   - it stops when the labels no longer change, or when the total squared
 *     centre shift is ≤ tol × (mean per-feature variance of the data);
 *   - when it stops on the shift rule, points are reassigned once more to the
 *     final centres before the inertia is computed;
 *   - a cluster that empties is moved onto the points farthest from their
 *     centres.
 */
import { runSteps, type Steps } from '../util/steps';
import { checkPoints, type PointArray } from './points';
import { Random, type Seed } from '../util/random';

export type KMeansInit = 'k-means++' | 'random' | Float32Array | Float64Array;

export interface KMeansOptions {
  k: number;
  /** 'k-means++' (default), 'random' (k distinct points), or explicit K×d centres. */
  init?: KMeansInit;
  /** Independent runs; the one with the lowest inertia wins (default 1; forced to 1 for explicit centres). */
  nInit?: number;
  maxIter?: number;
  /** Relative tolerance on the centre shift (default 1e-4, as scikit-learn). */
  tol?: number;
  seed?: Seed;
}

export interface KMeansResult {
  k: number;
  dims: number;
  /** K×d row-major. */
  centres: Float64Array;
  labels: Int32Array;
  /** Σ ‖x_i − c_label(i)‖². */
  inertia: number;
  /** Lloyd iterations of the winning run. */
  iterations: number;
  /** True when the labels stopped changing or the shift fell under tol. */
  converged: boolean;
}

/**
 * Greedy k-means++ seeding: each new centre is the best (lowest potential)
 * of 2 + ⌊ln K⌋ candidates drawn with probability ∝ D², the squared distance
 * to the nearest centre chosen so far.
 */
export function kmeansPlusPlus(points: PointArray, dims: number, k: number, seed: Seed | Random = 0): Float64Array {
  const n = checkPoints(points, dims);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`kmeans++: need 1 ≤ K ≤ n = ${n}, got ${k}`);
  const rng = seed instanceof Random ? seed : new Random(seed);
  const x = points instanceof Float64Array ? points : Float64Array.from(points);
  const centres = new Float64Array(k * dims);
  const trials = 2 + Math.floor(Math.log(k));

  const first = rng.int(n);
  for (let t = 0; t < dims; t++) centres[t] = x[first * dims + t];
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = rowDistance(x, i, centres, 0, dims);
    potential += closest[i];
  }
  const cumulative = new Float64Array(n);
  const candidateClosest = new Float64Array(n);
  const bestClosest = new Float64Array(n);

  for (let c = 1; c < k; c++) {
    let running = 0;
    for (let i = 0; i < n; i++) {
      running += closest[i];
      cumulative[i] = running;
    }
    let bestCandidate = -1;
    let bestPotential = Infinity;
    for (let trial = 0; trial < trials; trial++) {
      let candidate: number;
      if (running > 0) {
        candidate = lowerBound(cumulative, rng.uniform() * running);
        if (candidate >= n) candidate = n - 1;
      } else {
        // All points coincide with chosen centres: any point is as good.
        candidate = rng.int(n);
      }
      let candidatePotential = 0;
      for (let i = 0; i < n; i++) {
        const dist = rowDistance(x, i, x, candidate, dims);
        const value = dist < closest[i] ? dist : closest[i];
        candidateClosest[i] = value;
        candidatePotential += value;
      }
      if (candidatePotential < bestPotential) {
        bestPotential = candidatePotential;
        bestCandidate = candidate;
        bestClosest.set(candidateClosest);
      }
    }
    for (let t = 0; t < dims; t++) centres[c * dims + t] = x[bestCandidate * dims + t];
    closest.set(bestClosest);
  }
  return centres;
}

/** First index i with cumulative[i] > value (cumulative is non-decreasing). */
function lowerBound(cumulative: Float64Array, value: number): number {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function rowDistance(a: Float64Array, i: number, b: Float64Array, j: number, dims: number): number {
  let s = 0;
  const ai = i * dims;
  const bj = j * dims;
  for (let t = 0; t < dims; t++) {
    const diff = a[ai + t] - b[bj + t];
    s += diff * diff;
  }
  return s;
}

/** Assigns each point to its nearest centre; returns the inertia. Writes labels and distances. */
function assign(
  x: Float64Array,
  n: number,
  dims: number,
  centres: Float64Array,
  k: number,
  labels: Int32Array,
  distances: Float64Array,
): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let j = 0; j < k; j++) {
      const dist = rowDistance(x, i, centres, j, dims);
      if (dist < bestDistance) {
        bestDistance = dist;
        best = j;
      }
    }
    labels[i] = best;
    distances[i] = bestDistance;
    inertia += bestDistance;
  }
  return inertia;
}

function lloyd(
  x: Float64Array,
  n: number,
  dims: number,
  initialCentres: Float64Array,
  k: number,
  maxIter: number,
  absoluteTol: number,
): KMeansResult {
  let centres = initialCentres.slice();
  let next = new Float64Array(k * dims);
  const counts = new Float64Array(k);
  const labels = new Int32Array(n);
  const previousLabels = new Int32Array(n).fill(-1);
  const distances = new Float64Array(n);
  let strict = false;
  let converged = false;
  let iterations = 0;

  for (let iteration = 0; iteration < maxIter; iteration++) {
    iterations = iteration + 1;
    assign(x, n, dims, centres, k, labels, distances);
    next.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const j = labels[i];
      counts[j] += 1;
      const cb = j * dims;
      const xb = i * dims;
      for (let t = 0; t < dims; t++) next[cb + t] += x[xb + t];
    }
    relocateEmptyClusters(x, n, dims, k, labels, distances, next, counts);
    for (let j = 0; j < k; j++) {
      const inv = 1 / counts[j];
      for (let t = 0; t < dims; t++) next[j * dims + t] *= inv;
    }
    let shift = 0;
    for (let q = 0; q < next.length; q++) {
      const diff = next[q] - centres[q];
      shift += diff * diff;
    }
    const swap = centres;
    centres = next;
    next = swap;

    let same = true;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== previousLabels[i]) {
        same = false;
        break;
      }
    }
    if (same) {
      strict = true;
      converged = true;
      break;
    }
    if (shift <= absoluteTol) {
      converged = true;
      break;
    }
    previousLabels.set(labels);
  }
  // Labels belong to the centres before the last move unless they had settled.
  const inertia = strict
    ? sumSquaredToAssigned(x, n, dims, centres, labels)
    : assign(x, n, dims, centres, k, labels, distances);
  return { k, dims, centres, labels, inertia, iterations, converged };
}

function sumSquaredToAssigned(x: Float64Array, n: number, dims: number, centres: Float64Array, labels: Int32Array): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += rowDistance(x, i, centres, labels[i], dims);
  return inertia;
}

/**
 * Gives each empty cluster the point currently farthest from its centre,
 * taking that point out of its old cluster's running sum.
 */
function relocateEmptyClusters(
  x: Float64Array,
  n: number,
  dims: number,
  k: number,
  labels: Int32Array,
  distances: Float64Array,
  sums: Float64Array,
  counts: Float64Array,
): void {
  let empty = 0;
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty++;
  if (empty === 0) return;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => distances[b] - distances[a] || a - b);
  let next = 0;
  for (let j = 0; j < k; j++) {
    if (counts[j] !== 0) continue;
    // Skip points whose cluster would empty in turn.
    while (next < n && counts[labels[order[next]]] <= 1) next++;
    if (next >= n) break;
    const i = order[next++];
    const old = labels[i];
    counts[old] -= 1;
    for (let t = 0; t < dims; t++) {
      sums[old * dims + t] -= x[i * dims + t];
      sums[j * dims + t] = x[i * dims + t];
    }
    counts[j] = 1;
    labels[i] = j;
    distances[i] = 0;
  }
}

/** k-means clustering of n points of dimension `dims`. */
export function kmeans(points: PointArray, dims: number, options: KMeansOptions): KMeansResult {
  return runSteps(kmeansSteps(points, dims, options));
}

/** kmeans() as steps (util/steps.ts): one step per start. */
export function* kmeansSteps(points: PointArray, dims: number, options: KMeansOptions): Steps<KMeansResult> {
  const n = checkPoints(points, dims);
  const k = options.k;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`kmeans: K must be an integer ≥ 1, got ${k}`);
  if (k > n) throw new RangeError(`kmeans: K = ${k} clusters needs at least ${k} points, got ${n}`);
  const maxIter = options.maxIter ?? 300;
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new RangeError(`kmeans: maxIter must be an integer ≥ 1, got ${maxIter}`);
  const tol = options.tol ?? 1e-4;
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new RangeError(`kmeans: tol must be a finite number ≥ 0, got ${tol}`);
  const init = options.init ?? 'k-means++';
  const explicit = typeof init !== 'string';
  const nInit = explicit ? 1 : (options.nInit ?? 1);
  if (!Number.isInteger(nInit) || nInit < 1) throw new RangeError(`kmeans: nInit must be an integer ≥ 1, got ${nInit}`);

  const x = points instanceof Float64Array ? points : Float64Array.from(points);
  const absoluteTol = tol * meanFeatureVariance(x, n, dims);
  const rng = new Random(options.seed ?? 0);

  let best: KMeansResult | null = null;
  for (let run = 0; run < nInit; run++) {
    if (run > 0) yield;
    let start: Float64Array;
    if (explicit) {
      if (init.length !== k * dims) {
        throw new RangeError(`kmeans: init centres must have K×d = ${k * dims} values, got ${init.length}`);
      }
      start = Float64Array.from(init);
      checkPoints(start, dims, 'kmeans init centres');
    } else if (init === 'k-means++') {
      start = kmeansPlusPlus(x, dims, k, rng);
    } else if (init === 'random') {
      const picks = rng.sample(n, k);
      start = new Float64Array(k * dims);
      for (let j = 0; j < k; j++) for (let t = 0; t < dims; t++) start[j * dims + t] = x[picks[j] * dims + t];
    } else {
      throw new RangeError(`kmeans: unknown init '${String(init)}'`);
    }
    const result = lloyd(x, n, dims, start, k, maxIter, absoluteTol);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best!;
}

function meanFeatureVariance(x: Float64Array, n: number, dims: number): number {
  let total = 0;
  for (let t = 0; t < dims; t++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * dims + t];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) {
      const diff = x[i * dims + t] - mean;
      variance += diff * diff;
    }
    total += variance / n;
  }
  return total / dims;
}
