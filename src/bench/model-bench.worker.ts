/**
 * One model-benchmark configuration, in its own worker (a backend and its
 * wasm thread count are fixed once per worker): builds the model, then times
 * training steps at the paper's batch size and inference batches, reading
 * each result back so the time includes the work, not only its scheduling.
 * Driven by model-bench.ts; bench/run.mjs turns the times into rows.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initBackend, isSoftwareAdapter, type BackendName } from '../engine/backend';
import { buildCishAutoencoder, cishEncodeFunction, cishForwardFlops } from '../models/cish/model';
import { cishLoss } from '../models/cish/losses';
import { CISH_DEFAULTS } from '../models/cish/defaults';
import { loadCishPeers } from '../models/cish/pipeline';
import { dataParallelStep, splitRows, syncPeers } from '../engine/data-parallel';
import { encodeAll, type Batch } from '../engine/train';
import { startReplicaWorkers } from '../workers/replica-peers';

export interface ModelBenchConfig {
  backend: BackendName;
  /** wasm only: threads of the threaded build (1 = the same binary on one thread). */
  wasmThreads?: number;
  batch: number;
  warmup: number;
  trainSteps: number;
  inferenceBatches: number;
  /** Also profile one inference batch and one training step per kernel (tf.profile). */
  profile?: boolean;
  /**
   * Copies of the model in all (wasm only): with more than 1, the other
   * copies run in their own workers and share every batch, as the app does
   * (engine/data-parallel.ts).
   */
  copies?: number;
}

/** Milliseconds per kernel name over one profiled call, largest first. */
export type KernelProfile = Array<[name: string, ms: number]>;

export interface ModelBenchResult {
  model: 'cish';
  backend: string;
  reason: string;
  /** False for software GPU adapters and renderers (SwiftShader, llvmpipe). */
  hardware: boolean;
  batch: number;
  trainStepMs: number[];
  inferenceBatchMs: number[];
  forwardFlopsPerTile: number;
  /** Tensors alive before and after the timed work: equal means nothing leaked. */
  tensorsBefore: number;
  tensorsAfter: number;
  profile?: { inference: KernelProfile; training: KernelProfile };
}

async function profileKernels(fn: () => Promise<void>): Promise<KernelProfile> {
  const info = await tf.profile(fn);
  const totals = new Map<string, number>();
  for (const kernel of info.kernels) {
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    totals.set(kernel.name, (totals.get(kernel.name) ?? 0) + ms);
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const api = {
  async run(config: ModelBenchConfig): Promise<ModelBenchResult | { skipped: string }> {
    const choice = await initBackend({ override: config.backend, wasmThreads: config.wasmThreads });
    if (choice.backend !== config.backend) return { skipped: `${config.backend} unavailable: ${choice.reason}` };
    if (choice.adapterInfo && isSoftwareAdapter(choice.adapterInfo)) {
      // The app never picks it (see engine/backend.ts); a batch would take minutes.
      return { skipped: `software WebGPU adapter (${[choice.adapterInfo.vendor, choice.adapterInfo.architecture].filter(Boolean).join(' / ')}), which the app skips` };
    }
    const renderer = choice.adapterInfo ? null : await webglRenderer(config.backend);
    const hardware = choice.adapterInfo ? !isSoftwareAdapter(choice.adapterInfo) : renderer === null || !/swiftshader|llvmpipe|software/i.test(renderer);
    const models = buildCishAutoencoder({ seed: 1 });
    const encode = cishEncodeFunction(models.encoder); // what the app encodes with
    const optimizer = tf.train.adam(CISH_DEFAULTS.learningRate, 0.9, 0.999, CISH_DEFAULTS.adamEpsilon);
    const loss = cishLoss('mse');
    const x = tf.randomUniform([config.batch, CISH_DEFAULTS.inputSize, CISH_DEFAULTS.inputSize, 1], 0, 1, 'float32', 7);
    const peers = (config.copies ?? 1) > 1 ? await startReplicaWorkers(config.copies! - 1, config.backend, config.wasmThreads) : [];
    if (peers.length !== (config.copies ?? 1) - 1) return { skipped: `${config.copies} data-parallel copies could not start` };
    await loadCishPeers(peers, models, optimizer, 'mse');
    await syncPeers(peers, models.autoencoder, optimizer);
    const lossOf = (batch: Batch) => loss(batch.xs, models.autoencoder.apply(batch.xs, { training: true }) as tf.Tensor);
    const variables = models.autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainStep = async () => {
      if (peers.length > 0) {
        await dataParallelStep({ xs: x }, lossOf, optimizer, variables, peers);
        return;
      }
      const value = tf.tidy(() => optimizer.minimize(() => lossOf({ xs: x }), true)!);
      await value.data();
      value.dispose();
    };
    // With copies, the batch is encoded in equal shares, one per copy.
    const shares = splitRows(config.batch, peers.length + 1);
    const inferenceBatch = async () => {
      if (peers.length > 0) {
        await encodeAll(encode, shares.map(([start, end]) => tf.slice(x, start, end - start)), { peers });
        return;
      }
      const codes = tf.tidy(() => encode(x));
      await codes.data();
      codes.dispose();
    };
    for (let i = 0; i < config.warmup; i++) {
      await trainStep();
      await inferenceBatch();
    }
    const tensorsBefore = tf.memory().numTensors;
    const trainStepMs: number[] = [];
    for (let i = 0; i < config.trainSteps; i++) trainStepMs.push(await time(trainStep));
    const inferenceBatchMs: number[] = [];
    for (let i = 0; i < config.inferenceBatches; i++) inferenceBatchMs.push(await time(inferenceBatch));
    const tensorsAfter = tf.memory().numTensors;
    const profile = config.profile ? { inference: await profileKernels(inferenceBatch), training: await profileKernels(trainStep) } : undefined;
    x.dispose();
    optimizer.dispose();
    await Promise.all(peers.map((peer) => peer.release()));
    for (const variable of models.autoencoder.weights) variable.dispose();
    return {
      model: 'cish',
      backend: config.backend === 'wasm' ? `wasm ×${config.wasmThreads ?? 1}${peers.length > 0 ? ` in ${peers.length + 1} workers` : ''}` : config.backend,
      reason: renderer ? `${choice.reason} (${renderer})` : choice.reason,
      hardware,
      batch: config.batch,
      trainStepMs,
      inferenceBatchMs,
      forwardFlopsPerTile: cishForwardFlops(),
      tensorsBefore,
      tensorsAfter,
      profile,
    };
  },
};

/** The WebGL renderer string, to tell SwiftShader from a real GPU; null for other backends. */
async function webglRenderer(backend: BackendName): Promise<string | null> {
  if (backend !== 'webgl' || typeof OffscreenCanvas === 'undefined') return null;
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return null;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

export type ModelBenchWorker = typeof api;
Comlink.expose(api);
