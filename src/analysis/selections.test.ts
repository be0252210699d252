import { describe, expect, it } from 'vitest';
import { Random } from '../util/random';
import {
  SelectionHistory,
  addSelection,
  applyShape,
  cellsAreaMm2,
  countMembers,
  emptySelectionSet,
  labelledClasses,
  removeSelection,
  selectionColours,
  selectionsFromGeoJson,
  selectionsToCsv,
  selectionsToGeoJson,
  updateSelection,
  type SelectionTiles,
} from './selections';

const bits = (...values: number[]) => Uint8Array.from(values);

describe('selection edits', () => {
  it('replace, add and subtract change only the active selection; a first shape creates one', () => {
    let set = emptySelectionSet(6);
    set = applyShape(set, bits(1, 1, 0, 0, 0, 0), 'replace');
    expect(set.selections).toHaveLength(1);
    expect(Array.from(set.selections[0].members)).toEqual([1, 1, 0, 0, 0, 0]);
    set = applyShape(set, bits(0, 1, 1, 0, 0, 0), 'add');
    expect(Array.from(set.selections[0].members)).toEqual([1, 1, 1, 0, 0, 0]);
    set = applyShape(set, bits(1, 0, 0, 0, 0, 1), 'subtract');
    expect(Array.from(set.selections[0].members)).toEqual([0, 1, 1, 0, 0, 0]);
    const first = set.selections[0];
    set = addSelection(set, { name: 'Tumour' });
    set = applyShape(set, bits(0, 0, 0, 1, 1, 0), 'replace');
    expect(set.selections[0]).toBe(first); // untouched selections keep their arrays
    expect(set.selections[1].name).toBe('Tumour');
    expect(countMembers(set.selections[1].members)).toBe(2);
    expect(set.selections[0].color).not.toEqual(set.selections[1].color);
    set = updateSelection(set, set.selections[1].id, { name: 'Stroma', color: [1, 2, 3] });
    expect(set.selections[1]).toMatchObject({ name: 'Stroma', color: [1, 2, 3] });
    expect(() => updateSelection(set, set.selections[1].id, { name: ' ' })).toThrow(/name/);
    set = removeSelection(set, set.selections[1].id);
    expect(set.selections).toHaveLength(1);
    expect(set.activeId).toBe(first.id);
    expect(() => applyShape(set, bits(1), 'add')).toThrow(/covers 1 items/);
  });

  it('colours: members in their selection\'s colour (the later selection on overlaps), the rest as given', () => {
    let set = addSelection(emptySelectionSet(4), { name: 'a', color: [10, 20, 30], members: bits(1, 1, 0, 0) });
    set = addSelection(set, { name: 'b', color: [40, 50, 60], members: bits(0, 1, 1, 0) });
    expect(Array.from(selectionColours(set, 200, [1, 2, 3, 4]))).toEqual([10, 20, 30, 200, 40, 50, 60, 200, 40, 50, 60, 200, 1, 2, 3, 4]);
  });

  it('undo and redo step through edits; a new edit drops the redo branch', () => {
    const history = new SelectionHistory(emptySelectionSet(3));
    const a = history.push(applyShape(history.current, bits(1, 0, 0), 'replace'));
    const b = history.push(applyShape(history.current, bits(0, 1, 0), 'add'));
    expect(history.undo()).toBe(a);
    expect(history.undo().selections).toHaveLength(0);
    expect(history.canUndo).toBe(false);
    expect(history.redo()).toBe(a);
    expect(history.redo()).toBe(b);
    expect(history.canRedo).toBe(false);
    history.undo();
    history.push(applyShape(history.current, bits(0, 0, 1), 'add'));
    expect(history.canRedo).toBe(false);
    expect(Array.from(history.current.selections[0].members)).toEqual([1, 0, 1]);
  });
});

/** A 40 × 30 lattice of 300 px tiles every 150 px (50 % overlap), about 70 % of them kept. */
function lattice(seed: number): SelectionTiles {
  const columns = 40;
  const rows = 30;
  const x: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) x.push(c * 150), y.push(r * 150);
  const size = new Array<number>(columns * rows).fill(300);
  const rng = new Random(seed);
  const kept = Array.from({ length: columns * rows }, (_, id) => id).filter(() => rng.uniform() < 0.7);
  return { columns, rows, x, y, width: size, height: size, stepLevel0: 150, kept, mpp: 0.5 };
}

