#!/usr/bin/env node
// Model benchmark: `npm run bench` (or `node bench/models/run.mjs [--runs N] [--no-write]`).
//
// In headless Chromium, on the benchmark page served cross-origin isolated (so
// the threaded wasm build can run), each model × backend configuration runs in
// its own worker: wasm on one thread, wasm on every core, WebGL, and WebGPU
// when the adapter is hardware. Rows give inference tiles/s, training ms per
// step at the paper's batch size and the GFLOP/s those reach. In the same run
// PyTorch CPU times the identical network on 1 thread and on every core, and
// measures the CPU's practical float32 peak (BLAS matrix product) at each
// thread count; ratios and % of peak go to bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { PYTHON, RESULTS, buildAppAndBenchPage, chromiumVersion, fmt, median, parseBenchArgs, root, withBenchPage } from '../common.mjs';

/** The paper's batch size for the CISH autoencoder (seed 000). */
const CISH_BATCH = 32;

function pytorchReference(threads, runs) {
  const result = spawnSync(PYTHON, ['bench/models_reference.py', '--threads', String(threads), '--batch', String(CISH_BATCH), '--runs', String(runs)], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    console.warn(`[bench] PyTorch reference unavailable (${threads} threads): ${result.stderr || result.error}`);
    return undefined;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

async function browserRows(runs) {
  return withBenchPage({ isolate: true, chromiumArgs: ['--enable-unsafe-webgpu'], global: 'modelBench' }, async (page) => {
    const { isolated, cores } = await page.evaluate(() => ({ isolated: window.modelBench.isolated, cores: window.modelBench.cores }));
    if (!isolated) throw new Error('the benchmark page is not cross-origin isolated; threaded wasm cannot be measured');
    const configs = [
      { backend: 'wasm', wasmThreads: 1, warmup: 2, trainSteps: runs, inferenceBatches: runs },
      { backend: 'wasm', wasmThreads: cores, warmup: 2, trainSteps: runs, inferenceBatches: runs },
      // What the app does on wasm: one single-threaded copy of the model per core, sharing each batch.
      ...(cores > 1 ? [{ backend: 'wasm', wasmThreads: 1, copies: cores, warmup: 2, trainSteps: runs, inferenceBatches: runs }] : []),
      // Software renderers are ~100× slower: a few steps are enough to place them.
      { backend: 'webgl', warmup: 1, trainSteps: 2, inferenceBatches: 2 },
      { backend: 'webgpu', warmup: 1, trainSteps: 2, inferenceBatches: 2 },
    ];
    const rows = [];
    for (const config of configs) {
      console.log(`[bench] CISH on ${config.backend}${config.wasmThreads ? ` ×${config.wasmThreads}` : ''}${config.copies ? ` in ${config.copies} workers` : ''}…`);
      rows.push({ config, result: await page.evaluate((c) => window.modelBench.run(c), { ...config, batch: CISH_BATCH }) });
    }
    return { rows, cores };
  });
}

async function main() {
  const options = parseBenchArgs(process.argv.slice(2));
  const loadAtStart = os.loadavg();
  buildAppAndBenchPage();
  const { rows, cores } = await browserRows(options.runs);
  console.log('[bench] PyTorch references…');
  const torch1 = pytorchReference(1, options.runs);
  const torchN = cores > 1 ? pytorchReference(cores, options.runs) : torch1;
  const torchFor = (threads) => (threads > 1 ? torchN : torch1);

  const lines = [
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — models in the browser`,
    '',
    `Command: \`npm run bench\` (this part: \`node bench/models/run.mjs${options.runs !== 7 ? ` --runs ${options.runs}` : ''}\`). ` +
      `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, load average ${loadAtStart.map((x) => x.toFixed(1)).join(', ')} at start; ` +
      `${chromiumVersion()} headless, page cross-origin isolated; PyTorch ${torch1?.torch ?? 'n/a'} CPU. ` +
      `Batch ${CISH_BATCH} of 300 × 300 (the paper's), random tiles; medians of ${options.runs} (wasm, PyTorch) or 2 (GPU backends) after warm-up.`,
    `Peak = the CPU's practical float32 peak at the same thread count (best 2048² matrix product through PyTorch's BLAS): ` +
      `${torch1 ? fmt(torch1.matmul_gflops, 0) : 'n/a'} GFLOP/s on 1 thread, ${torchN ? fmt(torchN.matmul_gflops, 0) : 'n/a'} on ${cores}. ` +
      'A training step counts 3 × the forward FLOPs.',
    '',
    '| model | backend | inference tiles/s | training ms/step | training GFLOP/s (% of peak) | PyTorch same threads: tiles/s, ms/step | ratio inference, training (×PyTorch speed) | tensors leaked |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const measured = {};
  for (const { config, result } of rows) {
    const name = config.copies
      ? `wasm, ${config.copies} workers × ${config.wasmThreads} thread (data-parallel)`
      : config.wasmThreads
        ? `wasm, ${config.wasmThreads} thread${config.wasmThreads > 1 ? 's' : ''}`
        : config.backend;
    if ('skipped' in result) {
      lines.push(`| CISH autoencoder | ${name} | not measured: ${result.skipped.replaceAll('|', '/')} | | | | | |`);
      continue;
    }
    const stepMs = median(result.trainStepMs);
    const batchMs = median(result.inferenceBatchMs);
    const tilesPerS = (result.batch / batchMs) * 1000;
    const gflops = (3 * result.forwardFlopsPerTile * result.batch) / (stepMs / 1000) / 1e9;
    const threads = config.wasmThreads ? config.wasmThreads * (config.copies ?? 1) : cores;
    const torch = config.backend === 'wasm' ? torchFor(threads) : undefined;
    const peak = torch?.matmul_gflops;
    const torchStep = torch && median(torch.train_step_ms);
    const torchTiles = torch && (CISH_BATCH / median(torch.inference_batch_ms)) * 1000;
    measured[name] = { stepMs, tilesPerS, config };
    const label = result.hardware ? name : `${name} (software: ${result.reason.replaceAll('|', '/')})`;
    lines.push(
      `| CISH autoencoder | ${label} | ${fmt(tilesPerS, 1)} | ${fmt(stepMs, 0)} | ${fmt(gflops, 1)}${peak ? ` (${fmt((100 * gflops) / peak, 1)} %)` : ''} | ` +
        `${torch ? `${fmt(torchTiles, 1)}, ${fmt(torchStep, 0)}` : ''} | ${torch ? `${fmt(tilesPerS / torchTiles, 2)}, ${fmt(torchStep / stepMs, 2)}` : ''} | ` +
        `${result.tensorsAfter - result.tensorsBefore} |`,
    );
  }
  lines.push('| nucleus CAE presets, Mobincep, OrgaNet | — | not implemented yet (issues 5 and 6) | | | | | |');
  const one = measured['wasm, 1 thread'];
  const many = measured[`wasm, ${cores} threads`];
  lines.push('');
  if (one && many) {
    lines.push(`Threaded wasm (${cores} threads) over single-threaded wasm: training ${fmt(one.stepMs / many.stepMs, 2)}×, inference ${fmt(many.tilesPerS / one.tilesPerS, 2)}×.`);
  }
  const parallel = Object.values(measured).find((m) => m.config.copies);
  if (parallel && one) {
    lines.push(
      `Data-parallel wasm (${parallel.config.copies} single-threaded workers, the app's default on wasm) over one single-threaded worker: ` +
        `training ${fmt(one.stepMs / parallel.stepMs, 2)}×, inference ${fmt(parallel.tilesPerS / one.tilesPerS, 2)}×.`,
    );
  }
  if (torchN) {
    const torchStep = median(torchN.train_step_ms);
    const torchTiles = (CISH_BATCH / median(torchN.inference_batch_ms)) * 1000;
    const against = Object.entries(measured)
      .filter(([, m]) => m.config.backend === 'wasm')
      .map(([name, m]) => `${name}: training time ${fmt(m.stepMs / torchStep, 2)}× PyTorch's, encoding ${fmt(m.tilesPerS / torchTiles, 2)}× its throughput`);
    lines.push(`Against PyTorch on all ${cores} cores (${fmt(torchStep, 0)} ms/step, ${fmt(torchTiles, 1)} tiles/s; targets: time ≤ 1.0×, throughput ≥ 2.5×): ${against.join('; ')}.`);
  }
  if (!rows.some(({ result }) => !('skipped' in result) && result.hardware && result.reason.includes('webgpu'))) {
    lines.push('WebGPU on a hardware adapter was not measured: this machine has no GPU (headless Chromium offers only a software adapter, which the app skips).');
  }
  lines.push('');
  const section = lines.join('\n');
  console.log(`\n${section}`);
  if (options.write) {
    appendFileSync(RESULTS, `${section}\n`);
    console.log('[bench] appended to bench/RESULTS.md');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
