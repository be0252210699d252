import { useRef } from 'react';
import { openFiles } from '../actions';

/** File picker for one or more slides. */
export function OpenButton() {
  const inputRef = useRef<HTMLInputElement>(null);
  return (
    <label className="button primary open-button">
      Open slides…
      <input
        ref={inputRef}
        className="visually-hidden"
        type="file"
        data-testid="open-slide"
        multiple
        onChange={(event) => {
          const files = Array.from(event.currentTarget.files ?? []);
          // Reset so choosing the same file again still fires a change.
          event.currentTarget.value = '';
          void openFiles(files);
        }}
      />
    </label>
  );
}
