import { describe, expect, it } from 'vitest';
import { SyntheticCishSlide } from '../synthetic/cish-slide';
import { createCishEndpoint } from './cish-endpoint';
import type { TileParams } from './cish-protocol';

// 3000 × 2000 px at 0.5 µm/px: 150 µm tiles of 300 px every 150 px, all kept without a mask.
const base: TileParams = { tileUm: 150, overlapUm: 75, minTissueFraction: 0.5, trainCount: 10, seed: 3 };

async function openEndpoint() {
  const endpoint = createCishEndpoint({ openSlide: async () => new SyntheticCishSlide({ width: 3000, height: 2000 }) });
  await endpoint.open('s', new Blob([]), 'synthetic');
  return endpoint;
}

describe('CISH endpoint: training tiles', () => {
  it('takes a seeded random sample of the kept tiles by default', async () => {
    const endpoint = await openEndpoint();
    const tiles = await endpoint.tiles('s', base, null);
    expect(tiles.kept.length).toBe(19 * 12);
    expect(tiles.train.length).toBe(10);
  });

  it('takes the kept tiles whose centre lies in the drawn region', async () => {
    const endpoint = await openEndpoint();
    const region = [1000, 500, 1900, 500, 1900, 1300, 1000, 1300];
    const tiles = await endpoint.tiles('s', { ...base, trainRegion: region }, null);
    const expected: number[] = [];
    for (const id of tiles.kept) {
      const cx = tiles.x[id] + tiles.width[id] / 2;
      const cy = tiles.y[id] + tiles.height[id] / 2;
      if (cx > 1000 && cx < 1900 && cy > 500 && cy < 1300) expected.push(id);
    }
    expect(expected.length).toBeGreaterThan(10);
    expect(Array.from(tiles.train)).toEqual(expected);
  });

  it('refuses a region that holds no kept tile, with a message that says what to do', async () => {
    const endpoint = await openEndpoint();
    await expect(endpoint.tiles('s', { ...base, trainRegion: [0, 0, 40, 0, 40, 40, 0, 40] }, null)).rejects.toThrow(/holds no kept tile/);
  });
});
