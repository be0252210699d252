/// <reference lib="webworker" />
/**
 * The CISH analysis worker: a thin Comlink wrapper around the endpoint.
 * Large results are transferred, not copied.
 */
import * as Comlink from 'comlink';
import { openSlide } from '../slide/open';
import { createCishEndpoint } from './cish-endpoint';
import type { CishWorkerApi } from './cish-protocol';
import { peerCount, startReplicaWorkers } from './replica-peers';

const endpoint = createCishEndpoint({
  openSlide,
  async startPeers(backend) {
    if (backend !== 'wasm') return [];
    const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
    let threads = 1;
    try {
      threads = Math.max(1, getThreadsCount());
    } catch {
      // Not initialised as wasm after all: one thread per copy.
    }
    return startReplicaWorkers(peerCount(backend, navigator.hardwareConcurrency ?? 1, threads), backend, threads);
  },
});

const api: CishWorkerApi = {
  ...endpoint,
  async mask(slideId, params, jobId) {
    const result = await endpoint.mask(slideId, params, jobId);
    return Comlink.transfer(result, [result.data.buffer]);
  },
  async tiles(slideId, params, mask) {
    const t = await endpoint.tiles(slideId, params, mask);
    return Comlink.transfer(t, [t.x.buffer, t.y.buffer, t.width.buffer, t.height.buffer, t.tissueFraction.buffer, t.kept.buffer, t.train.buffer]);
  },
  async train(...args) {
    const outcome = await endpoint.train(...args);
    return Comlink.transfer(outcome, [outcome.history.buffer]);
  },
  async encode(...args) {
    const result = await endpoint.encode(...args);
    return Comlink.transfer(result, [result.latents.buffer, result.densities.buffer]);
  },
  async cluster(...args) {
    const r = await endpoint.cluster(...args);
    return Comlink.transfer(r, [r.memberships.buffer, r.labels.buffer, r.centres.buffer]);
  },
  async detectNuclei(...args) {
    const r = await endpoint.detectNuclei(...args);
    // patchRects stays: the worker keeps it with the maps (it is copied).
    return Comlink.transfer(r, [r.x.buffer, r.y.buffer, r.score.buffer, r.features.buffer, r.perPatch.buffer]);
  },
  async redetectNuclei(...args) {
    const r = await endpoint.redetectNuclei(...args);
    return Comlink.transfer(r, [r.x.buffer, r.y.buffer, r.score.buffer, r.features.buffer, r.perPatch.buffer]);
  },
  async inspectNucleusPatch(...args) {
    const r = await endpoint.inspectNucleusPatch(...args);
    return Comlink.transfer(r, [r.input.buffer, r.foreground.buffer, r.background.buffer, r.reconstruction.buffer, r.detection.buffer]);
  },
  async fpcSweep(...args) {
    const r = await endpoint.fpcSweep(...args);
    return Comlink.transfer(r, [r.k.buffer, r.fpc.buffer]);
  },
};

Comlink.expose(api);
