/**
 * Nucleus points from the detection map D of the crosswise-sparse
 * autoencoder (SPEC §2 "Detection output"): D, a quarter of the input size,
 * is resized bilinearly to the input size, blurred with a Gaussian, and its
 * local maxima above a threshold are the nuclei.
 *
 * Each step reproduces a scikit-image call (checked against fixtures from
 * scripts/make_nuclei_reference.py):
 *   upscaleBilinear  skimage.transform.resize(D, (H·f, W·f), order=1,
 *                    mode='reflect' (resize's default) or 'edge', anti_aliasing=False)
 *   blur             skimage.filters.gaussian(…, sigma, mode='nearest', truncate=4)
 *                    (src/imaging/gaussian.ts)
 *   peakLocalMax     skimage.feature.peak_local_max(…, min_distance=d,
 *                    threshold_abs=t, exclude_border=False)
 *
 * Point coordinates: continuous pixel coordinates of the input patch, in
 * which pixel (column c, row r) covers [c, c+1) × [r, r+1). A detection is
 * reported at the centre of its peak pixel, (c + 0.5, r + 0.5), plus
 * `roiOffset`. This is the convention of the viewer and of QuPath exports;
 * subtract 0.5 to get scikit-image's integer (row, column) indices.
 *
 * Large regions are cut into overlapping patches on a regular lattice; see
 * mergeTileDetections for how their detections are stitched.
 */
import { gaussianBlur } from '../../imaging/gaussian';
import type { FloatImage, Image } from '../../imaging/image';

/** Columnar nucleus detections. */
export interface DetectedPoints {
  x: Float32Array;
  y: Float32Array;
  /** Blurred detection-map value at the peak. */
  score: Float32Array;
}

/**
 * How samples beyond the map's edge are read while upscaling, named as in
 * scikit-image (numpy.pad names): 'reflect' mirrors about the edge pixel
 * (d c b | a b c d), 'edge' repeats it (a a a | a b c d).
 */
export type UpscaleMode = 'reflect' | 'edge';

/**
 * Bilinear upscaling by an integer factor with scikit-image's pixel-centre
 * convention: output pixel o samples the map at (o + 0.5) / factor − 0.5, so
 * the output covers exactly the map's extent. Equals
 * skimage.transform.resize(map, (h·f, w·f), order=1, mode, anti_aliasing=False),
 * whose default mode is 'reflect'.
 */
export function upscaleBilinear(
  map: ArrayLike<number>,
  mapWidth: number,
  mapHeight: number,
  factor: number,
  mode: UpscaleMode = 'reflect',
): FloatImage {
  checkMapShape(map, mapWidth, mapHeight);
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(`upscaleBilinear: factor must be an integer ≥ 1, got ${factor}`);
  }
  if (mode !== 'reflect' && mode !== 'edge') throw new RangeError(`upscaleBilinear: unknown mode '${mode}'`);
  const width = mapWidth * factor;
  const height = mapHeight * factor;
  const xs = sampleTaps(mapWidth, factor, mode);
  const ys = sampleTaps(mapHeight, factor, mode);
  const out = new Float32Array(width * height);
  for (let oy = 0; oy < height; oy++) {
    const row0 = ys.first[oy] * mapWidth;
    const row1 = ys.second[oy] * mapWidth;
    const wy = ys.weight[oy];
    const base = oy * width;
    for (let ox = 0; ox < width; ox++) {
      const x0 = xs.first[ox];
      const x1 = xs.second[ox];
      const wx = xs.weight[ox];
      const top = (1 - wx) * map[row0 + x0] + wx * map[row0 + x1];
      const bottom = (1 - wx) * map[row1 + x0] + wx * map[row1 + x1];
      out[base + ox] = (1 - wy) * top + wy * bottom;
    }
  }
  return { data: out, width, height };
}

interface SampleTaps {
  /** Map index of the left/upper neighbour of each output sample (after the edge rule). */
  first: Int32Array;
  /** Map index of the right/lower neighbour. */
  second: Int32Array;
  /** Weight of `second`; `first` gets 1 − weight. */
  weight: Float64Array;
}

function sampleTaps(size: number, factor: number, mode: UpscaleMode): SampleTaps {
  const count = size * factor;
  const first = new Int32Array(count);
  const second = new Int32Array(count);
  const weight = new Float64Array(count);
  const last = size - 1;
  const fold = (i: number): number => {
    if (size === 1) return 0;
    if (mode === 'edge') return i < 0 ? 0 : i > last ? last : i;
    // Mirror about the first and last samples (SciPy's 'mirror'); a factor-f
    // upscale never reads further than one sample beyond either end.
    return i < 0 ? -i : i > last ? 2 * last - i : i;
  };
  for (let o = 0; o < count; o++) {
    const position = (o + 0.5) / factor - 0.5;
    const lower = Math.floor(position);
    first[o] = fold(lower);
    second[o] = fold(lower + 1);
    weight[o] = position - lower;
  }
  return { first, second, weight };
}

