import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gaussianBlur } from '../../imaging/gaussian';
import {
  type DetectedPoints,
  detectPoints,
  keepOwnedDetections,
  mergeTileDetections,
  owningPatch,
  patchOrigin,
  type PatchLattice,
  peakLocalMax,
  upscaleBilinear,
  type UpscaleMode,
} from './postprocess';

// Written by scripts/make_nuclei_reference.py (scikit-image 0.19).
const FIXTURES = fileURLToPath(new URL('../../../tests/fixtures/nuclei/', import.meta.url));

interface UpscaleCase {
  width: number;
  height: number;
  factor: number;
  mode: UpscaleMode;
  map: number[];
  expected: number[];
}
interface PeakCase {
  name: string;
  width: number;
  height: number;
  minDistance: number;
  threshold: number;
  image: number[];
  peaks: [number, number][];
}
interface PipelineCase {
  name: string;
  mapWidth: number;
  mapHeight: number;
  scale: number;
  sigma: number;
  minDistance: number;
  threshold: number;
  mode: UpscaleMode;
  map: number[];
  peaks: [number, number, number][];
  blurredFile?: string;
}
const reference = JSON.parse(readFileSync(FIXTURES + 'reference.json', 'utf8')) as {
  upscale: UpscaleCase[];
  peaks: PeakCase[];
  pipeline: PipelineCase[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Peaks as [row, column] pairs in the order returned. */
function peakList(image: { data: Float32Array; width: number; height: number }, minDistance: number, threshold: number) {
  const peaks = peakLocalMax(image, { minDistance, threshold });
  return Array.from(peaks.row, (row, k) => [row, peaks.column[k]]);
}

/** Detections back to scikit-image's integer (row, column), sorted for set comparison. */
function pixelSet(points: DetectedPoints, offsetX = 0, offsetY = 0): string[] {
  return Array.from(points.x, (x, k) => `${points.y[k] - 0.5 - offsetY},${x - 0.5 - offsetX}`).sort();
}

describe('upscaleBilinear', () => {
  it('matches skimage.transform.resize(order=1, anti_aliasing=False) in both edge modes', () => {
    for (const c of reference.upscale) {
      const out = upscaleBilinear(Float64Array.from(c.map), c.width, c.height, c.factor, c.mode);
      expect([out.width, out.height]).toEqual([c.width * c.factor, c.height * c.factor]);
      expect(maxAbsDiff(out.data, c.expected), `${c.width}×${c.height} ×${c.factor} ${c.mode}`).toBeLessThan(1e-6);
    }
  });

  it('the fixtures tell the two edge modes apart', () => {
    // Otherwise a mix-up of 'reflect' and 'edge' could pass unseen.
    const reflect = reference.upscale.find((c) => c.mode === 'reflect' && c.factor === 4 && c.width > 2)!;
    const asEdge = upscaleBilinear(reflect.map, reflect.width, reflect.height, 4, 'edge');
    expect(maxAbsDiff(asEdge.data, reflect.expected)).toBeGreaterThan(1e-2);
  });

  it('keeps a map’s mean on a linear ramp interior and rejects bad factors', () => {
    // A ramp v = column is reproduced exactly away from the edges: sample o reads column (o + 0.5)/4 − 0.5.
    const ramp = Float32Array.from({ length: 8 * 2 }, (_, i) => i % 8);
    const out = upscaleBilinear(ramp, 8, 2, 4);
    for (let o = 2; o < 30; o++) expect(out.data[o]).toBeCloseTo((o + 0.5) / 4 - 0.5, 6);
    expect(() => upscaleBilinear(ramp, 8, 2, 2.5)).toThrow(/integer/);
    expect(() => upscaleBilinear(ramp, 7, 2, 4)).toThrow(/values/);
  });
});

describe('peakLocalMax', () => {
  it('returns exactly scikit-image’s peaks, in its order (plateaus, equal peaks, borders, thresholds)', () => {
    expect(reference.peaks.length).toBeGreaterThan(15);
    for (const c of reference.peaks) {
      const image = { data: Float32Array.from(c.image), width: c.width, height: c.height };
      expect(peakList(image, c.minDistance, c.threshold), c.name).toEqual(c.peaks);
    }
  });

  it('the fixtures catch a window one pixel too small or a non-strict threshold', () => {
    let windowMisses = 0;
    let thresholdMisses = 0;
    for (const c of reference.peaks) {
      const image = { data: Float32Array.from(c.image), width: c.width, height: c.height };
      if (c.minDistance >= 2 && JSON.stringify(peakList(image, c.minDistance - 1, c.threshold)) !== JSON.stringify(c.peaks)) {
        windowMisses++;
      }
      const lowered = c.threshold - 1e-6; // ≥ instead of >
      if (JSON.stringify(peakList(image, c.minDistance, lowered)) !== JSON.stringify(c.peaks)) thresholdMisses++;
    }
    expect(windowMisses).toBeGreaterThan(3);
    expect(thresholdMisses).toBeGreaterThan(0);
  });

  it('handles flat images, minDistance 0, single pixels and NaN', () => {
    const flat = { data: new Float32Array(12).fill(2), width: 4, height: 3 };
    expect(peakLocalMax(flat, { minDistance: 1, threshold: 0 }).value.length).toBe(0);
    // min_distance 0 is a plain threshold (every pixel of the flat image).
    expect(peakLocalMax(flat, { minDistance: 0, threshold: 0 }).value.length).toBe(12);
    expect(peakList({ data: Float32Array.of(3), width: 1, height: 1 }, 2, 1)).toEqual([[0, 0]]);
    const withNaN = { data: Float32Array.of(0, NaN, 1, 0), width: 2, height: 2 };
    expect(() => peakLocalMax(withNaN, { minDistance: 1, threshold: 0 })).toThrow(/NaN at column 1, row 0/);
    expect(() => peakLocalMax(flat, { minDistance: 1.5, threshold: 0 })).toThrow(/integer/);
  });
});

describe('detectPoints', () => {
  it('finds scikit-image’s peak set on random smooth maps (resize → gaussian → peak_local_max)', () => {
    for (const c of reference.pipeline) {
      const points = detectPoints(Float64Array.from(c.map), c.mapWidth, c.mapHeight, {
        scale: c.scale,
        sigma: c.sigma,
        minDistance: c.minDistance,
        threshold: c.threshold,
        upscaleMode: c.mode,
      });
      const expected = c.peaks.map(([row, column]) => `${row},${column}`).sort();
      expect(pixelSet(points), c.name).toEqual(expected);
      // Scores are the blurred values (float32 here, float64 in SciPy), strongest first.
      const byPixel = new Map(c.peaks.map(([row, column, value]) => [`${row},${column}`, value]));
      points.x.forEach((x, k) => {
        expect(points.score[k]).toBeCloseTo(byPixel.get(`${points.y[k] - 0.5},${x - 0.5}`)!, 5);
        if (k > 0) expect(points.score[k]).toBeLessThanOrEqual(points.score[k - 1]);
      });
    }
  });

  it('the intermediate blurred map matches scikit-image', () => {
    const c = reference.pipeline.find((p) => p.blurredFile)!;
    const bytes = gunzipSync(readFileSync(FIXTURES + c.blurredFile));
    const expected = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const up = upscaleBilinear(c.map, c.mapWidth, c.mapHeight, c.scale, c.mode);
    const blurred = gaussianBlur(up, c.sigma);
    expect(maxAbsDiff(blurred.data, expected)).toBeLessThan(1e-5);
    // With the other edge mode the border differs clearly: the test sees the mode.
    const other = gaussianBlur(upscaleBilinear(c.map, c.mapWidth, c.mapHeight, c.scale, 'edge'), c.sigma);
    expect(maxAbsDiff(other.data, expected)).toBeGreaterThan(1e-3);
  });

  it('reports pixel centres plus roiOffset', () => {
    // One bright map pixel at (column 3, row 2) of a 7×6 map, away from the
    // edges (a 'reflect' upscale mirrors a pixel next to the edge into a
    // second, border peak). After a ×4 upscale the bump is symmetric about
    // the input point (14, 10), so its top is the 2×2 block of pixels at
    // columns 13–14, rows 9–10; minDistance 2 keeps the raster-first one.
    const map = new Float32Array(42);
    map[2 * 7 + 3] = 1;
    const options = { sigma: 1, minDistance: 2, threshold: 0.1 };
    const points = detectPoints(map, 7, 6, options);
    expect(Array.from(points.x)).toEqual([13.5]);
    expect(Array.from(points.y)).toEqual([9.5]);
    const shifted = detectPoints(map, 7, 6, { ...options, roiOffset: { x: 1000, y: 2000 } });
    expect([shifted.x[0], shifted.y[0]]).toEqual([1013.5, 2009.5]);
    // minDistance 1 keeps all four equal pixels of the top.
    expect(pixelSet(detectPoints(map, 7, 6, { ...options, minDistance: 1 }))).toEqual(['10,13', '10,14', '9,13', '9,14']);
    expect(detectPoints(map, 7, 6, { ...options, threshold: 0.9 }).x.length).toBe(0);
    expect(() => detectPoints(map, 6, 6, options)).toThrow(/values/);
    map[3] = Infinity;
    expect(() => detectPoints(map, 7, 6, options)).toThrow(/not finite/);
  });
});

/** A smooth blob field of the given size, values in [0, 1] (deterministic). */
function blobMap(width: number, height: number, seed: number, density = 0.03): Float32Array {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const map = new Float32Array(width * height);
  const blobs = Math.max(1, Math.round(width * height * density));
  for (let b = 0; b < blobs; b++) {
    const cx = random() * width;
    const cy = random() * height;
    const radius = 0.7 + random();
    const amplitude = 0.4 + 0.6 * random();
    const x0 = Math.max(0, Math.floor(cx - 4 * radius));
    const x1 = Math.min(width - 1, Math.ceil(cx + 4 * radius));
    const y0 = Math.max(0, Math.floor(cy - 4 * radius));
    const y1 = Math.min(height - 1, Math.ceil(cy + 4 * radius));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        map[y * width + x] += amplitude * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius * radius));
      }
    }
  }
  return map;
}

