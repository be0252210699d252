import { describe, expect, test } from 'vitest';
import type { Mask } from './image';
import {
  binaryDilation,
  binaryErosion,
  disk,
  fillHoles,
  reconstructBinary,
  reconstructionByDilation,
  squaredDistanceTransform,
} from './morphology';
import { countDifferent, decodeRle, fixtureImage, maxAbsDiff, reference, type RleMask } from './testFixtures';

const morph = reference().morphology as {
  input: RleMask;
  fillHoles: RleMask;
  erosion: Record<string, RleMask>;
  dilation: Record<string, RleMask>;
  disks: Record<string, RleMask>;
};
const blobs = decodeRle(morph.input);

/** Deterministic pseudo-random mask. */
function randomMask(width: number, height: number, density: number, seed: number): Mask {
  let s = seed >>> 0;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 < density ? 1 : 0;
  }
  return { data, width, height };
}

/** Direct definition: erosion/dilation by the disk, outside = border value. */
function bruteForce(mask: Mask, r: number, erode: boolean): Uint8Array {
  const { width, height, data } = mask;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let hit = false;
      for (let dy = -r; dy <= r && !hit; dy++) {
        for (let dx = -r; dx <= r && !hit; dx++) {
          if (dx * dx + dy * dy > r * r) continue;
          const xx = x + dx;
          const yy = y + dy;
          const inside = xx >= 0 && yy >= 0 && xx < width && yy < height;
          const v = inside ? data[yy * width + xx] : erode ? 1 : 0;
          hit = erode ? v === 0 : v === 1;
        }
      }
      out[y * width + x] = erode ? (hit ? 0 : 1) : hit ? 1 : 0;
    }
  }
  return out;
}

test('disk(r) equals skimage.morphology.disk', () => {
  for (const [r, rle] of Object.entries(morph.disks)) {
    expect(countDifferent(disk(Number(r)).data, decodeRle(rle).data)).toBe(0);
  }
});

test('fillHoles equals scipy.ndimage.binary_fill_holes', () => {
  expect(countDifferent(fillHoles(blobs).data, decodeRle(morph.fillHoles).data)).toBe(0);
});

test('fillHoles uses 4-connectivity for the background', () => {
  // A diagonal wall: the inner pixel touches the outside only diagonally, so it is a hole.
  const m: Mask = {
    width: 3,
    height: 3,
    data: new Uint8Array([0, 1, 0, 1, 0, 1, 0, 1, 0]),
  };
  expect(Array.from(fillHoles(m).data)).toEqual([0, 1, 0, 1, 1, 1, 0, 1, 0]);
});

describe('binary erosion / dilation with disk(r)', () => {
  test.each(Object.keys(morph.erosion))('radius %s equals skimage', (r) => {
    expect(countDifferent(binaryErosion(blobs, Number(r)).data, decodeRle(morph.erosion[r]).data)).toBe(0);
    expect(countDifferent(binaryDilation(blobs, Number(r)).data, decodeRle(morph.dilation[r]).data)).toBe(0);
  });

  test('equals the direct definition on random masks, radii 0..13, any shape', () => {
    const shapes: [number, number][] = [[1, 1], [1, 9], [9, 1], [23, 17], [31, 40]];
    for (const [w, h] of shapes) {
      for (const density of [0.05, 0.5, 0.95]) {
        const m = randomMask(w, h, density, w * 131 + h * 7 + density * 1000);
        for (let r = 0; r <= 13; r++) {
          expect(countDifferent(binaryErosion(m, r).data, bruteForce(m, r, true))).toBe(0);
          expect(countDifferent(binaryDilation(m, r).data, bruteForce(m, r, false))).toBe(0);
        }
      }
    }
  });

  test('all-foreground stays foreground under erosion (border counts as foreground)', () => {
    const full: Mask = { data: new Uint8Array(20).fill(1), width: 5, height: 4 };
    expect(Array.from(binaryErosion(full, 50).data)).toEqual(Array(20).fill(1));
    const empty: Mask = { data: new Uint8Array(20), width: 5, height: 4 };
    expect(Array.from(binaryDilation(empty, 3).data)).toEqual(Array(20).fill(0));
  });

  test('squared distance transform is exact', () => {
    const m: Mask = { data: new Uint8Array(7 * 5), width: 7, height: 5 };
    m.data[2 * 7 + 1] = 1;
    const d = squaredDistanceTransform(m, 1);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) expect(d[y * 7 + x]).toBe((x - 1) ** 2 + (y - 2) ** 2);
    expect(squaredDistanceTransform({ ...m, data: new Uint8Array(35) }, 1)[0]).toBe(Infinity);
  });
});

