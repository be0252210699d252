import { useEffect, useMemo, useRef, useState } from 'react';
import { appStore, effectiveMpp, errorMessage, nucleiAnalysisKey, selectActiveSlide, useAppStore, NUCLEI_POINT_DEFAULTS } from '../../store';
import { CSP_CAE_PRESETS, cspCaeForwardFlops, cspCaeParameters, type CspCaePreset } from '../../models/nuclei/architecture';
import { polygonBounds } from '../viewer/draw-geometry';
import { startTool, stopTool, useActiveTool } from '../viewer/draw-tools';
import { parseAll } from '../cish/params';
import {
  clearInspectedPatch,
  clearNucleusAnnotations,
  detectNuclei,
  evaluateDetections,
  exploreNuclei,
  fineTuneNuclei,
  setUseFineTuned,
  importNucleusAnnotations,
  inspectNucleusPatch,
  setPointParams,
  trainNuclei,
  useNucleiModel,
} from './nuclei-service';
import { SavedModels, reportingTo } from '../models/SavedModels';
import type { ClusterParams, PatchInspectionImages } from '../../workers/cish-protocol';
import { runCluster } from '../cish/cish-service';
import { LatentExplorer } from '../explorer/LatentExplorer';
import { SelfChecks } from '../panels/SelfChecks';
import { itemColours, panToItem } from '../explorer/explorer-service';

