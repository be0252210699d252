// Drawing on the slide in the CISH workflow, on the demo slide: the brush edits
// the tissue mask (and Ctrl+Z undoes it), a rectangle drawn on the viewer picks
// the training tiles, and swipe shows the map only left of a dragged divider.
// Screen ↔ level-0 positions are calibrated with the cursor readout, so the
// test checks the tools' coordinates against an independent conversion.
import { expect, test, type Page } from '@playwright/test';
import { calibrate, dragOnSlide, expectDemoOpen, openApp, readoutAt, viewer } from './helpers';

interface MaskSnapshot {
  width: number;
  height: number;
  downsample: number;
  data: number[];
}

interface TilesSnapshot {
  x: number[];
  y: number[];
  width: number[];
  height: number[];
  kept: number[];
  train: number[];
  stride0: number;
}

async function maskOf(page: Page): Promise<MaskSnapshot> {
  return page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const mask = state.analysis[state.activeSlideId!].mask!;
    return { width: mask.width, height: mask.height, downsample: mask.downsample, data: Array.from(mask.data) };
  });
}

async function tilesOf(page: Page): Promise<TilesSnapshot> {
  return page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const t = state.analysis[state.activeSlideId!].tiles!;
    return {
      x: Array.from(t.x),
      y: Array.from(t.y),
      width: Array.from(t.width),
      height: Array.from(t.height),
      kept: Array.from(t.kept),
      train: Array.from(t.train),
      stride0: t.stride0,
    };
  });
}

/** Clicks "Make tiles" and waits until the store holds a new tile grid. */
async function makeTiles(page: Page): Promise<TilesSnapshot> {
  await page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    (window as unknown as { __tilesBefore: unknown }).__tilesBefore = state.analysis[state.activeSlideId!]?.tiles ?? null;
  });
  await page.getByTestId('cish-tiles').click();
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const state = window.__tilescope!.store.getState();
          return (state.analysis[state.activeSlideId!]?.tiles ?? null) !== (window as unknown as { __tilesBefore: unknown }).__tilesBefore;
        }),
      { message: 'a new tile grid', timeout: 30_000 },
    )
    .toBe(true);
  return tilesOf(page);
}

/** Overlay pixels with any alpha, left of `split` − 1 and right of `split` + 1 (canvas px). */
async function overlayCoverage(page: Page, split: number): Promise<{ left: number; right: number; width: number }> {
  return page.evaluate((splitAt) => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewer"] .overlay-canvas');
    if (!canvas || canvas.width === 0) return { left: 0, right: 0, width: 0 };
    const { data, width, height } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let left = 0;
    let right = 0;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        if (data[4 * (y * width + x) + 3] === 0) continue;
        if (x < splitAt - 1) left++;
        else if (x > splitAt + 1) right++;
      }
    return { left, right, width };
  }, split);
}

