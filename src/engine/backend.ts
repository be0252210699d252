import * as tf from '@tensorflow/tfjs-core';
import { isSoftwareAdapter, isSoftwareGlRenderer, type GpuAdapterDescription } from './gpu-adapters';

export { isSoftwareAdapter, isSoftwareGlRenderer, type GpuAdapterDescription };

/**
 * Backend selection. Measured on the development machine (PERFORMANCE.md):
 * a software WebGPU adapter (SwiftShader) is ~200× slower than wasm and
 * software WebGL ~30×, so GPUs are used only when they are real hardware.
 * The decision itself is a pure function of a probe, so it is unit-tested
 * with fake adapter descriptions; `probeEnvironment` fills the probe in a
 * browser or worker and `initBackend` acts on the decision.
 */

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';


export interface BackendProbe {
  environment: 'window' | 'worker' | 'node';
  /** null: no WebGPU API; `adapter` null: the API exists but gave no adapter. */
  webgpu: { adapter: GpuAdapterDescription | null } | null;
  /** null: no WebGL context. `renderer` is the unmasked renderer when the debug extension allows it. */
  webgl: { renderer: string | null; vendor: string | null } | null;
  /** null: no WebAssembly. */
  wasm: { simd: boolean; threads: boolean } | null;
}

export interface BackendChoice {
  backend: BackendName;
  reason: string;
  adapterInfo: GpuAdapterDescription | null;
  /** For wasm: whether the multi-threaded build can be used (cross-origin isolated). */
  wasmThreads: boolean;
}

function describeAdapter(a: GpuAdapterDescription): string {
  return [a.vendor, a.architecture, a.device, a.description].filter((s) => s).join(' / ') || 'unnamed adapter';
}

function wasmChoice(probe: BackendProbe, why: string): BackendChoice | null {
  if (probe.wasm === null) return null;
  const simd = probe.wasm.simd ? 'SIMD' : 'no SIMD';
  const threads = probe.wasm.threads ? 'multi-threaded' : 'single-threaded';
  return {
    backend: 'wasm',
    reason: `${why}; wasm (${simd}, ${threads})`,
    adapterInfo: null,
    wasmThreads: probe.wasm.threads,
  };
}

/** Decides the backend for a probe, optionally honouring an override when that backend exists. */
export function chooseBackend(probe: BackendProbe, override?: BackendName | null): BackendChoice {
  const cpu = (why: string): BackendChoice => ({ backend: 'cpu', reason: why, adapterInfo: null, wasmThreads: false });
  const adapter = probe.webgpu?.adapter ?? null;

  if (override) {
    const available =
      override === 'cpu' ||
      (override === 'wasm' && probe.wasm !== null) ||
      (probe.environment !== 'node' &&
        ((override === 'webgpu' && adapter !== null) || (override === 'webgl' && probe.webgl !== null)));
    if (available) {
      return {
        backend: override,
        reason: `override: ${override}`,
        adapterInfo: override === 'webgpu' ? adapter : null,
        wasmThreads: override === 'wasm' && (probe.wasm?.threads ?? false),
      };
    }
  }
  const overrideNote = override ? `override ${override} unavailable; ` : '';

  if (probe.environment === 'node') {
    return wasmChoice(probe, `${overrideNote}Node.js`) ?? cpu(`${overrideNote}Node.js without WebAssembly: cpu`);
  }

  const notes: string[] = [];
  if (adapter !== null) {
    if (!isSoftwareAdapter(adapter)) {
      return {
        backend: 'webgpu',
        reason: `${overrideNote}hardware WebGPU adapter (${describeAdapter(adapter)})`,
        adapterInfo: adapter,
        wasmThreads: false,
      };
    }
    notes.push(`WebGPU adapter is software (${describeAdapter(adapter)})`);
  } else {
    notes.push(probe.webgpu === null ? 'no WebGPU' : 'no WebGPU adapter');
  }

  if (probe.webgl !== null) {
    const renderer = probe.webgl.renderer;
    if (renderer !== null && renderer !== '' && !isSoftwareGlRenderer(renderer)) {
      return {
        backend: 'webgl',
        reason: `${overrideNote}${notes.join('; ')}; hardware WebGL (${renderer})`,
        adapterInfo: null,
        wasmThreads: false,
      };
    }
    // An unknown renderer could be software, which is ~30× slower than wasm.
    notes.push(renderer ? `WebGL renderer is software (${renderer})` : 'WebGL renderer unknown');
  } else {
    notes.push('no WebGL');
  }
  return wasmChoice(probe, overrideNote + notes.join('; ')) ?? cpu(`${overrideNote}${notes.join('; ')}; no WebAssembly: cpu`);
}

// ---------------------------------------------------------------------------
// Probing (browser and worker)

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: GpuAdapterDescription & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<GpuAdapterDescription>;
}

