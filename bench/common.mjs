// Helpers shared by the benchmark runners (bench/run.mjs, bench/models/run.mjs).
import { spawnSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { startServer } from '../e2e/serve-dist.mjs';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PYTHON = '/usr/bin/python3';
export const RESULTS = path.join(root, 'bench/RESULTS.md');
export const BENCH_DIST = path.join(root, '.cache/bench-dist');
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const summary = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length });
export const fmt = (x, digits = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

/** Newest modification time (ms) among files under `paths`. */
function newestMtime(paths) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const stat = statSync(p);
    if (stat.isDirectory()) for (const entry of readdirSync(p)) visit(path.join(p, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  paths.forEach((p) => visit(path.join(root, p)));
  return newest;
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
  return result;
}

/** Rebuilds `output` when any input is newer (or it is missing). */
export function buildIfStale(output, inputs, command, args) {
  const outputPath = path.join(root, output);
  if (existsSync(outputPath) && statSync(outputPath).mtimeMs >= newestMtime(inputs)) return;
  console.log(`[bench] building ${output}`);
  run(command, args);
}

const APP_INPUTS = ['src', 'public', 'index.html', 'vite.config.ts', 'package-lock.json'];

/** The production app (dist/) and the benchmark page (.cache/bench-dist), rebuilt when stale. */
export function buildAppAndBenchPage() {
  buildIfStale('dist/index.html', APP_INPUTS, 'npm', ['run', 'build']);
  buildIfStale('.cache/bench-dist/bench.html', [...APP_INPUTS, 'bench.html', 'bench/vite.config.ts'], 'npx', ['vite', 'build', '--config', 'bench/vite.config.ts']);
}

export function chromiumVersion() {
  return spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** `--runs N` (default 7) and `--no-write` (print only), the options every runner takes. */
export function parseBenchArgs(argv) {
  const options = { runs: 7, write: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') options.runs = Math.max(1, Number(argv[++i]));
    else if (argv[i] === '--no-write') options.write = false;
    else throw new Error(`unknown argument ${argv[i]} (use --runs N, --no-write)`);
  }
  return options;
}

/**
 * Serves the built benchmark page (cross-origin isolated when asked), opens
 * it in headless Chromium, waits for `global` on its window and runs `use(page)`;
 * everything is closed afterwards.
 */
export async function withBenchPage({ isolate = false, chromiumArgs = [], global }, use) {
  const server = await startServer({ root: BENCH_DIST, base: '/', port: 0, host: '127.0.0.1', isolate });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...chromiumArgs] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error('[bench page]', error.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
    await page.waitForFunction((name) => name in window, global, { timeout: 30_000 });
    return await use(page);
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
}
