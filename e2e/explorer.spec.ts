// The latent explorer on the demo slide: mask and tiles are computed by the
// app, then each kept tile gets a latent code equal to its tile position
// (column, row), so a shape in the scatter has a known set of tiles. The test
// draws rectangles and a lasso on the scatter, checks the selected tiles
// against a point-in-polygon count done here, checks the overlay paints
// exactly those tiles, undoes, and round-trips the selections through a
// GeoJSON file.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { calibrate, dragOnSlide, dragThrough, errorAlerts, openDemoWithTiles } from './helpers';

interface Snapshot {
  kept: number;
  /** Latent (plot) coordinates per kept tile. */
  xy: number[];
  transform: [number, number, number, number];
}

async function prepare(page: Page): Promise<Snapshot> {
  await openDemoWithTiles(page);
  // Codes = tile position in units of the tile step, so every point sits on a lattice.
  await page.evaluate(() => {
    const store = window.__tilescope!.store;
    const state = store.getState();
    const slideId = state.activeSlideId!;
    const tiles = state.analysis[slideId].tiles!;
    const latents = new Float32Array(2 * tiles.kept.length);
    tiles.kept.forEach((id, i) => {
      latents[2 * i] = Math.round(tiles.x[id] / tiles.stride0);
      latents[2 * i + 1] = Math.round(tiles.y[id] / tiles.stride0);
    });
    state.patchAnalysis(slideId, { latents, latentDim: 2 });
  });
  const scatter = page.getByTestId('latent-scatter');
  await expect(scatter).toBeVisible();
  await scatter.scrollIntoViewIfNeeded();
  return page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const a = state.analysis[state.activeSlideId!];
    const t = document.querySelector('[data-testid="latent-scatter"]')!.getAttribute('data-transform')!.split(',').map(Number);
    return { kept: a.tiles!.kept.length, xy: Array.from(a.latents!), transform: t as [number, number, number, number] };
  });
}

/** Page position of a plot point. */
async function toPage(page: Page, s: Snapshot, x: number, y: number): Promise<{ x: number; y: number }> {
  await page.getByTestId('latent-scatter').scrollIntoViewIfNeeded();
  const box = (await page.getByTestId('latent-scatter').boundingBox())!;
  const [sx, ox, sy, oy] = s.transform;
  return { x: box.x + x * sx + ox, y: box.y + y * sy + oy };
}

const drag = (page: Page, points: Array<{ x: number; y: number }>, modifier?: 'Shift' | 'Alt') => dragThrough(page, points, { modifier });

/** Members of each selection, and the tiles the overlay paints (alpha > 0), from the store. */
async function state(page: Page): Promise<{ members: number[][]; painted: number[] }> {
  return page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    const slideId = st.activeSlideId!;
    const members = (st.selections[slideId]?.set.selections ?? []).map((s) => Array.from(s.members));
    const layer = st.overlays.find((l) => l.id === `explorer-selections-${slideId}`);
    const painted: number[] = [];
    if (layer && layer.kind === 'tiles') for (let i = 0; 4 * i < layer.colors.length; i++) if (layer.colors[4 * i + 3] > 0) painted.push(i);
    return { members, painted };
  });
}

const indicesOf = (bits: number[]) => bits.flatMap((b, i) => (b ? [i] : []));

