import { useEffect, useState } from 'react';
import type { ModelKind, StoredModelInfo } from '../../workers/cish-protocol';
import { deleteModel, exportModel, importModel, listModels } from '../cish/cish-service';
import { errorMessage } from '../../store';

export interface SavedModelsProps {
  /** The kinds listed (and accepted on import). */
  kind: ModelKind | readonly ModelKind[];
  /** What the list is called, e.g. "Saved models". */
  title: string;
  /** The open slide's fingerprint: its own models are marked. */
  fingerprint: string | null | undefined;
  /** Loads a stored model for the slide. */
  onUse: (url: string) => Promise<unknown>;
  /** Runs an action, reporting its failure (the panels show alerts). */
  guard: (action: () => Promise<unknown>) => Promise<void>;
  disabled?: boolean;
  /** The list is read again when this changes (e.g. the id of a newly trained model). */
  refreshKey?: unknown;
  testId: string;
}

/** A `guard` that shows a failure through `setError` (and clears it on success). */
export function reportingTo(setError: (message: string | null) => void): SavedModelsProps['guard'] {
  return async (action) => {
    try {
      await action();
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
}

/**
 * Models of one kind kept in IndexedDB (model-store.ts): use, export as
 * model.json + weights, delete, and import exported files (the imported model
 * is used at once). Checkpoints are listed by the training that owns them.
 */
export function SavedModels({ kind, title, fingerprint, onUse, guard, disabled = false, refreshKey, testId }: SavedModelsProps) {
  const [models, setModels] = useState<StoredModelInfo[]>([]);
  const kinds: readonly ModelKind[] = typeof kind === 'string' ? [kind] : kind;
  const refresh = () => {
    listModels().then((all) => setModels(all.filter((m) => kinds.includes(m.kind))), () => setModels([]));
  };
  useEffect(refresh, [kinds.join(), refreshKey]);
  const saved = models.filter((m) => !m.checkpoint);
  return (
    <details className="cish-models" onToggle={(e) => e.currentTarget.open && refresh()}>
      <summary>
        {title} ({saved.length})
      </summary>
      <ul data-testid={testId}>
        {saved.map((m) => (
          <li key={m.url}>
            <span title={m.url}>
              {kinds.length > 1 ? `${m.kind} ` : ''}
              {m.modelId}
              {m.fingerprint === fingerprint ? ' (this slide)' : ''} · {(m.bytes / 1024).toFixed(0)} KiB
            </span>
            <button type="button" disabled={disabled} onClick={() => void guard(() => onUse(m.url))}>
              Use
            </button>
            <button type="button" onClick={() => void guard(() => exportModel(m.url))}>
              Export
            </button>
            <button
              type="button"
              onClick={() =>
                void guard(async () => {
                  await deleteModel(m.url);
                  refresh();
                })
              }
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <label className="button">
        Import model…
        <input
          type="file"
          className="visually-hidden"
          multiple
          accept=".json,.bin"
          data-testid={`${testId}-import`}
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            e.currentTarget.value = '';
            if (files.length)
              void guard(async () => {
                const info = await importModel(files);
                if (!kinds.includes(info.kind)) throw new Error(`${files[0].name}: a ${info.kind} model, not a ${kinds.join(' or ')} model; it was imported, use it in its own panel`);
                await onUse(info.url);
                refresh();
              });
          }}
        />
      </label>
    </details>
  );
}
