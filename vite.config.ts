/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

// Cross-origin isolation gives SharedArrayBuffer, which the threaded wasm
// backend needs. The dev and preview servers send the headers; on static
// hosts that cannot, the service worker (src/sw.ts) adds them.
const CROSS_ORIGIN_ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Relative base: the static build works from any folder of any static host.
export default defineConfig({
  base: './',
  server: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  preview: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  plugins: [
    react(),
    // Offline support: src/sw.ts precaches every built file (see src/ui/register-sw.ts).
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // Registration is done by registerServiceWorker(), relative to the page.
      injectRegister: false,
      manifest: {
        name: 'Tilescope',
        short_name: 'Tilescope',
        description: 'Microscopy slide workbench that runs entirely in the browser.',
        start_url: './',
        scope: './',
        display: 'standalone',
        background_color: '#111111',
        theme_color: '#111111',
        icons: [],
      },
      injectManifest: {
        // Classic (non-module) worker script: registers everywhere service workers exist.
        rollupFormat: 'iife',
        // Everything the app may load, so a reload without network still opens slides:
        // JS (page and worker chunks), CSS, HTML, wasm codecs/backends, the demo slide.
        // (The web manifest is added by the plugin itself.)
        globPatterns: ['**/*.{html,js,mjs,css,wasm,json,svg,png,ico,woff2,svs,bin}'],
        globIgnores: ['**/*.map'],
        // The demo slide and the wasm backends are a few MiB each.
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
  worker: {
    format: 'es',
    // tfjs-backend-wasm starts its threads from the source text of its
    // Emscripten factory (Function.toString()), evaluated alone in a blob
    // worker. Renaming identifiers, or dropping `typeof x` guards around
    // variables of the enclosing module (both done by the compressor), breaks
    // that text, so worker bundles only lose whitespace.
    rolldownOptions: { output: { minify: { mangle: false, compress: false, codegen: true } } },
  },
  build: { target: 'es2022', sourcemap: true },
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts', 'eval/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
