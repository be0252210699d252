/**
 * Node side of the CISH stage benchmark (bench/cish/run.mjs runs it from
 * the CLI bundle, .cache/cli/bench-cish.mjs). Times each pipeline stage on
 * one slide on the TF.js wasm backend (single-threaded SIMD in Node) and
 * writes the exact inputs the Python reference (bench/cish_reference.py)
 * needs into --work, so both sides compute on identical data:
 *   mask_small.f32      grey image at mask scale (input of the mask compute)
 *   mask_ours.u8        our mask, for an agreement check
 *   train_tiles.f32     N preprocessed 300×300 tiles (compute-only epoch / encode)
 *   fcm_points.f64      100k 2-D points (mixture of 7 Gaussians)
 *   fcm_u0.f64          the initial partition matrix both FCMs start from
 *   inputs.json         sizes, parameters and the training tiles' regions
 * Prints one JSON object on stdout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../src/engine/wasm-node';
import { openSlide } from '../../src/slide/open';
import { readOverview } from '../../src/slide/overview';
import { tissueMask, tissueMaskPipeline } from '../../src/imaging';
import { cishInputSpec, chooseTrainingTiles, computeCishMask, computeCishTiles, encodeCishTiles, trainCish } from '../../src/models/cish/pipeline';
import { buildCishAutoencoder } from '../../src/models/cish/model';
import { meanSquaredError } from '../../src/models/cish/losses';
import { encodeAll, trainModel, type BatchProvider } from '../../src/engine/train';
import { readTileInputs } from '../../src/engine/tile-batches';
import { tileRegion } from '../../src/tiling/tile-grid';
import { fcm, randomPartition } from '../../src/analysis/fcm';
import { Random } from '../../src/util/random';

const { values: args } = parseArgs({
  options: {
    slide: { type: 'string' },
    work: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'train-tiles': { type: 'string', default: '128' },
    batch: { type: 'string', default: '32' },
    'encode-batch': { type: 'string', default: '64' },
    'fcm-points': { type: 'string', default: '100000' },
    'fcm-k': { type: 'string', default: '7' },
    seed: { type: 'string', default: '1' },
    'skip-write': { type: 'boolean', default: false },
  },
});

const runs = Number(args.runs);
const trainTiles = Number(args['train-tiles']);
const batchSize = Number(args.batch);
const encodeBatch = Number(args['encode-batch']);
const fcmPoints = Number(args['fcm-points']);
const fcmK = Number(args['fcm-k']);
const seed = Number(args.seed);
if (!args.slide || !args.work) throw new Error('usage: bench-cish.mjs --slide FILE --work DIR [--runs 3 --train-tiles 128]');
const work = args.work;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Warm-up once, then `runs` timed calls; returns all times in ms. */
async function timeRuns(fn: () => Promise<unknown> | unknown, count = runs, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

function bytes(array: Float32Array | Float64Array | Uint8Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

const log = (line: string) => process.stderr.write(`bench-cish (tfjs): ${line}\n`);

async function run() {
  await mkdir(work, { recursive: true });
  const backend = await initNodeBackend('wasm');
  if (backend !== 'wasm') throw new Error('the wasm backend did not start');
  const result: Record<string, unknown> = { backend, runs, tfjs: tf.version_core, node: process.version };
  const stages: Record<string, { ms: number[]; median_ms: number; [key: string]: unknown }> = {};
  const record = (name: string, ms: number[], extra: Record<string, unknown> = {}) => {
    stages[name] = { ms: ms.map((v) => Math.round(v * 10) / 10), median_ms: median(ms), ...extra };
    log(`${name}: median ${median(ms).toFixed(1)} ms ${JSON.stringify(extra)}`);
  };

  const t0 = performance.now();
  const source = await openSlide(await openAsBlob(args.slide!), path.basename(args.slide!));
  record('open', [performance.now() - t0], {}); // one cold open

  // Mask: the whole stage (overview read + pipeline), then the compute alone on the grey image at mask scale.
  let maskResult = await computeCishMask(source);
  record('mask_total', await timeRuns(async () => (maskResult = await computeCishMask(source))));
  const overview = await readOverview(source, 20);
  const block = overview.block;
  const pipeline = tissueMaskPipeline(
    { data: block.data as Uint8Array, width: block.width, height: block.height, channels: block.channels },
    { levelDownsample: overview.downsample, downscale: 20 / overview.downsample },
  );
  const small = pipeline.small;
  record('mask_compute', await timeRuns(() => tissueMask(small, { sigma: pipeline.sigma, erosionRadius: pipeline.erosionRadius, polarity: pipeline.polarity })), {
    width: small.width,
    height: small.height,
    sigma: pipeline.sigma,
    erosion_radius: pipeline.erosionRadius,
  });

  // Tile grid.
  let grid = computeCishTiles(source.metadata, maskResult.mask);
  record('tile_grid', await timeRuns(() => (grid = computeCishTiles(source.metadata, maskResult.mask)), Math.max(runs, 5)), {
    tiles: grid.count,
    kept: grid.kept.length,
  });
  const train = chooseTrainingTiles(grid, { sample: trainTiles, seed });
  const spec = cishInputSpec(300);
  const tiles = await readTileInputs(source, grid, train, spec);

  // One epoch over the training tiles, reading them from the slide (the real stage).
  const models = buildCishAutoencoder({ seed });
  record(
    'train_epoch_with_read',
    await timeRuns(() => trainCish(source, grid, train, { epochs: 1, batchSize, seed, models })),
    { tiles: train.length, batch: batchSize },
  );

  // One epoch on tiles already in memory: the compute the PyTorch reference does.
  const xs = tf.tensor4d(tiles, [train.length, 300, 300, 1]);
  const steps = Math.ceil(train.length / batchSize);
  const provider: BatchProvider = {
    stepsPerEpoch: steps,
    getBatch: (_epoch, step) => {
      const start = step * batchSize;
      return { xs: tf.slice(xs, [start, 0, 0, 0], [Math.min(batchSize, train.length - start), 300, 300, 1]) };
    },
  };
  const optimizer = tf.train.adam(1e-3);
  record(
    'train_epoch_compute',
    await timeRuns(() => trainModel({ model: models.autoencoder, optimizer, loss: meanSquaredError, batches: provider, epochs: 1 })),
    { tiles: train.length, batch: batchSize, steps },
  );
  optimizer.dispose();

  // Encoding: every kept tile read from the slide, then the compute alone on the in-memory tiles.
  const encodeRead = await timeRuns(() => encodeCishTiles(models.encoder, source, grid, grid.kept, { batchSize: encodeBatch }));
  record('encode_with_read', encodeRead, { tiles: grid.kept.length, batch: encodeBatch, tiles_per_s: grid.kept.length / (median(encodeRead) / 1000) });
  const encodeCompute = await timeRuns(async () => {
    const batches = function* () {
      for (let start = 0; start < train.length; start += encodeBatch) {
        yield tf.slice(xs, [start, 0, 0, 0], [Math.min(encodeBatch, train.length - start), 300, 300, 1]);
      }
    };
    await encodeAll(models.encoder, batches());
  });
  record('encode_compute', encodeCompute, { tiles: train.length, batch: encodeBatch, tiles_per_s: train.length / (median(encodeCompute) / 1000) });
  xs.dispose();

  // FCM on 100k 2-D points, K = 7, from a shared initial partition.
  const rng = new Random(`fcm:${seed}`);
  const centres = Array.from({ length: fcmK }, () => [rng.uniformRange(-1, 1), rng.uniformRange(-1, 1)]);
  const points = new Float64Array(fcmPoints * 2);
  for (let i = 0; i < fcmPoints; i++) {
    const c = centres[i % fcmK];
    points[2 * i] = c[0] + rng.normal(0, 0.15);
    points[2 * i + 1] = c[1] + rng.normal(0, 0.15);
  }
  const u0 = randomPartition(fcmPoints, fcmK, seed);
  let fcmResult = fcm(points, 2, { k: fcmK, m: 2, tol: 0.005, initialU: u0 });
  const fcmTimes = await timeRuns(() => (fcmResult = fcm(points, 2, { k: fcmK, m: 2, tol: 0.005, initialU: u0 })));
  record('fcm', fcmTimes, {
    points: fcmPoints,
    k: fcmK,
    iterations: fcmResult.iterations,
    ms_per_iteration: median(fcmTimes) / fcmResult.iterations,
    fpc: fcmResult.fpc,
  });

  if (!args['skip-write']) {
    await writeFile(path.join(work, 'mask_small.f32'), bytes(small.data));
    await writeFile(path.join(work, 'mask_ours.u8'), bytes(maskResult.mask.data));
    await writeFile(path.join(work, 'train_tiles.f32'), bytes(tiles));
    await writeFile(path.join(work, 'fcm_points.f64'), bytes(points));
    await writeFile(path.join(work, 'fcm_u0.f64'), bytes(u0));
    const regions = Array.from(train, (i) => tileRegion(grid, i));
    const inputs = {
      slide: path.resolve(args.slide!),
      mask: {
        width: small.width,
        height: small.height,
        sigma: pipeline.sigma,
        erosion_radius: pipeline.erosionRadius,
        polarity: pipeline.polarity,
        threshold: pipeline.threshold,
      },
      tiles: { count: train.length, size: 300, regions, level: grid.level, level_downsample: grid.downsample },
      kept: grid.kept.length,
      kept_regions: Array.from(grid.kept, (i) => tileRegion(grid, i)),
      batch: batchSize,
      encode_batch: encodeBatch,
      seed,
      fcm: { points: fcmPoints, k: fcmK, m: 2, tol: 0.005, iterations: fcmResult.iterations, fpc: fcmResult.fpc },
    };
    await writeFile(path.join(work, 'inputs.json'), JSON.stringify(inputs));
  }
  models.autoencoder.dispose();
  models.decoder.dispose();
  source.close();
  result.stages = stages;
  process.stdout.write(JSON.stringify(result) + '\n');
}

await run();
