/**
 * Main-thread glue of the CISH expression map: one analysis worker, jobs
 * started through the store (progress, ETA, cancel), results written to the
 * `analysis` slice, overlays kept in step, and persistence by fingerprint.
 * Tensors stay in the worker; only typed arrays arrive here.
 */
import { slideFingerprint } from '../../slide/fingerprint';
import { downloadBlob } from '../download';
import * as Comlink from 'comlink';
import { appStore, isAbortError, type AnalysisMask, type CishAnalysis } from '../../store';
import { getDecoderPool } from '../services';
import {
  deleteCheckpoint,
  loadCheckpoint,
  loadResults,
  saveCheckpoint,
  saveResults,
  type CheckpointRecord,
} from '../../store/persistence';
import { clusterColours, tileColours } from '../../analysis/exports';
import { rankClusters } from '../../models/cish/naming';
import type { MaskBox } from '../viewer/draw-geometry';
import { traceRing } from '../viewer/overlays';
import type { ClusterParams, CishWorkerApi, MaskParams, TileParams, TrainParams, StoredModelInfo, UmapParams, ModelKind } from '../../workers/cish-protocol';

let worker: Comlink.Remote<CishWorkerApi> | null = null;
let jobCounter = 0;
const opened = new Map<string, Promise<void>>();
/** Parameters of the last tiles run per slide (needed to rebuild the grid in the worker). */
const tileParamsBySlide = new Map<string, TileParams>();
/** Running training job per slide: its worker job id. */
const trainingJobs = new Map<string, string>();

export function cishWorker(): Comlink.Remote<CishWorkerApi> {
  if (worker) return worker;
  const raw = new Worker(new URL('../../workers/cish.worker.ts', import.meta.url), { type: 'module', name: 'tilescope-analysis' });
  worker = Comlink.wrap<CishWorkerApi>(raw);
  const store = appStore.getState();
  store.setComputeBackend({ state: 'starting' });
  worker.init().then(
    (report) => appStore.getState().setComputeBackend({ state: 'ready', backend: report.backend, reason: report.reason }),
    (error) => appStore.getState().setComputeBackend({ state: 'failed', reason: String(error) }),
  );
  return worker;
}

/** The Blob the decoder pool opened a slide from (the pool keeps it; the store holds no pixels). */
function slideBlob(slideId: string): Blob {
  const pool = getDecoderPool() as unknown as {
    fileOf?: (id: string) => Blob | undefined;
    slides?: Map<string, { file: Blob }>;
  };
  const blob = pool.fileOf?.(slideId) ?? pool.slides?.get(slideId)?.file;
  if (!blob) throw new Error('the slide file is no longer available');
  return blob;
}

const nextJobId = () => `cish-${++jobCounter}`;

function analysisOf(slideId: string): CishAnalysis | undefined {
  return appStore.getState().analysis[slideId];
}

/** Opens the slide in the worker and restores stored results once per slide. */
export function ensureOpen(slideId: string): Promise<void> {
  let pending = opened.get(slideId);
  if (!pending) {
    pending = (async () => {
      const slide = appStore.getState().slides.find((s) => s.id === slideId);
      if (!slide) throw new Error('slide is not open');
      const blob = slideBlob(slideId);
      const [fingerprint] = await Promise.all([slideFingerprint(blob), cishWorker().open(slideId, blob, slide.name)]);
      appStore.getState().patchAnalysis(slideId, { fingerprint });
      await restoreResults(slideId, fingerprint).catch((error) => console.warn('stored results could not be restored', error));
    })();
    opened.set(slideId, pending);
    pending.catch(() => opened.delete(slideId));
  }
  return pending;
}

export function forgetSlide(slideId: string): void {
  if (!opened.has(slideId)) return;
  opened.delete(slideId);
  tileParamsBySlide.delete(slideId);
  maskEditing.delete(slideId);
  maskCanvases.delete(slideId);
  void worker?.close(slideId);
  appStore.getState().clearAnalysis(slideId);
  appStore.getState().forgetNuclei(slideId);
  for (const id of [`nuclei-points-${slideId}`, `nuclei-density-${slideId}`]) appStore.getState().removeOverlay(id);
}

