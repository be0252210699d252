import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeJpeg } from '../codecs/jpeg';
import { findRestartOffsets, parseJpegHeader } from '../codecs/jpeg-restart';
import { SlideError, type PixelBlock } from '../types';
import { openNdpi, type NdpiSlideSource } from './ndpi';

const fixtureDir = fileURLToPath(new URL('../../../tests/fixtures/ndpi/', import.meta.url));
const slidePath = fileURLToPath(new URL('../../../../shared/data/test3-DAPI-2-387.ndpi', import.meta.url));
const haveSlide = existsSync(slidePath);
if (!haveSlide) {
  console.warn(`NDPI reader tests skipped: ${slidePath} is absent (the shared sample data lives in ../shared/data).`);
}

interface RegionRef {
  name: string;
  level: number;
  x: number;
  y: number;
  width: number;
  height: number;
  sha256: string;
  channelSums: number[];
  file: string;
  encoding: string;
}
interface ImageRef {
  name: string;
  width: number;
  height: number;
  sha256: string;
  channelSums: number[];
  file?: string;
}
interface NdpiRef {
  slide: string;
  fileSize: number;
  width: number;
  height: number;
  levels: { width: number; height: number; downsample: number }[];
  mppX: number;
  mppY: number;
  objectivePower: number;
  tiff: {
    pyramidPages: { width: number; height: number; intervals: number }[];
    level0IntervalStarts: Record<string, number>;
    fluorescence: string;
    scannerSerial: string;
  };
  hamamatsuProperties: Record<string, string>;
  regions: RegionRef[];
  macro: ImageRef;
  map: ImageRef;
}
const reference = JSON.parse(readFileSync(`${fixtureDir}reference.json`, 'utf8')) as {
  blockMeanSize: number;
  ndpi: NdpiRef;
};
const ref = reference.ndpi;
const BLOCK = reference.blockMeanSize;

interface BlobWrapOptions {
  /** Counts every byte handed out through slice(). */
  counter?: { bytes: number };
  /** Pretends the file is this long (a truncated download). */
  size?: number;
  /** Reads reaching this offset come back short, as from a file cut or damaged after opening. */
  cutoff?: number;
  /** Rewrites bytes as they are read: (absolute start, bytes). */
  patch?: (start: number, bytes: Uint8Array) => void;
}

/** A Blob stand-in that keeps reads lazy and lets a test count or damage them. */
function wrapBlob(blob: Blob, options: BlobWrapOptions): Blob {
  const size = options.size ?? blob.size;
  return {
    size,
    slice(start = 0, end = size) {
      const s = Math.min(Math.max(start, 0), size);
      let e = Math.min(Math.max(end, s), size);
      if (options.cutoff !== undefined && s < options.cutoff && e > options.cutoff) e = options.cutoff;
      if (options.counter) options.counter.bytes += Math.max(0, e - s);
      return {
        async arrayBuffer() {
          const bytes = new Uint8Array(e > s ? await blob.slice(s, e).arrayBuffer() : new ArrayBuffer(0));
          options.patch?.(s, bytes);
          return bytes.buffer;
        },
      } as Blob;
    },
  } as unknown as Blob;
}

async function openReal(options: BlobWrapOptions = {}): Promise<NdpiSlideSource> {
  return openNdpi(wrapBlob(await openAsBlob(slidePath), options), 'test3-DAPI-2-387.ndpi');
}

function loadBr(file: string): Uint8Array {
  return new Uint8Array(brotliDecompressSync(readFileSync(fixtureDir + file)));
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function meanAbsError(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

function channelSums(block: PixelBlock): number[] {
  const sums = new Array<number>(block.channels).fill(0);
  for (let i = 0; i < block.data.length; i++) sums[i % block.channels] += block.data[i];
  return sums;
}

/** Rounded means of BLOCK×BLOCK cells, partial cells averaging what they hold (as the Python script does). */
function blockMeans(block: PixelBlock): Uint8Array {
  const { width, height, channels, data } = block;
  const bw = Math.ceil(width / BLOCK);
  const bh = Math.ceil(height / BLOCK);
  const out = new Uint8Array(bw * bh * channels);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        let n = 0;
        for (let y = by * BLOCK; y < Math.min(height, (by + 1) * BLOCK); y++) {
          for (let x = bx * BLOCK; x < Math.min(width, (bx + 1) * BLOCK); x++) {
            sum += data[(y * width + x) * channels + c];
            n++;
          }
        }
        out[(by * bw + bx) * channels + c] = Math.round(sum / n);
      }
    }
  }
  return out;
}

