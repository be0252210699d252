import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeJpeg } from './jpeg';
import {
  assembleRestartJpeg,
  findRestartOffsets,
  JpegStreamError,
  parseJpegHeader,
  restartGrid,
  splitTrailingMarker,
} from './jpeg-restart';

const fixtureDir = fileURLToPath(new URL('../../../tests/fixtures/ndpi/', import.meta.url));

interface JpegFixture {
  file: string;
  width: number;
  height: number;
  channels: number;
  restartInterval: number;
  restartMarkers: number;
  pil: { sha256: string; channelSums: number[] };
}
const reference = JSON.parse(readFileSync(`${fixtureDir}reference.json`, 'utf8')) as { jpegFixtures: JpegFixture[] };

function load(fixture: JpegFixture) {
  const jpeg = new Uint8Array(readFileSync(fixtureDir + fixture.file));
  const header = parseJpegHeader(jpeg);
  const starts = findRestartOffsets(jpeg, header.bytes.length);
  const chunks = starts.map((start, i) => jpeg.subarray(start, i + 1 < starts.length ? starts[i + 1] : jpeg.length));
  return { jpeg, header, chunks, grid: restartGrid(header, fixture.width, fixture.height) };
}

/** Decodes the rectangle of intervals [c0..c1] × [r0..r1] through assembleRestartJpeg. */
async function decodeBlock(fixture: JpegFixture, c0: number, c1: number, r0: number, r1: number) {
  const { header, chunks, grid } = load(fixture);
  const picked: Uint8Array[] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) picked.push(chunks[r * grid.columns + c]);
  const x0 = c0 * grid.intervalWidth;
  const y0 = r0 * grid.intervalHeight;
  const width = Math.min((c1 + 1) * grid.intervalWidth, fixture.width) - x0;
  const height = Math.min((r1 + 1) * grid.intervalHeight, fixture.height) - y0;
  const decoded = await decodeJpeg(assembleRestartJpeg(header, picked, width, height));
  expect([decoded.width, decoded.height]).toEqual([width, height]);
  return { decoded, x0, y0, width, height };
}

