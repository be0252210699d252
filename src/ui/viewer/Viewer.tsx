import { useEffect, useRef, useState } from 'react';
import { appStore, useAppStore } from '../../store';
import { getDecoderPool } from '../services';
import { ViewerController } from './viewer-controller';
import { ViewerContext } from './ViewerContext';
import { ViewerToolbar } from './ViewerToolbar';
import { ScaleBar } from './ScaleBar';
import { CursorReadout } from './CursorReadout';
import { DrawToolLayer } from './DrawToolLayer';
import { SwipeDivider } from './SwipeDivider';

/** The slide viewer: OpenSeadragon plus toolbar, scale bar, cursor readout, drawing tools and swipe divider. */
export function Viewer() {
  const hostRef = useRef<HTMLDivElement>(null);
  const containerRef = useRef<HTMLDivElement>(null);
  const [controller, setController] = useState<ViewerController | null>(null);
  const hasSlides = useAppStore((state) => state.slides.length > 0);

  useEffect(() => {
    const pool = getDecoderPool();
    const created = new ViewerController({
      host: hostRef.current!,
      container: containerRef.current!,
      store: appStore,
      loader: pool,
      concurrency: pool.size * 2 + 2,
    });
    setController(created);
    return () => {
      created.destroy();
      setController(null);
    };
  }, []);

  return (
    <ViewerContext.Provider value={controller}>
      <div className="viewer" data-testid="viewer" ref={hostRef}>
        <div className="viewer-osd" ref={containerRef} />
        {!hasSlides && (
          <div className="viewer-empty">
            <p>No slide open.</p>
            <p>Open a file with “Open slides…” or drop it anywhere on this window.</p>
          </div>
        )}
        {controller && (
          <>
            <ViewerToolbar controller={controller} />
            <ScaleBar controller={controller} />
            <CursorReadout controller={controller} />
            <SwipeDivider controller={controller} />
            <DrawToolLayer controller={controller} />
          </>
        )}
      </div>
    </ViewerContext.Provider>
  );
}
