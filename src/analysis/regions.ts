/**
 * Labelled regions of a tile grid as polygons: each kept tile stands for its
 * central step × step cell, cells of one label are traced into outlines with
 * holes, and the outlines become GeoJSON MultiPolygons in level-0 pixels with
 * QuPath's `classification: {name, color}`. Used for cluster regions (CLI and
 * app) and for the latent explorer's selections. No DOM, no file system.
 */

export type Position = [number, number];
export type LinearRing = Position[];

/** A labelled lattice of equal square cells (label < 0: empty). */
export interface CellLattice {
  columns: number;
  rows: number;
  /** columns × rows row-major; −1 for no cell. */
  labels: Int32Array;
  /** Level-0 position of the corner of cell (0, 0) and the cell side. */
  originX: number;
  originY: number;
  cellSize: number;
}

/** Shoelace area; positive for rings running clockwise on screen (y down). */
export function signedArea(ring: LinearRing): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) sum += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return sum / 2;
}

function pointInRing(x: number, y: number, ring: LinearRing): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 2; i < ring.length - 1; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The outlines of the cells carrying `label` as polygons with holes, in
 * lattice vertex units (closed rings, no collinear vertices). Outer rings run
 * clockwise on screen (y down), holes anticlockwise. Cells that touch only at
 * a corner end up in separate rings, so every ring is simple.
 */
export function traceLabelPolygons(lattice: Pick<CellLattice, 'columns' | 'rows' | 'labels'>, label: number): LinearRing[][] {
  const { columns, rows, labels } = lattice;
  const stride = columns + 1;
  const at = (c: number, r: number) => (c >= 0 && r >= 0 && c < columns && r < rows ? labels[r * columns + c] : -1);
  // Directed boundary edges keyed by start vertex; direction 0 E, 1 S, 2 W, 3 N.
  const outgoing = new Map<number, number[]>();
  let edges = 0;
  const add = (c: number, r: number, direction: number) => {
    edges++;
    const key = r * stride + c;
    const list = outgoing.get(key);
    if (list) list.push(direction);
    else outgoing.set(key, [direction]);
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      if (labels[r * columns + c] !== label) continue;
      // Each exposed side, walked so that the cell lies to the right of travel.
      if (at(c, r - 1) !== label) add(c, r, 0);
      if (at(c + 1, r) !== label) add(c + 1, r, 1);
      if (at(c, r + 1) !== label) add(c + 1, r + 1, 2);
      if (at(c - 1, r) !== label) add(c, r + 1, 3);
    }
  }
  const dx = [1, 0, -1, 0];
  const dy = [0, 1, 0, -1];
  const rings: LinearRing[] = [];
  while (edges > 0) {
    const [startKey, startList] = outgoing.entries().next().value as [number, number[]];
    let direction = startList.pop()!;
    if (startList.length === 0) outgoing.delete(startKey);
    edges--;
    const startC = startKey % stride;
    const startR = (startKey - startC) / stride;
    const ring: LinearRing = [[startC, startR]];
    let c = startC + dx[direction];
    let r = startR + dy[direction];
    while (c !== startC || r !== startR) {
      const key = r * stride + c;
      const list = outgoing.get(key);
      if (!list) throw new Error('traceLabelPolygons: open boundary (internal error)');
      // Right turn first, then straight, then left: where two cells of the
      // label meet only at a corner, this keeps their rings apart.
      let pick = -1;
      for (const turn of [1, 0, 3]) {
        pick = list.indexOf((direction + turn) % 4);
        if (pick >= 0) break;
      }
      if (pick < 0) throw new Error('traceLabelPolygons: open boundary (internal error)');
      const next = list[pick];
      list.splice(pick, 1);
      if (list.length === 0) outgoing.delete(key);
      edges--;
      if (next !== direction) ring.push([c, r]);
      direction = next;
      c += dx[direction];
      r += dy[direction];
    }
    // The start vertex may sit in the middle of a straight run.
    if (ring.length > 2) {
      const [first, second, last] = [ring[0], ring[1], ring[ring.length - 1]];
      if ((first[0] === second[0] && first[0] === last[0]) || (first[1] === second[1] && first[1] === last[1])) ring.shift();
    }
    ring.push([ring[0][0], ring[0][1]]);
    rings.push(ring);
  }
  const outers = rings.filter((ring) => signedArea(ring) > 0);
  const holes = rings.filter((ring) => signedArea(ring) < 0);
  const polygons: LinearRing[][] = outers.map((ring) => [ring]);
  const outerAreas = outers.map(signedArea);
  for (const hole of holes) {
    // A point inside the labelled cell to the right of the hole's first edge.
    const [ax, ay] = hole[0];
    const [bx, by] = hole[1];
    const ux = Math.sign(bx - ax);
    const uy = Math.sign(by - ay);
    const px = ax + 0.5 * ux - 0.25 * uy;
    const py = ay + 0.5 * uy + 0.25 * ux;
    // The innermost outline around it owns the hole.
    let best = -1;
    for (let o = 0; o < outers.length; o++) {
      if (pointInRing(px, py, outers[o]) && (best < 0 || outerAreas[o] < outerAreas[best])) best = o;
    }
    if (best < 0) throw new Error('traceLabelPolygons: hole outside every outline (internal error)');
    polygons[best].push(hole);
  }
  return polygons;
}

