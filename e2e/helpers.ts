// Shared helpers for the e2e tests. Selectors follow the UI contract
// (data-testid names, role="alert" errors, data-tiles-drawn on the viewer).
import { expect, type Locator, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The real slides live next to the repository (see ../shared/data/SOURCES.md). */
export const dataDir = path.resolve(repoRoot, '../shared/data');
export const DEMO_NAME = 'CMU-1-Small-Region.svs';
export const NDPI_NAME = 'test3-DAPI-2-387.ndpi';

export interface ColourStats {
  tissueFraction: number;
  tissueRminusG: number;
  tissueBminusG: number;
  brightFraction: number;
  brightBminusR: number;
}
export interface SlideReference {
  width: number;
  height: number;
  levels: number;
  mpp: number | null;
  colour: ColourStats;
}
/** Written by scripts/make-e2e-reference.py from tifffile and vips (OpenSlide). */
export const slideReferences: Record<string, SlideReference> = JSON.parse(
  readFileSync(path.join(repoRoot, 'tests/fixtures/e2e/slides.json'), 'utf8'),
);

/** Path of a real slide, or undefined when ../shared/data is not there. */
export function realSlidePath(name: string): string | undefined {
  const file = path.join(dataDir, name);
  return existsSync(file) ? file : undefined;
}
export const missingDataMessage = `real slides not found in ${dataDir} (see SOURCES.md); skipping the tests that need them`;
if (!existsSync(dataDir)) console.warn(`[e2e] ${missingDataMessage}`);

/** `2220 × 2967 px` as the slide-info panel writes it. */
export function sizeText(reference: { width: number; height: number }): string {
  return `${reference.width} × ${reference.height} px`;
}

export const viewer = (page: Page): Locator => page.getByTestId('viewer');
export const slideInfo = (page: Page): Locator => page.getByTestId('slide-info');
export const slideListItems = (page: Page): Locator => page.getByTestId('slide-list-item');
export const fileInput = (page: Page): Locator => page.getByTestId('open-slide');

export async function tilesDrawn(page: Page): Promise<number> {
  return Number((await viewer(page).getAttribute('data-tiles-drawn')) ?? 0);
}

/** Waits until the active slide's viewer has drawn more than `after` tiles. */
export async function waitForTiles(page: Page, after = 0): Promise<void> {
  await expect.poll(() => tilesDrawn(page), { message: 'tiles drawn by the viewer' }).toBeGreaterThan(after);
}

export interface CanvasStats {
  width: number;
  height: number;
  /** Standard deviation of luminance over the whole canvas. */
  lumStd: number;
  /** Colour statistics over pixels that differ from the viewer background (the corner colour). */
  colour: ColourStats;
  foregroundFraction: number;
}

/**
 * Reads back the pixels of the OpenSeadragon canvas (the largest canvas in the
 * viewer; the canvas drawer makes it readable) and summarises them the same way
 * scripts/make-e2e-reference.py summarises the vips decode.
 */
export async function viewerCanvasStats(page: Page): Promise<CanvasStats> {
  return viewer(page).evaluate((root) => {
    const canvases = Array.from(root.querySelectorAll('canvas'));
    if (canvases.length === 0) throw new Error('no canvas in the viewer');
    const canvas = canvases.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('viewer canvas has no 2d context (not the canvas drawer?)');
    const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
    const background = [data[0], data[1], data[2]];
    let sum = 0;
    let sumSq = 0;
    let foreground = 0;
    let tissue = 0;
    let tissueRG = 0;
    let tissueBG = 0;
    let bright = 0;
    let brightBR = 0;
    const pixels = width * height;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i];
      const g = data[i + 1];
      const b = data[i + 2];
      const lum = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += lum;
      sumSq += lum * lum;
      const isBackground =
        Math.abs(r - background[0]) <= 8 && Math.abs(g - background[1]) <= 8 && Math.abs(b - background[2]) <= 8;
      if (isBackground) continue;
      foreground++;
      if (lum < 200) {
        tissue++;
        tissueRG += r - g;
        tissueBG += b - g;
      }
      if (Math.max(r, g, b) > 40) {
        bright++;
        brightBR += b - r;
      }
    }
    const mean = sum / pixels;
    return {
      width,
      height,
      lumStd: Math.sqrt(Math.max(0, sumSq / pixels - mean * mean)),
      foregroundFraction: foreground / pixels,
      colour: {
        tissueFraction: foreground ? tissue / foreground : 0,
        tissueRminusG: tissue ? tissueRG / tissue : 0,
        tissueBminusG: tissue ? tissueBG / tissue : 0,
        brightFraction: foreground ? bright / foreground : 0,
        brightBminusR: bright ? brightBR / bright : 0,
      },
    };
  });
}

/**
 * Tiles were drawn and the canvas shows an image, not a blank or flat fill.
 * `settled` (optional) is polled too, e.g. until the colours of a newly opened
 * slide replace those of the previous one; callers then assert on the result.
 */
export async function expectViewerRendered(page: Page, settled: (stats: CanvasStats) => boolean = () => true): Promise<CanvasStats> {
  await waitForTiles(page);
  let stats: CanvasStats | undefined;
  await expect
    .poll(
      async () => {
        stats = await viewerCanvasStats(page);
        return stats.lumStd > 5 && settled(stats);
      },
      { message: 'viewer canvas shows an image (luminance spread > 5, and the expected content)' },
    )
    .toBe(true);
  return stats!;
}

