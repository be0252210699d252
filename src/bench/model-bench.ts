/**
 * In-page part of the model benchmark (bench/models/run.mjs): runs each
 * configuration in a fresh worker, because a TF.js backend and its wasm
 * thread count are fixed once per worker.
 */
import * as Comlink from 'comlink';
import type { ModelBenchConfig, ModelBenchResult, ModelBenchWorker } from './model-bench.worker';

async function run(config: ModelBenchConfig): Promise<ModelBenchResult | { skipped: string }> {
  const worker = new Worker(new URL('./model-bench.worker.ts', import.meta.url), { type: 'module' });
  try {
    return await Comlink.wrap<ModelBenchWorker>(worker).run(config);
  } finally {
    worker.terminate();
  }
}

declare global {
  interface Window {
    modelBench: { run: typeof run; isolated: boolean; cores: number };
  }
}

window.modelBench = { run, isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency };
