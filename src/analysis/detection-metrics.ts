/**
 * Scoring point detections against ground-truth points with the rule of the
 * nucleus-detection paper (SPEC §2 "Evaluation"):
 *   a detection is correct if a ground-truth nucleus lies within `radius`
 *   (6 px); for each nucleus only its nearest detection counts; the other
 *   detections within `radius` of that nucleus are false positives.
 *
 * Reading of the rule, made exact:
 * 1. Every nucleus picks its nearest detection at distance ≤ radius (ties:
 *    the lower detection index). A nucleus with none is a false negative.
 * 2. A detection picked by at least one nucleus is one true positive. A
 *    detection picked by nobody is a false positive — whether it lies near a
 *    nucleus (the duplicates of the rule) or near none.
 * 3. One detection counts once. When it is the nearest detection of several
 *    nuclei (a detection between two close nuclei), it is credited to the
 *    nucleus nearest to it (ties: lower nucleus index); the other nuclei are
 *    false negatives. Only the nearest detection counts for a nucleus, so
 *    they do not fall back on their second-nearest detection, which stays a
 *    false positive if nobody picks it. (A one-to-one optimal assignment,
 *    e.g. with hungarian.ts, could score such crowded spots higher; that is
 *    a different rule.)
 * So TP + FP = number of detections and TP + FN = number of nuclei, and
 *   precision = TP / (TP + FP), recall = TP / (TP + FN),
 *   F1 = 2·TP / (2·TP + FP + FN) (the harmonic mean of the two).
 * Empty denominators: a ratio 0/0 is defined as 1, "nothing was claimed and
 * nothing was missed". No detections and no nuclei: precision = recall =
 * F1 = 1. No detections but some nuclei: precision 1, recall 0, F1 0. Some
 * detections but no nuclei: precision 0, recall 1, F1 0.
 *
 * Distances are Euclidean, in the units of the coordinates, with "within"
 * inclusive (distance ≤ radius). Points are bucketed in a hashed grid of
 * radius-sized cells, so the cost is linear in the number of points for any
 * reasonable density (100k × 100k points in tens of milliseconds).
 */
import type { NumericArray } from './points';

export interface DetectionMatch {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
  /** Per ground-truth point: the detection credited to it, or −1 (a false negative). */
  matchedDetection: Int32Array;
}

export function matchDetections(
  detX: NumericArray,
  detY: NumericArray,
  truthX: NumericArray,
  truthY: NumericArray,
  radius = 6,
): DetectionMatch {
  if (!(radius > 0) || !Number.isFinite(radius)) throw new RangeError(`matchDetections: radius must be > 0, got ${radius}`);
  checkCoordinates(detX, detY, 'detections');
  checkCoordinates(truthX, truthY, 'ground truth');
  const detections = detX.length;
  const truths = truthX.length;

  // 1. Nearest detection of every nucleus.
  const nearest = new Int32Array(truths).fill(-1);
  const nearestDistance2 = new Float64Array(truths);
  if (detections > 0 && truths > 0) {
    // Cells a hair wider than the radius: any point within the radius is then
    // in one of the 3×3 cells around, even with rounding in the divisions.
    const cell = radius * (1 + 1e-6);
    const grid = new CellGrid(detX, detY, cell);
    const radius2 = radius * radius;
    for (let t = 0; t < truths; t++) {
      const x = truthX[t];
      const y = truthY[t];
      const cx = Math.floor(x / cell);
      const cy = Math.floor(y / cell);
      let best = -1;
      let bestDistance2 = Infinity;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const bucket = grid.bucketOf(cx + dx, cy + dy);
          for (let q = grid.start[bucket], end = grid.start[bucket + 1]; q < end; q++) {
            const j = grid.members[q];
            const ex = detX[j] - x;
            const ey = detY[j] - y;
            const d2 = ex * ex + ey * ey;
            if (d2 <= radius2 && (d2 < bestDistance2 || (d2 === bestDistance2 && j < best))) {
              best = j;
              bestDistance2 = d2;
            }
          }
        }
      }
      nearest[t] = best;
      nearestDistance2[t] = bestDistance2;
    }
  }

  // 2–3. Each picked detection is credited once, to the nearest nucleus that picked it.
  const creditedTo = new Int32Array(detections).fill(-1);
  for (let t = 0; t < truths; t++) {
    const j = nearest[t];
    if (j < 0) continue;
    const holder = creditedTo[j];
    // Ascending t, so a strict comparison leaves ties with the lower index.
    if (holder < 0 || nearestDistance2[t] < nearestDistance2[holder]) creditedTo[j] = t;
  }
  const matchedDetection = new Int32Array(truths).fill(-1);
  let truePositives = 0;
  for (let j = 0; j < detections; j++) {
    if (creditedTo[j] >= 0) {
      matchedDetection[creditedTo[j]] = j;
      truePositives++;
    }
  }
  const falsePositives = detections - truePositives;
  const falseNegatives = truths - truePositives;
  return {
    truePositives,
    falsePositives,
    falseNegatives,
    precision: ratio(truePositives, truePositives + falsePositives),
    recall: ratio(truePositives, truePositives + falseNegatives),
    f1: ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives),
    matchedDetection,
  };
}

