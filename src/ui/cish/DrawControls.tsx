/**
 * The CISH panel's controls that draw on the slide (through the viewer's
 * drawing tools): the brush that edits the tissue mask, and the region that
 * picks the training tiles.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { appStore, errorMessage, type AnalysisMask } from '../../store';
import { countNonZero, polygonBounds } from '../viewer/draw-geometry';
import { startTool, useActiveTool, type DrawToolHandle } from '../viewer/draw-tools';
import { parseAll } from './params';
import { setMaskEditing, setTrainingRegion } from './cish-service';
import { applyBrushStroke, canUndoMaskEdit, undoMaskEdit } from './mask-edit';

type BrushMode = 'paint' | 'erase';

const BRUSH_COLOURS: Record<BrushMode, string> = { paint: '#40c8ff', erase: '#ff6b6b' };

function alertError(slideName: string, error: unknown): void {
  appStore.getState().pushAlert(`${slideName}: ${errorMessage(error)}`);
}

/** Paint / erase the tissue mask with a round brush, with undo. */
export function MaskEditControls({
  slideId,
  slideName,
  mask,
  mpp,
  disabled,
}: {
  slideId: string;
  slideName: string;
  mask: AnalysisMask;
  /** µm per level-0 px; without it the radius is in slide pixels. */
  mpp: number | undefined;
  disabled: boolean;
}) {
  const [mode, setMode] = useState<BrushMode | null>(null);
  const [radiusText, setRadiusText] = useState(mpp ? '50' : '100');
  const parsed = parseAll({ r: radiusText }, { r: { above: 0, max: 100_000 } });
  const radius0 = parsed.values.r === undefined ? undefined : mpp ? parsed.values.r / mpp : parsed.values.r;
  const tool = useRef<DrawToolHandle | null>(null);
  // The stroke callbacks outlive renders: they read the current mode and radius here.
  const live = useRef({ mode: 'paint' as BrushMode, radius0: radius0 ?? 1 });
  live.current.radius0 = radius0 ?? live.current.radius0;
  const tissuePixels = useMemo(() => countNonZero(mask.data), [mask.data]);

  useEffect(() => {
    if (radius0 !== undefined) tool.current?.setBrushRadius(radius0);
  }, [radius0]);
  // Stop painting when the panel switches slide or goes away.
  useEffect(() => () => tool.current?.stop(), [slideId]);

  const choose = (next: BrushMode) => {
    if (mode === next) {
      tool.current?.stop();
      return;
    }
    live.current.mode = next;
    setMode(next);
    if (tool.current) {
      tool.current.setColor(BRUSH_COLOURS[next]);
      return;
    }
    try {
      setMaskEditing(slideId, true);
      tool.current = startTool('brush', {
        brushRadius: live.current.radius0,
        color: BRUSH_COLOURS[next],
        onStroke: (event) => applyBrushStroke(slideId, event, live.current.radius0, live.current.mode === 'paint' ? 1 : 0),
        onUndo: () => undoMaskEdit(slideId),
        onCancel: () => {
          tool.current = null;
          setMode(null);
          setMaskEditing(slideId, false);
        },
      });
    } catch (error) {
      setMode(null);
      setMaskEditing(slideId, false);
      alertError(slideName, error);
    }
  };

  return (
    <div className="cish-row cish-mask-edit" data-testid="cish-mask-edit" data-tissue-pixels={tissuePixels}>
      <button type="button" aria-pressed={mode === 'paint'} data-testid="cish-mask-paint" disabled={disabled} onClick={() => choose('paint')} title="Paint tissue on the slide">
        Paint
      </button>
      <button type="button" aria-pressed={mode === 'erase'} data-testid="cish-mask-erase" disabled={disabled} onClick={() => choose('erase')} title="Erase tissue on the slide">
        Erase
      </button>
      <label className="cish-field cish-brush">
        <span>Brush {mpp ? 'µm' : 'px'}</span>
        <input
          type="text"
          inputMode="decimal"
          value={radiusText}
          aria-label={`Brush radius in ${mpp ? 'µm' : 'slide pixels'}`}
          aria-invalid={parsed.errors.r ? 'true' : 'false'}
          data-testid="cish-brush-radius"
          onChange={(e) => setRadiusText(e.currentTarget.value)}
        />
      </label>
      <button type="button" data-testid="cish-mask-undo" disabled={!canUndoMaskEdit(slideId)} onClick={() => undoMaskEdit(slideId)} title="Undo the last stroke (Ctrl+Z while painting)">
        Undo
      </button>
      {parsed.errors.r && <em className="cish-error">{parsed.errors.r}</em>}
    </div>
  );
}

/** "Draw rectangle" / "Draw polygon" for the region whose kept tiles train the model. */
export function TrainingRegionControls({
  slideId,
  slideName,
  region,
  mpp,
  disabled,
}: {
  slideId: string;
  slideName: string;
  region: number[] | null;
  mpp: number | undefined;
  disabled: boolean;
}) {
  const active = useActiveTool();
  const [drawing, setDrawing] = useState<'rectangle' | 'polygon' | null>(null);
  const tool = useRef<DrawToolHandle | null>(null);
  useEffect(() => () => tool.current?.stop(), [slideId]);
  const current = drawing && active?.kind === drawing ? drawing : null;

  const draw = (kind: 'rectangle' | 'polygon') => {
    if (current === kind) {
      tool.current?.stop();
      return;
    }
    try {
      tool.current = startTool(kind, {
        onDone: (polygon) => {
          tool.current = null;
          setDrawing(null);
          setTrainingRegion(slideId, { trainFrom: 'region', trainRegion: polygon });
        },
        onCancel: () => {
          tool.current = null;
          setDrawing(null);
        },
      });
      setDrawing(kind);
    } catch (error) {
      alertError(slideName, error);
    }
  };

  const bounds = region ? polygonBounds(region) : null;
  const size = (px: number) => (mpp ? `${Math.round(px * mpp)} µm` : `${Math.round(px)} px`);
  return (
    <>
      <div className="cish-row">
        <button type="button" data-testid="cish-draw-rectangle" aria-pressed={current === 'rectangle'} disabled={disabled} onClick={() => draw('rectangle')}>
          {current === 'rectangle' ? 'Drawing… (Esc)' : 'Draw rectangle'}
        </button>
        <button type="button" data-testid="cish-draw-polygon" aria-pressed={current === 'polygon'} disabled={disabled} onClick={() => draw('polygon')}>
          {current === 'polygon' ? 'Drawing… (Esc)' : 'Draw polygon'}
        </button>
        {region && (
          <button type="button" data-testid="cish-clear-region" disabled={disabled} onClick={() => setTrainingRegion(slideId, { trainRegion: null, trainFrom: 'sample' })}>
            Clear
          </button>
        )}
      </div>
      {region && bounds && (
        <p className="cish-result" data-testid="cish-region" data-region={region.map((v) => v.toFixed(1)).join(',')}>
          Region: {region.length / 2} corners, {size(bounds.width)} × {size(bounds.height)}
        </p>
      )}
    </>
  );
}
