/**
 * openSlide against the fixtures of scripts/make_slide_fixtures.py: pixels
 * are compared with tifffile / libtiff / OpenJPEG / OpenSlide decodes
 * (exact for lossless codecs, mean absolute error ≤ 2 for JPEG and JPEG
 * 2000), metadata with what the script wrote, and bad files must fail with
 * the right reason.
 */
import { describe, expect, test } from 'vitest';
import {
  HAS_SHARED_DATA,
  meanAbsoluteError,
  means,
  openFixture,
  openShared,
  reference,
  referencePixels,
  sha256,
  type RegionReference,
} from './formats/test-support';
import { openSlide } from './open';
import type { SlideSource } from './types';
import { SlideError } from './types';

async function expectRegion(source: SlideSource, ref: RegionReference, lossy: boolean): Promise<void> {
  const block = await source.readRegion({ level: ref.level, x: ref.x, y: ref.y, width: ref.width, height: ref.height });
  expect([block.width, block.height, block.channels, block.dtype]).toEqual([ref.width, ref.height, ref.channels, ref.dtype]);
  await expectPixels(block.data, block, ref, lossy);
}

async function expectPixels(data: Parameters<typeof sha256>[0], block: Parameters<typeof means>[0], ref: RegionReference, lossy: boolean) {
  const expected = referencePixels(ref);
  if (!lossy) {
    expect(sha256(data), `region ${JSON.stringify({ ...ref, zlib64: undefined, means: undefined })}`).toBe(ref.sha256);
  } else if (expected) {
    expect(meanAbsoluteError(data, expected)).toBeLessThanOrEqual(2);
  } else {
    means(block).forEach((mean, c) => expect(Math.abs(mean - ref.means[c])).toBeLessThanOrEqual(1));
  }
}

const pyramidFiles = Object.entries(reference.files).filter(([, ref]) => ref.regions && ref.format !== 'webp');

describe.each(pyramidFiles)('%s', (name, ref) => {
  test('metadata', async () => {
    const source = await openFixture(name);
    const m = source.metadata;
    expect(m.name).toBe(name);
    expect(m.format).toBe(ref.format);
    expect(m.levels.map((l) => [l.width, l.height])).toEqual(ref.levels);
    expect([m.width, m.height]).toEqual(ref.levels![0]);
    expect(m.levels[0].downsample).toBe(1);
    m.levels.forEach((l) => expect(l.downsample).toBeCloseTo(m.width / l.width, 10));
    if (ref.mpp !== undefined) expect(m.mppX).toBeCloseTo(ref.mpp, 4);
    if (ref.objectivePower !== undefined) expect(m.objectivePower).toBe(ref.objectivePower);
    expect(m.rgb).toBe(ref.fill === 255);
  });

  test('pixels match the reference decoder', async () => {
    const source = await openFixture(name);
    for (const region of ref.regions!) await expectRegion(source, region, !!ref.lossy);
  });
});

