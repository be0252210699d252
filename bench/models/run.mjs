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
//
// The nucleus detector's crosswise-sparse CAE (seed 001) runs at its small
// width presets on single-threaded wasm (and data-parallel for the smallest):
// a step costs seconds here, so fewer steps are timed. Larger presets run only
// when the step time projected from the last measured preset's speed stays
// under CSP_MAX_STEP_MS and the wasm heap projected from its heap (activations
// grow with the width) under wasm32's 4 GiB; the others get their cost per
// patch only.
//
// The seed-002 classifiers, Mobincep (224 × 224 × 3) and OrgaNet (382 × 382 ×
// 1), run at the paper's input size and full width on single-threaded wasm
// against their PyTorch twins (bench/classifiers_torch.py) on one thread:
// training at the batch the app trains each with, inference in batches of
// CLASSIFIER_INFERENCE_BATCH images. A network whose warm-up training step
// exceeds CLASSIFIER_MAX_STEP_MS is not timed further (the row gives the
// warm-up step and the projected time instead).
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { PYTHON, RESULTS, buildAppAndBenchPage, chromiumVersion, fmt, median, parseBenchArgs, root, withBenchPage } from '../common.mjs';

/** The paper's batch size for the CISH autoencoder (seed 000): training steps are timed at it. */
const CISH_BATCH = 32;
/** The app's encoder batch (CISH_ENCODE_BATCH in src/models/cish/defaults.ts): encoding is timed at it. */
const CISH_ENCODE_BATCH = 64;
/** Seed 001's batch of 100 × 100 × 3 patches for the CSP-CAE. */
const CSP_BATCH = 32;
const CSP_PATCH = 100;
/** CSP-CAE presets from cheapest to dearest; the first two always run. */
const CSP_PRESETS = ['sixteenth', 'eighth', 'quarter', 'paper'];
const CSP_ALWAYS = 2;
/** Larger presets run only if their projected training step stays under this. */
const CSP_MAX_STEP_MS = 60_000;
/** wasm32's addressable memory: the wasm backend's heap cannot grow past it. */
const WASM_HEAP_LIMIT = 4 * 2 ** 30;
/** A CSP-CAE configuration that has not answered by then is stopped and reported as such. */
const CSP_TIMEOUT_MS = 5 * 60_000;
const CSP_WARMUP = 1;
const cspRunsOf = (runs) => Math.min(runs, 3);
/**
 * The classifiers at the paper's input sizes; `batch` = the app's training batch
 * (CLASSIFIER_DEFAULTS in src/models/classifier/pipeline.ts: the thesis trains Mobincep with 4).
 */
const CLASSIFIERS = [
  { model: 'mobincep', label: 'Mobincep', input: '224 × 224 × 3', batch: 4 },
  { model: 'organet', label: 'OrgaNet', input: '382 × 382 × 1', batch: 8 },
];
const CLASSIFIER_CLASSES = 3;
const CLASSIFIER_INFERENCE_BATCH = 8;
const CLASSIFIER_WARMUP = 1;
/** A classifier whose warm-up training step takes longer than this is not timed further. */
const CLASSIFIER_MAX_STEP_MS = 30_000;
const CLASSIFIER_TIMEOUT_MS = 3 * 60_000;
const classifierRunsOf = (runs) => Math.min(runs, 3);

