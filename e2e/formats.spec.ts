import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { alertFor, expectDemoOpen, expectViewerRendered, fileInput, openApp, repoRoot, slideInfo, viewer } from './helpers';

// The format fixtures and their reference values (tifffile/vips/Pillow) come
// from scripts/make_slide_fixtures.py. The readers' unit tests check their
// pixels under Node; here each one goes through the real browser path
// (file input → worker pool → viewer), which is the only place WebP decodes.
const fixtureDir = path.join(repoRoot, 'tests/fixtures/slide');
const referencePath = path.join(fixtureDir, 'reference.json');

interface FixtureReference {
  levels?: [number, number][];
  mpp?: number;
}
const reference: { files: Record<string, FixtureReference>; bad: Record<string, string> } = existsSync(referencePath)
  ? JSON.parse(readFileSync(referencePath, 'utf8'))
  : { files: {}, bad: {} };
const openable = Object.entries(reference.files).filter(([, r]) => Array.isArray(r.levels));

test.describe('format fixtures in the browser', () => {
  test.skip(!existsSync(referencePath), `${referencePath} is missing`);

  for (const [name, ref] of openable) {
    test(`${name} opens and renders`, async ({ page }) => {
      await openApp(page, '?demo=0');
      await fileInput(page).setInputFiles(path.join(fixtureDir, name));
      const [width, height] = ref.levels![0];
      await expect(slideInfo(page)).toContainText(name);
      await expect(slideInfo(page)).toContainText(`${width} × ${height} px`);
      if (ref.mpp !== undefined) await expect(slideInfo(page)).toContainText(`${ref.mpp.toFixed(3)} µm/px`);
      await expectViewerRendered(page);
      await expect(viewer(page)).toHaveAttribute('data-tiles-failed', /^0?$/);
      await expect(page.getByRole('alert')).toHaveCount(0);
    });
  }

  test('broken fixtures give the reader\'s reason, one alert each', async ({ page }) => {
    const bad = Object.entries(reference.bad);
    await openApp(page);
    await expectDemoOpen(page);
    await fileInput(page).setInputFiles(bad.map(([name]) => path.join(fixtureDir, name)));
    for (const [name, reason] of bad) await expect(alertFor(page, name)).toContainText(`${name}: ${reason}`);
    await expect(page.getByRole('alert')).toHaveCount(bad.length);
    await expectDemoOpen(page);
  });
});
