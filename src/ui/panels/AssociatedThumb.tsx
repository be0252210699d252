import { useEffect, useRef, useState } from 'react';
import { getDecoderPool } from '../services';
import { isAbortError } from '../../store';

const THUMB_SIDE = 200;

/** A label/macro/thumbnail image decoded in the pool and painted on a canvas. */
export function AssociatedThumb({ slideId, name }: { slideId: string; name: string }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  useEffect(() => {
    const controller = new AbortController();
    setState('loading');
    getDecoderPool()
      .readAssociated(slideId, name, THUMB_SIDE, controller.signal)
      .then((bitmap) => {
        const canvas = canvasRef.current;
        if (!canvas || controller.signal.aborted) return bitmap.close();
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
        bitmap.close();
        setState('ready');
      })
      .catch((error: unknown) => {
        if (!isAbortError(error)) {
          console.warn(`Associated image ${name} failed`, error);
          setState('failed');
        }
      });
    return () => controller.abort();
  }, [slideId, name]);

  return (
    <figure className={`associated associated-${state}`}>
      <canvas ref={canvasRef} width={1} height={1} role="img" aria-label={`${name} image`} />
      <figcaption>{state === 'failed' ? `${name} (unreadable)` : name}</figcaption>
    </figure>
  );
}
