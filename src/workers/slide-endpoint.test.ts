import { describe, expect, it } from 'vitest';
import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import { createSlideEndpoint } from './slide-endpoint';
import { openSlide } from '../slide/open';
import { defaultDisplaySettings, renderRgba } from '../slide/display';
import { planLevels, tileRequestFor } from '../ui/viewer/osd-tile-source';
import type { TileRequest } from './protocol';

const CMU = new URL('../../../shared/data/CMU-1-Small-Region.svs', import.meta.url);
const fixture: { request: TileRequest; osd: { level: number; x: number; y: number }; rgb: number[] } = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/viewer/cmu-edge-tile.json', import.meta.url), 'utf8'),
);

function endpoint() {
  return createSlideEndpoint({
    openSlide,
    renderRgba,
    toImage: async (rgba, width, height) => ({ rgba, width, height }),
  });
}

describe.skipIf(!existsSync(CMU))('slide endpoint on CMU-1-Small-Region.svs (needs ../shared/data)', () => {
  it('renders a downsampled edge tile like vips decode + numpy box filter', async () => {
    const worker = endpoint();
    const { metadata } = await worker.open(await openAsBlob(CMU), 'CMU-1-Small-Region.svs', 's1');
    // The region OSD level 10 tile (2, 3) covers when served straight from level 0 (edge-clipped, 4×).
    const levelZeroOnly = planLevels({ ...metadata, levels: metadata.levels.slice(0, 1) });
    const request = tileRequestFor(levelZeroOnly, fixture.osd.level, fixture.osd.x, fixture.osd.y);
    expect(request).toEqual(fixture.request);

    const tile = await worker.readTile('s1', request, defaultDisplaySettings(metadata), 1);
    expect([tile.width, tile.height]).toEqual([request.outWidth, request.outHeight]);
    let maxDiff = 0;
    for (let i = 0; i < tile.width * tile.height; i++) {
      for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(tile.rgba[4 * i + c] - fixture.rgb[3 * i + c]));
      expect(tile.rgba[4 * i + 3]).toBe(255);
    }
    expect(maxDiff).toBe(0);
    expect(worker.pending()).toBe(0);
  });

  it('cancels a running read through its request id', async () => {
    const worker = endpoint();
    const { metadata } = await worker.open(await openAsBlob(CMU), 'CMU-1-Small-Region.svs', 's1');
    const read = worker.readTile('s1', { level: 0, x: 0, y: 0, width: 2220, height: 2967, outWidth: 555, outHeight: 742 }, defaultDisplaySettings(metadata), 7);
    expect(worker.pending()).toBe(1);
    worker.cancel(7);
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    expect(worker.pending()).toBe(0);
  });

  it('reads associated images scaled to fit', async () => {
    const worker = endpoint();
    const { metadata } = await worker.open(await openAsBlob(CMU), 'CMU-1-Small-Region.svs', 's1');
    expect(metadata.associated.map((a) => a.name).sort()).toEqual(['label', 'macro', 'thumbnail']);
    const label = await worker.readAssociated('s1', 'label', 100, 2);
    expect(Math.max(label.width, label.height)).toBe(100);
  });
});