test('CISH drawing: brush edits the mask with undo, a drawn rectangle picks the training tiles, swipe clips the map', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page);
  await expectDemoOpen(page);
  const panel = page.getByTestId('cish-panel');
  await expect(panel).toBeVisible();

  // 1. Mask.
  await page.getByTestId('cish-mask').click();
  await expect(page.getByTestId('cish-mask-result')).toContainText('threshold', { timeout: 60_000 });
  const maskEdit = page.getByTestId('cish-mask-edit');
  const before = await maskOf(page);
  const tissueBefore = Number(await maskEdit.getAttribute('data-tissue-pixels'));
  expect(tissueBefore).toBe(before.data.filter((v) => v !== 0).length);
  expect(tissueBefore).toBeGreaterThan(0);

  const cal = await calibrate(page);
  const slide = await page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const s = state.slides.find((x) => x.id === state.activeSlideId)!;
    return { width: s.metadata.width, height: s.metadata.height, mpp: s.metadata.mppX! };
  });

  // 2. Brush: paint a short stroke on glass, well away from tissue.
  const radiusUm = 40;
  const radius0 = radiusUm / slide.mpp;
  const strokeLength0 = 120; // level-0 px, left to right
  // Mask px around the stroke's middle that must all be glass.
  const reach = Math.ceil((radius0 + strokeLength0 / 2) / before.downsample) + 2;
  const isGlassAround = (mx: number, my: number) => {
    for (let y = my - reach; y <= my + reach; y++)
      for (let x = mx - reach; x <= mx + reach; x++) {
        if (x < 0 || y < 0 || x >= before.width || y >= before.height) return false;
        if (before.data[y * before.width + x] !== 0) return false;
      }
    return true;
  };
  // Only where the stroke is on screen, clear of the toolbar and the tool's hint at the top.
  const view = (await viewer(page).boundingBox())!;
  const onScreen = (mx: number, my: number) => {
    const s = cal.toScreen((mx + 0.5) * before.downsample, (my + 0.5) * before.downsample);
    return s.x > view.x + 0.1 * view.width && s.x < view.x + 0.9 * view.width && s.y > view.y + 0.3 * view.height && s.y < view.y + 0.8 * view.height;
  };
  let glass: { mx: number; my: number } | null = null;
  for (let my = 0; my < before.height && !glass; my++)
    for (let mx = 0; mx < before.width && !glass; mx++) if (onScreen(mx, my) && isGlassAround(mx, my)) glass = { mx, my };
  expect(glass, 'a patch of glass in the mask to paint on').not.toBeNull();
  const start = { x: (glass!.mx + 0.5) * before.downsample - strokeLength0 / 2, y: (glass!.my + 0.5) * before.downsample };
  const end = { x: start.x + strokeLength0, y: start.y };

  await page.getByTestId('cish-brush-radius').fill(String(radiusUm));
  await page.getByTestId('cish-mask-paint').click();
  await expect(page.getByTestId('draw-tool-hint')).toHaveAttribute('data-tool', 'brush');
  await dragOnSlide(page, cal, start, end);
  await expect.poll(async () => Number(await maskEdit.getAttribute('data-tissue-pixels')), { message: 'tissue pixels after painting' }).toBeGreaterThan(tissueBefore);
  await page.screenshot({ path: test.info().outputPath('cish-brush.png') });
  const painted = await maskOf(page);
  // Every new tissue pixel lies within the brush radius (plus calibration slack) of the stroke.
  let added = 0;
  for (let i = 0; i < painted.data.length; i++) {
    if (painted.data[i] === before.data[i]) continue;
    expect(before.data[i]).toBe(0);
    added++;
    const cx = ((i % painted.width) + 0.5) * painted.downsample;
    const cy = (Math.floor(i / painted.width) + 0.5) * painted.downsample;
    const along = Math.max(start.x, Math.min(end.x, cx));
    expect(Math.hypot(cx - along, cy - start.y)).toBeLessThanOrEqual(radius0 + painted.downsample * 1.5);
  }
  // At least most of one brush disc was painted.
  expect(added).toBeGreaterThanOrEqual(Math.floor((Math.PI * (radius0 / before.downsample) ** 2) * 0.8));

  // Ctrl+Z restores the mask exactly; Escape stops the brush.
  await page.keyboard.press('Control+z');
  await expect.poll(async () => Number(await maskEdit.getAttribute('data-tissue-pixels'))).toBe(tissueBefore);
  expect((await maskOf(page)).data).toEqual(before.data);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('draw-tool-hint')).toHaveCount(0);
  await expect(page.getByTestId('cish-mask-paint')).toHaveAttribute('aria-pressed', 'false');

  // 3. A first grid (300 µm tiles, random sample) to know where tile centres are.
  await page.getByLabel('Tile size in µm').fill('300');
  await page.getByLabel('Overlap in µm').fill('150');
  await page.getByTestId('cish-train-count').fill('8');
  const sampled = await makeTiles(page);
  expect(sampled.train).toHaveLength(8);

  // 4. A rectangle between four tile centres holds no tile: Make tiles says so.
  const centre = (id: number) => ({ x: sampled.x[id] + sampled.width[id] / 2, y: sampled.y[id] + sampled.height[id] / 2 });
  const middle = sampled.kept
    .map(centre)
    .reduce((best, c) => (Math.hypot(c.x - slide.width / 2, c.y - slide.height / 2) < Math.hypot(best.x - slide.width / 2, best.y - slide.height / 2) ? c : best));
  const gap = { x: middle.x + sampled.stride0 / 2, y: middle.y + sampled.stride0 / 2 };
  const half = sampled.stride0 * 0.3;
  await page.getByTestId('cish-draw-rectangle').click();
  await expect(page.getByTestId('draw-tool-hint')).toHaveAttribute('data-tool', 'rectangle');
  await dragOnSlide(page, cal, { x: gap.x - half, y: gap.y - half }, { x: gap.x + half, y: gap.y + half });
  await expect(page.getByTestId('cish-region')).toBeVisible();
  await expect(page.getByTestId('cish-train-from-region')).toBeChecked();
  await page.getByTestId('cish-tiles').click();
  const emptyAlert = page.getByRole('alert').filter({ hasText: 'holds no kept tile' });
  await expect(emptyAlert).toBeVisible({ timeout: 30_000 });
  await emptyAlert.getByRole('button', { name: 'Dismiss' }).click();

  // 5. Polygons: click the corners and double-click the last one; the view must not zoom.
  const corner = (fx: number, fy: number) => ({ x: slide.width * fx, y: slide.height * fy });
  const clickAt = (p: { x: number; y: number }) => {
    const s = cal.toScreen(p.x, p.y);
    return page.mouse.click(s.x, s.y);
  };
  const expectRegion = async (points: { x: number; y: number }[]) => {
    const values = (await page.getByTestId('cish-region').getAttribute('data-region'))!.split(',').map(Number);
    expect(values).toHaveLength(2 * points.length);
    points.forEach((p, i) => {
      expect(Math.abs(values[2 * i] - p.x), `x of corner ${i}`).toBeLessThan(0.01 * slide.width);
      expect(Math.abs(values[2 * i + 1] - p.y), `y of corner ${i}`).toBeLessThan(0.01 * slide.width);
    });
  };
  const triangle = [corner(0.35, 0.3), corner(0.65, 0.35), corner(0.5, 0.55)];
  await page.getByTestId('cish-draw-polygon').click();
  await expect(page.getByTestId('draw-tool-hint')).toHaveAttribute('data-tool', 'polygon');
  await clickAt(triangle[0]);
  await clickAt(triangle[1]);
  const last = cal.toScreen(triangle[2].x, triangle[2].y);
  await page.mouse.move(last.x + 30, last.y + 10);
  await page.screenshot({ path: test.info().outputPath('cish-polygon-preview.png') });
  await page.mouse.dblclick(last.x, last.y);
  await expect(page.getByTestId('draw-tool-hint')).toHaveCount(0);
  await expectRegion(triangle);
  const probe = cal.toScreen(slide.width * 0.5, slide.height * 0.5);
  const still = await readoutAt(page, probe.x, probe.y);
  expect(Math.abs(still.x - slide.width * 0.5), 'the double-click did not zoom the view').toBeLessThan(0.01 * slide.width);

  // Ctrl+Z drops the last corner, Enter finishes; Escape cancels a polygon and keeps the region.
  const quad = [corner(0.3, 0.3), corner(0.7, 0.3), corner(0.7, 0.6), corner(0.3, 0.6)];
  await page.getByTestId('cish-draw-polygon').click();
  await clickAt(quad[0]);
  await clickAt(corner(0.5, 0.45));
  await page.keyboard.press('Control+z');
  for (const p of quad.slice(1)) await clickAt(p);
  await page.keyboard.press('Enter');
  await expectRegion(quad);
  await page.getByTestId('cish-draw-polygon').click();
  await clickAt(corner(0.4, 0.4));
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('draw-tool-hint')).toHaveCount(0);
  await expectRegion(quad);

  // 6. The real region: a rectangle over the middle of the slide.
  const rect = { x0: slide.width * 0.3, y0: slide.height * 0.35, x1: slide.width * 0.7, y1: slide.height * 0.6 };
  await page.getByTestId('cish-draw-rectangle').click();
  await dragOnSlide(page, cal, { x: rect.x0, y: rect.y0 }, { x: rect.x1, y: rect.y1 });
  const regionText = await page.getByTestId('cish-region').getAttribute('data-region');
  const region = regionText!.split(',').map(Number);
  expect(region).toHaveLength(8);
  const tolerance = 0.01 * slide.width;
  for (const [i, v] of [rect.x0, rect.y0, rect.x1, rect.y0, rect.x1, rect.y1, rect.x0, rect.y1].entries()) {
    expect(Math.abs(region[i] - v), `region coordinate ${i}: ${region[i]} vs ${v}`).toBeLessThan(tolerance);
  }
  expect(await page.evaluate(() => window.__tilescope!.store.getState().overlays.some((l) => l.id.startsWith('cish-region-') && l.visible))).toBe(true);

  const tiles = await makeTiles(page);
  const xs = region.filter((_, i) => i % 2 === 0);
  const ys = region.filter((_, i) => i % 2 === 1);
  const inside = tiles.kept.filter((id) => {
    const cx = tiles.x[id] + tiles.width[id] / 2;
    const cy = tiles.y[id] + tiles.height[id] / 2;
    return cx > Math.min(...xs) && cx < Math.max(...xs) && cy > Math.min(...ys) && cy < Math.max(...ys);
  });
  const tilesResult = page.getByTestId('cish-tiles-result');
  expect(inside.length).toBeGreaterThan(0);
  expect(inside.length).toBeLessThan(tiles.kept.length);
  await expect(tilesResult).toHaveAttribute('data-train', String(inside.length));
  await expect(tilesResult).toHaveAttribute('data-kept', String(tiles.kept.length));
  expect(tiles.train).toEqual(inside);

  // 7. Train on the region's tiles, encode, cluster: the map.
  await page.getByTestId('cish-epochs').fill('1');
  await page.getByTestId('cish-batch').fill('8');
  await page.getByTestId('cish-train').click();
  await expect(page.getByTestId('cish-train-status')).toContainText('finished', { timeout: 150_000 });
  await page.getByTestId('cish-encode').click();
  await expect(page.getByTestId('cish-encode-result')).toContainText(`${tiles.kept.length} codes`, { timeout: 60_000 });
  await page.getByTestId('cish-k').fill('2');
  await page.getByTestId('cish-cluster').click();
  await expect(page.getByTestId('cish-legend').locator('li')).toHaveCount(2, { timeout: 30_000 });

  // 8. Swipe. Back to a random sample, so the region outline leaves the overlay and only the map is drawn.
  await page.getByTestId('cish-train-from-sample').check();
  await expect.poll(() => page.evaluate(() => window.__tilescope!.store.getState().overlays.some((l) => l.id.startsWith('cish-region-')))).toBe(false);
  const box = (await viewer(page).boundingBox())!;
  const split = Math.round(box.width * 0.4);
  const whole = await overlayCoverage(page, split);
  expect(whole.left, 'map pixels left of the divider-to-be').toBeGreaterThan(1000);
  expect(whole.right, 'map pixels right of the divider-to-be').toBeGreaterThan(1000);

  await page.getByTestId('cish-swipe').check();
  const divider = page.getByTestId('swipe-divider');
  await expect(divider).toHaveAttribute('data-position', '0.5000');
  const handle = (await page.getByTestId('swipe-handle').boundingBox())!;
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + split, handle.y + handle.height / 2, { steps: 10 });
  await page.mouse.up();
  await expect.poll(async () => Math.abs(Number(await divider.getAttribute('data-position')) - split / box.width)).toBeLessThan(0.002);
  await expect.poll(() => overlayCoverage(page, split), { message: 'map drawn only left of the divider' }).toMatchObject({ right: 0 });
  const swiped = await overlayCoverage(page, split);
  expect(swiped.left).toBeGreaterThan(whole.left * 0.9);
  await page.screenshot({ path: test.info().outputPath('cish-swipe.png') });

  // Off again: the whole map is back, and the divider is gone.
  await page.getByTestId('cish-swipe').uncheck();
  await expect(divider).toHaveCount(0);
  await expect.poll(async () => (await overlayCoverage(page, split)).right).toBeGreaterThan(1000);

  // With no tool active, a drag pans the slide again (the tools gave OpenSeadragon its mouse back).
  const here = { x: box.x + box.width * 0.5, y: box.y + box.height * 0.5 };
  const under = await readoutAt(page, here.x, here.y);
  await page.mouse.down();
  await page.mouse.move(here.x + 120, here.y, { steps: 6 });
  await page.mouse.up();
  await expect.poll(async () => (await readoutAt(page, here.x, here.y)).x, { message: 'level-0 x under the same screen point after a pan' }).toBeLessThan(under.x - 100);

  // A reload restores the region, the choice of training tiles and the mask as last saved (after the undo).
  await page.reload();
  await expectDemoOpen(page);
  await expect(page.getByTestId('cish-region')).toHaveAttribute('data-region', regionText!, { timeout: 30_000 });
  await expect(page.getByTestId('cish-train-from-sample')).toBeChecked();
  await expect(page.getByTestId('cish-mask-edit')).toHaveAttribute('data-tissue-pixels', String(tissueBefore));
});