function pytorchReference(threads, runs, extra = [], batch = CISH_BATCH) {
  const label = extra.length ? `${extra.join(' ')}, ` : '';
  const result = spawnSync(PYTHON, ['bench/models_reference.py', '--threads', String(threads), '--batch', String(batch), '--runs', String(runs), ...extra], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    console.warn(`[bench] PyTorch reference unavailable (${label}${threads} threads): ${result.stderr || result.error}`);
    return undefined;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

function pytorchCspReference(preset, threads, runs) {
  return pytorchReference(threads, runs, ['--model', 'csp-cae', '--preset', preset, '--warmup', String(CSP_WARMUP)], CSP_BATCH);
}

function pytorchClassifierReference(classifier, threads, runs) {
  const extra = ['--model', classifier.model, '--classes', String(CLASSIFIER_CLASSES), '--encode-batch', String(CLASSIFIER_INFERENCE_BATCH), '--warmup', String(CLASSIFIER_WARMUP)];
  return pytorchReference(threads, runs, extra, classifier.batch);
}

const backendName = (config) =>
  config.copies
    ? `wasm, ${config.copies} workers × ${config.wasmThreads} thread (data-parallel)`
    : config.wasmThreads
      ? `wasm, ${config.wasmThreads} thread${config.wasmThreads > 1 ? 's' : ''}`
      : config.backend;

const millions = (n) => (n / 1e6).toFixed(n < 1e6 ? 2 : 1);
const cspLabel = (preset, cost) =>
  `nucleus CSP-CAE, ${preset}${cost ? ` (${millions(cost.parameters)} M parameters, ${fmt(cost.forwardFlopsPerPatch / 1e9, 2)} GFLOP/patch)` : ''}`;

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
      rows.push({ config, result: await page.evaluate((c) => window.modelBench.run(c), { ...config, model: 'cish', batch: CISH_BATCH, inferenceBatch: CISH_ENCODE_BATCH }) });
    }
    const csp = await cspRows(page, runs, cores);
    const classifiers = await classifierRows(page, runs);
    return { rows, csp, classifiers, cores };
  });
}

/**
 * CSP-CAE rows: each preset on single-threaded wasm, cheapest first, while the
 * projected step time allows; the smallest also data-parallel on every core.
 */
async function cspRows(page, runs, cores) {
  const costs = await page.evaluate((presets) => window.modelBench.cspCaeCosts(presets), CSP_PRESETS);
  const steps = cspRunsOf(runs);
  const single = (preset) => ({
    model: 'csp-cae',
    preset,
    backend: 'wasm',
    wasmThreads: 1,
    warmup: CSP_WARMUP,
    trainSteps: steps,
    inferenceBatches: steps,
    timeoutMs: CSP_TIMEOUT_MS,
  });
  const measure = async (config) => {
    console.log(`[bench] CSP-CAE ${config.preset} on wasm ×${config.wasmThreads}${config.copies ? ` in ${config.copies} workers` : ''}…`);
    const result = await page.evaluate((c) => window.modelBench.run(c), { ...config, batch: CSP_BATCH });
    console.log(
      'skipped' in result
        ? `[bench]   not measured: ${result.skipped}`
        : `[bench]   ${fmt(median(result.trainStepMs), 0)} ms/step, ${result.inferenceBatchMs.length ? `${fmt(median(result.inferenceBatchMs), 0)} ms/inference batch` : 'inference not timed'}` +
            `${result.wasmHeapBytes ? `, wasm heap ${fmt(result.wasmHeapBytes / 2 ** 30, 2)} GiB` : ''}`,
    );
    return { config, result };
  };
  const rows = [];
  const skipped = [];
  let last; // the last measured single-threaded preset: { preset, stepMs, heapBytes }
  for (const [i, preset] of CSP_PRESETS.entries()) {
    if (i >= CSP_ALWAYS) {
      const projected = last && {
        stepMs: (last.stepMs * costs[preset].forwardFlopsPerPatch) / costs[last.preset].forwardFlopsPerPatch,
        heapBytes: last.heapBytes && (last.heapBytes * costs[preset].width) / costs[last.preset].width,
      };
      if (!(projected && projected.stepMs < CSP_MAX_STEP_MS && !(projected.heapBytes >= WASM_HEAP_LIMIT))) {
        skipped.push({ preset, projected, from: last?.preset });
        continue;
      }
    }
    const row = await measure(single(preset));
    rows.push(row);
    if (!('skipped' in row.result)) last = { preset, stepMs: median(row.result.trainStepMs), heapBytes: row.result.wasmHeapBytes };
    if (i === 0 && cores > 1) rows.push(await measure({ ...single(preset), copies: cores }));
  }
  return { rows, skipped, costs };
}

