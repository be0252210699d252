/**
 * Fuzzy c-means (seed 000 §4, SPEC §1 "Clustering").
 *
 * Each iteration t:
 *   1. centres  c_j = Σ_i u_ij^m x_i / Σ_i u_ij^m            (from U_{t−1})
 *   2. members  u_ij = 1 / Σ_k (‖x_i − c_j‖ / ‖x_i − c_k‖)^(2/(m−1))
 *   3. stop when ‖U_t − U_{t−1}‖ < tol, or after maxIter iterations.
 *
 * The seed leaves the matrix norm unnamed; the usual Python implementation
 * (scikit-fuzzy's cmeans) uses the Frobenius norm over the whole n×K matrix,
 * which is the default here. Note that this norm grows with √n, so a fixed tol is stricter on more
 * points. `norm: 'max'` (largest single change) is offered as a size-free
 * alternative.
 *
 * Zero distances: a point that sits exactly on one or more centres gets its
 * whole membership split evenly over those centres (1 when there is one), and
 * 0 elsewhere, instead of dividing by zero.
 *
 * Memberships are computed as w_j / Σ_k w_k with w_j = (d²_min / d²_j)^(1/(m−1)),
 * algebraically the same as step 2 but free of overflow when m is close to 1
 * or a point is very close to a centre.
 */
import { runSteps, type Steps } from '../util/steps';
import { checkPoints, type PointArray } from './points';
import { Random, type Seed } from '../util/random';

export type FcmNorm = 'frobenius' | 'max';

export interface FcmIterationInfo {
  /** 1-based iteration number. */
  iteration: number;
  /** ‖U_t − U_{t−1}‖ in the chosen norm. */
  delta: number;
  /** J_m(U_{t−1}, c_t) = Σ u_ij^m ‖x_i − c_j‖² for this iteration. */
  objective: number;
}

export interface FcmOptions {
  /** Number of clusters K (2 ≤ K ≤ n). */
  k: number;
  /** Fuzziness m > 1. The seed uses 1.25 < m < 2 "generally"; default 2. */
  m?: number;
  /** Stopping threshold on ‖U_t − U_{t−1}‖ (seed: 0.005). */
  tol?: number;
  /** Most iterations (default 1000). */
  maxIter?: number;
  /** Seed of the random initial partition matrix (ignored when initialU is given). Default 0. */
  seed?: Seed;
  /** Initial partition matrix, n×K row-major; rows are normalised to sum to 1. */
  initialU?: Float32Array | Float64Array;
  /**
   * Random starts (as scikit-learn's k-means `n_init`); the run with the lowest
   * final objective J_m wins. FCM, like k-means, stops in local minima: on a
   * 1-D-like latent with unevenly spaced groups one start in a few merges two
   * groups and splits another. Ignored when initialU is given. Default 1.
   */
  nInit?: number;
  /** Matrix norm of the stopping rule (default 'frobenius'). */
  norm?: FcmNorm;
  /** Called after every iteration; return 'stop' to end early (result.stopped is then true). */
  onIteration?: (info: FcmIterationInfo) => void | 'stop';
}

export interface FcmResult {
  k: number;
  m: number;
  dims: number;
  /** K×d row-major: the centres of the last iteration. */
  centres: Float64Array;
  /** n×K row-major final memberships; each row sums to 1. */
  u: Float64Array;
  /** argmax_j u_ij per point (lowest j on ties). */
  labels: Int32Array;
  /** Fuzzy partition coefficient Σ u_ij² / n, in [1/K, 1]. */
  fpc: number;
  /** Iterations run. */
  iterations: number;
  /** True when the stopping threshold was reached. */
  converged: boolean;
  /** True when onIteration asked to stop. */
  stopped: boolean;
  /** ‖U_t − U_{t−1}‖ at the last iteration. */
  delta: number;
  /** Objective J_m per iteration (length = iterations). */
  objective: Float64Array;
}

export const FCM_DEFAULTS = {
  m: 2,
  tol: 0.005,
  maxIter: 1000,
  norm: 'frobenius' as FcmNorm,
  seed: 0,
  nInit: 1,
} as const;