describe('format details', () => {
  test('OME-TIFF: channel names, colours, µm/px from mixed units, 16-bit', async () => {
    const source = await openFixture('ome-3ch-u16.ome.tif');
    const m = source.metadata;
    const ref = reference.files['ome-3ch-u16.ome.tif'];
    expect(m.channels.map((c) => c.name)).toEqual(ref.channelNames);
    expect(m.channels.map((c) => c.color)).toEqual(ref.channelColors);
    expect(m.dtype).toBe('uint16');
    expect(m.rgb).toBe(false);
    // PhysicalSizeX 0.325 µm and PhysicalSizeY 325 nm.
    expect(m.mppX).toBeCloseTo(0.325, 6);
    expect(m.mppY).toBeCloseTo(0.325, 6);
    expect(m.properties['ome.Pixels.Type']).toBe('uint16');
  });

  test('OME-TIFF: a channel selection reads only those channels, in that order', async () => {
    const source = await openFixture('ome-3ch-u16.ome.tif');
    const region = { level: 1, x: 30, y: 20, width: 100, height: 70 };
    const all = await source.readRegion(region);
    const picked = await source.readRegion({ ...region, channels: [2, 0] } as typeof region);
    expect(picked.channels).toBe(2);
    for (let p = 0; p < 100 * 70; p++) {
      expect(picked.data[p * 2]).toBe(all.data[p * 3 + 2]);
      expect(picked.data[p * 2 + 1]).toBe(all.data[p * 3]);
    }
  });

  test('SVS (JPEG 2000): Aperio metadata and associated images', async () => {
    const source = await openFixture('svs-j2k-rgb.svs');
    const m = source.metadata;
    const ref = reference.files['svs-j2k-rgb.svs'];
    expect(m.associated.map((a) => a.name).sort()).toEqual(['label', 'macro', 'thumbnail']);
    expect(m.properties['aperio.AppMag']).toBe('40');
    expect(m.properties['aperio.Left']).toBe('25.5');
    for (const [name, assoc] of Object.entries(ref.associated!)) {
      const block = await source.readAssociated(name);
      expect([block.width, block.height, block.channels]).toEqual([assoc.width, assoc.height, 3]);
      await expectPixels(block.data, block, assoc, name === 'macro');
    }
    await expect(source.readAssociated('barcode')).rejects.toThrow('no associated image named "barcode"');
  });

  test('SVS 33003: YCbCr codestreams become RGB close to the original pixels', async () => {
    const source = await openFixture('svs-j2k-ycbcr.svs');
    const original = reference.files['svs-j2k-ycbcr.svs'].original!;
    const block = await source.readRegion({ level: 0, x: original.x, y: original.y, width: original.width, height: original.height });
    expect(meanAbsoluteError(block.data, referencePixels(original)!)).toBeLessThanOrEqual(2);
  });

  test('plain images get synthetic pyramid levels', async () => {
    const source = await openFixture('plain-wide.png');
    expect(source.metadata.levels.length).toBe(2);
    expect(source.metadata.levels[1].downsample).toBe(2);
  });

  test('float32 with the floating-point predictor keeps exact values', async () => {
    const source = await openFixture('float32-pred3.tif');
    const block = await source.readRegion({ level: 0, x: 0, y: 0, width: 2, height: 1 });
    expect(block.dtype).toBe('float32');
    expect(block.data[0]).toBe(-3.5);
  });
});

describe('bad input', () => {
  test.each(Object.entries(reference.bad))('%s is rejected: %s', async (name, reason) => {
    const error = await openFixture(name).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SlideError);
    expect((error as SlideError).fileName).toBe(name);
    expect((error as SlideError).message).toContain(`${name}: ${reason}`);
  });

  test('WebP needs a browser: clear message under Node', async () => {
    await expect(openFixture('plain.webp')).rejects.toThrow(/plain\.webp: WebP images cannot be decoded here: .*needs a browser/);
  });

  test('a truncated tile fails only the reads that touch it', async () => {
    const source = await openFixture('truncated-tiles.tif');
    const ref = reference.files['truncated-tiles.tif'];
    const last = ref.lastTile as number;
    const across = ref.tilesAcross as number;
    const lastRegion = { level: 0, x: (last % across) * 64, y: Math.floor(last / across) * 64, width: 64, height: 64 };
    await expect(source.readRegion(lastRegion)).rejects.toThrow(`truncated-tiles.tif: truncated: tile ${last} ends past the end of the file`);
    await expectRegion(source, ref.firstTile as RegionReference, false);
    await expect(source.readRegion(lastRegion)).rejects.toThrow('truncated');
  });

  test('a corrupt JPEG tile fails its reads, not the source', async () => {
    const source = await openFixture('corrupt-tile.tif');
    const ref = reference.files['corrupt-tile.tif'];
    const bad = ref.badTile as number;
    const across = ref.tilesAcross as number;
    const badRegion = { level: 0, x: (bad % across) * 64 + 10, y: Math.floor(bad / across) * 64 + 10, width: 20, height: 20 };
    await expect(source.readRegion(badRegion)).rejects.toThrow(new RegExp(`corrupt-tile\\.tif: corrupt JPEG data in tile ${bad}\\b`));
    const good = await source.readRegion({ level: 0, x: 0, y: 0, width: 64, height: 64 });
    expect(good.data.some((v) => v !== 255)).toBe(true);
    // Failures are not cached as successes, and still fail the next time.
    await expect(source.readRegion(badRegion)).rejects.toThrow(`in tile ${bad}`);
  });

  test('regions are validated', async () => {
    const source = await openFixture('cmu-jpeg.tif');
    await expect(source.readRegion({ level: 0, x: 0, y: 0, width: 10_000, height: 10_000 })).rejects.toThrow('beyond the 67108864 px limit');
    await expect(source.readRegion({ level: 9, x: 0, y: 0, width: 10, height: 10 })).rejects.toThrow('level 9 does not exist');
    await expect(source.readRegion({ level: 0, x: 0.5, y: 0, width: 10, height: 10 })).rejects.toThrow('whole pixels');
    // Entirely outside the image: all glass-white.
    const outside = await source.readRegion({ level: 0, x: -500, y: 900, width: 20, height: 20 });
    expect(outside.data.every((v) => v === 255)).toBe(true);
  });

  test('a closed source refuses reads', async () => {
    const source = await openFixture('cmu-lzw.tif');
    source.close();
    await expect(source.readRegion({ level: 0, x: 0, y: 0, width: 8, height: 8 })).rejects.toThrow('closed');
  });
});

