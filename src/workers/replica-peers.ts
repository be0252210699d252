/**
 * Starts data-parallel copies of a model (replica.worker.ts) for a model
 * worker, as ReplicaPeers: arrays go over as transferables.
 */
import * as Comlink from 'comlink';
import type { BackendName } from '../engine/backend';
import type { ReplicaPeer } from '../engine/data-parallel';
import type { ReplicaWorkerApi } from './replica.worker';

/**
 * How many copies besides the model worker's: one per group of `threadsPerCopy`
 * cores, at most 4 copies in all (each holds its own activations), and none
 * off wasm (a GPU backend is one device; copies would only queue on it).
 */
export function peerCount(backend: BackendName, cores: number, threadsPerCopy: number): number {
  if (backend !== 'wasm') return 0;
  const copies = Math.floor(Math.min(cores, 8) / Math.max(1, threadsPerCopy));
  return Math.max(0, Math.min(4, copies) - 1);
}

export async function startReplicaWorkers(count: number, backend: BackendName, wasmThreads?: number): Promise<ReplicaPeer[]> {
  const workers: Worker[] = [];
  try {
    const peers: ReplicaPeer[] = [];
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./replica.worker.ts', import.meta.url), { type: 'module', name: `model copy ${i + 1}` });
      workers.push(worker);
      const remote = Comlink.wrap<ReplicaWorkerApi>(worker);
      await remote.init(backend, wasmThreads);
      peers.push({
        load: (spec) => remote.load(spec),
        sync: (state) => remote.sync(state),
        gradients: (shard) => remote.gradients(Comlink.transfer(shard, [shard.xs.data.buffer, ...(shard.ys ? [shard.ys.data.buffer] : [])])),
        apply: (grads) => remote.apply(Comlink.transfer(grads, grads.map((g) => g.buffer))),
        encode: (xs) => remote.encode(Comlink.transfer(xs, [xs.data.buffer])),
        release: () => remote.release(),
      });
    }
    return peers;
  } catch (error) {
    // Without copies everything still runs, only on fewer cores.
    console.warn('data-parallel model copies could not start; training on one worker', error);
    for (const worker of workers) worker.terminate();
    return [];
  }
}