function cropMap(map: Float32Array, width: number, x0: number, y0: number, size: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) out.set(map.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + size), y * size);
  return out;
}

describe('mergeTileDetections', () => {
  // 100 px patches (25×25 map) every 60 px: a 20 px margin, more than the
  // 2 + 8 + 3 px that scale 4, sigma 2 and minDistance 3 need.
  const SCALE = 4;
  const PATCH_MAP = 25;
  const STRIDE_MAP = 15;
  const options = { scale: SCALE, sigma: 2, minDistance: 3, threshold: 0.2 };
  const columns = 5;
  const rows = 4;
  const mapWidth = PATCH_MAP + (columns - 1) * STRIDE_MAP;
  const mapHeight = PATCH_MAP + (rows - 1) * STRIDE_MAP;
  const lattice: PatchLattice = {
    originX: 300,
    originY: 700,
    patchSize: PATCH_MAP * SCALE,
    stride: STRIDE_MAP * SCALE,
    columns,
    rows,
  };

  function perPatch(map: Float32Array) {
    const patches = [];
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        const crop = cropMap(map, mapWidth, column * STRIDE_MAP, row * STRIDE_MAP, PATCH_MAP);
        const detections = detectPoints(crop, PATCH_MAP, PATCH_MAP, { ...options, roiOffset: patchOrigin(lattice, column, row) });
        patches.push({ column, row, detections });
      }
    }
    return patches;
  }

  it('stitched patches give exactly the detections of the whole region at once', () => {
    for (const seed of [1, 2, 3]) {
      const map = blobMap(mapWidth, mapHeight, seed);
      const whole = detectPoints(map, mapWidth, mapHeight, { ...options, roiOffset: { x: 300, y: 700 } });
      const patches = perPatch(map);
      const merged = mergeTileDetections(lattice, patches);
      expect(whole.x.length).toBeGreaterThan(20);
      const key = (p: DetectedPoints) => Array.from(p.x, (x, k) => `${x},${p.y[k]},${p.score[k]}`).sort();
      expect(key(merged)).toEqual(key(whole));
      // Plain concatenation doubles the detections in the overlaps: the comparison above would fail.
      const concatenated = patches.reduce((n, p) => n + p.detections.x.length, 0);
      expect(concatenated).toBeGreaterThan(whole.x.length);
    }
  });

  it('patch cores tile the plane: every point has one owner, whose patch contains it', () => {
    const xs = [-50, 299.9, 300, 319.9, 320, 379.9, 380, 555, 10_000];
    for (const x of xs) {
      for (const y of [690, 720, 781.5, 900, 5000]) {
        const owner = owningPatch(lattice, x, y);
        let owners = 0;
        for (let row = 0; row < rows; row++) {
          for (let column = 0; column < columns; column++) {
            const single = { x: Float32Array.of(x), y: Float32Array.of(y), score: Float32Array.of(1) };
            if (keepOwnedDetections(lattice, column, row, single).x.length === 1) {
              owners++;
              expect({ column, row }).toEqual(owner);
            }
          }
        }
        expect(owners).toBe(1);
        // Inside the lattice, the owner's patch contains the point.
        if (x >= 300 && x < 300 + 100 + 4 * 60 && y >= 700 && y < 700 + 100 + 3 * 60) {
          const corner = patchOrigin(lattice, owner.column, owner.row);
          expect(x - corner.x).toBeGreaterThanOrEqual(0);
          expect(x - corner.x).toBeLessThan(100);
          expect(y - corner.y).toBeGreaterThanOrEqual(0);
          expect(y - corner.y).toBeLessThan(100);
        }
      }
    }
    // The first core ends at origin + margin + stride: 300 + 20 + 60.
    expect(owningPatch(lattice, 379.99, 0).column).toBe(0);
    expect(owningPatch(lattice, 380, 0).column).toBe(1);
    expect(() => keepOwnedDetections(lattice, 5, 0, { x: new Float32Array(), y: new Float32Array(), score: new Float32Array() })).toThrow(
      /outside/,
    );
  });

  it('is fast enough for whole slides (per-patch cost; merging >100k points)', () => {
    const map = blobMap(25, 25, 7, 0.3);
    const patchOptions = { sigma: 1, minDistance: 2, threshold: 0.05 };
    const started = performance.now();
    const repeats = 300;
    let local = detectPoints(map, 25, 25, patchOptions);
    for (let k = 1; k < repeats; k++) local = detectPoints(map, 25, 25, patchOptions);
    const perPatchMs = (performance.now() - started) / repeats;

    // A 70×50 lattice of those detections, shifted to each patch's corner.
    const big: PatchLattice = { patchSize: 100, stride: 60, columns: 70, rows: 50 };
    const patches = [];
    for (let row = 0; row < big.rows; row++) {
      for (let column = 0; column < big.columns; column++) {
        const corner = patchOrigin(big, column, row);
        const detections = {
          x: local.x.map((x) => x + corner.x),
          y: local.y.map((y) => y + corner.y),
          score: local.score,
        };
        patches.push({ column, row, detections });
      }
    }
    const raw = patches.reduce((n, p) => n + p.detections.x.length, 0);
    const mergeStart = performance.now();
    const merged = mergeTileDetections(big, patches);
    const mergeMs = performance.now() - mergeStart;
    console.log(
      `detectPoints ${perPatchMs.toFixed(3)} ms per 25×25 map; merging ${raw} points took ${mergeMs.toFixed(1)} ms → ${merged.x.length}`,
    );
    expect(raw).toBeGreaterThan(100_000);
    expect(merged.x.length).toBeLessThan(raw);
    expect(perPatchMs).toBeLessThan(20);
    expect(mergeMs).toBeLessThan(1000);
  });
});
