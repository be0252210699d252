import { expect, test } from '@playwright/test';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startServer } from './serve-dist.mjs';
import {
  NDPI_NAME,
  expectDemoOpen,
  expectViewerRendered,
  fileInput,
  missingDataMessage,
  realSlidePath,
  repoRoot,
  slideInfo,
} from './helpers';

// These tests need the service worker, which the other tests block.
test.use({ serviceWorkers: 'allow' });

test('nested base path: every request stays under it and succeeds, none leaves the host; the worker scope is that folder', async ({ page, baseURL }) => {
  const base = new URL(baseURL!);
  expect(base.pathname).toBe('/tilescope/sub/');
  const failures: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`);
  });
  page.on('requestfailed', (request) => failures.push(`failed ${request.url()} ${request.failure()?.errorText}`));
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto('./');
  await expectDemoOpen(page);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(base.href);
  // Privacy: the page fetches nothing from any other host.
  const elsewhere = requested.filter((url) => /^(https?|wss?):/.test(url) && !url.startsWith(base.origin));
  expect(elsewhere).toEqual([]);
  const sameOrigin = requested.filter((url) => url.startsWith(base.origin));
  expect(sameOrigin.length).toBeGreaterThan(3);
  for (const url of sameOrigin) expect(new URL(url).pathname.startsWith(base.pathname), url).toBe(true);
  expect(failures).toEqual([]);
});

test('offline: after one visit the app reloads with no server and still opens slides', async ({ page, context }) => {
  const ndpiPath = realSlidePath(NDPI_NAME);
  // A private server, so "offline" is real: it is shut down before the reload.
  const server = await startServer({
    root: path.join(repoRoot, 'dist'),
    base: '/deploy/tilescope/',
    port: 0,
    host: '127.0.0.1',
    isolate: false,
  });
  const { port } = server.address() as AddressInfo;
  const appUrl = `http://127.0.0.1:${port}/deploy/tilescope/`;
  try {
    await page.goto(appUrl);
    await expectDemoOpen(page);
    // `ready` resolves once the worker is active, i.e. after every precache entry was stored.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await context.setOffline(true);

  const failures: string[] = [];
  page.on('requestfailed', (request) => failures.push(`${request.url()} ${request.failure()?.errorText}`));
  await page.reload();
  await expect(fileInput(page)).toBeAttached();
  await expectDemoOpen(page);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  if (!ndpiPath) {
    test.info().annotations.push({ type: 'skipped part', description: missingDataMessage });
  } else {
    // Opening another slide needs the codec chunks and wasm, from the cache only.
    await fileInput(page).setInputFiles(ndpiPath);
    await expect(slideInfo(page)).toContainText('3968 × 4864 px');
    await expectViewerRendered(page);
  }
  expect(failures).toEqual([]);
});