/** Brightfield H&E: the tissue is pink/purple (R > G, B > G) by the amounts vips decodes. */
export function expectBrightfieldColours(stats: CanvasStats, reference: SlideReference): void {
  expect(stats.colour.tissueFraction, 'share of tissue pixels').toBeGreaterThan(0.05);
  expect(Math.abs(stats.colour.tissueRminusG - reference.colour.tissueRminusG), 'tissue R−G vs vips').toBeLessThan(15);
  expect(Math.abs(stats.colour.tissueBminusG - reference.colour.tissueBminusG), 'tissue B−G vs vips').toBeLessThan(15);
}

/** DAPI fluorescence: bright pixels are blue nuclei (B ≫ R) as in the vips decode. */
export function expectFluorescenceColours(stats: CanvasStats, reference: SlideReference): void {
  expect(stats.colour.brightFraction, 'share of bright pixels').toBeGreaterThan(0.01);
  expect(Math.abs(stats.colour.brightBminusR - reference.colour.brightBminusR), 'bright B−R vs vips').toBeLessThan(40);
}

/** Opens the app at the base URL (the demo slide opens unless query is ?demo=0). */
export async function openApp(page: Page, query = ''): Promise<void> {
  await page.goto(`./${query}`);
  await expect(fileInput(page)).toBeAttached();
}

/** Waits for the demo slide to be open, listed, and drawn. */
export async function expectDemoOpen(page: Page): Promise<CanvasStats> {
  await expect(slideInfo(page)).toContainText(sizeText(slideReferences[DEMO_NAME]));
  await expect(slideListItems(page).filter({ hasText: DEMO_NAME })).toHaveCount(1);
  return expectViewerRendered(page);
}

/**
 * Drops files onto the window the way a browser does: a DragEvent carrying a
 * DataTransfer with File objects (dragenter, dragover, drop on the body, bubbling).
 */
export async function dropFiles(page: Page, files: { name: string; bytes: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') }));
  await page.evaluate((items) => {
    const transfer = new DataTransfer();
    for (const item of items) {
      const binary = atob(item.base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      transfer.items.add(new File([bytes], item.name));
    }
    const target = document.elementFromPoint(window.innerWidth / 2, window.innerHeight / 2) ?? document.body;
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  }, payload);
}

/** The alert that names `fileName` (`<file name>: <reason>`; `bomb.tif` does not match `tile-bomb.tif`). */
export function alertFor(page: Page, fileName: string): Locator {
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByRole('alert').filter({ hasText: new RegExp(`(^|\\s)${escaped}: `) });
}

// ---------------------------------------------------------------- viewer calibration

export interface Calibration {
  toScreen(x: number, y: number): { x: number; y: number };
  toImage(x: number, y: number): { x: number; y: number };
}

/** Level-0 pixel under a page point, as the cursor readout shows it. */
export async function readoutAt(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  await page.mouse.move(x, y);
  const readout = page.getByTestId('cursor-readout');
  await expect(readout).toHaveText(/^\d+, \d+$/);
  const [ix, iy] = (await readout.textContent())!.split(',').map((v) => Number(v.trim()));
  return { x: ix + 0.5, y: iy + 0.5 };
}

/** An unrotated view maps level-0 to the page by a scale and an offset per axis; two readouts give both. */
export async function calibrate(page: Page): Promise<Calibration> {
  const box = (await viewer(page).boundingBox())!;
  const a = { x: box.x + box.width * 0.35, y: box.y + box.height * 0.3 };
  const b = { x: box.x + box.width * 0.65, y: box.y + box.height * 0.7 };
  const ia = await readoutAt(page, a.x, a.y);
  const ib = await readoutAt(page, b.x, b.y);
  const kx = (ib.x - ia.x) / (b.x - a.x);
  const ky = (ib.y - ia.y) / (b.y - a.y);
  return {
    toImage: (x, y) => ({ x: ia.x + (x - a.x) * kx, y: ia.y + (y - a.y) * ky }),
    toScreen: (x, y) => ({ x: a.x + (x - ia.x) / kx, y: a.y + (y - ia.y) / ky }),
  };
}

/** Presses at the first point, moves through the others (`steps` events each) and releases, holding `modifier`. */
export async function dragThrough(
  page: Page,
  points: Array<{ x: number; y: number }>,
  options: { modifier?: 'Shift' | 'Alt'; steps?: number } = {},
): Promise<void> {
  if (options.modifier) await page.keyboard.down(options.modifier);
  await page.mouse.move(points[0].x, points[0].y);
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(p.x, p.y, { steps: options.steps ?? 4 });
  await page.mouse.up();
  if (options.modifier) await page.keyboard.up(options.modifier);
}

/** Drags on the viewer from one level-0 point to another. */
export async function dragOnSlide(page: Page, cal: Calibration, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await dragThrough(page, [cal.toScreen(from.x, from.y), cal.toScreen(to.x, to.y)], { steps: 8 });
}

/** Opens the app on the demo slide and computes its tissue mask and tile grid (the CISH panel's first two steps). */
export async function openDemoWithTiles(page: Page): Promise<void> {
  await openApp(page);
  await expectDemoOpen(page);
  await page.getByTestId('cish-mask').click();
  await expect(page.getByTestId('cish-mask-result')).toContainText('threshold', { timeout: 60_000 });
  await page.getByTestId('cish-tiles').click();
  await expect(page.getByTestId('cish-tiles-result')).toBeVisible({ timeout: 30_000 });
}

/**
 * The app's error alerts, without the self-check panels: a self-check that
 * fires on a briefly trained model is the app telling the truth (issue 15),
 * not an error of the workflow under test.
 */
export function errorAlerts(page: Page) {
  return page.locator('[role="alert"]:not(.self-checks)');
}