async function restoreResults(slideId: string, fingerprint: string): Promise<void> {
  const stored = await loadResults(fingerprint);
  if (!stored) return;
  const patch: Partial<CishAnalysis> = {};
  if (stored.mask) patch.mask = stored.mask;
  if (stored.trainFrom) patch.trainFrom = stored.trainFrom;
  if (stored.trainRegion) patch.trainRegion = stored.trainRegion;
  if (stored.tiles) patch.tiles = stored.tiles;
  if (stored.latents) {
    patch.latents = stored.latents;
    patch.latentDim = stored.latentDim ?? 2;
    patch.densities = stored.densities && stored.densities.length * (stored.latentDim ?? 2) === stored.latents.length ? stored.densities : null;
  }
  if (stored.labels && stored.memberships) {
    patch.labels = stored.labels;
    patch.memberships = stored.memberships;
    patch.k = stored.k ?? 0;
    patch.clusterColors = stored.clusterColors ?? null;
    patch.fpc = stored.fpc ?? null;
  }
  if (stored.fpcCurve) patch.fpcCurve = stored.fpcCurve;
  if (stored.projection && stored.latents && stored.projection.xy.length === (2 * stored.latents.length) / (stored.latentDim ?? 2)) {
    patch.projection = stored.projection;
  }
  const rows = stored.latents ? stored.latents.length / (stored.latentDim ?? 2) : 0;
  if (stored.selections && stored.selections.items === rows) appStore.getState().loadSelections(slideId, stored.selections);
  if (stored.history) patch.history = stored.history;
  if (stored.stoppedAtTimeLimit) patch.stoppedAtTimeLimit = stored.stoppedAtTimeLimit;
  if (stored.modelId) {
    patch.modelId = stored.modelId;
    patch.modelUrl = stored.modelUrl ?? null;
  }
  appStore.getState().patchAnalysis(slideId, patch);
  if (stored.tileParams) {
    tileParamsBySlide.set(slideId, stored.tileParams);
    // Rebuild the grid in the worker so encode/train work without recomputing by hand.
    if (stored.tiles) await cishWorker().tiles(slideId, stored.tileParams, stored.mask ?? null);
  }
  if (stored.modelUrl) await cishWorker().useModel(slideId, stored.modelUrl).catch(() => undefined);
  syncOverlays(slideId);
}

/** Saves part of the slide's results under its fingerprint (errors are logged, not thrown). */
export function persist(slideId: string, patch: Parameters<typeof saveResults>[1]): void {
  const fingerprint = analysisOf(slideId)?.fingerprint;
  if (!fingerprint) return;
  saveResults(fingerprint, patch).catch((error) => console.warn('results could not be saved', error));
}

/** Runs a worker call as a store job; the worker job is cancelled with the job. */
export async function workerJob<T>(label: string, run: (jobId: string, report: (p: number, detail?: string) => void) => Promise<T>): Promise<T | null> {
  const jobId = nextJobId();
  const result = await appStore.getState().runJob(label, async (report, signal) => {
    signal.addEventListener('abort', () => void worker?.cancel(jobId), { once: true });
    return run(jobId, report);
  });
  return result.status === 'done' ? result.value : null;
}

// ------------------------------------------------------------------ steps

export async function runMask(slideId: string, params: MaskParams): Promise<boolean> {
  const value = await workerJob('Tissue mask', async (jobId, report) => {
    await ensureOpen(slideId);
    report(0.1, 'reading overview');
    return cishWorker().mask(slideId, params, jobId);
  });
  if (!value) return false;
  const mask = { data: value.data, width: value.width, height: value.height, downsample: value.downsample, threshold: value.threshold, ...(value.glassAbove === undefined ? {} : { glassAbove: value.glassAbove }) };
  appStore.getState().patchAnalysis(slideId, { mask });
  persist(slideId, { mask });
  syncOverlays(slideId);
  return true;
}

/** Stores an edited mask (a new array, so views update) and saves it like a computed one. */
export function saveEditedMask(slideId: string, mask: AnalysisMask): void {
  appStore.getState().patchAnalysis(slideId, { mask });
  persist(slideId, { mask });
  syncOverlays(slideId);
}

/** Where the training tiles come from, and the region drawn for them (level-0 polygon). */
export function setTrainingRegion(slideId: string, patch: { trainFrom?: 'sample' | 'region'; trainRegion?: number[] | null }): void {
  appStore.getState().patchAnalysis(slideId, patch);
  persist(slideId, patch);
  syncOverlays(slideId);
}

