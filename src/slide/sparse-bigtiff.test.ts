/**
 * A 2.5 GB BigTIFF (sparse file from scripts/make-sparse-bigtiff.mjs, about
 * 9 MB on disk) must open and serve regions while reading only a few MB:
 * proof that the reader never loads a slide whole and handles offsets past
 * 2 GB and IFDs at the end of the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openFixture, sha256 } from './formats/test-support';
import { openSlide } from './open';

const SCRIPT = fileURLToPath(new URL('../../scripts/make-sparse-bigtiff.mjs', import.meta.url));

interface Summary {
  path: string;
  size: number;
  tileWidth: number;
  levels: [number, number][];
  sourceTiles: number;
  copyOffsets: number[];
}

/** A Blob wrapper that counts the bytes actually read. */
function countingBlob(blob: Blob): { blob: Blob; bytesRead: () => number } {
  let bytes = 0;
  const wrap = (inner: Blob): Blob =>
    ({
      size: inner.size,
      type: inner.type,
      slice: (start?: number, end?: number) => {
        const part = inner.slice(start, end);
        return {
          size: part.size,
          arrayBuffer: async () => {
            bytes += part.size;
            return part.arrayBuffer();
          },
        } as Blob;
      },
      arrayBuffer: async () => {
        bytes += inner.size;
        return inner.arrayBuffer();
      },
    }) as Blob;
  return { blob: wrap(blob), bytesRead: () => bytes };
}

describe('sparse 2.5 GB BigTIFF', () => {
  let dir: string;
  let summary: Summary;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tilescope-sparse-'));
    const result = spawnSync(process.execPath, [SCRIPT, join(dir, 'sparse.tif'), '2.5'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
    summary = JSON.parse(result.stdout);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('opens and reads regions lazily, including tiles stored past 2 GB', async () => {
    expect(summary.size).toBeGreaterThan(2 ** 31);
    expect(summary.copyOffsets[1]).toBeGreaterThan(2 ** 31);
    const rssBefore = process.memoryUsage().rss;
    const counter = countingBlob(await openAsBlob(summary.path));
    const t0 = performance.now();
    const source = await openSlide(counter.blob, 'sparse.tif');
    const openMs = performance.now() - t0;
    const m = source.metadata;
    expect(m.format).toBe('tiff');
    expect(m.levels.map((l) => [l.width, l.height])).toEqual(summary.levels);
    expect(m.mppX).toBeCloseTo(0.25, 10);
    const bytesAfterOpen = counter.bytesRead();

    // Tiles (15..16, 20..21): stored tiles k = (tx + 3 ty) % 8 = 3, 4, 6, 7; copies 1, 0, 1, 0.
    const t = summary.tileWidth;
    const t1 = performance.now();
    const block = await source.readRegion({ level: 0, x: 15 * t, y: 20 * t, width: 2 * t, height: 2 * t });
    const readMs = performance.now() - t1;

    // The same stored tiles, decoded from the small source pyramid (6 tiles across).
    const fixture = await openFixture('cmu-jpeg.tif');
    const expectedTile = async (k: number) =>
      fixture.readRegion({ level: 0, x: (k % 6) * t, y: Math.floor(k / 6) * t, width: t, height: t });
    const quadrants: [number, number, number][] = [
      [0, 0, 3],
      [1, 0, 4],
      [0, 1, 6],
      [1, 1, 7],
    ];
    for (const [qx, qy, k] of quadrants) {
      const expected = await expectedTile(k);
      const got = new Uint8Array(t * t * 3);
      for (let y = 0; y < t; y++) {
        const start = ((qy * t + y) * 2 * t + qx * t) * 3;
        got.set(block.data.subarray(start, start + t * 3) as Uint8Array, y * t * 3);
      }
      expect(sha256(got), `quadrant ${qx},${qy}`).toBe(sha256(expected.data));
    }

    // A read on a coarse file level, far into the image.
    const coarse = await source.readRegion({ level: 2, x: 20_000, y: 15_000, width: 300, height: 200 });
    expect(coarse.data.some((v) => v !== 255)).toBe(true);

    const bytesRead = counter.bytesRead();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.log(
      `sparse BigTIFF ${(summary.size / 2 ** 30).toFixed(2)} GiB: open ${openMs.toFixed(0)} ms (${(bytesAfterOpen / 1024).toFixed(0)} KiB read), ` +
        `first 256 px read ${readMs.toFixed(0)} ms, total read ${(bytesRead / 2 ** 20).toFixed(1)} MiB, RSS +${(rssGrowth / 2 ** 20).toFixed(0)} MiB`,
    );
    // Offset tables of the two levels read (~7 + 2 MB) plus a few tiles; never the file.
    expect(bytesAfterOpen).toBeLessThan(256 * 1024);
    expect(bytesRead).toBeLessThan(16 * 2 ** 20);
    expect(rssGrowth).toBeLessThan(512 * 2 ** 20);
  });
});
