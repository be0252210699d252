import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { pointsInPolygon } from '../../tiling/polygon';
import type { Affine } from './overlays';
import {
  brushRadiusInMask,
  countNonZero,
  imageToScreen,
  paintStroke,
  polygonArea,
  polygonBounds,
  screenRectToPolygon,
  screenToImage,
  type PaintableMask,
} from './draw-geometry';

/** The rotated (30°) and flipped view of the overlay tests, written by numpy. */
const rotatedFlipped = JSON.parse(readFileSync(new URL('../../../tests/fixtures/viewer/affine.json', import.meta.url), 'utf8'))
  .transform as Affine;

/** Rotation by `degrees` about the origin, optional horizontal flip, then scale and shift: like an OSD view. */
function viewAffine(degrees: number, flip: boolean, scale: number, ox: number, oy: number): Affine {
  const c = Math.cos((degrees * Math.PI) / 180) * scale;
  const s = Math.sin((degrees * Math.PI) / 180) * scale;
  const f = flip ? -1 : 1;
  // screen = R · F · p + o
  return [f * c, f * s, -s, c, ox, oy];
}

const views: [string, Affine][] = [
  ['unrotated', [0.25, 0, 0, 0.25, 120, 40]],
  ['rotated 90°', viewAffine(90, false, 0.5, 700, 10)],
  ['rotated 37° and flipped', viewAffine(37, true, 1.7, -300, 250)],
  ['numpy fixture (rotated, flipped)', rotatedFlipped],
];

describe('screen ↔ level-0', () => {
  it.each(views)('round-trips on a %s view', (_, t) => {
    for (const [x, y] of [[0, 0], [2220, 0], [0, 2967], [1234.5, 987.25], [-50, 40000]]) {
      const screen = imageToScreen(t, x, y);
      const back = screenToImage(t, screen.x, screen.y);
      expect(back.x).toBeCloseTo(x, 6);
      expect(back.y).toBeCloseTo(y, 6);
    }
  });

  it('inverts an unrotated view exactly as scale and offset', () => {
    const p = screenToImage([0.25, 0, 0, 0.25, 120, 40], 220, 90);
    expect(p).toEqual({ x: 400, y: 200 });
  });
});

describe('screen rectangle → level-0 polygon', () => {
  it('gives the axis-aligned corners on an unrotated view, whatever the drag direction', () => {
    const t: Affine = [0.5, 0, 0, 0.5, 100, 50];
    const polygon = screenRectToPolygon(t, { x: 300, y: 250 }, { x: 200, y: 150 });
    expect(polygon).toEqual([200, 200, 400, 200, 400, 400, 200, 400]);
    expect(polygonBounds(polygon)).toEqual({ x: 200, y: 200, width: 200, height: 200 });
  });

  it.each(views)('maps back onto the screen rectangle on a %s view', (_, t) => {
    const a = { x: 80, y: 60 };
    const b = { x: 380, y: 260 };
    const polygon = screenRectToPolygon(t, a, b);
    expect(polygon).toHaveLength(8);
    const corners = [[80, 60], [380, 60], [380, 260], [80, 260]];
    corners.forEach(([x, y], i) => {
      const s = imageToScreen(t, polygon[2 * i], polygon[2 * i + 1]);
      expect(s.x).toBeCloseTo(x, 6);
      expect(s.y).toBeCloseTo(y, 6);
    });
    // Area scales by 1/det of the transform.
    const det = Math.abs(t[0] * t[3] - t[1] * t[2]);
    expect(Math.abs(polygonArea(polygon))).toBeCloseTo((300 * 200) / det, 3);
    // A level-0 point is inside the polygon exactly when its screen image is inside the rectangle.
    const xs = new Float64Array(2000);
    const ys = new Float64Array(2000);
    const inScreen = new Uint8Array(2000);
    for (let i = 0; i < 2000; i++) {
      const sx = 20 + ((i * 7919) % 421) + 0.37;
      const sy = 10 + ((i * 104729) % 311) + 0.61;
      const p = screenToImage(t, sx, sy);
      xs[i] = p.x;
      ys[i] = p.y;
      inScreen[i] = sx > 80 && sx < 380 && sy > 60 && sy < 260 ? 1 : 0;
    }
    expect(Array.from(pointsInPolygon(xs, ys, polygon))).toEqual(Array.from(inScreen));
  });
});

/** The reference: a pixel is painted when its centre lies within the radius of any stroke point or segment, by brute force. */
function bruteForcePaint(mask: PaintableMask, points: number[], radius0: number): Uint8Array {
  const out = new Uint8Array(mask.width * mask.height);
  const r = brushRadiusInMask(radius0, mask.downsample);
  const n = points.length / 2;
  for (let y = 0; y < mask.height; y++)
    for (let x = 0; x < mask.width; x++) {
      // Pixel centre in level-0 px.
      const px = (x + 0.5) * mask.downsample;
      const py = (y + 0.5) * mask.downsample;
      let best = Infinity;
      for (let i = 0; i < Math.max(1, n - 1); i++) {
        const j = Math.min(i + 1, n - 1);
        // Dense sampling of the segment instead of the closed-form distance.
        const steps = 400;
        for (let k = 0; k <= steps; k++) {
          const qx = points[2 * i] + ((points[2 * j] - points[2 * i]) * k) / steps;
          const qy = points[2 * i + 1] + ((points[2 * j + 1] - points[2 * i + 1]) * k) / steps;
          best = Math.min(best, Math.hypot(px - qx, py - qy) / mask.downsample);
        }
      }
      out[y * mask.width + x] = best <= r ? 1 : 0;
    }
  return out;
}

