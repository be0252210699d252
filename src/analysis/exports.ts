/**
 * Pure builders for the CISH expression map's outputs: the ordinal cluster
 * palette, per-tile overlay colours, the CSV table and the GeoJSON that
 * QuPath imports. Inputs are the same columnar arrays the store holds.
 */
import { pca, pcaTransform } from './pca';

/** Anchors of the ordinal palette, low → high along the main latent axis (pale yellow → deep purple). */
const PALETTE_ANCHORS: readonly (readonly [number, number, number])[] = [
  [255, 241, 168],
  [253, 186, 84],
  [237, 99, 46],
  [190, 32, 72],
  [110, 24, 128],
  [40, 18, 90],
];

/** The palette at t ∈ [0, 1] (clamped), written to out[offset…offset+2]. */
function paletteAt(t: number, out: Uint8Array, offset: number): void {
  const last = PALETTE_ANCHORS.length - 1;
  const position = Math.min(1, Math.max(0, t)) * last;
  const lower = Math.min(last - 1, Math.floor(position));
  const f = position - lower;
  for (let c = 0; c < 3; c++) out[offset + c] = Math.round(PALETTE_ANCHORS[lower][c] * (1 - f) + PALETTE_ANCHORS[lower + 1][c] * f);
}

/** K colours (r, g, b per cluster rank) sampled evenly along the ordinal palette. */
export function ordinalPalette(k: number): Uint8Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`ordinalPalette: K must be an integer ≥ 1, got ${k}`);
  const out = new Uint8Array(3 * k);
  for (let j = 0; j < k; j++) paletteAt(k === 1 ? 0.5 : j / (k - 1), out, 3 * j);
  return out;
}

/**
 * RGBA per value on the same palette, `lo` → pale, `hi` → dark; values
 * outside the range are clamped, and non-finite ones drawn grey.
 */
export function rampColours(values: ArrayLike<number>, lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) paletteAt(span > 0 ? (v - lo) / span : 0.5, out, 4 * i);
    else out.set([128, 128, 128], 4 * i);
    out[4 * i + 3] = 255;
  }
  return out;
}

/**
 * Rank of each cluster along the first principal axis of the codes (0 = lowest).
 * The axis sign is fixed so its largest loading is positive, which makes the
 * order reproducible for the same codes.
 */
export function clusterRanks(latents: Float32Array | Float64Array, dim: number, centres: Float64Array | Float32Array, k: number): Int32Array {
  let score: Float64Array;
  const n = latents.length / dim;
  if (dim === 1 || n < 2) {
    score = Float64Array.from({ length: k }, (_, j) => centres[j * dim]);
  } else {
    const model = pca(latents, dim, { components: 1 });
    let largest = 0;
    for (let t = 1; t < dim; t++) if (Math.abs(model.components[t]) > Math.abs(model.components[largest])) largest = t;
    const sign = model.components[largest] < 0 ? -1 : 1;
    const projected = pcaTransform(model, Float64Array.from(centres));
    score = projected.map((v) => sign * v);
  }
  const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => score[a] - score[b] || a - b);
  const ranks = new Int32Array(k);
  order.forEach((cluster, rank) => (ranks[cluster] = rank));
  return ranks;
}

/** Colour per cluster (r, g, b × K): the ordinal palette indexed by each cluster's rank. */
export function clusterColours(ranks: Int32Array): Uint8Array {
  const k = ranks.length;
  const palette = ordinalPalette(k);
  const out = new Uint8Array(3 * k);
  for (let j = 0; j < k; j++) out.set(palette.subarray(3 * ranks[j], 3 * ranks[j] + 3), 3 * j);
  return out;
}

/**
 * RGBA per tile for a tile-map overlay. With `membershipAlpha`, alpha follows
 * how sure the assignment is: (max u − 1/K) / (1 − 1/K), so a tile split
 * evenly between clusters fades out.
 */
export function tileColours(
  labels: Int32Array,
  colours: Uint8Array,
  options: { memberships?: Float32Array | Float64Array | null; k?: number; membershipAlpha?: boolean } = {},
): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(4 * n);
  const k = options.k ?? colours.length / 3;
  const fade = options.membershipAlpha === true && options.memberships != null && k > 1;
  for (let i = 0; i < n; i++) {
    const j = labels[i];
    out[4 * i] = colours[3 * j];
    out[4 * i + 1] = colours[3 * j + 1];
    out[4 * i + 2] = colours[3 * j + 2];
    let alpha = 255;
    if (fade) {
      const u = options.memberships![i * k + j];
      alpha = Math.round(255 * Math.min(1, Math.max(0, (u - 1 / k) / (1 - 1 / k))));
    }
    out[4 * i + 3] = alpha;
  }
  return out;
}

