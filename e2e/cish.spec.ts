// CISH expression mapping end to end on the demo slide, with a tiny budget:
// mask → tiles → train (1 epoch) → encode → cluster (K = 3) → map, scatter and exports.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { dragThrough, errorAlerts, expectDemoOpen, openApp } from './helpers';

declare global {
  interface Window {
    __longTasks?: number[];
  }
}

async function downloadText(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: readFileSync(path!, 'utf8') };
}

test('CISH: mask, tiles, train, encode, cluster, map, scatter and exports', async ({ page }) => {
  test.setTimeout(240_000);
  // Main-thread long tasks, recorded from the very start of the page.
  await page.addInitScript(() => {
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__longTasks!.push(entry.duration);
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      // longtask is Chromium-only; the test reads an empty list elsewhere.
    }
  });
  await openApp(page);
  await expectDemoOpen(page);
  const panel = page.getByTestId('cish-panel');
  await expect(panel).toBeVisible();
  await expect(page.getByTestId('backend-status')).toContainText(/Compute backend: (wasm|webgl|webgpu|cpu)/, { timeout: 60_000 });
  const backend = await page.getByTestId('backend-status').getAttribute('data-backend');
  // On wasm with two or more cores, training and encoding below run in data-parallel copies of the model.
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  if (backend === 'wasm' && cores >= 2) {
    await expect(page.getByTestId('backend-status')).toHaveAttribute('title', /\d copies of the model train and encode in parallel workers/);
  }

  // 1. Mask.
  await page.getByTestId('cish-mask').click();
  await expect(page.getByTestId('cish-mask-result')).toContainText('threshold', { timeout: 60_000 });

  // 2. Tiles: an invalid value blocks the button and shows an error.
  await page.getByTestId('cish-train-count').fill('0');
  await expect(page.getByTestId('cish-tiles')).toBeDisabled();
  await expect(panel).toContainText('must be ≥ 1');
  await page.getByTestId('cish-train-count').fill('16');
  await page.getByTestId('cish-tiles').click();
  const tilesResult = page.getByTestId('cish-tiles-result');
  await expect(tilesResult).toBeVisible({ timeout: 30_000 });
  const kept = Number(await tilesResult.getAttribute('data-kept'));
  expect(kept).toBeGreaterThan(16);
  expect(Number(await tilesResult.getAttribute('data-train'))).toBe(16);

  // 3. Train one epoch of 16 tiles in batches of 8, watching the main thread. The panel's
  // stopping rule and glass fill are `analyze`'s defaults.
  await expect(page.getByTestId('cish-fill-glass')).toBeChecked();
  await expect(page.getByTestId('cish-patience')).toHaveValue('5');
  await expect(page.getByTestId('cish-max-minutes')).toHaveValue('10');
  await page.getByTestId('cish-epochs').fill('1');
  await page.getByTestId('cish-batch').fill('8');
  await expect(panel).toContainText('seed used 30–60');
  await page.evaluate(() => (window.__longTasks = []));
  const trainStart = Date.now();
  await page.getByTestId('cish-train').click();
  await expect(page.getByTestId('cish-train-status')).toContainText('finished', { timeout: 150_000 });
  const trainSeconds = (Date.now() - trainStart) / 1000;
  const longTasks = await page.evaluate(() => window.__longTasks ?? []);
  await expect(page.getByTestId('cish-loss-chart')).toBeVisible();
  console.log(`backend ${backend}; training ${trainSeconds.toFixed(1)} s; main-thread long tasks during training: ${longTasks.length}, max ${Math.max(0, ...longTasks).toFixed(0)} ms`);
  expect(Math.max(0, ...longTasks), `longest main-thread task while training (ms); all: ${longTasks.map((d) => d.toFixed(0)).join(', ')}`).toBeLessThanOrEqual(50);

  // 4. Encode every kept tile.
  await page.getByTestId('cish-encode').click();
  await expect(page.getByTestId('cish-encode-result')).toContainText(`${kept} codes`, { timeout: 120_000 });

  // 5. Cluster with K = 3 (k-means first: one-hot memberships; then the seed's
  // fuzzy c-means, which the rest of the test uses), and the FPC curve for K = 2…12.
  await page.getByTestId('cish-k').fill('3');
  await page.getByTestId('cish-cluster-method').selectOption('kmeans');
  await page.getByTestId('cish-cluster').click();
  const legend = page.getByTestId('cish-legend');
  await expect(legend.locator('li')).toHaveCount(3, { timeout: 30_000 });
  const memberships = () =>
    page.evaluate(() => {
      const state = window.__tilescope!.store.getState();
      return Array.from(state.analysis[state.activeSlideId!].memberships ?? []);
    });
  const hard = await memberships();
  expect(hard.length).toBe(3 * kept);
  expect(hard.every((u) => u === 0 || u === 1)).toBe(true);
  await page.getByTestId('cish-cluster-method').selectOption('fcm');
  await page.getByTestId('cish-cluster').click();
  await expect.poll(async () => (await memberships()).some((u) => u > 0 && u < 1), { timeout: 30_000 }).toBe(true);
  await expect(legend.locator('li')).toHaveCount(3);
  await page.getByTestId('cish-fpc').click();
  await expect(page.getByTestId('cish-fpc-chart')).toHaveAttribute('data-points', '11', { timeout: 30_000 });

  // 6. The map overlay is drawn with coloured pixels.
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer"] .overlay-canvas');
          if (!canvas || canvas.width === 0) return 0;
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let coloured = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2])) coloured++;
          return coloured / (canvas.width * canvas.height);
        }),
      { message: 'share of coloured overlay pixels' },
    )
    .toBeGreaterThan(0.05);

  // 7. The scatter shows one point per kept tile; clicking one pans the viewer to its tile.
  const scatter = page.getByTestId('latent-scatter');
  await expect(scatter).toHaveAttribute('data-point-count', String(kept));
  const target = await page.evaluate(() => {
    const state = window.__tilescope!.store.getState() as unknown as {
      activeSlideId: string;
      analysis: Record<string, { latents: Float32Array; tiles: { kept: Uint32Array } }>;
    };
    const a = state.analysis[state.activeSlideId];
    const [sx, ox, sy, oy] = document.querySelector('[data-testid="latent-scatter"]')!.getAttribute('data-transform')!.split(',').map(Number);
    return { x: a.latents[0] * sx + ox, y: a.latents[1] * sy + oy, tile: a.tiles.kept[0] };
  });
  await scatter.click({ position: { x: target.x, y: target.y } });
  await expect(scatter).toHaveAttribute('data-picked-tile', /\d+/);

  // 8. CSV: one row per kept tile with the documented columns.
  const csv = await downloadText(page, 'cish-export-csv');
  expect(csv.name).toMatch(/\.csv$/);
  const lines = csv.text.trimEnd().split('\n');
  expect(lines[0]).toBe('tile_id,x,y,width,height,latent_0,latent_1,cluster,membership_0,membership_1,membership_2');
  expect(lines).toHaveLength(kept + 1);
  const row = lines[1].split(',').map(Number);
  expect(row.every(Number.isFinite)).toBe(true);
  expect(row[3]).toBeGreaterThan(250); // ~150 µm at 0.499 µm/px
  expect(row[8] + row[9] + row[10]).toBeCloseTo(1, 4);
  expect([0, 1, 2]).toContain(row[7]);

  // 9. GeoJSON: one polygon per kept tile, classified the way QuPath reads it.
  const geo = await downloadText(page, 'cish-export-geojson');
  expect(geo.name).toMatch(/\.geojson$/);
  const fc = JSON.parse(geo.text);
  expect(fc.type).toBe('FeatureCollection');
  expect(fc.features).toHaveLength(kept);
  const names = new Set<string>();
  for (const feature of fc.features) {
    expect(feature.geometry.type).toBe('Polygon');
    expect(feature.geometry.coordinates[0]).toHaveLength(5);
    const cls = feature.properties.classification;
    expect(cls.name).toMatch(/^Expression [123]$/);
    expect(cls.color).toHaveLength(3);
    names.add(cls.name);
  }
  expect(names.size).toBeGreaterThan(1);
  // Names follow the tiles' tissue optical density, as `analyze` names them (features follow the kept tiles).
  const densities = await page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    return Array.from(state.analysis[state.activeSlideId!].densities ?? []);
  });
  expect(densities).toHaveLength(kept);
  const byName = new Map<string, number[]>();
  fc.features.forEach((f: { properties: { classification: { name: string } } }, i: number) => byName.set(f.properties.classification.name, [...(byName.get(f.properties.classification.name) ?? []), densities[i]]));
  const meanDensity = [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([, d]) => d.reduce((x, y) => x + y, 0) / d.length);
  expect(meanDensity, 'mean tissue density of Expression 1, 2, 3').toEqual([...meanDensity].sort((a, b) => a - b));

  // 10. Map PNG export.
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cish-export-map').click()]);
  expect(png.suggestedFilename()).toMatch(/\.png$/);
  await page.screenshot({ path: test.info().outputPath('cish-flow.png') });

  // 11. A rectangle over the whole scatter selects every tile; reloading the
  // page restores the results of this slide, the selection included, from IndexedDB.
  await page.getByTestId('explorer-tool-rect').click();
  await scatter.scrollIntoViewIfNeeded();
  const box = (await scatter.boundingBox())!;
  await dragThrough(page, [
    { x: box.x + 2, y: box.y + 2 },
    { x: box.x + box.width - 2, y: box.y + box.height - 2 },
  ]);
  await expect(page.getByTestId('explorer-selection')).toHaveAttribute('data-count', String(kept));
  await page.reload();
  await expectDemoOpen(page);
  await expect(page.getByTestId('cish-legend').locator('li')).toHaveCount(3, { timeout: 30_000 });
  await expect(page.getByTestId('latent-scatter')).toHaveAttribute('data-point-count', String(kept));
  await expect(page.getByTestId('explorer-selection')).toHaveAttribute('data-count', String(kept));

  // 12. The trained model is listed, exports as model.json + weights, and imports back.
  await page.locator('.cish-models', { has: page.getByTestId('cish-models') }).locator('summary').click();
  const modelRow = page.getByTestId('cish-models').locator('li').first();
  await expect(modelRow).toContainText('(this slide)');
  const downloads: { name: string; path: string }[] = [];
  page.on('download', async (d) => downloads.push({ name: d.suggestedFilename(), path: (await d.path())! }));
  await modelRow.getByRole('button', { name: 'Export' }).click();
  await expect.poll(() => downloads.length, { message: 'model files downloaded' }).toBe(2);
  const json = downloads.find((d) => d.name.endsWith('.json'))!;
  const weights = downloads.find((d) => d.name.endsWith('.bin'))!;
  const manifest = JSON.parse(readFileSync(json.path, 'utf8'));
  expect(manifest.format).toBe('layers-model');
  expect(manifest.userDefinedMetadata.tilescope).toBe('cish');
  const weightBytes = manifest.weightsManifest[0].weights.reduce((sum: number, w: { shape: number[] }) => sum + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  expect(readFileSync(weights.path).byteLength).toBe(weightBytes);
  await page.getByTestId('cish-models-import').setInputFiles([
    { name: json.name, mimeType: 'application/json', buffer: readFileSync(json.path) },
    { name: weights.name, mimeType: 'application/octet-stream', buffer: readFileSync(weights.path) },
  ]);
  await expect(errorAlerts(page)).toHaveCount(0);
  await expect(page.getByTestId('cish-encode')).toBeEnabled();
});

