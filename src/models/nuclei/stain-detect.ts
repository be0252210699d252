/**
 * The nuclear-stain side of nucleus detection (issue 15): what the default
 * `nuclei` run combines with the crosswise-sparse CAE's detection map, and
 * the independent estimate its count is checked against.
 *
 * Why it exists (a deviation from seed 001, documented in README.md): the
 * seed's CAE, trained without labels, reaches F1 0.62 on its own data set
 * with 0.5 M patches and a GPU (SPEC §2). On a 2-core CPU the 1/16-width CAE
 * sees a few hundred patches in the minutes a user waits, and its detection
 * map then barely follows the nuclei (correlation of D′ with darkness
 * −0.21 after 2 epochs on eval variant nuc-02). Points are therefore placed
 * on the nuclear stain: haematoxylin from colour deconvolution (brightfield)
 * or the brightest channel (fluorescence, DAPI), thresholded from the data
 * (Otsu), holes filled, and the centres found as peaks of the smoothed
 * distance to the mask's edge, the classical recipe. The CAE's map can
 * weight those peaks (pipeline's detector 'combined') and the CAE's
 * features X′ still describe every nucleus.
 *
 * All sizes here are in pixels of the patches, i.e. at the detection scale
 * of 0.5 µm/px.
 */
import { HED_FROM_RGB, TRANSMITTANCE_FLOOR, HEMATOXYLIN_CLIP_PERCENTILE } from '../../imaging/stain';
import { thresholdOtsu } from '../../imaging/threshold';
import { percentiles } from '../../imaging/color';
import { fillHoles, squaredDistanceTransform } from '../../imaging/morphology';
import { gaussianBlur } from '../../imaging/gaussian';
import { peakLocalMax } from './postprocess';

/** Haematoxylin (brightfield H&E) or a bright nuclear dye (fluorescence, DAPI). */
export type NuclearStain = 'hematoxylin' | 'fluorescence';

export const STAIN_DETECTION_DEFAULTS = {
  /** Gaussian sigma on the stain before thresholding (px at 0.5 µm/px): noise and JPEG blocks. */
  smoothSigma: 1,
  /** Gaussian sigma on the distance map, so that a nucleus has one top. */
  distanceSigma: 1.5,
  /** Minimum distance between two centres, px (1.5 µm). */
  minDistance: 3,
  /** Smallest nucleus radius counted, px (1 µm): specks of stain are not nuclei. */
  minRadius: 2,
  /** Context read around each 100 px patch, px (12 µm), so nuclei cut by the patch edge keep their shape. */
  margin: 24,
} as const;

const LOG_FLOOR = Math.log(TRANSMITTANCE_FLOOR);

/**
 * Nuclear-stain amount per pixel of interleaved RGB in 0…1 (`channels`
 * values per pixel): skimage's rgb2hed haematoxylin, or for fluorescence the
 * brightest channel.
 */
export function nuclearStainSignal(rgb: ArrayLike<number>, pixels: number, stain: NuclearStain, channels = 3): Float32Array {
  const out = new Float32Array(pixels);
  if (stain === 'fluorescence') {
    for (let i = 0; i < pixels; i++) {
      let m = rgb[i * channels];
      for (let c = 1; c < Math.min(3, channels); c++) m = Math.max(m, rgb[i * channels + c]);
      out[i] = m;
    }
    return out;
  }
  const [h0, h1, h2] = [HED_FROM_RGB[0][0], HED_FROM_RGB[1][0], HED_FROM_RGB[2][0]];
  const od = (v: number) => Math.log(v > TRANSMITTANCE_FLOOR ? v : TRANSMITTANCE_FLOOR) / LOG_FLOOR;
  for (let i = 0; i < pixels; i++) {
    const j = i * channels;
    const h = od(rgb[j]) * h0 + od(rgb[j + 1]) * h1 + od(rgb[j + 2]) * h2;
    out[i] = h > 0 ? h : 0;
  }
  return out;
}

