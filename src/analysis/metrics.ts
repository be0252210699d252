/**
 * Clustering and correlation metrics (seed 004: silhouette, Davies–Bouldin,
 * homogeneity, completeness, V-measure; seed 002: Hungarian matching of
 * clusters to labels). Definitions follow scikit-learn / SciPy so values can
 * be checked against them; natural logarithms throughout.
 *
 * Labels are any integers (e.g. −1 for "unassigned"); they are only compared
 * for equality.
 */
import { linearSumAssignment } from './hungarian';
import { checkLabels, checkPoints, type NumericArray, type PointArray } from './points';
import { Random, type Seed } from '../util/random';

/** Maps arbitrary integer labels to 0…C−1 in ascending label order. */
export function encodeLabels(labels: NumericArray): { codes: Int32Array; values: number[] } {
  const n = labels.length;
  const distinct = new Set<number>();
  for (let i = 0; i < n; i++) distinct.add(labels[i]);
  const values = Array.from(distinct).sort((a, b) => a - b);
  const index = new Map<number, number>();
  values.forEach((v, q) => index.set(v, q));
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = index.get(labels[i])!;
  return { codes, values };
}

export interface ContingencyTable {
  /** rows×cols counts, row-major; rows are labels of `a`, columns labels of `b`. */
  table: Float64Array;
  rows: number;
  cols: number;
  rowLabels: number[];
  colLabels: number[];
}

/** Counts of points per (label of a, label of b) pair. */
export function contingencyTable(a: NumericArray, b: NumericArray): ContingencyTable {
  if (a.length !== b.length) throw new RangeError(`contingencyTable: ${a.length} vs ${b.length} labels`);
  checkLabels(a, a.length, 'first labels');
  checkLabels(b, b.length, 'second labels');
  const ea = encodeLabels(a);
  const eb = encodeLabels(b);
  const rows = ea.values.length;
  const cols = eb.values.length;
  const table = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) table[ea.codes[i] * cols + eb.codes[i]] += 1;
  return { table, rows, cols, rowLabels: ea.values, colLabels: eb.values };
}

function pairs(count: number): number {
  return (count * (count - 1)) / 2;
}

/** Adjusted Rand index (Hubert & Arabie). 1 for identical partitions, ≈0 for random ones. */
export function adjustedRandIndex(labelsTrue: NumericArray, labelsPred: NumericArray): number {
  const { table, rows, cols } = contingencyTable(labelsTrue, labelsPred);
  const n = labelsTrue.length;
  let sumCells = 0;
  for (let q = 0; q < table.length; q++) sumCells += pairs(table[q]);
  let sumRows = 0;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += table[i * cols + j];
    sumRows += pairs(s);
  }
  let sumCols = 0;
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += table[i * cols + j];
    sumCols += pairs(s);
  }
  // No pair is split by one partition and joined by the other: identical up to renaming.
  if (sumCells === sumRows && sumCells === sumCols) return 1;
  const expected = (sumRows * sumCols) / pairs(n);
  const maximum = (sumRows + sumCols) / 2;
  return (sumCells - expected) / (maximum - expected);
}

function entropyOfCounts(counts: Float64Array, n: number): number {
  let h = 0;
  for (let q = 0; q < counts.length; q++) {
    const c = counts[q];
    if (c > 0) h -= (c / n) * Math.log(c / n);
  }
  return h;
}

export interface HomogeneityCompleteness {
  homogeneity: number;
  completeness: number;
  vMeasure: number;
}

/**
 * Homogeneity (each cluster holds one class), completeness (each class lies
 * in one cluster) and their weighted harmonic mean, the V-measure.
 */
export function homogeneityCompletenessVMeasure(
  labelsTrue: NumericArray,
  labelsPred: NumericArray,
  beta = 1,
): HomogeneityCompleteness {
  const n = labelsTrue.length;
  if (n === 0) return { homogeneity: 1, completeness: 1, vMeasure: 1 };
  const { table, rows, cols } = contingencyTable(labelsTrue, labelsPred);
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      rowSums[i] += table[i * cols + j];
      colSums[j] += table[i * cols + j];
    }
  }
  const entropyTrue = entropyOfCounts(rowSums, n);
  const entropyPred = entropyOfCounts(colSums, n);
  let mutualInformation = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const c = table[i * cols + j];
      if (c > 0) mutualInformation += (c / n) * Math.log((c * n) / (rowSums[i] * colSums[j]));
    }
  }
  if (mutualInformation < 0) mutualInformation = 0;
  const homogeneity = entropyTrue === 0 ? 1 : mutualInformation / entropyTrue;
  const completeness = entropyPred === 0 ? 1 : mutualInformation / entropyPred;
  const vMeasure =
    homogeneity + completeness === 0
      ? 0
      : ((1 + beta) * homogeneity * completeness) / (beta * homogeneity + completeness);
  return { homogeneity, completeness, vMeasure };
}

