import { useEffect, useRef } from 'react';
import { getDecoderPool } from '../services';
import { levelForDownsample } from '../../slide/overview';
import { isAbortError, useAppStore } from '../../store';

export interface TileThumbnailProps {
  slideId: string;
  /** The tile in level-0 px. */
  x: number;
  y: number;
  width: number;
  height: number;
  side?: number;
  tileId: number;
}

/**
 * One tile of the slide, read through the decoder pool (the viewer's path)
 * from the coarsest level that still gives `side` pixels, with the slide's
 * current display settings. A newer hover aborts the read in flight.
 */
export function TileThumbnail({ slideId, x, y, width, height, side = 96, tileId }: TileThumbnailProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const slide = useAppStore((s) => s.slides.find((open) => open.id === slideId));
  useEffect(() => {
    if (!slide) return;
    const controller = new AbortController();
    const levels = slide.metadata.levels;
    const level = levelForDownsample(levels, width / side);
    const { downsample, width: levelWidth, height: levelHeight } = levels[level];
    const x0 = Math.max(0, Math.floor(x / downsample));
    const y0 = Math.max(0, Math.floor(y / downsample));
    const region = {
      level,
      x: x0,
      y: y0,
      width: Math.max(1, Math.min(levelWidth - x0, Math.round(width / downsample))),
      height: Math.max(1, Math.min(levelHeight - y0, Math.round(height / downsample))),
    };
    getDecoderPool()
      .readTile(slideId, { ...region, outWidth: side, outHeight: side }, slide.display, controller.signal)
      .then((bitmap) => {
        const canvas = canvasRef.current;
        if (!canvas || controller.signal.aborted) return bitmap.close();
        canvas.getContext('2d')?.drawImage(bitmap, 0, 0, side, side);
        canvas.dataset.drawnTile = String(tileId);
        bitmap.close();
      })
      .catch((error) => {
        if (!isAbortError(error)) console.warn('tile thumbnail could not be read', error);
      });
    return () => controller.abort();
  }, [slide, slideId, x, y, width, height, side, tileId]);
  return (
    <figure className="explorer-thumbnail" data-testid="explorer-hover" data-tile={tileId}>
      <canvas ref={canvasRef} width={side} height={side} role="img" aria-label={`Tile ${tileId}`} />
      <figcaption className="muted">tile {tileId}</figcaption>
    </figure>
  );
}
