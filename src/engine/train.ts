import * as tf from '@tensorflow/tfjs-core';
// Gradient functions are not registered by the tfjs-core entry point itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { dataParallelStep, syncPeers, toData, type ReplicaPeer } from './data-parallel';

/**
 * The one training loop every model uses: batches in, progress out,
 * checkpoints at epoch ends, early stopping, pause/resume and cancellation.
 * It knows nothing about workers or UI; a worker wraps it in a job.
 */

/** One batch. `ys` defaults to `xs` (autoencoders). The loop disposes both after use. */
export interface Batch {
  xs: tf.Tensor;
  ys?: tf.Tensor;
}

/** Random-access batches: the loop asks for step `step` of epoch `epoch`. */
export interface BatchProvider {
  stepsPerEpoch: number;
  getBatch(epoch: number, step: number, signal?: AbortSignal): Promise<Batch> | Batch;
}

/** Either a provider or a factory giving a fresh (async) iterable of batches per epoch. */
export type BatchSource =
  | BatchProvider
  | ((epoch: number) => AsyncIterable<Batch> | Iterable<Batch>);

export interface TrainProgress {
  /** 0-based epoch. */
  epoch: number;
  /** 1-based step within the epoch (steps done so far). */
  step: number;
  /** Known for providers; for iterables, known after the first epoch (null before). */
  stepsPerEpoch: number | null;
  /** Loss of this step. */
  loss: number;
  /** Validation loss of the last finished epoch, if any. */
  valLoss: number | null;
  /** Seconds left for the whole run, null while unknown. */
  etaSeconds: number | null;
  samplesPerSecond: number;
}

export interface EpochSummary {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  valLoss: number | null;
  seconds: number;
}

export type StopReason = 'completed' | 'early-stopped' | 'cancelled';

export interface TrainResult {
  status: StopReason;
  epochsRun: number;
  history: EpochSummary[];
  /** Epoch with the best monitored loss (validation loss when available). */
  bestEpoch: number | null;
  bestLoss: number | null;
}

export interface EarlyStopping {
  /** Stop after this many consecutive epochs without improvement (as in Keras). */
  patience: number;
  /** Smallest decrease of the monitored loss that counts as improvement. */
  minDelta?: number;
  /**
   * Patience starts counting only once the monitored loss has gone below
   * this value (e.g. a classifier's loss when it predicts just the class
   * priors): a network trained from scratch can sit at chance for many
   * epochs before it starts to learn, and stopping it there keeps a model
   * that learned nothing. Unset: counting starts at the first epoch.
   */
  waitBelow?: number;
  /** Put back the weights of the best epoch when stopping early. */
  restoreBestWeights?: boolean;
  /**
   * Also put them back when the run ends otherwise (all epochs done, or
   * `stopAfterEpoch` said stop), so the model is always the best epoch's.
   * Needs `restoreBestWeights`. Default false (Keras's behaviour).
   */
  restoreOnCompletion?: boolean;
}

export interface TrainOptions {
  model: LayersModel;
  optimizer: tf.Optimizer;
  /** (target, prediction) → scalar. Ignored when `computeLoss` is given. */
  loss?: (target: tf.Tensor, prediction: tf.Tensor) => tf.Scalar;
  /** Custom forward + loss for models that need more than predict-and-compare. */
  computeLoss?: (batch: Batch, training: boolean) => tf.Scalar;
  batches: BatchSource;
  epochs: number;
  /** Batches read ahead of the training step (iterables and providers). Default 2. */
  prefetch?: number;
  validation?: BatchSource;
  /** What is measured on the validation batches (and early stopping watches); default the training loss. */
  validationLoss?: (batch: Batch) => tf.Scalar;
  earlyStopping?: EarlyStopping;
  onProgress?: (p: TrainProgress) => void;
  /** Awaited after every epoch: save a checkpoint here. */
  onEpochEnd?: (summary: EpochSummary, model: LayersModel) => void | Promise<void>;
  /**
   * Asked after every epoch (after early stopping's bookkeeping): true ends
   * the run there with status 'completed', e.g. at a time cap. The caller
   * knows why it said so.
   */
  stopAfterEpoch?: (summary: EpochSummary) => boolean;
  signal?: AbortSignal;
  control?: TrainingControl;
  /** Variables to train; default: the model's trainable weights. */
  variables?: tf.Variable[];
  /**
   * Copies of the model in other workers that share each step's batch
   * (data-parallel; see data-parallel.ts). They are loaded by the caller and
   * synchronised with the model and optimizer here, before the first step.
   */
  peers?: readonly ReplicaPeer[];
}

