/**
 * The simple baseline of the nucleus evaluation (issue 15): the classical
 * recipe a microscopist would write in a few lines of scikit-image,
 *
 *   H = rgb2hed(rgb)[..., 0]            (DAPI: the brightest channel)
 *   mask = fill_holes(H > threshold_otsu(H))
 *   dist = distance_transform_edt(mask)
 *   peaks = peak_local_max(dist, min_distance = 4 µm, labels = mask)
 *
 * at the image's own resolution, with nothing tuned per input. It reuses
 * src/imaging (colour deconvolution, Otsu with the 99.5 % clip, hole
 * filling, the exact distance transform) and the peak finder of the nucleus
 * post-processing.
 */
import { rgbToHed, hematoxylinThreshold } from '../../src/imaging/stain';
import { thresholdOtsu } from '../../src/imaging/threshold';
import { fillHoles, squaredDistanceTransform } from '../../src/imaging/morphology';
import { peakLocalMax } from '../../src/models/nuclei/postprocess';

export interface BaselinePoints {
  x: Float64Array;
  y: Float64Array;
}

/** Minimum distance between two baseline nuclei, µm (fixed before any measurement). */
export const BASELINE_MIN_DISTANCE_UM = 4;

export function baselineNuclei(
  rgb: Uint8Array,
  width: number,
  height: number,
  mpp: number,
  kind: 'brightfield' | 'fluorescence' = 'brightfield',
): BaselinePoints {
  const n = width * height;
  let signal: Float32Array;
  let level: number;
  if (kind === 'brightfield') {
    const h = rgbToHed({ data: rgb, width, height, channels: 3 }).hematoxylin;
    signal = h.data;
    level = hematoxylinThreshold(h);
  } else {
    signal = new Float32Array(n);
    for (let i = 0; i < n; i++) signal[i] = Math.max(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    level = thresholdOtsu({ data: signal, width, height });
  }
  const raw = new Uint8Array(n);
  for (let i = 0; i < n; i++) raw[i] = signal[i] > level ? 1 : 0;
  const mask = fillHoles({ data: raw, width, height });
  const d2 = squaredDistanceTransform(mask, 0);
  const dist = new Float32Array(n);
  for (let i = 0; i < n; i++) dist[i] = mask.data[i] ? Math.sqrt(d2[i]) : 0;
  const peaks = peakLocalMax({ data: dist, width, height }, { minDistance: Math.max(1, Math.round(BASELINE_MIN_DISTANCE_UM / mpp)), threshold: 0 });
  return {
    x: Float64Array.from(peaks.column, (c) => c + 0.5),
    y: Float64Array.from(peaks.row, (r) => r + 0.5),
  };
}
