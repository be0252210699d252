import { test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { openApp, fileInput, viewer, repoRoot } from './helpers';
import { jsMemory } from './memory';
test('debug bigtiff', async ({ page }) => {
  test.setTimeout(180_000);
  execFileSync(process.execPath, [repoRoot + '/scripts/make-sparse-bigtiff.mjs', '/tmp/probe/sparse.tif', '2.5']);
  await openApp(page, '?demo=0');
  await fileInput(page).setInputFiles('/tmp/probe/sparse.tif');
  for (let i = 0; i < 3; i++) {
    await page.waitForTimeout(6000);
    const m = await jsMemory(page);
    console.log(await viewer(page).getAttribute('data-tiles-drawn'), (m.total / 2 ** 20).toFixed(1), m.isolates.map((x) => `${x.target.slice(0, 60)} ${(x.usedSize / 2 ** 20).toFixed(1)}+${(x.backingStorageSize / 2 ** 20).toFixed(1)}`).join(' | '));
  }
});