test('lasso and rectangle in the scatter select exactly the expected tiles, paint them, undo, and survive a GeoJSON round trip', async ({ page }) => {
  const s = await prepare(page);
  const xs = s.xy.filter((_, q) => q % 2 === 0);
  const ys = s.xy.filter((_, q) => q % 2 === 1);
  const [minX, maxX] = [Math.min(...xs), Math.max(...xs)];
  const [minY, maxY] = [Math.min(...ys), Math.max(...ys)];
  // Colour by latent 0: the lowest codes take the palette's first colour, the highest its last.
  await page.getByTestId('explorer-colour-by').selectOption('latent-0');
  const pixelAt = (px: number, py: number) =>
    page.evaluate(
      ([x, y, t]) => {
        const canvas = document.querySelector('[data-testid="latent-scatter"]') as HTMLCanvasElement;
        return Array.from(canvas.getContext('2d')!.getImageData(Math.round(x * t[0] + t[1]), Math.round(y * t[2] + t[3]), 1, 1).data);
      },
      [px, py, s.transform] as const,
    );
  const lowest = xs.indexOf(minX);
  const highest = xs.indexOf(maxX);
  expect(await pixelAt(xs[lowest], ys[lowest])).toEqual([255, 241, 168, 255]);
  expect(await pixelAt(xs[highest], ys[highest])).toEqual([40, 18, 90, 255]);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('explorer-export-png').click()]);
  expect(png.suggestedFilename()).toMatch(/latent-scatter\.png$/);
  expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe('PNG');

  // A rectangle over the left half of the codes, edges between lattice values
  // (the outer ones 0.3 steps out, which stays inside the plot's margin).
  const x1 = Math.floor((minX + maxX) / 2) + 0.5;
  const rectExpected = xs.map((x, i) => (x < x1 && ys[i] > minY - 0.3 && ys[i] < maxY + 0.3 ? 1 : 0));
  expect(indicesOf(rectExpected).length).toBeGreaterThan(0);

  await page.getByTestId('explorer-tool-rect').click();
  await drag(page, [await toPage(page, s, minX - 0.3, minY - 0.3), await toPage(page, s, x1, maxY + 0.3)]);
  let now = await state(page);
  expect(now.members).toHaveLength(1);
  expect(indicesOf(now.members[0])).toEqual(indicesOf(rectExpected));
  expect(now.painted).toEqual(indicesOf(rectExpected));
  await expect(page.getByTestId('explorer-selection')).toHaveAttribute('data-count', String(indicesOf(rectExpected).length));

  // Alt + lasso (a triangle) subtracts the points inside it.
  await page.getByTestId('explorer-tool-lasso').click();
  // Half of the rectangle, cut along its diagonal (vertices off the lattice lines).
  const triangle = [
    [minX - 0.3, maxY + 0.3],
    [x1 - 0.05, maxY + 0.3],
    [x1 - 0.05, minY - 0.3],
  ];
  const side = (p: number[], q: number[], x: number, y: number) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const inTriangle = (x: number, y: number) => {
    const d = [side(triangle[0], triangle[1], x, y), side(triangle[1], triangle[2], x, y), side(triangle[2], triangle[0], x, y)];
    return d.every((v) => v > 0) || d.every((v) => v < 0);
  };
  const afterSubtract = rectExpected.map((bit, i) => (bit && !inTriangle(xs[i], ys[i]) ? 1 : 0));
  const lassoPath = [];
  for (const [px, py] of [...triangle, triangle[0]]) lassoPath.push(await toPage(page, s, px, py));
  await drag(page, lassoPath, 'Alt');
  now = await state(page);
  // The lasso is drawn through mouse positions, so allow points within a pixel of its edges to differ.
  const differing = indicesOf(now.members[0].map((b, i) => (b !== afterSubtract[i] ? 1 : 0)));
  expect(differing.length).toBeLessThanOrEqual(2);
  expect(indicesOf(afterSubtract).length).toBeLessThan(indicesOf(rectExpected).length - 5);
  expect(now.painted).toEqual(indicesOf(now.members[0]));

  // Undo brings back the rectangle's selection exactly; redo the subtraction.
  await page.getByTestId('explorer-undo').click();
  expect(indicesOf((await state(page)).members[0])).toEqual(indicesOf(rectExpected));
  await page.getByTestId('explorer').focus();
  await page.keyboard.press('Control+Shift+Z');
  const selected = (await state(page)).members[0];
  expect(indicesOf(selected).length).toBeLessThan(indicesOf(rectExpected).length);

  // A second named selection from a Shift-rectangle on the right.
  await page.getByTestId('explorer-new').click();
  await page.getByTestId('explorer-tool-rect').click();
  await drag(page, [await toPage(page, s, x1, minY - 0.3), await toPage(page, s, maxX + 0.3, maxY + 0.3)], 'Shift');
  now = await state(page);
  expect(now.members).toHaveLength(2);
  const right = xs.map((x) => (x > x1 ? 1 : 0));
  expect(indicesOf(now.members[1])).toEqual(indicesOf(right));

  // The second selection becomes a labelled class (training data for the classifiers).
  await page.getByTestId('explorer-selection-labelled').nth(1).check();
  await expect(page.getByTestId('explorer-labels')).toContainText(`Selection 2 ${indicesOf(right).length}`);

  // Export GeoJSON, clear everything, import the file: the same two selections come back.
  const downloadPromise = page.waitForEvent('download');
  await page.getByTestId('explorer-export-geojson').click();
  const file = await (await downloadPromise).path();
  const geojson = JSON.parse(readFileSync(file!, 'utf8'));
  expect(geojson.features).toHaveLength(2);
  expect(geojson.features[0].properties.classification.name).toBe('Selection 1');
  expect(geojson.features[0].geometry.type).toBe('MultiPolygon');
  expect(geojson.features.map((f: { properties: { labelled?: boolean } }) => f.properties.labelled === true)).toEqual([false, true]);
  for (let i = 0; i < 5; i++) await page.getByTestId('explorer-undo').click();
  await expect(page.getByTestId('explorer-labels')).toHaveCount(0);
  expect((await state(page)).painted).toEqual([]);
  await page.getByTestId('explorer-import').setInputFiles(file!);
  await expect(page.getByTestId('explorer-selection')).toHaveCount(2);
  const back = await state(page);
  expect(back.members.map(indicesOf)).toEqual([indicesOf(selected), indicesOf(right)]);
  await expect(page.getByTestId('explorer-selection-labelled').nth(1)).toBeChecked();
  await expect(page.getByTestId('explorer-selection-labelled').nth(0)).not.toBeChecked();
  await expect(page.getByTestId('explorer-labels')).toContainText(`Selection 2 ${indicesOf(right).length}`);
  await expect(errorAlerts(page)).toHaveCount(0);
});