function crop(full: Uint8Array, fullWidth: number, channels: number, x0: number, y0: number, w: number, h: number) {
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * fullWidth + x0) * channels;
    out.set(full.subarray(from, from + w * channels), y * w * channels);
  }
  return out;
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('JPEG restart-interval surgery', () => {
  it('parses the headers written by vips', () => {
    const geometry = reference.jpegFixtures.map((f) => {
      const { header, grid } = load(f);
      return [f.file, header.width, header.height, header.components, header.mcuWidth, header.mcuHeight, header.restartInterval, grid];
    });
    expect(geometry).toEqual([
      ['restart-444-row.jpg', 100, 37, 3, 8, 8, 13, { intervalWidth: 104, intervalHeight: 8, columns: 1, rows: 5 }],
      ['restart-420-part.jpg', 92, 45, 3, 16, 16, 2, { intervalWidth: 32, intervalHeight: 16, columns: 3, rows: 3 }],
      ['restart-444-tworows.jpg', 40, 37, 3, 8, 8, 10, { intervalWidth: 40, intervalHeight: 16, columns: 1, rows: 3 }],
      ['restart-444-part.jpg', 120, 50, 3, 8, 8, 5, { intervalWidth: 40, intervalHeight: 8, columns: 3, rows: 7 }],
      ['restart-grey.jpg', 64, 24, 1, 8, 8, 4, { intervalWidth: 32, intervalHeight: 8, columns: 2, rows: 3 }],
    ]);
  });

  it('finds every restart marker (count from the Python scan)', () => {
    for (const f of reference.jpegFixtures) {
      const { chunks, grid } = load(f);
      expect(chunks.length - 1).toBe(f.restartMarkers);
      expect(chunks.length).toBe(grid.columns * grid.rows);
      // Every interval but the last ends with RSTn numbered modulo 8, the last with EOI.
      const markers = chunks.map((c) => splitTrailingMarker(c).marker);
      expect(markers).toEqual(chunks.map((_, i) => (i + 1 < chunks.length ? 0xd0 + (i % 8) : 0xd9)));
    }
  });

  it('full decode equals the PIL (libjpeg) decode', async () => {
    for (const f of reference.jpegFixtures) {
      const decoded = await decodeJpeg(load(f).jpeg);
      expect(decoded.channels).toBe(f.channels);
      const sha = createHash('sha256').update(decoded.data as Uint8Array).digest('hex');
      expect(sha, f.file).toBe(f.pil.sha256);
    }
  });

  it('each single interval decodes to exactly its part of the full image (4:4:4 and grey)', async () => {
    for (const f of reference.jpegFixtures.filter((x) => x.file !== 'restart-420-part.jpg')) {
      const full = (await decodeJpeg(load(f).jpeg)).data as Uint8Array;
      const { grid } = load(f);
      for (let r = 0; r < grid.rows; r++) {
        for (let c = 0; c < grid.columns; c++) {
          const b = await decodeBlock(f, c, c, r, r);
          const expected = crop(full, f.width, f.channels, b.x0, b.y0, b.width, b.height);
          expect(maxAbsDiff(b.decoded.data as Uint8Array, expected), `${f.file} interval ${r},${c}`).toBe(0);
        }
      }
    }
  });

  it('rectangles of intervals (renumbered RSTs, more than 8 intervals) match the full decode', async () => {
    const byName = Object.fromEntries(reference.jpegFixtures.map((f) => [f.file, f]));
    const cases: [string, number, number, number, number][] = [
      ['restart-444-row.jpg', 0, 0, 1, 4], // rows 1..4, ends at the partial last MCU row
      ['restart-444-tworows.jpg', 0, 0, 1, 2], // last interval holds a single MCU row
      ['restart-grey.jpg', 1, 1, 0, 2], // right column only, three rows
      ['restart-grey.jpg', 0, 1, 1, 2],
      ['restart-420-part.jpg', 1, 2, 0, 2], // 6 intervals, right part, partial MCU column
      ['restart-420-part.jpg', 0, 2, 0, 2], // all 9 intervals: RST numbering wraps past 7
      ['restart-444-part.jpg', 1, 2, 2, 6], // 10 intervals, middle-right, partial last MCU row
    ];
    for (const [file, c0, c1, r0, r1] of cases) {
      const f = byName[file];
      const full = (await decodeJpeg(load(f).jpeg)).data as Uint8Array;
      const b = await decodeBlock(f, c0, c1, r0, r1);
      const expected = crop(full, f.width, f.channels, b.x0, b.y0, b.width, b.height);
      const diff = maxAbsDiff(b.decoded.data as Uint8Array, expected);
      // 4:2:0 chroma is upsampled with its neighbours, which differ at the cut edges.
      if (file === 'restart-420-part.jpg' && (c0 > 0 || r0 > 0)) expect(diff, file).toBeLessThanOrEqual(24);
      else expect(diff, `${file} ${c0}-${c1} × ${r0}-${r1}`).toBe(0);
    }
  });

  it('4:2:0 intervals differ from the full decode only by chroma upsampling at their cut edges', async () => {
    const f = reference.jpegFixtures.find((x) => x.file === 'restart-420-part.jpg')!;
    const full = (await decodeJpeg(load(f).jpeg)).data as Uint8Array;
    const b = await decodeBlock(f, 1, 1, 1, 1);
    const expected = crop(full, f.width, f.channels, b.x0, b.y0, b.width, b.height);
    const got = b.decoded.data as Uint8Array;
    // Away from the interval's border (2 px inside), the pixels are identical.
    let interior = 0;
    let total = 0;
    for (let y = 0; y < b.height; y++) {
      for (let x = 0; x < b.width * 3; x++) {
        const d = Math.abs(got[y * b.width * 3 + x] - expected[y * b.width * 3 + x]);
        total += d;
        const px = Math.floor(x / 3);
        if (y >= 2 && y < b.height - 2 && px >= 2 && px < b.width - 2) interior = Math.max(interior, d);
      }
    }
    expect(interior).toBe(0);
    expect(total / got.length).toBeLessThan(2);
  });

  it('refuses streams it cannot cut', () => {
    const f = reference.jpegFixtures[0];
    const jpeg = new Uint8Array(readFileSync(fixtureDir + f.file));
    const header = parseJpegHeader(jpeg);
    // Progressive frame: rewrite SOF0 into SOF2.
    const progressive = jpeg.slice();
    progressive[header.sofOffset + 1] = 0xc2;
    expect(() => parseJpegHeader(progressive)).toThrow(/progressive/);
    expect(() => parseJpegHeader(jpeg.subarray(0, header.bytes.length - 3))).toThrow(JpegStreamError);
    expect(() => parseJpegHeader(new Uint8Array([1, 2, 3, 4]))).toThrow(/SOI/);
    expect(() => assembleRestartJpeg(header, [jpeg.subarray(header.bytes.length)], 70000, 8)).toThrow(/65535/);
    expect(() => restartGrid({ ...header, restartInterval: 5 }, f.width, f.height)).toThrow(/13 MCUs/);
  });

  it('patches the frame size and renumbers markers from RST0', () => {
    const f = reference.jpegFixtures[1];
    const { header, chunks } = load(f);
    const out = assembleRestartJpeg(header, chunks.slice(3, 6), 92, 16);
    const patched = parseJpegHeader(out);
    expect([patched.width, patched.height]).toEqual([92, 16]);
    expect(findRestartOffsets(out, patched.bytes.length).length).toBe(3);
    const markers = [...out.subarray(patched.bytes.length)].flatMap((v, i, a) =>
      v === 0xff && a[i + 1] >= 0xd0 && a[i + 1] <= 0xd9 ? [a[i + 1]] : [],
    );
    expect(markers).toEqual([0xd0, 0xd1, 0xd9]);
  });
});