function checkFcmParameters(n: number, k: number, m: number, tol: number, maxIter: number): void {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`fcm: K must be an integer ≥ 2, got ${k}`);
  if (k > n) throw new RangeError(`fcm: K = ${k} clusters needs at least ${k} points, got ${n}`);
  if (!(m > 1) || !Number.isFinite(m)) throw new RangeError(`fcm: fuzziness m must be a finite number > 1, got ${m}`);
  if (!(tol > 0) || !Number.isFinite(tol)) throw new RangeError(`fcm: tol must be a finite number > 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) {
    throw new RangeError(`fcm: maxIter must be an integer ≥ 1, got ${maxIter}`);
  }
}

/** A random n×K partition matrix with rows summing to 1 (uniform entries, then row-normalised). */
export function randomPartition(n: number, k: number, seed: Seed = 0): Float64Array {
  const rng = new Random(seed);
  const u = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = rng.uniform();
      u[base + j] = v;
      sum += v;
    }
    if (sum === 0) {
      for (let j = 0; j < k; j++) u[base + j] = 1 / k;
    } else {
      const inv = 1 / sum;
      for (let j = 0; j < k; j++) u[base + j] *= inv;
    }
  }
  return u;
}

function normalisedCopyOfInitialU(initial: Float32Array | Float64Array, n: number, k: number): Float64Array {
  if (initial.length !== n * k) {
    throw new RangeError(`fcm: initialU must have n×K = ${n}×${k} = ${n * k} entries, got ${initial.length}`);
  }
  const u = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = initial[base + j];
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new RangeError(`fcm: initialU[${i}, ${j}] = ${v}; memberships must be finite and ≥ 0`);
      }
      sum += v;
    }
    if (!(sum > 0)) throw new RangeError(`fcm: initialU row ${i} sums to 0; each row needs a positive total`);
    for (let j = 0; j < k; j++) u[base + j] = initial[base + j] / sum;
  }
  return u;
}

/**
 * How to raise to a fixed exponent without Math.pow (~100 ns in V8):
 * `quarters` is 4 × the fractional part when the exponent is a multiple of
 * ¼ up to 16 (products and square roots, exact to an ulp or two), or −1 for
 * exp(e·ln x).
 */
interface PowerPlan {
  exponent: number;
  whole: number;
  quarters: number;
}

function planPower(exponent: number): PowerPlan {
  const whole = Math.floor(exponent);
  const fourTimesFraction = (exponent - whole) * 4;
  const quarters = whole <= 16 && Number.isInteger(fourTimesFraction) ? fourTimesFraction : -1;
  return { exponent, whole, quarters };
}

/** x^exponent for x ≥ 0 (a small top-level function so V8 inlines it into the loops). */
function raise(x: number, exponent: number, whole: number, quarters: number): number {
  if (quarters < 0) return x > 0 ? Math.exp(exponent * Math.log(x)) : 0;
  let result = whole === 1 ? x : whole === 2 ? x * x : 1;
  if (whole > 2) for (let q = 0; q < whole; q++) result *= x;
  if (quarters === 0) return result;
  const root = Math.sqrt(x);
  if (quarters === 2) return result * root;
  const fourthRoot = Math.sqrt(root);
  return quarters === 1 ? result * fourthRoot : result * root * fourthRoot;
}

/** Hard labels: index of the largest membership per row (lowest index on ties). */
export function argmaxRows(u: Float64Array | Float32Array, k: number): Int32Array {
  const n = u.length / k;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let best = 0;
    let bestValue = u[base];
    for (let j = 1; j < k; j++) {
      if (u[base + j] > bestValue) {
        bestValue = u[base + j];
        best = j;
      }
    }
    labels[i] = best;
  }
  return labels;
}

/** Fuzzy partition coefficient Σ u_ij² / n. */
export function partitionCoefficient(u: Float64Array | Float32Array, k: number): number {
  const n = u.length / k;
  let sum = 0;
  for (let i = 0; i < u.length; i++) sum += u[i] * u[i];
  return sum / n;
}

/**
 * Fuzzy c-means over n points of dimension `dims` (row-major in `points`).
 * Runs in float64 whatever the input type. Start i > 0 of `nInit` draws its
 * partition from the seed `${seed}/${i}`, so start 0 is the plain seeded run.
 */
export function fcm(points: PointArray, dims: number, options: FcmOptions): FcmResult {
  return runSteps(fcmSteps(points, dims, options));
}

/** fcm() as steps (util/steps.ts): one step per iteration of each start. */
export function* fcmSteps(points: PointArray, dims: number, options: FcmOptions): Steps<FcmResult> {
  const nInit = options.initialU ? 1 : (options.nInit ?? FCM_DEFAULTS.nInit);
  if (!Number.isInteger(nInit) || nInit < 1) throw new RangeError(`fcm: nInit must be an integer ≥ 1, got ${nInit}`);
  const seed = options.seed ?? FCM_DEFAULTS.seed;
  let best = yield* fcmOnce(points, dims, options);
  for (let start = 1; start < nInit; start++) {
    const candidate = yield* fcmOnce(points, dims, { ...options, seed: `${seed}/${start}` });
    if (finalObjective(candidate) < finalObjective(best)) best = candidate;
  }
  return best;
}

function finalObjective(result: FcmResult): number {
  return result.objective.length > 0 ? result.objective[result.objective.length - 1] : Infinity;
}

// A generator: one iteration of the loop below per step (a large set takes seconds per start).
function* fcmOnce(points: PointArray, dims: number, options: FcmOptions): Steps<FcmResult> {
  const n = checkPoints(points, dims);
  const k = options.k;
  const m = options.m ?? FCM_DEFAULTS.m;
  const tol = options.tol ?? FCM_DEFAULTS.tol;
  const maxIter = options.maxIter ?? FCM_DEFAULTS.maxIter;
  const norm = options.norm ?? FCM_DEFAULTS.norm;
  if (norm !== 'frobenius' && norm !== 'max') throw new RangeError(`fcm: unknown norm '${String(norm)}'`);
  checkFcmParameters(n, k, m, tol, maxIter);

  // One monomorphic float64 view keeps the hot loops fast in V8.
  const x = points instanceof Float64Array ? points : Float64Array.from(points);
  const u = options.initialU
    ? normalisedCopyOfInitialU(options.initialU, n, k)
    : randomPartition(n, k, options.seed ?? FCM_DEFAULTS.seed);

  // The two powers of the loop: u ↦ u^m and r ↦ r^(1/(m−1)).
  const planM = planPower(m);
  const mWhole = planM.whole;
  const mQuarters = planM.quarters;
  const planW = planPower(1 / (m - 1));
  const wExponent = planW.exponent;
  const wWhole = planW.whole;
  const wQuarters = planW.quarters;
  // u^m of the current U: used by the centre update and by the objective.
  const um = new Float64Array(n * k);
  for (let i = 0; i < um.length; i++) um[i] = raise(u[i], m, mWhole, mQuarters);
  const ratios = new Float64Array(k);

  const centres = new Float64Array(k * dims);
  const weights = new Float64Array(k);
  const d2 = new Float64Array(k);
  const objective: number[] = [];
  let iterations = 0;
  let converged = false;
  let stopped = false;
  let delta = Infinity;

  for (let iteration = 1; iteration <= maxIter; iteration++) {
    // 1. Centres from U_{t−1}.
    const previousCentres = iteration > 1 ? centres.slice() : null;
    centres.fill(0);
    weights.fill(0);
    for (let i = 0; i < n; i++) {
      const ub = i * k;
      const xb = i * dims;
      if (dims === 2) {
        // 2-D latent codes are the main case (seed 000); unrolled it runs ~2× faster.
        const x0 = x[xb];
        const x1 = x[xb + 1];
        for (let j = 0; j < k; j++) {
          const w = um[ub + j];
          weights[j] += w;
          centres[2 * j] += w * x0;
          centres[2 * j + 1] += w * x1;
        }
        continue;
      }
      for (let j = 0; j < k; j++) {
        const w = um[ub + j];
        if (w === 0) continue;
        weights[j] += w;
        const cb = j * dims;
        for (let t = 0; t < dims; t++) centres[cb + t] += w * x[xb + t];
      }
    }
    for (let j = 0; j < k; j++) {
      const cb = j * dims;
      if (weights[j] > 0) {
        const inv = 1 / weights[j];
        for (let t = 0; t < dims; t++) centres[cb + t] *= inv;
      } else if (previousCentres) {
        // Every point sits on another centre: nothing pulls this one, so it stays.
        for (let t = 0; t < dims; t++) centres[cb + t] = previousCentres[cb + t];
      } else {
        throw new RangeError(`fcm: cluster ${j} has zero total membership in initialU`);
      }
    }

    // 2. Memberships from the new centres, fused with the objective and ‖ΔU‖.
    let objectiveSum = 0;
    let deltaSquares = 0;
    let deltaMax = 0;
    for (let i = 0; i < n; i++) {
      const ub = i * k;
      const xb = i * dims;
      let minD2 = Infinity;
      if (dims === 2) {
        const x0 = x[xb];
        const x1 = x[xb + 1];
        for (let j = 0; j < k; j++) {
          const a = x0 - centres[2 * j];
          const b = x1 - centres[2 * j + 1];
          const s = a * a + b * b;
          d2[j] = s;
          if (s < minD2) minD2 = s;
          objectiveSum += um[ub + j] * s;
        }
      } else {
        for (let j = 0; j < k; j++) {
          const cb = j * dims;
          let s = 0;
          for (let t = 0; t < dims; t++) {
            const diff = x[xb + t] - centres[cb + t];
            s += diff * diff;
          }
          d2[j] = s;
          if (s < minD2) minD2 = s;
          objectiveSum += um[ub + j] * s;
        }
      }
      // After this block d2 holds the new membership row and ratios its m-th powers.
      if (minD2 === 0) {
        let zeros = 0;
        for (let j = 0; j < k; j++) if (d2[j] === 0) zeros++;
        const share = 1 / zeros;
        const shareM = raise(share, m, mWhole, mQuarters);
        for (let j = 0; j < k; j++) {
          const onCentre = d2[j] === 0;
          d2[j] = onCentre ? share : 0;
          ratios[j] = onCentre ? shareM : 0;
        }
      } else {
        // w_j = r_j^(1/(m−1)) with r_j = d²_min / d²_j ∈ (0, 1]; u_j = w_j / S.
        // u_j^m = r_j^(m/(m−1)) / S^m = r_j · w_j · S^(−m): one power per point instead of K.
        let sum = 0;
        for (let j = 0; j < k; j++) {
          const ratio = minD2 / d2[j];
          const w = raise(ratio, wExponent, wWhole, wQuarters);
          ratios[j] = ratio * w;
          d2[j] = w;
          sum += w;
        }
        const inv = 1 / sum;
        const invPowerM = 1 / raise(sum, m, mWhole, mQuarters);
        for (let j = 0; j < k; j++) {
          d2[j] *= inv;
          ratios[j] *= invPowerM;
        }
      }
      for (let j = 0; j < k; j++) {
        const next = d2[j];
        const change = next - u[ub + j];
        deltaSquares += change * change;
        const absChange = change < 0 ? -change : change;
        if (absChange > deltaMax) deltaMax = absChange;
        u[ub + j] = next;
        um[ub + j] = ratios[j];
      }
    }

    iterations = iteration;
    delta = norm === 'frobenius' ? Math.sqrt(deltaSquares) : deltaMax;
    objective.push(objectiveSum);
    const request = options.onIteration?.({ iteration, delta, objective: objectiveSum });
    if (delta < tol) {
      converged = true;
      break;
    }
    if (request === 'stop') {
      stopped = true;
      break;
    }
    yield;
  }

  return {
    k,
    m,
    dims,
    centres,
    u,
    labels: argmaxRows(u, k),
    fpc: partitionCoefficient(u, k),
    iterations,
    converged,
    stopped,
    delta,
    objective: Float64Array.from(objective),
  };
}

export interface FpcSweepOptions {
  /** Cluster counts to try (default 2…12, capped at n). */
  kRange?: readonly number[];
  m?: number;
  tol?: number;
  maxIter?: number;
  seed?: Seed;
  norm?: FcmNorm;
  nInit?: number;
  /** Called after each K finishes; return 'stop' to end the sweep early. */
  onK?: (k: number, result: FcmResult) => void | 'stop';
}

export interface FpcSweepResult {
  k: Int32Array;
  fpc: Float64Array;
  iterations: Int32Array;
  /** Final objective J_m per K. */
  objective: Float64Array;
}

/**
 * FPC against K (seed 000 Fig. 2). Each K runs FCM from a random partition
 * drawn with the same `seed`, so a sweep is reproducible and fcm() with the
 * same seed and K gives the same FPC.
 */
export function fpcSweep(points: PointArray, dims: number, options: FpcSweepOptions = {}): FpcSweepResult {
  return runSteps(fpcSweepSteps(points, dims, options));
}

/** fpcSweep() as steps (util/steps.ts): one step per FCM iteration. */
export function* fpcSweepSteps(points: PointArray, dims: number, options: FpcSweepOptions = {}): Steps<FpcSweepResult> {
  const n = checkPoints(points, dims);
  const requested = options.kRange ?? [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const ks = requested.filter((k) => k <= n);
  if (ks.length === 0) throw new RangeError(`fpcSweep: no K in [${requested.join(', ')}] fits ${n} points`);
  const out: FpcSweepResult = {
    k: Int32Array.from(ks),
    fpc: new Float64Array(ks.length),
    iterations: new Int32Array(ks.length),
    objective: new Float64Array(ks.length),
  };
  let done = ks.length;
  for (let index = 0; index < ks.length; index++) {
    const result = yield* fcmSteps(points, dims, {
      k: ks[index],
      m: options.m,
      tol: options.tol,
      maxIter: options.maxIter,
      seed: options.seed,
      norm: options.norm,
      nInit: options.nInit,
    });
    out.fpc[index] = result.fpc;
    out.iterations[index] = result.iterations;
    out.objective[index] = result.objective[result.objective.length - 1];
    if (options.onK?.(ks[index], result) === 'stop') {
      done = index + 1;
      break;
    }
  }
  if (done < ks.length) {
    return {
      k: out.k.slice(0, done),
      fpc: out.fpc.slice(0, done),
      iterations: out.iterations.slice(0, done),
      objective: out.objective.slice(0, done),
    };
  }
  return out;
}