test('hovering a point shows its tile; a click on a tile of the slide rings its point in the scatter; a rectangle on the slide selects the tiles whose centres it holds', async ({ page }) => {
  const s = await prepare(page);
  // Hovering a point shows its tile, read from the slide.
  const row = Math.floor(s.kept / 3);
  const tileId = await page.evaluate((r) => {
    const st = window.__tilescope!.store.getState();
    return st.analysis[st.activeSlideId!].tiles!.kept[r];
  }, row);
  const p = await toPage(page, s, s.xy[2 * row], s.xy[2 * row + 1]);
  await page.mouse.move(p.x, p.y);
  const hover = page.getByTestId('explorer-hover');
  await expect(hover).toHaveAttribute('data-tile', String(tileId));
  await expect(hover.locator('canvas')).toHaveAttribute('data-drawn-tile', String(tileId), { timeout: 15_000 });
  const inked = await hover.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let varied = 0;
    for (let i = 4; i < data.length; i += 4) if (Math.abs(data[i] - data[0]) > 10) varied++;
    return varied;
  });
  expect(inked).toBeGreaterThan(100); // tissue texture, not a flat fill
  await page.mouse.move(1, 1);
  await expect(hover).toHaveCount(0);

  const tiles = await page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    const t = st.analysis[st.activeSlideId!].tiles!;
    return Array.from(t.kept, (id) => ({ cx: t.x[id] + t.width[id] / 2, cy: t.y[id] + t.height[id] / 2 }));
  });
  const cal = await calibrate(page);
  const target = Math.floor(tiles.length / 2);
  await page.getByTestId('explorer-slide-point').click();
  const at = cal.toScreen(tiles[target].cx, tiles[target].cy);
  await page.mouse.click(at.x, at.y);
  await expect(page.getByTestId('latent-scatter')).toHaveAttribute('data-highlight', String(target));
  await page.keyboard.press('Escape');

  // A rectangle around the middle third of the tile centres, in level-0 px.
  const xs = tiles.map((t) => t.cx).sort((a, b) => a - b);
  const ys = tiles.map((t) => t.cy).sort((a, b) => a - b);
  const box = { x0: xs[Math.floor(xs.length / 3)], x1: xs[Math.floor((2 * xs.length) / 3)], y0: ys[0] - 1, y1: ys[ys.length - 1] + 1 };
  const expected = tiles.flatMap((t, i) => (t.cx > box.x0 + 40 && t.cx < box.x1 - 40 ? [i] : []));
  const uncertain = tiles.flatMap((t, i) => (Math.abs(t.cx - box.x0) <= 40 || Math.abs(t.cx - box.x1) <= 40 ? [i] : []));
  await page.getByTestId('explorer-slide-rectangle').click();
  await dragOnSlide(page, cal, { x: box.x0, y: box.y0 }, { x: box.x1, y: box.y1 });
  const members = await page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    return Array.from(st.selections[st.activeSlideId!].set.selections[0].members);
  });
  const selected = indicesOf(members);
  // Every tile well inside is selected; nothing outside except within the calibration's error of the edges.
  for (const i of expected) expect(selected).toContain(i);
  for (const i of selected) expect(expected.includes(i) || uncertain.includes(i)).toBe(true);
  expect(selected.length).toBeGreaterThan(0);
});