export interface SilhouetteOptions {
  /** Score a random subset of this many points (distances only within the subset), for large n. */
  sampleSize?: number;
  seed?: Seed;
}

/**
 * Silhouette value per point, Euclidean: s = (b − a) / max(a, b) with a the
 * mean distance to the rest of its own cluster and b the smallest mean
 * distance to another cluster; 0 for points alone in their cluster.
 * O(n²·d) time, O(n·C) memory.
 */
export function silhouetteSamples(points: PointArray, dims: number, labels: NumericArray): Float64Array {
  const n = checkPoints(points, dims);
  checkLabels(labels, n);
  const { codes, values } = encodeLabels(labels);
  const clusters = values.length;
  if (clusters < 2 || clusters > n - 1) {
    throw new RangeError(`silhouette: needs 2 ≤ clusters ≤ n − 1, got ${clusters} clusters for ${n} points`);
  }
  const x = points instanceof Float64Array ? points : Float64Array.from(points);
  const sizes = new Float64Array(clusters);
  for (let i = 0; i < n; i++) sizes[codes[i]] += 1;
  // sums[i*C + c]: total distance from point i to the points of cluster c. Each pair is computed once.
  const sums = new Float64Array(n * clusters);
  for (let i = 0; i < n; i++) {
    const ib = i * dims;
    const ci = codes[i];
    for (let j = i + 1; j < n; j++) {
      const jb = j * dims;
      let s = 0;
      for (let t = 0; t < dims; t++) {
        const diff = x[ib + t] - x[jb + t];
        s += diff * diff;
      }
      const dist = Math.sqrt(s);
      sums[i * clusters + codes[j]] += dist;
      sums[j * clusters + ci] += dist;
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const own = codes[i];
    if (sizes[own] <= 1) continue;
    const a = sums[i * clusters + own] / (sizes[own] - 1);
    let b = Infinity;
    for (let c = 0; c < clusters; c++) {
      if (c === own) continue;
      const mean = sums[i * clusters + c] / sizes[c];
      if (mean < b) b = mean;
    }
    const denominator = Math.max(a, b);
    out[i] = denominator > 0 ? (b - a) / denominator : 0;
  }
  return out;
}

/** Mean silhouette value (optionally on a random subset of `sampleSize` points). */
export function silhouetteScore(
  points: PointArray,
  dims: number,
  labels: NumericArray,
  options: SilhouetteOptions = {},
): number {
  const n = checkPoints(points, dims);
  checkLabels(labels, n);
  let subsetPoints = points;
  let subsetLabels = labels;
  if (options.sampleSize !== undefined && options.sampleSize < n) {
    const size = options.sampleSize;
    if (!Number.isInteger(size) || size < 3) throw new RangeError(`silhouette: sampleSize must be an integer ≥ 3, got ${size}`);
    const picks = new Random(options.seed ?? 0).sample(n, size).sort();
    const sub = new Float64Array(size * dims);
    const subLabels = new Int32Array(size);
    for (let q = 0; q < size; q++) {
      for (let t = 0; t < dims; t++) sub[q * dims + t] = points[picks[q] * dims + t];
      subLabels[q] = labels[picks[q]];
    }
    subsetPoints = sub;
    subsetLabels = subLabels;
  }
  const s = silhouetteSamples(subsetPoints, dims, subsetLabels);
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  return total / s.length;
}

/**
 * Davies–Bouldin index: mean over clusters of max_j (s_i + s_j) / ‖c_i − c_j‖,
 * with s the mean distance of a cluster's points to its centroid. Lower is better.
 */
export function daviesBouldinScore(points: PointArray, dims: number, labels: NumericArray): number {
  const n = checkPoints(points, dims);
  checkLabels(labels, n);
  const { codes, values } = encodeLabels(labels);
  const clusters = values.length;
  if (clusters < 2 || clusters > n - 1) {
    throw new RangeError(`daviesBouldin: needs 2 ≤ clusters ≤ n − 1, got ${clusters} clusters for ${n} points`);
  }
  const centroids = new Float64Array(clusters * dims);
  const sizes = new Float64Array(clusters);
  for (let i = 0; i < n; i++) {
    sizes[codes[i]] += 1;
    for (let t = 0; t < dims; t++) centroids[codes[i] * dims + t] += points[i * dims + t];
  }
  for (let c = 0; c < clusters; c++) for (let t = 0; t < dims; t++) centroids[c * dims + t] /= sizes[c];
  const scatter = new Float64Array(clusters);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    let s = 0;
    for (let t = 0; t < dims; t++) {
      const diff = points[i * dims + t] - centroids[c * dims + t];
      s += diff * diff;
    }
    scatter[c] += Math.sqrt(s);
  }
  for (let c = 0; c < clusters; c++) scatter[c] /= sizes[c];

  const separation = new Float64Array(clusters * clusters);
  let allTight = true;
  let allCoincide = true;
  for (let c = 0; c < clusters; c++) {
    if (Math.abs(scatter[c]) > 1e-8) allTight = false;
    for (let e = 0; e < clusters; e++) {
      let s = 0;
      for (let t = 0; t < dims; t++) {
        const diff = centroids[c * dims + t] - centroids[e * dims + t];
        s += diff * diff;
      }
      const dist = Math.sqrt(s);
      separation[c * clusters + e] = dist;
      if (dist > 1e-8) allCoincide = false;
    }
  }
  // Degenerate cases score 0, as scikit-learn does.
  if (allTight || allCoincide) return 0;
  let total = 0;
  for (let c = 0; c < clusters; c++) {
    let worst = 0;
    for (let e = 0; e < clusters; e++) {
      if (e === c) continue;
      const dist = separation[c * clusters + e];
      if (dist === 0) continue; // coincident centroids do not count (ratio treated as 0)
      const ratio = (scatter[c] + scatter[e]) / dist;
      if (ratio > worst) worst = ratio;
    }
    total += worst;
  }
  return total / clusters;
}