export async function runTiles(slideId: string, params: TileParams): Promise<boolean> {
  const value = await workerJob('Tile grid', async () => {
    await ensureOpen(slideId);
    const mask = analysisOf(slideId)?.mask ?? null;
    return cishWorker().tiles(slideId, params, mask ? { data: mask.data, width: mask.width, height: mask.height, downsample: mask.downsample } : null);
  });
  if (!value) return false;
  tileParamsBySlide.set(slideId, params);
  const tiles = {
    x: value.x,
    y: value.y,
    width: value.width,
    height: value.height,
    tissueFraction: value.tissueFraction,
    kept: value.kept,
    train: value.train,
    stride0: value.stride0,
    tileSize0: value.tileSize0,
    columns: value.columns,
    rows: value.rows,
  };
  // A new grid invalidates codes and clusters (their rows follow the kept tiles).
  appStore.getState().patchAnalysis(slideId, { tiles, latents: null, densities: null, memberships: null, labels: null, clusterColors: null, fpc: null, fpcCurve: null, projection: null });
  // New tiles are new items: codes, clusters and selections of the old ones no longer apply.
  appStore.getState().resetSelections(slideId);
  persist(slideId, { tiles, tileParams: params, latents: null, densities: null, memberships: null, labels: null, fpcCurve: null, selections: null, projection: null });
  syncOverlays(slideId);
  return true;
}

export async function runTrain(slideId: string, params: TrainParams, resume?: CheckpointRecord): Promise<boolean> {
  const fingerprint = analysisOf(slideId)?.fingerprint;
  if (!fingerprint) throw new Error('the slide is not ready yet');
  const tileParams = tileParamsBySlide.get(slideId);
  if (!tileParams) throw new Error('compute the tiles first');
  let stepLoss = new Float32Array(0);
  let lastPush = 0;
  let restarts = 0;
  const value = await workerJob(resume ? 'Train autoencoder (resumed)' : 'Train autoencoder', async (jobId, report) => {
    trainingJobs.set(slideId, jobId);
    appStore.getState().patchAnalysis(slideId, {
      training: { running: true, paused: false, epoch: resume?.epochsDone ?? 0, epochs: params.epochs, step: 0, stepsPerEpoch: null, etaSeconds: null, stepLoss },
    });
    const callbacks = Comlink.proxy({
      onStep(step: { epoch: number; step: number; stepsPerEpoch: number | null; loss: number; etaSeconds: number | null; epochs: number }) {
        const grown = new Float32Array(stepLoss.length + 1);
        grown.set(stepLoss);
        grown[stepLoss.length] = step.loss;
        stepLoss = grown;
        const steps = step.stepsPerEpoch ?? 1;
        const progress = (step.epoch + step.step / steps) / step.epochs;
        const restarted = restarts > 0 ? ` · restarted ×${restarts} (code collapsed)` : '';
        report(progress, `epoch ${step.epoch + 1}/${step.epochs} · step ${step.step}/${step.stepsPerEpoch ?? '?'} · loss ${step.loss.toPrecision(3)}${restarted}`);
        const now = performance.now();
        // Store updates are cheap but re-render the panel: at most ~5 per second.
        if (now - lastPush < 200 && step.step !== step.stepsPerEpoch) return;
        lastPush = now;
        const current = analysisOf(slideId)?.training;
        appStore.getState().patchAnalysis(slideId, {
          training: {
            running: true,
            paused: current?.paused ?? false,
            epoch: step.epoch,
            epochs: step.epochs,
            step: step.step,
            stepsPerEpoch: step.stepsPerEpoch,
            etaSeconds: step.etaSeconds,
            stepLoss,
          },
        });
      },
      onRestart(attempt: number) {
        // The thrown-away start's step losses would mislead the live curve.
        restarts = attempt;
        stepLoss = new Float32Array(0);
      },
      onEpoch(epoch: { epoch: number; loss: number; checkpointUrl: string }) {
        const previous = analysisOf(slideId)?.history;
        const history = new Float32Array(epoch.epoch + 1);
        if (previous) history.set(previous.subarray(0, Math.min(previous.length, epoch.epoch)));
        if (resume) history.set(Float32Array.from(resume.history.slice(0, Math.min(resume.history.length, epoch.epoch))));
        history[epoch.epoch] = epoch.loss;
        appStore.getState().patchAnalysis(slideId, { history });
        if (epoch.checkpointUrl) {
          void saveCheckpoint({
            fingerprint,
            url: epoch.checkpointUrl,
            epochsDone: epoch.epoch + 1,
            history: Array.from(history),
            trainParams: params,
            tileParams,
            savedAt: Date.now(),
          }).catch(() => undefined);
        }
      },
    });
    try {
      return await cishWorker().train(
        slideId,
        fingerprint,
        params,
        callbacks,
        jobId,
        resume ? { checkpointUrl: resume.url, epochsDone: resume.epochsDone, history: resume.history } : undefined,
      );
    } finally {
      trainingJobs.delete(slideId);
      const current = analysisOf(slideId)?.training;
      if (current) appStore.getState().patchAnalysis(slideId, { training: { ...current, running: false, paused: false, stepLoss } });
    }
  });
  if (!value) return false;
  const trained = { modelId: value.modelId, modelUrl: value.modelUrl, history: value.history, stoppedAtTimeLimit: value.stoppedByTimeLimit ? (params.maxMinutes ?? null) : null };
  appStore.getState().patchAnalysis(slideId, trained);
  persist(slideId, trained);
  void deleteCheckpoint(fingerprint).catch(() => undefined);
  return true;
}

