/**
 * The classifier's glue between its panel, the analysis worker and the
 * store (issue 6): the training set comes from the labelled classes of an
 * analysis's selections (tiles or nuclei), training and classification run
 * as worker jobs, and the results become a class map and a confidence map on
 * the slide, per-class areas, and a new explorer analysis of the features.
 */
import * as Comlink from 'comlink';
import { appStore, effectiveMpp, type CishAnalysis } from '../../store';
import { labelledClasses, selectionColour, type Rgb } from '../../analysis/selections';
import { applyAffine, traceRing } from '../viewer/overlays';
import { imageClassCounts, shapeRegions, zipEntryNames, type DrawnShape } from '../../models/classifier/dataset';
import type { ClassifierExamples, ClassifierInfo, ClassifierPlanInfo, ClassifierTrainRequest, ClassifierTrainStep, ClassifyOutcome } from '../../workers/cish-protocol';
import { cishWorker, ensureOpen, mosaicRects, syncOverlays, workerJob } from '../cish/cish-service';

export const classifierMapLayerId = (slideId: string) => `classifier-map-${slideId}`;
export const confidenceLayerId = (slideId: string) => `classifier-confidence-${slideId}`;
/** The explorer analysis of the classifier's features on a slide. */
export const classifierAnalysisKey = (slideId: string) => `${slideId}/classifier`;

export interface TrainingSet {
  classes: { name: string; color: Rgb }[];
  counts: number[];
  /** Items claimed by two labelled classes (left out). */
  conflicts: number;
  examples: ClassifierExamples;
}

/** The labelled classes of the analysis under `key` as labelled rectangles; null without labelled selections. */
export function trainingSetOf(key: string): TrainingSet | null {
  const state = appStore.getState();
  const analysis = state.analysis[key];
  const set = state.selections[key]?.set;
  if (!analysis?.tiles || !set || set.items !== analysis.tiles.kept.length) return null;
  const labelled = labelledClasses(set);
  if (labelled.classes.length === 0) return null;
  const rects: number[] = [];
  const labels: number[] = [];
  const tiles = analysis.tiles;
  labelled.itemClass.forEach((c, i) => {
    if (c < 0) return;
    const id = tiles.kept[i];
    rects.push(tiles.x[id], tiles.y[id], tiles.width[id], tiles.height[id]);
    labels.push(c);
  });
  const classes = labelled.classes;
  return { classes, counts: labelled.counts, conflicts: labelled.conflicts, examples: { kind: 'regions', classes: classes.map((c) => c.name), rects: Float64Array.from(rects), labels: Int32Array.from(labels) } };
}

/** Default side of a training patch cut from a drawn shape, µm (the tile side of the CISH analysis). */
export const SHAPE_PATCH_UM = 150;

/** Colour of a drawn-shape class: by its place among the sorted class names (its own included), as shapeRegions orders the classes. */
export function shapeClassColour(classNames: Iterable<string>, className: string): Rgb {
  const names = [...new Set([...classNames, className])].sort();
  return selectionColour(names.indexOf(className));
}

/**
 * The shapes drawn on a slide as labelled patches of side `patch0` level-0
 * px (see shapeRegions); null without shapes or without the slide.
 */
export function shapesTrainingSet(slideId: string, patch0: number): TrainingSet | null {
  const state = appStore.getState();
  const shapes = state.classifierShapes[slideId] ?? [];
  const slide = state.slides.find((s) => s.id === slideId);
  if (shapes.length === 0 || !slide) return null;
  const { width, height } = slide.metadata;
  const { classes, rects, labels } = shapeRegions(shapes, patch0, width, height);
  const counts = classes.map((_, k) => labels.filter((l) => l === k).length);
  return { classes: classes.map((name, k) => ({ name, color: selectionColour(k) })), counts, conflicts: 0, examples: { kind: 'regions', classes, rects, labels } };
}

/**
 * Image files laid out as <class>/<image> (a chosen folder), or zips of
 * such folders, as a training set: the balance comes from the paths (zip
 * directories are listed, nothing is decoded); the worker reads the images.
 */
export async function imagesTrainingSet(files: { path: string; blob: Blob }[]): Promise<TrainingSet & { skipped: number }> {
  const paths: string[] = [];
  for (const file of files) paths.push(...(/\.zip$/i.test(file.path) ? await zipEntryNames(file.blob, file.path) : [file.path]));
  const { classes, counts, skipped } = imageClassCounts(paths);
  return { classes: classes.map((name, k) => ({ name, color: selectionColour(k) })), counts, conflicts: 0, skipped, examples: { kind: 'images', files } };
}

export const shapesLayerId = (slideId: string) => `classifier-shapes-${slideId}`;

/** Replaces the slide's drawn shapes and redraws them (outlines and points in their class colours). */
export function setShapes(slideId: string, shapes: DrawnShape[]): void {
  const store = appStore.getState();
  store.setClassifierShapes(slideId, shapes);
  if (shapes.length === 0) {
    store.removeOverlay(shapesLayerId(slideId));
    return;
  }
  const names = [...new Set(shapes.map((s) => s.className))].sort();
  const colours = shapes.map((s) => `rgb(${selectionColour(names.indexOf(s.className)).join(',')})`);
  store.addOverlay({
    kind: 'draw',
    id: shapesLayerId(slideId),
    name: 'Classifier examples',
    slideId,
    opacity: 1,
    visible: true,
    draw(ctx, view) {
      ctx.lineWidth = 2;
      shapes.forEach((shape, i) => {
        ctx.strokeStyle = colours[i];
        ctx.fillStyle = colours[i];
        if (shape.kind === 'point') {
          const p = applyAffine(view.transform, shape.x, shape.y);
          ctx.beginPath();
          ctx.arc(p.x, p.y, 5, 0, 2 * Math.PI);
          ctx.fill();
          return;
        }
        traceRing(ctx, view.transform, shape.points);
        ctx.stroke();
      });
    },
  });
}

