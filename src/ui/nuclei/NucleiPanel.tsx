import { useState } from 'react';
import { appStore, effectiveMpp, errorMessage, selectActiveSlide, useAppStore, NUCLEI_POINT_DEFAULTS } from '../../store';
import { CSP_CAE_PRESETS, cspCaeForwardFlops, cspCaeParameters, type CspCaePreset } from '../../models/nuclei/architecture';
import { polygonBounds } from '../viewer/draw-geometry';
import { startTool, stopTool, useActiveTool } from '../viewer/draw-tools';
import { parseAll } from '../cish/params';
import { detectNuclei, setPointParams, trainNuclei } from './nuclei-service';

/**
 * Seed 001's unsupervised nucleus detector: train the crosswise-sparse CAE
 * on the slide's tissue patches, then detect nuclei in a drawn region or
 * the whole slide. Threshold and minimum distance re-derive the points live
 * from the kept maps. The preset list shows each preset's size and cost
 * and proposes one for the compute backend in use.
 */

/**
 * Training GFLOP/s of the wasm backend on the 2-core reference machine
 * (bench/RESULTS.md, CISH rows; a CSP-CAE step is conv-bound like them):
 * the basis of the time estimate shown per preset.
 */
const WASM_GFLOPS = 10;

const presets = Object.keys(CSP_CAE_PRESETS) as CspCaePreset[];

/** GPU backends can afford the ¼ preset; wasm and cpu the 1/16 one (about 0.36 GFLOP a patch). */
function proposedPreset(backend: string | undefined): CspCaePreset {
  return backend === 'webgpu' || backend === 'webgl' ? 'quarter' : 'sixteenth';
}

const RULES = {
  epochs: { min: 1, max: 500, integer: true },
  patches: { min: 1, integer: true },
  batch: { min: 1, max: 256, integer: true },
  threshold: { min: 0, max: 1 },
  minDistance: { min: 0, max: 50, integer: true },
} as const;

