/**
 * Named selections of items (tiles now; nuclei later) for the latent
 * explorer: membership as one byte per item, edits by shape with replace /
 * add / subtract, undo and redo, and exchange with QuPath as GeoJSON (the
 * tiles' cells traced into outlines) or as CSV. A selection marked
 * `labelled` is a labelled class: its items are training examples of the
 * class its name gives (`labelledClasses`, read by the classifiers). Everything is immutable:
 * an edit returns a new set that shares every untouched array, so a history
 * of a hundred edits over a million items costs one array per edit.
 */
import { pointsInPolygon } from '../tiling/polygon';
import { labelRegionGeometry, tileCellLattice, type AnnotationFeature } from './regions';

export type Rgb = readonly [number, number, number];
export type SelectionMode = 'replace' | 'add' | 'subtract';

export interface NamedSelection {
  readonly id: string;
  readonly name: string;
  readonly color: Rgb;
  /** 1 for each selected item, indexed like the items (rows of the store). */
  readonly members: Uint8Array;
  /** A labelled class: its items are examples of the class `name`. */
  readonly labelled?: boolean;
}

export interface SelectionSet {
  readonly items: number;
  readonly selections: readonly NamedSelection[];
  /** The selection that shape edits change. */
  readonly activeId: string | null;
}

/** Distinct, colour-blind-safe colours (Okabe–Ito) for new selections, in turn. */
export const SELECTION_COLOURS: readonly Rgb[] = [
  [230, 159, 0],
  [86, 180, 233],
  [0, 158, 115],
  [240, 228, 66],
  [0, 114, 178],
  [213, 94, 0],
  [204, 121, 167],
];

/** The k-th of SELECTION_COLOURS, cycling. */
export function selectionColour(k: number): Rgb {
  return SELECTION_COLOURS[k % SELECTION_COLOURS.length];
}

export function emptySelectionSet(items: number): SelectionSet {
  if (!(Number.isInteger(items) && items >= 0)) throw new RangeError(`selection set needs a whole number of items, got ${items}`);
  return { items, selections: [], activeId: null };
}

function nextId(set: SelectionSet): string {
  let n = set.selections.length + 1;
  while (set.selections.some((s) => s.id === `selection-${n}`)) n++;
  return `selection-${n}`;
}

/** Adds an empty selection (or one with `members`) and makes it active. */
export function addSelection(
  set: SelectionSet,
  options: { name?: string; color?: Rgb; members?: Uint8Array; labelled?: boolean } = {},
): SelectionSet {
  const id = nextId(set);
  const members = options.members ?? new Uint8Array(set.items);
  if (members.length !== set.items) throw new RangeError(`selection has ${members.length} members, expected ${set.items}`);
  const selection: NamedSelection = {
    id,
    name: options.name ?? `Selection ${set.selections.length + 1}`,
    color: options.color ?? selectionColour(set.selections.length),
    members,
    ...(options.labelled ? { labelled: true } : {}),
  };
  return { ...set, selections: [...set.selections, selection], activeId: id };
}

export function removeSelection(set: SelectionSet, id: string): SelectionSet {
  const selections = set.selections.filter((s) => s.id !== id);
  const activeId = set.activeId === id ? (selections[selections.length - 1]?.id ?? null) : set.activeId;
  return { ...set, selections, activeId };
}

export function updateSelection(set: SelectionSet, id: string, patch: { name?: string; color?: Rgb; labelled?: boolean }): SelectionSet {
  if (patch.name !== undefined && patch.name.trim() === '') throw new RangeError('a selection needs a name');
  return { ...set, selections: set.selections.map((s) => (s.id === id ? { ...s, ...patch } : s)) };
}

export function setActiveSelection(set: SelectionSet, id: string): SelectionSet {
  if (!set.selections.some((s) => s.id === id)) throw new RangeError(`no selection ${id}`);
  return { ...set, activeId: id };
}

/**
 * Applies a shape's hits (`inside`, one byte per item) to the active
 * selection, creating one when there is none.
 */
export function applyShape(set: SelectionSet, inside: Uint8Array, mode: SelectionMode): SelectionSet {
  if (inside.length < set.items) throw new RangeError(`shape covers ${inside.length} items, expected ${set.items}`);
  const base = set.activeId === null ? addSelection(set) : set;
  const active = base.selections.find((s) => s.id === base.activeId)!;
  const members = new Uint8Array(set.items);
  const before = active.members;
  for (let i = 0; i < set.items; i++) {
    const hit = inside[i];
    members[i] = mode === 'replace' ? hit : mode === 'add' ? before[i] | hit : before[i] & (hit ^ 1);
  }
  return { ...base, selections: base.selections.map((s) => (s.id === active.id ? { ...s, members } : s)) };
}

/**
 * RGBA per item: each selected item in its selection's colour (the last
 * selection wins where they overlap), the others `unselected`.
 */
