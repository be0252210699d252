import { expect, test } from '@playwright/test';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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

/** Serves `root` on a free port under `base`; returns the server and the app URL. */
async function privateServer(root: string, base: string, isolate = false): Promise<{ server: Server; url: string }> {
  const server = await startServer({ root, base, port: 0, host: '127.0.0.1', isolate });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${base}` };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

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
  const { server, url: appUrl } = await privateServer(path.join(repoRoot, 'dist'), '/deploy/tilescope/');
  try {
    await page.goto(appUrl);
    await expectDemoOpen(page);
    // `ready` resolves once the worker is active, i.e. after every precache entry was stored.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    // This server sends no COOP/COEP, and the first load was not served by the worker.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  } finally {
    await stop(server);
  }
  await context.setOffline(true);

  const failures: string[] = [];
  page.on('requestfailed', (request) => failures.push(`${request.url()} ${request.failure()?.errorText}`));
  await page.reload();
  await expect(fileInput(page)).toBeAttached();
  await expectDemoOpen(page);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  // The worker added COOP/COEP to the cached page and scripts: the reload is
  // cross-origin isolated, so TF.js runs threaded wasm, also offline.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('backend-status')).toHaveAttribute('title', /multi-threaded/, { timeout: 60_000 });

  // Opening other slides needs codec chunks and wasm the demo did not use (OpenJPEG
  // for JPEG 2000), from the cache only.
  await fileInput(page).setInputFiles(path.join(repoRoot, 'tests/fixtures/slide/svs-j2k-rgb.svs'));
  await expect(slideInfo(page)).toContainText('700 × 500 px');
  await expectViewerRendered(page);
  if (!ndpiPath) {
    test.info().annotations.push({ type: 'skipped part', description: missingDataMessage });
  } else {
    await fileInput(page).setInputFiles(ndpiPath);
    await expect(slideInfo(page)).toContainText('3968 × 4864 px');
    await expectViewerRendered(page, (s) => s.colour.brightBminusR > 60);
  }
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(failures).toEqual([]);
});

test('a server that sends COOP/COEP gives cross-origin isolation and threaded wasm on the first load', async ({ page }) => {
  const { server, url } = await privateServer(path.join(repoRoot, 'dist'), '/isolated/', true);
  try {
    await page.goto(url);
    await expectDemoOpen(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.getByTestId('backend-status')).toHaveAttribute('title', /multi-threaded/, { timeout: 60_000 });
    await expect(page.getByRole('alert')).toHaveCount(0);
  } finally {
    await stop(server);
  }
});

test('a new deployment waits, is announced, and takes over when the user reloads', async ({ page }) => {
  // Deploy a copy of dist/, visit it, then deploy a changed build at the same place.
  const folder = mkdtempSync(path.join(tmpdir(), 'tilescope-deploy-'));
  cpSync(path.join(repoRoot, 'dist'), folder, { recursive: true });
  const { server, url } = await privateServer(folder, '/app/');
  try {
    await page.goto(url);
    await expectDemoOpen(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    appendFileSync(path.join(folder, 'sw.js'), '\n// next deployment\n');
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration())!.update();
    });
    // The running page keeps its worker; the new one waits and the app offers a reload.
    const notice = page.getByRole('status').filter({ hasText: /new version/i });
    await expect(notice).toBeVisible();
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.waiting !== null)).toBe(true);
    await Promise.all([page.waitForEvent('load'), notice.getByRole('button', { name: /reload/i }).click()]);
    await expectDemoOpen(page);
    await expect
      .poll(() =>
        page.evaluate(async () => {
          const registration = await navigator.serviceWorker.getRegistration();
          return registration?.waiting === null && navigator.serviceWorker.controller?.state === 'activated';
        }),
      )
      .toBe(true);
  } finally {
    await stop(server);
    rmSync(folder, { recursive: true, force: true });
  }
});
