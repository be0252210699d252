import { useEffect, useState } from 'react';
import { appStore } from '../../store';

/** Manual µm/px for slides whose file lacks it (or gets it wrong). Empty clears it. */
export function MppOverride({ slideId, override, fileMpp }: { slideId: string; override?: number; fileMpp?: number }) {
  const [text, setText] = useState(override !== undefined ? String(override) : '');

  // Follow the store when the slide changes.
  useEffect(() => setText(override !== undefined ? String(override) : ''), [slideId, override]);

  const commit = (value: string) => {
    setText(value);
    const trimmed = value.trim();
    if (trimmed === '') return appStore.getState().setMppOverride(slideId, undefined);
    const mpp = Number(trimmed);
    if (Number.isFinite(mpp) && mpp > 0) appStore.getState().setMppOverride(slideId, mpp);
  };

  const invalid = text.trim() !== '' && !(Number(text) > 0);
  return (
    <label className="field">
      <span>µm/px override</span>
      <input
        type="number"
        inputMode="decimal"
        min="0"
        step="0.001"
        data-testid="mpp-override"
        placeholder={fileMpp !== undefined ? fileMpp.toFixed(3) : 'e.g. 0.250'}
        value={text}
        aria-invalid={invalid}
        onChange={(event) => commit(event.currentTarget.value)}
      />
    </label>
  );
}
