import { useEffect, useState } from 'react';
import { effectiveMpp, selectActiveSlide, useAppStore } from '../../store';
import type { ViewerController } from './viewer-controller';
import { chooseScaleBar, type ScaleBarSpec } from './scale-bar';

const MAX_BAR_PX = 140;

/** A µm/mm scale bar, shown only when the slide's µm/px is known (or entered). */
export function ScaleBar({ controller }: { controller: ViewerController }) {
  const mpp = useAppStore((state) => {
    const slide = selectActiveSlide(state);
    return slide ? effectiveMpp(slide) : undefined;
  });
  const [spec, setSpec] = useState<ScaleBarSpec | null>(null);

  useEffect(() => {
    const update = () => {
      const zoom = controller.imageZoom();
      const next = mpp && zoom ? chooseScaleBar(mpp / zoom, MAX_BAR_PX) : null;
      setSpec((current) =>
        current && next && current.label === next.label && Math.abs(current.px - next.px) < 0.5 ? current : next,
      );
    };
    update();
    return controller.onView(update);
  }, [controller, mpp]);

  if (!spec) return null;
  return (
    <div className="scale-bar" data-testid="scale-bar" aria-label={`Scale bar: ${spec.label}`}>
      <div className="scale-bar-line" style={{ width: `${spec.px}px` }} />
      <span className="scale-bar-label">{spec.label}</span>
    </div>
  );
}
