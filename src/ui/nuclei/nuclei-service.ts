/**
 * The nucleus detector's glue between the panel, the analysis worker and
 * the store: training and detection run as worker jobs (progress, ETA,
 * cancel in the jobs list); the points and a per-patch density map are
 * overlay layers of the slide.
 */
import * as Comlink from 'comlink';
import { appStore, NUCLEI_POINT_DEFAULTS } from '../../store';
import { rampColours } from '../../analysis/exports';
import type { NucleiDetectParams, NucleiPointParams, NucleiTrainParams } from '../../workers/cish-protocol';
import { cishWorker, ensureOpen, workerJob } from '../cish/cish-service';

const pointsLayerId = (slideId: string) => `nuclei-points-${slideId}`;
const densityLayerId = (slideId: string) => `nuclei-density-${slideId}`;

export async function trainNuclei(slideId: string, params: NucleiTrainParams): Promise<boolean> {
  const value = await workerJob(`Nucleus CAE (${params.preset})`, async (jobId, report) => {
    await ensureOpen(slideId);
    return cishWorker().trainNuclei(
      slideId,
      params,
      Comlink.proxy((p) => {
        const steps = p.stepsPerEpoch ?? 1;
        report((p.epoch * steps + p.step) / (params.epochs * steps), `epoch ${p.epoch + 1}/${params.epochs} · RMSE ${p.loss.toFixed(4)}`);
      }),
      jobId,
    );
  });
  if (!value) return false;
  appStore.getState().patchNuclei(slideId, { model: value, detections: null });
  syncNucleiOverlays(slideId);
  return true;
}

export async function detectNuclei(slideId: string, roi: NucleiDetectParams['roi']): Promise<boolean> {
  const points = appStore.getState().nuclei[slideId]?.points ?? NUCLEI_POINT_DEFAULTS;
  const value = await workerJob('Detect nuclei', async (jobId, report) =>
    cishWorker().detectNuclei(
      slideId,
      { roi, ...points },
      Comlink.proxy((done: number, total: number) => report(done / Math.max(1, total), `${done}/${total} patches`)),
      jobId,
    ),
  );
  if (!value) return false;
  appStore.getState().patchNuclei(slideId, { detections: value, roi });
  syncNucleiOverlays(slideId);
  return true;
}

/** New post-processing settings: points again from the kept maps (no network run). */
export async function setPointParams(slideId: string, points: NucleiPointParams): Promise<void> {
  appStore.getState().patchNuclei(slideId, { points });
  if (!appStore.getState().nuclei[slideId]?.detections) return;
  const value = await cishWorker().redetectNuclei(slideId, points);
  appStore.getState().patchNuclei(slideId, { detections: value });
  syncNucleiOverlays(slideId);
}

/** Puts the slide's nuclei on the overlay: blue points, and nuclei per mm² per patch as a heat map. */
export function syncNucleiOverlays(slideId: string): void {
  const store = appStore.getState();
  const detections = store.nuclei[slideId]?.detections;
  if (!detections) {
    store.removeOverlay(pointsLayerId(slideId));
    store.removeOverlay(densityLayerId(slideId));
    return;
  }
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
