/**
 * A small pool of slide decoder workers. Every worker opens its own
 * SlideSource on the same Blob (posting a Blob copies only a handle), so any
 * worker can serve any tile. The first worker opens a slide eagerly (to get
 * the metadata, or the error), the others lazily on their first tile.
 *
 * The main thread never decodes: it receives transferred ImageBitmaps.
 * A crashed worker is reported, replaced, and only its in-flight requests fail.
 */
import * as Comlink from 'comlink';
import type { SlideMetadata } from '../slide/types';
import type { DisplaySettings } from '../slide/display';
import type { ContrastLimits, OpenResult, SlideWorkerApi, TileRequest } from './protocol';

/** What the pool needs from a worker; a real Worker, or a MessagePort pair in tests. */
export type WorkerLike = Comlink.Endpoint & { terminate(): void };

export interface DecoderPoolOptions<TImage = ImageBitmap> {
  /** Number of workers; default min(4, hardwareConcurrency). */
  size?: number;
  createWorker?: () => WorkerLike;
  /** Called with a human-readable message when a worker dies. */
  onCrash?: (message: string) => void;
  /** Requests a single worker runs at once (overlaps file reads with decoding). */
  maxInFlightPerWorker?: number;
  /** Frees an image that arrived after its request was cancelled. */
  disposeImage?: (image: TImage) => void;
}

export interface PoolStats {
  workers: number;
  inFlight: number;
  queued: number;
  restarts: number;
}

interface Slot {
  index: number;
  worker: WorkerLike;
  api: Comlink.Remote<SlideWorkerApi>;
  inFlight: number;
  opened: Map<string, Promise<void>>;
  /** Rejects when the worker crashes; raced against every call. */
  crashed: Promise<never>;
  crash: (error: Error) => void;
  dead: boolean;
}

interface SlideEntry {
  file: Blob;
  name: string;
  metadata: SlideMetadata;
}

interface Task {
  slideId: string;
  signal?: AbortSignal;
  run: (slot: Slot, requestId: number) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onAbort?: () => void;
}

/** Restarts allowed per worker position before the pool gives up on it (a worker that cannot even load). */
const MAX_RESTARTS_PER_SLOT = 5;

export function defaultPoolSize(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, cores));
}

function createSlideWorker(): WorkerLike {
  return new Worker(new URL('./slide.worker.ts', import.meta.url), { type: 'module', name: 'tilescope-decoder' });
}

function abortError(): DOMException {
  return new DOMException('The request was cancelled', 'AbortError');
}

export class DecoderPool<TImage = ImageBitmap> {
  private readonly slots: Slot[] = [];
  private readonly restartsBySlot: number[] = [];
  private readonly slides = new Map<string, SlideEntry>();
  private readonly queue: Task[] = [];
  private readonly createWorker: () => WorkerLike;
  private readonly maxInFlight: number;
  private slideCounter = 0;
  private requestCounter = 0;
  private restarts = 0;
  private disposed = false;

  constructor(private readonly options: DecoderPoolOptions<TImage> = {}) {
    this.createWorker = options.createWorker ?? createSlideWorker;
    this.maxInFlight = options.maxInFlightPerWorker ?? 2;
    const size = Math.max(1, options.size ?? defaultPoolSize());
    for (let i = 0; i < size; i++) {
      this.restartsBySlot.push(0);
      this.slots.push(this.startSlot(i));
    }
  }

  get size(): number {
    return this.slots.length;
  }

  stats(): PoolStats {
    return {
      workers: this.slots.filter((slot) => !slot.dead).length,
      inFlight: this.slots.reduce((sum, slot) => sum + slot.inFlight, 0),
      queued: this.queue.length,
      restarts: this.restarts,
    };
  }

  /** Opens a file in one worker; rejects with the reader's error (e.g. "name: reason"). */
  async open(file: Blob, name: string): Promise<OpenResult> {
    this.assertAlive();
    const slideId = `slide-${++this.slideCounter}`;
    const slot = this.leastBusySlot() ?? this.slots[0];
    const opening = this.call(slot, (api) => api.open(file, name, slideId));
    const opened = opening.then(() => undefined);
    opened.catch(() => undefined); // the failure is reported through `opening`
    slot.opened.set(slideId, opened);
    try {
      const result = await opening;
      this.slides.set(slideId, { file, name, metadata: result.metadata });
      return { slideId, metadata: result.metadata };
    } catch (error) {
      slot.opened.delete(slideId);
      throw error;
    }
  }

  /** Decodes and renders one tile. Abort `signal` to cancel it (queued or running). */
  readTile(slideId: string, request: TileRequest, display: DisplaySettings, signal?: AbortSignal): Promise<TImage> {
    return this.enqueue<TImage>(slideId, signal, (slot, requestId) =>
      slot.api.readTile(slideId, request, display, requestId) as Promise<unknown> as Promise<TImage>,
    );
  }

  /** Label/macro/thumbnail image scaled to fit `maxSide`. */
  readAssociated(slideId: string, name: string, maxSide: number, signal?: AbortSignal): Promise<TImage> {
    return this.enqueue<TImage>(slideId, signal, (slot, requestId) =>
      slot.api.readAssociated(slideId, name, maxSide, requestId) as Promise<unknown> as Promise<TImage>,
    );
  }

  /** Per-channel contrast limits estimated from the slide's coarsest level. */
  estimateContrast(slideId: string, signal?: AbortSignal): Promise<ContrastLimits[]> {
    return this.enqueue<ContrastLimits[]>(slideId, signal, (slot, requestId) => slot.api.estimateContrast(slideId, requestId));
  }

