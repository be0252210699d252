#!/usr/bin/env node
// Slide-decoding benchmark: `npm run bench` (options: --runs N, --no-write).
//
// Measures, in headless Chromium (the system one, driven by Playwright):
//  1. time to first tile in the production app (dist/): from the file input's
//     change event to the viewer's first drawn tile, demo SVS, fresh page each run;
//  2. level-0 tiles per second through the decoder worker pool (bench.html), and
//     single-threaded readRegion in the page, on the same SVS;
// and, in the same run on the same machine, the same tiles decoded by references:
// Pillow (native libjpeg-turbo) in 1 and N threads, and `vips avg` (OpenSlide).
// Reports medians after a warm-up and appends a dated section to bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { startServer } from '../e2e/serve-dist.mjs';
import { BENCH_DIST, CHROMIUM, CHROMIUM_ARGS, PYTHON, RESULTS, buildAppAndBenchPage, chromiumVersion, fmt, parseBenchArgs, root, summary } from './common.mjs';

const DEMO = path.join(root, 'public/demo/CMU-1-Small-Region.svs');

/**
 * Time from choosing the file to the first drawn tile, in the production app;
 * also to the moment the slide-info panel names the file (the slide is open and
 * its metadata known), which splits the wait into "open" and "first tile".
 */
