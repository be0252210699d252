import { expect, test } from '@playwright/test';
import { badFiles } from './bad-files';
import { DEMO_NAME, alertFor, dropFiles, expectDemoOpen, fileInput, openApp, slideListItems } from './helpers';

test.describe('bad files give an alert and leave the app working', () => {
  for (const bad of badFiles()) {
    test(`${bad.name} (file input)`, async ({ page }) => {
      await openApp(page);
      await expectDemoOpen(page);
      await fileInput(page).setInputFiles({ name: bad.name, mimeType: 'application/octet-stream', buffer: bad.bytes });
      const alert = alertFor(page, bad.name);
      await expect(alert).toHaveCount(1);
      // `<file name>: <reason>` with a real reason.
      await expect(alert).toContainText(new RegExp(`${bad.name.replace(/\./g, '\\.')}: \\S.{3,}`));
      await expect(alert).toContainText(bad.reason);
      // The failing file is not listed, the demo slide still is and still renders.
      await expect(slideListItems(page).filter({ hasText: bad.name })).toHaveCount(0);
      await expect(slideListItems(page).filter({ hasText: DEMO_NAME })).toHaveCount(1);
      await expectDemoOpen(page);
    });
  }

  test('all bad files dropped together: one alert each, alerts dismissible', async ({ page }) => {
    const files = badFiles();
    await openApp(page);
    await expectDemoOpen(page);
    await dropFiles(page, files);
    for (const bad of files) await expect(alertFor(page, bad.name)).toHaveCount(1);
    await expect(page.getByRole('alert')).toHaveCount(files.length);
    const first = alertFor(page, files[0].name);
    await first.getByRole('button').first().click();
    await expect(first).toHaveCount(0);
    await expect(page.getByRole('alert')).toHaveCount(files.length - 1);
    await expectDemoOpen(page);
  });
});
