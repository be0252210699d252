import { describe, expect, test } from 'vitest';
import {
  FISH_CLASSES,
  fishNucleusClass,
  type FishNucleus,
  generateFishDataset,
  generateFishNucleus,
  SIGNAL_CUTOFF,
} from './fish-nuclei';

function countDifferent(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** One channel (0 red, 1 green, 2 blue) of a crop. */
function channel(img: FishNucleus, c: number): Float32Array {
  const out = new Float32Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = img.data[3 * i + c];
  return out;
}

/** Number of 8-connected components of pixels where `keep` holds. */
function components(values: Float32Array, size: number, keep: (v: number) => boolean): number {
  const seen = new Uint8Array(values.length);
  let count = 0;
  for (let start = 0; start < values.length; start++) {
    if (seen[start] || !keep(values[start])) continue;
    count++;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % size;
      const y = (i - x) / size;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const j = ny * size + nx;
          if (!seen[j] && keep(values[j])) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
  }
  return count;
}

/** Options that leave only §2.3 steps 1–2: no glow, deformation, blur or noise. */
const BARE = { signalBackground: [0, 0], elastic: false, blurSigma: [0, 0], noiseSigma: 0 } as const;

describe('fishNucleusClass', () => {
  test('MNA exactly when green ≥ 4 × red', () => {
    expect(fishNucleusClass(2, 8)).toBe('MNA');
    expect(fishNucleusClass(2, 7)).toBe('non-MNA');
    expect(fishNucleusClass(1, 4)).toBe('MNA');
    expect(fishNucleusClass(1, 3)).toBe('non-MNA');
    expect(fishNucleusClass(3, 35)).toBe('MNA');
    expect(fishNucleusClass(0, 0)).toBe('MNA'); // the literal rule: 0 ≥ 4·0
    for (let red = 0; red <= 10; red++) {
      for (let green = 0; green <= 50; green++) expect(fishNucleusClass(red, green) === 'MNA').toBe(green >= 4 * red);
    }
    expect(() => fishNucleusClass(1.5, 3)).toThrow(RangeError);
    expect(() => fishNucleusClass(-1, 3)).toThrow(RangeError);
  });
});

describe('generateFishNucleus', () => {
  test('deterministic per seed; the same seed with other counts keeps the nucleus', () => {
    const a = generateFishNucleus({ size: 96, redCount: 2, greenCount: 9, seed: 4 });
    const b = generateFishNucleus({ size: 96, redCount: 2, greenCount: 9, seed: 4 });
    expect(countDifferent(a.data, b.data)).toBe(0);
    expect(countDifferent(a.mask, b.mask)).toBe(0);
    expect(a.spots).toEqual(b.spots);
    const other = generateFishNucleus({ size: 96, redCount: 2, greenCount: 9, seed: 5 });
    expect(countDifferent(a.data, other.data)).toBeGreaterThan(a.data.length / 3);
    // Fewer green signals, same seed: identical DAPI, identical red signals.
    const fewer = generateFishNucleus({ size: 96, redCount: 2, greenCount: 3, seed: 4 });
    expect(countDifferent(channel(fewer, 2), channel(a, 2))).toBe(0);
    expect(countDifferent(channel(fewer, 0), channel(a, 0))).toBe(0);
    expect(countDifferent(channel(fewer, 1), channel(a, 1))).toBeGreaterThan(0);
    expect(fewer.spots.filter((s) => s.channel === 'red')).toEqual(a.spots.filter((s) => s.channel === 'red'));
    expect([a.label, fewer.label]).toEqual(['MNA', 'non-MNA']);
  });

  test('shape, range, nucleus in the crop and DAPI only inside it', () => {
    const img = generateFishNucleus({ redCount: 2, greenCount: 2, seed: 1 });
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([192, 192, 3, 192 * 192 * 3]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of img.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    // Nucleus: 55–80 % of the crop across, none of it on the border.
    let area = 0;
    let margin = Infinity;
    for (let y = 0; y < 192; y++) {
      for (let x = 0; x < 192; x++) {
        if (!img.mask[y * 192 + x]) continue;
        area++;
        margin = Math.min(margin, x, y, 191 - x, 191 - y);
      }
    }
    expect(margin).toBeGreaterThan(5);
    const diameter = 2 * Math.sqrt(area / Math.PI);
    expect(diameter / 192).toBeGreaterThan(0.4);
    expect(diameter / 192).toBeLessThan(0.85);
    // Blue is bright inside, dark (noise only) well outside.
    const bare = generateFishNucleus({ redCount: 2, greenCount: 2, seed: 1, ...BARE });
    const blue = channel(bare, 2);
    let inside = 0;
    for (let i = 0; i < blue.length; i++) if (bare.mask[i]) inside += blue[i];
    expect(inside / area).toBeGreaterThan(0.2);
    const outsideBlue = blue.filter((_, i) => !bare.mask[i] && (i % 192 < 10 || i % 192 > 181));
    expect(Math.max(...outsideBlue)).toBe(0);
  });

  test('§2.3 signals: counts, cut at 0.8 of the peak, wholly inside the nucleus', () => {
    for (const [seed, red, green] of [
      [1, 2, 2],
      [2, 1, 4],
      [3, 3, 20],
      [4, 2, 35],
    ]) {
      const img = generateFishNucleus({ size: 128, redCount: red, greenCount: green, seed, ...BARE });
      expect(img.spots.filter((s) => s.channel === 'red').length).toBe(red);
      expect(img.spots.filter((s) => s.channel === 'green').length).toBe(green);
      expect(img.label).toBe(fishNucleusClass(red, green));
      for (const c of [0, 1]) {
        const values = channel(img, c);
        const spots = img.spots.filter((s) => s.channel === (c === 0 ? 'red' : 'green'));
        for (let i = 0; i < values.length; i++) {
          if (values[i] === 0) continue;
          // Every signal pixel lies in the nucleus, and holds ≥ 0.8 of some signal's peak.
          expect(img.mask[i]).toBe(1);
          const x = i % 128;
          const y = (i - x) / 128;
          const owners = spots.filter((s) => Math.hypot(x - s.x, y - s.y) <= s.sigma * Math.sqrt(2 * Math.log(1 / SIGNAL_CUTOFF)) + 1e-9);
          expect(owners.length).toBeGreaterThan(0);
          expect(values[i]).toBeGreaterThanOrEqual(SIGNAL_CUTOFF * Math.min(...owners.map((s) => s.amplitude)) - 1e-6);
          expect(values[i]).toBeLessThanOrEqual(Math.max(...owners.map((s) => s.amplitude)) + 1e-6);
        }
        // Default sizes at 128 px: σ 2–3.33 px.
        for (const s of spots) {
          expect(s.sigma).toBeGreaterThanOrEqual(2);
          expect(s.sigma).toBeLessThanOrEqual(10 / 3);
          // "the given size does not extend over the nucleus boundary": a circle of radius σ is inside.
          for (let k = 0; k < 16; k++) {
            const px = Math.round(s.x + s.sigma * Math.cos((k * Math.PI) / 8));
            const py = Math.round(s.y + s.sigma * Math.sin((k * Math.PI) / 8));
            expect(img.mask[py * 128 + px]).toBe(1);
          }
        }
        // Overlaps only merge blobs: never more blobs than signals, and as many when few.
        const blobs = components(values, 128, (v) => v > 0);
        expect(blobs).toBeLessThanOrEqual(spots.length);
        if (spots.length <= 2) expect(blobs).toBe(spots.length);
      }
    }
  });

  test('after the elastic transform the signals are where the spots say', () => {
    const img = generateFishNucleus({
      size: 128,
      redCount: 3,
      greenCount: 12,
      seed: 9,
      elastic: { alpha: [110, 110], sigma: 8 }, // the strongest default at 128 px
      blurSigma: [0, 0],
      noiseSigma: 0,
      signalBackground: [0, 0],
    });
    expect(img.elasticAlpha).toBe(110);
    let moved = 0;
    for (const s of img.spots) {
      moved = Math.max(moved, Math.hypot(s.x - s.x0, s.y - s.y0));
      const i = Math.round(s.y) * 128 + Math.round(s.x);
      const value = img.data[3 * i + (s.channel === 'red' ? 0 : 1)];
      // The centre pixel still samples the signal's disc (radius ≥ 1.3 px at σ ≥ 2).
      expect(value).toBeGreaterThanOrEqual(0.6 * SIGNAL_CUTOFF - 1e-6);
      expect(img.mask[i]).toBe(1);
    }
    expect(moved).toBeGreaterThan(0.5);
    // Signal pixels stay in the deformed nucleus (give or take the bilinear edge).
    let outside = 0;
    let total = 0;
    for (let i = 0; i < 128 * 128; i++) {
      if (img.data[3 * i] > 0.3 || img.data[3 * i + 1] > 0.3) {
        total++;
        if (!img.mask[i]) outside++;
      }
    }
    expect(outside).toBeLessThanOrEqual(total * 0.02);
  });

  test('rejects a signal too large for the nucleus', () => {
    expect(() => generateFishNucleus({ size: 64, redCount: 1, greenCount: 0, signalSigma: [40, 40] })).toThrow(RangeError);
  });
});

describe('generateFishDataset', () => {
  const set = generateFishDataset({ perClass: 12, size: 64, seed: 3 });

  test('classes, labels and counts follow the rule', () => {
    expect(set.classNames).toEqual(FISH_CLASSES);
    expect(set.images.length).toBe(24);
    expect([set.width, set.height, set.channels]).toEqual([64, 64, 3]);
    for (let i = 0; i < 24; i++) {
      expect(set.labels[i]).toBe(i < 12 ? 0 : 1);
      const red = set.redCounts[i];
      const green = set.greenCounts[i];
      expect(FISH_CLASSES[set.labels[i]]).toBe(fishNucleusClass(red, green));
      expect(red).toBeGreaterThanOrEqual(1);
      expect(red).toBeLessThanOrEqual(4);
      expect(green).toBeGreaterThanOrEqual(1);
      expect(green).toBeLessThanOrEqual(35);
      expect(set.images[i].length).toBe(64 * 64 * 3);
    }
    // The crops are those of generateFishNucleus with the counts used (spot check via determinism).
    const again = generateFishDataset({ perClass: 12, size: 64, seed: 3 });
    set.images.forEach((img, i) => expect(countDifferent(img, again.images[i])).toBe(0));
    expect(Array.from(again.greenCounts)).toEqual(Array.from(set.greenCounts));
    const other = generateFishDataset({ perClass: 12, size: 64, seed: 4 });
    expect(Array.from(other.greenCounts)).not.toEqual(Array.from(set.greenCounts));
  });

  test('green signal area separates the classes on average (the data carry the label)', () => {
    const greenArea = (img: Float32Array) => {
      let a = 0;
      for (let i = 1; i < img.length; i += 3) if (img[i] > 0.35) a++;
      return a;
    };
    const mean = (label: number) => {
      const areas = set.images.filter((_, i) => set.labels[i] === label).map(greenArea);
      return areas.reduce((s, v) => s + v, 0) / areas.length;
    };
    expect(mean(1)).toBeGreaterThan(2 * mean(0));
  });

  test('validates its options', () => {
    expect(() => generateFishDataset({ perClass: 1, size: 64, redRange: [0, 2] })).toThrow(RangeError);
    expect(() => generateFishDataset({ perClass: 1, size: 64, redRange: [1, 10] })).toThrow(RangeError);
    expect(() => generateFishDataset({ perClass: 1, size: 64, minGreen: 4 })).toThrow(RangeError);
  });
});
