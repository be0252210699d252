/**
 * One model-benchmark configuration, in its own worker (a backend and its
 * wasm thread count are fixed once per worker): builds the model, then times
 * training steps at the paper's batch size and inference batches, reading
 * each result back so the time includes the work, not only its scheduling.
 * Driven by model-bench.ts; bench/models/run.mjs turns the times into rows.
 *
 * Models: the CISH autoencoder (seed 000: Adam on the MSE, 300 px grey
 * tiles, inference = the encoder, as the app encodes) and the nucleus
 * detector's crosswise-sparse CAE at a width preset (seed 001: SGD with
 * momentum on the RMSE, 100 px RGB patches, inference = the inspector's
 * forward pass in inference mode, reading the detection map back).
 * The seed-002 classifiers at the paper's input (Mobincep 224 × 224 × 3,
 * OrgaNet 382 × 382 × 1): a training step minimises the loss the app trains
 * with (mobincepTrainingLoss / organetTrainingLoss, centroid or MMD terms
 * included) with the app's optimiser (AMSGrad / Adam, lr 1e-4); inference is
 * the classifier's forward pass in inference mode, reading the class
 * probabilities (softmax of the logits) back.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initBackend, isSoftwareAdapter, type BackendName } from '../engine/backend';
import { buildCishAutoencoder, cishEncodeFunction, cishForwardFlops } from '../models/cish/model';
import { cishLoss } from '../models/cish/losses';
import { CISH_DEFAULTS } from '../models/cish/defaults';
import { loadCishPeers } from '../models/cish/pipeline';
import { dataParallelStep, syncPeers } from '../engine/data-parallel';
import { disposeOptimizer, encodeAll, type Batch } from '../engine/train';
import { startReplicaWorkers } from '../workers/replica-peers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CSP_CAE_PRESETS, buildCspCae, cspCaeForwardFlops, disposeCspCae, rootMeanSquaredError, type CspCaePreset } from '../models/nuclei/model';
import { NUCLEI_DEFAULTS } from '../models/nuclei/pipeline';
import { modelArtifacts, optimizerSpec, type ReplicaPeer } from '../engine/data-parallel';
import {
  MOBINCEP_DEFAULTS,
  buildMobincep,
  createMobincepOptimizer,
  disposeModelWeights,
  mobincepForwardFlops,
  mobincepTrainingLoss,
} from '../models/mobincep';
import { ORGANET_DEFAULTS, buildOrganet, createOrganetOptimizer, organetForwardFlops, organetTrainingLoss } from '../models/organet';

export type BenchModelName = 'cish' | 'csp-cae' | 'mobincep' | 'organet';

/** The seed-002 classifiers: trained on labelled images, timed in one worker only. */
const CLASSIFIERS: readonly BenchModelName[] = ['mobincep', 'organet'];

export interface ModelBenchConfig {
  /** Which network (default 'cish', so older calls keep their meaning). */
  model?: BenchModelName;
  /** csp-cae only: the width preset (default the app's, NUCLEI_DEFAULTS.preset). */
  preset?: CspCaePreset;
  /** mobincep / organet only: number of classes (default 3). */
  classes?: number;
  backend: BackendName;
  /** wasm only: threads of the threaded build (1 = the same binary on one thread). */
  wasmThreads?: number;
  /** Training batch (the paper's). */
  batch: number;
  /** Tiles per inference batch (default `batch`); the CISH rows use the app's encode batch. */
  inferenceBatch?: number;
  warmup: number;
  trainSteps: number;
  inferenceBatches: number;
  /** Also profile one inference batch and one training step per kernel (tf.profile). */
  profile?: boolean;
  /**
   * Copies of the model in all (wasm only): with more than 1, the other
   * copies run in their own workers and share every batch, as the app does
   * (engine/data-parallel.ts). For csp-cae the copies share training only:
   * its copies have no encoder, so inference is not timed then.
   */
  copies?: number;
  /** Page side (model-bench.ts): give up on the worker after this long and report the configuration as skipped. */
  timeoutMs?: number;
  /**
   * When the first warm-up training step takes longer than this, nothing is
   * timed: the result is skipped, with the warm-up step's time and the time
   * the timed runs would have taken at that speed.
   */
  maxStepMs?: number;
}

/** Milliseconds per kernel name over one profiled call, largest first. */
export type KernelProfile = Array<[name: string, ms: number]>;

