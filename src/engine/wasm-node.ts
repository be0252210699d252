import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-kernels';
import { attachSimdKernels } from './simd';

/**
 * Node-only set-up of the wasm backend (CLI, tests, benchmarks). Node 20's
 * emscripten loader reads the .wasm binaries with `fs`, so a plain directory
 * path with a trailing separator works as the prefix; no fetch is involved.
 * In Node the backend runs single-threaded SIMD.
 */

let wasmPathsSet = false;

/** Directory holding tfjs-backend-wasm's .wasm binaries, with a trailing separator. */
export function nodeWasmDirectory(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

export type NodeBackendName = 'wasm' | 'cpu';

/**
 * Selects the wasm backend (with the project's training kernels) or cpu.
 * Falls back to cpu when wasm cannot start; returns the backend in use.
 */
export async function initNodeBackend(prefer: NodeBackendName = 'wasm'): Promise<NodeBackendName> {
  if (prefer === 'wasm') {
    if (!wasmPathsSet) {
      setWasmPaths(nodeWasmDirectory());
      wasmPathsSet = true;
    }
    registerWasmTrainingKernels();
    if (await tf.setBackend('wasm')) {
      await attachSimdKernels(tf.backend() as unknown as BackendWasm);
      return 'wasm';
    }
  }
  await tf.setBackend('cpu');
  return 'cpu';
}
