// Builds the benchmark page (bench.html + src/bench/) on its own, so the
// production build in dist/ stays free of it. Used by bench/run.mjs.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import appConfig from '../vite.config';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  base: './',
  // The app's worker bundling (the threaded wasm backend needs it).
  worker: appConfig.worker,
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('../.cache/bench-dist', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: { input: fileURLToPath(new URL('../bench.html', import.meta.url)) },
  },
});
