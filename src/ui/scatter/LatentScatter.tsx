import { useEffect, useMemo, useRef } from 'react';
import { fitTransform, nearestPoint, plotCoordinates, rasterise, type ScatterTransform } from './scatter-math';

export interface LatentScatterProps {
  latents: Float32Array;
  dim: number;
  /** RGBA per point. */
  colours: Uint8Array;
  width?: number;
  height?: number;
  /** Called with the row index of a clicked point. */
  onPick?: (index: number) => void;
}

/**
 * The latent codes as a scatter on a 2-D canvas, drawn by writing pixels
 * directly (fast for 10⁵ points). The plot → canvas mapping is published on
 * the element as data-transform="sx,ox,sy,oy" (CSS px) so tests and tools can
 * locate points: screenX = x·sx + ox, screenY = y·sy + oy.
 */
export function LatentScatter({ latents, dim, colours, width = 270, height = 200, onPick }: LatentScatterProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const plot = useMemo(() => plotCoordinates(latents, dim), [latents, dim]);
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
  }, [plot, colours, transform, width, height]);

  const onClick = (event: React.MouseEvent<HTMLCanvasElement>) => {
    if (!onPick) return;
    const rect = event.currentTarget.getBoundingClientRect();
    const index = nearestPoint(plot.xy, transform, event.clientX - rect.left, event.clientY - rect.top, 8);
    if (index >= 0) onPick(index);
  };

  return (
    <figure className="latent-scatter">
      <canvas
        ref={canvasRef}
        data-testid="latent-scatter"
        data-point-count={plot.xy.length / 2}
        data-transform={`${transform.sx},${transform.ox},${transform.sy},${transform.oy}`}
        style={{ width, height }}
        onClick={onClick}
        title="Click a point to show its tile"
      />
      <figcaption className="muted">
        {plot.axes[0]} → · {plot.axes[1]} ↑ · {plot.xy.length / 2} tiles
      </figcaption>
    </figure>
  );
}