/** numerator / denominator, with 0/0 = 1 (see the file comment). */
function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 1 : numerator / denominator;
}

function checkCoordinates(xs: NumericArray, ys: NumericArray, what: string): void {
  if (xs.length !== ys.length) throw new RangeError(`matchDetections: ${what} have ${xs.length} x but ${ys.length} y values`);
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) {
      throw new RangeError(`matchDetections: ${what} point ${i} (${xs[i]}, ${ys[i]}) is not finite`);
    }
  }
}

/**
 * Points bucketed by grid cell (cells of side `cell`), stored compactly:
 * cells are hashed into a power-of-two table of buckets and the members of
 * bucket b are members[start[b] … start[b+1]). Cells sharing a bucket only
 * add candidates that the distance test then rejects; a dense grid over a
 * whole slide's bounding box would need far more memory.
 */
class CellGrid {
  readonly start: Int32Array;
  readonly members: Int32Array;
  private readonly mask: number;

  constructor(xs: NumericArray, ys: NumericArray, cell: number) {
    const n = xs.length;
    let size = 1;
    while (size < 2 * n) size *= 2;
    this.mask = size - 1;
    const bucket = new Int32Array(n);
    const start = new Int32Array(size + 1);
    for (let i = 0; i < n; i++) {
      bucket[i] = this.bucketOf(Math.floor(xs[i] / cell), Math.floor(ys[i] / cell));
      start[bucket[i] + 1]++;
    }
    for (let b = 0; b < size; b++) start[b + 1] += start[b];
    const fill = start.slice(0, size);
    const members = new Int32Array(n);
    for (let i = 0; i < n; i++) members[fill[bucket[i]]++] = i;
    this.start = start;
    this.members = members;
  }

  bucketOf(cx: number, cy: number): number {
    // Multiplicative hashing of the two cell indices (any integers, also negative).
    const h = Math.imul(cx | 0, 0x9e3779b1) ^ Math.imul(cy | 0, 0x85ebca77);
    return (h ^ (h >>> 15)) & this.mask;
  }
}

/**
 * The points inside any of the rectangles ([x, y, width, height] × n, half-open),
 * as indices: ground truth is scored only where detection looked, so
 * annotations of other regions do not count as misses.
 */
export function pointsInRects(xs: NumericArray, ys: NumericArray, rects: NumericArray): Uint32Array {
  if (rects.length % 4 !== 0) throw new RangeError(`pointsInRects: ${rects.length} values do not make rectangles of 4`);
  const count = rects.length / 4;
  let cell = 0;
  for (let r = 0; r < count; r++) cell = Math.max(cell, rects[4 * r + 2], rects[4 * r + 3]);
  if (!(cell > 0)) return new Uint32Array(0);
  // Buckets of cell × cell: a rectangle no larger than a cell touches at most 4 of them.
  const buckets = new Map<string, number[]>();
  for (let r = 0; r < count; r++) {
    const [x0, y0] = [Math.floor(rects[4 * r] / cell), Math.floor(rects[4 * r + 1] / cell)];
    const [x1, y1] = [Math.floor((rects[4 * r] + rects[4 * r + 2]) / cell), Math.floor((rects[4 * r + 1] + rects[4 * r + 3]) / cell)];
    for (let by = y0; by <= y1; by++)
      for (let bx = x0; bx <= x1; bx++) {
        const key = `${bx},${by}`;
        const list = buckets.get(key);
        if (list) list.push(r);
        else buckets.set(key, [r]);
      }
  }
  const inside: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const [x, y] = [xs[i], ys[i]];
    const list = buckets.get(`${Math.floor(x / cell)},${Math.floor(y / cell)}`) ?? [];
    const hit = list.some((r) => x >= rects[4 * r] && x < rects[4 * r] + rects[4 * r + 2] && y >= rects[4 * r + 1] && y < rects[4 * r + 1] + rects[4 * r + 3]);
    if (hit) inside.push(i);
  }
  return Uint32Array.from(inside);
}
