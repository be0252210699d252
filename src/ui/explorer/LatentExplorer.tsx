import { useEffect, useMemo, useRef, useState } from 'react';
import { appStore, errorMessage, useAppStore, type CishAnalysis } from '../../store';
import {
  addSelection,
  anyMembers,
  cellsAreaMm2,
  countMembers,
  labelledClasses,
  MIN_EXAMPLES_PER_CLASS,
  removeSelection,
  selectionColours,
  setActiveSelection,
  updateSelection,
  type Rgb,
  type SelectionMode,
  type SelectionSet,
} from '../../analysis/selections';
import { LatentScatter, type ScatterTool } from '../scatter/LatentScatter';
import { startTool, stopTool, useActiveTool } from '../viewer/draw-tools';
import { plotCoordinates } from '../scatter/scatter-math';
import { downloadBlob, downloadText, fileStem } from '../download';
import { rampColours } from '../../analysis/exports';
import { TileThumbnail } from './TileThumbnail';
import { UMAP_MAX_ITEMS } from '../../analysis/projection';
import { clearProjection, runUmap } from '../cish/cish-service';
import {
  exportSelectionsCsv,
  exportSelectionsGeoJson,
  importSelectionsGeoJson,
  itemAt,
  saveSelections,
  selectInScatter,
  selectOnSlide,
  selectionTiles,
  syncSelectionLayer,
} from './explorer-service';

export interface LatentExplorerProps {
  /** Key of the analysis in the store (its selections share it): the slide id for tiles, nucleiAnalysisKey() for nuclei. */
  analysisKey: string;
  slideName: string;
  analysis: CishAnalysis;
  /** RGBA per point when nothing is selected (e.g. cluster colours). */
  colours: Uint8Array;
  onPick: (row: number) => void;
}

/** Unselected points once something is selected: visible, but only as context. */
const CONTEXT_GREY = [120, 120, 120, 255] as const;

const toHex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const fromHex = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;

/**
 * The latent scatter with selection tools: lasso and rectangle (Shift adds,
 * Alt subtracts), several named and coloured selections with counts and
 * areas, undo/redo, GeoJSON and CSV export, GeoJSON import. Selections paint
 * their tiles on the slide at once (explorer-service).
 */