/** Mobincep and OrgaNet on single-threaded wasm at the paper's input size. */
async function classifierRows(page, runs) {
  const steps = classifierRunsOf(runs);
  const rows = [];
  for (const classifier of CLASSIFIERS) {
    const config = {
      model: classifier.model,
      classes: CLASSIFIER_CLASSES,
      backend: 'wasm',
      wasmThreads: 1,
      batch: classifier.batch,
      inferenceBatch: CLASSIFIER_INFERENCE_BATCH,
      warmup: CLASSIFIER_WARMUP,
      trainSteps: steps,
      inferenceBatches: steps,
      maxStepMs: CLASSIFIER_MAX_STEP_MS,
      timeoutMs: CLASSIFIER_TIMEOUT_MS,
    };
    console.log(`[bench] ${classifier.label} on wasm ×1…`);
    const result = await page.evaluate((c) => window.modelBench.run(c), config);
    console.log(
      'skipped' in result
        ? `[bench]   not measured: ${result.skipped}`
        : `[bench]   ${fmt(median(result.trainStepMs), 0)} ms/step, ${fmt(median(result.inferenceBatchMs), 0)} ms/inference batch`,
    );
    rows.push({ classifier, config, result });
  }
  return rows;
}

async function main() {
  const options = parseBenchArgs(process.argv.slice(2));
  const loadAtStart = os.loadavg();
  buildAppAndBenchPage();
  const { rows, csp, classifiers, cores } = await browserRows(options.runs);
  console.log('[bench] PyTorch references…');
  const encodeBatch = ['--encode-batch', String(CISH_ENCODE_BATCH)];
  const torch1 = pytorchReference(1, options.runs, encodeBatch);
  const torchN = cores > 1 ? pytorchReference(cores, options.runs, encodeBatch) : torch1;
  const torchFor = (threads) => (threads > 1 ? torchN : torch1);
  // PyTorch on the CSP-CAE, per preset and thread count the browser rows used.
  const cspTorch = new Map();
  const cspThreads = (config) => config.wasmThreads * (config.copies ?? 1);
  for (const { config, result } of csp.rows) {
    const key = `${config.preset}@${cspThreads(config)}`;
    if ('skipped' in result || cspTorch.has(key)) continue;
    console.log(`[bench] PyTorch CSP-CAE ${config.preset}, ${cspThreads(config)} thread(s)…`);
    cspTorch.set(key, pytorchCspReference(config.preset, cspThreads(config), cspRunsOf(options.runs)));
  }
  // PyTorch on the classifiers, on the browser rows' thread count; run even when the browser row was not measured.
  const classifierTorch = new Map();
  for (const { classifier, config } of classifiers) {
    console.log(`[bench] PyTorch ${classifier.label}, ${config.wasmThreads} thread(s)…`);
    classifierTorch.set(classifier.model, pytorchClassifierReference(classifier, config.wasmThreads, classifierRunsOf(options.runs)));
  }

  const lines = [
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — models in the browser`,
    '',
    `Command: \`npm run bench\` (this part: \`node bench/models/run.mjs${options.runs !== 7 ? ` --runs ${options.runs}` : ''}\`). ` +
      `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, load average ${loadAtStart.map((x) => x.toFixed(1)).join(', ')} at start; ` +
      `${chromiumVersion()} headless, page cross-origin isolated; PyTorch ${torch1?.torch ?? 'n/a'} CPU. ` +
      `CISH: training batch ${CISH_BATCH} of 300 × 300 (the paper's), encoding in batches of ${CISH_ENCODE_BATCH} (the app's; with model copies, one batch per copy at a time, as the app encodes a slide), random tiles; medians of ${options.runs} (wasm, PyTorch) or 2 (GPU backends) after warm-up.`,
    `Nucleus CSP-CAE (seed 001; PyTorch twin in bench/cspcae_torch.py, same parameter count): batch ${CSP_BATCH} of ${CSP_PATCH} × ${CSP_PATCH} × 3 random patches (a "tile" below), ` +
      `SGD with momentum (0.03, 0.9) on the RMSE in training mode (batch norm statistics and the threshold t update); inference = the inspector's forward pass ` +
      `in inference mode (detection map read back); medians of ${cspRunsOf(options.runs)} after ${CSP_WARMUP} warm-up, in the browser and in PyTorch. ` +
      `Larger presets run only while the training step and wasm heap projected from the last measured preset stay under ${CSP_MAX_STEP_MS / 1000} s and ${WASM_HEAP_LIMIT / 2 ** 30} GiB.`,
    `Classifiers (seed 002; PyTorch twins in bench/classifiers_torch.py, same parameter counts): the paper's input size and full width, ${CLASSIFIER_CLASSES} classes, random images ` +
      `(a "tile" below is one image), labels cycling through the classes; training at the app's batch (${CLASSIFIERS.map((c) => `${c.label} ${c.batch} of ${c.input}`).join(', ')}) ` +
      `with the seed's loss in both (Mobincep: cross-entropy + centroid separation + class scatter on the pooled features, AMSGrad 1e-4; OrgaNet: cross-entropy + MMD of the 10-d latent ` +
      `against N(0, I) samples, Adam 1e-4), training mode; inference = forward pass in inference mode and softmax, class probabilities read back, in batches of ${CLASSIFIER_INFERENCE_BATCH}; ` +
      `single-threaded wasm against PyTorch on 1 thread; medians of ${classifierRunsOf(options.runs)} after ${CLASSIFIER_WARMUP} warm-up. ` +
      `A network whose warm-up training step exceeds ${CLASSIFIER_MAX_STEP_MS / 1000} s is not timed further.`,
    `Peak = the CPU's practical float32 peak at the same thread count (best 2048² matrix product through PyTorch's BLAS): ` +
      `${torch1 ? fmt(torch1.matmul_gflops, 0) : 'n/a'} GFLOP/s on 1 thread, ${torchN ? fmt(torchN.matmul_gflops, 0) : 'n/a'} on ${cores}. ` +
      'A training step counts 3 × the forward FLOPs.',
    '',
    '| model | backend | inference tiles/s | training ms/step | training GFLOP/s (% of peak) | PyTorch same threads: tiles/s, ms/step | ratio inference, training (×PyTorch speed) | tensors leaked |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const measured = {};
  for (const { config, result } of rows) {
    const name = backendName(config);
    if ('skipped' in result) {
      lines.push(`| CISH autoencoder | ${name} | not measured: ${result.skipped.replaceAll('|', '/')} | | | | | |`);
      continue;
    }
    const stepMs = median(result.trainStepMs);
    const batchMs = median(result.inferenceBatchMs);
    const tilesPerS = (result.inferenceTiles / batchMs) * 1000;
    const gflops = (3 * result.forwardFlopsPerTile * result.batch) / (stepMs / 1000) / 1e9;
    const threads = config.wasmThreads ? config.wasmThreads * (config.copies ?? 1) : cores;
    const torch = config.backend === 'wasm' ? torchFor(threads) : undefined;
    const peak = torch?.matmul_gflops;
    const torchStep = torch && median(torch.train_step_ms);
    const torchTiles = torch && (torch.encode_batch / median(torch.inference_batch_ms)) * 1000;
    measured[name] = { stepMs, tilesPerS, config };
    const label = result.hardware ? name : `${name} (software: ${result.reason.replaceAll('|', '/')})`;
    lines.push(
      `| CISH autoencoder | ${label} | ${fmt(tilesPerS, 1)} | ${fmt(stepMs, 0)} | ${fmt(gflops, 1)}${peak ? ` (${fmt((100 * gflops) / peak, 1)} %)` : ''} | ` +
        `${torch ? `${fmt(torchTiles, 1)}, ${fmt(torchStep, 0)}` : ''} | ${torch ? `${fmt(tilesPerS / torchTiles, 2)}, ${fmt(torchStep / stepMs, 2)}` : ''} | ` +
        `${result.tensorsAfter - result.tensorsBefore} |`,
    );
  }
  const cspMeasured = {};
  for (const { config, result } of csp.rows) {
    const name = backendName(config);
    const label = cspLabel(config.preset, csp.costs[config.preset]);
    if ('skipped' in result) {
      lines.push(`| ${label} | ${name} | not measured: ${result.skipped.replaceAll('|', '/')} | | | | | |`);
      continue;
    }
    const stepMs = median(result.trainStepMs);
    const timedInference = result.inferenceBatchMs.length > 0;
    const tilesPerS = timedInference ? (result.inferenceTiles / median(result.inferenceBatchMs)) * 1000 : undefined;
    const gflops = (3 * result.forwardFlopsPerTile * result.batch) / (stepMs / 1000) / 1e9;
    const torch = cspTorch.get(`${config.preset}@${cspThreads(config)}`);
    const peak = torch?.matmul_gflops;
    const torchStep = torch && median(torch.train_step_ms);
    const torchTiles = torch && (CSP_BATCH / median(torch.inference_batch_ms)) * 1000;
    if (torch && torch.tfjs_count !== result.parameters) {
      console.warn(`[bench] CSP-CAE ${config.preset}: PyTorch counts ${torch.tfjs_count} parameters + buffers, TF.js ${result.parameters}`);
    }
    cspMeasured[`${config.preset}, ${name}`] = { stepMs, tilesPerS, config };
    const inference = timedInference ? fmt(tilesPerS, 1) : `n/a: ${result.inferenceNote ?? 'not timed'}`;
    lines.push(
      `| ${label} | ${name} | ${inference} | ${fmt(stepMs, 0)} | ${fmt(gflops, 1)}${peak ? ` (${fmt((100 * gflops) / peak, 1)} %)` : ''} | ` +
        `${torch ? `${fmt(torchTiles, 1)}, ${fmt(torchStep, 0)}` : ''} | ` +
        `${torch ? `${timedInference ? fmt(tilesPerS / torchTiles, 2) : 'n/a'}, ${fmt(torchStep / stepMs, 2)}` : ''} | ` +
        `${result.tensorsAfter - result.tensorsBefore} |`,
    );
  }
  for (const { preset, projected, from } of csp.skipped) {
    const why = projected === undefined
      ? 'no smaller preset was measured to project its step time from'
      : `projected from ${from}: ${fmt(projected.stepMs / 1000, 0)} s per training step (limit ${CSP_MAX_STEP_MS / 1000} s)` +
        `${projected.heapBytes ? `, ${fmt(projected.heapBytes / 2 ** 30, 1)} GiB of wasm heap (limit ${WASM_HEAP_LIMIT / 2 ** 30} GiB)` : ''}`;
    lines.push(`| ${cspLabel(preset, csp.costs[preset])} | wasm, 1 thread | not run: ${why} | | | | | |`);
  }
  const classifierMeasured = [];
  for (const { classifier, config, result } of classifiers) {
    const name = backendName(config);
    const torch = classifierTorch.get(classifier.model);
    const parameters = 'skipped' in result ? torch?.tfjs_count : result.parameters;
    const flops = 'skipped' in result ? torch?.forward_flops : result.forwardFlopsPerTile;
    const label =
      `${classifier.label}, ${classifier.input}` +
      `${parameters ? ` (${millions(parameters)} M parameters${flops ? `, ${fmt(flops / 1e9, 2)} GFLOP/image` : ''})` : ''}` +
      `, training batch ${config.batch}, inference batch ${config.inferenceBatch}`;
    const torchStep = torch && median(torch.train_step_ms);
    const torchTiles = torch && (torch.encode_batch / median(torch.inference_batch_ms)) * 1000;
    const torchCells = torch ? `${fmt(torchTiles, 1)}, ${fmt(torchStep, 0)}` : 'n/a';
    if ('skipped' in result) {
      lines.push(`| ${label} | ${name} | not measured: ${result.skipped.replaceAll('|', '/')} | | | ${torchCells} | | |`);
      continue;
    }
    if (torch && torch.tfjs_count !== result.parameters) {
      console.warn(`[bench] ${classifier.label}: PyTorch counts ${torch.tfjs_count} parameters + buffers, TF.js ${result.parameters}`);
    }
    const stepMs = median(result.trainStepMs);
    const tilesPerS = (result.inferenceTiles / median(result.inferenceBatchMs)) * 1000;
    const gflops = (3 * result.forwardFlopsPerTile * result.batch) / (stepMs / 1000) / 1e9;
    const peak = torch?.matmul_gflops;
    classifierMeasured.push({ classifier, stepMs, tilesPerS, torchStep, torchTiles });
    lines.push(
      `| ${label} | ${name} | ${fmt(tilesPerS, 1)} | ${fmt(stepMs, 0)} | ${fmt(gflops, 1)}${peak ? ` (${fmt((100 * gflops) / peak, 1)} %)` : ''} | ` +
        `${torchCells} | ${torch ? `${fmt(tilesPerS / torchTiles, 2)}, ${fmt(torchStep / stepMs, 2)}` : ''} | ` +
        `${result.tensorsAfter - result.tensorsBefore} |`,
    );
  }
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
    const torchTiles = (torchN.encode_batch / median(torchN.inference_batch_ms)) * 1000;
    const against = Object.entries(measured)
      .filter(([, m]) => m.config.backend === 'wasm')
      .map(([name, m]) => `${name}: training time ${fmt(m.stepMs / torchStep, 2)}× PyTorch's, encoding ${fmt(m.tilesPerS / torchTiles, 2)}× its throughput`);
    lines.push(`Against PyTorch on all ${cores} cores (${fmt(torchStep, 0)} ms/step, ${fmt(torchTiles, 1)} tiles/s; targets: time ≤ 1.0×, throughput ≥ 2.5×): ${against.join('; ')}.`);
  }
  const heaps = csp.rows
    .filter(({ config, result }) => !('skipped' in result) && !config.copies && result.wasmHeapBytes)
    .map(({ config, result }) => `${config.preset} ${fmt(result.wasmHeapBytes / 2 ** 30, 2)} GiB`);
  if (heaps.length) lines.push(`CSP-CAE wasm heap after training at batch ${CSP_BATCH} (its high-water mark; wasm32 caps it at 4 GiB): ${heaps.join(', ')}.`);
  const cspOne = cspMeasured[`${CSP_PRESETS[0]}, wasm, 1 thread`];
  const cspParallel = Object.values(cspMeasured).find((m) => m.config.copies);
  if (cspOne && cspParallel) {
    lines.push(
      `CSP-CAE ${CSP_PRESETS[0]}, data-parallel wasm (${cspParallel.config.copies} single-threaded workers) over one single-threaded worker: ` +
        `training ${fmt(cspOne.stepMs / cspParallel.stepMs, 2)}× (detection runs in one worker, so inference is not data-parallel).`,
    );
  }
  const againstTorch = classifierMeasured
    .filter((m) => m.torchStep)
    .map((m) => `${m.classifier.label}: training time ${fmt(m.stepMs / m.torchStep, 2)}× PyTorch's, inference ${fmt(m.tilesPerS / m.torchTiles, 2)}× its throughput`);
  if (againstTorch.length) lines.push(`Classifiers, single-threaded wasm against PyTorch on 1 thread: ${againstTorch.join('; ')}.`);
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
