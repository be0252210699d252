import { effectiveMpp, selectActiveSlide, useAppStore } from '../../store';
import { AssociatedThumb } from './AssociatedThumb';
import { MppOverride } from './MppOverride';
import { formatChannels, formatLevelCount, formatMpp, formatObjective, formatSize } from './format';

/** Metadata of the active slide. Every file-derived string is rendered as text. */
export function SlideInfo() {
  const slide = useAppStore(selectActiveSlide);
  if (!slide) return null;
  const { metadata } = slide;
  const mpp = effectiveMpp(slide);
  const objective = formatObjective(metadata.objectivePower);
  const properties = Object.entries(metadata.properties);

  return (
    <section className="panel slide-info" data-testid="slide-info" aria-labelledby="slide-info-heading">
      <h2 id="slide-info-heading">Slide</h2>
      <p className="slide-info-name" title={slide.name}>
        {slide.name}
      </p>
      <dl className="facts">
        <dt>Size</dt>
        <dd>{formatSize(metadata.width, metadata.height)}</dd>
        <dt>Pyramid</dt>
        <dd>{formatLevelCount(metadata.levels)}</dd>
        <dt>Resolution</dt>
        <dd>
          {formatMpp(mpp)}
          {slide.mppOverride !== undefined && <span className="muted"> (manual)</span>}
        </dd>
        {objective && (
          <>
            <dt>Objective</dt>
            <dd>{objective}</dd>
          </>
        )}
        <dt>Format</dt>
        <dd>{metadata.format}</dd>
        <dt>Pixels</dt>
        <dd>{formatChannels(metadata)}</dd>
      </dl>
      <MppOverride slideId={slide.id} override={slide.mppOverride} fileMpp={metadata.mppX} />

      {metadata.levels.length > 1 && (
        <details>
          <summary>Levels</summary>
          <table className="levels">
            <thead>
              <tr>
                <th>#</th>
                <th>Size</th>
                <th>Downsample</th>
                <th>Tile</th>
              </tr>
            </thead>
            <tbody>
              {metadata.levels.map((level, index) => (
                <tr key={index}>
                  <td>{index}</td>
                  <td>{formatSize(level.width, level.height)}</td>
                  <td>{Number(level.downsample.toPrecision(4))}×</td>
                  <td>
                    {level.tileWidth}×{level.tileHeight}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}

      {metadata.associated.length > 0 && (
        <div className="associated-list">
          {metadata.associated.map((image) => (
            <AssociatedThumb key={`${slide.id}:${image.name}`} slideId={slide.id} name={image.name} />
          ))}
        </div>
      )}

      {properties.length > 0 && (
        <details>
          <summary>Properties ({properties.length})</summary>
          <dl className="properties">
            {properties.map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </section>
  );
}