async function timeToFirstTile(browser, appUrl, runs) {
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1280, height: 800 } });
  const firstTile = [];
  const opened = [];
  const fileName = path.basename(DEMO);
  for (let i = 0; i <= runs; i++) {
    const page = await context.newPage();
    await page.goto(`${appUrl}?demo=0`);
    const input = page.locator('[data-testid="open-slide"]');
    await input.waitFor({ state: 'attached' });
    await page.evaluate((name) => {
      const marks = {};
      window.__marks = new Promise((resolve) => {
        document.addEventListener(
          'change',
          (event) => {
            if (event.target instanceof Element && event.target.matches('[data-testid="open-slide"]')) marks.chosen = performance.now();
          },
          true,
        );
        new MutationObserver(() => {
          if (marks.chosen === undefined) return;
          const info = document.querySelector('[data-testid="slide-info"]');
          if (marks.opened === undefined && info?.textContent?.includes(name)) marks.opened = performance.now();
          const viewer = document.querySelector('[data-testid="viewer"]');
          if (Number(viewer?.getAttribute('data-tiles-drawn')) > 0) {
            marks.firstTile = performance.now();
            marks.opened ??= marks.firstTile;
            resolve({ opened: marks.opened - marks.chosen, firstTile: marks.firstTile - marks.chosen });
          }
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
    }, fileName);
    await input.setInputFiles(DEMO);
    const marks = await page.evaluate(() => window.__marks);
    await page.close();
    if (i > 0) {
      // run 0 is the warm-up (HTTP cache, JIT)
      firstTile.push(marks.firstTile);
      opened.push(marks.opened);
    }
  }
  await context.close();
  return { firstTile: summary(firstTile), opened: summary(opened) };
}

/** Level-0 tiles per second through the decoder pool, and single-threaded in the page. */
async function decodeThroughput(browser, benchUrl, runs) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[bench page]', error.message));
  await page.goto(`${benchUrl}bench.html`);
  await page.waitForFunction(() => 'slideBench' in window, null, { timeout: 30_000 });
  const result = await page.evaluate((r) => window.slideBench.run({ runs: r, slideUrl: 'demo/CMU-1-Small-Region.svs' }), runs);
  await context.close();
  return { ...result, poolMs: summary(result.poolMs), singleThreadMs: summary(result.singleThreadMs) };
}

function pillowReference(threads, runs) {
  const result = spawnSync(PYTHON, ['bench/reference_decode.py', DEMO, '--runs', String(runs), '--threads', String(threads)], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    console.warn(`[bench] Pillow reference unavailable: ${result.stderr || result.error}`);
    return undefined;
  }
  const parsed = JSON.parse(result.stdout);
  return { tiles: parsed.tiles, threads: parsed.threads, ms: summary(parsed.runsMs) };
}

/** `vips avg` decodes all of level 0 (OpenSlide); a 1×1 image's `vips avg` gives the process overhead. */
function vipsReference(runs) {
  const tiny = path.join(os.tmpdir(), `tilescope-bench-tiny-${process.pid}.v`);
  if (spawnSync('vips', ['black', tiny, '1', '1']).status !== 0) {
    console.warn('[bench] vips not found; skipping the vips reference');
    return undefined;
  }
  const timeOf = (file) => {
    const times = [];
    for (let i = 0; i <= runs; i++) {
      const start = process.hrtime.bigint();
      const result = spawnSync('vips', ['avg', file]);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (result.status !== 0) throw new Error(`vips avg ${file} failed: ${result.stderr}`);
      if (i > 0) times.push(ms);
    }
    return summary(times);
  };
  const slide = timeOf(DEMO);
  const overhead = timeOf(tiny);
  rmSync(tiny, { force: true });
  return { slide, overhead, decodeMs: Math.max(0.001, slide.median - overhead.median) };
}

async function main() {
  const options = parseBenchArgs(process.argv.slice(2));
  const loadAtStart = os.loadavg();
  buildAppAndBenchPage();

  const appServer = await startServer({ root: path.join(root, 'dist'), base: '/tilescope/', port: 0, host: '127.0.0.1', isolate: false });
  const benchServer = await startServer({ root: BENCH_DIST, base: '/', port: 0, host: '127.0.0.1', isolate: false });
  const appUrl = `http://127.0.0.1:${appServer.address().port}/tilescope/`;
  const benchUrl = `http://127.0.0.1:${benchServer.address().port}/`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  let timing;
  let throughput;
  try {
    console.log(`[bench] time to first tile (${options.runs} runs + warm-up)…`);
    timing = await timeToFirstTile(browser, appUrl, options.runs);
    console.log(`[bench] level-0 decode throughput (${options.runs} runs + warm-up)…`);
    throughput = await decodeThroughput(browser, benchUrl, options.runs);
  } finally {
    await browser.close();
    appServer.closeAllConnections();
    benchServer.closeAllConnections();
    appServer.close();
    benchServer.close();
  }

  console.log('[bench] references (Pillow, vips)…');
  const poolThreads = throughput.poolSize;
  const pillow1 = pillowReference(1, options.runs);
  const pillowN = poolThreads > 1 ? pillowReference(poolThreads, options.runs) : pillow1;
  const vips = vipsReference(options.runs);

  const tiles = throughput.tiles;
  const tilesPerSecond = (ms) => (tiles / ms) * 1000;
  const poolRate = tilesPerSecond(throughput.poolMs.median);
  const singleRate = tilesPerSecond(throughput.singleThreadMs.median);
  const pillow1Rate = pillow1 && tilesPerSecond(pillow1.ms.median);
  const pillowNRate = pillowN && tilesPerSecond(pillowN.ms.median);
  const vipsRate = vips && tilesPerSecond(vips.decodeMs);
  const range = (s) => `${fmt(s.min)}–${fmt(s.max)} ms`;

  const cpu = os.cpus();
  const load = loadAtStart.map((x) => x.toFixed(1)).join(', ');
  const now = new Date();
  const lines = [
    `## ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Command: \`npm run bench${options.runs !== 7 ? ` -- --runs ${options.runs}` : ''}\`. Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${load} at start; ${chromiumVersion()} headless; Node ${process.version}.`,
    `Slide: public/demo/CMU-1-Small-Region.svs, level 0 = ${throughput.width} × ${throughput.height} px in ${tiles} JPEG tiles of ` +
      `${throughput.tileWidth} × ${throughput.tileHeight}. Median of ${options.runs} runs after one warm-up.`,
    '',
    '| measure | median | tiles/s | runs |',
    '|---|---|---|---|',
    `| time to first tile: file chosen → first tile drawn (production app, fresh page) | ${fmt(timing.firstTile.median)} ms | | ${range(timing.firstTile)} |`,
    `| of which: file chosen → slide info shows the file (open + metadata) | ${fmt(timing.opened.median)} ms | | ${range(timing.opened)} |`,
    `| decoder pool, ${poolThreads} workers: all level-0 tiles (decode + RGBA + ImageBitmap) | ${fmt(throughput.poolMs.median)} ms | ${fmt(poolRate, 0)} | ${range(throughput.poolMs)} |`,
    `| one thread in the page: readRegion of every level-0 tile (decode only) | ${fmt(throughput.singleThreadMs.median)} ms | ${fmt(singleRate, 0)} | ${range(throughput.singleThreadMs)} |`,
    pillow1 ? `| reference: Pillow (libjpeg-turbo), 1 thread, same tiles | ${fmt(pillow1.ms.median)} ms | ${fmt(pillow1Rate, 0)} | ${range(pillow1.ms)} |` : '| reference: Pillow | n/a | | |',
    pillowN && poolThreads > 1
      ? `| reference: Pillow (libjpeg-turbo), ${poolThreads} threads, same tiles | ${fmt(pillowN.ms.median)} ms | ${fmt(pillowNRate, 0)} | ${range(pillowN.ms)} |`
      : '',
    vips
      ? `| reference: \`vips avg\` (OpenSlide, whole level 0) minus process start-up (${fmt(vips.overhead.median)} ms) | ${fmt(vips.decodeMs)} ms | ${fmt(vipsRate, 0)} | ${range(vips.slide)} with start-up |`
      : '| reference: vips | n/a | | |',
    '',
    'Ratios (Tilescope throughput / reference throughput; 1 = as fast):',
    `- decoder pool (${poolThreads} workers) / Pillow ${poolThreads} thread${poolThreads > 1 ? 's' : ''}: ${pillowNRate ? fmt(poolRate / pillowNRate, 2) : 'n/a'}`,
    `- one thread / Pillow 1 thread: ${pillow1Rate ? fmt(singleRate / pillow1Rate, 2) : 'n/a'}`,
    `- decoder pool / vips: ${vipsRate ? fmt(poolRate / vipsRate, 2) : 'n/a'}`,
    '',
  ].filter((line, i, all) => line !== '' || all[i - 1] !== '');

  const section = lines.join('\n');
  console.log(`\n${section}`);
  if (options.write) {
    if (!existsSync(RESULTS)) {
      writeFileSync(
        RESULTS,
        '# Benchmark results\n\nAppended by `npm run bench` (bench/run.mjs); newest last. Absolute times drift on shared machines: compare the ratios, which come from one run on one machine.\n\n',
      );
    }
    appendFileSync(RESULTS, `${section}\n`);
    console.log(`[bench] appended to ${path.relative(root, RESULTS)}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