export interface PeakOptions {
  /**
   * Integer d ≥ 0: a peak is a maximum of the (2d+1)² window around it, and
   * equal-valued peaks closer than d (Chebyshev distance) are thinned to one.
   */
  minDistance: number;
  /** Peaks must be strictly greater than this. */
  threshold: number;
}

/** Peaks in raster indices, strongest first. */
export interface Peaks {
  column: Int32Array;
  row: Int32Array;
  value: Float32Array;
}

/**
 * Local maxima as skimage.feature.peak_local_max(image, min_distance=d,
 * threshold_abs=t, exclude_border=False):
 * - a candidate is a pixel > t that no pixel of its (2d+1)² window exceeds,
 *   so every pixel of a flat-topped plateau is a candidate;
 * - an image whose pixels are all candidates before thresholding (a flat
 *   image) has no peaks;
 * - candidates are visited from the highest value down, and one is dropped
 *   when an already kept peak lies at Chebyshev distance < d (this only ever
 *   removes equal values: plateaus and equal peaks). Equal values are visited
 *   in raster order, which is what scikit-image does while there are at most
 *   16 candidates (NumPy's default argsort is stable up to that size; above
 *   it scikit-image's choice among equal values is unspecified);
 * - d = 0 keeps every pixel > t.
 * The window only covers pixels inside the image. scikit-image 0.19 pads
 * with zeros instead, which can only matter for peaks ≤ 0, i.e. never when
 * t ≥ 0.
 * Result: strongest first (ties in raster order).
 */
export function peakLocalMax(image: Image, options: PeakOptions): Peaks {
  const { data, width, height } = image;
  const { minDistance, threshold } = options;
  if (!Number.isInteger(minDistance) || minDistance < 0) {
    throw new RangeError(`peakLocalMax: minDistance must be an integer ≥ 0, got ${minDistance}`);
  }
  if (Number.isNaN(threshold)) throw new RangeError('peakLocalMax: threshold is NaN');
  if (data.length !== width * height) {
    throw new RangeError(`peakLocalMax: data length ${data.length} != ${width}×${height}`);
  }
  const count = data.length;
  let flat = true;
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (Number.isNaN(v)) throw new RangeError(`peakLocalMax: NaN at column ${i % width}, row ${Math.floor(i / width)}`);
    if (v !== data[0]) flat = false;
  }

  const candidates: number[] = [];
  if (minDistance === 0 || count === 1) {
    for (let i = 0; i < count; i++) if (data[i] > threshold) candidates.push(i);
  } else if (!flat) {
    // With a window of at least 3×3, "every pixel equals its window maximum"
    // only happens on a flat image, which the check above caught.
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (data[i] > threshold && isWindowMaximum(data, width, height, x, y, minDistance)) candidates.push(i);
      }
    }
  }

  // Highest first; candidates are already in raster order, so a stable sort
  // leaves equal values in raster order.
  candidates.sort((a, b) => (data[b] > data[a] ? 1 : data[b] < data[a] ? -1 : 0));

  const kept = thinEqualPeaks(candidates, width, height, minDistance);
  const peaks: Peaks = {
    column: new Int32Array(kept.length),
    row: new Int32Array(kept.length),
    value: new Float32Array(kept.length),
  };
  for (let k = 0; k < kept.length; k++) {
    const i = kept[k];
    peaks.row[k] = Math.floor(i / width);
    peaks.column[k] = i - peaks.row[k] * width;
    peaks.value[k] = data[i];
  }
  return peaks;
}

/** True when no pixel of the window of radius d (clipped to the image) exceeds pixel (x, y). */
function isWindowMaximum(
  data: ArrayLike<number>,
  width: number,
  height: number,
  x: number,
  y: number,
  d: number,
): boolean {
  const v = data[y * width + x];
  // The 8 neighbours first: on a smooth map a non-peak nearly always has a
  // larger one there, so most pixels are settled after a few reads.
  const nx0 = x > 0 ? x - 1 : 0;
  const nx1 = x < width - 1 ? x + 1 : x;
  const ny0 = y > 0 ? y - 1 : 0;
  const ny1 = y < height - 1 ? y + 1 : y;
  for (let yy = ny0; yy <= ny1; yy++) {
    for (let xx = nx0; xx <= nx1; xx++) if (data[yy * width + xx] > v) return false;
  }
  if (d === 1) return true;
  const x0 = Math.max(0, x - d);
  const x1 = Math.min(width - 1, x + d);
  const y0 = Math.max(0, y - d);
  const y1 = Math.min(height - 1, y + d);
  for (let yy = y0; yy <= y1; yy++) {
    const row = yy * width;
    for (let xx = x0; xx <= x1; xx++) if (data[row + xx] > v) return false;
  }
  return true;
}