export function LatentExplorer({ analysisKey, slideName, analysis, colours, onPick }: LatentExplorerProps) {
  const [tool, setTool] = useState<ScatterTool>('pick');
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<SelectionMode>('replace');
  const [highlight, setHighlight] = useState<number | null>(null);
  /** 'cluster' (or grey before clustering), 'label' (labelled classes), 'membership' (largest FCM membership) or 'latent-d'. */
  const [colourBy, setColourBy] = useState<string>('cluster');
  const [range, setRange] = useState<{ lo: string; hi: string }>({ lo: '', hi: '' });
  const figureRef = useRef<HTMLDivElement>(null);
  const [hovered, setHovered] = useState(-1);
  const activeTool = useActiveTool();
  const [slideTool, setSlideTool] = useState<'rectangle' | 'polygon' | 'point' | null>(null);
  const drawingOnSlide = slideTool !== null && activeTool?.kind === slideTool ? slideTool : null;
  const importRef = useRef<HTMLInputElement>(null);
  const selections = useAppStore((s) => s.selections[analysisKey]);
  const items = analysis.latents ? analysis.latents.length / Math.max(1, analysis.latentDim) : 0;
  const set = selections && selections.set.items === items ? selections.set : null;
  const tiles = useMemo(() => selectionTiles(analysis), [analysis]);

  // A UMAP layout when one was computed for these latents, else PCA (or the 2-D codes themselves).
  const plot = useMemo(
    () => analysis.projection ?? plotCoordinates(analysis.latents!, analysis.latentDim),
    [analysis.projection, analysis.latents, analysis.latentDim],
  );
  const [umapParams, setUmapParams] = useState({ nNeighbors: '15', minDist: '0.1' });
  const umapValues = { nNeighbors: Number(umapParams.nNeighbors), minDist: Number(umapParams.minDist) };
  const umapError =
    !(Number.isInteger(umapValues.nNeighbors) && umapValues.nNeighbors >= 2 && umapValues.nNeighbors < items)
      ? `neighbours must be a whole number from 2 to ${items - 1}`
      : !(umapValues.minDist >= 0 && umapValues.minDist <= 1)
        ? 'min_dist must lie in [0, 1]'
        : items > UMAP_MAX_ITEMS
          ? `UMAP is limited to ${UMAP_MAX_ITEMS.toLocaleString('en')} items`
          : null;
  const umapRunning = useAppStore((s) => s.jobs.some((j) => j.label === 'UMAP projection' && j.status === 'running'));
  const [plotXs, plotYs] = useMemo(() => {
    const n = plot.xy.length / 2;
    const xs = new Float32Array(n);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = plot.xy[2 * i];
      ys[i] = plot.xy[2 * i + 1];
    }
    return [xs, ys];
  }, [plot]);

  useEffect(() => syncSelectionLayer(analysisKey, analysis, set ?? undefined), [analysisKey, analysis, set]);
  // Every edit is saved (a set is replaced, never mutated, so identity tells edits apart).
  useEffect(() => {
    if (set) saveSelections(analysisKey, set);
  }, [analysisKey, set]);

  // The numeric column to colour by, when one is chosen, with its data range.
  const column = useMemo(() => {
    const { latents, latentDim, memberships, k } = analysis;
    if (!latents) return null;
    const n = latents.length / latentDim;
    const values = new Float64Array(n);
    if (colourBy === 'membership') {
      if (!memberships || k < 1) return null;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 0; j < k; j++) best = Math.max(best, memberships[i * k + j]);
        values[i] = best;
      }
    } else if (colourBy.startsWith('latent-')) {
      const d = Number(colourBy.slice(7));
      for (let i = 0; i < n; i++) values[i] = latents[i * latentDim + d];
    } else return null;
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { values, min, max };
  }, [analysis, colourBy]);
  const lo = range.lo.trim() === '' ? column?.min : Number(range.lo);
  const hi = range.hi.trim() === '' ? column?.max : Number(range.hi);
  const rangeError = column && !(Number.isFinite(lo) && Number.isFinite(hi) && lo! < hi!) ? 'needs low < high' : null;

  const labels = useMemo(() => (set ? labelledClasses(set) : null), [set]);
  const anySelected = set ? anyMembers(set) : false;
  const shownColours = useMemo(() => {
    // Labelled classes alone, in their colours; everything else grey.
    if (set && colourBy === 'label') return selectionColours({ ...set, selections: set.selections.filter((s) => s.labelled) }, 255, CONTEXT_GREY);
    if (set && anySelected) return selectionColours(set, 255, CONTEXT_GREY);
    if (column && !rangeError) return rampColours(column.values, lo!, hi!);
    return colours;
  }, [set, anySelected, colours, column, rangeError, lo, hi, colourBy]);

  const edit = (fn: (current: SelectionSet) => SelectionSet) => appStore.getState().editSelections(analysisKey, items, fn);
  const undo = () => appStore.getState().undoSelections(analysisKey);
  const redo = () => appStore.getState().redoSelections(analysisKey);

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.target instanceof HTMLInputElement) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (mod && key === 'z') (event.shiftKey ? redo : undo)();
    else if (mod && key === 'y') redo();
    else if (!mod && key === 'l') setTool('lasso');
    else if (!mod && key === 'r') setTool('rect');
    else if (!mod && key === 'p') setTool('pick');
    else return;
    event.preventDefault();
    event.stopPropagation();
  };

  const onSlide = (kind: 'rectangle' | 'polygon' | 'point') => {
    if (drawingOnSlide === kind) {
      stopTool();
      return;
    }
    if (!tiles) return;
    try {
      setSlideTool(kind);
      startTool(kind, {
        hint: kind === 'point' ? 'Click a tile to ring its point in the scatter · Esc stops' : undefined,
        onDone: (polygon) => selectOnSlide(analysisKey, tiles, polygon, mode),
        onPoint: (x, y) => setHighlight(itemAt(tiles, x, y)),
        onCancel: () => setSlideTool(null),
      });
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const hoveredTile = hovered >= 0 && analysis.tiles && hovered < analysis.tiles.kept.length ? analysis.tiles.kept[hovered] : null;
  const stem = fileStem(slideName);
  return (
    <div className="latent-explorer" data-testid="explorer" tabIndex={0} onKeyDown={onKeyDown} aria-label="Latent explorer (L lasso, R rectangle, P pick, Ctrl+Z undo, Ctrl+Shift+Z redo)">
      <div className="explorer-tools" role="toolbar" aria-label="Selection tools">
        {(['pick', 'lasso', 'rect'] as const).map((t) => (
          <button key={t} type="button" aria-pressed={tool === t} data-testid={`explorer-tool-${t}`} onClick={() => setTool(t)} title={{ pick: 'Pick a point (P)', lasso: 'Lasso (L)', rect: 'Rectangle (R)' }[t]}>
            {{ pick: 'Pick', lasso: 'Lasso', rect: 'Rectangle' }[t]}
          </button>
        ))}
        <select value={mode} onChange={(e) => setMode(e.target.value as SelectionMode)} aria-label="What a shape does" data-testid="explorer-mode" title="A shape replaces, adds to or subtracts from the active selection (Shift adds, Alt subtracts in the scatter)">
          <option value="replace">Replace</option>
          <option value="add">Add</option>
          <option value="subtract">Subtract</option>
        </select>
        <button type="button" data-testid="explorer-new" onClick={() => edit((s) => addSelection(s))}>
          New selection
        </button>
        <button type="button" data-testid="explorer-undo" disabled={!selections?.canUndo} onClick={undo} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button type="button" data-testid="explorer-redo" disabled={!selections?.canRedo} onClick={redo} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
      </div>
      <div className="explorer-tools">
        <label>
          Colour by{' '}
          <select
            value={colourBy}
            data-testid="explorer-colour-by"
            onChange={(e) => {
              setColourBy(e.target.value);
              setRange({ lo: '', hi: '' });
            }}
          >
            <option value="cluster">cluster</option>
            <option value="label" disabled={!labels || labels.classes.length === 0}>
              labelled class
            </option>
            <option value="membership" disabled={!analysis.memberships}>
              membership strength
            </option>
            {Array.from({ length: analysis.latentDim }, (_, d) => (
              <option key={d} value={`latent-${d}`}>{`latent ${d}`}</option>
            ))}
          </select>
        </label>
        {column && (
          <>
            <input type="text" inputMode="decimal" size={6} value={range.lo} placeholder={column.min.toPrecision(3)} aria-label="Colour range low" onChange={(e) => setRange({ ...range, lo: e.target.value })} />
            <input type="text" inputMode="decimal" size={6} value={range.hi} placeholder={column.max.toPrecision(3)} aria-label="Colour range high" onChange={(e) => setRange({ ...range, hi: e.target.value })} />
            {rangeError && <span className="error">{rangeError}</span>}
          </>
        )}
        {anySelected && column && <span className="muted">(selections take precedence)</span>}
      </div>
      {analysis.latentDim > 2 && (
        <div className="explorer-tools" data-testid="explorer-projection">
          <label>
            Projection{' '}
            <select
              value={analysis.projection ? 'umap' : 'pca'}
              data-testid="explorer-projection-method"
              onChange={(e) => (e.target.value === 'pca' ? clearProjection(analysisKey) : undefined)}
            >
              <option value="pca">PCA</option>
              <option value="umap" disabled={!analysis.projection}>
                UMAP
              </option>
            </select>
          </label>
          <label title="UMAP n_neighbors: how local the layout is">
            neighbours <input type="text" inputMode="numeric" size={3} value={umapParams.nNeighbors} onChange={(e) => setUmapParams({ ...umapParams, nNeighbors: e.target.value })} />
          </label>
          <label title="UMAP min_dist: how tightly points may pack">
            min_dist <input type="text" inputMode="decimal" size={4} value={umapParams.minDist} onChange={(e) => setUmapParams({ ...umapParams, minDist: e.target.value })} />
          </label>
          <button
            type="button"
            data-testid="explorer-run-umap"
            disabled={umapError !== null || umapRunning}
            onClick={() => void runUmap(analysisKey, { seed: 1, ...umapValues })}
            title="Runs UMAP in the analysis worker; progress and Cancel are in the jobs list"
          >
            Run UMAP
          </button>
          {umapError && <span className="error">{umapError}</span>}
        </div>
      )}
      <div ref={figureRef} style={{ position: 'relative' }}>
        <LatentScatter
          plot={plot}
          colours={shownColours}
          tool={tool}
          defaultMode={mode}
          highlight={highlight}
          onPick={onPick}
          onShape={(polygon, mode) => selectInScatter(analysisKey, plotXs, plotYs, polygon, mode)}
          onHover={setHovered}
        />
        {hoveredTile !== null && (
          <TileThumbnail
            slideId={analysis.slideId}
            tileId={hoveredTile}
            x={analysis.tiles!.x[hoveredTile]}
            y={analysis.tiles!.y[hoveredTile]}
            width={analysis.tiles!.width[hoveredTile]}
            height={analysis.tiles!.height[hoveredTile]}
          />
        )}
      </div>
      <div className="explorer-tools" role="toolbar" aria-label="On the slide">
        <span className="muted">On the slide:</span>
        {(['rectangle', 'polygon', 'point'] as const).map((kind) => (
          <button key={kind} type="button" aria-pressed={drawingOnSlide === kind} data-testid={`explorer-slide-${kind}`} disabled={!tiles} onClick={() => onSlide(kind)}>
            {drawingOnSlide === kind ? 'Stop (Esc)' : { rectangle: 'Select rectangle', polygon: 'Select polygon', point: 'Find tile' }[kind]}
          </button>
        ))}
      </div>
      {set && set.selections.length > 0 && (
        <ul className="explorer-selections" aria-label="Selections">
          {set.selections.map((selection) => {
            const count = countMembers(selection.members);
            const area = tiles ? cellsAreaMm2(count, tiles) : null;
            return (
              <li key={selection.id} className={selection.id === set.activeId ? 'active' : ''} data-testid="explorer-selection" data-count={count}>
                <input type="radio" name={`active-${analysisKey}`} checked={selection.id === set.activeId} onChange={() => edit((s) => setActiveSelection(s, selection.id))} aria-label={`Edit ${selection.name}`} />
                <input type="color" className="explorer-swatch" value={toHex(selection.color)} onChange={(e) => edit((s) => updateSelection(s, selection.id, { color: fromHex(e.target.value) }))} aria-label={`Colour of ${selection.name}`} />
                <input
                  type="text"
                  defaultValue={selection.name}
                  aria-label="Selection name"
                  onBlur={(e) => {
                    const name = e.target.value.trim();
                    if (name && name !== selection.name) edit((s) => updateSelection(s, selection.id, { name }));
                  }}
                />
                <span>
                  {count} tiles{area !== null ? ` · ${area.toFixed(3)} mm²` : ''}
                </span>
                <label title="A labelled class: its tiles become training examples of the class this selection names (classifiers)">
                  <input
                    type="checkbox"
                    checked={selection.labelled === true}
                    data-testid="explorer-selection-labelled"
                    onChange={(e) => edit((s) => updateSelection(s, selection.id, { labelled: e.target.checked }))}
                  />{' '}
                  class
                </label>
                <button type="button" aria-label={`Delete ${selection.name}`} onClick={() => edit((s) => removeSelection(s, selection.id))}>
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {labels && labels.classes.length > 0 && (
        <p className="explorer-labels" data-testid="explorer-labels">
          Labelled classes:{' '}
          {labels.classes.map((c, i) => (
            <span key={c.name} className={labels.counts[i] < MIN_EXAMPLES_PER_CLASS ? 'warning' : undefined} data-count={labels.counts[i]}>
              <span className="explorer-class-swatch" style={{ background: toHex(c.color) }} /> {c.name} {labels.counts[i]}
              {i < labels.classes.length - 1 ? ' · ' : ''}
            </span>
          ))}
          {labels.conflicts > 0 && <span className="warning"> · {labels.conflicts} tiles in two classes are left out</span>}
          {labels.counts.some((count) => count < MIN_EXAMPLES_PER_CLASS) && (
            <span className="warning"> · fewer than {MIN_EXAMPLES_PER_CLASS} tiles in a class is too few to train on</span>
          )}
          {labels.classes.length === 1 && <span className="warning"> · a classifier needs at least two classes</span>}
        </p>
      )}
      <div className="explorer-tools">
        <button type="button" data-testid="explorer-export-geojson" disabled={!set || !tiles || !anySelected} onClick={() => downloadText(exportSelectionsGeoJson(set!, tiles!), `${stem}-selections.geojson`, 'application/geo+json')}>
          Export GeoJSON
        </button>
        <button type="button" data-testid="explorer-export-csv" disabled={!set || !tiles || set.selections.length === 0} onClick={() => downloadText(exportSelectionsCsv(set!, tiles!), `${stem}-selections.csv`, 'text/csv')}>
          Export CSV
        </button>
        <button
          type="button"
          data-testid="explorer-export-png"
          onClick={() => figureRef.current?.querySelector('canvas')?.toBlob((blob) => blob && downloadBlob(blob, `${stem}-latent-scatter.png`), 'image/png')}
        >
          Export PNG
        </button>
        <button type="button" disabled={!tiles} onClick={() => importRef.current?.click()}>
          Import GeoJSON
        </button>
        <input
          ref={importRef}
          type="file"
          accept=".geojson,.json,application/geo+json,application/json"
          hidden
          data-testid="explorer-import"
          onChange={async (event) => {
            const file = event.target.files?.[0];
            event.target.value = '';
            if (!file || !tiles) return;
            try {
              await importSelectionsGeoJson(analysisKey, file, tiles);
              setError(null);
            } catch (e) {
              setError(errorMessage(e));
            }
          }}
        />
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