  close(slideId: string): void {
    this.slides.delete(slideId);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const task = this.queue[i];
      if (task.slideId !== slideId) continue;
      this.queue.splice(i, 1);
      this.settle(task, () => task.reject(abortError()));
    }
    for (const slot of this.slots) {
      if (!slot.opened.has(slideId)) continue;
      slot.opened.delete(slideId);
      if (!slot.dead) void this.call(slot, (api) => api.close(slideId)).catch(() => undefined);
    }
  }

  /** Terminates every worker; pending requests reject. */
  dispose(): void {
    this.disposed = true;
    for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(new Error('Decoder pool closed')));
    for (const slot of this.slots) {
      slot.dead = true;
      slot.crash(new Error('Decoder pool closed'));
      slot.worker.terminate();
    }
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('Decoder pool closed');
  }

  private startSlot(index: number): Slot {
    const worker = this.createWorker();
    let crash: (error: Error) => void = () => undefined;
    const crashed = new Promise<never>((_, reject) => {
      crash = reject;
    });
    crashed.catch(() => undefined);
    const slot: Slot = {
      index,
      worker,
      api: Comlink.wrap<SlideWorkerApi>(worker),
      inFlight: 0,
      opened: new Map(),
      crashed,
      crash,
      dead: false,
    };
    worker.addEventListener('error', (event) => {
      const message = (event as ErrorEvent).message || 'the worker stopped unexpectedly';
      this.onWorkerCrash(slot, message);
    });
    worker.addEventListener('messageerror', () => this.onWorkerCrash(slot, 'a message could not be read'));
    return slot;
  }

  private onWorkerCrash(slot: Slot, message: string): void {
    if (slot.dead || this.disposed) return;
    slot.dead = true;
    slot.crash(new Error(`Decoder worker ${slot.index + 1} crashed: ${message}`));
    slot.worker.terminate();
    this.restarts++;
    const restarts = ++this.restartsBySlot[slot.index];
    const replace = restarts <= MAX_RESTARTS_PER_SLOT;
    this.options.onCrash?.(
      `Decoder worker ${slot.index + 1} crashed (${message})` + (replace ? '; it was restarted.' : '; too many crashes, it stays off.'),
    );
    if (replace) this.slots[slot.index] = this.startSlot(slot.index);
    if (this.slots.every((s) => s.dead)) {
      for (const task of this.queue.splice(0)) this.settle(task, () => task.reject(new Error('All decoder workers crashed')));
    }
    this.pump();
  }

  private call<T>(slot: Slot, fn: (api: Comlink.Remote<SlideWorkerApi>) => Promise<T>): Promise<T> {
    return Promise.race([fn(slot.api), slot.crashed]);
  }

  private ensureOpened(slot: Slot, slideId: string): Promise<void> {
    let opened = slot.opened.get(slideId);
    if (!opened) {
      const entry = this.slides.get(slideId);
      if (!entry) return Promise.reject(new Error(`Slide ${slideId} is not open`));
      opened = this.call(slot, (api) => api.open(entry.file, entry.name, slideId)).then(() => undefined);
      slot.opened.set(slideId, opened);
      opened.catch(() => slot.opened.delete(slideId));
    }
    return opened;
  }

  private enqueue<T>(slideId: string, signal: AbortSignal | undefined, run: Task['run']): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.disposed) return reject(new Error('Decoder pool closed'));
      if (signal?.aborted) return reject(abortError());
      if (!this.slides.has(slideId)) return reject(new Error(`Slide ${slideId} is not open`));
      const task: Task = { slideId, signal, run, resolve: resolve as (value: unknown) => void, reject };
      if (signal) {
        task.onAbort = () => {
          const index = this.queue.indexOf(task);
          if (index >= 0) {
            this.queue.splice(index, 1);
            this.settle(task, () => reject(abortError()));
          }
        };
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.pump();
    });
  }

  private settle(task: Task, finish: () => void): void {
    if (task.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
    finish();
  }

  private leastBusySlot(slideId?: string): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.dead) continue;
      if (!best || slot.inFlight < best.inFlight) best = slot;
      // On a tie, prefer a worker that already has the slide open.
      else if (slideId && slot.inFlight === best.inFlight && slot.opened.has(slideId) && !best.opened.has(slideId)) best = slot;
    }
    return best;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.leastBusySlot(this.queue[0].slideId);
      if (!slot || slot.inFlight >= this.maxInFlight) return;
      const task = this.queue.shift()!;
      this.dispatch(slot, task);
    }
  }

  private dispatch(slot: Slot, task: Task): void {
    slot.inFlight++;
    const requestId = ++this.requestCounter;
    // Once running, an abort is forwarded to the worker's AbortController.
    if (task.signal && task.onAbort) task.signal.removeEventListener('abort', task.onAbort);
    const forwardAbort = () => {
      if (!slot.dead) void slot.api.cancel(requestId);
    };
    task.signal?.addEventListener('abort', forwardAbort, { once: true });

    const work = this.ensureOpened(slot, task.slideId).then(() => {
      if (task.signal?.aborted) throw abortError();
      return this.call(slot, () => task.run(slot, requestId));
    });
    work.then(
      (value) => {
        if (task.signal?.aborted) {
          this.options.disposeImage?.(value as TImage);
          task.reject(abortError());
        } else task.resolve(value);
      },
      (error) => task.reject(task.signal?.aborted ? abortError() : error),
    ).finally(() => {
      task.signal?.removeEventListener('abort', forwardAbort);
      slot.inFlight--;
      this.pump();
    });
  }
}