/** Compares a decode with an OpenSlide reference: MAE ≤ 2 and per-channel means within 0.5. */
function expectMatches(block: PixelBlock, expected: RegionRef | ImageRef, label: string) {
  expect([block.width, block.height, block.channels], label).toEqual([expected.width, expected.height, 3]);
  const pixels = block.data as Uint8Array;
  const stored = expected.file ? loadBr(expected.file) : undefined;
  if (stored && expected.file!.endsWith('.rgb.br')) {
    expect(meanAbsError(pixels, stored), label).toBeLessThanOrEqual(2);
  } else if (stored) {
    expect(meanAbsError(blockMeans(block), stored), label).toBeLessThanOrEqual(2);
  }
  const n = expected.width * expected.height;
  channelSums(block).forEach((sum, c) => {
    expect(Math.abs(sum - expected.channelSums[c]) / n, `${label} channel ${c} mean`).toBeLessThanOrEqual(0.5);
  });
  return sha256(pixels) === expected.sha256;
}

function expectSlideError(err: unknown, pattern: RegExp) {
  expect(err).toBeInstanceOf(SlideError);
  const e = err as SlideError;
  expect(e.fileName).toBe('test3-DAPI-2-387.ndpi');
  expect(e.message.startsWith('test3-DAPI-2-387.ndpi: ')).toBe(true);
  expect(e.reason).toMatch(pattern);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe.skipIf(!haveSlide)('NDPI reader on test3-DAPI-2-387.ndpi', () => {
  it('reports the metadata OpenSlide and tifffile read', async () => {
    const slide = await openReal();
    const m = slide.metadata;
    expect(m.format).toBe('ndpi');
    expect([m.width, m.height]).toEqual([ref.width, ref.height]);
    expect(m.levels.map((l) => [l.width, l.height, l.downsample])).toEqual(
      ref.levels.map((l) => [l.width, l.height, l.downsample]),
    );
    for (const l of m.levels) expect([l.tileWidth, l.tileHeight]).toEqual([512, 512]);
    expect(m.mppX).toBeCloseTo(ref.mppX, 9);
    expect(m.mppY).toBeCloseTo(ref.mppY, 9);
    expect(m.objectivePower).toBe(ref.objectivePower);
    expect(m.rgb).toBe(true);
    expect(m.dtype).toBe('uint8');
    expect(m.channels.map((c) => c.name)).toEqual(['Red', 'Green', 'Blue']);
    expect(m.associated).toEqual([
      { name: 'macro', width: ref.macro.width, height: ref.macro.height },
      { name: 'map', width: ref.map.width, height: ref.map.height },
    ]);
    // Every vendor key OpenSlide reports, with the same value.
    for (const [key, value] of Object.entries(ref.hamamatsuProperties)) {
      expect(m.properties[key], key).toBe(value);
    }
    expect(m.properties['hamamatsu.Fluorescence']).toBe(ref.tiff.fluorescence);
    expect(m.properties['hamamatsu.ScannerSerialNumber']).toBe(ref.tiff.scannerSerial);
    expect(m.properties['hamamatsu.NDP Shading Data.ExcitationWaveLength']).toBe('387');
    expect(m.properties['tiff.Make']).toBe('Hamamatsu');
    expect(m.properties['tiff.ResolutionUnit']).toBe('centimeter');
  });

  it('decodes regions like OpenSlide (level 0 unaligned, level 1 across the edge, level 2, all of level 3)', async () => {
    const slide = await openReal();
    const exact: string[] = [];
    for (const region of ref.regions) {
      const block = await slide.readRegion(region);
      if (expectMatches(block, region, region.name)) exact.push(region.name);
    }
    // libjpeg-turbo on both sides: the decodes are expected to be bit-identical.
    console.info(`NDPI regions bit-identical to OpenSlide: ${exact.join(', ') || 'none'}`);
  });

  it('decodes the macro like OpenSlide and the uncompressed map like tifffile', async () => {
    const slide = await openReal();
    expectMatches(await slide.readAssociated('macro'), ref.macro, 'macro');
    const map = await slide.readAssociated('map');
    expect([map.width, map.height, map.channels]).toEqual([ref.map.width, ref.map.height, 3]);
    expect(sha256(map.data as Uint8Array)).toBe(ref.map.sha256);
    expectSlideError(await rejection(slide.readAssociated('label')), /no associated image named "label"/);
  });

  it('reads only the restart intervals a small level-0 region needs', async () => {
    const counter = { bytes: 0 };
    const slide = await openReal({ counter });
    const openBytes = counter.bytes;
    expect(openBytes).toBeLessThan(32 * 1024);

    const before = { ...slide.stats };
    const region = { level: 0, x: 1000, y: 1500, width: 300, height: 200 };
    await slide.readRegion(region);
    // Rows 1500..1699 are the 8-row intervals 187..212, and nothing else is read.
    const starts = ref.tiff.level0IntervalStarts;
    expect(counter.bytes - openBytes).toBe(starts['213'] - starts['187']);
    expect(slide.stats.decodedIntervals - before.decodedIntervals).toBe(26);
    expect(counter.bytes).toBeLessThan(ref.fileSize * 0.05);

    // The same region again comes from the cache: no reads, no decodes.
    const cached = counter.bytes;
    await slide.readRegion(region);
    expect(counter.bytes).toBe(cached);
    expect(slide.stats.decodedIntervals - before.decodedIntervals).toBe(26);

    // Overlapping rows 1600..1799: only intervals 213..224 are new.
    await slide.readRegion({ level: 0, x: 2000, y: 1600, width: 100, height: 200 });
    expect(slide.stats.decodedIntervals - before.decodedIntervals).toBe(26 + 12);

    // Concurrent reads of the same rows share one decode.
    const decodesBefore = slide.stats.decodedIntervals;
    await Promise.all([
      slide.readRegion({ level: 1, x: 0, y: 800, width: 64, height: 64 }),
      slide.readRegion({ level: 1, x: 1000, y: 800, width: 64, height: 64 }),
    ]);
    expect(slide.stats.decodedIntervals - decodesBefore).toBe(8);
  });

  it('times a viewer-sized read (512×512 at level 0)', async () => {
    const slide = await openReal();
    const t0 = performance.now();
    const block = await slide.readRegion({ level: 0, x: 1536, y: 2048, width: 512, height: 512 });
    const ms = performance.now() - t0;
    expect(block.data.length).toBe(512 * 512 * 3);
    expect(slide.stats.decodedIntervals).toBe(64);
    console.info(`NDPI 512×512 level-0 read: ${ms.toFixed(1)} ms, ${slide.stats.bytesRead} bytes read in total`);
  });

  it('returns a channel subset when the region asks for one', async () => {
    const slide = await openReal();
    const region = { level: 3, x: 100, y: 200, width: 40, height: 30 };
    const rgb = await slide.readRegion(region);
    const blue = await slide.readRegion({ ...region, channels: [2] } as typeof region);
    expect(blue.channels).toBe(1);
    expect([...blue.data]).toEqual([...rgb.data].filter((_, i) => i % 3 === 2));
    expect(blue.data.some((v) => v > 0)).toBe(true);
  });

  it('fills outside the level with 0 (dark-field) without reading anything', async () => {
    const slide = await openReal();
    const bytes = slide.stats.bytesRead;
    const block = await slide.readRegion({ level: 3, x: 496, y: -100, width: 50, height: 50 });
    expect(block.data.every((v) => v === 0)).toBe(true);
    expect(slide.stats.bytesRead).toBe(bytes);
  });

  it('honours AbortSignal', async () => {
    const slide = await openReal();
    const aborted = AbortSignal.abort();
    const err = await rejection(slide.readRegion({ level: 0, x: 0, y: 0, width: 64, height: 64 }, aborted));
    expect((err as DOMException).name).toBe('AbortError');
    const controller = new AbortController();
    const pending = slide.readRegion({ level: 0, x: 0, y: 3000, width: 512, height: 512 }, controller.signal);
    controller.abort();
    expect(((await rejection(pending)) as DOMException).name).toBe('AbortError');
    const ok = await slide.readRegion({ level: 0, x: 0, y: 3000, width: 16, height: 16 });
    expect(ok.width).toBe(16);
    expect(((await rejection(slide.readAssociated('macro', aborted))) as DOMException).name).toBe('AbortError');
  });

  it('fails only the read that touches a corrupt interval', async () => {
    // Overwrite the RST marker that ends level-0 interval 300 (rows 2400..2407).
    const markerAt = ref.tiff.level0IntervalStarts['301'] - 2;
    const slide = await openReal({
      patch: (start, bytes) => {
        if (markerAt >= start && markerAt + 1 < start + bytes.length) bytes.fill(0x12, markerAt - start, markerAt - start + 2);
      },
    });
    const err = await rejection(slide.readRegion({ level: 0, x: 100, y: 2390, width: 64, height: 64 }));
    expectSlideError(err, /level 0, restart interval 300 does not end with a restart marker/);
    const fine = await slide.readRegion({ level: 0, x: 100, y: 2000, width: 64, height: 64 });
    expect(fine.width).toBe(64);
  });

  it('fails only the read that comes back short (file damaged after opening)', async () => {
    const cutoff = ref.tiff.level0IntervalStarts['300'] + 100;
    const slide = await openReal({ cutoff });
    expectSlideError(await rejection(slide.readRegion({ level: 0, x: 0, y: 2400, width: 32, height: 32 })), /truncated/);
    const fine = await slide.readRegion({ level: 0, x: 0, y: 100, width: 32, height: 32 });
    expect(fine.height).toBe(32);
  });

  it('refuses a truncated file, absurd dimensions and oversized regions with a SlideError', async () => {
    expectSlideError(await rejection(openReal({ size: 1_000_000 })), /truncated/);

    // Rewrite ImageWidth of the first directory to 2,000,000 pixels.
    const blob = await openAsBlob(slidePath);
    const head = new DataView(await blob.slice(0, 8).arrayBuffer());
    const ifd = head.getUint32(4, true);
    const ifdBytes = new DataView(await blob.slice(ifd, ifd + 2 + 12 * 64).arrayBuffer());
    let widthValueAt = -1;
    for (let i = 0; i < ifdBytes.getUint16(0, true); i++) {
      if (ifdBytes.getUint16(2 + 12 * i, true) === 256) widthValueAt = ifd + 2 + 12 * i + 8;
    }
    expect(widthValueAt).toBeGreaterThan(0);
    const huge = openReal({
      patch: (start, bytes) => {
        if (widthValueAt >= start && widthValueAt + 4 <= start + bytes.length) {
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(widthValueAt - start, 2_000_000, true);
        }
      },
    });
    expectSlideError(await rejection(huge), /dimensions 2000000×4864/);

    const slide = await openReal();
    expectSlideError(
      await rejection(slide.readRegion({ level: 0, x: 0, y: 0, width: 100_000, height: 100_000 })),
      /exceeds the read limit/,
    );
    expectSlideError(await rejection(slide.readRegion({ level: 7, x: 0, y: 0, width: 1, height: 1 })), /level 7/);
  });
});

interface SyntheticPage {
  file: string;
  width: number;
  height: number;
  /** Source lens: > 0 pyramid level, -1 macro. */
  lens: number;
  /** Write tag 65426 (else the reader must decode the JPEG whole). */
  withMcuStarts: boolean;
}

/**
 * Writes a minimal NDPI (classic little-endian TIFF, 64-bit next-IFD offsets,
 * tags 65420/65421/65426) around the vips-made fixture JPEGs, to exercise the
 * layouts the real sample lacks: intervals that split rows, intervals of two
 * MCU rows, a level without McuStarts and a greyscale macro.
 */
function buildNdpi(pages: SyntheticPage[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const append = (bytes: Uint8Array) => {
    parts.push(bytes);
    size += bytes.length;
    return size - bytes.length;
  };
  const header = new Uint8Array(16);
  header.set([0x49, 0x49, 42, 0]);
  append(header);
  // Next-IFD fields (the header's, then each IFD's) and the IFD each must point at.
  let nextField = 4;
  const links: [number, number][] = [];
  for (const page of pages) {
    const jpeg = new Uint8Array(readFileSync(fixtureDir + page.file));
    const jpegAt = append(jpeg);
    const entries: [number, number, number, number | Uint8Array][] = [
      [256, 4, 1, page.width],
      [257, 4, 1, page.height],
      [259, 3, 1, 7],
      [262, 3, 1, 6],
      [273, 4, 1, jpegAt],
      [277, 3, 1, 3],
      [278, 4, 1, page.height],
      [279, 4, 1, jpeg.length],
      [65420, 4, 1, 1],
      [65421, 11, 1, page.lens],
    ];
    if (page.withMcuStarts) {
      const starts = findRestartOffsets(jpeg, parseJpegHeader(jpeg).bytes.length);
      const table = new Uint8Array(4 * starts.length);
      starts.forEach((v, i) => new DataView(table.buffer).setUint32(4 * i, v, true));
      entries.push([65426, 4, starts.length, table]);
    }
    const ifd = new Uint8Array(2 + 12 * entries.length + 8);
    const view = new DataView(ifd.buffer);
    view.setUint16(0, entries.length, true);
    const outOfLine: [number, Uint8Array][] = [];
    entries.forEach(([tag, type, count, value], i) => {
      const at = 2 + 12 * i;
      view.setUint16(at, tag, true);
      view.setUint16(at + 2, type, true);
      view.setUint32(at + 4, count, true);
      if (value instanceof Uint8Array) outOfLine.push([at + 8, value]);
      else if (type === 3) view.setUint16(at + 8, value, true);
      else if (type === 11) view.setFloat32(at + 8, value, true);
      else view.setUint32(at + 8, value, true);
    });
    for (const [field, value] of outOfLine) view.setUint32(field, append(value), true);
    const ifdAt = append(ifd);
    links.push([nextField, ifdAt]);
    nextField = ifdAt + 2 + 12 * entries.length;
  }
  const file = new Uint8Array(size);
  let pos = 0;
  for (const part of parts) {
    file.set(part, pos);
    pos += part.length;
  }
  // 64-bit little-endian links whose high half stays 0; the last IFD's stays 0 (end of chain).
  for (const [field, target] of links) new DataView(file.buffer).setUint32(field, target, true);
  return file;
}

const SYNTHETIC: SyntheticPage[] = [
  { file: 'restart-444-part.jpg', width: 120, height: 50, lens: 20, withMcuStarts: true },
  { file: 'restart-444-row.jpg', width: 100, height: 37, lens: 10, withMcuStarts: false },
  { file: 'restart-444-tworows.jpg', width: 40, height: 37, lens: 5, withMcuStarts: true },
  { file: 'restart-grey.jpg', width: 64, height: 24, lens: -1, withMcuStarts: false },
];

describe('NDPI reader on synthetic NDPI files built from vips JPEGs', () => {
  async function fullDecode(file: string) {
    return decodeJpeg(new Uint8Array(readFileSync(fixtureDir + file)));
  }

  it('reads every layout like a whole-image libjpeg decode, padding brightfield with 255', async () => {
    const bytes = buildNdpi(SYNTHETIC);
    const slide = await openNdpi(new Blob([bytes]), 'synthetic.ndpi');
    const m = slide.metadata;
    expect(m.levels.map((l) => [l.width, l.height, l.downsample])).toEqual([
      [120, 50, 1],
      [100, 37, 1.2],
      [40, 37, 3],
    ]);
    expect(m.objectivePower).toBe(20);
    expect(m.mppX).toBeUndefined();
    expect(m.associated).toEqual([{ name: 'macro', width: 64, height: 24 }]);

    const regions = [
      [0, 45, 10, 30, 21], // inside the middle interval column
      [0, 30, 5, 60, 40], // across all three columns and several rows
      [0, -7, 40, 140, 20], // past left, right and bottom edges
      [0, 0, 0, 120, 50],
      [1, 13, 9, 70, 25],
      [1, -3, -3, 110, 45],
      [2, 5, 15, 30, 22], // two-MCU-row intervals, partial last one
      [2, 0, 0, 40, 37],
    ];
    for (const [level, x, y, width, height] of regions) {
      const page = SYNTHETIC[level];
      const full = await fullDecode(page.file);
      const got = await slide.readRegion({ level, x, y, width, height });
      const expected = new Uint8Array(width * height * 3).fill(255);
      for (let yy = 0; yy < height; yy++) {
        for (let xx = 0; xx < width; xx++) {
          const sx = x + xx;
          const sy = y + yy;
          if (sx < 0 || sy < 0 || sx >= page.width || sy >= page.height) continue;
          for (let c = 0; c < 3; c++) expected[(yy * width + xx) * 3 + c] = full.data[(sy * page.width + sx) * 3 + c];
        }
      }
      expect(Buffer.from(got.data as Uint8Array).equals(Buffer.from(expected)), `level ${level} ${x},${y}`).toBe(true);
    }

    const macro = await slide.readAssociated('macro');
    const grey = await fullDecode('restart-grey.jpg');
    expect(grey.channels).toBe(1);
    expect([...macro.data.subarray(0, 30)]).toEqual([...grey.data.subarray(0, 10)].flatMap((v) => [v, v, v]));
  });

  it('decodes only the interval columns a region touches, grouped into rectangles', async () => {
    const slide = await openNdpi(new Blob([buildNdpi(SYNTHETIC)]), 'synthetic.ndpi');
    // x 45..74 lies in interval column 1 (40..79); y 10..30 in MCU rows 1..3.
    await slide.readRegion({ level: 0, x: 45, y: 10, width: 30, height: 21 });
    expect([slide.stats.decodes, slide.stats.decodedIntervals]).toEqual([1, 3]);
    // Widening to all columns decodes columns 0 and 2 of those rows: two 1×3 rectangles.
    await slide.readRegion({ level: 0, x: 0, y: 10, width: 120, height: 21 });
    expect([slide.stats.decodes, slide.stats.decodedIntervals]).toEqual([3, 9]);
  });
});