/**
 * scikit-image's ensure_spacing with the Chebyshev norm: walk the ordered
 * candidates and keep each one that has no kept peak at distance < d.
 */
function thinEqualPeaks(ordered: number[], width: number, height: number, d: number): number[] {
  if (d <= 1) return ordered; // distance < 1 would be the same pixel
  const reach = d - 1;
  const taken = new Uint8Array(width * height);
  const kept: number[] = [];
  for (const i of ordered) {
    const y = Math.floor(i / width);
    const x = i - y * width;
    const x0 = Math.max(0, x - reach);
    const x1 = Math.min(width - 1, x + reach);
    const y0 = Math.max(0, y - reach);
    const y1 = Math.min(height - 1, y + reach);
    let free = true;
    for (let yy = y0; yy <= y1 && free; yy++) {
      for (let xx = x0; xx <= x1; xx++) {
        if (taken[yy * width + xx]) {
          free = false;
          break;
        }
      }
    }
    if (free) {
      taken[i] = 1;
      kept.push(i);
    }
  }
  return kept;
}

export interface DetectPointsOptions {
  /** Input size / map size; an integer (default 4: a 25×25 map for a 100×100 patch). */
  scale?: number;
  /** Gaussian sigma in input pixels (0: no blur). */
  sigma: number;
  /** peak_local_max's min_distance in input pixels (integer ≥ 0). */
  minDistance: number;
  /** Peaks must exceed this blurred map value. */
  threshold: number;
  /** Added to every point: the patch's top-left corner in the output coordinate system. */
  roiOffset?: { x: number; y: number };
  /** Edge rule of the bilinear upscale (default 'reflect', scikit-image resize's default). */
  upscaleMode?: UpscaleMode;
  /** Gaussian kernel half-width in sigmas (default 4, scikit-image's). */
  truncate?: number;
}

/**
 * Nucleus points of one detection map: upscale, blur, peaks (see the file
 * comment for the exact scikit-image equivalents and the coordinates).
 * Points come strongest first.
 */
export function detectPoints(
  map: ArrayLike<number>,
  mapWidth: number,
  mapHeight: number,
  options: DetectPointsOptions,
): DetectedPoints {
  checkMapShape(map, mapWidth, mapHeight);
  for (let i = 0; i < map.length; i++) {
    if (!Number.isFinite(map[i])) throw new RangeError(`detectPoints: map value ${map[i]} at index ${i} is not finite`);
  }
  const { sigma, minDistance, threshold } = options;
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`detectPoints: sigma must be ≥ 0, got ${sigma}`);
  const upscaled = upscaleBilinear(map, mapWidth, mapHeight, options.scale ?? 4, options.upscaleMode ?? 'reflect');
  const blurred = sigma > 0 ? gaussianBlur(upscaled, sigma, { truncate: options.truncate ?? 4 }) : upscaled;
  const peaks = peakLocalMax(blurred, { minDistance, threshold });
  const offsetX = options.roiOffset?.x ?? 0;
  const offsetY = options.roiOffset?.y ?? 0;
  const n = peaks.value.length;
  const points: DetectedPoints = { x: new Float32Array(n), y: new Float32Array(n), score: peaks.value };
  for (let k = 0; k < n; k++) {
    points.x[k] = offsetX + peaks.column[k] + 0.5;
    points.y[k] = offsetY + peaks.row[k] + 0.5;
  }
  return points;
}

function checkMapShape(map: ArrayLike<number>, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`detection map size must be positive integers, got ${width}×${height}`);
  }
  if (map.length !== width * height) {
    throw new RangeError(`detection map has ${map.length} values, expected ${width}×${height} = ${width * height}`);
  }
}

/* ------------------------------------------------------------------------ */
/* Stitching the patches of a large region                                   */
/* ------------------------------------------------------------------------ */

/**
 * A regular lattice of square patches in the coordinate system of the
 * detections: patch (column c, row r) has its top-left corner at
 * (originX + c·stride, originY + r·stride) and passes that corner to
 * detectPoints as `roiOffset`.
 */
export interface PatchLattice {
  originX?: number;
  originY?: number;
  /** Patch side in input pixels. */
  patchSize: number;
  /** Distance between neighbouring patch corners (overlap = patchSize − stride). */
  stride: number;
  columns: number;
  rows: number;
}

/** Detections of one patch of a lattice, already in region coordinates. */
export interface PatchDetections {
  column: number;
  row: number;
  detections: DetectedPoints;
}

