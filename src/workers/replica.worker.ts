/// <reference lib="webworker" />
/**
 * A data-parallel copy of a model (engine/data-parallel.ts), started by the
 * model worker. Thin Comlink wrapper: `init` starts the backend the model
 * worker uses, the rest is the Replica.
 */
import * as Comlink from 'comlink';
import { initBackend, type BackendName } from '../engine/backend';
import { Replica } from '../engine/data-parallel';
import { replicaAdapter } from '../models/replica-adapters';

const replica = new Replica(replicaAdapter);

const api = {
  async init(backend: BackendName, wasmThreads?: number): Promise<string> {
    const choice = await initBackend({ override: backend, wasmThreads });
    if (choice.backend !== backend) throw new Error(`a model copy could not start ${backend}: ${choice.reason}`);
    return choice.reason;
  },
  load: replica.load.bind(replica),
  sync: replica.sync.bind(replica),
  gradients: async (...args: Parameters<Replica['gradients']>) => {
    const result = await replica.gradients(...args);
    return Comlink.transfer(result, result.grads.map((g) => g.buffer));
  },
  apply: replica.apply.bind(replica),
  encode: async (...args: Parameters<Replica['encode']>) => {
    const codes = await replica.encode(...args);
    return Comlink.transfer(codes, [codes.buffer]);
  },
  release: replica.release.bind(replica),
};

export type ReplicaWorkerApi = typeof api;

Comlink.expose(api);
