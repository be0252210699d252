// The latent scatter's renderers and its view: on the demo slide the app
// computes mask and tiles, then every kept tile gets its position (column,
// row) as its latent code, so points sit on a lattice whose positions are
// known here. The test zooms with the wheel, pans by dragging (left with the
// pick tool, middle with the lasso), fits again with 0 and a double-click,
// selects with a lasso while zoomed, and reads the canvas to check that points
// (and stacks of points) are drawn where data-transform says they are.
import { expect, test, type Page } from '@playwright/test';
import { dragThrough, openDemoWithTiles } from './helpers';

type Transform = [sx: number, ox: number, sy: number, oy: number];

interface Lattice {
  /** Plot (= latent) coordinates per kept tile. */
  xy: number[];
  /** Tile id per kept row. */
  tileIds: number[];
}

async function prepare(page: Page): Promise<Lattice> {
  await openDemoWithTiles(page);
  const lattice = await page.evaluate(() => {
    const state = window.__tilescope!.store.getState();
    const slideId = state.activeSlideId!;
    const tiles = state.analysis[slideId].tiles!;
    const latents = new Float32Array(2 * tiles.kept.length);
    tiles.kept.forEach((id, i) => {
      latents[2 * i] = Math.round(tiles.x[id] / tiles.stride0);
      latents[2 * i + 1] = Math.round(tiles.y[id] / tiles.stride0);
    });
    state.patchAnalysis(slideId, { latents, latentDim: 2 });
    return { xy: Array.from(latents), tileIds: Array.from(tiles.kept) };
  });
  await expect(scatter(page)).toBeVisible();
  await scatter(page).scrollIntoViewIfNeeded();
  return lattice;
}

const scatter = (page: Page) => page.getByTestId('latent-scatter');

async function transformOf(page: Page): Promise<Transform> {
  return (await scatter(page).getAttribute('data-transform'))!.split(',').map(Number) as Transform;
}

/** Waits until data-transform differs from `before` and returns it. */
async function nextTransform(page: Page, before: Transform): Promise<Transform> {
  await expect.poll(async () => (await transformOf(page)).join(','), { message: 'data-transform changes' }).not.toBe(before.join(','));
  return transformOf(page);
}

/** The canvas's top-left corner in page coordinates, read afresh (clicks on the toolbar may scroll the page). */
async function origin(page: Page): Promise<{ x: number; y: number }> {
  return scatter(page).evaluate((canvas) => {
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left, y: rect.top };
  });
}

const toScreen = (t: Transform, x: number, y: number) => ({ x: x * t[0] + t[1], y: y * t[2] + t[3] });
const toPlot = (t: Transform, px: number, py: number) => ({ x: (px - t[1]) / t[0], y: (py - t[3]) / t[2] });

/** A whole page pixel near the plot point (whole, so the pointer lands exactly there). */
function pagePixel(o: { x: number; y: number }, t: Transform, x: number, y: number): { x: number; y: number } {
  const s = toScreen(t, x, y);
  return { x: Math.round(o.x + s.x), y: Math.round(o.y + s.y) };
}

/** RGBA of the scatter canvas at a position in CSS px of the element (un-premultiplied, as getImageData gives it). */
async function pixelAt(page: Page, px: number, py: number): Promise<number[]> {
  return scatter(page).evaluate(
    (canvas: HTMLCanvasElement, [x, y]) => {
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      return Array.from(canvas.getContext('2d')!.getImageData(Math.floor(x * ratio), Math.floor(y * ratio), 1, 1).data);
    },
    [px, py] as const,
  );
}

/** Points of the lattice inside a polygon in plot units (even–odd rule). */
function inside(xy: number[], polygon: Array<[number, number]>): number[] {
  const rows: number[] = [];
  for (let i = 0; i < xy.length / 2; i++) {
    const [x, y] = [xy[2 * i], xy[2 * i + 1]];
    let odd = false;
    for (let a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
      const [xa, ya] = polygon[a];
      const [xb, yb] = polygon[b];
      if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) odd = !odd;
    }
    if (odd) rows.push(i);
  }
  return rows;
}

async function selectedRows(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    const members = st.selections[st.activeSlideId!]?.set.selections[0]?.members ?? new Uint8Array(0);
    return Array.from(members).flatMap((m, i) => (m ? [i] : []));
  });
}

/** Whether this browser's WebGL2 renderer is a CPU implementation (then the app rasterises on the CPU). */
async function softwareWebgl(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return true;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return /swiftshader|llvmpipe|softpipe|lavapipe|software|basic render|mesa offscreen/i.test(renderer);
  });
}

