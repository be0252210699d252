import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfl from '@tensorflow/tfjs-layers';
import type { io } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Batch } from './train';

/**
 * Data-parallel training and encoding over copies of one model, each in its
 * own worker ("peers" of the model worker, which keeps the master copy).
 *
 * Why: the wasm backend's own threads help little with these small-channel
 * convs (XNNPACK's pool spins while the project's single-threaded SIMD
 * kernels run), but separate workers share nothing and scale with cores:
 * two single-threaded copies on 2 cores train a CISH step of 32 tiles in
 * about half the time of one (bench/RESULTS.md).
 *
 * A step splits the batch by rows; every copy computes the gradient of the
 * mean loss over its rows; the model worker averages them, weighted by rows,
 * which is exactly the full batch's gradient, and every copy applies that
 * average with its own optimizer. Copies start from the same weights and
 * optimizer state (`syncPeers`) and run the same kernels, so they stay
 * identical without exchanging weights again.
 */

/** A tensor as plain data, for messages between workers. */
export interface TensorData {
  data: Float32Array;
  shape: number[];
}

export interface ShardData {
  xs: TensorData;
  /** Targets; absent for autoencoders (target = input). */
  ys?: TensorData;
}

/** Weights of the model (getWeights order) and the optimizer's state (getWeights order). */
export interface ReplicaState {
  weights: TensorData[];
  optimizer: Array<TensorData & { name: string }>;
}

/** How a peer builds its copy: the model in TF.js artifacts form, the optimizer by class name and config. */
export interface ReplicaSpec {
  artifacts: io.ModelArtifacts;
  optimizer: { className: string; config: tf.serialization.ConfigDict };
  /** Which model adapter computes the loss and encodes (see src/models/replica-adapters.ts). */
  adapter: string;
  /** Adapter options, e.g. the loss name. */
  options?: Record<string, string | number | boolean>;
}

/** What the model worker asks of a peer; a Comlink proxy of a `Replica` satisfies it. */
export interface ReplicaPeer {
  load(spec: ReplicaSpec): Promise<void>;
  sync(state: ReplicaState): Promise<void>;
  gradients(shard: ShardData): Promise<{ loss: number; grads: Float32Array[] }>;
  apply(grads: Float32Array[]): Promise<void>;
  encode(xs: TensorData): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Model-specific parts a copy needs: its loss, and how it encodes. */
export interface ReplicaAdapter {
  lossOf(model: LayersModel, batch: Batch): tf.Scalar;
  encoder?(model: LayersModel): (xs: tf.Tensor) => tf.Tensor;
}

export function toData(t: tf.Tensor): TensorData {
  return { data: t.dataSync().slice() as Float32Array, shape: [...t.shape] };
}

function fromData(d: TensorData): tf.Tensor {
  return tf.tensor(d.data, d.shape, 'float32');
}

/** The model as TF.js artifacts (topology + weights), for `ReplicaSpec`. */
export async function modelArtifacts(model: LayersModel): Promise<io.ModelArtifacts> {
  let captured: io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (captured === null) throw new Error('the model could not be serialised for its copies');
  return captured;
}

export function optimizerSpec(optimizer: tf.Optimizer): ReplicaSpec['optimizer'] {
  return { className: optimizer.getClassName(), config: optimizer.getConfig() };
}

function makeOptimizer(spec: ReplicaSpec['optimizer']): tf.Optimizer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (!entry) throw new Error(`optimizer ${spec.className} is not known to the copy`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, spec.config) as tf.Optimizer;
}

/** The current weights and optimizer state of the master copy. */
export async function replicaState(model: LayersModel, optimizer?: tf.Optimizer): Promise<ReplicaState> {
  const weights = model.getWeights().map(toData);
  const named = optimizer ? await optimizer.getWeights() : [];
  const state = { weights, optimizer: named.map((w) => ({ name: w.name, ...toData(w.tensor) })) };
  // The first entry is the iteration count, made as a new scalar; the rest are the optimizer's own variables.
  if (named.length > 0) named[0].tensor.dispose();
  return state;
}

/** Gives every peer the master copy's weights and optimizer state. */
export async function syncPeers(peers: readonly ReplicaPeer[], model: LayersModel, optimizer?: tf.Optimizer): Promise<void> {
  if (peers.length === 0) return;
  const state = await replicaState(model, optimizer);
  await Promise.all(peers.map((peer) => peer.sync(state)));
}

/** Row ranges [start, end) splitting `rows` as evenly as possible into `parts` (empty ranges dropped). */
export function splitRows(rows: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = 0; p < parts; p++) {
    const start = Math.round((p * rows) / parts);
    const end = Math.round(((p + 1) * rows) / parts);
    if (end > start) out.push([start, end]);
  }
  return out;
}

function rowsOf(t: tf.Tensor, start: number, end: number): TensorData {
  const part = tf.tidy(() => tf.slice(t, start, end - start));
  const data = toData(part);
  part.dispose();
  return data;
}

/**
 * One training step over the master copy (the first rows) and the peers
 * (the other rows): returns the batch's mean loss after every copy applied
 * the averaged gradient. `variables` must be the model's trainable weights in
 * order, which is the order peers report gradients in.
 */