test('wider codes are shown by PCA, and UMAP in the worker lays them out with the groups apart; back to PCA', async ({ page }) => {
  await openDemoWithTiles(page);
  // 5-D codes in two groups: tiles left of the middle column around one centre, the rest around another.
  const groups = await page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const slideId = state.activeSlideId!;
    const tiles = state.analysis[slideId].tiles!;
    const mid = tiles.x[tiles.kept[Math.floor(tiles.kept.length / 2)]];
    let seed = 1;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4;
    const group = tiles.kept.map((id) => (tiles.x[id] < mid ? 0 : 1));
    const latents = new Float32Array(5 * group.length);
    group.forEach((g, i) => {
      for (let d = 0; d < 5; d++) latents[5 * i + d] = (d === g ? 3 : 0) + noise();
    });
    state.patchAnalysis(slideId, { latents, latentDim: 5 });
    return group;
  });
  await expect(page.getByTestId('explorer-projection')).toBeVisible();
  await expect(page.locator('.latent-scatter figcaption')).toContainText('PC 1');
  await page.getByTestId('explorer-run-umap').click();
  await expect(page.locator('.latent-scatter figcaption')).toContainText('UMAP 1', { timeout: 60_000 });
  await expect(page.getByTestId('explorer-projection-method')).toHaveValue('umap');
  // In the layout, each point's nearest neighbour belongs to its own group.
  const agreement = await page.evaluate((group) => {
    const state = window.__tilescope!.store.getState();
    const xy = state.analysis[state.activeSlideId!].projection!.xy;
    let agree = 0;
    for (let i = 0; i < group.length; i++) {
      let best = Infinity;
      let nearest = -1;
      for (let j = 0; j < group.length; j++) {
        if (j === i) continue;
        const d = (xy[2 * i] - xy[2 * j]) ** 2 + (xy[2 * i + 1] - xy[2 * j + 1]) ** 2;
        if (d < best) [best, nearest] = [d, j];
      }
      if (group[nearest] === group[i]) agree++;
    }
    return agree / group.length;
  }, groups);
  expect(agreement).toBeGreaterThan(0.97);
  await page.getByTestId('explorer-projection-method').selectOption('pca');
  await expect(page.locator('.latent-scatter figcaption')).toContainText('PC 1');
});
