#!/usr/bin/env node
// CISH stage benchmark: TF.js (wasm, Node) against a Python reference
// (scikit-image, PyTorch CPU, NumPy) on the same slide and the same inputs,
// in one run, so the ratios hold even when absolute times drift.
//
//   node bench/cish/run.mjs [--slide FILE] [--runs 3] [--rounds 2] [--train-tiles 128]
//                           [--threads 2] [--out bench/RESULTS.md]
//
// Each round runs the Node side (.cache/cli/bench-cish.mjs, built from
// bench/cish/stages.ts by src/cli/bundle.mjs) and then the reference
// (bench/cish_reference.py with /usr/bin/python3); per stage the medians
// cover every timed run of every round. JSON goes to stdout; a dated
// markdown section is appended to --out (`npm run bench` runs this after
// the slide-decoding benchmark, so both land in bench/RESULTS.md).
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBundle, ROOT } from '../../src/cli/bundle.mjs';

const { values: args } = parseArgs({
  options: {
    slide: { type: 'string', default: path.join(ROOT, 'public', 'demo', 'CMU-1-Small-Region.svs') },
    runs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    'train-tiles': { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
  },
});

const log = (line) => process.stderr.write(`bench-cish: ${line}\n`);

function run(command, argv) {
  return new Promise((resolve, reject) => {
    const child = execFile(command, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(new Error(`${path.basename(command)} ${argv[0]} failed: ${err.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
    child.stderr.pipe(process.stderr);
  });
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

async function torchAvailable() {
  return new Promise((resolve) => execFile(args.python, ['-c', 'import torch, skimage, scipy, openslide'], (err) => resolve(!err)));
}

const bundle = await ensureBundle();
const work = await mkdtemp(path.join(os.tmpdir(), 'tilescope-bench-cish-'));
const loadBefore = os.loadavg();
const haveReference = await torchAvailable();
if (!haveReference) log(`${args.python} lacks torch/scikit-image/scipy/openslide: reference skipped`);

const ours = [];
const reference = [];
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    log(`round ${round + 1}/${args.rounds}: tfjs`);
    ours.push(
      await run(process.execPath, [
        path.join(bundle, 'bench-cish.mjs'),
        '--slide', args.slide,
        '--work', work,
        '--runs', args.runs,
        '--train-tiles', args['train-tiles'],
        ...(round > 0 ? ['--skip-write'] : []),
      ]),
    );
    if (haveReference) {
      log(`round ${round + 1}/${args.rounds}: reference`);
      reference.push(await run(args.python, [path.join(ROOT, 'bench', 'cish_reference.py'), '--work', work, '--runs', args.runs, '--threads', args.threads]));
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

/** Per stage: all timed runs of all rounds, and the median. */
function merge(results) {
  const merged = {};
  for (const result of results) {
    for (const [name, stage] of Object.entries(result.stages)) {
      merged[name] ??= { ...stage, ms: [] };
      merged[name].ms.push(...stage.ms);
    }
  }
  for (const stage of Object.values(merged)) stage.median_ms = median(stage.ms);
  return merged;
}

const oursStages = merge(ours);
const refStages = haveReference ? merge(reference) : {};
const rows = [
  ['open', 'open slide (cold)', null],
  ['mask_total', 'tissue mask, whole stage (overview read + compute)', null],
  ['mask_compute', 'tissue mask compute (gaussian, triangle, fill, reconstruction)', 'scikit-image + SciPy'],
  ['tile_grid', 'tile grid + tissue fractions', null],
  ['train_epoch_compute', 'training epoch, tiles in memory', 'PyTorch CPU'],
  ['train_epoch_compute', 'training epoch, tiles in memory (PyTorch 1 thread)', 'PyTorch CPU, 1 thread', 'train_epoch_compute_1t'],
  ['train_epoch_with_read', 'training epoch, tiles read from the slide', 'PyTorch CPU + OpenSlide + scikit-image'],
  ['encode_compute', 'encode, tiles in memory', 'PyTorch CPU'],
  ['encode_compute', 'encode, tiles in memory (PyTorch 1 thread)', 'PyTorch CPU, 1 thread', 'encode_compute_1t'],
  ['encode_with_read', 'encode every kept tile, read from the slide', 'PyTorch CPU + OpenSlide + scikit-image'],
  ['fcm', 'fuzzy c-means, same points and initial U', 'NumPy'],
];

const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`);
const table = [];
const summary = {};
for (const [key, label, refLabel, refKey = key] of rows) {
  const o = oursStages[key];
  if (!o) continue;
  const r = refStages[refKey];
  if (refKey !== key && !r) continue;
  const detail = [];
  if (o.tiles !== undefined) detail.push(`${o.tiles} tiles`);
  if (o.batch !== undefined) detail.push(`batch ${o.batch}`);
  if (o.points !== undefined) detail.push(`${o.points} pts, K=${o.k}, ${o.iterations} it.${r ? ` (ref ${r.iterations})` : ''}`);
  if (o.width !== undefined) detail.push(`${o.width}×${o.height} px`);
  // Encoding rows also show throughput (tiles per second).
  const perSecond = (stage) => (key.startsWith('encode') && stage.tiles !== undefined ? (stage.tiles / stage.median_ms) * 1000 : undefined);
  const oursTilesPerS = perSecond(o);
  const refTilesPerS = r ? perSecond(r) : undefined;
  const withRate = (stage, rate) =>
    fmtMs(stage.median_ms) + (stage.ms.length > 1 ? ` [min ${fmtMs(Math.min(...stage.ms))}]` : '') + (rate !== undefined ? ` (${rate.toFixed(0)} tiles/s)` : '');
  const ratio = r ? o.median_ms / r.median_ms : undefined;
  const minRatio = r ? Math.min(...o.ms) / Math.min(...r.ms) : undefined;
  table.push(
    `| ${label} | ${detail.join(', ')} | ${withRate(o, oursTilesPerS)} | ${r ? `${withRate(r, refTilesPerS)} (${refLabel})` : '—'} | ${ratio ? ratio.toFixed(2) : '—'} | ${ratio ? (1 / ratio).toFixed(2) + '×' : '—'} | ${minRatio ? (1 / minRatio).toFixed(2) + '×' : '—'} |`,
  );
  summary[refKey] = {
    ours_ms: o.median_ms,
    ours_min_ms: Math.min(...o.ms),
    ours_runs: o.ms.length,
    reference_ms: r?.median_ms ?? null,
    reference_min_ms: r ? Math.min(...r.ms) : null,
    reference_runs: r?.ms.length ?? 0,
    ours_over_reference: ratio ?? null,
    speedup: ratio ? 1 / ratio : null,
    speedup_of_minima: minRatio ? 1 / minRatio : null,
    ...(oursTilesPerS ? { ours_tiles_per_s: oursTilesPerS, reference_tiles_per_s: refTilesPerS ?? null } : {}),
  };
}
const checks = {
  mask_iou_tfjs_vs_skimage: refStages.mask_compute?.iou_with_tfjs ?? null,
  tile_preprocessing_max_abs_difference: refStages.train_epoch_with_read?.max_abs_tile_difference ?? null,
  fcm_iterations: { ours: oursStages.fcm?.iterations, reference: refStages.fcm?.iterations ?? null },
  fcm_fpc: { ours: oursStages.fcm?.fpc, reference: refStages.fcm?.fpc ?? null },
};

const command = `node bench/cish/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const environment = {
  date: new Date().toISOString(),
  command,
  slide: args.slide,
  cpu,
  cores: os.cpus().length,
  load_average_before: loadBefore.map((v) => Number(v.toFixed(2))),
  load_average_after: os.loadavg().map((v) => Number(v.toFixed(2))),
  node: process.version,
  tfjs: ours[0]?.tfjs,
  python: reference[0]?.python ?? null,
  torch: reference[0]?.torch ?? null,
  torch_threads: reference[0]?.torch_threads ?? null,
  runs_per_round: Number(args.runs),
  rounds: Number(args.rounds),
};

const markdown = `
## ${environment.date.slice(0, 16).replace('T', ' ')} UTC: CISH pipeline stages, TF.js (wasm, Node) vs Python reference

Command: \`${command}\` (Node side: \`bench/cish/stages.ts\` via the CLI bundle; reference: \`bench/cish_reference.py\`)

${environment.date.slice(0, 10)}, ${cpu}, ${environment.cores} cores, load average ${environment.load_average_before.join(' / ')} before and ${environment.load_average_after.join(' / ')} after.
TF.js ${environment.tfjs} wasm backend in Node ${environment.node} (single-threaded SIMD + project kernels); PyTorch ${environment.torch ?? '—'} CPU with ${environment.torch_threads ?? '—'} threads; Python ${environment.python ?? '—'}.
Median of ${Number(args.runs) * Number(args.rounds)} timed runs (${args.rounds} rounds × ${args.runs}, each after a warm-up; rounds alternate TF.js and reference).
Slide: \`${path.basename(args.slide)}\`; training tiles: ${args['train-tiles']} (300×300, batch 32), encode batch 64.

| stage | size | ours (TF.js wasm) | reference (Python) | ours / reference time | speed-up (reference / ours) | speed-up of minima |
|---|---|---|---|---|---|---|
${table.join('\n')}

Checks: tissue mask IoU TF.js vs scikit-image ${checks.mask_iou_tfjs_vs_skimage?.toFixed(4) ?? '—'}; tile preprocessing max |Δ| (TF.js vs OpenSlide + scikit-image) ${checks.tile_preprocessing_max_abs_difference?.toExponential(2) ?? '—'}; FCM iterations ${checks.fcm_iterations.ours} vs ${checks.fcm_iterations.reference ?? '—'}, FPC ${checks.fcm_fpc.ours?.toFixed(6)} vs ${checks.fcm_fpc.reference?.toFixed(6) ?? '—'}.
Times are medians [and minima]; ratios use the medians, the last column the minima. A speed-up above 1 means TF.js is faster. The machine is shared: compare ratios, and mind the load average above (PyTorch's 2 threads suffer most from oversubscription). "Tiles in memory" rows compare the compute alone; "read from the slide" rows include decoding (libjpeg-turbo wasm vs OpenSlide) and preprocessing.
`;

await appendFile(args.out, markdown);
process.stdout.write(JSON.stringify({ environment, stages: summary, checks, ours: oursStages, reference: refStages }, null, 2) + '\n');
log(`wrote ${path.relative(ROOT, args.out)}`);