export interface ModelBenchResult {
  model: BenchModelName;
  /** csp-cae only. */
  preset?: CspCaePreset;
  /** Side of the square input in px (300 for CISH, 100 for the CSP-CAE, 224 for Mobincep, 382 for OrgaNet). */
  inputSize: number;
  /** model.countParams() of the trained network (tfjs counts batch norm's moving statistics and t too). */
  parameters: number;
  backend: string;
  reason: string;
  /** False for software GPU adapters and renderers (SwiftShader, llvmpipe). */
  hardware: boolean;
  batch: number;
  trainStepMs: number[];
  /** Tiles encoded by one timed inference run (with copies: one batch per copy). */
  inferenceTiles: number;
  /** Empty when inference was not timed (see inferenceNote). */
  inferenceBatchMs: number[];
  inferenceNote?: string;
  forwardFlopsPerTile: number;
  /** Tensors alive before and after the timed work: equal means nothing leaked. */
  tensorsBefore: number;
  tensorsAfter: number;
  /**
   * wasm only: size of the wasm heap after the timed work. The heap only
   * grows, so this is its high-water mark (wasm32 caps it at 4 GiB).
   */
  wasmHeapBytes?: number;
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

/** What a timed configuration needs from a model: one training step, one inference batch, and cleanup. */
interface PreparedModel {
  trainStep: () => Promise<void>;
  /** Null when inference cannot be timed in this configuration. */
  inferenceBatch: (() => Promise<void>) | null;
  inferenceNote?: string;
  /** Tiles per call of inferenceBatch. */
  inferenceTiles: number;
  forwardFlopsPerTile: number;
  inputSize: number;
  parameters: number;
  release: () => Promise<void>;
}

/** Loss minimised by one plain (single-copy) step, read back so the time includes the work. */
async function singleStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, variables: tf.Variable[]): Promise<void> {
  const value = tf.tidy(() => optimizer.minimize(loss, true, variables)!);
  await value.data();
  value.dispose();
}

async function prepareCish(config: ModelBenchConfig, peers: ReplicaPeer[]): Promise<PreparedModel> {
  const models = buildCishAutoencoder({ seed: 1 });
  const encode = cishEncodeFunction(models.encoder); // what the app encodes with
  const optimizer = tf.train.adam(CISH_DEFAULTS.learningRate, 0.9, 0.999, CISH_DEFAULTS.adamEpsilon);
  const loss = cishLoss('mse');
  const x = tf.randomUniform([config.batch, CISH_DEFAULTS.inputSize, CISH_DEFAULTS.inputSize, 1], 0, 1, 'float32', 7);
  const encodeBatch = config.inferenceBatch ?? config.batch;
  const xEncode = tf.randomUniform([encodeBatch, CISH_DEFAULTS.inputSize, CISH_DEFAULTS.inputSize, 1], 0, 1, 'float32', 8);
  await loadCishPeers(peers, models, optimizer, 'mse');
  await syncPeers(peers, models.autoencoder, optimizer);
  const lossOf = (batch: Batch) => loss(batch.xs, models.autoencoder.apply(batch.xs, { training: true }) as tf.Tensor);
  const variables = trainableVariables(models.autoencoder);
  return {
    trainStep: async () => {
      if (peers.length > 0) await dataParallelStep({ xs: x }, lossOf, optimizer, variables, peers);
      else await singleStep(optimizer, () => lossOf({ xs: x }), variables);
    },
    // As the app encodes a slide: with copies, whole batches go round, one to each copy.
    inferenceBatch: async () => {
      if (peers.length > 0) {
        await encodeAll(encode, Array.from({ length: peers.length + 1 }, () => tf.clone(xEncode)), { peers });
        return;
      }
      const codes = tf.tidy(() => encode(xEncode));
      await codes.data();
      codes.dispose();
    },
    inferenceTiles: encodeBatch * (peers.length + 1),
    forwardFlopsPerTile: cishForwardFlops(),
    inputSize: CISH_DEFAULTS.inputSize,
    parameters: models.autoencoder.countParams(),
    release: async () => {
      tf.dispose([x, xEncode]);
      optimizer.dispose();
      for (const variable of models.autoencoder.weights) variable.dispose();
    },
  };
}