function emptyMask(width: number, height: number, downsample: number): PaintableMask {
  return { data: new Uint8Array(width * height), width, height, downsample };
}

/** Pixels whose centre is within `eps` mask px of the brush edge, where dense sampling and the exact distance may disagree. */
function nearEdge(mask: PaintableMask, points: number[], radius0: number, eps: number): Set<number> {
  const near = new Set<number>();
  const r = brushRadiusInMask(radius0, mask.downsample);
  const n = points.length / 2;
  for (let y = 0; y < mask.height; y++)
    for (let x = 0; x < mask.width; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let best = Infinity;
      for (let i = 0; i < Math.max(1, n - 1); i++) {
        const j = Math.min(i + 1, n - 1);
        const ax = points[2 * i] / mask.downsample;
        const ay = points[2 * i + 1] / mask.downsample;
        const bx = points[2 * j] / mask.downsample;
        const by = points[2 * j + 1] / mask.downsample;
        const dx = bx - ax;
        const dy = by - ay;
        const len2 = dx * dx + dy * dy;
        const t = len2 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
        best = Math.min(best, Math.hypot(px - ax - t * dx, py - ay - t * dy));
      }
      if (Math.abs(best - r) < eps) near.add(y * mask.width + x);
    }
  return near;
}

function expectSameAsBruteForce(mask: PaintableMask, points: number[], radius0: number): void {
  const expected = bruteForcePaint(mask, points, radius0);
  const near = nearEdge(mask, points, radius0, 0.01);
  let compared = 0;
  for (let i = 0; i < expected.length; i++) {
    if (near.has(i)) continue;
    compared++;
    if (mask.data[i] !== expected[i]) throw new Error(`pixel ${i % mask.width},${Math.floor(i / mask.width)}: ${mask.data[i]} ≠ ${expected[i]}`);
  }
  expect(compared).toBeGreaterThan(expected.length * 0.9);
}

describe('brush rasterisation', () => {
  it('a dab paints the disc of pixel centres within the radius (brute force)', () => {
    for (const [cx, cy, radius0, downsample] of [
      [400, 300, 95, 20],
      [10, 15, 60, 20], // clipped at the top-left corner
      [1190, 790, 200, 20], // clipped at the bottom-right corner
      [333.3, 222.2, 47.5, 7.5],
    ]) {
      const mask = emptyMask(60, 40, downsample);
      const box = paintStroke(mask, [cx, cy], radius0, 1);
      expectSameAsBruteForce(mask, [cx, cy], radius0);
      // The returned box holds every painted pixel.
      expect(box).not.toBeNull();
      for (let i = 0; i < mask.data.length; i++) {
        if (!mask.data[i]) continue;
        const x = i % mask.width;
        const y = Math.floor(i / mask.width);
        expect(x >= box!.x0 && x < box!.x1 && y >= box!.y0 && y < box!.y1).toBe(true);
      }
    }
  });

  it('a stroke paints the capsules along its polyline (brute force), and erasing clears them again', () => {
    const points = [100, 100, 700, 180, 650, 650, 90.5, 720.25];
    const mask = emptyMask(48, 48, 16);
    paintStroke(mask, points, 40, 1);
    expectSameAsBruteForce(mask, points, 40);
    const painted = countNonZero(mask.data);
    expect(painted).toBeGreaterThan(200);
    paintStroke(mask, points, 40, 0);
    expect(countNonZero(mask.data)).toBe(0);
  });

  it('a brush thinner than a mask pixel still paints every pixel on its path, as a connected line', () => {
    const mask = emptyMask(30, 30, 20);
    paintStroke(mask, [5, 5, 595, 400], 1, 1);
    // Every pixel that contains a point of the segment is painted.
    for (let k = 0; k <= 1000; k++) {
      const x = Math.floor((5 + (590 * k) / 1000) / 20);
      const y = Math.floor((5 + (395 * k) / 1000) / 20);
      expect(mask.data[y * 30 + x]).toBe(1);
    }
  });

  it('reports no change (null) when the pixels already hold the value or lie outside the mask', () => {
    const mask = emptyMask(10, 10, 10);
    expect(paintStroke(mask, [50, 50], 20, 0)).toBeNull();
    expect(paintStroke(mask, [-500, -500], 20, 1)).toBeNull();
    expect(paintStroke(mask, [], 20, 1)).toBeNull();
    const box = paintStroke(mask, [50, 50], 20, 1);
    expect(box).toEqual({ x0: 3, y0: 3, x1: 7, y1: 7 });
    expect(paintStroke(mask, [50, 50], 20, 1)).toBeNull();
  });
});
