import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectViewerRendered, fileInput, openApp, repoRoot, slideInfo, slideListItems, viewer } from './helpers';
import { jsMemory } from './memory';

const MiB = 1024 * 1024;

test('a 2.5 GB BigTIFF opens by path, renders, and JS memory stays under 500 MB', async ({ page }) => {
  // scripts/make-sparse-bigtiff.mjs writes a sparse file: instant, and almost no disk.
  const folder = mkdtempSync(path.join(tmpdir(), 'tilescope-bigtiff-'));
  const file = path.join(folder, 'sparse-2.5GB.tif');
  try {
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts/make-sparse-bigtiff.mjs'), file, '2.5'], { stdio: 'pipe' });
    expect(statSync(file).size).toBeGreaterThan(2 * 1024 * MiB);

    await openApp(page, '?demo=0');
    // A path, not a buffer: the browser reads the file lazily, as a user's pick would be.
    await fileInput(page).setInputFiles(file);
    await expect(slideListItems(page).filter({ hasText: 'sparse-2.5GB.tif' })).toHaveCount(1);
    await expect(slideInfo(page)).toContainText('sparse-2.5GB.tif');
    // The script writes a 120000 × 80000 px pyramid at 0.25 µm/px.
    await expect(slideInfo(page)).toContainText('120000 × 80000 px');
    await expect(slideInfo(page)).toContainText('0.250 µm/px');
    await expectViewerRendered(page);
    await expect(viewer(page)).toHaveAttribute('data-tiles-failed', /^0?$/);

    const memory = await jsMemory(page);
    const report = memory.isolates
      .map((m) => `${m.target}: heap ${(m.usedSize / MiB).toFixed(1)} MiB, array buffers ${(m.backingStorageSize / MiB).toFixed(1)} MiB`)
      .join('\n');
    test.info().annotations.push({ type: 'js memory', description: `${(memory.total / MiB).toFixed(1)} MiB in all\n${report}` });
    console.log(`[bigtiff] JS memory ${(memory.total / MiB).toFixed(1)} MiB\n${report}`);
    expect(memory.unresponsive, 'every worker answers (none stuck in one long task)').toEqual([]);
    expect(memory.total, report).toBeLessThan(500 * 1000 * 1000);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