async function prepareCspCae(config: ModelBenchConfig, peers: ReplicaPeer[]): Promise<PreparedModel> {
  const preset = config.preset ?? NUCLEI_DEFAULTS.preset;
  const inputSize = NUCLEI_DEFAULTS.patchSize;
  const models = buildCspCae({ preset, inputSize, seed: 1 });
  // The seed's optimizer, as trainCspCae builds it.
  const optimizer = tf.train.momentum(NUCLEI_DEFAULTS.learningRate, NUCLEI_DEFAULTS.momentum);
  const x = tf.randomUniform([config.batch, inputSize, inputSize, 3], 0, 1, 'float32', 7);
  if (peers.length > 0) {
    const spec = { artifacts: await modelArtifacts(models.autoencoder), optimizer: optimizerSpec(optimizer), adapter: 'csp-cae' };
    await Promise.all(peers.map((peer) => peer.load(spec)));
    await syncPeers(peers, models.autoencoder, optimizer);
  }
  // Training mode updates batch norm's moving statistics and the threshold t, as in the app.
  const lossOf = (batch: Batch) => rootMeanSquaredError(batch.xs, models.autoencoder.apply(batch.xs, { training: true }) as tf.Tensor);
  const variables = trainableVariables(models.autoencoder);
  const inferenceBatch = async () => {
    const [detection, lastValue] = tf.tidy(() => {
      const [d, , , , reconstruction] = models.inspector.apply(x, { training: false }) as tf.Tensor[];
      // One value of the reconstruction, the last output made: on GPU backends, reading it waits for the decoders too.
      return [d, tf.slice(reconstruction, [0, 0, 0, 0], [1, 1, 1, 1])];
    });
    await detection.data();
    await lastValue.data();
    tf.dispose([detection, lastValue]);
  };
  return {
    trainStep: async () => {
      if (peers.length > 0) await dataParallelStep({ xs: x }, lossOf, optimizer, variables, peers);
      else await singleStep(optimizer, () => lossOf({ xs: x }), variables);
    },
    // The copies' adapter has no encoder for this model: inference in several workers does not exist in the app.
    inferenceBatch: peers.length > 0 ? null : inferenceBatch,
    inferenceNote: peers.length > 0 ? 'the copies share training only (the app runs detection in one worker)' : undefined,
    inferenceTiles: config.batch,
    forwardFlopsPerTile: cspCaeForwardFlops(preset, inputSize),
    inputSize,
    parameters: models.autoencoder.countParams(),
    release: async () => {
      x.dispose();
      disposeOptimizer(optimizer);
      disposeCspCae(models);
    },
  };
}

/** Default class count of the classifier rows (any count ≥ 2 costs nearly the same). */
const BENCH_CLASSES = 3;

/**
 * Mobincep or OrgaNet at the paper's input and full width, trained as the app
 * trains it (models/classifier/pipeline.ts: the network's loss and optimiser,
 * one minimize over the trainable weights) on random images whose labels
 * cycle through the classes, so every class the batch can hold is present
 * (the centroid terms are then live). Inference: softmax of the classifier's
 * logits in inference mode, read back.
 */
async function prepareClassifier(config: ModelBenchConfig, net: 'mobincep' | 'organet'): Promise<PreparedModel> {
  const classes = config.classes ?? BENCH_CLASSES;
  const mobincep = net === 'mobincep';
  const inputSize = mobincep ? MOBINCEP_DEFAULTS.inputSize : ORGANET_DEFAULTS.inputSize;
  const channels = mobincep ? MOBINCEP_DEFAULTS.channels : ORGANET_DEFAULTS.inputChannels;
  const model = mobincep ? buildMobincep({ classes, seed: 1 }) : buildOrganet({ classes, seed: 1 });
  const optimizer = mobincep ? createMobincepOptimizer() : createOrganetOptimizer();
  const computeLoss = mobincep ? mobincepTrainingLoss(model) : organetTrainingLoss(model, { seed: 1 });
  const inferenceTiles = config.inferenceBatch ?? config.batch;
  const batch: Batch = {
    xs: tf.randomUniform([config.batch, inputSize, inputSize, channels], 0, 1, 'float32', 7),
    ys: tf.tensor1d(Array.from({ length: config.batch }, (_, i) => i % classes), 'int32'),
  };
  const xInfer = tf.randomUniform([inferenceTiles, inputSize, inputSize, channels], 0, 1, 'float32', 8);
  const variables = trainableVariables(model);
  const forwardFlopsPerTile = mobincep
    ? mobincepForwardFlops({ inputSize, channels, classes, width: 1 })
    : organetForwardFlops({
        inputSize,
        inputChannels: channels,
        adaptedSize: ORGANET_DEFAULTS.adaptedSize,
        latentDim: ORGANET_DEFAULTS.latentDim,
        classes,
        width: 1,
      });
  return {
    trainStep: () => singleStep(optimizer, () => computeLoss(batch, true), variables),
    inferenceBatch: async () => {
      const probabilities = tf.tidy(() => tf.softmax(model.apply(xInfer, { training: false }) as tf.Tensor2D));
      await probabilities.data();
      probabilities.dispose();
    },
    inferenceTiles,
    forwardFlopsPerTile,
    inputSize,
    parameters: model.countParams(),
    release: async () => {
      tf.dispose([batch.xs, batch.ys!, xInfer]);
      disposeOptimizer(optimizer);
      disposeModelWeights(model);
    },
  };
}