/**
 * The cell lattice of a tile grid: each kept tile is represented by its
 * central step × step cell, so neighbouring cells touch without overlapping
 * and each point of the covered area belongs to the tile whose centre is nearest.
 */
export function tileCellLattice(
  grid: { columns: number; rows: number; x: ArrayLike<number>; y: ArrayLike<number>; width: ArrayLike<number>; stepLevel0: number },
  tileIds: ArrayLike<number>,
  labels: ArrayLike<number>,
): CellLattice {
  const { columns, rows, stepLevel0 } = grid;
  if (tileIds.length !== labels.length) throw new RangeError('tileCellLattice: tileIds and labels differ in length');
  const lattice = new Int32Array(columns * rows).fill(-1);
  for (let i = 0; i < tileIds.length; i++) {
    const id = tileIds[i];
    if (!(id >= 0 && id < lattice.length)) throw new RangeError(`tileCellLattice: tile id ${id} outside the grid`);
    lattice[id] = labels[i];
  }
  // The lattice is uniform, so tile 0 fixes the origin of every cell.
  const tileSide = grid.width.length > 0 ? grid.width[0] : stepLevel0;
  const inset = (tileSide - stepLevel0) / 2;
  return {
    columns,
    rows,
    labels: lattice,
    originX: (grid.x.length > 0 ? grid.x[0] : 0) + inset,
    originY: (grid.y.length > 0 ? grid.y[0] : 0) + inset,
    cellSize: stepLevel0,
  };
}

/** A QuPath annotation: a MultiPolygon in level-0 px with its class; `Extra` adds properties. */
export interface AnnotationFeature<Extra extends object = object> {
  type: 'Feature';
  id: string;
  geometry: { type: 'MultiPolygon'; coordinates: LinearRing[][] };
  properties: {
    objectType: 'annotation';
    name: string;
    classification: { name: string; color: [number, number, number] };
    measurements: Record<string, number>;
  } & Extra;
}

export type RegionFeature = AnnotationFeature<{ cluster: number }>;

/**
 * The cells of `label` as one QuPath annotation (a MultiPolygon in level-0
 * pixels), or null when no cell carries the label.
 */
export function labelRegionGeometry(lattice: CellLattice, label: number): { cells: number; coordinates: LinearRing[][] } | null {
  let cells = 0;
  for (let i = 0; i < lattice.labels.length; i++) if (lattice.labels[i] === label) cells++;
  if (cells === 0) return null;
  const toLevel0 = ([c, r]: Position): Position => [lattice.originX + c * lattice.cellSize, lattice.originY + r * lattice.cellSize];
  return { cells, coordinates: traceLabelPolygons(lattice, label).map((polygon) => polygon.map((ring) => ring.map(toLevel0))) };
}

/**
 * One QuPath annotation per non-empty cluster: the union of its tiles' cells
 * as a MultiPolygon in level-0 pixels, with classification {name, color}.
 * `colours` holds r, g, b per cluster; `names` the class name per cluster.
 */
export function clusterRegionsGeoJson(
  lattice: CellLattice,
  colours: ArrayLike<number>,
  names: readonly string[],
): { type: 'FeatureCollection'; features: RegionFeature[] } {
  const features: RegionFeature[] = [];
  names.forEach((name, j) => {
    const region = labelRegionGeometry(lattice, j);
    if (!region) return;
    features.push({
      type: 'Feature',
      id: `cluster-${j}`,
      geometry: { type: 'MultiPolygon', coordinates: region.coordinates },
      properties: {
        objectType: 'annotation',
        name,
        classification: { name, color: [colours[3 * j], colours[3 * j + 1], colours[3 * j + 2]] },
        cluster: j,
        measurements: { tiles: region.cells, area_px: region.cells * lattice.cellSize * lattice.cellSize },
      },
    });
  });
  return { type: 'FeatureCollection', features };
}