describe('AbortSignal', () => {
  test('an aborted signal rejects with AbortError before any read', async () => {
    const source = await openFixture('cmu-jpeg.tif');
    const controller = new AbortController();
    controller.abort();
    const error = await source.readRegion({ level: 0, x: 0, y: 0, width: 300, height: 300 }, controller.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
  });

  test('aborting during a read rejects it, and the source keeps working', async () => {
    const source = await openFixture('cmu-deflate.tif');
    const controller = new AbortController();
    const pending = source.readRegion({ level: 0, x: 0, y: 0, width: 250, height: 170 }, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expectRegion(source, reference.files['cmu-deflate.tif'].regions![0], false);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('real slides in ../shared/data', () => {
  test('CMU-1-Small-Region.svs: metadata', async () => {
    const source = await openShared('CMU-1-Small-Region.svs');
    const m = source.metadata;
    expect(m.format).toBe('svs');
    expect([m.width, m.height]).toEqual([2220, 2967]);
    expect(m.levels[0]).toMatchObject({ tileWidth: 240, tileHeight: 240, downsample: 1 });
    expect(m.levels.map((l) => [l.width, l.height])).toEqual([
      [2220, 2967],
      [1110, 1484],
      [555, 742],
    ]);
    expect(m.mppX).toBe(0.499);
    expect(m.mppY).toBe(0.499);
    expect(m.objectivePower).toBe(20);
    expect(m.rgb).toBe(true);
    expect(m.associated).toEqual([
      { name: 'thumbnail', width: 574, height: 768 },
      { name: 'label', width: 387, height: 463 },
      { name: 'macro', width: 1280, height: 431 },
    ]);
    expect(m.properties['aperio.ScanScope ID']).toBe('CPAPERIOCS');
  });

  test('CMU-1-Small-Region.svs: pixels match OpenSlide (level 0) and numpy (synthetic levels)', async () => {
    const source = await openShared('CMU-1-Small-Region.svs');
    for (const region of reference.real.svs.regions) {
      // Level 0 is JPEG (vs OpenSlide); levels 1-2 average our level 0, so they inherit its tiny JPEG error.
      await expectRegion(source, region, true);
    }
  });

  test('CMU-1-Small-Region.svs: associated images match OpenSlide', async () => {
    const source = await openShared('CMU-1-Small-Region.svs');
    for (const [name, ref] of Object.entries(reference.real.svs.associated)) {
      const block = await source.readAssociated(name);
      expect([block.width, block.height]).toEqual([ref.width, ref.height]);
      means(block).forEach((mean, c) => expect(Math.abs(mean - ref.means[c])).toBeLessThanOrEqual(0.5));
      const crop = ref.crop;
      const cropped = new Uint8Array(crop.width * crop.height * 3);
      for (let y = 0; y < crop.height; y++) {
        const start = ((crop.y + y) * block.width + crop.x) * 3;
        cropped.set(block.data.subarray(start, start + crop.width * 3) as Uint8Array, y * crop.width * 3);
      }
      expect(meanAbsoluteError(cropped, referencePixels(crop)!)).toBeLessThanOrEqual(2);
    }
  });

  test('an NDPI file is handed to the NDPI reader', async () => {
    const source = await openShared('test3-DAPI-2-387.ndpi');
    expect(source.metadata.format).toBe('ndpi');
  });
});

test('a 0-byte Blob is rejected without reading', async () => {
  await expect(openSlide(new Blob([]), 'x.svs')).rejects.toThrow('x.svs: the file is empty (0 bytes)');
});