function trainableVariables(model: LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Forward FLOPs per patch and countParams() of each CSP-CAE preset (built on the CPU backend, never trained). */
export type CspCaeCosts = Partial<Record<CspCaePreset, { width: number; forwardFlopsPerPatch: number; parameters: number }>>;

const api = {
  async cspCaeCosts(presets: CspCaePreset[]): Promise<CspCaeCosts> {
    await initBackend({ override: 'cpu' });
    const costs: CspCaeCosts = {};
    for (const preset of presets) {
      const models = buildCspCae({ preset, inputSize: NUCLEI_DEFAULTS.patchSize });
      costs[preset] = {
        width: CSP_CAE_PRESETS[preset].width,
        forwardFlopsPerPatch: cspCaeForwardFlops(preset, NUCLEI_DEFAULTS.patchSize),
        parameters: models.autoencoder.countParams(),
      };
      disposeCspCae(models);
    }
    return costs;
  },

  async run(config: ModelBenchConfig): Promise<ModelBenchResult | { skipped: string }> {
    const modelName = config.model ?? 'cish';
    const choice = await initBackend({ override: config.backend, wasmThreads: config.wasmThreads });
    if (choice.backend !== config.backend) return { skipped: `${config.backend} unavailable: ${choice.reason}` };
    if (choice.adapterInfo && isSoftwareAdapter(choice.adapterInfo)) {
      // The app never picks it (see engine/backend.ts); a batch would take minutes.
      return { skipped: `software WebGPU adapter (${[choice.adapterInfo.vendor, choice.adapterInfo.architecture].filter(Boolean).join(' / ')}), which the app skips` };
    }
    const classifier = CLASSIFIERS.includes(modelName);
    if (classifier && (config.copies ?? 1) > 1) return { skipped: `${modelName} is timed in one worker only (no data-parallel copies)` };
    const renderer = choice.adapterInfo ? null : await webglRenderer(config.backend);
    const hardware = choice.adapterInfo ? !isSoftwareAdapter(choice.adapterInfo) : renderer === null || !/swiftshader|llvmpipe|software/i.test(renderer);
    const peers = (config.copies ?? 1) > 1 ? await startReplicaWorkers(config.copies! - 1, config.backend, config.wasmThreads) : [];
    if (peers.length !== (config.copies ?? 1) - 1) return { skipped: `${config.copies} data-parallel copies could not start` };
    const model =
      modelName === 'csp-cae'
        ? await prepareCspCae(config, peers)
        : classifier
          ? await prepareClassifier(config, modelName as 'mobincep' | 'organet')
          : await prepareCish(config, peers);
    const inferenceBatch = model.inferenceBatch;
    for (let i = 0; i < config.warmup; i++) {
      const stepMs = await time(model.trainStep);
      if (i === 0 && config.maxStepMs !== undefined && stepMs > config.maxStepMs) {
        await Promise.all(peers.map((peer) => peer.release()));
        await model.release();
        const projectedS = (stepMs * config.trainSteps) / 1000;
        return {
          skipped:
            `the warm-up training step took ${(stepMs / 1000).toFixed(1)} s (limit ${(config.maxStepMs / 1000).toFixed(0)} s); ` +
            `${config.trainSteps} timed steps would take about ${projectedS.toFixed(0)} s more`,
        };
      }
      if (inferenceBatch) await inferenceBatch();
    }
    const tensorsBefore = tf.memory().numTensors;
    const trainStepMs: number[] = [];
    for (let i = 0; i < config.trainSteps; i++) trainStepMs.push(await time(model.trainStep));
    const inferenceBatchMs: number[] = [];
    if (inferenceBatch) for (let i = 0; i < config.inferenceBatches; i++) inferenceBatchMs.push(await time(inferenceBatch));
    const tensorsAfter = tf.memory().numTensors;
    const wasmHeapBytes = tf.getBackend() === 'wasm' ? ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length : undefined;
    const profile = config.profile
      ? { inference: inferenceBatch ? await profileKernels(inferenceBatch) : [], training: await profileKernels(model.trainStep) }
      : undefined;
    await Promise.all(peers.map((peer) => peer.release()));
    await model.release();
    return {
      model: modelName,
      preset: modelName === 'csp-cae' ? (config.preset ?? NUCLEI_DEFAULTS.preset) : undefined,
      inputSize: model.inputSize,
      parameters: model.parameters,
      backend: config.backend === 'wasm' ? `wasm ×${config.wasmThreads ?? 1}${peers.length > 0 ? ` in ${peers.length + 1} workers` : ''}` : config.backend,
      reason: renderer ? `${choice.reason} (${renderer})` : choice.reason,
      hardware,
      batch: config.batch,
      trainStepMs,
      inferenceBatchMs,
      inferenceTiles: model.inferenceTiles,
      inferenceNote: model.inferenceNote,
      forwardFlopsPerTile: model.forwardFlopsPerTile,
      tensorsBefore,
      tensorsAfter,
      wasmHeapBytes,
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