/** Top-left corner of a lattice patch: the `roiOffset` to use for it. */
export function patchOrigin(lattice: PatchLattice, column: number, row: number): { x: number; y: number } {
  return { x: (lattice.originX ?? 0) + column * lattice.stride, y: (lattice.originY ?? 0) + row * lattice.stride };
}

/**
 * The patch that owns a point: each patch owns the stride × stride square
 * centred in it (its "core"), the outer patches also own everything beyond
 * the lattice on their side, so the cores tile the plane with no gap and no
 * overlap. Boundaries are half-open: a point on a seam belongs to the patch
 * on its right / below.
 */
export function owningPatch(lattice: PatchLattice, x: number, y: number): { column: number; row: number } {
  return { column: ownerAlong(lattice, x - (lattice.originX ?? 0), lattice.columns), row: ownerAlong(lattice, y - (lattice.originY ?? 0), lattice.rows) };
}

/** Owner index along one axis of a coordinate relative to the lattice origin. */
function ownerAlong(lattice: PatchLattice, position: number, count: number): number {
  const index = Math.floor((position - (lattice.patchSize - lattice.stride) / 2) / lattice.stride);
  return index < 0 ? 0 : index >= count ? count - 1 : index;
}

/**
 * The detections of patch (column, row) that lie in its core (see
 * owningPatch). Applied patch by patch, it lets a whole slide stream through
 * without keeping the dropped detections. Returns `detections` itself when
 * every point is kept.
 */
export function keepOwnedDetections(
  lattice: PatchLattice,
  column: number,
  row: number,
  detections: DetectedPoints,
): DetectedPoints {
  checkLattice(lattice);
  if (!Number.isInteger(column) || !Number.isInteger(row) || column < 0 || row < 0 || column >= lattice.columns || row >= lattice.rows) {
    throw new RangeError(`patch (${column}, ${row}) is outside the ${lattice.columns}×${lattice.rows} lattice`);
  }
  const n = detections.x.length;
  const keep = new Uint8Array(n);
  let kept = 0;
  const originX = lattice.originX ?? 0;
  const originY = lattice.originY ?? 0;
  for (let k = 0; k < n; k++) {
    if (
      ownerAlong(lattice, detections.x[k] - originX, lattice.columns) === column &&
      ownerAlong(lattice, detections.y[k] - originY, lattice.rows) === row
    ) {
      keep[k] = 1;
      kept++;
    }
  }
  if (kept === n) return detections;
  const out: DetectedPoints = { x: new Float32Array(kept), y: new Float32Array(kept), score: new Float32Array(kept) };
  for (let k = 0, q = 0; k < n; k++) {
    if (!keep[k]) continue;
    out.x[q] = detections.x[k];
    out.y[q] = detections.y[k];
    out.score[q] = detections.score[k];
    q++;
  }
  return out;
}

/**
 * Stitches the detections of the overlapping patches of a lattice: each
 * patch keeps only the detections in its core (see owningPatch), then all
 * are concatenated in the order the patches come.
 *
 * Why this is enough: a point's peak decision depends on the map within
 * ceil((scale − 1)/2) + floor(truncate·sigma + 0.5) + minDistance input
 * pixels of it. When the overlap margin (patchSize − stride)/2 is at least
 * that, every kept detection is decided from the same values as if the whole
 * region's map had been processed at once, so nothing is lost or doubled at
 * the seams (up to equal-valued peaks straddling a seam). Example: scale 4,
 * sigma 2, minDistance 3 needs a margin of 2 + 8 + 3 = 13 px, e.g. 100 px
 * patches every 60 px (margin 20).
 */
export function mergeTileDetections(lattice: PatchLattice, patches: Iterable<PatchDetections>): DetectedPoints {
  const parts: DetectedPoints[] = [];
  let total = 0;
  for (const patch of patches) {
    const part = keepOwnedDetections(lattice, patch.column, patch.row, patch.detections);
    parts.push(part);
    total += part.x.length;
  }
  const out: DetectedPoints = { x: new Float32Array(total), y: new Float32Array(total), score: new Float32Array(total) };
  let at = 0;
  for (const part of parts) {
    out.x.set(part.x, at);
    out.y.set(part.y, at);
    out.score.set(part.score, at);
    at += part.x.length;
  }
  return out;
}

function checkLattice(lattice: PatchLattice): void {
  const { patchSize, stride, columns, rows } = lattice;
  if (!(patchSize > 0) || !(stride > 0) || !Number.isFinite(patchSize) || !Number.isFinite(stride)) {
    throw new RangeError(`patch lattice: patchSize and stride must be > 0, got ${patchSize} and ${stride}`);
  }
  if (!Number.isInteger(columns) || !Number.isInteger(rows) || columns < 1 || rows < 1) {
    throw new RangeError(`patch lattice: needs at least one column and row, got ${columns}×${rows}`);
  }
}
