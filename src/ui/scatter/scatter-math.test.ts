import { describe, expect, it } from 'vitest';
import {
  clipMapping,
  fitTransform,
  limitZoom,
  nearestPoint,
  panBy,
  plotCoordinates,
  pointSizeFor,
  rasterise,
  toPlot,
  toScreen,
  wheelZoomFactor,
  zoomAbout,
  type ScatterTransform,
} from './scatter-math';

describe('latent scatter geometry', () => {
  it('maps the bounding box of the codes onto the canvas inside the margin, y up', () => {
    const xy = Float32Array.from([-1, 0, 3, 2, 1, 1]);
    const t = fitTransform(xy, 108, 58, 4);
    expect(-1 * t.sx + t.ox).toBeCloseTo(4);
    expect(3 * t.sx + t.ox).toBeCloseTo(104);
    expect(0 * t.sy + t.oy).toBeCloseTo(54);
    expect(2 * t.sy + t.oy).toBeCloseTo(4);
  });

  it('finds the nearest point within the radius only', () => {
    const xy = Float32Array.from([0, 0, 10, 10]);
    const t = { sx: 1, ox: 0, sy: 1, oy: 0 };
    expect(nearestPoint(xy, t, 9, 9, 3)).toBe(1);
    expect(nearestPoint(xy, t, 5, 5, 3)).toBe(-1);
  });

  it('projects d > 2 codes on their two main axes', () => {
    // Points on a line along (1, 2, 2)/3: the first principal component carries all the spread.
    const latents = new Float32Array(30);
    for (let i = 0; i < 10; i++) latents.set([i, 2 * i, 2 * i], 3 * i);
    const { xy, axes } = plotCoordinates(latents, 3);
    expect(axes).toEqual(['PC 1', 'PC 2']);
    expect(Math.abs(xy[2 * 9] - xy[0])).toBeCloseTo(27, 3);
    for (let i = 0; i < 10; i++) expect(Math.abs(xy[2 * i + 1])).toBeLessThan(1e-3);
  });

  it('rasterises dots with their colour and clips at the edges', () => {
    const out = new Uint8ClampedArray(4 * 4 * 4);
    rasterise(Float32Array.from([0, 0, 2, 2]), Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255]), { sx: 1, ox: 0, sy: 1, oy: 0 }, 4, 4, 2, out);
    const at = (x: number, y: number) => Array.from(out.subarray(4 * (y * 4 + x), 4 * (y * 4 + x) + 4));
    expect(at(0, 0)).toEqual([255, 0, 0, 255]);
    expect(at(1, 1)).toEqual([0, 255, 0, 255]);
    expect(at(2, 2)).toEqual([0, 255, 0, 255]);
    expect(at(3, 3)).toEqual([0, 0, 0, 0]);
  });

  it('shades density: the mean colour of a pixel\'s points, lifted towards white by log(count), translucent lone points kept', () => {
    const t = { sx: 1, ox: 0, sy: 1, oy: 0 };
    const at = (out: Uint8ClampedArray, x: number) => Array.from(out.subarray(4 * x, 4 * x + 4));
    // 64 opaque red points on pixel 0: full lift (0.6): 0.4 · 255 + 0.6 · 255 = 255, 0.6 · 255 = 153.
    const stack = new Uint8ClampedArray(4 * 2);
    rasterise(new Float32Array(2 * 64), new Uint8Array(4 * 64).map((_, k) => [255, 0, 0, 255][k % 4]), t, 2, 1, 1, stack);
    expect(at(stack, 0)).toEqual([255, 153, 153, 255]);
    expect(at(stack, 1)).toEqual([0, 0, 0, 0]);
    // Red and blue on one pixel: mean (127.5, 0, 127.5), lift 0.6 · ln 2 / ln 64 = 0.1.
    const pair = new Uint8ClampedArray(4);
    rasterise(new Float32Array(4), Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 255]), t, 1, 1, 1, pair);
    expect(at(pair, 0)).toEqual([Math.round(127.5 * 0.9 + 25.5), Math.round(25.5), Math.round(127.5 * 0.9 + 25.5), 255]);
    // One translucent point keeps its colour and its alpha (no lift below one point).
    const lone = new Uint8ClampedArray(4);
    rasterise(new Float32Array(2), Uint8Array.from([200, 200, 200, 200]), t, 1, 1, 1, lone);
    expect(at(lone, 0)).toEqual([200, 200, 200, 200]);
  });

  it('skips points whose alpha is 0', () => {
    const out = new Uint8ClampedArray(4 * 4 * 4);
    rasterise(Float32Array.from([1, 1]), Uint8Array.from([255, 0, 0, 0]), { sx: 1, ox: 0, sy: 1, oy: 0 }, 4, 4, 2, out);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('sizes dots by how many points there are', () => {
    expect([1, 2000, 2001, 20000, 20001, 1_000_000].map(pointSizeFor)).toEqual([5, 5, 3, 3, 2, 2]);
  });
});