export function setTrainingPaused(slideId: string, paused: boolean): void {
  const jobId = trainingJobs.get(slideId);
  if (!jobId || !worker) return;
  void (paused ? worker.pause(jobId) : worker.resume(jobId));
  const current = analysisOf(slideId)?.training;
  if (current) appStore.getState().patchAnalysis(slideId, { training: { ...current, paused } });
  const job = appStore.getState().jobs.find((j) => j.status === 'running' && j.label.startsWith('Train autoencoder'));
  if (job) appStore.setState((state) => ({ jobs: state.jobs.map((j) => (j.id === job.id ? { ...j, detail: paused ? 'paused' : j.detail } : j)) }));
}

export function cancelTraining(slideId: string): void {
  const jobId = trainingJobs.get(slideId);
  if (jobId) void worker?.cancel(jobId);
}

export async function checkpointFor(slideId: string): Promise<CheckpointRecord | undefined> {
  const fingerprint = analysisOf(slideId)?.fingerprint;
  if (!fingerprint) return undefined;
  return loadCheckpoint(fingerprint).catch(() => undefined);
}

export async function resumeFromCheckpoint(slideId: string, record: CheckpointRecord): Promise<boolean> {
  if (!tileParamsBySlide.has(slideId) || !analysisOf(slideId)?.tiles) {
    const ok = await runTiles(slideId, record.tileParams);
    if (!ok) return false;
  }
  return runTrain(slideId, record.trainParams, record);
}

export async function discardCheckpoint(slideId: string): Promise<void> {
  const fingerprint = analysisOf(slideId)?.fingerprint;
  if (fingerprint) await deleteCheckpoint(fingerprint);
}

export async function runEncode(slideId: string): Promise<boolean> {
  const value = await workerJob('Encode tiles', async (jobId, report) => {
    await ensureOpen(slideId);
    return cishWorker().encode(
      slideId,
      Comlink.proxy((done: number, total: number) => report(done / Math.max(1, total), `${done}/${total} tiles`)),
      jobId,
      analysisOf(slideId)?.mask?.glassAbove,
    );
  });
  if (!value) return false;
  const encoded = { latents: value.latents, latentDim: value.dim, densities: value.densities };
  appStore.getState().patchAnalysis(slideId, { ...encoded, memberships: null, labels: null, clusterColors: null, fpc: null, projection: null });
  persist(slideId, { ...encoded, memberships: null, labels: null, projection: null });
  syncOverlays(slideId);
  return true;
}

export async function runCluster(slideId: string, params: ClusterParams): Promise<boolean> {
  const analysis = analysisOf(slideId);
  if (!analysis?.latents) return false;
  const { latents, latentDim } = analysis;
  const label = params.method === 'kmeans' ? 'k-means' : 'Fuzzy c-means';
  const value = await workerJob(`${label} (K = ${params.k})`, async (jobId) => cishWorker().cluster(latents, latentDim, params, jobId));
  if (!value) return false;
  const ranks = rankClusters({ latents, latentDim, densities: analysis.densities, labels: value.labels, k: params.k, centres: value.centres });
  const colours = clusterColours(ranks);
  const patch = { memberships: value.memberships, labels: value.labels, k: params.k, clusterColors: colours, fpc: value.fpc };
  appStore.getState().patchAnalysis(slideId, patch);
  persist(slideId, patch);
  syncOverlays(slideId);
  return true;
}

