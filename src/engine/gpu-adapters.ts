/**
 * Telling GPUs from their software stand-ins (SwiftShader, llvmpipe…), which
 * are far slower than the CPU paths. No dependencies: the page uses it too
 * (the scatter picks its renderer with it) without loading TensorFlow.js.
 */

export interface GpuAdapterDescription {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** WebGPU's flag for an adapter that is a software fallback. */
  isFallbackAdapter?: boolean;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|lavapipe|software|basic render|mesa offscreen/i;

/** True when a WebGPU adapter is a CPU implementation. */
export function isSoftwareAdapter(adapter: GpuAdapterDescription): boolean {
  if (adapter.isFallbackAdapter) return true;
  const fields = [adapter.vendor, adapter.architecture, adapter.device, adapter.description];
  if (fields.some((f) => f !== undefined && SOFTWARE_RENDERER.test(f))) return true;
  // Chrome's SwiftShader adapter reports vendor "google", architecture "swiftshader".
  return adapter.vendor?.toLowerCase() === 'google' && (adapter.architecture ?? '').toLowerCase() === 'swiftshader';
}

/** True when a WebGL renderer string (UNMASKED_RENDERER_WEBGL) names a CPU implementation. */
export function isSoftwareGlRenderer(renderer: string): boolean {
  return SOFTWARE_RENDERER.test(renderer);
}
