import { useEffect, useMemo, useRef, useState } from 'react';
import type { SelectionMode } from '../../analysis/selections';
import { fitTransform, nearestPoint, rasterise, type PlotPoints, type ScatterTransform } from './scatter-math';

export interface LatentScatterProps {
  /** The points in plot units (plotCoordinates of the codes: the caller also selects in them). */
  plot: PlotPoints;
  /** RGBA per point. */
  colours: Uint8Array;
  width?: number;
  height?: number;
  /** Called with the row index of a clicked point (pick tool). */
  onPick?: (index: number) => void;
  /** What a drag does: nothing (pick), a freehand lasso or a rectangle. */
  tool?: ScatterTool;
  /**
   * A finished lasso or rectangle, as a polygon [x0, y0, x1, y1, …] in plot
   * units. Shift adds to the selection, Alt subtracts, otherwise it replaces.
   */
  onShape?: (polygon: number[], mode: SelectionMode) => void;
  /** Mode of a drag without Shift or Alt (default replace). */
  defaultMode?: SelectionMode;
  /** Row of a point to ring (e.g. the tile clicked on the slide). */
  highlight?: number | null;
  /** The point under the pointer (row), or −1 when none is within reach; not during a drag. */
  onHover?: (index: number) => void;
}

export type ScatterTool = 'pick' | 'lasso' | 'rect';

/** The drag's outline as a closed polygon in CSS px (rectangles from their two corners). */
function shapePolygon(tool: ScatterTool, path: number[]): number[] {
  if (tool !== 'rect') return path;
  const [x0, y0, x1, y1] = path;
  return [x0, y0, x1, y0, x1, y1, x0, y1];
}

/**
 * The latent codes as a scatter on a 2-D canvas, drawn by writing pixels
 * directly (fast for 10⁵ points). The plot → canvas mapping is published on
 * the element as data-transform="sx,ox,sy,oy" (CSS px) so tests and tools can
 * locate points: screenX = x·sx + ox, screenY = y·sy + oy.
 */
export function LatentScatter({
  plot,
  colours,
  width = 270,
  height = 200,
  onPick,
  tool = 'pick',
  onShape,
  defaultMode = 'replace',
  highlight = null,
  onHover,
}: LatentScatterProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [path, setPath] = useState<number[] | null>(null);
  const transform: ScatterTransform = useMemo(() => fitTransform(plot.xy, width, height), [plot, width, height]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const ratio = window.devicePixelRatio || 1;
    const w = Math.round(width * ratio);
    const h = Math.round(height * ratio);
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(w, h);
    const scaled = { sx: transform.sx * ratio, ox: transform.ox * ratio, sy: transform.sy * ratio, oy: transform.oy * ratio };
    const n = plot.xy.length / 2;
    const size = Math.max(1, Math.round((n > 20000 ? 2 : n > 2000 ? 3 : 5) * ratio));
    rasterise(plot.xy, colours, scaled, w, h, size, image.data);
    ctx.putImageData(image, 0, 0);
    if (highlight !== null && highlight >= 0 && highlight < n) {
      ctx.beginPath();
      ctx.arc(plot.xy[2 * highlight] * scaled.sx + scaled.ox, plot.xy[2 * highlight + 1] * scaled.sy + scaled.oy, 6 * ratio, 0, 2 * Math.PI);
      ctx.lineWidth = 2 * ratio;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
    }
  }, [plot, colours, transform, width, height, highlight]);

  const local = (event: React.PointerEvent | React.MouseEvent) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };

  const onClick = (event: React.MouseEvent<HTMLCanvasElement>) => {
    if (!onPick || tool !== 'pick') return;
    const [x, y] = local(event);
    const index = nearestPoint(plot.xy, transform, x, y, 8);
    if (index >= 0) onPick(index);
  };

  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    if (tool === 'pick' || event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const [x, y] = local(event);
    setPath(tool === 'rect' ? [x, y, x, y] : [x, y]);
  };
  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    if (!path) {
      if (onHover) {
        const [x, y] = local(event);
        onHover(nearestPoint(plot.xy, transform, x, y, 8));
      }
      return;
    }
    const [x, y] = local(event);
    if (tool === 'rect') setPath([path[0], path[1], x, y]);
    else if (Math.hypot(x - path[path.length - 2], y - path[path.length - 1]) >= 2) setPath([...path, x, y]);
  };
  const onPointerUp = (event: React.PointerEvent<HTMLCanvasElement>) => {
    if (!path) return;
    setPath(null);
    const polygon = shapePolygon(tool, path);
    if (polygon.length < 6 || !onShape) return;
    const plotPolygon = polygon.map((v, q) => (q % 2 === 0 ? (v - transform.ox) / transform.sx : (v - transform.oy) / transform.sy));
    onShape(plotPolygon, event.shiftKey ? 'add' : event.altKey ? 'subtract' : defaultMode);
  };

  return (
    <figure className="latent-scatter">
      <canvas
        ref={canvasRef}
        data-testid="latent-scatter"
        data-point-count={plot.xy.length / 2}
        data-transform={`${transform.sx},${transform.ox},${transform.sy},${transform.oy}`}
        data-tool={tool}
        data-highlight={highlight ?? ''}
        style={{ width, height, cursor: tool === 'pick' ? 'pointer' : 'crosshair', touchAction: 'none' }}
        onClick={onClick}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setPath(null)}
        onPointerLeave={() => onHover?.(-1)}
        title={tool === 'pick' ? 'Click a point to show its tile' : 'Drag to select; Shift adds, Alt subtracts'}
      />
      {path && (
        <svg className="latent-scatter-shape" width={width} height={height} aria-hidden="true">
          <polygon points={shapePolygon(tool, path).join(' ')} />
        </svg>
      )}
      <figcaption className="muted">
        {plot.axes[0]} → · {plot.axes[1]} ↑ · {plot.xy.length / 2} tiles
      </figcaption>
    </figure>
  );
}
