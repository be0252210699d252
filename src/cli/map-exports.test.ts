import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import {
  clusterRegionsGeoJson,
  downsampleForMaxSide,
  encodePng,
  renderTileMap,
  signedArea,
  tileCellLattice,
  traceLabelPolygons,
  type LinearRing,
} from './map-exports';

/** Lattice from rows of characters: digits are labels, '.' is empty. */
function lattice(rows: string[]) {
  const columns = rows[0].length;
  const labels = new Int32Array(columns * rows.length);
  rows.forEach((row, r) => [...row].forEach((ch, c) => (labels[r * columns + c] = ch === '.' ? -1 : Number(ch))));
  return { columns, rows: rows.length, labels };
}

/** Rotates a closed ring so it starts at its smallest vertex (x, then y), for order-free comparison. */
function canonical(ring: LinearRing): LinearRing {
  const open = ring.slice(0, -1);
  let start = 0;
  open.forEach(([x, y], i) => {
    const [bx, by] = open[start];
    if (x < bx || (x === bx && y < by)) start = i;
  });
  const rotated = [...open.slice(start), ...open.slice(0, start)];
  return [...rotated, rotated[0]];
}

describe('traceLabelPolygons', () => {
  it('outlines a single cell clockwise on screen', () => {
    const polygons = traceLabelPolygons(lattice(['.0.']), 0);
    expect(polygons).toHaveLength(1);
    expect(canonical(polygons[0][0])).toEqual([[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]);
    expect(signedArea(polygons[0][0])).toBe(1);
  });

  it('merges an L shape into one ring without collinear vertices', () => {
    const polygons = traceLabelPolygons(lattice(['00', '0.']), 0);
    expect(polygons).toHaveLength(1);
    expect(canonical(polygons[0][0])).toEqual([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]]);
  });

  it('gives a ring of cells an outer boundary and a hole', () => {
    const polygons = traceLabelPolygons(lattice(['000', '010', '000']), 0);
    expect(polygons).toHaveLength(1);
    const [outer, hole] = polygons[0];
    expect(canonical(outer)).toEqual([[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]]);
    expect(signedArea(outer)).toBe(9);
    expect(signedArea(hole)).toBe(-1);
    expect(canonical(hole)).toEqual([[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]);
    // The centre label is a separate polygon.
    expect(traceLabelPolygons(lattice(['000', '010', '000']), 1)).toHaveLength(1);
  });

  it('keeps cells that touch only at a corner in separate rings', () => {
    const polygons = traceLabelPolygons(lattice(['0.', '.0']), 0);
    expect(polygons).toHaveLength(2);
    const rings = polygons.map((p) => canonical(p[0])).sort((a, b) => a[0][0] - b[0][0]);
    expect(rings[0]).toEqual([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]);
    expect(rings[1]).toEqual([[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]);
  });

  it('assigns holes to the innermost outline (island in a lake in an island)', () => {
    const grid = lattice(['00000', '0...0', '0.0.0', '0...0', '00000']);
    const polygons = traceLabelPolygons(grid, 0);
    expect(polygons).toHaveLength(2);
    const big = polygons.find((p) => signedArea(p[0]) === 25)!;
    const small = polygons.find((p) => signedArea(p[0]) === 1)!;
    expect(big).toHaveLength(2);
    expect(signedArea(big[1])).toBe(-9);
    expect(small).toHaveLength(1);
  });

  it('covers exactly the labelled area (random lattices)', () => {
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let trial = 0; trial < 20; trial++) {
      const columns = 3 + Math.floor(random() * 12);
      const rows = 3 + Math.floor(random() * 12);
      const labels = Int32Array.from({ length: columns * rows }, () => Math.floor(random() * 4) - 1);
      for (let label = 0; label < 3; label++) {
        const cells = labels.filter((v) => v === label).length;
        const polygons = traceLabelPolygons({ columns, rows, labels }, label);
        const area = polygons.reduce((sum, p) => sum + p.reduce((s, ring) => s + signedArea(ring), 0), 0);
        expect(area).toBe(cells);
        for (const polygon of polygons) {
          expect(signedArea(polygon[0])).toBeGreaterThan(0);
          for (const ring of polygon) expect(ring[0]).toEqual(ring[ring.length - 1]);
        }
      }
    }
  });
});

describe('cluster regions GeoJSON', () => {
  it('maps cells of overlapping tiles to level-0 squares and classifies them', () => {
    // 3×2 grid of 300-px tiles every 150 px: cells are the central 150-px squares.
    const grid = {
      columns: 3,
      rows: 2,
      x: Float64Array.from([0, 150, 300, 0, 150, 300]),
      y: Float64Array.from([0, 0, 0, 150, 150, 150]),
      width: new Float64Array(6).fill(300),
      stepLevel0: 150,
    };
    const cells = tileCellLattice(grid, Uint32Array.from([0, 1, 4]), Int32Array.from([1, 1, 0]));
    expect(cells.originX).toBe(75);
    expect(cells.originY).toBe(75);
    const fc = clusterRegionsGeoJson(cells, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), ['Low', 'High', 'Empty']);
    expect(fc.features.map((f) => f.properties.name)).toEqual(['Low', 'High']);
    const [low, high] = fc.features;
    expect(low.properties.classification).toEqual({ name: 'Low', color: [1, 2, 3] });
    expect(low.geometry.coordinates).toEqual([[[[225, 225], [375, 225], [375, 375], [225, 375], [225, 225]]]]);
    expect(high.properties.measurements).toEqual({ tiles: 2, area_px: 2 * 150 * 150 });
    expect(canonical(high.geometry.coordinates[0][0])).toEqual([[75, 75], [375, 75], [375, 225], [75, 225], [75, 75]]);
  });
});

describe('tile map raster and PNG', () => {
  it('fills each cell with its colour at the map scale, leaving the background elsewhere', () => {
    const map = renderTileMap(
      { x: [0, 100], y: [0, 0], width: [100, 100], height: [100, 100] },
      [1, 0],
      Uint8Array.from([255, 0, 0, 0, 0, 255]),
      { slideWidth: 400, slideHeight: 200, downsample: 10, background: [255, 255, 255, 255] },
    );
    expect([map.width, map.height]).toEqual([40, 20]);
    const at = (x: number, y: number) => Array.from(map.data.subarray((y * map.width + x) * 4, (y * map.width + x) * 4 + 4));
    expect(at(0, 0)).toEqual([0, 0, 255, 255]);
    expect(at(9, 9)).toEqual([0, 0, 255, 255]);
    expect(at(10, 0)).toEqual([255, 0, 0, 255]);
    expect(at(19, 9)).toEqual([255, 0, 0, 255]);
    expect(at(20, 0)).toEqual([255, 255, 255, 255]);
    expect(at(0, 10)).toEqual([255, 255, 255, 255]);
  });

  it('picks a downsample that keeps the long side within the limit', () => {
    expect(downsampleForMaxSide(10000, 4000, 2048)).toBeCloseTo(10000 / 2048, 12);
    expect(downsampleForMaxSide(1000, 800, 2048)).toBe(1);
  });

  it('encodes PNG that decodes to the same RGBA pixels', () => {
    const data = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) & 255);
    const png = encodePng({ width: 5, height: 3, data });
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const back = decode(png);
    expect([back.width, back.height, back.channels, back.depth]).toEqual([5, 3, 4, 8]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });
});