describe('latent scatter view (pan and zoom)', () => {
  const fitted: ScatterTransform = fitTransform(Float32Array.from([-2, 5, 7, -1, 3, 2]), 270, 200);

  it('round-trips plot and screen positions', () => {
    for (const t of [fitted, zoomAbout(panBy(fitted, 13, -7), 40, 90, 3.5)]) {
      const [px, py] = toScreen(t, 1.25, -0.5);
      const [x, y] = toPlot(t, px, py);
      expect(x).toBeCloseTo(1.25, 10);
      expect(y).toBeCloseTo(-0.5, 10);
    }
  });

  it('keeps the plot point under the cursor fixed while zooming, and scales about it', () => {
    const cursor: [number, number] = [61, 143];
    const before = toPlot(fitted, ...cursor);
    const zoomed = zoomAbout(fitted, ...cursor, 2.5);
    expect(zoomed.sx).toBeCloseTo(2.5 * fitted.sx, 10);
    expect(zoomed.sy).toBeCloseTo(2.5 * fitted.sy, 10);
    const after = toPlot(zoomed, ...cursor);
    expect(after[0]).toBeCloseTo(before[0], 10);
    expect(after[1]).toBeCloseTo(before[1], 10);
    // Any other point moves away from the cursor by the factor.
    const [qx, qy] = toScreen(fitted, 0, 0);
    const [zx, zy] = toScreen(zoomed, 0, 0);
    expect(zx - cursor[0]).toBeCloseTo(2.5 * (qx - cursor[0]), 8);
    expect(zy - cursor[1]).toBeCloseTo(2.5 * (qy - cursor[1]), 8);
    // Zooming back out by the inverse factor restores the view.
    const back = zoomAbout(zoomed, ...cursor, 1 / 2.5);
    for (const key of ['sx', 'ox', 'sy', 'oy'] as const) expect(back[key]).toBeCloseTo(fitted[key], 8);
  });

  it('pans by whole CSS px without changing the scale', () => {
    const moved = panBy(fitted, 40, -25);
    const [x0, y0] = toScreen(fitted, 3, 2);
    const [x1, y1] = toScreen(moved, 3, 2);
    expect(x1 - x0).toBeCloseTo(40, 10);
    expect(y1 - y0).toBeCloseTo(-25, 10);
    expect([moved.sx, moved.sy]).toEqual([fitted.sx, fitted.sy]);
  });

  it('fitting (the reset view) puts the extreme points on the 8 px margin of the default 270 × 200 element', () => {
    // Bounding box x −2…7, y −1…5.
    expect(toScreen(fitted, -2, 0)[0]).toBeCloseTo(8, 10);
    expect(toScreen(fitted, 7, 0)[0]).toBeCloseTo(262, 10);
    expect(toScreen(fitted, 0, 5)[1]).toBeCloseTo(8, 10);
    expect(toScreen(fitted, 0, -1)[1]).toBeCloseTo(192, 10);
  });

  it('maps the view to clip space: element corners to ±1, y up', () => {
    const t = zoomAbout(panBy(fitted, 10, 20), 100, 100, 3);
    const { centre, scale } = clipMapping(t, 270, 200);
    const clip = (px: number, py: number) => {
      const [x, y] = toPlot(t, px, py);
      return [(x - centre[0]) * scale[0], (y - centre[1]) * scale[1]];
    };
    const corners = [clip(0, 0), clip(270, 200), clip(135, 100)];
    [[-1, 1], [1, -1], [0, 0]].forEach((expected, i) => {
      expect(corners[i][0]).toBeCloseTo(expected[0], 10);
      expect(corners[i][1]).toBeCloseTo(expected[1], 10);
    });
  });

  it('zooms in on wheel up and out on wheel down, within limits', () => {
    expect(wheelZoomFactor(-100)).toBeGreaterThan(1.15);
    expect(wheelZoomFactor(100)).toBeLessThan(1 / 1.15);
    expect(wheelZoomFactor(-100) * wheelZoomFactor(100)).toBeCloseTo(1, 10);
    expect(wheelZoomFactor(-3, 1)).toBeCloseTo(wheelZoomFactor(-120), 10);
    expect(wheelZoomFactor(-100_000)).toBe(2);
    const deep = zoomAbout(fitted, 0, 0, 9000);
    expect(limitZoom(deep, fitted, 2)).toBeCloseTo(10_000 / 9000, 8);
    expect(limitZoom(deep, fitted, 0.5)).toBe(0.5);
    expect(limitZoom(fitted, fitted, 0.1)).toBeCloseTo(0.25, 10);
  });
});
