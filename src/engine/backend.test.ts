import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  chooseBackend,
  initBackend,
  isSoftwareAdapter,
  isSoftwareGlRenderer,
  probeEnvironment,
  type BackendProbe,
} from './backend';
import { nodeWasmDirectory } from './wasm-node';

const wasmOnly = { simd: true, threads: false };

function browser(partial: Partial<BackendProbe>): BackendProbe {
  return { environment: 'window', webgpu: null, webgl: null, wasm: wasmOnly, ...partial };
}

// Adapter descriptions as browsers report them.
const SWIFTSHADER_GPU = { vendor: 'google', architecture: 'swiftshader', device: '', description: '' };
const NVIDIA_GPU = { vendor: 'nvidia', architecture: 'ampere', device: '', description: '' };
const APPLE_GPU = { vendor: 'apple', architecture: 'metal-3', device: '', description: '' };
const SWIFTSHADER_GL =
  'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const LLVMPIPE_GL = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const INTEL_GL = 'ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)';

describe('adapter classification', () => {
  it('recognises software WebGPU adapters', () => {
    expect(isSoftwareAdapter(SWIFTSHADER_GPU)).toBe(true);
    expect(isSoftwareAdapter({ ...NVIDIA_GPU, isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter(NVIDIA_GPU)).toBe(false);
    expect(isSoftwareAdapter(APPLE_GPU)).toBe(false);
    // Google as a vendor alone (e.g. a Pixel's GPU via ANGLE) is not software.
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'mali-g710' })).toBe(false);
  });

  it('recognises software GL renderers', () => {
    expect(isSoftwareGlRenderer(SWIFTSHADER_GL)).toBe(true);
    expect(isSoftwareGlRenderer(LLVMPIPE_GL)).toBe(true);
    expect(isSoftwareGlRenderer(INTEL_GL)).toBe(false);
    expect(isSoftwareGlRenderer('Apple GPU')).toBe(false);
  });
});

describe('chooseBackend', () => {
  it('takes WebGPU on a hardware adapter', () => {
    const c = chooseBackend(browser({ webgpu: { adapter: NVIDIA_GPU }, webgl: { renderer: INTEL_GL, vendor: null } }));
    expect(c.backend).toBe('webgpu');
    expect(c.adapterInfo).toEqual(NVIDIA_GPU);
    expect(c.reason).toMatch(/hardware WebGPU/);
  });

  it('skips a SwiftShader WebGPU adapter for hardware WebGL', () => {
    const c = chooseBackend(
      browser({ webgpu: { adapter: SWIFTSHADER_GPU }, webgl: { renderer: INTEL_GL, vendor: 'Intel' } }),
    );
    expect(c.backend).toBe('webgl');
    expect(c.reason).toMatch(/software/);
  });

  it('headless Chromium (software WebGPU and WebGL) gets single-threaded wasm', () => {
    const c = chooseBackend(
      browser({ webgpu: { adapter: SWIFTSHADER_GPU }, webgl: { renderer: SWIFTSHADER_GL, vendor: 'Google Inc.' } }),
    );
    expect(c.backend).toBe('wasm');
    expect(c.wasmThreads).toBe(false);
    expect(c.reason).toMatch(/WebGL renderer is software/);
  });

  it('uses threaded wasm when cross-origin isolated', () => {
    const c = chooseBackend(browser({ webgl: { renderer: LLVMPIPE_GL, vendor: null }, wasm: { simd: true, threads: true } }));
    expect(c.backend).toBe('wasm');
    expect(c.wasmThreads).toBe(true);
    expect(c.reason).toMatch(/multi-threaded/);
  });

  it('treats an unknown GL renderer as possibly software', () => {
    expect(chooseBackend(browser({ webgl: { renderer: null, vendor: null } })).backend).toBe('wasm');
  });

  it('falls back to cpu without WebAssembly', () => {
    expect(chooseBackend(browser({ wasm: null })).backend).toBe('cpu');
  });

  it('honours an available override and ignores an unavailable one', () => {
    const probe = browser({ webgpu: { adapter: SWIFTSHADER_GPU }, webgl: { renderer: SWIFTSHADER_GL, vendor: null } });
    expect(chooseBackend(probe, 'webgpu').backend).toBe('webgpu');
    expect(chooseBackend(probe, 'cpu').backend).toBe('cpu');
    const noGpu = browser({});
    const c = chooseBackend(noGpu, 'webgl');
    expect(c.backend).toBe('wasm');
    expect(c.reason).toMatch(/override webgl unavailable/);
  });

  it('in Node offers only wasm or cpu', () => {
    const node: BackendProbe = {
      environment: 'node',
      webgpu: { adapter: NVIDIA_GPU },
      webgl: { renderer: INTEL_GL, vendor: null },
      wasm: wasmOnly,
    };
    expect(chooseBackend(node).backend).toBe('wasm');
    expect(chooseBackend(node, 'webgpu').backend).toBe('wasm');
    expect(chooseBackend({ ...node, wasm: null }).backend).toBe('cpu');
  });
});

describe('probe and init in Node', () => {
  it('probes Node as wasm-only with SIMD', async () => {
    const probe = await probeEnvironment();
    expect(probe.environment).toBe('node');
    expect(probe.webgpu).toBeNull();
    expect(probe.wasm?.simd).toBe(true);
  });

  it('initialises the chosen backend', async () => {
    const choice = await initBackend({ wasmPaths: nodeWasmDirectory() });
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const cpu = await initBackend({ override: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
