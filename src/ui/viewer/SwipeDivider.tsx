import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import { appStore, useAppStore } from '../../store';
import type { ViewerController } from './viewer-controller';

const KEY_STEP = 0.02;

/**
 * The swipe divider: while swipe is on and a layer of the shown slide takes
 * part, that layer is drawn only left of this line; drag the line (or use the
 * arrow keys on its handle) to compare with the slide underneath.
 */
export function SwipeDivider({ controller }: { controller: ViewerController }) {
  const position = useAppStore((s) => s.swipe);
  const hasSwipeLayer = useAppStore((s) => {
    const slideId = s.activeSlideId;
    return s.overlays.some((l) => l.swipe && l.visible && (l.slideId === null || l.slideId === slideId));
  });
  const dragging = useRef<number | null>(null);

  if (position === null || !hasSwipeLayer) return null;

  const moveTo = (clientX: number) => {
    const rect = controller.viewer.container.getBoundingClientRect();
    if (rect.width > 0) appStore.getState().setSwipe((clientX - rect.left) / rect.width);
  };
  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    dragging.current = event.pointerId;
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (dragging.current === event.pointerId) moveTo(event.clientX);
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    if (dragging.current !== event.pointerId) return;
    dragging.current = null;
    moveTo(event.clientX);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const steps: Record<string, number> = { ArrowLeft: -KEY_STEP, ArrowRight: KEY_STEP, Home: -1, End: 1 };
    const step = steps[event.key];
    if (step === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    appStore.getState().setSwipe(position + step);
  };

  return (
    <div
      className="swipe-divider"
      data-testid="swipe-divider"
      data-position={position.toFixed(4)}
      style={{ left: `${position * 100}%` }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
    >
      <div
        className="swipe-handle"
        data-testid="swipe-handle"
        role="slider"
        tabIndex={0}
        aria-label="Swipe divider: overlay on the left, slide on the right"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(position * 100)}
        aria-orientation="horizontal"
        onKeyDown={onKeyDown}
      >
        ⇔
      </div>
    </div>
  );
}