/**
 * Seed 001's unsupervised nucleus detector: train the crosswise-sparse CAE
 * on the slide's tissue patches, then detect nuclei in a drawn region or
 * the whole slide. Threshold and minimum distance re-derive the points live
 * from the kept maps. The preset list shows each preset's size and cost
 * and proposes one for the compute backend in use. A clicked patch shows
 * the network's parts (the seed's Fig. 4); imported point annotations score
 * the detections with the seed's 6-px rule. The nuclei's foreground vectors
 * become items of the latent explorer, to cluster and select like tiles.
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
  const busy = useAppStore((s) => s.jobs.some((j) => j.status === 'running' && (j.label.startsWith('Nucleus CAE') || j.label === 'Detect nuclei' || j.label === 'Fine-tune nucleus detection')));
  const activeTool = useActiveTool();
  const [preset, setPreset] = useState<CspCaePreset | null>(null);
  const [texts, setTexts] = useState({ epochs: '2', patches: '256', batch: '32', threshold: String(NUCLEI_POINT_DEFAULTS.threshold), minDistance: String(NUCLEI_POINT_DEFAULTS.minDistance) });
  const [drawing, setDrawing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [inspecting, setInspecting] = useState(false);
  const [inspection, setInspection] = useState<PatchInspectionImages | null>(null);
  const annotationInput = useRef<HTMLInputElement>(null);
  const annotations = state?.annotations ?? null;
  const evaluation = useMemo(
    () => (annotations && state?.detections ? evaluateDetections(state.detections, annotations) : null),
    [annotations, state?.detections],
  );
  const densityLayer = useAppStore((s) => s.overlays.find((l) => l.id === `nuclei-density-${slide?.id}`));
  const fingerprint = useAppStore((s) => (slide ? s.analysis[slide.id]?.fingerprint : null));
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
  const inspect = () => {
    if (inspecting && activeTool?.kind === 'point') {
      stopTool();
      return;
    }
    try {
      setInspecting(true);
      startTool('point', {
        hint: 'Click the slide to inspect the patch there · Esc stops',
        onPoint: (x, y) => {
          inspectNucleusPatch(slide.id, x, y).then(
            (view) => {
              setInspection(view);
              setError(null);
            },
            (e) => setError(errorMessage(e)),
          );
        },
        onCancel: () => setInspecting(false),
      });
    } catch (e) {
      setInspecting(false);
      setError(errorMessage(e));
    }
  };
  const importAnnotations = (file: File | undefined) => {
    if (!file) return;
    importNucleusAnnotations(slide.id, file).then(
      () => setError(null),
      (e) => setError(errorMessage(e)),
    );
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
          {`${CSP_CAE_PRESETS[state.model.preset].label}, ${state.model.patches} patches, RMSE ${state.model.history[state.model.history.length - 1]?.toFixed(4)}, threshold t = ${state.model.threshold.toFixed(3)}` +
            (state.model.url ? ` · saved as ${state.model.modelId}` : ' · not saved (no IndexedDB)')}
        </p>
      )}
      <SavedModels
        kind="cspcae"
        title="Saved nucleus models"
        fingerprint={fingerprint}
        onUse={(url) => useNucleiModel(slide.id, url)}
        guard={reportingTo(setError)}
        disabled={busy}
        refreshKey={state?.model?.modelId}
        testId="nuclei-models"
      />
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
      {detections && <SelfChecks checks={detections.checks} testId="nuclei-checks" />}
      <div className="cish-row">
        <button type="button" data-testid="nuclei-inspect" aria-pressed={inspecting} disabled={!state?.model} onClick={inspect}>
          {inspecting ? 'Stop inspecting (Esc)' : 'Inspect a patch'}
        </button>
        {inspection && (
          <button
            type="button"
            onClick={() => {
              setInspection(null);
              clearInspectedPatch(slide.id);
            }}
          >
            Close inspection
          </button>
        )}
      </div>
      {inspection && <PatchInspectionView view={inspection} />}
      {detections && <NucleusItems slideId={slide.id} slideName={slide.name} onError={setError} />}
      <div className="cish-row">
        <input
          ref={annotationInput}
          type="file"
          accept=".csv,.tsv,.txt,.json,.geojson"
          hidden
          data-testid="nuclei-annotations-file"
          onChange={(e) => {
            importAnnotations(e.currentTarget.files?.[0]);
            e.currentTarget.value = '';
          }}
        />
        <button type="button" data-testid="nuclei-annotations" disabled={!detections} onClick={() => annotationInput.current?.click()}>
          Evaluate against annotations…
        </button>
        {annotations && (
          <button type="button" onClick={() => clearNucleusAnnotations(slide.id)}>
            Clear annotations
          </button>
        )}
      </div>
      {annotations && evaluation && (
        <p
          className="cish-result"
          data-testid="nuclei-evaluation"
          data-precision={evaluation.precision}
          data-recall={evaluation.recall}
          data-f1={evaluation.f1}
          data-scored={evaluation.scored.length}
        >
          {`${annotations.name}: precision ${evaluation.precision.toFixed(3)}, recall ${evaluation.recall.toFixed(3)}, F1 ${evaluation.f1.toFixed(3)} ` +
            `(${evaluation.truePositives} found, ${evaluation.falsePositives} false, ${evaluation.falseNegatives} missed; 6-px rule) over the ` +
            `${evaluation.scored.length} of ${evaluation.annotations} annotated nuclei inside the detected patches`}
        </p>
      )}
      {annotations && state?.model && (
        <div className="cish-row">
          <button
            type="button"
            data-testid="nuclei-finetune"
            disabled={busy}
            title="Train the paper's detection CNN (the CAE's parts 1, 2, 5 + five 1×1 convs) on the patches holding these points; every nucleus in those patches must be annotated"
            onClick={() => void fineTuneNuclei(slide.id, { seed: 1 }).catch((e) => setError(errorMessage(e)))}
          >
            Fine-tune on the annotations
          </button>
          {state.fineTuned && (
            <label>
              <input
                type="checkbox"
                checked={state.useFineTuned}
                data-testid="nuclei-use-finetuned"
                disabled={busy}
                onChange={(e) => void setUseFineTuned(slide.id, e.currentTarget.checked).catch((err) => setError(errorMessage(err)))}
              />{' '}
              detect with the fine-tuned CNN
            </label>
          )}
        </div>
      )}
      {state?.fineTuned && (
        <p className="cish-result" data-testid="nuclei-finetune-result" data-f1-before={state.baseline?.f1 ?? ''}>
          {`Fine-tuned on ${state.fineTuned.points} annotated nuclei in ${state.fineTuned.patches} patches (loss ${state.fineTuned.loss.toFixed(4)})` +
            (state.baseline ? ` · before: precision ${state.baseline.precision.toFixed(3)}, recall ${state.baseline.recall.toFixed(3)}, F1 ${state.baseline.f1.toFixed(3)}` : '') +
            ' · scores against the annotations it learned from are not a held-out test'}
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

const INSPECTION_PARTS = [
  ['input', 'Input'],
  ['detection', 'Detection map D'],
  ['foreground', 'Foreground'],
  ['background', 'Background'],
  ['reconstruction', 'Reconstruction'],
] as const;

/** The five images of the seed's Fig. 4 side by side, each drawn at its own resolution and shown at one size. */
function PatchInspectionView({ view }: { view: PatchInspectionImages }) {
  return (
    <figure className="nuclei-inspection" data-testid="nuclei-inspection" data-detection-max={view.detectionMax}>
      <div className="nuclei-inspection-row">
        {INSPECTION_PARTS.map(([key, label]) => (
          <div key={key} className="nuclei-inspection-part">
            <RgbaCanvas pixels={view[key]} size={key === 'detection' ? view.mapSize : view.size} testId={`nuclei-inspection-${key}`} />
            <span>{label}</span>
          </div>
        ))}
      </div>
      <figcaption className="muted">
        {`Patch at (${Math.round(view.rect[0])}, ${Math.round(view.rect[1])}), ${Math.round(view.rect[2])} px on the slide; max D ${view.detectionMax.toFixed(2)}`}
      </figcaption>
    </figure>
  );
}