/** UMAP of the slide's latents for the scatter, in the analysis worker (progress, cancel); kept and saved with the results. */
export async function runUmap(slideId: string, params: UmapParams): Promise<boolean> {
  const analysis = analysisOf(slideId);
  if (!analysis?.latents) return false;
  const { latents, latentDim } = analysis;
  const value = await workerJob('UMAP projection', async (jobId, report) =>
    cishWorker().project(
      latents,
      latentDim,
      params,
      Comlink.proxy((done: number, total: number) => report(done / Math.max(1, total), `epoch ${done}/${total}`)),
      jobId,
    ),
  );
  // The latents may have been replaced while UMAP ran.
  if (!value || analysisOf(slideId)?.latents !== latents) return false;
  appStore.getState().patchAnalysis(slideId, { projection: value });
  persist(slideId, { projection: value });
  return true;
}

/** Back to the linear view (PCA, or the codes themselves when they are 2-D). */
export function clearProjection(slideId: string): void {
  appStore.getState().patchAnalysis(slideId, { projection: null });
  persist(slideId, { projection: null });
}

export async function runFpcSweep(slideId: string, params: Omit<ClusterParams, 'k'>, kMin = 2, kMax = 12): Promise<boolean> {
  const analysis = analysisOf(slideId);
  if (!analysis?.latents) return false;
  const { latents, latentDim } = analysis;
  const n = latents.length / latentDim;
  const value = await workerJob(`FPC sweep K = ${kMin}…${kMax}`, async (jobId) => cishWorker().fpcSweep(latents, latentDim, params, kMin, Math.min(kMax, n), jobId));
  if (!value) return false;
  appStore.getState().patchAnalysis(slideId, { fpcCurve: value });
  persist(slideId, { fpcCurve: value });
  return true;
}

// ------------------------------------------------------------------ models

export async function listModels(kind?: ModelKind): Promise<StoredModelInfo[]> {
  return cishWorker().listModels(kind);
}

export async function useModel(slideId: string, url: string): Promise<void> {
  await ensureOpen(slideId);
  const meta = await cishWorker().useModel(slideId, url);
  const history = Float32Array.from(meta.history);
  appStore.getState().patchAnalysis(slideId, { modelId: meta.modelId, modelUrl: url, history });
  persist(slideId, { modelId: meta.modelId, modelUrl: url, history });
}

export async function deleteModel(url: string): Promise<void> {
  await cishWorker().deleteModel(url);
}

export async function exportModel(url: string): Promise<void> {
  const files = await cishWorker().exportModel(url);
  downloadBlob(files.json, `${files.baseName}.json`);
  downloadBlob(files.weights, `${files.baseName}.weights.bin`);
}

export async function importModel(files: File[]): Promise<StoredModelInfo> {
  return cishWorker().importModel(files, files.map((f) => f.name));
}


// ------------------------------------------------------------------ overlays

export const overlayIds = (slideId: string) => ({
  mask: `cish-mask-${slideId}`,
  tiles: `cish-tiles-${slideId}`,
  map: `cish-map-${slideId}`,
  region: `cish-region-${slideId}`,
});

/**
 * One mask canvas per slide and the array it shows, so a brush stroke
 * repaints only the pixels it changed (and masks kept for undo hold no canvas).
 */
const maskCanvases = new Map<string, { data: Uint8Array; canvas: HTMLCanvasElement }>();

/** Paints the mask pixels of `box` (tinted tissue, transparent background) into its canvas. */
function paintMaskCanvas(canvas: HTMLCanvasElement, mask: AnalysisMask, box: MaskBox): void {
  const width = box.x1 - box.x0;
  const height = box.y1 - box.y0;
  if (width <= 0 || height <= 0) return;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    const row = (box.y0 + y) * mask.width + box.x0;
    for (let x = 0; x < width; x++) {
      if (mask.data[row + x] === 0) continue;
      const o = 4 * (y * width + x);
      image.data[o] = 64;
      image.data[o + 1] = 200;
      image.data[o + 2] = 255;
      image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, box.x0, box.y0);
}

