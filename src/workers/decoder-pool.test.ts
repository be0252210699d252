import { afterEach, describe, expect, it } from 'vitest';
import * as Comlink from 'comlink';
import { DecoderPool, type WorkerLike } from './decoder-pool';
import { createSlideEndpoint } from './slide-endpoint';
import { SlideError, type PixelBlock, type Region, type SlideMetadata, type SlideSource } from '../slide/types';
import type { DisplaySettings } from '../slide/display';
import type { TileRequest } from './protocol';

/** What the fake workers send back instead of an ImageBitmap. */
interface Rendered {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

const WIDTH = 64;
const HEIGHT = 48;
/** Synthetic slide: pixel (x, y) = (x, y, 200) at level 0. */
const pixel = (x: number, y: number) => [x, y, 200];

interface SourceHooks {
  /** Called before each read; may throw or wait. */
  beforeRead?: (region: Region, signal?: AbortSignal) => Promise<void> | void;
}

function memorySource(name: string, hooks: SourceHooks): SlideSource {
  const metadata: SlideMetadata = {
    name,
    format: 'test',
    width: WIDTH,
    height: HEIGHT,
    levels: [{ width: WIDTH, height: HEIGHT, tileWidth: 16, tileHeight: 16, downsample: 1 }],
    channels: [
      { name: 'R', color: '#ff0000' },
      { name: 'G', color: '#00ff00' },
      { name: 'B', color: '#0000ff' },
    ],
    dtype: 'uint8',
    rgb: true,
    associated: [{ name: 'label', width: 40, height: 20 }],
    properties: {},
  };
  return {
    metadata,
    async readRegion(region, signal) {
      await hooks.beforeRead?.(region, signal);
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      const data = new Uint8Array(region.width * region.height * 3).fill(255);
      for (let y = 0; y < region.height; y++) {
        for (let x = 0; x < region.width; x++) {
          const sx = region.x + x;
          const sy = region.y + y;
          if (sx < WIDTH && sy < HEIGHT) data.set(pixel(sx, sy), (y * region.width + x) * 3);
        }
      }
      return { data, width: region.width, height: region.height, channels: 3, dtype: 'uint8' };
    },
    async readAssociated() {
      const data = new Uint8Array(40 * 20 * 3).fill(90);
      return { data, width: 40, height: 20, channels: 3, dtype: 'uint8' };
    },
    close() {},
  };
}

/** Test renderer: RGB → RGBA. */
function renderRgba(block: PixelBlock): Uint8ClampedArray {
  const out = new Uint8ClampedArray(block.width * block.height * 4);
  for (let i = 0; i < block.width * block.height; i++) {
    out.set([block.data[3 * i], block.data[3 * i + 1], block.data[3 * i + 2], 255], 4 * i);
  }
  return out;
}

interface FakeWorker extends WorkerLike {
  opens: string[];
  crash(message: string): void;
}

function fakeWorkers(openHook: (name: string) => void = () => {}, hooks: SourceHooks = {}) {
  const created: FakeWorker[] = [];
  const create = (): WorkerLike => {
    const { port1, port2 } = new MessageChannel();
    const opens: string[] = [];
    const endpoint = createSlideEndpoint<Rendered>({
      async openSlide(_file, name) {
        opens.push(name);
        openHook(name);
        return memorySource(name, hooks);
      },
      renderRgba,
      toImage: async (rgba, width, height) => ({ rgba, width, height }),
    });
    Comlink.expose(endpoint, port1);
    const errorListeners: ((event: unknown) => void)[] = [];
    const worker: FakeWorker = {
      opens,
      postMessage: (message: unknown, transfer?: Transferable[]) => port2.postMessage(message, transfer ?? []),
      addEventListener: ((type: string, listener: (event: unknown) => void) => {
        if (type === 'error') errorListeners.push(listener);
        else if (type === 'message') port2.addEventListener('message', listener as EventListener);
      }) as WorkerLike['addEventListener'],
      removeEventListener: ((type: string, listener: EventListener) => {
        if (type === 'message') port2.removeEventListener('message', listener);
      }) as WorkerLike['removeEventListener'],
      start: () => port2.start(),
      terminate: () => {
        port1.close();
        port2.close();
      },
      crash: (message) => errorListeners.forEach((listener) => listener({ message })),
    };
    created.push(worker);
    return worker;
  };
  return { created, create };
}

const display = {} as DisplaySettings;
const tile = (x: number, y: number, w: number, h: number, outWidth = w, outHeight = h): TileRequest => ({
  level: 0,
  x,
  y,
  width: w,
  height: h,
  outWidth,
  outHeight,
});

const pools: DecoderPool<Rendered>[] = [];
function makePool(options: ConstructorParameters<typeof DecoderPool<Rendered>>[0]) {
  const pool = new DecoderPool<Rendered>(options);
  pools.push(pool);
  return pool;
}
afterEach(() => {
  for (const pool of pools.splice(0)) pool.dispose();
});

function rgbaAt(image: Rendered, x: number, y: number): number[] {
  const i = (y * image.width + x) * 4;
  return Array.from(image.rgba.slice(i, i + 4));
}

describe('DecoderPool', () => {
  it('opens in one worker, returns metadata, and renders tiles', async () => {
    const workers = fakeWorkers();
    const pool = makePool({ size: 3, createWorker: workers.create });
    const { slideId, metadata } = await pool.open(new Blob(['x']), 'a.svs');
    expect(metadata).toMatchObject({ name: 'a.svs', width: WIDTH, height: HEIGHT });
    expect(workers.created.flatMap((w) => w.opens)).toEqual(['a.svs']);

    const image = await pool.readTile(slideId, tile(10, 20, 16, 8), display);
    expect([image.width, image.height]).toEqual([16, 8]);
    expect(rgbaAt(image, 0, 0)).toEqual([10, 20, 200, 255]);
    expect(rgbaAt(image, 15, 7)).toEqual([25, 27, 200, 255]);

    // Downsampled 2×: each output pixel is the mean of a 2×2 block (x, x+1 → x + 0.5, rounded half up).
    const half = await pool.readTile(slideId, tile(10, 20, 16, 8, 8, 4), display);
    expect([half.width, half.height]).toEqual([8, 4]);
    expect(rgbaAt(half, 0, 0)).toEqual([11, 21, 200, 255]);
    expect(rgbaAt(half, 7, 3)).toEqual([25, 27, 200, 255]);
  });

  it('opens the slide lazily in the other workers, once each', async () => {
    const workers = fakeWorkers();
    const pool = makePool({ size: 3, createWorker: workers.create, maxInFlightPerWorker: 1 });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    const tiles = await Promise.all(Array.from({ length: 9 }, (_, i) => pool.readTile(slideId, tile(i, 0, 4, 4), display)));
    tiles.forEach((image, i) => expect(rgbaAt(image, 0, 0)).toEqual([i, 0, 200, 255]));
    expect(workers.created.map((w) => w.opens)).toEqual([['a.svs'], ['a.svs'], ['a.svs']]);
  });

  it("passes the reader's error through and keeps other slides working", async () => {
    const workers = fakeWorkers((name) => {
      if (name === 'bad.tif') throw new SlideError('bad.tif', 'JPEG-XR compression (34892) is not supported');
    });
    const pool = makePool({ size: 2, createWorker: workers.create });
    const good = await pool.open(new Blob(['x']), 'good.svs');
    await expect(pool.open(new Blob(['y']), 'bad.tif')).rejects.toThrow(
      'bad.tif: JPEG-XR compression (34892) is not supported',
    );
    const image = await pool.readTile(good.slideId, tile(1, 2, 2, 2), display);
    expect(rgbaAt(image, 0, 0)).toEqual([1, 2, 200, 255]);
  });

  it('fails only the tile that fails', async () => {
    const workers = fakeWorkers(undefined, {
      beforeRead: (region) => {
        if (region.x === 32) throw new Error('corrupt JPEG data');
      },
    });
    const pool = makePool({ size: 2, createWorker: workers.create });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    const results = await Promise.allSettled([0, 16, 32, 48].map((x) => pool.readTile(slideId, tile(x, 0, 16, 16), display)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toContain('corrupt JPEG data');
  });

  it('cancels queued requests without running them, and running ones through the worker', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const signalsSeen: AbortSignal[] = [];
    const reads: number[] = [];
    const workers = fakeWorkers(undefined, {
      beforeRead: async (region, signal) => {
        reads.push(region.x);
        if (signal) signalsSeen.push(signal);
        if (region.x === 0) {
          // Hang until aborted.
          await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
        } else await gate;
      },
    });
    const pool = makePool({ size: 1, createWorker: workers.create, maxInFlightPerWorker: 1 });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.readTile(slideId, tile(0, 0, 4, 4), display, running.signal);
    const second = pool.readTile(slideId, tile(8, 0, 4, 4), display, queued.signal);
    const third = pool.readTile(slideId, tile(16, 0, 4, 4), display);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.stats()).toMatchObject({ inFlight: 1, queued: 2 });

    queued.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    running.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect(signalsSeen[0].aborted).toBe(true);
    release();
    await expect(third).resolves.toMatchObject({ width: 4, height: 4 });
    // The cancelled queued tile never reached the worker.
    expect(reads).toEqual([0, 16]);
  });

  it('reports a crashed worker, fails only its requests, and replaces it', async () => {
    const crashes: string[] = [];
    const workers = fakeWorkers(undefined, {
      beforeRead: (region) => (region.x === 0 ? new Promise<void>(() => {}) : undefined),
    });
    const pool = makePool({ size: 2, createWorker: workers.create, maxInFlightPerWorker: 1, onCrash: (m) => crashes.push(m) });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    const stuck = pool.readTile(slideId, tile(0, 0, 4, 4), display);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const victim = workers.created.findIndex((w) => w.opens.length > 0);
    workers.created[victim].crash('out of memory');

    await expect(stuck).rejects.toThrow(/crashed: out of memory/);
    expect(crashes).toEqual([`Decoder worker ${victim + 1} crashed (out of memory); it was restarted.`]);
    expect(workers.created).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ workers: 2, restarts: 1 });

    // The replacement opens the slide again on demand and serves tiles.
    const images = await Promise.all([1, 2, 3, 4].map((x) => pool.readTile(slideId, tile(x * 4, 0, 4, 4), display)));
    expect(images.map((image) => rgbaAt(image, 0, 0)[0])).toEqual([4, 8, 12, 16]);
    expect(workers.created[2].opens).toEqual(['a.svs']);
  });

  it('reads associated images scaled to fit', async () => {
    const workers = fakeWorkers();
    const pool = makePool({ size: 1, createWorker: workers.create });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    const label = await pool.readAssociated(slideId, 'label', 20);
    expect([label.width, label.height]).toEqual([20, 10]);
    expect(rgbaAt(label, 3, 3)).toEqual([90, 90, 90, 255]);
  });

  it('estimates contrast limits in the worker', async () => {
    const workers = fakeWorkers();
    const pool = makePool({ size: 1, createWorker: workers.create });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    // numpy.percentile(channel, [0.1, 99.9], method='inverted_cdf') of the synthetic slide
    await expect(pool.estimateContrast(slideId)).resolves.toEqual([
      { min: 0, max: 63 },
      { min: 0, max: 47 },
      { min: 200, max: 200 },
    ]);
  });

  it('rejects requests for closed slides', async () => {
    const workers = fakeWorkers();
    const pool = makePool({ size: 1, createWorker: workers.create });
    const { slideId } = await pool.open(new Blob(['x']), 'a.svs');
    pool.close(slideId);
    await expect(pool.readTile(slideId, tile(0, 0, 4, 4), display)).rejects.toThrow(/not open/);
  });
});