/**
 * The stain level that separates nuclei from the rest: Otsu's threshold of
 * the (lightly smoothed) signal of sample patches, after clipping at the
 * 99.5th percentile (see imaging/stain hematoxylinThreshold for why).
 */
export function stainLevel(samples: Float32Array): number {
  if (samples.length === 0) throw new RangeError('stainLevel: no samples');
  const image = { data: samples, width: samples.length, height: 1 };
  const [ceiling] = percentiles(image, [HEMATOXYLIN_CLIP_PERCENTILE]);
  const clipped = Float32Array.from(samples, (v) => (v < ceiling ? v : ceiling));
  return thresholdOtsu({ data: clipped, width: clipped.length, height: 1 });
}

/** Smoothed stain signal of a patch (what the level is computed on and compared with). */
export function smoothedSignal(signal: Float32Array, width: number, height: number, sigma: number = STAIN_DETECTION_DEFAULTS.smoothSigma): Float32Array {
  return sigma > 0 ? gaussianBlur({ data: signal, width, height }, sigma).data : signal;
}

export interface StainPatchResult {
  /** Smoothed distance to the edge of the nuclear mask (px), 0 off the mask. */
  distance: Float32Array;
  /** Filled nuclear mask. */
  mask: Uint8Array;
}

/** Nuclear mask and smoothed distance map of one (margin-padded) patch from its smoothed signal. */
export function stainDistanceMap(smoothed: Float32Array, width: number, height: number, level: number, distanceSigma: number = STAIN_DETECTION_DEFAULTS.distanceSigma): StainPatchResult {
  const n = width * height;
  const raw = new Uint8Array(n);
  for (let i = 0; i < n; i++) raw[i] = smoothed[i] > level ? 1 : 0;
  const mask = fillHoles({ data: raw, width, height });
  const d2 = squaredDistanceTransform(mask, 0);
  const distance = new Float32Array(n);
  for (let i = 0; i < n; i++) distance[i] = mask.data[i] ? Math.sqrt(d2[i]) : 0;
  const blurred = distanceSigma > 0 ? gaussianBlur({ data: distance, width, height }, distanceSigma).data : distance;
  for (let i = 0; i < n; i++) if (!mask.data[i]) blurred[i] = 0;
  return { distance: blurred, mask: mask.data };
}

export interface PeakPoint {
  /** Patch-pixel coordinates (pixel centres at +0.5), relative to the map's top-left. */
  x: number;
  y: number;
  score: number;
}

/** Peaks of a score map that lie inside [lo, hi) in both axes, above `threshold`. */
export function peaksInCore(score: Float32Array, width: number, height: number, lo: number, hi: number, minDistance: number, threshold: number): PeakPoint[] {
  const peaks = peakLocalMax({ data: score, width, height }, { minDistance, threshold });
  const out: PeakPoint[] = [];
  for (let k = 0; k < peaks.value.length; k++) {
    const c = peaks.column[k];
    const r = peaks.row[k];
    if (c < lo || c >= hi || r < lo || r >= hi) continue;
    out.push({ x: c + 0.5, y: r + 0.5, score: peaks.value[k] });
  }
  return out;
}

/**
 * Number of separate nuclear-stain blobs (8-connected components of the
 * filled mask, at least π·minRadius² px): a count that does not split
 * touching nuclei, used as the independent estimate in checkCount.
 */
export function countBlobs(mask: Uint8Array, width: number, height: number, lo: number, hi: number, minArea: number): number {
  const seen = new Uint8Array(mask.length);
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    let area = 0;
    let sx = 0;
    let sy = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      area++;
      sx += x;
      sy += y;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (mask[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
    }
    // A blob belongs to the patch whose core holds its centroid.
    const cx = sx / area;
    const cy = sy / area;
    if (area >= minArea && cx >= lo && cx < hi && cy >= lo && cy < hi) count++;
  }
  return count;
}
