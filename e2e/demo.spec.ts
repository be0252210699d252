import { expect, test } from '@playwright/test';
import {
  DEMO_NAME,
  expectBrightfieldColours,
  expectDemoOpen,
  openApp,
  slideInfo,
  slideListItems,
  slideReferences,
  viewer,
} from './helpers';

test('the demo slide opens by default with its size, scale and real pixels', async ({ page }) => {
  await openApp(page);
  const stats = await expectDemoOpen(page);
  const info = slideInfo(page);
  await expect(info).toContainText(DEMO_NAME);
  await expect(info).toContainText('2220 × 2967 px');
  // The file has one level; the app adds downsampled levels it computes itself.
  await expect(info).toContainText('1 level (+2 generated)');
  await expect(info).toContainText('0.499 µm/px');
  // The canvas shows H&E colours as vips/OpenSlide decodes them (catches YCbCr/RGB mix-ups).
  expectBrightfieldColours(stats, slideReferences[DEMO_NAME]);
  await expect(page.getByTestId('scale-bar')).toContainText(/[µm]m/);
  await expect(viewer(page)).toHaveAttribute('data-tiles-failed', /^0?$/);
});

test('?demo=0 starts with no slide open', async ({ page }) => {
  await openApp(page, '?demo=0');
  // Give a demo load time to happen if the flag were ignored.
  await page.waitForTimeout(1500);
  await expect(slideListItems(page)).toHaveCount(0);
});
