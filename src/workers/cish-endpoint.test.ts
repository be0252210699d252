import { describe, expect, it } from 'vitest';
import { SyntheticCishSlide } from '../synthetic/cish-slide';
import { createCishEndpoint } from './cish-endpoint';
import { Random } from '../util/random';
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

describe('CISH endpoint: clustering is cancellable', () => {
  // 20 000 2-D codes (a large slide's tiles): a sweep over K = 2…40 with 20 starts each, or 200
  // starts of K = 12, run for minutes. Cancel takes effect between FCM iterations (one start
  // of K = 12 takes seconds here) and between k-means starts (about 0.1 s each).
  const rng = new Random(8);
  const latents = Float32Array.from({ length: 2 * 20_000 }, () => rng.normal());
  const params = { m: 2, tol: 1e-5, seed: 1, nInit: 20, method: 'fcm' as const };

  it.each(['fpc sweep', 'fcm', 'kmeans'] as const)('%s stops within a second of cancel', async (what) => {
    const endpoint = await openEndpoint();
    const jobId = `job-${what}`;
    const running =
      what === 'fpc sweep'
        ? endpoint.fpcSweep(latents, 2, params, 2, 40, jobId)
        : endpoint.cluster(latents, 2, { ...params, k: 12, nInit: 200, method: what }, jobId);
    const outcome = running.then(
      () => 'finished',
      (error: Error) => error.name,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelledAt = performance.now();
    endpoint.cancel(jobId);
    expect(await outcome).toBe('AbortError');
    expect(performance.now() - cancelledAt).toBeLessThan(1000);
  });
});
