/**
 * Classifier examples drawn on the slide: pick a class name, then draw
 * rectangles, polygons or points with the viewer's drawing tools. Each shape
 * becomes labelled patches when the classifier trains (shapeRegions); the
 * last shape can be taken back.
 */
import { useEffect, useRef, useState } from 'react';
import { appStore, errorMessage, useAppStore } from '../../store';
import type { DrawnShape } from '../../models/classifier/dataset';
import { startTool, useActiveTool, type DrawToolHandle } from '../viewer/draw-tools';
import { setShapes, shapeClassColour } from './classifier-service';

type ShapeTool = 'rectangle' | 'polygon' | 'point';

const EMPTY: DrawnShape[] = [];

export function ShapeExamples({ slideId, disabled }: { slideId: string; disabled: boolean }) {
  const shapes = useAppStore((s) => s.classifierShapes[slideId] ?? EMPTY);
  const active = useActiveTool();
  const [className, setClassName] = useState('class 1');
  const [drawing, setDrawing] = useState<ShapeTool | null>(null);
  const tool = useRef<DrawToolHandle | null>(null);
  // The tool's callbacks outlive renders: they read the class name here.
  const live = useRef(className);
  live.current = className.trim();
  useEffect(() => () => tool.current?.stop(), [slideId]);
  const current = drawing && active?.kind === drawing ? drawing : null;
  const add = (shape: DrawnShape) => setShapes(slideId, [...(appStore.getState().classifierShapes[slideId] ?? []), shape]);
  const nameMissing = className.trim() === '';

  const draw = (kind: ShapeTool) => {
    if (current === kind) {
      tool.current?.stop();
      return;
    }
    const done = () => {
      tool.current = null;
      setDrawing(null);
    };
    try {
      tool.current = startTool(kind, {
        color: `rgb(${shapeClassColour(shapes.map((s) => s.className), live.current).join(',')})`,
        onDone: (polygon) => {
          done();
          add({ kind: 'polygon', points: polygon, className: live.current });
        },
        onPoint: (x, y) => add({ kind: 'point', x, y, className: live.current }),
        onCancel: done,
      });
      setDrawing(kind);
    } catch (error) {
      appStore.getState().pushAlert(errorMessage(error));
    }
  };

  const perClass = new Map<string, number>();
  for (const s of shapes) perClass.set(s.className, (perClass.get(s.className) ?? 0) + 1);
  return (
    <div data-testid="classifier-shapes" data-shapes={shapes.length}>
      <div className="cish-row">
        <label className="cish-field">
          <span>Class</span>
          <input type="text" size={10} value={className} data-testid="classifier-shape-class" aria-invalid={nameMissing ? 'true' : 'false'} onChange={(e) => setClassName(e.currentTarget.value)} />
        </label>
        {(['rectangle', 'polygon', 'point'] as const).map((kind) => (
          <button key={kind} type="button" data-testid={`classifier-draw-${kind}`} aria-pressed={current === kind} disabled={disabled || nameMissing} onClick={() => draw(kind)}>
            {current === kind ? 'Drawing… (Esc)' : { rectangle: 'Rectangle', polygon: 'Polygon', point: 'Points' }[kind]}
          </button>
        ))}
      </div>
      {shapes.length > 0 && (
        <div className="cish-row">
          <span className="muted">
            {shapes.length} shape{shapes.length === 1 ? '' : 's'}: {[...perClass].map(([name, n]) => `${name} ${n}`).join(', ')}
          </span>
          <button type="button" data-testid="classifier-shapes-undo" title="Remove the last shape" disabled={disabled} onClick={() => setShapes(slideId, shapes.slice(0, -1))}>
            Undo last
          </button>
          <button type="button" data-testid="classifier-shapes-clear" disabled={disabled} onClick={() => setShapes(slideId, [])}>
            Clear
          </button>
        </div>
      )}
    </div>
  );
}