/** Pause/resume switch shared between the caller and a running loop. */
export class TrainingControl {
  private pausedFlag = false;
  private waiters: Array<() => void> = [];

  get paused(): boolean {
    return this.pausedFlag;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at once when running; otherwise on resume or abort. */
  waitWhilePaused(signal?: AbortSignal): Promise<void> {
    if (!this.pausedFlag || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.push(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

/**
 * Lets queued messages (pause, cancel) run between steps: a macrotask, not a
 * microtask. MessageChannel avoids the 4 ms clamp of nested setTimeout in browsers.
 */
let yieldChannel: MessageChannel | null = null;
const yieldQueue: Array<() => void> = [];
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    if (yieldChannel === null) {
      yieldChannel = new MessageChannel();
      yieldChannel.port1.onmessage = () => yieldQueue.shift()?.();
    }
    const channel = yieldChannel;
    return new Promise((r) => {
      yieldQueue.push(r);
      channel.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

function isProvider(source: BatchSource): source is BatchProvider {
  return typeof source === 'object' && source !== null && 'getBatch' in source;
}

function disposeBatch(batch: Batch): void {
  batch.xs.dispose();
  if (batch.ys !== undefined && batch.ys !== batch.xs) batch.ys.dispose();
}

/**
 * Batches of one epoch, read up to `depth` ahead. `close()` disposes batches
 * fetched but not consumed (after cancel or early stop).
 */
class EpochReader {
  private readonly pending: Array<Promise<IteratorResult<Batch>>> = [];
  private readonly iterator: AsyncIterator<Batch> | Iterator<Batch> | null;
  private step = 0;
  private done = false;

  constructor(
    private readonly source: BatchSource,
    private readonly epoch: number,
    private readonly depth: number,
    private readonly signal?: AbortSignal,
  ) {
    if (isProvider(source)) {
      this.iterator = null;
    } else {
      const iterable = source(epoch);
      this.iterator =
        Symbol.asyncIterator in iterable
          ? (iterable as AsyncIterable<Batch>)[Symbol.asyncIterator]()
          : (iterable as Iterable<Batch>)[Symbol.iterator]();
    }
  }

  private fetchOne(): Promise<IteratorResult<Batch>> {
    if (this.iterator !== null) return Promise.resolve(this.iterator.next());
    const provider = this.source as BatchProvider;
    if (this.step >= provider.stepsPerEpoch) return Promise.resolve({ done: true, value: undefined });
    const step = this.step++;
    return Promise.resolve(provider.getBatch(this.epoch, step, this.signal)).then((value) => ({
      done: false,
      value,
    }));
  }

  private fill(): void {
    while (!this.done && this.pending.length < Math.max(1, this.depth)) {
      this.pending.push(this.fetchOne());
      // A provider knows its length: stop queueing past the end.
      if (this.iterator === null && this.step >= (this.source as BatchProvider).stepsPerEpoch) break;
    }
  }

  async next(): Promise<Batch | null> {
    this.fill();
    const head = this.pending.shift();
    if (head === undefined) return null;
    const result = await head;
    if (result.done) {
      this.done = true;
      await this.close();
      return null;
    }
    this.fill();
    return result.value;
  }

  async close(): Promise<void> {
    this.done = true;
    const rest = this.pending.splice(0);
    for (const p of rest) {
      try {
        const r = await p;
        if (!r.done && r.value) disposeBatch(r.value);
      } catch {
        // The source failed on a batch nobody will use.
      }
    }
    if (this.iterator !== null && typeof this.iterator.return === 'function') {
      await this.iterator.return();
    }
  }
}

function batchSize(batch: Batch): number {
  return batch.xs.shape[0] ?? 1;
}

function modelVariables(model: LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Mean loss over a validation source, without gradients. */
export async function evaluateLoss(
  lossOf: (batch: Batch, training: boolean) => tf.Scalar,
  source: BatchSource,
  epoch = 0,
  signal?: AbortSignal,
): Promise<number> {
  const reader = new EpochReader(source, epoch, 1, signal);
  let total = 0;
  let samples = 0;
  for (;;) {
    if (signal?.aborted) break;
    const batch = await reader.next();
    if (batch === null) break;
    const value = tf.tidy(() => lossOf(batch, false));
    const n = batchSize(batch);
    disposeBatch(batch);
    total += (await value.data())[0] * n;
    samples += n;
    value.dispose();
  }
  await reader.close();
  return samples > 0 ? total / samples : NaN;
}

export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { model, optimizer, epochs, signal, control } = options;
  const lossOf =
    options.computeLoss ??
    ((batch: Batch, training: boolean): tf.Scalar => {
      if (options.loss === undefined) throw new Error('trainModel needs `loss` or `computeLoss`');
      const prediction = model.apply(batch.xs, { training }) as tf.Tensor;
      return options.loss(batch.ys ?? batch.xs, prediction);
    });
  const variables = options.variables ?? modelVariables(model);
  const peers = options.peers ?? [];
  if (peers.length > 0 && options.variables !== undefined) throw new Error('data-parallel training trains all of the model\'s weights');
  await syncPeers(peers, model, optimizer);
  const prefetch = options.prefetch ?? 2;
  const history: EpochSummary[] = [];
  const stopping = options.earlyStopping;
  const minDelta = stopping?.minDelta ?? 0;
  let bestLoss: number | null = null;
  let bestEpoch: number | null = null;
  let bestWeights: tf.Tensor[] | null = null;
  let epochsWithoutImprovement = 0;
  let patienceStarted = stopping?.waitBelow === undefined;
  let stepsPerEpoch: number | null = isProvider(options.batches) ? options.batches.stepsPerEpoch : null;
  let lastValLoss: number | null = null;
  let status: StopReason = 'completed';
  // Exponential average of seconds per step, for the ETA and throughput.
  let secondsPerStep: number | null = null;
  let secondsPerSample: number | null = null;

  const forgetBestWeights = () => {
    if (bestWeights !== null) tf.dispose(bestWeights);
    bestWeights = null;
  };

  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (signal?.aborted) {
        status = 'cancelled';
        break;
      }
      const epochStart = performance.now();
      const reader = new EpochReader(options.batches, epoch, prefetch, signal);
      let step = 0;
      let lossSum = 0;
      let sampleCount = 0;
      try {
        for (;;) {
          await control?.waitWhilePaused(signal);
          if (signal?.aborted) {
            status = 'cancelled';
            break;
          }
          const batch = await reader.next();
          if (batch === null) break;
          const stepStart = performance.now();
          const n = batchSize(batch);
          let lossValue: number;
          try {
            if (peers.length > 0) {
              lossValue = await dataParallelStep(batch, lossOf, optimizer, variables, peers);
            } else {
              const lossTensor = tf.tidy(
                () => optimizer.minimize(() => lossOf(batch, true), true, variables) as tf.Scalar,
              );
              lossValue = (await lossTensor.data())[0];
              lossTensor.dispose();
            }
          } finally {
            disposeBatch(batch);
          }
          step++;
          lossSum += lossValue * n;
          sampleCount += n;
          const stepSeconds = (performance.now() - stepStart) / 1000;
          secondsPerStep = secondsPerStep === null ? stepSeconds : 0.8 * secondsPerStep + 0.2 * stepSeconds;
          const perSample = stepSeconds / n;
          secondsPerSample = secondsPerSample === null ? perSample : 0.8 * secondsPerSample + 0.2 * perSample;
          const remainingSteps =
            stepsPerEpoch === null ? null : (epochs - epoch - 1) * stepsPerEpoch + Math.max(0, stepsPerEpoch - step);
          options.onProgress?.({
            epoch,
            step,
            stepsPerEpoch,
            loss: lossValue,
            valLoss: lastValLoss,
            etaSeconds: remainingSteps === null ? null : remainingSteps * secondsPerStep,
            samplesPerSecond: 1 / secondsPerSample,
          });
          await yieldToEventLoop();
        }
      } finally {
        await reader.close();
      }
      if (status === 'cancelled') break;
      if (step === 0) throw new Error(`epoch ${epoch} produced no batches`);
      stepsPerEpoch ??= step;

      const trainLoss = lossSum / sampleCount;
      lastValLoss =
        options.validation === undefined ? null : await evaluateLoss(options.validationLoss ?? lossOf, options.validation, epoch, signal);
      const summary: EpochSummary = {
        epoch,
        loss: trainLoss,
        valLoss: lastValLoss,
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(summary);
      const monitored = lastValLoss ?? trainLoss;
      patienceStarted ||= stopping?.waitBelow !== undefined && monitored < stopping.waitBelow;
      if (bestLoss === null || monitored < bestLoss - minDelta) {
        bestLoss = monitored;
        bestEpoch = epoch;
        epochsWithoutImprovement = 0;
        if (stopping?.restoreBestWeights) {
          forgetBestWeights();
          // Every weight, batch norm's moving statistics included: they belong to the best epoch too.
          bestWeights = model.weights.map((w) => tf.clone(w.read()));
        }
      } else if (patienceStarted) {
        epochsWithoutImprovement++;
      }
      await options.onEpochEnd?.(summary, model);
      if (stopping !== undefined && epochsWithoutImprovement >= Math.max(1, stopping.patience)) {
        status = 'early-stopped';
        if (stopping.restoreBestWeights && bestWeights !== null) {
          const saved: tf.Tensor[] = bestWeights;
          model.weights.forEach((w, i) => w.write(saved[i]));
        }
        break;
      }
      if (options.stopAfterEpoch?.(summary)) break;
    }
    if (status === 'completed' && stopping?.restoreBestWeights && stopping.restoreOnCompletion && bestWeights !== null) {
      const saved: tf.Tensor[] = bestWeights;
      model.weights.forEach((w, i) => w.write(saved[i]));
    }
  } finally {
    forgetBestWeights();
  }
  return { status, epochsRun: history.length, history, bestEpoch, bestLoss };
}

export interface EncodeOptions {
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
  /** Copies of the model in other workers, given the current weights by the caller (`syncPeers`). */
  peers?: readonly ReplicaPeer[];
}

/**
 * Runs `encoder` (a model, or an equivalent inference function) over batches of inputs (tensors or batches, disposed after
 * use) and returns the codes row-major as one Float32Array [N × codeLength].
 */
export async function encodeAll(
  encoder: LayersModel | ((xs: tf.Tensor) => tf.Tensor),
  batches: AsyncIterable<tf.Tensor | Batch> | Iterable<tf.Tensor | Batch>,
  options: EncodeOptions = {},
): Promise<Float32Array> {
  const encode = typeof encoder === 'function' ? encoder : (xs: tf.Tensor) => encoder.apply(xs, { training: false }) as tf.Tensor;
  const peers = options.peers ?? [];
  // Batches go round: each peer (synchronised by the caller), then this worker;
  // codes keep the batches' order. A bounded number stay in flight.
  const pending: Array<Promise<Float32Array>> = [];
  const inFlight = new Set<Promise<unknown>>();
  let samples = 0;
  let turn = 0;
  for await (const item of batches as AsyncIterable<tf.Tensor | Batch>) {
    const xs = item instanceof tf.Tensor ? item : item.xs;
    if (options.signal?.aborted) {
      disposeInput(item);
      break;
    }
    const n = xs.shape[0] ?? 1;
    // Peers take the first slots of each round, so they are busy while this worker encodes its batch.
    const slot = turn++ % (peers.length + 1);
    let codes: Promise<Float32Array>;
    if (slot === peers.length) {
      const tensor = tf.tidy(() => encode(xs));
      disposeInput(item);
      codes = (tensor.data() as Promise<Float32Array>).finally(() => tensor.dispose());
    } else {
      const data = toData(xs);
      disposeInput(item);
      codes = peers[slot].encode(data);
    }
    const counted = codes.then((values) => {
      samples += n;
      options.onProgress?.(samples);
      return values;
    });
    pending.push(counted);
    const settled: Promise<unknown> = counted.then(
      (): void => void inFlight.delete(settled),
      (): void => void inFlight.delete(settled),
    );
    inFlight.add(settled);
    while (inFlight.size > 2 * (peers.length + 1)) await Promise.race(inFlight);
    await yieldToEventLoop();
  }
  const chunks = await Promise.all(pending);
  const out = new Float32Array(chunks.reduce((total, c) => total + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function disposeInput(item: tf.Tensor | Batch): void {
  if (item instanceof tf.Tensor) item.dispose();
  else disposeBatch(item);
}

/**
 * Frees an optimizer. TF.js 4.22's MomentumOptimizer.dispose() does not free
 * the learning-rate scalar its parent SGDOptimizer keeps, one tensor per
 * optimizer; this frees it too. (The class name is compared because TF.js
 * makes `instanceof` true for every optimizer class alike.)
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer.getClassName() === tf.MomentumOptimizer.className) tf.SGDOptimizer.prototype.dispose.call(optimizer);
}
