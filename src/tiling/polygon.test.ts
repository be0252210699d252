import { describe, expect, it } from 'vitest';
import { Random } from '../util/random';
import { pointInPolygon, pointsInPolygon } from './polygon';

/** The textbook even–odd ray cast over every edge: the reference the banded version must equal. */
function bruteForce(xs: Float64Array, ys: Float64Array, polygon: number[]): Uint8Array {
  const out = new Uint8Array(xs.length);
  const v = polygon.length / 2;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    let inside = 0;
    for (let a = 0; a < v; a++) {
      const b = (a + 1) % v;
      const xa = polygon[2 * a];
      const ya = polygon[2 * a + 1];
      const xb = polygon[2 * b];
      const yb = polygon[2 * b + 1];
      if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside ^= 1;
    }
    out[i] = inside;
  }
  return out;
}

/** Star-shaped (concave) polygon with random radii around a centre. */
function randomStar(rng: Random, vertices: number): number[] {
  const cx = rng.uniformRange(300, 700);
  const cy = rng.uniformRange(300, 700);
  const out: number[] = [];
  for (let v = 0; v < vertices; v++) {
    const angle = (2 * Math.PI * v) / vertices;
    const radius = rng.uniformRange(30, 350);
    out.push(cx + radius * Math.cos(angle), cy + radius * Math.sin(angle));
  }
  return out;
}

/** A lasso: a closed random walk (may self-intersect, has repeated y values). */
function randomLasso(rng: Random, vertices: number): number[] {
  const out: number[] = [];
  let x = 500;
  let y = 500;
  for (let v = 0; v < vertices; v++) {
    x += rng.normal() * 25;
    y += rng.normal() * 25;
    out.push(Math.round(x), Math.round(y)); // integer vertices give horizontal edges and shared y values
  }
  return out;
}

function mismatches(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count++;
  return count;
}

function shoelaceArea(polygon: number[]): number {
  let twice = 0;
  const v = polygon.length / 2;
  for (let a = 0; a < v; a++) {
    const b = (a + 1) % v;
    twice += polygon[2 * a] * polygon[2 * b + 1] - polygon[2 * b] * polygon[2 * a + 1];
  }
  return Math.abs(twice) / 2;
}

const N = 1_000_000;
const rng = new Random(99);
const xs = rng.fillUniform(new Float64Array(N)).map((v) => v * 1000);
const ys = rng.fillUniform(new Float64Array(N)).map((v) => v * 1000);

describe('pointsInPolygon', () => {
  it('equals brute force on 1,000,000 random points for triangles, concave stars and self-crossing lassos', () => {
    const polygons: number[][] = [
      [100, 100, 900, 150, 400, 800],
      [0, 0, 1000, 0, 1000, 1000, 0, 1000],
      // A U shape (concave, with horizontal edges).
      [200, 200, 800, 200, 800, 800, 650, 800, 650, 350, 350, 350, 350, 800, 200, 800],
      randomStar(rng, 12),
      randomStar(rng, 45),
      randomLasso(rng, 60),
    ];
    for (const polygon of polygons) {
      expect(mismatches(pointsInPolygon(xs, ys, polygon), bruteForce(xs, ys, polygon))).toBe(0);
    }
  });

  it('equals brute force for large polygons (many bands, long edges) on 100,000 points', () => {
    const px = xs.subarray(0, 100_000);
    const py = ys.subarray(0, 100_000);
    for (const polygon of [randomLasso(rng, 400), randomStar(rng, 800)]) {
      const inside = pointsInPolygon(px, py, polygon);
      expect(mismatches(inside, bruteForce(px, py, polygon))).toBe(0);
      expect(inside.reduce((a, b) => a + b, 0)).toBeGreaterThan(1000); // not trivially empty
    }
  });

  it('the share of points inside a simple polygon matches its shoelace area', () => {
    for (const polygon of [randomStar(rng, 40), [200, 200, 800, 200, 800, 800, 650, 800, 650, 350, 350, 350, 350, 800, 200, 800]]) {
      const inside = pointsInPolygon(xs, ys, polygon);
      let count = 0;
      for (let i = 0; i < N; i++) count += inside[i];
      const expected = shoelaceArea(polygon) / 1e6;
      // Binomial standard error at n = 1e6 is ≤ 0.0005.
      expect(Math.abs(count / N - expected)).toBeLessThan(0.003);
    }
  });

  it('takes Float32 coordinates and reuses an output buffer', () => {
    const polygon = randomStar(rng, 30);
    const fx = Float32Array.from(xs.subarray(0, 1000));
    const fy = Float32Array.from(ys.subarray(0, 1000));
    const out = new Uint8Array(2000).fill(7);
    pointsInPolygon(fx, fy, polygon, out);
    for (let i = 0; i < 1000; i++) expect(out[i]).toBe(pointInPolygon(fx[i], fy[i], polygon) ? 1 : 0);
    expect(out[1500]).toBe(7);
  });

  it('square: inside, outside, NaN, and adjacent squares never share a point', () => {
    const left = [0, 0, 10, 0, 10, 10, 0, 10];
    const right = [10, 0, 20, 0, 20, 10, 10, 10];
    const px = Float64Array.from([5, 15, 10, 10, -1, NaN, 5]);
    const py = Float64Array.from([5, 5, 5, 0, 5, 5, NaN]);
    const a = pointsInPolygon(px, py, left);
    const b = pointsInPolygon(px, py, right);
    expect(Array.from(a)).toEqual([1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b)).toEqual([0, 1, 1, 1, 0, 0, 0]);
    for (let i = 0; i < px.length; i++) expect(a[i] + b[i]).toBeLessThanOrEqual(1);
  });

  it('rejects malformed polygons', () => {
    expect(() => pointsInPolygon([0], [0], [0, 0, 1, 1])).toThrow(/at least 3 vertices/);
    expect(() => pointsInPolygon([0], [0], [0, 0, 1, 1, 2])).toThrow(/odd number/);
    expect(() => pointsInPolygon([0], [0], [0, 0, 1, NaN, 2, 2])).toThrow(/not finite/);
    expect(() => pointsInPolygon([0, 1], [0], [0, 0, 1, 0, 1, 1])).toThrow(/y values/);
  });
});