export function NucleiPanel() {
  const slide = useAppStore(selectActiveSlide);
  const backend = useAppStore((s) => s.computeBackend?.backend);
  const state = useAppStore((s) => (slide ? s.nuclei[slide.id] : undefined));
  const busy = useAppStore((s) => s.jobs.some((j) => j.status === 'running' && (j.label.startsWith('Nucleus CAE') || j.label === 'Detect nuclei')));
  const activeTool = useActiveTool();
  const [preset, setPreset] = useState<CspCaePreset | null>(null);
  const [texts, setTexts] = useState({ epochs: '2', patches: '256', batch: '32', threshold: String(NUCLEI_POINT_DEFAULTS.threshold), minDistance: String(NUCLEI_POINT_DEFAULTS.minDistance) });
  const [drawing, setDrawing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const densityLayer = useAppStore((s) => s.overlays.find((l) => l.id === `nuclei-density-${slide?.id}`));
  if (!slide) return null;
  const chosen = preset ?? proposedPreset(backend);
  const parsed = parseAll(texts, RULES);
  const mpp = effectiveMpp(slide);
  const detections = state?.detections ?? null;
  const set = (key: keyof typeof texts, value: string) => {
    const next = { ...texts, [key]: value };
    setTexts(next);
    if (key === 'threshold' || key === 'minDistance') {
      const p = parseAll(next, RULES);
      if (p.errors.threshold === undefined && p.errors.minDistance === undefined) {
        void setPointParams(slide.id, { threshold: p.values.threshold, minDistance: p.values.minDistance, sigma: NUCLEI_POINT_DEFAULTS.sigma }).catch((e) => setError(errorMessage(e)));
      }
    }
  };
  const stepSeconds = (p: CspCaePreset) => (3 * cspCaeForwardFlops(p) * (parsed.values.batch ?? 32)) / (WASM_GFLOPS * 1e9);
  const drawRegion = () => {
    if (drawing && activeTool?.kind === 'rectangle') {
      stopTool();
      return;
    }
    try {
      setDrawing(true);
      startTool('rectangle', {
        hint: 'Drag a rectangle to detect nuclei in · Esc stops',
        onDone: (polygon) => {
          setDrawing(false);
          const b = polygonBounds(polygon);
          void detectNuclei(slide.id, [b.x, b.y, b.width, b.height]);
        },
        onCancel: () => setDrawing(false),
      });
    } catch (e) {
      setDrawing(false);
      setError(errorMessage(e));
    }
  };
  const area = detections && state?.roi && mpp ? (state.roi[2] * state.roi[3] * mpp * mpp) / 1e6 : null;

  return (
    <section className="cish-panel" data-testid="nuclei-panel" aria-label="Nucleus detection">
      <h2>Nuclei (crosswise-sparse CAE)</h2>
      {!mpp && <p className="cish-error">The slide does not state its µm per pixel: set it above to detect at 0.5 µm/px.</p>}
      <div className="cish-row">
        <label className="cish-field">
          <span>Preset</span>
          <select value={chosen} data-testid="nuclei-preset" onChange={(e) => setPreset(e.currentTarget.value as CspCaePreset)}>
            {presets.map((p) => (
              <option key={p} value={p}>
                {`${CSP_CAE_PRESETS[p].label}: ${(cspCaeParameters(p) / 1e6).toFixed(2)} M weights, ${(cspCaeForwardFlops(p) / 1e9).toFixed(2)} GFLOP/patch${p === proposedPreset(backend) ? ' (proposed)' : ''}`}
              </option>
            ))}
          </select>
        </label>
      </div>
      {(backend === 'wasm' || backend === 'cpu') && (chosen === 'quarter' || chosen === 'paper') && (
        <p className="cish-error" data-testid="nuclei-memory-warning">
          Training this preset at batch 32 needs more than the 4 GiB a wasm backend can hold (the ⅛ preset already takes 3.6 GiB; bench/RESULTS.md): use a GPU backend, a smaller batch, or a smaller preset.
        </p>
      )}
      <p className="muted" data-testid="nuclei-cost">
        {backend === 'wasm' || backend === 'cpu'
          ? `≈ ${stepSeconds(chosen).toFixed(1)} s per training step on wasm at ${WASM_GFLOPS} GFLOP/s (one worker)`
          : `Compute backend: ${backend ?? 'starting'}`}
      </p>
      <div className="cish-row">
        {(['epochs', 'patches', 'batch'] as const).map((key) => (
          <label key={key} className="cish-field">
            <span>{{ epochs: 'Epochs', patches: 'Training patches', batch: 'Batch' }[key]}</span>
            <input type="text" inputMode="numeric" size={4} value={texts[key]} data-testid={`nuclei-${key}`} aria-invalid={parsed.errors[key] ? 'true' : 'false'} onChange={(e) => set(key, e.currentTarget.value)} />
            {parsed.errors[key] && <em className="cish-error">{parsed.errors[key]}</em>}
          </label>
        ))}
        <button
          type="button"
          data-testid="nuclei-train"
          disabled={busy || !mpp || parsed.errors.epochs !== undefined || parsed.errors.patches !== undefined || parsed.errors.batch !== undefined}
          onClick={() =>
            void trainNuclei(slide.id, {
              preset: chosen,
              epochs: parsed.values.epochs,
              trainPatches: parsed.values.patches,
              batchSize: parsed.values.batch,
              learningRate: 0.03,
              seed: 1,
            })
          }
        >
          Train
        </button>
      </div>
      {state?.model && (
        <p className="cish-result" data-testid="nuclei-model">
          {`${CSP_CAE_PRESETS[state.model.preset].label}, ${state.model.patches} patches, RMSE ${state.model.history[state.model.history.length - 1]?.toFixed(4)}, threshold t = ${state.model.threshold.toFixed(3)}`}
        </p>
      )}
      <div className="cish-row">
        <button type="button" data-testid="nuclei-detect-region" aria-pressed={drawing} disabled={busy || !state?.model} onClick={drawRegion}>
          {drawing ? 'Stop (Esc)' : 'Detect in a region'}
        </button>
        <button type="button" data-testid="nuclei-detect-all" disabled={busy || !state?.model} onClick={() => void detectNuclei(slide.id, null)}>
          Whole slide
        </button>
      </div>
      <div className="cish-row">
        <label className="cish-field">
          <span>Threshold</span>
          <input type="text" inputMode="decimal" size={4} value={texts.threshold} data-testid="nuclei-threshold" onChange={(e) => set('threshold', e.currentTarget.value)} />
          {parsed.errors.threshold && <em className="cish-error">{parsed.errors.threshold}</em>}
        </label>
        <label className="cish-field">
          <span>Min distance px</span>
          <input type="text" inputMode="numeric" size={3} value={texts.minDistance} data-testid="nuclei-min-distance" onChange={(e) => set('minDistance', e.currentTarget.value)} />
          {parsed.errors.minDistance && <em className="cish-error">{parsed.errors.minDistance}</em>}
        </label>
      </div>
      {detections && (
        <p className="cish-result" data-testid="nuclei-count" data-count={detections.x.length}>
          {detections.x.length} nuclei in {detections.perPatch.length} patches
          {area ? ` · ${(detections.x.length / area).toFixed(0)} per mm²` : ''}{' '}
          <label>
            <input
              type="checkbox"
              checked={densityLayer?.visible ?? false}
              data-testid="nuclei-density"
              onChange={(e) => appStore.getState().updateOverlay(`nuclei-density-${slide.id}`, { visible: e.currentTarget.checked })}
            />{' '}
            density map
          </label>
        </p>
      )}
      {error && (
        <p role="alert" className="cish-error">
          {error}
        </p>
      )}
    </section>
  );
}