export function selectionColours(set: SelectionSet, alpha: number, unselected: readonly [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(4 * set.items);
  for (let i = 0; i < set.items; i++) out.set(unselected, 4 * i);
  for (const selection of set.selections) {
    const [r, g, b] = selection.color;
    const members = selection.members;
    for (let i = 0; i < set.items; i++) {
      if (!members[i]) continue;
      const o = 4 * i;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = alpha;
    }
  }
  return out;
}

/** Fewer examples than this in a labelled class draw a warning: too few to train or validate on. */
export const MIN_EXAMPLES_PER_CLASS = 10;

/** The labelled classes of a selection set, as a classifier's training labels. */
export interface LabelledClasses {
  /** One per distinct name among the labelled selections (selections of the same name merge), in order. */
  classes: { name: string; color: Rgb }[];
  /** Class index per item; −1 when unlabelled or when two classes claim it. */
  itemClass: Int16Array;
  /** Items per class, conflicts left out. */
  counts: number[];
  /** Items that two or more classes claim; they are left out of training. */
  conflicts: number;
}

export function labelledClasses(set: SelectionSet): LabelledClasses {
  const classes: { name: string; color: Rgb }[] = [];
  const itemClass = new Int16Array(set.items).fill(-1);
  const CONFLICT = -2;
  for (const selection of set.selections) {
    if (!selection.labelled) continue;
    let c = classes.findIndex((k) => k.name === selection.name);
    if (c < 0) c = classes.push({ name: selection.name, color: selection.color }) - 1;
    const members = selection.members;
    for (let i = 0; i < set.items; i++) {
      if (!members[i]) continue;
      const current = itemClass[i];
      itemClass[i] = current === -1 || current === c ? c : CONFLICT;
    }
  }
  const counts = new Array<number>(classes.length).fill(0);
  let conflicts = 0;
  for (let i = 0; i < set.items; i++) {
    const c = itemClass[i];
    if (c >= 0) counts[c]++;
    else if (c === CONFLICT) {
      conflicts++;
      itemClass[i] = -1;
    }
  }
  return { classes, itemClass, counts, conflicts };
}

/** Whether any selection holds at least one item. */
export function anyMembers(set: SelectionSet): boolean {
  return set.selections.some((selection) => selection.members.some((m) => m !== 0));
}

export function countMembers(members: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < members.length; i++) count += members[i];
  return count;
}

/**
 * Undo and redo over whole selection sets. Snapshots share their unchanged
 * arrays, so the cost per entry is the arrays the edit replaced.
 */
export class SelectionHistory {
  private past: SelectionSet[] = [];
  private future: SelectionSet[] = [];

  constructor(
    private present: SelectionSet,
    private readonly limit = 100,
  ) {}

  get current(): SelectionSet {
    return this.present;
  }
  get canUndo(): boolean {
    return this.past.length > 0;
  }
  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Records an edit; the redo branch is dropped. */
  push(next: SelectionSet): SelectionSet {
    if (next === this.present) return next;
    this.past.push(this.present);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.present = next;
    return next;
  }

  undo(): SelectionSet {
    const previous = this.past.pop();
    if (previous) {
      this.future.push(this.present);
      this.present = previous;
    }
    return this.present;
  }

  redo(): SelectionSet {
    const next = this.future.pop();
    if (next) {
      this.past.push(this.present);
      this.present = next;
    }
    return this.present;
  }
}

// ---------------------------------------------------------------- exchange

/** The tile lattice the selections refer to: level-0 px, items = kept tiles in row order. */
export interface SelectionTiles {
  columns: number;
  rows: number;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  width: ArrayLike<number>;
  height: ArrayLike<number>;
  /** Distance between neighbouring tiles (level-0 px); each tile stands for its central step × step cell. */
  stepLevel0: number;
  /** Tile id of each item. */
  kept: ArrayLike<number>;
  /** Micrometres per level-0 pixel, for areas; null when unknown. */
  mpp: number | null;
}

/** `labelled` marks a labelled class (absent for plain selections). */
export type SelectionFeature = AnnotationFeature<{ labelled?: true }>;

/** Tile centres (level-0 px) of the items: where shapes drawn on the slide or imported test them. */
export function tileCentres(tiles: Pick<SelectionTiles, 'kept' | 'x' | 'y' | 'width' | 'height'>): { xs: Float64Array; ys: Float64Array } {
  const n = tiles.kept.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = tiles.kept[i];
    xs[i] = tiles.x[id] + tiles.width[id] / 2;
    ys[i] = tiles.y[id] + tiles.height[id] / 2;
  }
  return { xs, ys };
}

/** Area of `count` tile cells in mm² (null without a pixel size). */
export function cellsAreaMm2(count: number, tiles: Pick<SelectionTiles, 'stepLevel0' | 'mpp'>): number | null {
  if (tiles.mpp === null) return null;
  const sideMm = (tiles.stepLevel0 * tiles.mpp) / 1000;
  return count * sideMm * sideMm;
}

/**
 * Each non-empty selection as one QuPath annotation: the outline of its
 * tiles' cells, in level-0 pixels, classified by the selection's name and
 * colour (QuPath's `classification: {name, color}`).
 */
