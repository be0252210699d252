import { useEffect, useState } from 'react';
import type { ViewerController } from './viewer-controller';

/** Level-0 pixel coordinates under the mouse, as "x, y". */
export function CursorReadout({ controller }: { controller: ViewerController }) {
  const [text, setText] = useState('–');

  useEffect(() => {
    const element = controller.viewer.container;
    let last: { clientX: number; clientY: number } | null = null;
    const update = () => {
      const point = last && controller.imagePointAt(last.clientX, last.clientY);
      setText(point ? `${point.x}, ${point.y}` : '–');
    };
    const onMove = (event: PointerEvent) => {
      last = { clientX: event.clientX, clientY: event.clientY };
      update();
    };
    const onLeave = () => {
      last = null;
      update();
    };
    element.addEventListener('pointermove', onMove, true);
    element.addEventListener('pointerleave', onLeave);
    // The image moves under a still mouse while zooming with keys or animating.
    const stopView = controller.onView(update);
    return () => {
      element.removeEventListener('pointermove', onMove, true);
      element.removeEventListener('pointerleave', onLeave);
      stopView();
    };
  }, [controller]);

  return (
    <div className="cursor-readout" title="Level-0 pixel under the cursor (x, y)">
      <span data-testid="cursor-readout">{text}</span>
    </div>
  );
}
