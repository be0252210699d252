import { describe, expect, test } from 'vitest';
import { toFloat } from './image';
import { downscaleLocalMean, downscaleMean, resizeArea, resizeLanczos, resizeMask } from './resize';
import { countDifferent, fixtureImage, maxAbsDiff, meanAbsDiff, reference } from './testFixtures';

const lanczosCases = reference().lanczos as {
  input: string;
  width: number;
  height: number;
  outputU8: string;
  outputF32?: string;
}[];

describe('resizeLanczos vs Pillow Image.resize(LANCZOS)', () => {
  test.each(lanczosCases)('$input → $width×$height', ({ input, width, height, outputU8, outputF32 }) => {
    const img = fixtureImage(input);
    const out = resizeLanczos(img, width, height);
    const expected = fixtureImage(outputU8);
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect([out.width, out.height]).toEqual([width, height]);
    // Same fixed-point arithmetic as Pillow's "L" mode: identical bytes here;
    // allow the odd 1-level flip should a platform's Math.sin differ by an ulp.
    expect(maxAbsDiff(out.data, expected.data)).toBeLessThanOrEqual(1);
    expect(countDifferent(out.data, expected.data)).toBeLessThanOrEqual(out.data.length * 1e-3);
    expect(meanAbsDiff(out.data, expected.data)).toBeLessThan(0.01);
    if (outputF32) {
      const f = resizeLanczos(toFloat(img), width, height);
      expect(maxAbsDiff(f.data, fixtureImage(outputF32).data)).toBeLessThan(1e-3);
    }
  });

  test('same size returns a copy', () => {
    const img = fixtureImage('cmu_small');
    const same = resizeLanczos(img, img.width, img.height);
    expect(same.data).not.toBe(img.data);
    expect(countDifferent(same.data, img.data)).toBe(0);
  });
});

test('resizeMask: Lanczos on 0/255 then >= 128', () => {
  const small = fixtureImage('cmu_mask_div20_u8');
  const mask = { width: small.width, height: small.height, data: Uint8Array.from(small.data, (v) => (v ? 1 : 0)) };
  const big = resizeMask(mask, 444, 594);
  const pil = fixtureImage('lanczos_cmu_mask_div20_u8_444x594');
  expect(countDifferent(big.data, pil.data.map((v) => (v >= 128 ? 1 : 0)))).toBe(0);
});

describe('box downscaling', () => {
  const syn = fixtureImage('syn_23x37');
  test('downscaleLocalMean equals skimage (zero padding of cut blocks)', () => {
    expect(maxAbsDiff(downscaleLocalMean(syn, 4).data, fixtureImage('syn_23x37_dlm_4').data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(downscaleLocalMean(syn, 2, 3).data, fixtureImage('syn_23x37_dlm_2x3').data)).toBeLessThan(1e-4);
  });
  test('downscaleMean averages only the pixels of cut blocks', () => {
    const out = downscaleMean(syn, 4);
    expect([out.width, out.height]).toEqual([10, 6]);
    expect(maxAbsDiff(out.data, fixtureImage('syn_23x37_partial_4').data)).toBeLessThan(1e-4);
  });
  test('resizeArea matches exact area weights, and block means for integer factors', () => {
    expect(maxAbsDiff(resizeArea(syn, 10, 7).data, fixtureImage('syn_23x37_area_10x7').data)).toBeLessThan(1e-4);
    const img = fixtureImage('cmu_small'); // 60x50
    expect(maxAbsDiff(resizeArea(img, 12, 10).data, downscaleMean(img, 5).data)).toBeLessThan(1e-4);
    const dapi = fixtureImage('dapi_l3');
    expect(maxAbsDiff(resizeArea(dapi, 198, 243).data, fixtureImage('dapi_div20').data)).toBeLessThan(1e-3);
  });
});