describe('reconstruction by dilation', () => {
  const rec = reference().reconstruction.binary as { seed: RleMask; mask: RleMask; output: RleMask };

  test('binary: flood and hybrid algorithm both equal skimage', () => {
    const seed = decodeRle(rec.seed);
    const mask = decodeRle(rec.mask);
    const expected = decodeRle(rec.output).data;
    expect(countDifferent(reconstructBinary(seed, mask).data, expected)).toBe(0);
    expect(countDifferent(reconstructionByDilation(seed, mask).data, expected)).toBe(0);
  });

  test('binary uses 8-connectivity', () => {
    const mask: Mask = { data: new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), width: 3, height: 3 };
    const seed: Mask = { data: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0]), width: 3, height: 3 };
    expect(Array.from(reconstructBinary(seed, mask).data)).toEqual(Array.from(mask.data));
  });

  test('grey: h-dome and marker reconstructions equal skimage', () => {
    const mask = fixtureImage('recon_mask');
    const hdomeSeed = { ...mask, data: mask.data.map((v) => v - 3) };
    expect(maxAbsDiff(reconstructionByDilation(hdomeSeed, mask).data, fixtureImage('recon_hdome').data)).toBe(0);
    const marker = fixtureImage('recon_marker_seed');
    expect(maxAbsDiff(reconstructionByDilation(marker, mask).data, fixtureImage('recon_marker').data)).toBe(0);
  });

  test('grey: equals iterated geodesic dilation on random images', () => {
    for (const [w, h, seedValue] of [[17, 13, 1], [40, 9, 7], [1, 12, 3]] as const) {
      let s = w * 977 + h;
      const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const mask = { data: Uint8Array.from({ length: w * h }, () => Math.floor(rand() * 200)), width: w, height: h };
      const seed = { data: mask.data.map((v) => (rand() < 0.05 ? v : Math.min(v, seedValue))), width: w, height: h };
      let current = Uint8Array.from(seed.data);
      for (let changed = true; changed; ) {
        changed = false;
        const next = new Uint8Array(current.length);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            let m = 0;
            for (let dy = -1; dy <= 1; dy++)
              for (let dx = -1; dx <= 1; dx++) {
                const yy = y + dy;
                const xx = x + dx;
                if (yy >= 0 && xx >= 0 && yy < h && xx < w) m = Math.max(m, current[yy * w + xx]);
              }
            next[y * w + x] = Math.min(m, mask.data[y * w + x]);
            if (next[y * w + x] !== current[y * w + x]) changed = true;
          }
        }
        current = next;
      }
      const out = reconstructionByDilation(seed, mask);
      expect(out.data).toBeInstanceOf(Uint8Array);
      expect(countDifferent(out.data, current)).toBe(0);
    }
  });

  test('rejects a seed above the mask, like skimage', () => {
    const mask: Mask = { data: new Uint8Array([0, 1]), width: 2, height: 1 };
    const seed: Mask = { data: new Uint8Array([1, 1]), width: 2, height: 1 };
    expect(() => reconstructBinary(seed, mask)).toThrow(RangeError);
    expect(() => reconstructionByDilation(seed, mask)).toThrow(RangeError);
  });
});
