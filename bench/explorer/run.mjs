#!/usr/bin/env node
// Latent-explorer benchmark: `npm run bench` (or `node bench/explorer/run.mjs [--runs N] [--no-write]`).
//
// In headless Chromium, on the page's main thread (where the app does it):
// a freehand lasso of 300 vertices over 1,000,000 scatter points (point in
// polygon, then applied to the active selection), and the step from the
// selection to the overlay's colour buffer; then the WebGL scatter panned
// over 1,000,000 points for 120 animation frames (per frame: both render
// passes, a 1-pixel readPixels so the GPU's work is inside the time, and the
// copy onto the visible 2-D canvas). Medians go to bench/RESULTS.md.
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { RESULTS, buildAppAndBenchPage, chromiumVersion, fmt, parseBenchArgs, summary, withBenchPage } from '../common.mjs';

/** Nearest-rank percentile (p in 0…100). */
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

async function main() {
  const { runs, write } = parseBenchArgs(process.argv.slice(2));
  const load = os.loadavg();
  buildAppAndBenchPage();
  const { result, panning, cpuPanning } = await withBenchPage({ global: 'explorerBench' }, async (page) => {
    console.log('[bench] explorer: lasso over 1,000,000 points…');
    const result = await page.evaluate((r) => window.explorerBench.run({ runs: r }), runs);
    console.log('[bench] explorer: panning the WebGL scatter over 1,000,000 points…');
    const panning = await page.evaluate(() => window.explorerBench.pan({ points: 1_000_000, frames: 120, renderer: 'webgl' }));
    console.log('[bench] explorer: panning the CPU-rasterised scatter over 1,000,000 points…');
    const cpuPanning = await page.evaluate(() => window.explorerBench.pan({ points: 1_000_000, frames: 120, renderer: 'cpu' }));
    return { result, panning, cpuPanning };
  });
  const lasso = summary(result.lassoMs);
  const overlay = summary(result.overlayMs);
  const frame = summary(panning.frameMs);
  const interval = summary(panning.intervalMs);
  const cpuFrame = summary(cpuPanning.frameMs);
  const cpuInterval = summary(cpuPanning.intervalMs);
  const software = /swiftshader|llvmpipe|software/i.test(panning.renderer)
    ? ' — a software renderer (WebGL emulated on the CPU, no GPU in this browser), not representative of frame times on a GPU'
    : '';
  const section = [
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — latent explorer`,
    '',
    `Command: \`npm run bench\` (this part: \`node bench/explorer/run.mjs\`). Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ` +
      `load average ${load.map((x) => x.toFixed(1)).join(', ')} at start; ${chromiumVersion()} headless, page main thread. Median of ${runs} after one warm-up.`,
    '',
    '| measure | median | range | target |',
    '|---|---|---|---|',
    `| lasso (${result.lassoVertices} vertices) over ${result.points.toLocaleString('en')} points: point in polygon + applied to the selection (${result.selected.toLocaleString('en')} selected) | ${fmt(lasso.median)} ms | ${fmt(lasso.min)}–${fmt(lasso.max)} ms | < 100 ms |`,
    `| selection → overlay colour buffer (${result.points.toLocaleString('en')} tiles) | ${fmt(overlay.median)} ms | ${fmt(overlay.min)}–${fmt(overlay.max)} ms | |`,
    `| median frame time panning ${panning.points.toLocaleString('en')} points: WebGL2 scatter ${panning.width}×${panning.height} CSS px at ${panning.pixelRatio}× (density shading, ${panning.accumulation} target), ` +
      `${panning.frames} animation frames, each frame = both passes + 1-pixel readPixels + copy to the 2-D canvas; renderer: ${panning.renderer}${software}. ` +
      `Median interval between frames ${fmt(interval.median)} ms | ${fmt(frame.median)} ms | p95 ${fmt(percentile(panning.frameMs, 95))} ms; ${fmt(frame.min)}–${fmt(frame.max)} ms | < 16.7 ms (60 fps) on a GPU |`,
    `| median frame time panning ${cpuPanning.points.toLocaleString('en')} points: CPU rasteriser with the same density shading (what the app uses without a hardware GPU), ` +
      `same size and path, each frame = sums + resolve + putImageData. Median interval between frames ${fmt(cpuInterval.median)} ms | ${fmt(cpuFrame.median)} ms | ` +
      `p95 ${fmt(percentile(cpuPanning.frameMs, 95))} ms; ${fmt(cpuFrame.min)}–${fmt(cpuFrame.max)} ms | < 100 ms (interactive) |`,
    '',
  ].join('\n');
  console.log(`\n${section}`);
  if (write) appendFileSync(RESULTS, `${section}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
