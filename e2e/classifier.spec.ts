// The few-label classifier (seed 002) in the app: two regions of the demo
// slide are selected in the latent explorer and ticked as labelled classes,
// Mobincep trains briefly (small input and width, so it runs in seconds on
// wasm), and the slide's tiles are classified: the class map, the per-class
// areas and the metrics panel (held-out accuracy, confusion matrix, ROC) show.
import { expect, test } from '@playwright/test';
import { calibrate, dragOnSlide, openDemoWithTiles } from './helpers';

test('two labelled regions → Mobincep → class map with areas, metrics with confusion matrix and ROC', async ({ page }) => {
  test.setTimeout(300_000);
  await openDemoWithTiles(page);
  // Codes = tile positions (as in explorer.spec): the explorer opens without training the autoencoder.
  const { kept, width, height } = await page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const slideId = state.activeSlideId!;
    const tiles = state.analysis[slideId].tiles!;
    const latents = new Float32Array(2 * tiles.kept.length);
    tiles.kept.forEach((id, i) => {
      latents[2 * i] = tiles.x[id] / tiles.stride0;
      latents[2 * i + 1] = tiles.y[id] / tiles.stride0;
    });
    state.patchAnalysis(slideId, { latents, latentDim: 2 });
    const meta = state.slides.find((s) => s.id === slideId)!.metadata;
    return { kept: tiles.kept.length, width: meta.width, height: meta.height };
  });
  await expect(page.getByTestId('latent-scatter')).toBeVisible();
  const cal = await calibrate(page);
  // Selection 1: the left third of the slide; Selection 2: the right third.
  const slideRect = page.getByTestId('explorer-slide-rectangle');
  await slideRect.click();
  await dragOnSlide(page, cal, { x: 5, y: 5 }, { x: width / 3, y: height - 5 });
  await page.getByTestId('explorer-new').click();
  if ((await slideRect.getAttribute('aria-pressed')) !== 'true') await slideRect.click();
  await dragOnSlide(page, cal, { x: (2 * width) / 3, y: 5 }, { x: width - 5, y: height - 5 });
  const labelled = page.getByTestId('explorer-selection-labelled');
  await labelled.nth(0).check();
  await labelled.nth(1).check();
  const counts = await page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    return st.selections[st.activeSlideId!].set.selections.map((s) => s.members.reduce((a, b) => a + b, 0));
  });
  expect(counts[0]).toBeGreaterThan(10);
  expect(counts[1]).toBeGreaterThan(10);

  // Classes and their balance show in the classifier panel.
  const panel = page.getByTestId('classifier-panel');
  await panel.scrollIntoViewIfNeeded();
  await expect(page.getByTestId('classifier-balance')).toContainText(`Selection 1: ${counts[0]}`);
  await expect(page.getByTestId('classifier-balance')).toContainText(`Selection 2: ${counts[1]}`);
  await page.getByTestId('classifier-inputSize').fill('48');
  await page.getByTestId('classifier-width').fill('0.25');
  await page.getByTestId('classifier-epochs').fill('4');
  await page.getByTestId('classifier-patience').fill('0');
  await page.getByTestId('classifier-train').click();
  const metrics = page.getByTestId('classifier-metrics');
  await expect(metrics).toBeVisible({ timeout: 180_000 });
  const accuracy = Number(await metrics.getAttribute('data-accuracy'));
  expect(accuracy).toBeGreaterThanOrEqual(0);
  expect(accuracy).toBeLessThanOrEqual(1);
  // The confusion matrix holds every test example once (the held-out fifth).
  const cells = await page.getByTestId('classifier-confusion').locator('tr').evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).slice(4).map((td) => Number(td.textContent))));
  const tested = cells.flat().reduce((a, b) => a + b, 0);
  expect(tested).toBeGreaterThanOrEqual(Math.floor((counts[0] + counts[1]) / 5) - 1);
  expect(tested).toBeLessThanOrEqual(Math.ceil((counts[0] + counts[1]) / 5) + 1);
  await expect(page.getByTestId('classifier-roc')).toContainText('micro AUC');

  // Classify every kept tile: the class map paints each tile in one of the two class colours.
  await page.getByTestId('classifier-classify').click();
  const areas = page.getByTestId('classifier-areas');
  await expect(areas.locator('li')).toHaveCount(2, { timeout: 120_000 });
  const perClass = await areas.locator('li').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-count'))));
  expect(perClass[0] + perClass[1]).toBe(kept);
  await expect(areas).toContainText('mm²');
  const map = await page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    const layer = st.overlays.find((l) => l.id === `classifier-map-${st.activeSlideId}`);
    if (!layer || layer.kind !== 'tiles') return null;
    const colours = new Set<string>();
    for (let i = 0; i < layer.colors.length; i += 4) colours.add(layer.colors.slice(i, i + 3).join(','));
    return { tiles: layer.rects.length / 4, colours: [...colours] };
  });
  expect(map!.tiles).toBe(kept);
  const used = perClass.filter((n) => n > 0).length;
  expect(map!.colours).toHaveLength(used);
  await expect(page.getByTestId('classifier-result').getByTestId('latent-scatter')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
});