describe('selections as GeoJSON and CSV', () => {
  it('GeoJSON export → import gives back every selection exactly (blobs with holes, corner contacts, overlaps)', () => {
    for (const seed of [1, 2, 3]) {
      const tiles = lattice(seed);
      const rng = new Random(seed + 10);
      let set = emptySelectionSet(tiles.kept.length);
      for (let s = 0; s < 3; s++) {
        // A random disc minus a smaller disc (a hole), plus scattered single tiles.
        const cx = rng.uniform() * 6000;
        const cy = rng.uniform() * 4500;
        const outer = 600 + rng.uniform() * 1200;
        const inner = outer * 0.4;
        const members = Uint8Array.from(Array.from(tiles.kept), (id) => {
          const d = Math.hypot(Number(tiles.x[id]) + 150 - cx, Number(tiles.y[id]) + 150 - cy);
          return (d < outer && d > inner) || rng.uniform() < 0.03 ? 1 : 0;
        });
        set = addSelection(set, { name: `class ${s}`, members });
      }
      const json = JSON.parse(JSON.stringify(selectionsToGeoJson(set, tiles)));
      expect(json.features).toHaveLength(3);
      expect(json.features[0].properties.classification).toEqual({ name: 'class 0', color: [...set.selections[0].color] });
      const back = selectionsFromGeoJson(json, tiles);
      expect(back.selections.map((s) => s.name)).toEqual(set.selections.map((s) => s.name));
      back.selections.forEach((selection, i) => {
        expect(selection.color).toEqual(set.selections[i].color);
        expect(Array.from(selection.members)).toEqual(Array.from(set.selections[i].members));
      });
    }
  });

  it('areas: tiles × (step × µm/px)²; CSV has one 0/1 column per selection', () => {
    const tiles = lattice(4);
    let set = addSelection(emptySelectionSet(tiles.kept.length), { name: 'a, "quoted"' });
    set = applyShape(set, Uint8Array.from(tiles.kept, (_, i) => (i < 10 ? 1 : 0)), 'replace');
    expect(cellsAreaMm2(10, tiles)).toBeCloseTo(10 * 0.075 * 0.075, 12);
    const feature = selectionsToGeoJson(set, tiles).features[0];
    expect(feature.properties.measurements).toEqual({ tiles: 10, area_mm2: cellsAreaMm2(10, tiles) });
    const lines = selectionsToCsv(set, tiles).trim().split('\n');
    expect(lines[0]).toBe('tile_id,x,y,width,height,"a, ""quoted"""');
    expect(lines).toHaveLength(tiles.kept.length + 1);
    const id = tiles.kept[0];
    expect(lines[1]).toBe(`${id},${tiles.x[id]},${tiles.y[id]},300,300,1`);
    expect(lines[11].endsWith(',0')).toBe(true);
  });

  it('imports QuPath polygons (packed colours, Polygon geometry) and names what is wrong', () => {
    const tiles = lattice(5);
    const square = [[0, 0], [1500, 0], [1500, 1500], [0, 1500], [0, 0]];
    const set = selectionsFromGeoJson(
      { type: 'Feature', geometry: { type: 'Polygon', coordinates: [square] }, properties: { classification: { name: 'Tumor', color: -3670016 } } },
      tiles,
    );
    expect(set.selections[0].name).toBe('Tumor');
    expect(set.selections[0].color).toEqual([200, 0, 0]);
    const expected = Array.from(tiles.kept, (id) => (Number(tiles.x[id]) + 150 < 1500 && Number(tiles.y[id]) + 150 < 1500 ? 1 : 0));
    expect(Array.from(set.selections[0].members)).toEqual(expected);
    expect(() => selectionsFromGeoJson({ type: 'Nope' }, tiles)).toThrow(/not a GeoJSON/);
    expect(() => selectionsFromGeoJson({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] } }] }, tiles)).toThrow(
      /feature 1: geometry Point/,
    );
  });

  it('labelled classes: merge by name, leave out items two classes claim, and survive GeoJSON and CSV', () => {
    const tiles = lattice(6);
    const n = tiles.kept.length;
    const range = (from: number, to: number) => Uint8Array.from({ length: n }, (_, i) => (i >= from && i < to ? 1 : 0));
    let set = emptySelectionSet(n);
    set = addSelection(set, { name: 'tumour', members: range(0, 20), labelled: true });
    set = addSelection(set, { name: 'stroma', members: range(15, 40) });
    set = updateSelection(set, set.activeId!, { labelled: true });
    set = addSelection(set, { name: 'tumour', members: range(50, 55), labelled: true });
    set = addSelection(set, { name: 'just looking', members: range(60, 70) });
    const labels = labelledClasses(set);
    expect(labels.classes.map((c) => c.name)).toEqual(['tumour', 'stroma']);
    // 15…19 are claimed by both classes: conflicts, unlabelled.
    expect(labels.conflicts).toBe(5);
    expect(labels.counts).toEqual([15 + 5, 40 - 20]);
    const expected = Array.from({ length: n }, (_, i) => (i < 15 || (i >= 50 && i < 55) ? 0 : i >= 20 && i < 40 ? 1 : -1));
    expect(Array.from(labels.itemClass)).toEqual(expected);

    const json = JSON.parse(JSON.stringify(selectionsToGeoJson(set, tiles)));
    expect(json.features.map((f: { properties: { labelled?: boolean } }) => f.properties.labelled ?? false)).toEqual([true, true, true, false]);
    const back = labelledClasses(selectionsFromGeoJson(json, tiles));
    expect(back.classes).toEqual(labels.classes);
    expect(Array.from(back.itemClass)).toEqual(expected);

    const lines = selectionsToCsv(set, tiles).trim().split('\n');
    expect(lines[0].endsWith(',class')).toBe(true);
    expect(lines.slice(1).map((line) => line.slice(line.lastIndexOf(',') + 1))).toEqual(
      expected.map((c) => (c < 0 ? '' : labels.classes[c].name)),
    );
  });
});
