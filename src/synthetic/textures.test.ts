import { describe, expect, test } from 'vitest';
import { generateTexture, generateTextureDataset, TEXTURE_CLASSES } from './textures';

/** Number of positions where two equally long arrays differ (toEqual is slow on typed arrays). */
function countDifferent(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Features of a grey image: [mean, sd] (intensity) and four structure measures. */
function features(img: Float32Array, size: number) {
  const n = size * size;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += img[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (img[i] - mean) ** 2;
  const sd = Math.sqrt(ss / n) || 1;
  /** Autocorrelation at lag k, averaged over the x and y directions. */
  const corr = (k: number) => {
    let acc = 0;
    let count = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const a = img[y * size + x] - mean;
        if (x + k < size) {
          acc += a * (img[y * size + x + k] - mean);
          count++;
        }
        if (y + k < size) {
          acc += a * (img[(y + k) * size + x] - mean);
          count++;
        }
      }
    }
    return acc / count / (sd * sd);
  };
  // Orientation coherence of the whole image's structure tensor.
  let jxx = 0;
  let jxy = 0;
  let jyy = 0;
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const gx = img[y * size + x + 1] - img[y * size + x - 1];
      const gy = img[(y + 1) * size + x] - img[(y - 1) * size + x];
      jxx += gx * gx;
      jxy += gx * gy;
      jyy += gy * gy;
    }
  }
  const coherence = Math.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / (jxx + jyy || 1);
  return { intensity: [mean, sd], structure: [corr(1), corr(3), corr(10), coherence] };
}

/** Nearest-centroid accuracy on standardised features, trained on one set and tested on another. */
function nearestCentroidAccuracy(train: number[][], trainLabels: Uint8Array, test: number[][], testLabels: Uint8Array, k: number): number {
  const d = train[0].length;
  const mu = new Array(d).fill(0);
  const sd = new Array(d).fill(0);
  for (const f of train) f.forEach((v, j) => (mu[j] += v / train.length));
  for (const f of train) f.forEach((v, j) => (sd[j] += (v - mu[j]) ** 2 / train.length));
  const z = (f: number[]) => f.map((v, j) => (v - mu[j]) / (Math.sqrt(sd[j]) || 1));
  const centroids = Array.from({ length: k }, () => new Array(d).fill(0));
  const counts = new Array(k).fill(0);
  train.forEach((f, i) => {
    z(f).forEach((v, j) => (centroids[trainLabels[i]][j] += v));
    counts[trainLabels[i]]++;
  });
  centroids.forEach((c, l) => c.forEach((_, j) => (c[j] /= counts[l])));
  let right = 0;
  test.forEach((f, i) => {
    const zf = z(f);
    let best = 0;
    let bestD = Infinity;
    centroids.forEach((c, l) => {
      const dist = c.reduce((s, v, j) => s + (v - zf[j]) ** 2, 0);
      if (dist < bestD) {
        bestD = dist;
        best = l;
      }
    });
    if (best === testLabels[i]) right++;
  });
  return right / test.length;
}

describe('generateTextureDataset', () => {
  const size = 48;
  const train = generateTextureDataset({ perClass: 25, size, seed: 1 });
  const held = generateTextureDataset({ perClass: 25, size, seed: 2 });

  test('labels, grouping, shapes and value range', () => {
    expect(train.classNames).toEqual(TEXTURE_CLASSES);
    expect(train.images.length).toBe(100);
    expect(Array.from(train.labels)).toEqual(TEXTURE_CLASSES.flatMap((_, l) => new Array(25).fill(l)));
    let lo = Infinity;
    let hi = -Infinity;
    for (const img of train.images) {
      expect(img.length).toBe(size * size);
      for (const v of img) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
  });

  test('deterministic per seed; images of a set differ', () => {
    const again = generateTextureDataset({ perClass: 25, size, seed: 1 });
    again.images.forEach((img, i) => expect(countDifferent(img, train.images[i])).toBe(0));
    expect(countDifferent(held.images[0], train.images[0])).toBeGreaterThan(1000);
    expect(countDifferent(train.images[1], train.images[0])).toBeGreaterThan(1000);
    // One image can be regenerated alone.
    const rgb = generateTextureDataset({ perClass: 2, size: 16, seed: 5, channels: 3 });
    expect(rgb.channels).toBe(3);
    expect(rgb.images[3].length).toBe(16 * 16 * 3);
  });

  test('intensity statistics do not separate the classes; texture does', () => {
    const f = train.images.map((img) => features(img, size));
    const g = held.images.map((img) => features(img, size));
    const byIntensity = nearestCentroidAccuracy(
      f.map((x) => x.intensity),
      train.labels,
      g.map((x) => x.intensity),
      held.labels,
      4,
    );
    const byStructure = nearestCentroidAccuracy(
      f.map((x) => x.structure),
      train.labels,
      g.map((x) => x.structure),
      held.labels,
      4,
    );
    console.log(`nearest centroid: mean/sd ${byIntensity}, structure ${byStructure}`);
    // Chance is 0.25.
    expect(byIntensity).toBeLessThan(0.45);
    expect(byStructure).toBeGreaterThan(0.9);
    // Class mean intensities overlap: every class's range of image means covers 0.45–0.55.
    for (let l = 0; l < 4; l++) {
      const means = f.filter((_, i) => train.labels[i] === l).map((x) => x.intensity[0]);
      expect(Math.min(...means)).toBeLessThan(0.45);
      expect(Math.max(...means)).toBeGreaterThan(0.55);
    }
  });

  test('few pixels are clipped', () => {
    let clipped = 0;
    let total = 0;
    for (const img of train.images) {
      for (const v of img) if (v === 0 || v === 1) clipped++;
      total += img.length;
    }
    console.log(`clipped share ${(clipped / total).toFixed(4)}`);
    expect(clipped / total).toBeLessThan(0.01);
  });

  test('generateTexture validates its options', () => {
    expect(() => generateTexture('smooth', { size: 4 })).toThrow(RangeError);
    expect(() => generateTextureDataset({ perClass: -1 })).toThrow(RangeError);
  });
});
