import { defineConfig } from '@playwright/test';

// End-to-end tests run against the production build (dist/), served by a tiny
// static server under a nested base path, with the system Chromium (never a
// downloaded browser). `npm run test:e2e` builds first.
const port = Number(process.env.E2E_PORT ?? 4180);
/** Nested on purpose: proves the build works from any folder of a static host. */
const basePath = '/tilescope/sub/';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  // One worker under CI: the CISH spec asserts main-thread tasks stay under 50 ms,
  // which a second browser competing for the 2 cores would distort.
  workers: Number(process.env.E2E_WORKERS ?? (process.env.CI ? 1 : 2)),
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}${basePath}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    // The service worker precaches every asset on first load; only the offline
    // tests (which opt in) need it, the others stay quicker and deterministic.
    serviceWorkers: 'block',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: `node e2e/serve-dist.mjs --root dist --base ${basePath} --port ${port}`,
    url: `http://127.0.0.1:${port}${basePath}`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
