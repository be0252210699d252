import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { expectDemoOpen, openApp, viewer } from './helpers';

/** Level-0 pixel under the mouse, from the cursor readout (`x, y`). */
async function readoutAt(page: Page, x: number, y: number): Promise<[number, number]> {
  await page.mouse.move(x, y);
  const readout = page.getByTestId('cursor-readout');
  let value: [number, number] = [NaN, NaN];
  await expect
    .poll(async () => {
      const match = /(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)/.exec((await readout.textContent()) ?? '');
      value = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
      return Number.isFinite(value[0]);
    })
    .toBe(true);
  return value;
}

/** Level-0 pixels per screen pixel, measured through the cursor readout over 100 px. */
async function imagePixelsPerScreenPixel(page: Page): Promise<number> {
  const box = (await viewer(page).boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const a = await readoutAt(page, cx - 50, cy);
  const b = await readoutAt(page, cx + 50, cy);
  return (b[0] - a[0]) / 100;
}

/** Waits until the zoom settles (OpenSeadragon animates), then returns it. */
async function settledScale(page: Page): Promise<number> {
  let previous = NaN;
  let current = NaN;
  await expect
    .poll(async () => {
      previous = current;
      current = await imagePixelsPerScreenPixel(page);
      return Math.abs(current - previous) < 0.02 * Math.abs(current);
    })
    .toBe(true);
  return current;
}

test('keyboard: 1 shows 100 %, 0 fits the slide, + and − zoom', async ({ page }) => {
  await openApp(page);
  await expectDemoOpen(page);
  const box = (await viewer(page).boundingBox())!;
  const fit = await settledScale(page);
  // At "fit" the whole 2967 px tall slide spans at most the viewer height.
  expect(fit).toBeGreaterThanOrEqual(2967 / box.height - 0.05);
  await page.keyboard.press('1');
  // 100 %: one image pixel per screen pixel.
  expect(Math.abs((await settledScale(page)) - 1)).toBeLessThan(0.05);
  await page.keyboard.press('0');
  expect(Math.abs((await settledScale(page)) - fit) / fit).toBeLessThan(0.05);
  await page.keyboard.press('+');
  const zoomedIn = await settledScale(page);
  expect(zoomedIn).toBeLessThan(fit * 0.95);
  await page.keyboard.press('-');
  expect(await settledScale(page)).toBeGreaterThan(zoomedIn * 1.05);
});

test('keyboard: ? opens the shortcut help, Escape closes it', async ({ page }) => {
  await openApp(page);
  await expectDemoOpen(page);
  const help = page.getByRole('dialog', { name: /keyboard shortcuts/i });
  await expect(help).toHaveCount(0);
  await page.keyboard.press('?');
  await expect(help).toBeVisible();
  await expect(help).toContainText(/fit/i);
  await page.keyboard.press('Escape');
  await expect(help).toHaveCount(0);
});

test('export view downloads a PNG of the view', async ({ page }) => {
  await openApp(page);
  await expectDemoOpen(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-view').click()]);
  expect(download.suggestedFilename()).toMatch(/\.png$/);
  const bytes = readFileSync((await download.path())!);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // IHDR: a real image, not an empty canvas.
  expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
  expect(bytes.readUInt32BE(16)).toBeGreaterThan(0);
  expect(bytes.readUInt32BE(20)).toBeGreaterThan(0);
  expect(bytes.length).toBeGreaterThan(10_000);
});
