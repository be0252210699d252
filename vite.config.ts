/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

// Relative base: the static build works from any folder of any static host.
export default defineConfig({
  base: './',
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
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
