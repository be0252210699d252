#!/usr/bin/env node
// Latent-explorer benchmark: `npm run bench` (or `node bench/explorer/run.mjs [--runs N] [--no-write]`).
//
// In headless Chromium, on the page's main thread (where the app does it):
// a freehand lasso of 300 vertices over 1,000,000 scatter points (point in
// polygon, then applied to the active selection), and the step from the
// selection to the overlay's colour buffer. Medians go to bench/RESULTS.md.
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { RESULTS, buildAppAndBenchPage, chromiumVersion, fmt, parseBenchArgs, summary, withBenchPage } from '../common.mjs';

async function main() {
  const { runs, write } = parseBenchArgs(process.argv.slice(2));
  const load = os.loadavg();
  buildAppAndBenchPage();
  const result = await withBenchPage({ global: 'explorerBench' }, (page) => {
    console.log('[bench] explorer: lasso over 1,000,000 points…');
    return page.evaluate((r) => window.explorerBench.run({ runs: r }), runs);
  });
  const lasso = summary(result.lassoMs);
  const overlay = summary(result.overlayMs);
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
    '| median frame time panning 1,000,000 points | not measured: the scatter is a 2-D canvas without pan and zoom yet | | |',
    '',
  ].join('\n');
  console.log(`\n${section}`);
  if (write) appendFileSync(RESULTS, `${section}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
