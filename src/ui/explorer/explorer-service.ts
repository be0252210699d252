/**
 * Glue between the explorer's selections (store) and the slide: the overlay
 * layer that paints selected tiles, and GeoJSON / CSV exchange. The
 * selection logic itself is src/analysis/selections.ts.
 */
import OpenSeadragon from 'openseadragon';
import { appStore, effectiveMpp, type CishAnalysis } from '../../store';
import { tileColours } from '../../analysis/exports';
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

/** Functions here take the analysis key (the slide id for tiles, nucleiAnalysisKey() for nuclei); layers go on analysis.slideId. */
export const selectionLayerId = (analysisKey: string) => `explorer-selections-${analysisKey}`;

export function selectionTiles(analysis: CishAnalysis): SelectionTiles | null {
  const tiles = analysis.tiles;
  if (!tiles) return null;
  const slide = appStore.getState().slides.find((s) => s.id === analysis.slideId);
  const mpp = slide ? effectiveMpp(slide) : undefined;
  return { ...tiles, stepLevel0: tiles.stride0, mpp: mpp && mpp > 0 ? mpp : null };
}

/** Applies a lasso or rectangle drawn on the scatter (plot units) to the active selection. */
export function selectInScatter(analysisKey: string, plotXs: Float32Array, plotYs: Float32Array, polygon: number[], mode: SelectionMode): void {
  const inside = pointsInPolygon(plotXs, plotYs, polygon);
  appStore.getState().editSelections(analysisKey, plotXs.length, (set) => applyShape(set, inside, mode));
}

/**
 * The selected tiles on the slide, each in its selection's colour (the last
 * selection wins where they overlap); unselected tiles are left clear.
 */
export function syncSelectionLayer(analysisKey: string, analysis: CishAnalysis | undefined, set: SelectionSet | undefined): void {
  const store = appStore.getState();
  const id = selectionLayerId(analysisKey);
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
    slideId: analysis.slideId,
    kind: 'tiles',
    rects: mosaicRects(tiles),
    colors,
    opacity: previous?.opacity ?? 0.7,
    visible: previous?.visible ?? true,
  });
}

/** Applies a rectangle or polygon drawn on the slide (level-0 px): the tiles whose centre lies inside. */
export function selectOnSlide(analysisKey: string, tiles: SelectionTiles, polygon: number[], mode: SelectionMode): void {
  const { xs, ys } = tileCentres(tiles);
  const inside = pointsInPolygon(xs, ys, polygon);
  appStore.getState().editSelections(analysisKey, xs.length, (set) => applyShape(set, inside, mode));
}

/** The item whose tile cell (the step × step square around its centre) holds a level-0 point, or −1. */
export function itemAt(tiles: SelectionTiles, x: number, y: number): number {
  const { xs, ys } = tileCentres(tiles);
  const half = tiles.stepLevel0 / 2;
  for (let i = 0; i < xs.length; i++) if (Math.abs(xs[i] - x) <= half && Math.abs(ys[i] - y) <= half) return i;
  return -1;
}

/** Keeps the slide's selections with its other results in IndexedDB. */
export function saveSelections(analysisKey: string, set: SelectionSet): void {
  persist(analysisKey, { selections: set });
}

export function exportSelectionsGeoJson(set: SelectionSet, tiles: SelectionTiles): string {
  return JSON.stringify(selectionsToGeoJson(set, tiles));
}

export function exportSelectionsCsv(set: SelectionSet, tiles: SelectionTiles): string {
  return selectionsToCsv(set, tiles);
}

/** Replaces the slide's selections with those of a GeoJSON file (undoable). Throws with the file name and reason. */
export async function importSelectionsGeoJson(analysisKey: string, file: File, tiles: SelectionTiles): Promise<number> {
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
  appStore.getState().editSelections(analysisKey, tiles.kept.length, () => imported);
  return imported.selections.length;
}

/** RGBA per item: its cluster's colour once clustered, else light grey. */
export function itemColours(analysis: CishAnalysis): Uint8Array | null {
  if (!analysis.latents) return null;
  const n = analysis.latents.length / Math.max(1, analysis.latentDim);
  if (analysis.labels && analysis.clusterColors && analysis.labels.length === n) return tileColours(analysis.labels, analysis.clusterColors);
  return new Uint8Array(4 * n).fill(200);
}

/** Pans and zooms the viewer to an item (row of the latents) with a margin of one item on each side. */
export function panToItem(analysis: CishAnalysis, row: number): void {
  const tiles = analysis.tiles;
  if (!tiles) return;
  const id = tiles.kept[row];
  const element = document.querySelector('[data-testid="viewer"] .viewer-osd');
  const viewer = element ? (OpenSeadragon as unknown as { getViewer(e: Element): OpenSeadragon.Viewer | undefined }).getViewer(element) : undefined;
  if (!viewer || viewer.world.getItemCount() === 0) return;
  const w = tiles.width[id];
  const h = tiles.height[id];
  const rect = viewer.viewport.imageToViewportRectangle(tiles.x[id] - w, tiles.y[id] - h, 3 * w, 3 * h);
  viewer.viewport.fitBounds(rect);
  document.querySelector('[data-testid="latent-scatter"]')?.setAttribute('data-picked-tile', String(id));
}
