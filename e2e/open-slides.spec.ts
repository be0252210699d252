import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import {
  DEMO_NAME,
  NDPI_NAME,
  dropFiles,
  expectBrightfieldColours,
  expectFluorescenceColours,
  expectViewerRendered,
  fileInput,
  missingDataMessage,
  openApp,
  realSlidePath,
  sizeText,
  slideInfo,
  slideListItems,
  slideReferences,
  viewer,
} from './helpers';

const svsPath = realSlidePath(DEMO_NAME);
const ndpiPath = realSlidePath(NDPI_NAME);

test.describe('opening real slides', () => {
  test.skip(!svsPath || !ndpiPath, missingDataMessage);

  async function expectActiveSvs(page: import('@playwright/test').Page) {
    const info = slideInfo(page);
    await expect(info).toContainText(DEMO_NAME);
    await expect(info).toContainText(sizeText(slideReferences[DEMO_NAME]));
    await expect(info).toContainText('0.499 µm/px');
    const stats = await expectViewerRendered(page, (s) => s.colour.tissueRminusG > 20);
    expectBrightfieldColours(stats, slideReferences[DEMO_NAME]);
  }

  async function expectActiveNdpi(page: import('@playwright/test').Page) {
    const info = slideInfo(page);
    await expect(info).toContainText(NDPI_NAME);
    // tifffile: level 0 is 3968 wide and 4864 tall.
    await expect(info).toContainText('3968 × 4864 px');
    await expect(info).toContainText('4 levels');
    await expect(info).toContainText('0.228 µm/px');
    const stats = await expectViewerRendered(page, (s) => s.colour.brightBminusR > 60);
    expectFluorescenceColours(stats, slideReferences[NDPI_NAME]);
  }

  test('file input: SVS and NDPI', async ({ page }) => {
    await openApp(page, '?demo=0');
    await fileInput(page).setInputFiles(svsPath!);
    await expectActiveSvs(page);
    await fileInput(page).setInputFiles(ndpiPath!);
    await expectActiveNdpi(page);
    await expect(slideListItems(page)).toHaveCount(2);
    await expect(viewer(page)).toHaveAttribute('data-tiles-failed', /^0?$/);
  });

  test('drop on the window: SVS and NDPI in one drop', async ({ page }) => {
    await openApp(page, '?demo=0');
    await dropFiles(page, [
      { name: DEMO_NAME, bytes: readFileSync(svsPath!) },
      { name: NDPI_NAME, bytes: readFileSync(ndpiPath!) },
    ]);
    await expect(slideListItems(page)).toHaveCount(2);
    await expect(slideListItems(page).filter({ hasText: DEMO_NAME })).toHaveCount(1);
    await expect(slideListItems(page).filter({ hasText: NDPI_NAME })).toHaveCount(1);
    // Each opened slide becomes the active one, so the last one dropped is shown.
    await expectActiveNdpi(page);
  });

  test('the slide list switches the active slide and closes slides', async ({ page }) => {
    await openApp(page);
    await expect(slideInfo(page)).toContainText(DEMO_NAME);
    await fileInput(page).setInputFiles(ndpiPath!);
    await expectActiveNdpi(page);
    await slideListItems(page).filter({ hasText: DEMO_NAME }).getByText(DEMO_NAME).click();
    await expectActiveSvs(page);
    const ndpiItem = slideListItems(page).filter({ hasText: NDPI_NAME });
    await ndpiItem.getByRole('button', { name: /close/i }).click();
    await expect(slideListItems(page)).toHaveCount(1);
    await expect(slideInfo(page)).toContainText(DEMO_NAME);
  });
});
