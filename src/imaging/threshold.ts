/**
 * Histograms and automatic thresholds, following skimage 0.19:
 * skimage.exposure.histogram(source_range='image'),
 * skimage.filters.threshold_otsu and threshold_triangle.
 */
import { checkImage, type Image, minMax } from './image';

export interface Histogram {
  counts: Float64Array;
  /** Value at the centre of each bin; thresholds are returned as one of these. */
  binCenters: Float64Array;
}

/**
 * skimage's histogram over the image's own range.
 * - Uint8 images: one bin per integer from min to max (nbins is ignored, as
 *   skimage does for integer arrays).
 * - Float images: `nbins` equal bins spanning [min, max] (±0.5 when the image
 *   is constant); bin edges and the edge-case corrections follow numpy.histogram,
 *   the last bin includes the maximum.
 */
export function histogram(img: Image, nbins = 256): Histogram {
  checkImage(img);
  const data = img.data;
  if (data.length === 0) throw new RangeError('histogram of an empty image');
  const { min, max } = minMax(data);
  if (data instanceof Uint8Array) {
    const counts = new Float64Array(max - min + 1);
    for (let i = 0; i < data.length; i++) counts[data[i] - min]++;
    const binCenters = new Float64Array(counts.length);
    for (let i = 0; i < binCenters.length; i++) binCenters[i] = min + i;
    return { counts, binCenters };
  }
  if (!Number.isInteger(nbins) || nbins < 1) throw new RangeError('nbins must be a positive integer');
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  // np.linspace: start + i*step, with the final edge set to stop exactly.
  const step = (last - first) / nbins;
  const edges = new Float64Array(nbins + 1);
  for (let i = 0; i < nbins; i++) edges[i] = i * step + first;
  edges[nbins] = last;
  const span = last - first;
  const counts = new Float64Array(nbins);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    let bin = Math.trunc(((v - first) / span) * nbins);
    if (bin === nbins) bin--;
    // numpy corrects the ~1 ulp disagreements between the formula and the edges.
    if (v < edges[bin]) bin--;
    else if (bin !== nbins - 1 && v >= edges[bin + 1]) bin++;
    counts[bin]++;
  }
  const binCenters = new Float64Array(nbins);
  for (let i = 0; i < nbins; i++) binCenters[i] = (edges[i] + edges[i + 1]) / 2;
  return { counts, binCenters };
}

function isHistogram(x: Image | Histogram): x is Histogram {
  return (x as Histogram).counts !== undefined;
}

/**
 * Otsu's threshold (maximum between-class variance). Pixels > threshold are
 * the bright class. A constant image returns its value, as skimage.
 */
export function thresholdOtsu(input: Image | Histogram, nbins = 256): number {
  if (!isHistogram(input)) {
    const first = input.data[0];
    let constant = true;
    for (let i = 1; i < input.data.length && constant; i++) constant = input.data[i] === first;
    if (constant) return first;
  }
  const { counts, binCenters } = isHistogram(input) ? input : histogram(input, nbins);
  const n = counts.length;
  if (n < 2) return binCenters[0];
  const weight1 = new Float64Array(n);
  const moment1 = new Float64Array(n);
  let w = 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    w += counts[i];
    m += counts[i] * binCenters[i];
    weight1[i] = w;
    moment1[i] = m;
  }
  // Suffix sums give class 2 for a split after bin i: bins i+1..n-1.
  const weight2 = new Float64Array(n);
  const moment2 = new Float64Array(n);
  w = 0;
  m = 0;
  for (let i = n - 1; i >= 0; i--) {
    w += counts[i];
    m += counts[i] * binCenters[i];
    weight2[i] = w;
    moment2[i] = m;
  }
  let best = -Infinity;
  let bestIndex = 0;
  for (let i = 0; i < n - 1; i++) {
    const mean1 = moment1[i] / weight1[i];
    const mean2 = moment2[i + 1] / weight2[i + 1];
    const d = mean1 - mean2;
    const variance = weight1[i] * weight2[i + 1] * d * d;
    // Empty leading/trailing bins give NaN; they never win.
    if (variance > best) {
      best = variance;
      bestIndex = i;
    }
  }
  return binCenters[bestIndex];
}

/**
 * Zack's triangle threshold, as skimage.filters.threshold_triangle: the line
 * from the histogram peak to the end of its longer tail; the threshold is the
 * bin farthest below that line. For a brightfield slide the peak is the glass
 * and the long tail is the darker tissue.
 */
export function thresholdTriangle(input: Image | Histogram, nbins = 256): number {
  const hist = isHistogram(input) ? input : histogram(input, nbins);
  return triangleDetails(hist).threshold;
}

/**
 * Triangle threshold plus which side of it the histogram peak lies on
 * (`peakAbove`: the most common values are above the threshold, as glass is
 * in brightfield).
 */
export function triangleDetails(hist: Histogram): { threshold: number; peakAbove: boolean } {
  const { binCenters } = hist;
  const n = hist.counts.length;
  let peak = 0;
  let low = -1;
  let high = -1;
  for (let i = 0; i < n; i++) {
    const c = hist.counts[i];
    if (c > hist.counts[peak]) peak = i;
    if (c > 0) {
      if (low < 0) low = i;
      high = i;
    }
  }
  if (low < 0 || low === high) {
    // Empty or single-valued: skimage fails here; the one value is the only sensible answer.
    return { threshold: binCenters[Math.max(low, 0)], peakAbove: false };
  }
  const peakHeight = hist.counts[peak];
  // Work on the side with the longer tail; mirror indices when it is the right one.
  const flip = peak - low < high - peak;
  const at = (i: number) => (flip ? hist.counts[n - 1 - i] : hist.counts[i]);
  const lowF = flip ? n - high - 1 : low;
  const peakF = flip ? n - peak - 1 : peak;
  const width = peakF - lowF;
  const norm = Math.sqrt(peakHeight * peakHeight + width * width);
  const h = peakHeight / norm;
  const w = width / norm;
  let bestLength = -Infinity;
  let bestX = 0;
  for (let x = 0; x < width; x++) {
    const length = h * x - w * at(x + lowF);
    if (length > bestLength) {
      bestLength = length;
      bestX = x;
    }
  }
  let level = bestX + lowF;
  if (flip) level = n - level - 1;
  return { threshold: binCenters[level], peakAbove: peak > level };
}
