import { describe, expect, it } from 'vitest';
import { fitTransform, nearestPoint, plotCoordinates, rasterise } from './scatter-math';

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
});