/** Ranks 1…n with ties given the average of the ranks they span. */
export function averageRanks(values: NumericArray): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let q = start; q < end; q++) ranks[order[q]] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson correlation coefficient; NaN when either input is constant. */
export function pearson(x: NumericArray, y: NumericArray): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`pearson: ${n} vs ${y.length} values`);
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/** Spearman's rank correlation ρ (Pearson on average ranks, so ties are handled). */
export function spearman(x: NumericArray, y: NumericArray): number {
  if (x.length !== y.length) throw new RangeError(`spearman: ${x.length} vs ${y.length} values`);
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) throw new RangeError(`spearman: NaN at ${i}`);
  }
  return pearson(averageRanks(x), averageRanks(y));
}

export interface ConfusionMatrix {
  /** L×L counts, rows = true label, columns = predicted label. */
  matrix: Int32Array;
  /** The label of each row/column. */
  labels: number[];
}

/**
 * Square confusion matrix over `labels` (default: the sorted union of both
 * label sets). Pairs whose labels are not listed are ignored.
 */
export function confusionMatrix(yTrue: NumericArray, yPred: NumericArray, labels?: readonly number[]): ConfusionMatrix {
  if (yTrue.length !== yPred.length) throw new RangeError(`confusionMatrix: ${yTrue.length} vs ${yPred.length} labels`);
  let list: number[];
  if (labels) {
    list = [...labels];
  } else {
    const union = new Set<number>();
    for (let i = 0; i < yTrue.length; i++) {
      union.add(yTrue[i]);
      union.add(yPred[i]);
    }
    list = Array.from(union).sort((a, b) => a - b);
  }
  const index = new Map<number, number>();
  list.forEach((v, q) => index.set(v, q));
  const size = list.length;
  const matrix = new Int32Array(size * size);
  for (let i = 0; i < yTrue.length; i++) {
    const r = index.get(yTrue[i]);
    const c = index.get(yPred[i]);
    if (r !== undefined && c !== undefined) matrix[r * size + c] += 1;
  }
  return { matrix, labels: list };
}

export interface ClusterMatch {
  /** For each cluster label (clusterLabels[q]), the class it maps to, or null when left unmatched. */
  clusterLabels: number[];
  classLabels: (number | null)[];
  /** Share of points whose cluster maps to their class. */
  accuracy: number;
  /** Predicted class per point; points in unmatched clusters get −1. */
  mapped: Int32Array;
}

/**
 * One-to-one mapping of clusters to classes that maximises agreement
 * (Hungarian assignment on the contingency table), as DEC evaluation does.
 * With more clusters than classes, the extra clusters stay unmatched.
 */
export function matchClustersToClasses(clusters: NumericArray, classes: NumericArray): ClusterMatch {
  const t = contingencyTable(clusters, classes);
  const assignment = linearSumAssignment(t.table, t.rows, t.cols, true);
  const classLabels: (number | null)[] = t.rowLabels.map(() => null);
  let agreeing = 0;
  for (let q = 0; q < assignment.rowIndices.length; q++) {
    const row = assignment.rowIndices[q];
    const col = assignment.colIndices[q];
    classLabels[row] = t.colLabels[col];
    agreeing += t.table[row * t.cols + col];
  }
  const lookup = new Map<number, number>();
  t.rowLabels.forEach((label, q) => lookup.set(label, classLabels[q] ?? -1));
  const mapped = new Int32Array(clusters.length);
  for (let i = 0; i < clusters.length; i++) mapped[i] = lookup.get(clusters[i])!;
  return {
    clusterLabels: t.rowLabels,
    classLabels,
    accuracy: clusters.length === 0 ? 0 : agreeing / clusters.length,
    mapped,
  };
}