/** Canvas of the slide's mask, one pixel per mask pixel (drawn scaled by the viewer). */
function maskCanvasFor(slideId: string, mask: AnalysisMask): HTMLCanvasElement {
  let entry = maskCanvases.get(slideId);
  if (!entry || entry.canvas.width !== mask.width || entry.canvas.height !== mask.height) {
    const canvas = document.createElement('canvas');
    canvas.width = mask.width;
    canvas.height = mask.height;
    entry = { data: new Uint8Array(0), canvas };
    maskCanvases.set(slideId, entry);
  }
  if (entry.data !== mask.data) {
    // putImageData replaces every pixel of the box, background included.
    paintMaskCanvas(entry.canvas, mask, { x0: 0, y0: 0, x1: mask.width, y1: mask.height });
    entry.data = mask.data;
  }
  return entry.canvas;
}

/** Slides whose mask is being edited: their mask layer shows even over tiles. */
const maskEditing = new Set<string>();

export function setMaskEditing(slideId: string, editing: boolean): void {
  if (editing) maskEditing.add(slideId);
  else maskEditing.delete(slideId);
  syncOverlays(slideId);
}

function addMaskLayer(slideId: string, mask: AnalysisMask, visible: boolean): void {
  const canvas = maskCanvasFor(slideId, mask);
  appStore.getState().addOverlay({
    id: overlayIds(slideId).mask,
    name: 'Tissue mask',
    slideId,
    kind: 'draw',
    opacity: 0.3,
    visible,
    draw(ctx, view) {
      const t = view.transform;
      ctx.transform(t[0], t[1], t[2], t[3], t[4], t[5]);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(canvas, 0, 0, mask.width * mask.downsample, mask.height * mask.downsample);
    },
  });
}

/**
 * Shows `mask` (the working copy of a brush stroke) as the slide's mask
 * layer. It equals `previous` outside `box`, so when the canvas shows
 * `previous` only `box` is repainted.
 */
export function showEditedMask(slideId: string, mask: AnalysisMask, previous: Uint8Array, box: MaskBox | null): void {
  const entry = maskCanvases.get(slideId);
  if (entry && entry.data === previous && entry.canvas.width === mask.width && entry.canvas.height === mask.height) {
    if (box) paintMaskCanvas(entry.canvas, mask, box);
    entry.data = mask.data;
  }
  addMaskLayer(slideId, mask, true);
}

/** The outline of the region drawn for training tiles, a constant width on screen. */
function addRegionLayer(slideId: string, region: number[]): void {
  appStore.getState().addOverlay({
    id: overlayIds(slideId).region,
    name: 'Training region',
    slideId,
    kind: 'draw',
    opacity: 1,
    visible: true,
    draw(ctx, view) {
      traceRing(ctx, view.transform, region);
      ctx.lineJoin = 'round';
      ctx.strokeStyle = 'rgba(0,0,0,0.6)';
      ctx.lineWidth = 4;
      ctx.stroke();
      ctx.strokeStyle = '#ffd400';
      ctx.lineWidth = 2;
      ctx.setLineDash([8, 5]);
      ctx.stroke();
    },
  });
}

/** Mosaic rectangles: each kept tile's centre square of one stride, so overlapping tiles tile the plane. */
export function mosaicRects(tiles: NonNullable<CishAnalysis['tiles']>): Float32Array {
  const n = tiles.kept.length;
  const rects = new Float32Array(4 * n);
  const side = tiles.stride0;
  for (let i = 0; i < n; i++) {
    const id = tiles.kept[i];
    rects[4 * i] = tiles.x[id] + tiles.width[id] / 2 - side / 2;
    rects[4 * i + 1] = tiles.y[id] + tiles.height[id] / 2 - side / 2;
    rects[4 * i + 2] = side;
    rects[4 * i + 3] = side;
  }
  return rects;
}

/** Which of the step overlays is on; the latest step wins unless the user toggles. */
const visibility = new Map<string, { mask: boolean; tiles: boolean; map: boolean }>();

export function overlayVisibility(slideId: string): { mask: boolean; tiles: boolean; map: boolean } {
  return visibility.get(slideId) ?? { mask: true, tiles: true, map: true };
}