export function selectionsToGeoJson(set: SelectionSet, tiles: SelectionTiles): { type: 'FeatureCollection'; features: SelectionFeature[] } {
  if (tiles.kept.length !== set.items) throw new RangeError(`${tiles.kept.length} tiles for ${set.items} selection items`);
  const features: SelectionFeature[] = [];
  for (const selection of set.selections) {
    const lattice = tileCellLattice(tiles, tiles.kept, Int32Array.from(selection.members, (m) => (m ? 0 : -1)));
    const region = labelRegionGeometry(lattice, 0);
    if (!region) continue;
    const area = cellsAreaMm2(region.cells, tiles);
    features.push({
      type: 'Feature',
      id: selection.id,
      geometry: { type: 'MultiPolygon', coordinates: region.coordinates },
      properties: {
        objectType: 'annotation',
        name: selection.name,
        classification: { name: selection.name, color: [...selection.color] },
        ...(selection.labelled ? { labelled: true } : {}),
        measurements: area === null ? { tiles: region.cells } : { tiles: region.cells, area_mm2: area },
      },
    });
  }
  return { type: 'FeatureCollection', features };
}

/**
 * CSV of every item: tile_id,x,y,width,height, one 0/1 column per selection
 * (named after it) and, when there are labelled classes, a `class` column
 * (empty for unlabelled items and for items two classes claim).
 */
export function selectionsToCsv(set: SelectionSet, tiles: SelectionTiles): string {
  const quote = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const labels = labelledClasses(set);
  const withClass = labels.classes.length > 0;
  const header = ['tile_id', 'x', 'y', 'width', 'height', ...set.selections.map((s) => quote(s.name)), ...(withClass ? ['class'] : [])];
  const lines = [header.join(',')];
  for (let i = 0; i < set.items; i++) {
    const id = tiles.kept[i];
    const row: (string | number)[] = [id, tiles.x[id], tiles.y[id], tiles.width[id], tiles.height[id], ...set.selections.map((s) => s.members[i])];
    if (withClass) row.push(labels.itemClass[i] >= 0 ? quote(labels.classes[labels.itemClass[i]].name) : '');
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

function parseColour(value: unknown): Rgb | undefined {
  if (Array.isArray(value) && value.length >= 3 && value.slice(0, 3).every((v) => Number.isFinite(v))) {
    return [value[0], value[1], value[2]].map((v: number) => Math.max(0, Math.min(255, Math.round(v)))) as unknown as Rgb;
  }
  // QuPath may also write a packed (A)RGB integer.
  if (typeof value === 'number' && Number.isFinite(value)) return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
  return undefined;
}

function polygonsOf(geometry: unknown, where: string): number[][][][] {
  const g = geometry as { type?: unknown; coordinates?: unknown } | null;
  if (!g || typeof g !== 'object') throw new Error(`${where}: no geometry`);
  if (g.type === 'Polygon') return [g.coordinates as number[][][]];
  if (g.type === 'MultiPolygon') return g.coordinates as number[][][][];
  throw new Error(`${where}: geometry ${String(g.type)} is not a Polygon or MultiPolygon`);
}

/**
 * Selections from GeoJSON (as written by selectionsToGeoJson or by QuPath):
 * one selection per feature with a Polygon or MultiPolygon geometry, holding
 * the tiles whose centre lies inside it (even–odd over all its rings, so
 * holes are respected). Features of the same class name are merged; one
 * with `properties.labelled` makes its selection a labelled class. Errors
 * name the feature and the reason.
 */
export function selectionsFromGeoJson(json: unknown, tiles: SelectionTiles): SelectionSet {
  const collection = json as { type?: unknown; features?: unknown } | null;
  const features = collection?.type === 'FeatureCollection' ? collection.features : collection?.type === 'Feature' ? [collection] : null;
  if (!Array.isArray(features)) throw new Error('not a GeoJSON Feature or FeatureCollection');
  const n = tiles.kept.length;
  const { xs: cx, ys: cy } = tileCentres(tiles);
  let set = emptySelectionSet(n);
  const hits = new Uint8Array(n);
  features.forEach((feature, index) => {
    const where = `feature ${index + 1}`;
    const properties = (feature?.properties ?? {}) as { name?: unknown; labelled?: unknown; classification?: { name?: unknown; color?: unknown } };
    const polygons = polygonsOf(feature?.geometry, where);
    const inside = new Uint8Array(n);
    for (const polygon of polygons) {
      for (const ring of polygon) {
        if (!Array.isArray(ring) || ring.length < 3) throw new Error(`${where}: a ring with fewer than 3 positions`);
        pointsInPolygon(cx, cy, ring.flat() as number[], hits);
        for (let i = 0; i < n; i++) inside[i] ^= hits[i];
      }
    }
    const name = String(properties.classification?.name ?? properties.name ?? `Selection ${index + 1}`);
    const labelled = properties.labelled === true;
    const existing = set.selections.find((s) => s.name === name);
    if (existing) {
      set = applyShape(setActiveSelection(set, existing.id), inside, 'add');
      if (labelled) set = updateSelection(set, existing.id, { labelled });
    } else {
      set = addSelection(set, { name, color: parseColour(properties.classification?.color), members: inside, labelled });
    }
  });
  return set;
}