export interface TileTable {
  /** Lattice columns (level-0 px), indexed by tile id. */
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  width: ArrayLike<number>;
  height: ArrayLike<number>;
  /** Tile ids of the rows (the kept tiles). */
  ids: ArrayLike<number>;
  /** rows × dim. */
  latents: Float32Array | Float64Array;
  dim: number;
  /** Per row; -1 when not clustered. */
  labels: Int32Array | null;
  /** rows × k. */
  memberships: Float32Array | Float64Array | null;
  k: number;
}

function checkTable(table: TileTable): number {
  const n = table.ids.length;
  if (table.latents.length !== n * table.dim) throw new RangeError(`latents hold ${table.latents.length} values, expected ${n}×${table.dim}`);
  if (table.labels && table.labels.length !== n) throw new RangeError(`labels hold ${table.labels.length} values, expected ${n}`);
  if (table.memberships && table.memberships.length !== n * table.k) {
    throw new RangeError(`memberships hold ${table.memberships.length} values, expected ${n}×${table.k}`);
  }
  return n;
}

/** Shortest text that reads back as the same float32 (keeps the file small without losing codes). */
function num(value: number): string {
  if (!Number.isFinite(value)) return '';
  return Number.isInteger(value) ? String(value) : String(Math.fround(value) === value ? Number(value.toPrecision(9)) : value);
}

/** CSV: tile_id,x,y,width,height,latent_0…,cluster,membership_0… (level-0 px). */
export function buildTileCsv(table: TileTable): string {
  const n = checkTable(table);
  const header = ['tile_id', 'x', 'y', 'width', 'height'];
  for (let t = 0; t < table.dim; t++) header.push(`latent_${t}`);
  header.push('cluster');
  const withMemberships = table.memberships !== null;
  if (withMemberships) for (let j = 0; j < table.k; j++) header.push(`membership_${j}`);
  const lines = [header.join(',')];
  for (let i = 0; i < n; i++) {
    const id = table.ids[i];
    const cells = [String(id), num(table.x[id]), num(table.y[id]), num(table.width[id]), num(table.height[id])];
    for (let t = 0; t < table.dim; t++) cells.push(num(table.latents[i * table.dim + t]));
    cells.push(table.labels ? String(table.labels[i]) : '');
    if (withMemberships) for (let j = 0; j < table.k; j++) cells.push(num(table.memberships![i * table.k + j]));
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}

export interface GeoJsonPolygonFeature {
  type: 'Feature';
  id: string;
  geometry: { type: 'Polygon'; coordinates: number[][][] };
  properties: {
    objectType: 'tile';
    name: string;
    classification: { name: string; color: [number, number, number] };
    cluster: number;
    rank: number;
    membership: number[];
    measurements: Record<string, number>;
  };
}

export interface GeoJsonCollection {
  type: 'FeatureCollection';
  features: GeoJsonPolygonFeature[];
}

/**
 * Kept tiles as GeoJSON polygons in level-0 px, classified by cluster the
 * way QuPath reads classes (`classification: {name, color: [r, g, b]}`).
 * Class names carry the ordinal rank ("Expression 1" = lowest) so they sort
 * as a grading scale; the raw cluster index is a property.
 */
export function buildTileGeoJson(table: TileTable, colours: Uint8Array, ranks: Int32Array): GeoJsonCollection {
  const n = checkTable(table);
  if (!table.labels) throw new Error('cluster the codes before exporting GeoJSON');
  const features: GeoJsonPolygonFeature[] = [];
  for (let i = 0; i < n; i++) {
    const id = table.ids[i];
    const x0 = table.x[id];
    const y0 = table.y[id];
    const x1 = x0 + table.width[id];
    const y1 = y0 + table.height[id];
    const cluster = table.labels[i];
    const membership: number[] = [];
    const measurements: Record<string, number> = { cluster };
    if (table.memberships) {
      for (let j = 0; j < table.k; j++) {
        const u = Number(table.memberships[i * table.k + j].toPrecision(6));
        membership.push(u);
        measurements[`membership_${j}`] = u;
      }
    }
    for (let t = 0; t < table.dim; t++) measurements[`latent_${t}`] = Number(table.latents[i * table.dim + t].toPrecision(7));
    features.push({
      type: 'Feature',
      id: `tile-${id}`,
      geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] },
      properties: {
        objectType: 'tile',
        name: `tile ${id}`,
        classification: {
          name: `Expression ${ranks[cluster] + 1}`,
          color: [colours[3 * cluster], colours[3 * cluster + 1], colours[3 * cluster + 2]],
        },
        cluster,
        rank: ranks[cluster],
        membership,
        measurements,
      },
    });
  }
  return { type: 'FeatureCollection', features };
}