test('CISH: training checkpoints every epoch and resumes after a reload', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page);
  await expectDemoOpen(page);
  await page.getByTestId('cish-train-count').fill('8');
  await page.getByTestId('cish-tiles').click();
  await expect(page.getByTestId('cish-tiles-result')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('cish-epochs').fill('40');
  await page.getByTestId('cish-batch').fill('8');
  await page.getByTestId('cish-train').click();
  // Pause and resume through the panel.
  await page.getByTestId('cish-pause').click();
  await expect(page.getByTestId('cish-train-status')).toContainText('paused');
  await page.getByTestId('cish-pause').click();
  // Wait for two epochs (two checkpoints), then reload mid-training.
  await expect(page.getByTestId('cish-train-status')).toContainText(/epoch ([3-9]|\d\d)\/40/, { timeout: 90_000 });
  await page.reload();
  await expectDemoOpen(page);
  const offer = page.getByTestId('cish-resume');
  await expect(offer).toContainText(/epoch \d+\/40 saved/, { timeout: 30_000 });
  const done = Number((await offer.textContent())!.match(/epoch (\d+)\/40/)![1]);
  expect(done).toBeGreaterThanOrEqual(2);
  await page.getByTestId('cish-epochs').fill('40');
  await offer.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('cish-train-status')).toContainText(new RegExp(`epoch (${done + 1}|${done + 2})/40`), { timeout: 60_000 });
  await page.getByTestId('cish-cancel').click();
  await expect(page.getByTestId('cish-train-status')).toContainText('finished', { timeout: 30_000 });
});
