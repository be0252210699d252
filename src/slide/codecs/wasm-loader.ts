/**
 * Emscripten codecs need their .wasm binary. In the browser (and in workers)
 * Vite gives us a URL; under Node (tests, CLI, bench) we read the file that the
 * package ships. Both paths end in the same factory call.
 */
export interface EmscriptenOptions {
  locateFile?: (path: string) => string;
  wasmBinary?: ArrayBuffer | Uint8Array;
}

const isNode =
  typeof process !== 'undefined' &&
  !!(process as { versions?: { node?: string } }).versions?.node &&
  typeof (globalThis as { document?: unknown }).document === 'undefined' &&
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined';

export async function emscriptenOptions(browserUrl: string, nodePackagePath: string): Promise<EmscriptenOptions> {
  if (isNode) {
    // Hidden from the bundler: these modules exist only under Node.
    const fsName = 'node:fs/promises';
    const moduleName = 'node:module';
    const { readFile } = await import(/* @vite-ignore */ fsName);
    const { createRequire } = await import(/* @vite-ignore */ moduleName);
    const require = createRequire(import.meta.url);
    return { wasmBinary: await readFile(require.resolve(nodePackagePath)) };
  }
  return { locateFile: () => browserUrl };
}
