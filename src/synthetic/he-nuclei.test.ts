import { describe, expect, test } from 'vitest';
import { HED_FROM_RGB, hematoxylinPositive, rgbToHed } from '../imaging/stain';
import { generateHeNuclei, type HeNucleiImage, OUTLINE_IRREGULARITY } from './he-nuclei';

function centreIndex(img: HeNucleiImage, k: number): number {
  return Math.round(img.centres[2 * k + 1]) * img.width + Math.round(img.centres[2 * k]);
}

/** For each nucleus, whether its label is 4-adjacent to another nucleus' label. */
function touchingNuclei(img: HeNucleiImage): boolean[] {
  const touching = new Array<boolean>(img.centres.length / 2).fill(false);
  const { labels, width, height } = img;
  const mark = (a: number, b: number) => {
    if (a !== 0 && b !== 0 && a !== b) touching[a - 1] = touching[b - 1] = true;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (x + 1 < width) mark(labels[i], labels[i + 1]);
      if (y + 1 < height) mark(labels[i], labels[i + width]);
    }
  }
  return touching;
}

/** Number of positions where two equally long arrays differ (vitest's toEqual is slow on big typed arrays). */
function countDifferent(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function hedOf(img: HeNucleiImage) {
  return rgbToHed({ data: img.rgb, width: img.width, height: img.height, channels: 3 });
}

describe('generateHeNuclei', () => {
  const base = generateHeNuclei({ width: 400, height: 300, seed: 7 });

  test('same seed, same image; another seed, another image', () => {
    const again = generateHeNuclei({ width: 400, height: 300, seed: 7 });
    expect(countDifferent(again.rgb, base.rgb)).toBe(0);
    expect(countDifferent(again.labels, base.labels)).toBe(0);
    expect(Array.from(again.centres)).toEqual(Array.from(base.centres));
    const other = generateHeNuclei({ width: 400, height: 300, seed: 8 });
    expect(countDifferent(other.rgb, base.rgb) / base.rgb.length).toBeGreaterThan(0.5);
    expect(Array.from(other.centres)).not.toEqual(Array.from(base.centres));
    expect(other.stain.hematoxylinScale).not.toBe(base.stain.hematoxylinScale);
  });

  test('outputs are consistently sized; every centre lies inside the image and its own nucleus', () => {
    const n = base.centres.length / 2;
    expect(base.rgb.length).toBe(400 * 300 * 3);
    expect(base.nucleusMask.length).toBe(400 * 300);
    expect(base.radii.length).toBe(2 * n);
    expect(base.angles.length).toBe(n);
    for (let k = 0; k < n; k++) {
      const x = base.centres[2 * k];
      const y = base.centres[2 * k + 1];
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(base.width - 1);
      expect(y).toBeLessThanOrEqual(base.height - 1);
      expect(base.nucleusMask[centreIndex(base, k)]).toBe(1);
      expect(base.labels[centreIndex(base, k)]).toBe(k + 1);
    }
    expect(countDifferent(base.nucleusMask, Uint8Array.from(base.labels, (l) => (l > 0 ? 1 : 0)))).toBe(0);
  });

  test.each([
    [undefined, 15, 25],
    [[10, 14] as const, 10, 14],
  ])('diameters stay in the requested range (%s)', (diameterRange, min, max) => {
    const img = generateHeNuclei({ width: 400, height: 400, seed: 3, diameterRange, touchingFraction: 0 });
    const n = img.centres.length / 2;
    expect(n).toBeGreaterThan(100);
    for (let k = 0; k < n; k++) {
      const [a, b] = [img.radii[2 * k], img.radii[2 * k + 1]];
      expect(2 * b).toBeGreaterThanOrEqual(min - 1e-4);
      expect(2 * a).toBeLessThanOrEqual(max + 1e-4);
      expect(a).toBeGreaterThanOrEqual(b);
    }
    // Drawn nuclei (away from the border): their area's equivalent diameter
    // lies in the range, widened by the outline irregularity and 1 px of rasterisation.
    const area = new Float64Array(n);
    for (const label of img.labels) if (label > 0) area[label - 1]++;
    let measured = 0;
    for (let k = 0; k < n; k++) {
      const [x, y, a] = [img.centres[2 * k], img.centres[2 * k + 1], img.radii[2 * k]];
      if (x < a + 2 || y < a + 2 || x > img.width - a - 3 || y > img.height - a - 3) continue;
      const diameter = 2 * Math.sqrt(area[k] / Math.PI);
      expect(diameter).toBeGreaterThanOrEqual(min * (1 - OUTLINE_IRREGULARITY) - 1);
      expect(diameter).toBeLessThanOrEqual(max * (1 + OUTLINE_IRREGULARITY) + 1);
      measured++;
    }
    expect(measured).toBeGreaterThan(n / 2);
  });

  test.each([
    [undefined, 10],
    [6, 6],
    [14, 14],
  ])('density %s gives %s nuclei per 100×100 px (±20 %)', (density, expected) => {
    const img = generateHeNuclei({ width: 600, height: 500, seed: 11, density });
    const n = img.centres.length / 2;
    const perPatch = n / 30;
    expect(perPatch).toBeGreaterThanOrEqual(expected * 0.8);
    expect(perPatch).toBeLessThanOrEqual(expected * 1.2);
    // Spread over the image, not crowded in one part: every 200×250 quarter-ish block holds some.
    const blocks = new Array<number>(6).fill(0);
    for (let k = 0; k < n; k++) blocks[Math.floor(img.centres[2 * k] / 200) + 3 * Math.floor(img.centres[2 * k + 1] / 250)]++;
    for (const count of blocks) expect(count).toBeGreaterThan((n / 6) * 0.5);
  });

  test('touching nuclei appear when asked, and never otherwise', () => {
    const apart = generateHeNuclei({ width: 400, height: 400, seed: 5, touchingFraction: 0 });
    expect(touchingNuclei(apart).filter(Boolean).length).toBe(0);
    const touching = generateHeNuclei({ width: 400, height: 400, seed: 5, touchingFraction: 0.3 });
    const flags = touchingNuclei(touching);
    // Each touching placement makes two touching nuclei: ≈ 0.3–0.6 of all.
    expect(flags.filter(Boolean).length / flags.length).toBeGreaterThan(0.25);
    // The default (0.2) has some too.
    expect(touchingNuclei(base).filter(Boolean).length).toBeGreaterThan(0);
  });

  test.each([1, 2, 3, 4])('the hematoxylin channel of rgbToHed marks the nuclei (seed %i)', (seed) => {
    const img = generateHeNuclei({ width: 512, height: 512, seed });
    const positive = hematoxylinPositive(hedOf(img).hematoxylin);
    let inter = 0;
    let union = 0;
    for (let i = 0; i < positive.data.length; i++) {
      if (positive.data[i] && img.nucleusMask[i]) inter++;
      if (positive.data[i] || img.nucleusMask[i]) union++;
    }
    expect(inter / union).toBeGreaterThanOrEqual(0.7);
    const n = img.centres.length / 2;
    let onPositive = 0;
    for (let k = 0; k < n; k++) onPositive += positive.data[centreIndex(img, k)];
    expect(onPositive / n).toBeGreaterThanOrEqual(0.95);
  });

  test('rgbToHed recovers the rendered stain amounts (no noise, white glass)', () => {
    const img = generateHeNuclei({ width: 256, height: 256, seed: 9, noiseSigma: 0, stainVariation: 0 });
    expect(img.stain.white).toEqual([255, 255, 255]);
    const hed = hedOf(img);
    const { dabPerEosin, dabPerHematoxylin } = img.stain;
    // Only 8-bit rounding separates them: ±0.5 grey level moves channel c's
    // density by ≤ 0.5 / (I_c · ln 10⁶), and stain j by Σ_c |HED_FROM_RGB[c][j]| times that.
    const n = img.hematoxylin.length;
    const errors = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const h = img.hematoxylin[i];
      const e = img.eosin[i];
      const truth = [h, e, dabPerEosin * e + dabPerHematoxylin * h];
      const found = [hed.hematoxylin.data[i], hed.eosin.data[i], hed.dab.data[i]];
      const densityError = [0, 1, 2].map((c) => 0.5 / (Math.max(img.rgb[i * 3 + c] - 0.5, 0) * Math.log(1e6)));
      for (let j = 0; j < 3; j++) {
        const bound = densityError.reduce((sum, err, c) => sum + err * Math.abs(HED_FROM_RGB[c][j]), 0);
        const error = Math.abs(found[j] - truth[j]);
        errors[j][i] = error;
        if (error > bound * 1.001 + 1e-6) outside++;
      }
    }
    expect(outside).toBe(0);
    // In absolute terms: median error ≤ 0.001, and rarely more than 0.005 (darkest chromatin).
    for (const e of errors) {
      const sorted = e.sort();
      expect(sorted[Math.floor(n / 2)]).toBeLessThan(1e-3);
      expect(sorted[Math.floor(n * 0.999)]).toBeLessThan(5e-3);
    }
  });

  test('stain variation: none gives the nominal stains, more gives a wider spread', () => {
    const still = generateHeNuclei({ width: 64, height: 64, seed: 4, stainVariation: 0 }).stain;
    expect(still.hematoxylinScale).toBe(1);
    expect(still.eosinScale).toBe(1);
    const spread = (variation: number) => {
      const scales = [1, 2, 3, 4, 5, 6, 7, 8].map(
        (seed) => generateHeNuclei({ width: 32, height: 32, seed, stainVariation: variation }).stain.hematoxylinScale,
      );
      return Math.max(...scales) - Math.min(...scales);
    };
    expect(spread(0.6)).toBeGreaterThan(spread(0.1));
    expect(spread(0.1)).toBeLessThanOrEqual(0.2);
  });

  test('rejects bad options', () => {
    expect(() => generateHeNuclei({ width: 0 })).toThrow(RangeError);
    expect(() => generateHeNuclei({ diameterRange: [20, 10] })).toThrow(RangeError);
    expect(() => generateHeNuclei({ touchingFraction: 2 })).toThrow(RangeError);
    expect(() => generateHeNuclei({ density: -1 })).toThrow(RangeError);
  });
});
