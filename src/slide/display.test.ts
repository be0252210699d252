import { describe, expect, test } from 'vitest';
import { defaultDisplaySettings, estimateContrastLimits, renderRgba } from './display';
import { openFixture, reference } from './formats/test-support';
import type { PixelBlock, SlideMetadata } from './types';

const metadata = (overrides: Partial<SlideMetadata>): SlideMetadata => ({
  name: 'm',
  format: 'tiff',
  width: 2,
  height: 1,
  levels: [],
  channels: [],
  dtype: 'uint8',
  rgb: false,
  associated: [],
  properties: {},
  ...overrides,
});

describe('renderRgba', () => {
  test('8-bit RGB brightfield passes through', () => {
    const settings = defaultDisplaySettings(
      metadata({
        rgb: true,
        channels: [
          { name: 'R', color: '#ff0000' },
          { name: 'G', color: '#00ff00' },
          { name: 'B', color: '#0000ff' },
        ],
      }),
    );
    expect(settings.mode).toBe('rgb');
    const block: PixelBlock = { data: new Uint8Array([1, 2, 3, 250, 251, 252]), width: 2, height: 1, channels: 3, dtype: 'uint8' };
    expect(Array.from(renderRgba(block, settings))).toEqual([1, 2, 3, 255, 250, 251, 252, 255]);
  });

  test('16-bit channels: additive composite with colours and contrast limits', () => {
    const settings = defaultDisplaySettings(
      metadata({
        dtype: 'uint16',
        channels: [
          { name: 'DAPI', color: '#0000ff' },
          { name: 'FITC', color: '#00ff00' },
          { name: 'Cy5', color: '#ff00ff' },
        ],
      }),
    );
    expect(settings.mode).toBe('composite');
    settings.channels[0] = { ...settings.channels[0], min: 1000, max: 3000 };
    settings.channels[1] = { ...settings.channels[1], min: 0, max: 100 };
    settings.channels[2].visible = false;
    // Pixel 0: DAPI half way (0.5 × 255 blue), FITC 0.25. Pixel 1: below / above the limits.
    const block: PixelBlock = { data: new Uint16Array([2000, 25, 65535, 500, 400, 65535]), width: 2, height: 1, channels: 3, dtype: 'uint16' };
    expect(Array.from(renderRgba(block, settings))).toEqual([0, 64, 128, 255, 0, 255, 0, 255]);
  });

  test('float channels and white single-channel default', () => {
    const settings = defaultDisplaySettings(metadata({ dtype: 'float32', channels: [{ name: 'I', color: '#ffffff' }] }));
    const block: PixelBlock = { data: new Float32Array([0.5, Number.NaN]), width: 2, height: 1, channels: 1, dtype: 'float32' };
    expect(Array.from(renderRgba(block, settings))).toEqual([128, 128, 128, 255, 0, 0, 0, 255]);
  });
});

test('estimateContrastLimits matches numpy percentiles (inverted CDF) on the OME fixture', async () => {
  const ref = reference.files['ome-3ch-u16.ome.tif'].contrast!;
  const source = await openFixture('ome-3ch-u16.ome.tif');
  const level = source.metadata.levels[ref.level];
  const block = await source.readRegion({ level: ref.level, x: 0, y: 0, width: level.width, height: level.height });
  const limits = estimateContrastLimits(block);
  expect(limits.map((l) => l.min)).toEqual(ref.low);
  expect(limits.map((l) => l.max)).toEqual(ref.high);
});