// Both renderers draw the same picture: the one the app picks here (the CPU
// rasteriser without a hardware GPU), and WebGL forced through the setting.
for (const forced of [null, 'webgl'] as const) {
  test(`the scatter (${forced ?? 'renderer the app picks'}) zooms about the cursor, pans, fits again, selects through a zoomed view and shows density`, async ({ page }) => {
    if (forced) await page.addInitScript((value) => localStorage.setItem('tilescope.scatterRenderer', value), forced);
    await exercise(page, forced);
  });
}

async function exercise(page: Page, forced: 'webgl' | null): Promise<void> {
  const { xy, tileIds } = await prepare(page);
  const n = xy.length / 2;
  const renderer = forced ?? ((await softwareWebgl(page)) ? 'canvas2d' : 'webgl');
  await expect(scatter(page)).toHaveAttribute('data-renderer', renderer);
  await expect(scatter(page)).toHaveAttribute('data-point-count', String(n));
  const fitted = await transformOf(page);
  let o = await origin(page);

  // Points are drawn where the transform puts them; the margin is empty.
  expect((await pixelAt(page, 1, 1))[3], 'corner (inside the fit margin) is background').toBe(0);
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 25))) {
    const s = toScreen(fitted, xy[2 * i], xy[2 * i + 1]);
    expect((await pixelAt(page, s.x, s.y))[3], `pixel of point ${i}`).toBeGreaterThan(0);
  }

  // The point nearest the middle of the lattice is the one we zoom on.
  const xs = xy.filter((_, q) => q % 2 === 0);
  const ys = xy.filter((_, q) => q % 2 === 1);
  const mid = { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 };
  let target = 0;
  for (let i = 1; i < n; i++) if (Math.hypot(xs[i] - mid.x, ys[i] - mid.y) < Math.hypot(xs[target] - mid.x, ys[target] - mid.y)) target = i;
  const [tx, ty] = [xs[target], ys[target]];

  // Wheel up twice over the target (about 35 % each): the scale grows and the plot point under the cursor stays there.
  const cursor = pagePixel(o, fitted, tx, ty);
  const local = { x: cursor.x - o.x, y: cursor.y - o.y };
  const under = toPlot(fitted, local.x, local.y);
  await page.mouse.move(cursor.x, cursor.y);
  await page.mouse.wheel(0, -150);
  const once = await nextTransform(page, fitted);
  await page.mouse.wheel(0, -150);
  const zoomed = await nextTransform(page, once);
  expect(zoomed[0] / fitted[0], 'x scale after two wheel notches').toBeGreaterThan(1.6);
  expect(zoomed[2] / fitted[2], 'y scale grows by the same factor').toBeCloseTo(zoomed[0] / fitted[0], 6);
  const stays = toScreen(zoomed, under.x, under.y);
  expect(stays.x, 'plot point under the cursor (x)').toBeCloseTo(local.x, 1);
  expect(stays.y, 'plot point under the cursor (y)').toBeCloseTo(local.y, 1);

  // Zoomed in, a point covers its pixel and the middle of a lattice cell is empty.
  const at = toScreen(zoomed, tx, ty);
  expect((await pixelAt(page, at.x, at.y))[3]).toBeGreaterThan(0);
  const cell = toScreen(zoomed, tx + 0.5, ty + 0.5);
  expect((await pixelAt(page, cell.x, cell.y))[3], 'between lattice points, zoomed in').toBe(0);

  // A left drag with the pick tool pans by the drag and picks nothing; a click without movement picks.
  const start = pagePixel(o, zoomed, tx, ty);
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x + 40, start.y + 25, { steps: 6 });
  await page.mouse.up();
  const panned = await nextTransform(page, zoomed);
  expect(panned[1] - zoomed[1], 'x offset moved by the drag').toBeCloseTo(40, 6);
  expect(panned[3] - zoomed[3], 'y offset moved by the drag').toBeCloseTo(25, 6);
  expect([panned[0], panned[2]]).toEqual([zoomed[0], zoomed[2]]);
  await expect(scatter(page)).not.toHaveAttribute('data-picked-tile', /./);
  const click = pagePixel(o, panned, tx, ty);
  await page.mouse.click(click.x, click.y);
  await expect(scatter(page)).toHaveAttribute('data-picked-tile', String(tileIds[target]));
  expect(await transformOf(page), 'a click does not pan').toEqual(panned);

  // A middle drag pans with the lasso tool too (and draws no lasso).
  await page.getByTestId('explorer-tool-lasso').click();
  o = await origin(page);
  const from = pagePixel(o, panned, tx, ty);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down({ button: 'middle' });
  await page.mouse.move(from.x - 40, from.y - 25, { steps: 6 });
  await page.mouse.up({ button: 'middle' });
  const back = await nextTransform(page, panned);
  expect(back[1]).toBeCloseTo(zoomed[1], 6);
  expect(back[3]).toBeCloseTo(zoomed[3], 6);
  expect(await selectedRows(page)).toEqual([]);

  // A lasso (a diamond around the target whose edges pass between lattice
  // points, as large as fits the element) selects exactly the points inside it in plot units.
  const size = await scatter(page).evaluate((canvas) => ({ w: canvas.clientWidth, h: canvas.clientHeight }));
  const r = [2.3, 1.3].find((v) => v * back[0] < 0.42 * size.w && v * -back[2] < 0.42 * size.h) ?? 0.3;
  const diamond: Array<[number, number]> = [
    [tx - r, ty],
    [tx, ty + r],
    [tx + r, ty],
    [tx, ty - r],
  ];
  const expected = inside(xy, diamond);
  expect(expected.length).toBeGreaterThan(4);
  const lasso = [...diamond, diamond[0]].map(([x, y]) => pagePixel(o, back, x, y));
  // Sanity: the same screen path read through the fitted view would select other points.
  const throughFit = inside(
    xy,
    lasso.map((p) => {
      const q = toPlot(fitted, p.x - o.x, p.y - o.y);
      return [q.x, q.y] as [number, number];
    }),
  );
  expect(throughFit).not.toEqual(expected);
  await dragThrough(page, lasso);
  await expect.poll(() => selectedRows(page), { message: 'rows selected by the lasso' }).toEqual(expected);

  // 0 fits all points again; so does a double-click after another zoom.
  await scatter(page).focus();
  await page.keyboard.press('0');
  expect(await nextTransform(page, back)).toEqual(fitted);
  await page.mouse.move(cursor.x, cursor.y);
  await page.mouse.wheel(0, 300);
  const out = await nextTransform(page, fitted);
  expect(out[0]).toBeLessThan(fitted[0]);
  await page.mouse.dblclick(cursor.x, cursor.y);
  expect(await nextTransform(page, out)).toEqual(fitted);

  // Density: clear the selection (back to the plain colours), zoom in, then
  // give the scatter new codes: 40 points stacked on one spot and one point
  // alone. New data fit the view again; the stack shows brighter and more
  // opaque than the lone point, which keeps its own colour.
  await page.getByTestId('explorer-undo').click();
  await expect.poll(() => selectedRows(page)).toEqual([]);
  o = await origin(page);
  const centre = pagePixel(o, fitted, tx, ty);
  await page.mouse.move(centre.x, centre.y);
  await page.mouse.wheel(0, -300);
  const beforeNewData = await nextTransform(page, fitted);
  const stackRows = 40;
  const { maxX, maxY } = await page.evaluate((stacked) => {
    const st = window.__tilescope!.store.getState();
    const slideId = st.activeSlideId!;
    const latents = Float32Array.from(st.analysis[slideId].latents!);
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = stacked + 1; i < latents.length / 2; i++) {
      maxX = Math.max(maxX, latents[2 * i]);
      maxY = Math.max(maxY, latents[2 * i + 1]);
    }
    for (let i = 0; i < stacked; i++) latents.set([-6, -6], 2 * i);
    latents.set([-6, maxY + 6], 2 * stacked);
    st.patchAnalysis(slideId, { latents, latentDim: 2 });
    return { maxX, maxY };
  }, stackRows);
  const refitted = await nextTransform(page, beforeNewData);
  // The new bounding box spans the element inside its 8 px margin (270 × 200 by default).
  expect(toScreen(refitted, -6, -6).x).toBeCloseTo(8, 3);
  expect(toScreen(refitted, maxX, maxY + 6).x).toBeCloseTo(size.w - 8, 3);
  expect(toScreen(refitted, -6, maxY + 6).y).toBeCloseTo(8, 3);
  expect(toScreen(refitted, -6, -6).y).toBeCloseTo(size.h - 8, 3);
  const colour = await page.evaluate(() => {
    const st = window.__tilescope!.store.getState();
    const a = st.analysis[st.activeSlideId!];
    return a.labels ? null : 200; // before clustering every point is RGBA 200, 200, 200, 200
  });
  expect(colour).toBe(200);
  const stack = toScreen(refitted, -6, -6);
  const alone = toScreen(refitted, -6, maxY + 6);
  const stackPixel = await pixelAt(page, stack.x, stack.y);
  const lonePixel = await pixelAt(page, alone.x, alone.y);
  expect(Math.abs(lonePixel[0] - 200), `lone point ${lonePixel}`).toBeLessThanOrEqual(2);
  expect(Math.abs(lonePixel[3] - 200), `lone point ${lonePixel}`).toBeLessThanOrEqual(2);
  expect(stackPixel[3], `stack ${stackPixel}`).toBe(255);
  expect(stackPixel[0], `stack ${stackPixel} vs lone ${lonePixel}`).toBeGreaterThan(lonePixel[0] + 20);
  await expect(page.getByRole('alert')).toHaveCount(0);
}
