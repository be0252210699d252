import { useState } from 'react';
import { appStore, selectActiveSlide, useAppStore } from '../../store';
import type { ChannelDisplay } from '../../slide/display';
import { dtypeFullScale } from '../../slide/types';
import { autoContrast } from '../actions';

/**
 * Visibility, colour and contrast limits per channel, for slides rendered as a
 * channel composite (fluorescence, 16-bit, float). Changes go to the store;
 * the viewer re-renders its tiles with them.
 */
export function ChannelControls() {
  const slide = useAppStore(selectActiveSlide);
  const setDisplay = useAppStore((state) => state.setDisplay);
  const [estimating, setEstimating] = useState(false);
  if (!slide || slide.display.mode !== 'composite') return null;
  const { display, metadata } = slide;
  const top = dtypeFullScale(metadata.dtype);
  const step = metadata.dtype === 'float32' ? 0.001 : 1;

  const patch = (index: number, change: Partial<ChannelDisplay>) => {
    const channels = display.channels.map((channel, i) => (i === index ? { ...channel, ...change } : channel));
    setDisplay(slide.id, { ...display, channels });
  };

  const runAutoContrast = async () => {
    setEstimating(true);
    try {
      const current = appStore.getState().slides.find((s) => s.id === slide.id);
      if (!current) return;
      const next = await autoContrast(current.id, current.metadata, current.display);
      setDisplay(current.id, next);
    } finally {
      setEstimating(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="channels-heading" data-testid="channel-controls">
      <div className="panel-head">
        <h2 id="channels-heading">Channels</h2>
        <button type="button" onClick={() => void runAutoContrast()} disabled={estimating} title="Set contrast limits from the slide's 0.1–99.9 % percentiles">
          Auto contrast
        </button>
      </div>
      {display.channels.map((channel, index) => {
        const name = metadata.channels[index]?.name ?? `Channel ${index + 1}`;
        return (
          <div className="channel" key={index} data-testid="channel">
            <input
              type="checkbox"
              checked={channel.visible}
              aria-label={`Show ${name}`}
              onChange={(event) => patch(index, { visible: event.currentTarget.checked })}
            />
            <input
              type="color"
              value={channel.color}
              aria-label={`${name} colour`}
              onChange={(event) => patch(index, { color: event.currentTarget.value })}
            />
            <span className="channel-name" title={name}>
              {name}
            </span>
            <label className="channel-range">
              <span className="muted">min</span>
              <input
                type="range"
                min={0}
                max={top}
                step={step}
                value={channel.min}
                aria-label={`${name} minimum`}
                onChange={(event) => patch(index, { min: Math.min(Number(event.currentTarget.value), channel.max) })}
              />
              <input
                type="number"
                value={channel.min}
                step={step}
                aria-label={`${name} minimum value`}
                onChange={(event) => {
                  const value = Number(event.currentTarget.value);
                  if (Number.isFinite(value)) patch(index, { min: Math.min(value, channel.max) });
                }}
              />
            </label>
            <label className="channel-range">
              <span className="muted">max</span>
              <input
                type="range"
                min={0}
                max={top}
                step={step}
                value={channel.max}
                aria-label={`${name} maximum`}
                onChange={(event) => patch(index, { max: Math.max(Number(event.currentTarget.value), channel.min) })}
              />
              <input
                type="number"
                value={channel.max}
                step={step}
                aria-label={`${name} maximum value`}
                onChange={(event) => {
                  const value = Number(event.currentTarget.value);
                  if (Number.isFinite(value)) patch(index, { max: Math.max(value, channel.min) });
                }}
              />
            </label>
          </div>
        );
      })}
    </section>
  );
}