/** Trains a classifier on the slide's worker; `onPlan` gets the size and epochs planned for the run before it starts. */
export async function trainClassifier(slideId: string, request: Omit<ClassifierTrainRequest, 'fingerprint'>, onPlan?: (plan: ClassifierPlanInfo) => void): Promise<ClassifierInfo | null> {
  return workerJob(`Classifier (${request.arch})`, async (jobId, report) => {
    await ensureOpen(slideId);
    const fingerprint = appStore.getState().analysis[slideId]?.fingerprint ?? 'unknown';
    return cishWorker().trainClassifier(
      slideId,
      { ...request, fingerprint },
      Comlink.proxy((p: ClassifierTrainStep) => {
        const steps = p.stepsPerEpoch ?? 1;
        report((p.epoch * steps + p.step) / (p.epochs * steps), `epoch ${p.epoch + 1}/${p.epochs} · loss ${p.loss.toFixed(3)}${p.valLoss !== null ? ` · validation ${p.valLoss.toFixed(3)}` : ''}`);
      }),
      jobId,
      Comlink.proxy((plan: ClassifierPlanInfo) => {
        report(0, `planned: ${plan.summary}`);
        onPlan?.(plan);
      }),
    );
  });
}

export async function useClassifier(slideId: string, url: string): Promise<ClassifierInfo> {
  await ensureOpen(slideId);
  return cishWorker().useClassifier(slideId, url);
}

export interface SlideClassification {
  outcome: ClassifyOutcome;
  classes: { name: string; color: Rgb }[];
  /** Tiles per class and their area in mm² (null without µm per pixel). */
  counts: number[];
  areasMm2: (number | null)[];
}

/**
 * Classifies every kept tile of `targetSlideId`'s tile analysis with the
 * classifier trained on `classifierSlideId`, paints the class and
 * confidence maps, and opens the features in the explorer.
 */
export async function classifySlide(classifierSlideId: string, targetSlideId: string, classes: { name: string; color: Rgb }[]): Promise<SlideClassification | null> {
  const analysis = appStore.getState().analysis[targetSlideId];
  if (!analysis?.tiles) throw new Error('make the tiles of that slide first (CISH panel, step 2)');
  const tiles = analysis.tiles;
  const rects = Float64Array.from({ length: 4 * tiles.kept.length }, (_, q) => {
    const id = tiles.kept[q >> 2];
    return [tiles.x[id], tiles.y[id], tiles.width[id], tiles.height[id]][q & 3];
  });
  const outcome = await workerJob('Classify tiles', async (jobId, report) => {
    await ensureOpen(targetSlideId);
    return cishWorker().classify(classifierSlideId, targetSlideId, rects, Comlink.proxy((done: number, total: number) => report(done / Math.max(1, total), `${done}/${total} tiles`)), jobId);
  });
  if (!outcome) return null;
  const counts = classes.map((_, k) => outcome.predicted.filter((p) => p === k).length);
  const slide = appStore.getState().slides.find((s) => s.id === targetSlideId);
  const mpp = slide ? effectiveMpp(slide) : undefined;
  // Tiles overlap: each owns the stride × stride cell around its centre (the mosaic the map draws).
  const areasMm2 = counts.map((n) => (mpp ? (n * tiles.stride0 * tiles.stride0 * mpp * mpp) / 1e6 : null));
  paintClassification(targetSlideId, analysis, outcome, classes);
  exploreFeatures(targetSlideId, analysis, outcome, classes);
  return { outcome, classes, counts, areasMm2 };
}

function paintClassification(slideId: string, analysis: CishAnalysis, outcome: ClassifyOutcome, classes: { name: string; color: Rgb }[]): void {
  const store = appStore.getState();
  const n = outcome.predicted.length;
  const K = classes.length;
  const rects = mosaicRects(analysis.tiles!);
  const classColours = new Uint8Array(4 * n);
  const confidence = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    classColours.set([...classes[outcome.predicted[i]].color, 200], 4 * i);
    let best = 0;
    for (let k = 0; k < K; k++) best = Math.max(best, outcome.probabilities[i * K + k]);
    // Chance (1/K) → transparent black, certain → opaque white.
    const v = Math.round(255 * Math.max(0, (best - 1 / K) / (1 - 1 / K)));
    confidence.set([v, v, v, 220], 4 * i);
  }
  store.addOverlay({ kind: 'tiles', id: classifierMapLayerId(slideId), name: 'Class map', slideId, opacity: 0.6, visible: true, rects, colors: classColours, swipe: true });
  store.addOverlay({ kind: 'tiles', id: confidenceLayerId(slideId), name: 'Classifier confidence', slideId, opacity: 0.6, visible: false, rects, colors: confidence });
}

/** The classified tiles as explorer items: their features as codes, coloured by predicted class. */
function exploreFeatures(slideId: string, analysis: CishAnalysis, outcome: ClassifyOutcome, classes: { name: string; color: Rgb }[]): void {
  const store = appStore.getState();
  const key = classifierAnalysisKey(slideId);
  store.clearAnalysis(key);
  store.patchAnalysis(key, {
    slideId,
    tiles: analysis.tiles,
    latents: outcome.features,
    latentDim: outcome.featureDim,
    labels: outcome.predicted,
    k: classes.length,
    clusterColors: Uint8Array.from(classes.flatMap((c) => [...c.color])),
  });
  // Its own map layers stay hidden: the class map above already shows the labels.
  syncOverlays(key);
  for (const layer of appStore.getState().overlays) if (layer.id.includes(key)) appStore.getState().updateOverlay(layer.id, { visible: false });
}