export function setOverlayVisible(slideId: string, which: 'mask' | 'tiles' | 'map', visible: boolean): void {
  visibility.set(slideId, { ...overlayVisibility(slideId), [which]: visible });
  const layer = appStore.getState().overlays.find((l) => l.id === overlayIds(slideId)[which]);
  if (layer) appStore.getState().updateOverlay(layer.id, { visible });
}

/** Rebuilds the mask, tile-grid and cluster-map layers of an analysis (by its key: see the store's `analysis`). */
export function syncOverlays(slideId: string): void {
  const analysis = analysisOf(slideId);
  const store = appStore.getState();
  const ids = overlayIds(slideId);
  if (!analysis) {
    for (const id of Object.values(ids)) store.removeOverlay(id);
    return;
  }
  const hasMap = !!(analysis.labels && analysis.clusterColors && analysis.tiles && analysis.labels.length === analysis.tiles.kept.length);
  const shown = overlayVisibility(slideId);
  if (analysis.mask) addMaskLayer(slideId, analysis.mask, (shown.mask && !analysis.tiles) || maskEditing.has(slideId));
  else store.removeOverlay(ids.mask);

  if (analysis.tiles) {
    const tiles = analysis.tiles;
    const n = tiles.kept.length;
    const rects = new Float32Array(4 * n);
    const colors = new Uint8Array(4 * n);
    const train = new Set(tiles.train);
    for (let i = 0; i < n; i++) {
      const id = tiles.kept[i];
      rects.set([tiles.x[id], tiles.y[id], tiles.width[id], tiles.height[id]], 4 * i);
      const isTrain = train.has(id);
      colors.set(isTrain ? [255, 196, 0, 90] : [90, 170, 255, 28], 4 * i);
    }
    store.addOverlay({ id: ids.tiles, name: analysis.itemKind === 'tile' ? 'Tile grid' : 'Nuclei (items)', slideId: analysis.slideId, kind: 'tiles', rects, colors, opacity: 1, visible: shown.tiles && !hasMap });
  } else store.removeOverlay(ids.tiles);

  if (hasMap) {
    const colors = tileColours(analysis.labels!, analysis.clusterColors!, {
      memberships: analysis.memberships,
      k: analysis.k,
      membershipAlpha: analysis.membershipAlpha,
    });
    store.addOverlay({
      id: ids.map,
      name: analysis.itemKind === 'tile' ? 'Expression map' : 'Nucleus clusters',
      slideId: analysis.slideId,
      kind: 'tiles',
      rects: mosaicRects(analysis.tiles!),
      colors,
      opacity: analysis.mapOpacity,
      visible: shown.map,
      swipe: true,
    });
  } else store.removeOverlay(ids.map);

  // Re-added last, so the outline stays on top of the tile and map layers.
  store.removeOverlay(ids.region);
  if (analysis.trainFrom === 'region' && analysis.trainRegion) addRegionLayer(slideId, analysis.trainRegion);
}

/** The expression map alone as a PNG, one pixel per `downsample` level-0 pixels. */
export async function renderMapPng(slideId: string, downsample: number): Promise<Blob> {
  const analysis = analysisOf(slideId);
  const slide = appStore.getState().slides.find((s) => s.id === slideId);
  if (!analysis?.tiles || !analysis.labels || !analysis.clusterColors || !slide) throw new Error('cluster the tiles first');
  const width = Math.max(1, Math.round(slide.metadata.width / downsample));
  const height = Math.max(1, Math.round(slide.metadata.height / downsample));
  if (width * height > 64 * 1024 * 1024) throw new Error(`a ${width} × ${height} px map is too large; use a larger downsample`);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const rects = mosaicRects(analysis.tiles);
  const colors = tileColours(analysis.labels, analysis.clusterColors, { memberships: analysis.memberships, k: analysis.k, membershipAlpha: analysis.membershipAlpha });
  const scale = 1 / downsample;
  for (let i = 0; i < analysis.labels.length; i++) {
    ctx.fillStyle = `rgba(${colors[4 * i]},${colors[4 * i + 1]},${colors[4 * i + 2]},${colors[4 * i + 3] / 255})`;
    ctx.fillRect(rects[4 * i] * scale, rects[4 * i + 1] * scale, rects[4 * i + 2] * scale, rects[4 * i + 3] * scale);
  }
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
}

export { isAbortError };
