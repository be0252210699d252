import { test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { openApp, fileInput, viewer, repoRoot } from './helpers';
test('debug bigtiff', async ({ page }) => {
  test.setTimeout(180_000);
  execFileSync(process.execPath, [repoRoot + '/scripts/make-sparse-bigtiff.mjs', '/tmp/probe/sparse.tif', '2.5']);
  page.on('console', (m) => console.log('console', m.type(), m.text().slice(0, 200)));
  await openApp(page, '?demo=0');
  const t0 = Date.now();
  await fileInput(page).setInputFiles('/tmp/probe/sparse.tif');
  for (let i = 0; i < 24; i++) {
    await page.waitForTimeout(5000);
    console.log((Date.now() - t0) / 1000, await viewer(page).getAttribute('data-tiles-drawn'), await viewer(page).getAttribute('data-tiles-failed'));
  }
  await page.screenshot({ path: '/tmp/probe/big.png' });
});
