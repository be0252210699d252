/**
 * In-page part of the model benchmark (bench/models/run.mjs): runs each
 * configuration in a fresh worker, because a TF.js backend and its wasm
 * thread count are fixed once per worker. A configuration names its model
 * ('cish' by default, or 'csp-cae' with a width preset); see
 * model-bench.worker.ts for what is timed.
 */
import * as Comlink from 'comlink';
import type { CspCaePreset } from '../models/nuclei/model';
import type { CspCaeCosts, ModelBenchConfig, ModelBenchResult, ModelBenchWorker } from './model-bench.worker';

async function inWorker<T>(use: (api: Comlink.Remote<ModelBenchWorker>, worker: Worker) => Promise<T>): Promise<T> {
  const worker = new Worker(new URL('./model-bench.worker.ts', import.meta.url), { type: 'module' });
  try {
    return await use(Comlink.wrap<ModelBenchWorker>(worker), worker);
  } finally {
    worker.terminate();
  }
}

/**
 * One configuration. A worker that throws, dies (a wasm heap past its 4 GiB
 * cap can take it down without an answer) or outlives `config.timeoutMs`
 * gives a skipped row instead of stopping the benchmark or hanging it.
 */
function run(config: ModelBenchConfig): Promise<ModelBenchResult | { skipped: string }> {
  return inWorker<ModelBenchResult | { skipped: string }>((api, worker) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failed = new Promise<{ skipped: string }>((resolve) => {
      worker.addEventListener('error', (event) => resolve({ skipped: `the worker failed${event.message ? `: ${event.message}` : ' (out of memory?)'}` }));
      if (config.timeoutMs) {
        timer = setTimeout(() => resolve({ skipped: `no result within ${Math.round(config.timeoutMs! / 1000)} s (worker stopped)` }), config.timeoutMs);
      }
    });
    const answer = api.run(config).catch((error: unknown) => ({ skipped: `failed: ${error instanceof Error ? error.message : String(error)}` }));
    return Promise.race([answer, failed]).finally(() => clearTimeout(timer));
  });
}

/** FLOPs per patch and parameters of CSP-CAE presets, including those too slow to time here. */
function cspCaeCosts(presets: CspCaePreset[]): Promise<CspCaeCosts> {
  return inWorker((api) => api.cspCaeCosts(presets));
}

declare global {
  interface Window {
    modelBench: { run: typeof run; cspCaeCosts: typeof cspCaeCosts; isolated: boolean; cores: number };
  }
}

window.modelBench = { run, cspCaeCosts, isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency };
