/**
 * The nucleus detector's glue between the panel, the analysis worker and
 * the store: training and detection run as worker jobs (progress, ETA,
 * cancel in the jobs list); the points and a per-patch density map are
 * overlay layers of the slide.
 */
import * as Comlink from 'comlink';
import { appStore, effectiveMpp, nucleiAnalysisKey, NUCLEI_POINT_DEFAULTS, type AnalysisTiles, type NucleusAnnotations } from '../../store';
import { rampColours } from '../../analysis/exports';
import { matchDetections, pointsInRects, type DetectionMatch } from '../../analysis/detection-metrics';
import { parsePointAnnotations } from '../../analysis/point-annotations';
import type { NucleiDetectParams, NucleiDetections, NucleiFineTuneParams, NucleiFineTuneStep, NucleiPointParams, NucleiTrainParams, PatchInspectionImages } from '../../workers/cish-protocol';
import { cishWorker, ensureOpen, syncOverlays, workerJob } from '../cish/cish-service';

const pointsLayerId = (slideId: string) => `nuclei-points-${slideId}`;
const densityLayerId = (slideId: string) => `nuclei-density-${slideId}`;
const truthLayerId = (slideId: string) => `nuclei-truth-${slideId}`;
const inspectedLayerId = (slideId: string) => `nuclei-inspected-${slideId}`;

export async function trainNuclei(slideId: string, params: Omit<NucleiTrainParams, 'fingerprint'>): Promise<boolean> {
  const value = await workerJob(`Nucleus CAE (${params.preset})`, async (jobId, report) => {
    await ensureOpen(slideId);
    const fingerprint = appStore.getState().analysis[slideId]?.fingerprint ?? 'unknown';
    return cishWorker().trainNuclei(
      slideId,
      { ...params, fingerprint },
      Comlink.proxy((p) => {
        const steps = p.stepsPerEpoch ?? 1;
        report((p.epoch * steps + p.step) / (params.epochs * steps), `epoch ${p.epoch + 1}/${params.epochs} · RMSE ${p.loss.toFixed(4)}`);
      }),
      jobId,
    );
  });
  if (!value) return false;
  appStore.getState().patchNuclei(slideId, { model: value, detections: null, fineTuned: null, useFineTuned: false, baseline: null });
  syncNucleiOverlays(slideId);
  return true;
}

export async function detectNuclei(slideId: string, roi: NucleiDetectParams['roi'], options: { fineTuned?: boolean } = {}): Promise<boolean> {
  const state = appStore.getState().nuclei[slideId];
  const points = state?.points ?? NUCLEI_POINT_DEFAULTS;
  const fineTuned = options.fineTuned ?? !!(state?.useFineTuned && state.fineTuned);
  const value = await workerJob('Detect nuclei', async (jobId, report) =>
    cishWorker().detectNuclei(
      slideId,
      { roi, ...points, fineTuned },
      Comlink.proxy((done: number, total: number) => report(done / Math.max(1, total), `${done}/${total} patches`)),
      jobId,
    ),
  );
  if (!value) return false;
  appStore.getState().patchNuclei(slideId, { detections: value, roi });
  syncNucleiOverlays(slideId);
  forgetNucleusItems(slideId);
  return true;
}

/** Makes a stored nucleus CAE the slide's detector (its earlier detections go). */
export async function useNucleiModel(slideId: string, url: string): Promise<void> {
  await ensureOpen(slideId);
  const model = await cishWorker().useNucleiModel(slideId, url);
  appStore.getState().patchNuclei(slideId, { model, detections: null, fineTuned: null, useFineTuned: false, baseline: null });
  syncNucleiOverlays(slideId);
  forgetNucleusItems(slideId);
}

/** New post-processing settings: points again from the kept maps (no network run). */
export async function setPointParams(slideId: string, points: NucleiPointParams): Promise<void> {
  appStore.getState().patchNuclei(slideId, { points });
  if (!appStore.getState().nuclei[slideId]?.detections) return;
  const value = await cishWorker().redetectNuclei(slideId, points);
  appStore.getState().patchNuclei(slideId, { detections: value });
  syncNucleiOverlays(slideId);
  forgetNucleusItems(slideId);
}

/** Puts the slide's nuclei on the overlay: blue points, and nuclei per mm² per patch as a heat map. */
export function syncNucleiOverlays(slideId: string): void {
  const store = appStore.getState();
  const detections = store.nuclei[slideId]?.detections;
  if (!detections) {
    for (const id of [pointsLayerId(slideId), densityLayerId(slideId), truthLayerId(slideId)]) store.removeOverlay(id);
    return;
  }
  syncTruthOverlay(slideId);
  const n = detections.x.length;
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    xy[2 * i] = detections.x[i];
    xy[2 * i + 1] = detections.y[i];
  }
  const colors = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) colors.set([0, 200, 255, 255], 4 * i);
  store.addOverlay({ kind: 'points', id: pointsLayerId(slideId), name: 'Nuclei', slideId, opacity: 1, visible: true, xy, colors, radius: 3 });
  const counts = Float64Array.from(detections.perPatch);
  let max = 0;
  for (const c of counts) max = Math.max(max, c);
  const ramp = rampColours(counts, 0, Math.max(1, max));
  for (let p = 0; p < counts.length; p++) ramp[4 * p + 3] = counts[p] > 0 ? 150 : 0;
  store.addOverlay({ kind: 'tiles', id: densityLayerId(slideId), name: 'Nucleus density', slideId, opacity: 0.5, visible: false, rects: detections.patchRects, colors: ramp });
}

/** Scores of the detections against imported annotations, counting only annotations inside the patches detection looked at. */
export interface NucleusEvaluation extends DetectionMatch {
  /** Annotations in the file, and those inside the detected patches (the ones scored). */
  annotations: number;
  scored: Uint32Array;
}

/** The overlay and the panel both ask for the scores of the same detections: they are computed once per pair. */
let lastEvaluation: { detections: NucleiDetections; annotations: NucleusAnnotations; result: NucleusEvaluation } | null = null;

export function evaluateDetections(detections: NucleiDetections, annotations: NucleusAnnotations): NucleusEvaluation {
  if (lastEvaluation?.detections === detections && lastEvaluation.annotations === annotations) return lastEvaluation.result;
  const scored = pointsInRects(annotations.x, annotations.y, detections.patchRects);
  const tx = Float64Array.from(scored, (i) => annotations.x[i]);
  const ty = Float64Array.from(scored, (i) => annotations.y[i]);
  const result = { ...matchDetections(detections.x, detections.y, tx, ty, 6), annotations: annotations.x.length, scored };
  lastEvaluation = { detections, annotations, result };
  return result;
}

/** Reads a CSV (x,y) or GeoJSON file of nucleus points (level-0 px) as the slide's ground truth; errors name the file. */
export async function importNucleusAnnotations(slideId: string, file: File): Promise<void> {
  const points = parsePointAnnotations(await file.text(), { source: file.name });
  if (points.x.length === 0) throw new Error(`${file.name}: no points in the file`);
  appStore.getState().patchNuclei(slideId, { annotations: { name: file.name, x: points.x, y: points.y } });
  syncTruthOverlay(slideId);
}

export function clearNucleusAnnotations(slideId: string): void {
  appStore.getState().patchNuclei(slideId, { annotations: null });
  syncTruthOverlay(slideId);
}

/** Scored annotations as rings' centres: green where a detection matched, red where none did. */
function syncTruthOverlay(slideId: string): void {
  const store = appStore.getState();
  const state = store.nuclei[slideId];
  if (!state?.annotations || !state.detections) {
    store.removeOverlay(truthLayerId(slideId));
    return;
  }
  const evaluation = evaluateDetections(state.detections, state.annotations);
  const n = evaluation.scored.length;
  const xy = new Float32Array(2 * n);
  const colors = new Uint8Array(4 * n);
  evaluation.scored.forEach((i, k) => {
    xy[2 * k] = state.annotations!.x[i];
    xy[2 * k + 1] = state.annotations!.y[i];
    colors.set(evaluation.matchedDetection[k] >= 0 ? [40, 220, 60, 255] : [240, 40, 40, 255], 4 * k);
  });
  store.addOverlay({ kind: 'points', id: truthLayerId(slideId), name: 'Annotated nuclei', slideId, opacity: 1, visible: true, xy, colors, radius: 2 });
}

/** Runs the inspector on the patch holding (x, y) and outlines that patch on the slide. */
export async function inspectNucleusPatch(slideId: string, x: number, y: number): Promise<PatchInspectionImages> {
  const view = await cishWorker().inspectNucleusPatch(slideId, x, y);
  appStore.getState().addOverlay({
    kind: 'tiles',
    id: inspectedLayerId(slideId),
    name: 'Inspected patch',
    slideId,
    opacity: 1,
    visible: true,
    rects: Float64Array.from(view.rect),
    colors: Uint8Array.from([255, 200, 0, 90]),
  });
  return view;
}

export function clearInspectedPatch(slideId: string): void {
  appStore.getState().removeOverlay(inspectedLayerId(slideId));
}

/** Side of the square each nucleus stands for on the slide (selections, cluster map), in µm. */
export const NUCLEUS_ITEM_MICRONS = 8;

/**
 * Makes the detected nuclei the items of an analysis (seed 001's
 * representation): each nucleus's foreground vector X′ is its code, a small
 * square around it its place on the slide. Clustering, PCA/UMAP and the
 * latent explorer then work on nuclei as they do on tiles.
 */
export function exploreNuclei(slideId: string): void {
  const store = appStore.getState();
  const detections = store.nuclei[slideId]?.detections;
  const slide = store.slides.find((s) => s.id === slideId);
  if (!detections || !slide) throw new Error('detect nuclei first');
  const n = detections.x.length;
  if (n < 2) throw new Error(`${n} nucleus detected: the explorer needs at least 2`);
  const side = NUCLEUS_ITEM_MICRONS / (effectiveMpp(slide) ?? 0.5);
  const tiles: AnalysisTiles = {
    x: Float64Array.from(detections.x, (x) => x - side / 2),
    y: Float64Array.from(detections.y, (y) => y - side / 2),
    width: new Float64Array(n).fill(side),
    height: new Float64Array(n).fill(side),
    tissueFraction: new Float32Array(n).fill(1),
    kept: Uint32Array.from({ length: n }, (_, i) => i),
    train: new Uint32Array(0),
    stride0: side,
    tileSize0: side,
    columns: n,
    rows: 1,
  };
  const key = nucleiAnalysisKey(slideId);
  store.clearAnalysis(key);
  store.patchAnalysis(key, { slideId, itemKind: 'nucleus', tiles, latents: detections.features.slice(), latentDim: detections.featureDim });
  syncOverlays(key);
}

/** Drops the nucleus items when the detections they came from change. */
function forgetNucleusItems(slideId: string): void {
  const key = nucleiAnalysisKey(slideId);
  if (!appStore.getState().analysis[key]) return;
  appStore.getState().clearAnalysis(key);
  syncOverlays(key);
}

/**
 * Fine-tunes the detection CNN on the imported annotations (seed 001 §5.3),
 * keeping the current detections' scores as the "before", then detects again
 * in the same region with the fine-tuned network.
 */
export async function fineTuneNuclei(slideId: string, params: NucleiFineTuneParams): Promise<boolean> {
  const state = appStore.getState().nuclei[slideId];
  if (!state?.annotations) throw new Error('import point annotations first');
  if (state.detections && !state.useFineTuned) {
    const { precision, recall, f1 } = evaluateDetections(state.detections, state.annotations);
    appStore.getState().patchNuclei(slideId, { baseline: { precision, recall, f1 } });
  }
  const { x, y } = state.annotations;
  const value = await workerJob('Fine-tune nucleus detection', async (jobId, report) =>
    cishWorker().fineTuneNuclei(
      slideId,
      { x, y },
      params,
      Comlink.proxy((p: NucleiFineTuneStep) => {
        const steps = p.stepsPerEpoch ?? 1;
        report((p.epoch * steps + p.step) / (p.epochs * steps), `epoch ${p.epoch + 1}/${p.epochs} (${p.phase === 'head' ? 'added layers' : 'all layers'}) · loss ${p.loss.toFixed(4)}`);
      }),
      jobId,
    ),
  );
  if (!value) return false;
  // Detect again with the new network before it shows as fine-tuned, so the points on view are its own.
  if (state.detections) await detectNuclei(slideId, state.roi, { fineTuned: true });
  appStore.getState().patchNuclei(slideId, { fineTuned: value, useFineTuned: true });
  return true;
}

/** Switches detection between the unsupervised map and the fine-tuned CNN, and detects again. */
export async function setUseFineTuned(slideId: string, use: boolean): Promise<void> {
  const state = appStore.getState().nuclei[slideId];
  appStore.getState().patchNuclei(slideId, { useFineTuned: use });
  if (state?.detections) await detectNuclei(slideId, state.roi);
}
