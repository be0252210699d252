/**
 * Glue between the explorer's selections (store) and the slide: the overlay
 * layer that paints selected tiles, and GeoJSON / CSV exchange. The
 * selection logic itself is src/analysis/selections.ts.
 */
import { appStore, effectiveMpp, type CishAnalysis } from '../../store';
import {
  anyMembers,
  applyShape,
  selectionColours,
  selectionsFromGeoJson,
  selectionsToCsv,
  selectionsToGeoJson,
  tileCentres,
  type SelectionMode,
  type SelectionSet,
  type SelectionTiles,
} from '../../analysis/selections';
import { pointsInPolygon } from '../../tiling/polygon';
import { mosaicRects, persist } from '../cish/cish-service';

export const selectionLayerId = (slideId: string) => `explorer-selections-${slideId}`;

export function selectionTiles(analysis: CishAnalysis): SelectionTiles | null {
  const tiles = analysis.tiles;
  if (!tiles) return null;
  const slide = appStore.getState().slides.find((s) => s.id === analysis.slideId);
  const mpp = slide ? effectiveMpp(slide) : undefined;
  return { ...tiles, stepLevel0: tiles.stride0, mpp: mpp && mpp > 0 ? mpp : null };
}

/** Applies a lasso or rectangle drawn on the scatter (plot units) to the active selection. */
export function selectInScatter(slideId: string, plotXs: Float32Array, plotYs: Float32Array, polygon: number[], mode: SelectionMode): void {
  const inside = pointsInPolygon(plotXs, plotYs, polygon);
  appStore.getState().editSelections(slideId, plotXs.length, (set) => applyShape(set, inside, mode));
}

/**
 * The selected tiles on the slide, each in its selection's colour (the last
 * selection wins where they overlap); unselected tiles are left clear.
 */
export function syncSelectionLayer(slideId: string, analysis: CishAnalysis | undefined, set: SelectionSet | undefined): void {
  const store = appStore.getState();
  const id = selectionLayerId(slideId);
  const tiles = analysis?.tiles;
  if (!tiles || !set || set.items !== tiles.kept.length || !anyMembers(set)) {
    if (store.overlays.some((layer) => layer.id === id)) store.removeOverlay(id);
    return;
  }
  const colors = selectionColours(set, 200, [0, 0, 0, 0]);
  const previous = store.overlays.find((layer) => layer.id === id);
  store.addOverlay({
    id,
    name: 'Selections',
    slideId,
    kind: 'tiles',
    rects: mosaicRects(tiles),
    colors,
    opacity: previous?.opacity ?? 0.7,
    visible: previous?.visible ?? true,
  });
}

/** Applies a rectangle or polygon drawn on the slide (level-0 px): the tiles whose centre lies inside. */
export function selectOnSlide(slideId: string, tiles: SelectionTiles, polygon: number[], mode: SelectionMode): void {
  const { xs, ys } = tileCentres(tiles);
  const inside = pointsInPolygon(xs, ys, polygon);
  appStore.getState().editSelections(slideId, xs.length, (set) => applyShape(set, inside, mode));
}

/** The item whose tile cell (the step × step square around its centre) holds a level-0 point, or −1. */
export function itemAt(tiles: SelectionTiles, x: number, y: number): number {
  const { xs, ys } = tileCentres(tiles);
  const half = tiles.stepLevel0 / 2;
  for (let i = 0; i < xs.length; i++) if (Math.abs(xs[i] - x) <= half && Math.abs(ys[i] - y) <= half) return i;
  return -1;
}

/** Keeps the slide's selections with its other results in IndexedDB. */
export function saveSelections(slideId: string, set: SelectionSet): void {
  persist(slideId, { selections: set });
}

export function exportSelectionsGeoJson(set: SelectionSet, tiles: SelectionTiles): string {
  return JSON.stringify(selectionsToGeoJson(set, tiles));
}

export function exportSelectionsCsv(set: SelectionSet, tiles: SelectionTiles): string {
  return selectionsToCsv(set, tiles);
}

/** Replaces the slide's selections with those of a GeoJSON file (undoable). Throws with the file name and reason. */
export async function importSelectionsGeoJson(slideId: string, file: File, tiles: SelectionTiles): Promise<number> {
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch (error) {
    throw new Error(`${file.name}: not JSON (${(error as Error).message})`);
  }
  let imported: SelectionSet;
  try {
    imported = selectionsFromGeoJson(json, tiles);
  } catch (error) {
    throw new Error(`${file.name}: ${(error as Error).message}`);
  }
  appStore.getState().editSelections(slideId, tiles.kept.length, () => imported);
  return imported.selections.length;
}
