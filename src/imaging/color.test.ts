import { describe, expect, test } from 'vitest';
import { contrastStretch, invert, opticalDensity, percentiles, rescaleIntensity, toGray, toGrayByte } from './color';
import { roundHalfEven, toByte } from './image';
import { fixtureImage, maxAbsDiff, reference } from './testFixtures';

describe('toGray', () => {
  test('matches skimage.color.rgb2gray (x255) on a slide crop', () => {
    const rgb = fixtureImage('cmu_rgb_crop');
    const gray = toGray(rgb);
    const expected = fixtureImage('cmu_rgb_crop_gray');
    expect(gray.width).toBe(expected.width);
    expect(maxAbsDiff(gray.data, expected.data)).toBeLessThan(1e-3);
  });

  test('ignores alpha, supports max and channel selection', () => {
    const rgba = { data: new Uint8Array([10, 200, 30, 7, 255, 255, 255, 0]), width: 2, height: 1, channels: 4 };
    expect(Array.from(toGray(rgba, 'max').data)).toEqual([200, 255]);
    expect(Array.from(toGray(rgba, 2).data)).toEqual([30, 255]);
    expect(toGray(rgba).data[0]).toBeCloseTo(0.2125 * 10 + 0.7154 * 200 + 0.0721 * 30, 4);
    expect(Array.from(toGrayByte(rgba).data)).toEqual([Math.round(0.2125 * 10 + 0.7154 * 200 + 0.0721 * 30), 255]);
  });
});

test('roundHalfEven follows numpy', () => {
  expect([0.5, 1.5, 2.5, -0.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
  const bytes = toByte({ data: new Float32Array([-3, 0.5, 1.5, 254.5, 300]), width: 5, height: 1 });
  expect(Array.from(bytes.data)).toEqual([0, 0, 2, 254, 255]);
});

test('opticalDensity = -log10((I+1)/256)', () => {
  const samples = reference().opticalDensity.samples as Record<string, number>;
  const values = Object.keys(samples).map(Number);
  const od = opticalDensity({ data: new Uint8Array(values), width: values.length, height: 1 });
  values.forEach((v, i) => expect(od.data[i]).toBeCloseTo(samples[String(v)], 6));
  expect(od.data[values.indexOf(255)]).toBe(0);
});

test('invert keeps the array type', () => {
  const inv = invert({ data: new Uint8Array([0, 5, 255]), width: 3, height: 1 });
  expect(inv.data).toBeInstanceOf(Uint8Array);
  expect(Array.from(inv.data)).toEqual([255, 250, 0]);
  expect(Array.from(invert({ data: new Float32Array([0.25]), width: 1, height: 1 }, 1).data)).toEqual([0.75]);
});

describe('contrast stretch', () => {
  test('percentiles use numpy linear interpolation', () => {
    const img = { data: new Float32Array([1, 2, 3, 4, 10]), width: 5, height: 1 };
    expect(percentiles(img, [0, 25, 50, 90, 100])).toEqual([1, 2, 3, 7.6000000000000005, 10]);
    const bytes = { data: new Uint8Array([1, 2, 3, 4, 10]), width: 5, height: 1 };
    expect(percentiles(bytes, [0, 25, 50, 90, 100])).toEqual([1, 2, 3, 7.6000000000000005, 10]);
  });

  test('matches rescale_intensity(in_range=percentiles(2, 98)) on a DAPI crop', () => {
    const cs = reference().contrastStretch;
    const { image, inRange } = contrastStretch(fixtureImage(cs.input), cs.low, cs.high);
    expect(inRange[0]).toBeCloseTo(cs.inLow, 9);
    expect(inRange[1]).toBeCloseTo(cs.inHigh, 9);
    expect(maxAbsDiff(image.data, fixtureImage('stretch_dapi_crop').data)).toBeLessThan(1e-6);
  });

  test('rescaleIntensity clips and handles a flat range', () => {
    const img = { data: new Float32Array([0, 5, 10, 20]), width: 4, height: 1 };
    expect(Array.from(rescaleIntensity(img, [5, 15], [0, 100]).data)).toEqual([0, 0, 50, 100]);
    expect(Array.from(rescaleIntensity(img, [5, 5], [0, 1]).data)).toEqual([0, 1, 1, 1]);
  });
});
