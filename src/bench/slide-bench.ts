/**
 * In-page part of `npm run bench` (bench/run.mjs): decodes every level-0 tile of
 * a slide through the app's decoder worker pool (what the viewer uses), and once
 * more on this thread with openSlide/readRegion (decode only), timing each pass
 * with performance.now(). The first pass of each is a warm-up.
 *
 * Slide sources cache decoded tiles, so every pass opens the slide afresh
 * (outside the timed part where possible) and really decodes each tile.
 */
import { DecoderPool } from '../workers/decoder-pool';
import { openSlide } from '../slide/open';
import { defaultDisplaySettings } from '../slide/display';
import type { Region } from '../slide/types';

export interface SlideBenchResult {
  tiles: number;
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  poolSize: number;
  /** Milliseconds per timed pass (warm-up excluded); bench/run.mjs summarises them. */
  poolMs: number[];
  singleThreadMs: number[];
}

/** The file's own tile grid of level 0 (edge tiles clipped to the image). */
function levelZeroTiles(width: number, height: number, tileWidth: number, tileHeight: number): Region[] {
  const tiles: Region[] = [];
  for (let y = 0; y < height; y += tileHeight) {
    for (let x = 0; x < width; x += tileWidth) {
      tiles.push({ level: 0, x, y, width: Math.min(tileWidth, width - x), height: Math.min(tileHeight, height - y) });
    }
  }
  return tiles;
}

/** Runs `prepare` untimed, then times `pass`; the first of `runs + 1` passes is a warm-up. */
async function timePasses<T>(runs: number, prepare: () => Promise<T>, pass: (prepared: T) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const prepared = await prepare();
    const start = performance.now();
    await pass(prepared);
    if (i > 0) times.push(performance.now() - start);
  }
  return times;
}

async function run(options: { runs: number; slideUrl: string }): Promise<SlideBenchResult> {
  const url = new URL(options.slideUrl, document.baseURI);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const file = await response.blob();
  const name = url.pathname.split('/').pop() ?? 'slide';

  const pool = new DecoderPool();
  try {
    const probe = await openSlide(file, name);
    const { metadata } = probe;
    probe.close();
    const level = metadata.levels[0];
    const tiles = levelZeroTiles(level.width, level.height, level.tileWidth, level.tileHeight);
    const display = defaultDisplaySettings(metadata);
    // All requests at once, as the viewer issues them; the pool queues and spreads them.
    // pool.open opens the slide in one worker; the others open it on their first
    // tile, inside the timed pass (a header parse, as when the viewer starts).
    const poolMs = await timePasses(
      options.runs,
      async () => (await pool.open(file, name)).slideId,
      async (slideId) => {
        const bitmaps = await Promise.all(
          tiles.map((t) => pool.readTile(slideId, { ...t, outWidth: t.width, outHeight: t.height }, display)),
        );
        for (const bitmap of bitmaps) bitmap.close();
        pool.close(slideId);
      },
    );

    const singleThreadMs = await timePasses(
      options.runs,
      () => openSlide(file, name),
      async (source) => {
        for (const tile of tiles) await source.readRegion(tile);
        source.close();
      },
    );

    return {
      tiles: tiles.length,
      width: level.width,
      height: level.height,
      tileWidth: level.tileWidth,
      tileHeight: level.tileHeight,
      poolSize: pool.size,
      poolMs,
      singleThreadMs,
    };
  } finally {
    pool.dispose();
  }
}

declare global {
  interface Window {
    slideBench?: { run: typeof run };
  }
}

window.slideBench = { run };
document.getElementById('log')!.textContent = 'ready: window.slideBench.run({ runs, slideUrl })';