function RgbaCanvas({ pixels, size, testId }: { pixels: Uint8ClampedArray; size: number; testId: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const image = context.createImageData(size, size);
    image.data.set(pixels);
    context.putImageData(image, 0, 0);
  }, [pixels, size]);
  return <canvas ref={canvas} width={size} height={size} data-testid={testId} />;
}

const CLUSTER_RULES = { k: { min: 2, max: 50, integer: true } } as const;

/** The detected nuclei as explorer items: cluster their codes (k-means or FCM) and select them in the scatter or on the slide. */
function NucleusItems({ slideId, slideName, onError }: { slideId: string; slideName: string; onError: (message: string | null) => void }) {
  const key = nucleiAnalysisKey(slideId);
  const analysis = useAppStore((s) => s.analysis[key]);
  const busy = useAppStore((s) => s.jobs.some((j) => j.status === 'running' && (j.label.startsWith('k-means') || j.label.startsWith('Fuzzy c-means'))));
  const [method, setMethod] = useState<ClusterParams['method']>('kmeans');
  const [kText, setKText] = useState('4');
  const parsed = parseAll({ k: kText }, CLUSTER_RULES);
  const colours = useMemo(() => (analysis ? itemColours(analysis) : null), [analysis]);
  const explore = () => {
    try {
      exploreNuclei(slideId);
      onError(null);
    } catch (e) {
      onError(errorMessage(e));
    }
  };
  return (
    <div className="nuclei-items" data-testid="nuclei-items">
      <div className="cish-row">
        <button type="button" data-testid="nuclei-explore" onClick={explore}>
          {analysis ? 'Reload nuclei into the explorer' : 'Explore nuclei'}
        </button>
        {analysis?.latents && (
          <>
            <select value={method} aria-label="Clustering method" data-testid="nuclei-cluster-method" onChange={(e) => setMethod(e.currentTarget.value as ClusterParams['method'])}>
              <option value="kmeans">k-means</option>
              <option value="fcm">fuzzy c-means</option>
            </select>
            <label className="cish-field">
              <span>K</span>
              <input type="text" inputMode="numeric" size={3} value={kText} data-testid="nuclei-k" aria-invalid={parsed.errors.k ? 'true' : 'false'} onChange={(e) => setKText(e.currentTarget.value)} />
              {parsed.errors.k && <em className="cish-error">{parsed.errors.k}</em>}
            </label>
            <button
              type="button"
              data-testid="nuclei-cluster"
              disabled={busy || parsed.errors.k !== undefined}
              onClick={() => void runCluster(key, { method, k: parsed.values.k, m: 2, tol: 0.005, seed: 1, nInit: 10 }).catch((e) => onError(errorMessage(e)))}
            >
              Cluster nuclei
            </button>
          </>
        )}
      </div>
      {analysis?.latents && (
        <p className="muted" data-testid="nuclei-items-info">
          {`${analysis.tiles?.kept.length ?? 0} nuclei, codes of ${analysis.latentDim} values (the foreground X′ at each nucleus)` +
            (analysis.labels ? ` · ${analysis.k} clusters painted on the slide` : '')}
        </p>
      )}
      {analysis?.latents && colours && <LatentExplorer analysisKey={key} slideName={slideName} analysis={analysis} colours={colours} onPick={(row) => panToItem(analysis, row)} />}
    </div>
  );
}