/** Smallest module using a v128 instruction; validates only where wasm SIMD exists. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

function detectEnvironment(): BackendProbe['environment'] {
  const g = globalThis as { window?: unknown; document?: unknown; process?: { versions?: { node?: string } } };
  if (g.window === undefined && g.process?.versions?.node !== undefined) return 'node';
  return g.document !== undefined ? 'window' : 'worker';
}

async function probeWebGpu(): Promise<BackendProbe['webgpu']> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (gpu === undefined) return null;
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) return { adapter: null };
    let info: GpuAdapterDescription = adapter.info ?? {};
    if (adapter.info === undefined && typeof adapter.requestAdapterInfo === 'function') {
      info = await adapter.requestAdapterInfo();
    }
    return {
      adapter: {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        isFallbackAdapter: adapter.isFallbackAdapter ?? info.isFallbackAdapter ?? false,
      },
    };
  } catch {
    return { adapter: null };
  }
}

function probeWebGl(): BackendProbe['webgl'] {
  let canvas: OffscreenCanvas | HTMLCanvasElement | null = null;
  if (typeof OffscreenCanvas !== 'undefined') canvas = new OffscreenCanvas(1, 1);
  else if (typeof document !== 'undefined') canvas = document.createElement('canvas');
  if (canvas === null) return null;
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (gl === null) return null;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = debug ? String(gl.getParameter(debug.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
  const vendor = debug ? String(gl.getParameter(debug.UNMASKED_VENDOR_WEBGL)) : String(gl.getParameter(gl.VENDOR));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { renderer: renderer || null, vendor: vendor || null };
}

function probeWasm(): BackendProbe['wasm'] {
  if (typeof WebAssembly === 'undefined') return null;
  const simd = WebAssembly.validate(SIMD_PROBE);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = isolated && typeof SharedArrayBuffer !== 'undefined';
  return { simd, threads };
}

/** Collects what the current page or worker offers. In Node only wasm is probed. */
export async function probeEnvironment(): Promise<BackendProbe> {
  const environment = detectEnvironment();
  if (environment === 'node') return { environment, webgpu: null, webgl: null, wasm: probeWasm() };
  return { environment, webgpu: await probeWebGpu(), webgl: probeWebGl(), wasm: probeWasm() };
}

// ---------------------------------------------------------------------------
// Initialisation

export interface InitBackendOptions {
  override?: BackendName | null;
  /** Where tfjs-backend-wasm finds its .wasm files: a prefix or a map of file name → URL. */
  wasmPaths?: string | Record<string, string>;
  /** A probe to use instead of probing (tests). */
  probe?: BackendProbe;
  /**
   * Threads of the threaded wasm build (at most 8, the size of its worker
   * pool). By default TF.js decides (half the logical cores): on the 2-core
   * machine one thread per core ran no faster, because the page, the slide
   * decoders and the thread pool then share the same two cores
   * (bench/RESULTS.md). 1 runs the same binary on one thread.
   */
  wasmThreads?: number;
}

const FALLBACK_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

async function activate(name: BackendName, choice: BackendChoice, options: InitBackendOptions): Promise<boolean> {
  switch (name) {
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      break;
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      break;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const paths = options.wasmPaths ?? (await import('./wasm-assets')).WASM_BINARY_URLS;
      try {
        if (typeof paths === 'string') wasm.setWasmPaths(paths);
        else wasm.setWasmPaths(paths as never);
      } catch {
        // Paths can only be set before the first initialisation; later calls keep the first ones.
      }
      if (!choice.wasmThreads) wasm.setThreadsCount(1);
      else if (options.wasmThreads !== undefined) wasm.setThreadsCount(Math.max(1, Math.min(8, Math.round(options.wasmThreads))));
      const { registerWasmTrainingKernels } = await import('./wasm-kernels');
      registerWasmTrainingKernels();
      break;
    }
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
  try {
    if (!(await tf.setBackend(name))) return false;
  } catch {
    return false;
  }
  if (name === 'wasm') {
    const { attachSimdKernels } = await import('./simd');
    await attachSimdKernels(tf.backend() as never);
  }
  return true;
}

/**
 * Probes, chooses and activates a backend. When the chosen one fails to
 * start, the next in the order WebGPU → WebGL → wasm → cpu is tried (GPU
 * backends are only ever tried when they were the choice).
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const probe = options.probe ?? (await probeEnvironment());
  const choice = chooseBackend(probe, options.override);
  const start = FALLBACK_ORDER.indexOf(choice.backend);
  for (const name of FALLBACK_ORDER.slice(start)) {
    if (name !== choice.backend && (name === 'webgpu' || name === 'webgl')) continue;
    if (name === 'wasm' && probe.wasm === null) continue;
    if (await activate(name, choice, options)) {
      if (name !== choice.backend) return { ...choice, backend: name, reason: `${choice.reason}; ${choice.backend} failed to start, using ${name}` };
      if (name === 'wasm' && choice.wasmThreads) {
        const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
        const threads = getThreadsCount();
        return { ...choice, reason: `${choice.reason}, ${threads} thread${threads === 1 ? '' : 's'}` };
      }
      return choice;
    }
  }
  throw new Error('no TensorFlow.js backend could be started');
}
