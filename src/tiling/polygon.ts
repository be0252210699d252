/**
 * Point-in-polygon over columnar coordinates, built for lasso selection over
 * a million points.
 *
 * Rule: even–odd ray casting towards +x. An edge (x1,y1)→(x2,y2) is crossed
 * by the ray from (x, y) when exactly one end lies strictly above y and
 * x < x1 + (x2 − x1)(y − y1)/(y2 − y1). Points exactly on the boundary land on
 * one side or the other consistently (shared edges of adjacent polygons never
 * claim a point twice), and self-intersecting lassos behave as even–odd.
 *
 * Speed: a bounding-box test rejects most points; the rest only look at the
 * edges registered in their horizontal band (the polygon's y-range cut into
 * up to 1024 bands), so the cost per point is a few edges, not all of them.
 */

/** A closed ring given as interleaved vertices [x0, y0, x1, y1, …]; the last vertex joins the first. */
export type PolygonRing = ArrayLike<number>;

export type CoordinateArray = Float32Array | Float64Array | Int32Array | Uint32Array | ArrayLike<number>;

interface BandedEdges {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  bands: number;
  bandScale: number;
  /** CSR offsets: edges of band b are entries start[b] … start[b+1]−1. */
  start: Uint32Array;
  x1: Float64Array;
  y1: Float64Array;
  x2: Float64Array;
  y2: Float64Array;
}

function checkRing(polygon: PolygonRing): number {
  if (polygon.length % 2 !== 0) throw new RangeError(`polygon: odd number of coordinates (${polygon.length})`);
  const vertices = polygon.length / 2;
  if (vertices < 3) throw new RangeError(`polygon: needs at least 3 vertices, got ${vertices}`);
  for (let q = 0; q < polygon.length; q++) {
    if (!Number.isFinite(polygon[q])) throw new RangeError(`polygon: coordinate ${q} is not finite`);
  }
  return vertices;
}

function bandOf(y: number, minY: number, bandScale: number, bands: number): number {
  const b = Math.floor((y - minY) * bandScale);
  return b < 0 ? 0 : b >= bands ? bands - 1 : b;
}

function buildBands(polygon: PolygonRing): BandedEdges {
  const vertices = checkRing(polygon);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let v = 0; v < vertices; v++) {
    const x = polygon[2 * v];
    const y = polygon[2 * v + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const bands = Math.max(1, Math.min(1024, vertices));
  const height = maxY - minY;
  const bandScale = height > 0 ? bands / height : 0;

  // Pass 1: count entries per band (horizontal edges are never crossed, so they are left out).
  const counts = new Uint32Array(bands + 1);
  for (let v = 0; v < vertices; v++) {
    const w = v + 1 === vertices ? 0 : v + 1;
    const ya = polygon[2 * v + 1];
    const yb = polygon[2 * w + 1];
    if (ya === yb) continue;
    const first = bandOf(Math.min(ya, yb), minY, bandScale, bands);
    const last = bandOf(Math.max(ya, yb), minY, bandScale, bands);
    for (let b = first; b <= last; b++) counts[b + 1]++;
  }
  for (let b = 0; b < bands; b++) counts[b + 1] += counts[b];
  const total = counts[bands];
  const start = counts;
  const fill = start.slice(0, bands);
  const x1 = new Float64Array(total);
  const y1 = new Float64Array(total);
  const x2 = new Float64Array(total);
  const y2 = new Float64Array(total);
  // Pass 2: store each edge's data once per band it spans, so a band's edges are contiguous.
  for (let v = 0; v < vertices; v++) {
    const w = v + 1 === vertices ? 0 : v + 1;
    const xa = polygon[2 * v];
    const ya = polygon[2 * v + 1];
    const xb = polygon[2 * w];
    const yb = polygon[2 * w + 1];
    if (ya === yb) continue;
    const first = bandOf(Math.min(ya, yb), minY, bandScale, bands);
    const last = bandOf(Math.max(ya, yb), minY, bandScale, bands);
    for (let b = first; b <= last; b++) {
      const slot = fill[b]++;
      x1[slot] = xa;
      y1[slot] = ya;
      x2[slot] = xb;
      y2[slot] = yb;
    }
  }
  return { minX, maxX, minY, maxY, bands, bandScale, start, x1, y1, x2, y2 };
}

/**
 * 1 where (xs[i], ys[i]) lies inside the polygon (even–odd rule), 0 elsewhere.
 * Pass `out` to reuse a buffer of length ≥ n.
 */
export function pointsInPolygon(
  xs: CoordinateArray,
  ys: CoordinateArray,
  polygon: PolygonRing,
  out?: Uint8Array,
): Uint8Array {
  const n = xs.length;
  if (ys.length !== n) throw new RangeError(`pointsInPolygon: ${n} x values but ${ys.length} y values`);
  const inside = out ?? new Uint8Array(n);
  if (inside.length < n) throw new RangeError(`pointsInPolygon: output holds ${inside.length} < ${n} values`);
  inside.fill(0, 0, n);
  const e = buildBands(polygon);
  const { minX, maxX, minY, maxY, bands, bandScale, start, x1, y1, x2, y2 } = e;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    // The ray test can only succeed inside the bounding box (NaN fails here too).
    if (!(x >= minX && x <= maxX && y >= minY && y <= maxY)) continue;
    const b = bandOf(y, minY, bandScale, bands);
    let crossings = 0;
    const end = start[b + 1];
    for (let s = start[b]; s < end; s++) {
      const ya = y1[s];
      const yb = y2[s];
      if (ya > y !== yb > y) {
        const xa = x1[s];
        if (x < ((x2[s] - xa) * (y - ya)) / (yb - ya) + xa) crossings ^= 1;
      }
    }
    inside[i] = crossings;
  }
  return inside;
}

/** Same test for one point (no banding; fine for a handful of points). */
export function pointInPolygon(x: number, y: number, polygon: PolygonRing): boolean {
  const vertices = checkRing(polygon);
  let crossings = 0;
  for (let v = 0; v < vertices; v++) {
    const w = v + 1 === vertices ? 0 : v + 1;
    const xa = polygon[2 * v];
    const ya = polygon[2 * v + 1];
    const xb = polygon[2 * w];
    const yb = polygon[2 * w + 1];
    if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) crossings ^= 1;
  }
  return crossings === 1;
}
