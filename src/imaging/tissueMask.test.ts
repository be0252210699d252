import { describe, expect, test } from 'vitest';
import { toGray } from './color';
import type { Mask } from './image';
import { resizeMask } from './resize';
import { countDifferent, decodeRle, fixtureImage, iou, maxAbsDiff, reference, type RleMask } from './testFixtures';
import { tissueMask, tissueMaskPipeline } from './tissueMask';

interface Case {
  name: string;
  input: string;
  small: string;
  levelDownsample: number;
  downscale: number;
  sigma: number;
  erosionRadius: number;
  polarity: 'dark' | 'bright';
  threshold: number;
  thresholded: RleMask;
  filled: RleMask;
  seed: RleMask;
  mask: RleMask;
}
const cases = reference().tissueMask as Case[];

describe.each(cases)('seed pipeline on $name (skimage/scipy reference)', (c) => {
  test('tissueMask at mask scale: threshold, every stage and the final mask', () => {
    const result = tissueMask(fixtureImage(c.small), { sigma: c.sigma, erosionRadius: c.erosionRadius });
    expect(result.polarity).toBe(c.polarity); // auto-detected
    // Triangle bins are (max-min)/256 wide; the brief allows 1 grey level.
    expect(Math.abs(result.threshold - c.threshold)).toBeLessThan(1e-3);
    expect(iou(result.thresholded, decodeRle(c.thresholded))).toBeGreaterThanOrEqual(0.99);
    expect(iou(result.filled, decodeRle(c.filled))).toBeGreaterThanOrEqual(0.99);
    expect(iou(result.seed, decodeRle(c.seed))).toBeGreaterThanOrEqual(0.99);
    expect(iou(result.mask, decodeRle(c.mask))).toBeGreaterThanOrEqual(0.99);
    // In practice they agree pixel for pixel.
    expect(countDifferent(result.mask.data, decodeRle(c.mask).data)).toBe(0);
  });

  test('tissueMaskPipeline from the committed pyramid-level image', () => {
    const source = fixtureImage(c.input);
    const result = tissueMaskPipeline(source, { levelDownsample: c.levelDownsample, downscale: c.downscale });
    expect(result.sigma).toBe(10);
    expect(result.erosionRadius).toBe(15);
    expect(maxAbsDiff(result.small.data, fixtureImage(c.small).data)).toBeLessThan(1e-3);
    expect(iou(result.mask, decodeRle(c.mask))).toBeGreaterThanOrEqual(0.99);
    // Defaults pick the remaining factor 20 / levelDownsample themselves.
    const byDefault = tissueMaskPipeline(source, { levelDownsample: c.levelDownsample });
    expect(countDifferent(byDefault.mask.data, result.mask.data)).toBe(0);
  });
});

test('brightfield mask covers the tissue and not the glass (sanity on the real slide)', () => {
  const c = cases.find((x) => x.name === 'cmu')!;
  const result = tissueMask(fixtureImage(c.small));
  const small = fixtureImage(c.small);
  let tissueMean = 0;
  let glassMean = 0;
  let nt = 0;
  for (let i = 0; i < small.data.length; i++) {
    if (result.mask.data[i]) {
      tissueMean += small.data[i];
      nt++;
    } else glassMean += small.data[i];
  }
  tissueMean /= nt;
  glassMean /= small.data.length - nt;
  expect(glassMean).toBeGreaterThan(225);
  expect(tissueMean).toBeLessThan(glassMean - 15);
  // The seed's last step: back to full scale with Lanczos.
  const full = resizeMask(result.mask, small.width * 20, small.height * 20);
  let kept = 0;
  for (let i = 0; i < full.data.length; i++) kept += full.data[i];
  expect(kept / full.data.length).toBeCloseTo(nt / small.data.length, 2);
});

test('reconstruction drops artefacts smaller than the erosion disk', () => {
  // Synthetic brightfield: a big dark square (tissue) and a small dark speck
  // (artefact) on bright glass.
  const w = 120;
  const h = 80;
  const data = new Float32Array(w * h).fill(240);
  for (let y = 10; y < 70; y++) for (let x = 10; x < 70; x++) data[y * w + x] = 120;
  for (let y = 35; y < 41; y++) for (let x = 100; x < 106; x++) data[y * w + x] = 100;
  const result = tissueMask({ data, width: w, height: h }, { sigma: 1, erosionRadius: 8 });
  expect(result.polarity).toBe('dark');
  expect(result.thresholded.data[38 * w + 102]).toBe(1); // artefact passes the threshold...
  expect(result.mask.data[38 * w + 102]).toBe(0); // ...but not the reconstruction
  expect(result.mask.data[40 * w + 40]).toBe(1);
  const brightfieldAsFluorescence = tissueMask({ data, width: w, height: h }, { sigma: 1, erosionRadius: 8, polarity: 'bright' });
  // Forced the wrong way round, the glass becomes the "tissue".
  expect(brightfieldAsFluorescence.polarity).toBe('bright');
  expect(brightfieldAsFluorescence.thresholded.data[40 * w + 40]).toBe(0);
  expect(brightfieldAsFluorescence.mask.data[2 * w + 2]).toBe(1);
});

test('thin tissue: an empty erosion keeps the filled mask unless asked not to', () => {
  const w = 60;
  const h = 40;
  const data = new Float32Array(w * h).fill(230);
  for (let y = 18; y < 22; y++) for (let x = 5; x < 55; x++) data[y * w + x] = 90;
  const kept = tissueMask({ data, width: w, height: h }, { sigma: 0.5, erosionRadius: 10 });
  expect(kept.seedWasEmpty).toBe(true);
  expect(kept.mask.data[20 * w + 30]).toBe(1);
  const strict = tissueMask({ data, width: w, height: h }, { sigma: 0.5, erosionRadius: 10, keepIfSeedEmpty: false });
  const empty: Mask = strict.mask;
  expect(empty.data.every((v) => v === 0)).toBe(true);
});

test('pipeline accepts interleaved RGB(A)', () => {
  const gray = fixtureImage('cmu_div5');
  const rgba = new Uint8Array(gray.data.length * 4);
  for (let i = 0; i < gray.data.length; i++) rgba.fill(gray.data[i], i * 4, i * 4 + 3), (rgba[i * 4 + 3] = 255);
  const fromRgb = tissueMaskPipeline({ data: rgba, width: gray.width, height: gray.height, channels: 4 }, { levelDownsample: 5 });
  const fromGray = tissueMaskPipeline(gray, { levelDownsample: 5 });
  expect(iou(fromRgb.mask, fromGray.mask)).toBeGreaterThanOrEqual(0.99);
  expect(toGray({ data: rgba, width: gray.width, height: gray.height, channels: 4 }).data[0]).toBeCloseTo(gray.data[0], 3);
});
