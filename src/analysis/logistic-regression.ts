/**
 * Multinomial logistic regression with an L2 penalty on the weights (not on
 * the intercepts), the model of scikit-learn's
 * `LogisticRegression(multi_class='multinomial', C=C)`: it minimises
 *
 *   ½ ‖W‖² + C · Σ_i −log softmax(W x_i + b)_{y_i}
 *
 * over W (classes × features) and b (classes). Fitted by Newton's method
 * with a backtracking line search (the objective is convex; a few hundred
 * parameters at most here, so the full Hessian is cheap). A simple baseline
 * for the classifiers (issue 15): fit on a few image statistics, it says how
 * much a network adds. Pure, DOM-free.
 *
 * The softmax is unchanged when the same constant is added to every
 * intercept, so b is unique only up to that constant; the predictions, the
 * probabilities and W are unique. The Newton system gets a 1e-9 ridge so the
 * intercept direction stays solvable.
 */

export interface LogisticModel {
  classes: number;
  features: number;
  /** classes × features, row-major. */
  weights: Float64Array;
  intercepts: Float64Array;
  iterations: number;
}

export interface LogisticOptions {
  /** Inverse regularisation strength (scikit-learn's C; default 1). */
  C?: number;
  maxIterations?: number;
  /** Stop when the largest gradient component is below this (default 1e-9 times the sample count). */
  tolerance?: number;
}

/** Row-major n × d features, labels 0 … classes − 1. */
export function fitLogisticRegression(x: ArrayLike<number>, labels: ArrayLike<number>, classes: number, options: LogisticOptions = {}): LogisticModel {
  const n = labels.length;
  if (n === 0) throw new RangeError('no samples');
  const d = x.length / n;
  if (!Number.isInteger(d)) throw new RangeError(`${x.length} feature values for ${n} samples`);
  const K = classes;
  const C = options.C ?? 1;
  const P = K * (d + 1); // per class: d weights then the intercept
  const theta = new Float64Array(P);
  const at = (k: number, j: number) => k * (d + 1) + j;
  const probs = new Float64Array(n * K);

  const objective = (t: Float64Array): number => {
    let penalty = 0;
    for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) penalty += t[at(k, j)] ** 2;
    let loss = 0;
    const z = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let s = t[at(k, d)];
        for (let j = 0; j < d; j++) s += t[at(k, j)] * x[i * d + j];
        z[k] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(z[k] - max);
      loss += max + Math.log(sum) - z[labels[i]];
    }
    return 0.5 * penalty + C * loss;
  };

  const softmaxAll = (t: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let s = t[at(k, d)];
        for (let j = 0; j < d; j++) s += t[at(k, j)] * x[i * d + j];
        probs[i * K + k] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += probs[i * K + k] = Math.exp(probs[i * K + k] - max);
      for (let k = 0; k < K; k++) probs[i * K + k] /= sum;
    }
  };

  const tolerance = options.tolerance ?? 1e-9 * Math.max(1, n);
  const maxIterations = options.maxIterations ?? 100;
  let value = objective(theta);
  let iterations = 0;
  const xt = new Float64Array(d + 1);
  for (; iterations < maxIterations; iterations++) {
    softmaxAll(theta);
    const grad = new Float64Array(P);
    const hess = new Float64Array(P * P);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) xt[j] = x[i * d + j];
      xt[d] = 1;
      for (let k = 0; k < K; k++) {
        const pk = probs[i * K + k];
        const r = C * (pk - (labels[i] === k ? 1 : 0));
        for (let j = 0; j <= d; j++) grad[at(k, j)] += r * xt[j];
        for (let l = k; l < K; l++) {
          const w = C * pk * ((k === l ? 1 : 0) - probs[i * K + l]);
          if (w === 0) continue;
          for (let a = 0; a <= d; a++) {
            const wa = w * xt[a];
            const row = at(k, a) * P;
            for (let b = 0; b <= d; b++) hess[row + at(l, b)] += wa * xt[b];
          }
        }
      }
    }
    for (let k = 0; k < K; k++)
      for (let j = 0; j < d; j++) {
        grad[at(k, j)] += theta[at(k, j)];
        hess[at(k, j) * P + at(k, j)] += 1;
      }
    // Mirror the upper blocks (l ≥ k) into the lower ones.
    for (let r = 0; r < P; r++) for (let c = 0; c < r; c++) if (Math.floor(c / (d + 1)) < Math.floor(r / (d + 1))) hess[r * P + c] = hess[c * P + r];
    for (let r = 0; r < P; r++) hess[r * P + r] += 1e-9;
    let gmax = 0;
    for (const g of grad) gmax = Math.max(gmax, Math.abs(g));
    if (gmax < tolerance) break;
    const step = choleskySolve(hess, grad, P);
    let scale = 1;
    let next = theta;
    let nextValue = value;
    for (let tries = 0; tries < 40; tries++) {
      next = theta.map((t, p) => t - scale * step[p]);
      nextValue = objective(next);
      if (nextValue <= value) break;
      scale /= 2;
    }
    if (!(nextValue <= value)) break;
    const converged = value - nextValue <= 1e-15 * Math.max(1, Math.abs(value));
    theta.set(next);
    value = nextValue;
    if (converged) {
      iterations++;
      break;
    }
  }
  const weights = new Float64Array(K * d);
  const intercepts = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < d; j++) weights[k * d + j] = theta[at(k, j)];
    intercepts[k] = theta[at(k, d)];
  }
  // Centre the intercepts (their common shift is free): what scikit-learn's fit lands on is not guaranteed, the probabilities are.
  const mean = intercepts.reduce((a, b) => a + b, 0) / K;
  for (let k = 0; k < K; k++) intercepts[k] -= mean;
  return { classes: K, features: d, weights, intercepts, iterations };
}

/** Class probabilities, n × classes row-major. */
export function logisticProbabilities(model: LogisticModel, x: ArrayLike<number>): Float64Array {
  const { classes: K, features: d } = model;
  const n = x.length / d;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = model.intercepts[k];
      for (let j = 0; j < d; j++) s += model.weights[k * d + j] * x[i * d + j];
      out[i * K + k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += out[i * K + k] = Math.exp(out[i * K + k] - max);
    for (let k = 0; k < K; k++) out[i * K + k] /= sum;
  }
  return out;
}

export function logisticPredict(model: LogisticModel, x: ArrayLike<number>): Int32Array {
  const p = logisticProbabilities(model, x);
  const K = model.classes;
  const out = new Int32Array(p.length / K);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** Column means and standard deviations (population) of row-major n × d data; an sd of 0 becomes 1. */
export function standardiser(x: ArrayLike<number>, d: number): { mean: Float64Array; sd: Float64Array; apply: (v: ArrayLike<number>) => Float64Array } {
  const n = x.length / d;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sd[j] += (x[i * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  return { mean, sd, apply: (v) => Float64Array.from(v, (value, p) => (value - mean[p % d]) / sd[p % d]) };
}

/** Solves A s = g for a symmetric positive-definite A (n × n, row-major). */
function choleskySolve(A: Float64Array, g: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * n + j];
    }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = g[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const out = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * out[k];
    out[i] = s / L[i * n + i];
  }
  return out;
}