export async function dataParallelStep(
  batch: Batch,
  lossOf: (batch: Batch, training: boolean) => tf.Scalar,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  peers: readonly ReplicaPeer[],
): Promise<number> {
  const rows = batch.xs.shape[0] ?? 1;
  const ranges = splitRows(rows, peers.length + 1);
  const [localRange, ...peerRanges] = ranges;
  // Peers start first, so they work while this thread computes its share.
  const remote = peerRanges.map(([start, end], i) =>
    peers[i].gradients({
      xs: rowsOf(batch.xs, start, end),
      ys: batch.ys !== undefined && batch.ys !== batch.xs ? rowsOf(batch.ys, start, end) : undefined,
    }),
  );
  const [start, end] = localRange;
  const local = tf.tidy(() => {
    const xs = tf.slice(batch.xs, start, end - start);
    const ys = batch.ys !== undefined && batch.ys !== batch.xs ? tf.slice(batch.ys, start, end - start) : undefined;
    const { value, grads } = tf.variableGrads(() => lossOf({ xs, ys }, true), variables);
    return { value, grads: variables.map((v) => grads[v.name]) };
  });
  const localLoss = (await local.value.data())[0];
  const averaged = local.grads.map((g) => {
    const values = g.dataSync().slice() as Float32Array;
    const w = (end - start) / rows;
    for (let k = 0; k < values.length; k++) values[k] *= w;
    return values;
  });
  tf.dispose([local.value, ...local.grads]);
  let loss = localLoss * ((end - start) / rows);
  const results = await Promise.all(remote);
  results.forEach((result, i) => {
    const [s, e] = peerRanges[i];
    const w = (e - s) / rows;
    loss += result.loss * w;
    result.grads.forEach((g, k) => {
      const target = averaged[k];
      if (g.length !== target.length) throw new Error(`a copy sent ${g.length} gradient values for weight ${k}, expected ${target.length}`);
      for (let j = 0; j < g.length; j++) target[j] += g[j] * w;
    });
  });
  const applied = peers.slice(0, peerRanges.length).map((peer) => peer.apply(averaged.map((g) => g.slice())));
  // Peers with no rows this step (a batch smaller than the copies) still apply the update.
  const idle = peers.slice(peerRanges.length).map((peer) => peer.apply(averaged.map((g) => g.slice())));
  tf.tidy(() => {
    const named: tf.NamedTensorMap = {};
    variables.forEach((v, k) => (named[v.name] = tf.tensor(averaged[k], v.shape, 'float32')));
    optimizer.applyGradients(named);
  });
  await Promise.all([...applied, ...idle]);
  return loss;
}

/**
 * A copy of a model in a peer worker. Plain TypeScript: the worker only
 * exposes it, and tests run copies in-process.
 */
export class Replica implements ReplicaPeer {
  private model: LayersModel | null = null;
  private optimizer: tf.Optimizer | null = null;
  private adapter: ReplicaAdapter | null = null;
  private encodeFn: ((xs: tf.Tensor) => tf.Tensor) | null = null;

  constructor(private readonly adapters: (name: string, options: ReplicaSpec['options']) => ReplicaAdapter) {}

  async load(spec: ReplicaSpec): Promise<void> {
    await this.release();
    this.model = await tfl.loadLayersModel(tf.io.fromMemory(spec.artifacts));
    this.optimizer = makeOptimizer(spec.optimizer);
    this.adapter = this.adapters(spec.adapter, spec.options);
    this.encodeFn = this.adapter.encoder?.(this.model) ?? null;
  }

  private loaded(): { model: LayersModel; optimizer: tf.Optimizer; adapter: ReplicaAdapter } {
    if (!this.model || !this.optimizer || !this.adapter) throw new Error('this model copy has not been loaded');
    return { model: this.model, optimizer: this.optimizer, adapter: this.adapter };
  }

  private variables(): tf.Variable[] {
    return this.loaded().model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  async sync(state: ReplicaState): Promise<void> {
    const { model, optimizer } = this.loaded();
    const weights = state.weights.map(fromData);
    model.setWeights(weights);
    tf.dispose(weights);
    // The optimizer makes variables of these (sharing their data), so they can go after.
    const named = state.optimizer.map((w) => ({ name: w.name, tensor: fromData(w) }));
    await optimizer.setWeights(named);
    tf.dispose(named.map((w) => w.tensor));
  }

  async gradients(shard: ShardData): Promise<{ loss: number; grads: Float32Array[] }> {
    const { model, adapter } = this.loaded();
    const variables = this.variables();
    const result = tf.tidy(() => {
      const xs = fromData(shard.xs);
      const ys = shard.ys ? fromData(shard.ys) : undefined;
      const { value, grads } = tf.variableGrads(() => adapter.lossOf(model, { xs, ys }), variables);
      return { value, grads: variables.map((v) => grads[v.name]) };
    });
    const loss = (await result.value.data())[0];
    const grads = result.grads.map((g) => g.dataSync().slice() as Float32Array);
    tf.dispose([result.value, ...result.grads]);
    return { loss, grads };
  }

  async apply(grads: Float32Array[]): Promise<void> {
    const { optimizer } = this.loaded();
    const variables = this.variables();
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      variables.forEach((v, k) => (named[v.name] = tf.tensor(grads[k], v.shape, 'float32')));
      optimizer.applyGradients(named);
    });
  }

  async encode(xs: TensorData): Promise<Float32Array> {
    if (!this.encodeFn) throw new Error('this model copy has no encoder');
    const encode = this.encodeFn;
    const codes = tf.tidy(() => encode(fromData(xs)));
    const values = (await codes.data()) as Float32Array;
    codes.dispose();
    return values;
  }

  /** Frees the copy's weights and optimizer state. */
  async release(): Promise<void> {
    // The adapter's encoder may share the model's layers, which LayersModel.dispose()
    // would count per model; the copy owns every weight, so free them directly.
    for (const variable of this.model?.weights ?? []) variable.dispose();
    this.optimizer?.dispose();
    this.model = null;
    this.optimizer = null;
    this.adapter = null;
    this.encodeFn = null;
  }

  /** Current weights (tests compare copies with the master). */
  weightsForTest(): Float32Array[] {
    return this.loaded().model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  }
}
