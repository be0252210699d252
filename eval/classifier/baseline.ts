/**
 * The simple baseline beside the classifiers (issue 15): multinomial
 * logistic regression (src/analysis/logistic-regression.ts, checked against
 * scikit-learn) on a handful of statistics of each image, fitted on the same
 * training examples as the network (its train + validation split: the
 * baseline needs no early stopping) and scored on the same test split.
 *
 * Statistics per channel (R, G, B; grey images repeat one channel):
 * mean, standard deviation, 5th / 50th / 95th / 99th percentiles, gradient
 * energy (mean of squared forward differences), and two spot-like counts on
 * a log scale: bright pixels (above median + 4 × the median absolute
 * deviation, at least 10 levels) and local maxima among them (3 × 3). The
 * log makes a ratio of counts (green over red in FISH) a difference, which
 * a linear model can use. 27 features, standardised on the training part.
 */
import { decode } from 'fast-png';
import { readFile } from 'node:fs/promises';
import { fitLogisticRegression, logisticPredict, standardiser } from '../../src/analysis/logistic-regression';

export const BASELINE_FEATURES_PER_CHANNEL = 9;

export interface PlainImage {
  width: number;
  height: number;
  channels: number;
  /** Interleaved, 0–255 (or the file's range). */
  data: ArrayLike<number>;
}

export async function readPng(file: string): Promise<PlainImage> {
  const png = decode(await readFile(file));
  return { width: png.width, height: png.height, channels: png.channels, data: png.data as ArrayLike<number> };
}

function percentile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The baseline's statistics of one image (3 channels × 9). */
export function imageStatistics(image: PlainImage): Float64Array {
  const { width: w, height: h, channels } = image;
  const out = new Float64Array(3 * BASELINE_FEATURES_PER_CHANNEL);
  for (let c = 0; c < 3; c++) {
    const from = Math.min(c, channels - 1);
    const plane = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) plane[i] = image.data[i * channels + from];
    const sorted = Float64Array.from(plane).sort();
    const n = plane.length;
    let mean = 0;
    for (const v of plane) mean += v / n;
    let variance = 0;
    for (const v of plane) variance += (v - mean) ** 2 / n;
    let gradient = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = plane[y * w + x];
        if (x + 1 < w) gradient += (plane[y * w + x + 1] - v) ** 2;
        if (y + 1 < h) gradient += (plane[(y + 1) * w + x] - v) ** 2;
      }
    gradient /= n;
    const median = percentile(sorted, 0.5);
    const deviations = Float64Array.from(plane, (v) => Math.abs(v - median)).sort();
    const threshold = median + Math.max(10, 4 * percentile(deviations, 0.5));
    let bright = 0;
    let peaks = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = plane[y * w + x];
        if (v <= threshold) continue;
        bright++;
        let isPeak = true;
        for (let dy = -1; dy <= 1 && isPeak; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if ((dx || dy) && xx >= 0 && yy >= 0 && xx < w && yy < h && plane[yy * w + xx] > v) {
              isPeak = false;
              break;
            }
          }
        if (isPeak) peaks++;
      }
    out.set(
      [mean, Math.sqrt(variance), percentile(sorted, 0.05), median, percentile(sorted, 0.95), percentile(sorted, 0.99), gradient, Math.log1p(bright), Math.log1p(peaks)],
      c * BASELINE_FEATURES_PER_CHANNEL,
    );
  }
  return out;
}

export interface BaselineResult {
  predicted: Int32Array;
  /** Training accuracy (for the notes: a baseline that cannot even fit its training set is a weak one). */
  trainingAccuracy: number;
}

/** Fits on `train`, predicts `test` (indices into `features`, rows of `d`). */
export function logisticBaseline(features: Float64Array[], labels: ArrayLike<number>, classes: number, train: ArrayLike<number>, test: ArrayLike<number>): BaselineResult {
  const d = features[0].length;
  const pack = (idx: ArrayLike<number>) => {
    const x = new Float64Array(idx.length * d);
    for (let i = 0; i < idx.length; i++) x.set(features[idx[i]], i * d);
    return x;
  };
  const xTrain = pack(train);
  const scale = standardiser(xTrain, d);
  const yTrain = Int32Array.from(train as ArrayLike<number>, (i) => labels[i]);
  const model = fitLogisticRegression(scale.apply(xTrain), yTrain, classes, { C: 1 });
  const fitted = logisticPredict(model, scale.apply(xTrain));
  const trainingAccuracy = fitted.reduce((t, p, i) => t + (p === yTrain[i] ? 1 : 0), 0) / yTrain.length;
  return { predicted: logisticPredict(model, scale.apply(pack(test))), trainingAccuracy };
}
