import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KERNELS_WASM_PLAIN, KERNELS_WASM_SHARED } from './kernels-wasm';

/**
 * The project's SIMD kernels (kernels.c), instantiated against the wasm
 * backend's own memory so they read and write tensor buffers in place.
 * Arguments are byte offsets into that memory plus sizes.
 */
export interface SimdKernels {
  bias_add(x: number, bias: number, out: number, rows: number, c: number): void;
  sum_rows(x: number, out: number, rows: number, c: number): void;
  max_pool_grad_tiled(
    x: number,
    dy: number,
    dx: number,
    b: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
    c: number,
  ): void;
  conv2d_c1_3x3(
    x: number,
    w: number,
    bias: number,
    out: number,
    b: number,
    h: number,
    wd: number,
    oh: number,
    ow: number,
    co: number,
    top: number,
    left: number,
    relu: number,
    scale: number,
    offset: number,
    pool: number,
  ): void;
  conv_transpose_patches(
    x: number,
    wr: number,
    out: number,
    b: number,
    oh: number,
    ow: number,
    k: number,
    kh: number,
    kw: number,
    c: number,
  ): void;
  relu_grad(x: number, dy: number, dx: number, n: number): void;
  conv2d_filter_grad(
    x: number,
    dy: number,
    dw: number,
    b: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
}

const attached = new WeakMap<object, SimdKernels>();
let enabled = true;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The backend's WebAssembly.Memory (emscripten keeps it in its exports as `memory`). */
function backendMemory(backend: BackendWasm): WebAssembly.Memory | null {
  const module = backend.wasm as unknown as {
    asm?: Record<string, unknown>;
    wasmMemory?: unknown;
  };
  const candidates = [module.wasmMemory, module.asm?.memory];
  for (const m of candidates) if (m instanceof WebAssembly.Memory) return m;
  return null;
}

/**
 * Compiles and instantiates the kernels for `backend`. Resolves to false
 * (and the callers keep their portable paths) when the runtime lacks wasm
 * SIMD or the backend's memory cannot be reached.
 */
export async function attachSimdKernels(backend: BackendWasm): Promise<boolean> {
  if (attached.has(backend)) return true;
  const memory = backendMemory(backend);
  if (memory === null) return false;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const bytes = decodeBase64(shared ? KERNELS_WASM_SHARED : KERNELS_WASM_PLAIN);
    const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
    attached.set(backend, instance.exports as unknown as SimdKernels);
    return true;
  } catch {
    return false;
  }
}

/** The kernels attached to `backend`, or null (not attached, or disabled for testing). */
export function simdKernelsFor(backend: object): SimdKernels | null {
  return enabled ? (attached.get(backend) ?? null) : null;
}

/** Switches the SIMD paths off or on (tests and benchmarks compare both). */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}
