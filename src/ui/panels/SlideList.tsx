import { useAppStore } from '../../store';
import { closeSlide } from '../actions';

/** Open slides: click to switch, × to close. */
export function SlideList() {
  const slides = useAppStore((state) => state.slides);
  const activeId = useAppStore((state) => state.activeSlideId);
  const setActive = useAppStore((state) => state.setActiveSlide);

  return (
    <section className="panel" aria-labelledby="slides-heading">
      <h2 id="slides-heading">Slides</h2>
      <ul className="slide-list" data-testid="slide-list">
        {slides.map((slide) => (
          <li
            key={slide.id}
            data-testid="slide-list-item"
            className={slide.id === activeId ? 'active' : undefined}
            aria-current={slide.id === activeId ? 'true' : undefined}
            onClick={() => setActive(slide.id)}
          >
            <button type="button" className="slide-name" title={slide.name}>
              {slide.name}
            </button>
            <button
              type="button"
              className="icon-button"
              aria-label={`Close ${slide.name}`}
              title="Close"
              onClick={(event) => {
                event.stopPropagation();
                closeSlide(slide.id);
              }}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {slides.length === 0 && <p className="muted">None yet.</p>}
    </section>
  );
}
