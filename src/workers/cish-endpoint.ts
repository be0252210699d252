/**
 * The CISH analysis endpoint that the worker exposes: it opens its own
 * SlideSource per slide, keeps the tile grid and the trained model of each
 * slide, and runs the pipeline stages of src/models/cish/pipeline.ts as jobs.
 * Tensors live and die here; only typed arrays go back.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initBackend, type BackendName } from '../engine/backend';
import type { ReplicaPeer } from '../engine/data-parallel';
import { TrainingControl, yieldToEventLoop } from '../engine/train';
import type { SlideSource } from '../slide/types';
import type { TileGrid } from '../tiling/tile-grid';
import { fcmSteps, fpcSweepSteps } from '../analysis/fcm';
import { runStepsAsync } from '../util/steps';
import { kmeansSteps } from '../analysis/kmeans';
import { umapProjection } from '../analysis/umap';
import {
  chooseTrainingTiles,
  computeCishMask,
  computeCishTiles,
  encodeCishTiles,
  loadCishPeers,
  tileDensities,
  trainCish,
} from '../models/cish/pipeline';
import { unsquashCodes } from '../models/cish/naming';
import { loadCishAutoencoder, splitCishAutoencoder, type CishModels } from '../models/cish/model';
import { CISH_DEFAULTS, CISH_RUN_DEFAULTS } from '../models/cish/defaults';
import {
  checkpointUrl,
  modelUrl,
  type BackendReport,
  type CishModelMeta,
  type NucleiDetections,
  type NucleiPointParams,
  type CishWorkerApi,
  type NucleiModelInfo,
  type ClassifierInfo,
  type TrainParams,
} from './cish-protocol';
import { metadataJson, modelFromFiles, modelKindOf, modelToFiles, newModelId, parseStoredModelUrl, listStoredModels, savedId, storedModelUrl, type ModelKind } from '../engine/model-store';
import { disposeCspCae, type CspCaeModels } from '../models/nuclei/model';
import { cspCaeFromSaved, isCspCae, type NucleiModelMeta } from '../models/nuclei/metadata';
import { cishMetaOf } from '../models/cish/metadata';
import { inspectPatchAt } from '../models/nuclei/inspect';
import { FINETUNE_DEFAULTS, annotatedTiles, buildDetectionCnn, disposeDetectionCnn, fineTunedDetector, trainDetectionCnn, type DetectionCnn } from '../models/nuclei/finetune';
import { computeDetectionMaps, computeNucleusPatches, estimateStainLevel, guessNuclearStain, nucleiFromMaps, trainCspCae, type DetectionMaps } from '../models/nuclei/pipeline';
import { nucleiSelfChecks } from '../models/nuclei/checks';
import { readOverview } from '../slide/overview';
import { sampleTiles, type TissueMask } from '../tiling/tile-grid';
import { CLASSIFIER_DEFAULTS, classifierMetadata, classifierSpec, classifyRects, trainAndTest, trainedClassifierFromModel, type TrainedClassifier } from '../models/classifier/pipeline';
import { MIN_EXAMPLES_TO_SPLIT, classBalance, datasetFromImageFiles, datasetFromRects, expandZips } from '../models/classifier/dataset';
import { classifierSelfChecks } from '../models/classifier/checks';
import { planDeviceOf, planForDataset, plannedChoices } from '../models/classifier/plan';
import '../engine/amsgrad'; // registers AMSGrad for optimizer round trips

interface SlideState {
  source: SlideSource;
  grid: TileGrid | null;
  /** Training sample of the current grid. */
  train: Uint32Array | null;
  model: { models: CishModels; meta: CishModelMeta } | null;
  /** Tissue mask, computed once for the nucleus patches. */
  tissue: TissueMask | null;
  /** The nucleus CAE and the detection maps of the last region. */
  nuclei: { models: CspCaeModels; maps: DetectionMaps | null; tuned: DetectionCnn | null } | null;
  /** The slide's classifier (seed 002), trained on its labelled regions. */
  classifier: TrainedClassifier | null;
}

interface RunningJob {
  controller: AbortController;
  control: TrainingControl;
}

export interface CishEndpointDeps {
  openSlide: (file: Blob, name: string) => Promise<SlideSource>;
  /**
   * Starts copies of the model in other workers for data-parallel training
   * and encoding, on the same backend; resolves to none where that does not
   * pay (one core, a GPU backend) or they fail to start. Asked once.
   */
  startPeers?: (backend: BackendName) => Promise<ReplicaPeer[]>;
}

function disposeModels(models: CishModels): void {
  // The three models share layers; disposing each releases every weight once.
  for (const model of [models.encoder, models.decoder, models.autoencoder]) {
    try {
      model.dispose();
    } catch {
      // Already disposed through a shared layer.
    }
  }
}

function abortError(): DOMException {
  return new DOMException('The job was cancelled', 'AbortError');
}


/**
 * What a computation written as steps (util/steps.ts) awaits between them
 * in the worker: a turn of the event loop at most every 50 ms, so a cancel
 * message gets in, and an AbortError once the job is cancelled.
 */
function between(job: RunningJob): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last >= 50) {
      await yieldToEventLoop();
      last = performance.now();
    }
    if (job.controller.signal.aborted) throw abortError();
  };
}

/** The ids of a stored model from its URL, or new ones. */
function idsOf(url: string): { modelId: string; fingerprint: string } {
  const parsed = parseStoredModelUrl(url);
  return { modelId: parsed?.modelId ?? newModelId(), fingerprint: parsed?.fingerprint ?? 'imported' };
}

export function createCishEndpoint(deps: CishEndpointDeps): CishWorkerApi {
  const slides = new Map<string, SlideState>();
  const jobs = new Map<string, RunningJob>();
  let backend: Promise<BackendReport> | null = null;

  const ready = (): Promise<BackendReport> => {
    backend ??= initBackend().then((choice) => ({ backend: choice.backend, reason: choice.reason }));
    return backend;
  };

  let peers: Promise<ReplicaPeer[]> | null = null;
  const peersFor = (): Promise<ReplicaPeer[]> => {
    peers ??= ready().then((report) => deps.startPeers?.(report.backend) ?? []);
    return peers;
  };

  const slideState = (slideId: string): SlideState => {
    const state = slides.get(slideId);
    if (!state) throw new Error(`slide ${slideId} is not open in the analysis worker`);
    return state;
  };

  const startJob = (jobId: string): RunningJob => {
    const job = { controller: new AbortController(), control: new TrainingControl() };
    jobs.set(jobId, job);
    return job;
  };

  const tissueOf = async (state: SlideState, signal: AbortSignal): Promise<TissueMask> => {
    state.tissue ??= (await computeCishMask(state.source, {}, signal)).mask;
    return state.tissue;
  };

  const setModel = (state: SlideState, models: CishModels, meta: CishModelMeta) => {
    if (state.model && state.model.models !== models) disposeModels(state.model.models);
    state.model = { models, meta };
  };

  const api: CishWorkerApi = {
    async init() {
      const report = await ready();
      // Started with the backend, so the status line can say how many copies train.
      const copies = await peersFor();
      return copies.length === 0 ? report : { ...report, reason: `${report.reason}; ${copies.length + 1} copies of the model train and encode in parallel workers` };
    },

    async open(slideId, file, name) {
      if (slides.has(slideId)) return;
      const source = await deps.openSlide(file, name);
      slides.set(slideId, { source, grid: null, train: null, model: null, tissue: null, nuclei: null, classifier: null });
    },

    async close(slideId) {
      const state = slides.get(slideId);
      if (!state) return;
      slides.delete(slideId);
      if (state.model) disposeModels(state.model.models);
      if (state.nuclei) disposeNuclei(state.nuclei);
      state.classifier?.model.dispose();
      state.source.close();
    },

    async mask(slideId, params, jobId) {
      const job = startJob(jobId);
      try {
        const result = await computeCishMask(slideState(slideId).source, { downscale: params.downscale }, job.controller.signal);
        const data = result.mask.data;
        return {
          data,
          width: result.mask.width,
          height: result.mask.height,
          downsample: result.mask.downsample,
          threshold: result.threshold,
          polarity: result.polarity,
          seedWasEmpty: result.seedWasEmpty,
          ...(result.glassAbove === undefined ? {} : { glassAbove: result.glassAbove }),
        };
      } finally {
        jobs.delete(jobId);
      }
    },

    async tiles(slideId, params, mask) {
      const state = slideState(slideId);
      const grid = computeCishTiles(state.source.metadata, mask ?? undefined, {
        tileUm: params.tileUm,
        overlapUm: params.overlapUm,
        minTissueFraction: params.minTissueFraction,
        mppOverride: params.mppOverride,
      });
      const train = params.trainRegion
        ? chooseTrainingTiles(grid, { polygon: params.trainRegion })
        : chooseTrainingTiles(grid, { sample: params.trainCount, seed: params.seed });
      if (params.trainRegion && train.length === 0) {
        throw new Error('the region drawn for training holds no kept tile: draw it over tissue, or take a random sample');
      }
      state.grid = grid;
      state.train = train;
      return {
        x: grid.x.slice(),
        y: grid.y.slice(),
        width: grid.width.slice(),
        height: grid.height.slice(),
        tissueFraction: grid.tissueFraction.slice(),
        kept: grid.kept.slice(),
        train: train.slice(),
        stride0: grid.stride * grid.downsample,
        tileSize0: grid.tileSize * grid.downsample,
        columns: grid.columns,
        rows: grid.rows,
        mpp: grid.mpp,
      };
    },

    async train(slideId, fingerprint, params: TrainParams, callbacks, jobId, resume) {
      await ready();
      const state = slideState(slideId);
      const grid = state.grid;
      if (!grid) throw new Error('compute the tiles first');
      const job = startJob(jobId);
      const modelId = newModelId();
      const history: number[] = resume ? resume.history.slice(0, resume.epochsDone) : [];
      const epochOffset = resume ? resume.epochsDone : 0;
      const remaining = params.epochs - epochOffset;
      if (remaining < 1) throw new RangeError(`the checkpoint already has ${epochOffset} of ${params.epochs} epochs`);
      const train = state.train ?? grid.kept;
      if (train.length === 0) throw new Error('no kept tiles to train on: lower the minimum tissue fraction');
      const metaFor = (epochs: number): CishModelMeta => ({
        tilescope: 'cish',
        modelId,
        fingerprint,
        latentDim: params.latentDim,
        inputSize: CISH_DEFAULTS.inputSize,
        preprocess: params.preprocess,
        epochs,
        history: history.slice(),
      });
      let models: CishModels | undefined;
      if (resume) {
        models = await loadCishAutoencoder(resume.checkpointUrl);
      }
      try {
        const { models: trained, result, restarts, stoppedByTimeLimit } = await trainCish(state.source, grid, train, {
          latentDim: params.latentDim,
          loss: params.loss,
          batchSize: params.batchSize,
          epochs: remaining,
          learningRate: params.learningRate,
          seed: params.seed + epochOffset,
          preprocess: params.preprocess,
          models,
          // The command line's stopping rule (CISH_RUN_DEFAULTS), so the panel's defaults train as `analyze` does.
          earlyStopping: params.patience
            ? { patience: params.patience, minRelativeDrop: CISH_RUN_DEFAULTS.minRelativeDrop, minTotalDrop: CISH_RUN_DEFAULTS.minTotalDrop }
            : undefined,
          timeLimitSeconds: params.maxMinutes ? params.maxMinutes * 60 : undefined,
          signal: job.controller.signal,
          control: job.control,
          peers: await peersFor(),
          onRestart: (attempt) => callbacks.onRestart(attempt),
          onProgress: (p) =>
            callbacks.onStep({
              epoch: p.epoch + epochOffset,
              step: p.step,
              stepsPerEpoch: p.stepsPerEpoch,
              loss: p.loss,
              etaSeconds: p.etaSeconds,
              epochs: params.epochs,
              epochOffset,
            }),
          onEpochEnd: async (summary, m) => {
            history.push(summary.loss);
            const url = checkpointUrl(fingerprint);
            let saved = '';
            try {
              m.autoencoder.setUserDefinedMetadata(metadataJson(metaFor(history.length)));
              await m.autoencoder.save(url);
              saved = url;
            } catch (error) {
              console.warn('checkpoint could not be saved', error);
            }
            callbacks.onEpoch({ epoch: summary.epoch + epochOffset, loss: summary.loss, seconds: summary.seconds, checkpointUrl: saved });
          },
        });
        models = trained;
        if (result.status === 'cancelled') {
          disposeModels(trained);
          throw abortError();
        }
        const meta = metaFor(history.length);
        const url = modelUrl(fingerprint, modelId);
        trained.autoencoder.setUserDefinedMetadata(metadataJson(meta));
        await trained.autoencoder.save(url);
        setModel(state, trained, meta);
        return { modelId, modelUrl: url, status: result.status, history: Float32Array.from(history), restarts, stoppedByTimeLimit };
      } catch (error) {
        if (models && state.model?.models !== models) disposeModels(models);
        throw error;
      } finally {
        jobs.delete(jobId);
      }
    },

    pause(jobId) {
      jobs.get(jobId)?.control.pause();
    },
    resume(jobId) {
      jobs.get(jobId)?.control.resume();
    },
    cancel(jobId) {
      const job = jobs.get(jobId);
      if (!job) return;
      job.controller.abort();
      job.control.resume();
    },

    async encode(slideId, onProgress, jobId, glassAbove) {
      await ready();
      const state = slideState(slideId);
      if (!state.grid) throw new Error('compute the tiles first');
      if (!state.model) throw new Error('train or load a model first');
      const job = startJob(jobId);
      const grid = state.grid;
      const { models, meta } = state.model;
      try {
        const total = grid.kept.length;
        const copies = await peersFor();
        const spec = tf.train.adam(); // any optimizer: the copies only encode
        await loadCishPeers(copies, models, spec).finally(() => spec.dispose());
        const preprocess = meta.preprocess;
        const latents = await encodeCishTiles(models.encoder, state.source, grid, grid.kept, {
          batchSize: 16,
          peers: copies,
          preprocess,
          signal: job.controller.signal,
          onProgress: (done) => onProgress(done, total),
        });
        if (job.controller.signal.aborted) throw abortError();
        const densities = await tileDensities(state.source, grid, grid.kept, glassAbove ?? preprocess.glassAbove, job.controller.signal);
        return { latents: unsquashCodes(latents), dim: meta.latentDim, densities };
      } finally {
        jobs.delete(jobId);
      }
    },

    async cluster(latents, dim, params, jobId) {
      const job = startJob(jobId);
      try {
        if (params.method === 'kmeans') {
          const result = await runStepsAsync(kmeansSteps(latents, dim, { k: params.k, seed: params.seed, nInit: params.nInit }), between(job));
          const memberships = new Float32Array(result.labels.length * params.k);
          result.labels.forEach((label, i) => (memberships[i * params.k + label] = 1));
          // One-hot memberships: the partition coefficient of a hard partition is 1.
          return { memberships, labels: result.labels, centres: result.centres, fpc: 1, iterations: result.iterations, converged: result.converged };
        }
        const result = await runStepsAsync(fcmSteps(latents, dim, { k: params.k, m: params.m, tol: params.tol, seed: params.seed, nInit: params.nInit }), between(job));
        return {
          memberships: Float32Array.from(result.u),
          labels: result.labels,
          centres: result.centres,
          fpc: result.fpc,
          iterations: result.iterations,
          converged: result.converged,
        };
      } finally {
        jobs.delete(jobId);
      }
    },

    async fpcSweep(latents, dim, params, kMin, kMax, jobId) {
      const range: number[] = [];
      for (let k = kMin; k <= kMax; k++) range.push(k);
      const job = startJob(jobId);
      try {
        const result = await runStepsAsync(fpcSweepSteps(latents, dim, { kRange: range, m: params.m, tol: params.tol, seed: params.seed, nInit: params.nInit }), between(job));
        return { k: result.k, fpc: result.fpc };
      } finally {
        jobs.delete(jobId);
      }
    },

    async trainNuclei(slideId, params, onStep, jobId) {
      await ready();
      const state = slideState(slideId);
      const job = startJob(jobId);
      try {
        const grid = computeNucleusPatches(state.source.metadata, await tissueOf(state, job.controller.signal));
        if (grid.kept.length === 0) throw new Error(`${state.source.metadata.name}: no 50 µm patch lies on tissue`);
        const train = sampleTiles(grid, params.trainPatches, params.seed);
        const { models, result } = await trainCspCae(state.source, grid, train, {
          preset: params.preset,
          epochs: params.epochs,
          batchSize: params.batchSize,
          learningRate: params.learningRate,
          seed: params.seed,
          signal: job.controller.signal,
          control: job.control,
          peers: await peersFor(),
          onProgress: (p) => onStep({ epoch: p.epoch, step: p.step, stepsPerEpoch: p.stepsPerEpoch, loss: p.loss, etaSeconds: p.etaSeconds }),
        });
        if (result.status === 'cancelled') {
          disposeCspCae(models);
          throw abortError();
        }
        if (state.nuclei) disposeNuclei(state.nuclei);
        state.nuclei = { models, maps: null, tuned: null };
        const history = result.history.map((h) => h.loss);
        // Kept in IndexedDB like the CISH models, so a trained detector survives a reload and can be exported.
        const meta: NucleiModelMeta = { tilescope: 'cspcae', fingerprint: params.fingerprint, modelId: newModelId(), preset: models.preset, history, patches: train.length };
        return { ...nucleiInfo(models, meta), url: await saveNucleiModel(models, meta) };
      } finally {
        jobs.delete(jobId);
      }
    },

    async detectNuclei(slideId, params, onProgress, jobId) {
      const state = slideState(slideId);
      if (!state.nuclei) throw new Error('train the nucleus model first');
      const job = startJob(jobId);
      try {
        const roi = params.roi ? ({ kind: 'rectangle', x: params.roi[0], y: params.roi[1], width: params.roi[2], height: params.roi[3] } as const) : undefined;
        const grid = computeNucleusPatches(state.source.metadata, await tissueOf(state, job.controller.signal), { roi });
        if (grid.kept.length === 0) throw new Error('no tissue patch lies in the region');
        const { models, tuned } = state.nuclei;
        const network = params.fineTuned && tuned ? fineTunedDetector(tuned, models) : models;
        // Issue 15: points sit on the nuclear stain (haematoxylin or DAPI, level from the data), never on glass.
        const signal = job.controller.signal;
        const stain = guessNuclearStain((await readOverview(state.source, 20, signal)).block, state.source.metadata.rgb);
        const level = await estimateStainLevel(state.source, grid, sampleTiles(grid, 64, 0), stain, { signal });
        state.nuclei.maps = await computeDetectionMaps(network, state.source, grid, grid.kept, { signal, onProgress, stain: { stain, level }, defaultDetector: network === models ? undefined : 'cae' });
        return detectionsOf(state.nuclei.maps, params);
      } finally {
        jobs.delete(jobId);
      }
    },

    async inspectNucleusPatch(slideId, x, y) {
      const state = slideState(slideId);
      if (!state.nuclei) throw new Error('train the nucleus model first');
      return inspectPatchAt(state.nuclei.models, state.source, x, y);
    },

    async fineTuneNuclei(slideId, points, params, onStep, jobId) {
      await ready();
      const state = slideState(slideId);
      const nuclei = state.nuclei;
      if (!nuclei) throw new Error('train the nucleus model first');
      const job = startJob(jobId);
      try {
        const grid = computeNucleusPatches(state.source.metadata, await tissueOf(state, job.controller.signal));
        const annotations = { x: points.x, y: points.y };
        const patches = annotatedTiles(grid, annotations);
        if (patches.length === 0) throw new Error('no tissue patch holds an annotated nucleus');
        const cnn = buildDetectionCnn(nuclei.models, { seed: params.seed });
        try {
          const result = await trainDetectionCnn(cnn, { source: state.source, grid, annotations, patches }, {
            headEpochs: params.headEpochs ?? FINETUNE_DEFAULTS.headEpochs,
            epochs: params.epochs ?? FINETUNE_DEFAULTS.epochs,
            seed: params.seed,
            signal: job.controller.signal,
            control: job.control,
            onProgress: (p) => onStep({ epoch: p.overallEpoch, epochs: p.overallEpochs, step: p.step, stepsPerEpoch: p.stepsPerEpoch, loss: p.loss, phase: p.phase }),
          });
          if (result.status === 'cancelled') throw abortError();
          if (nuclei.tuned) disposeDetectionCnn(nuclei.tuned);
          nuclei.tuned = cnn;
          return { patches: result.patches, points: result.points, loss: (result.all ?? result.head)?.history.at(-1)?.loss ?? NaN };
        } catch (error) {
          disposeDetectionCnn(cnn);
          throw error;
        }
      } finally {
        jobs.delete(jobId);
      }
    },

    async trainClassifier(slideId, request, onStep, jobId, onPlan) {
      const { backend: backendName } = await ready();
      const state = slideState(slideId);
      const job = startJob(jobId);
      try {
        const { examples } = request;
        const dataset =
          examples.kind === 'regions'
            ? datasetFromRects(state.source, examples.classes, examples.rects, examples.labels)
            : await datasetFromImageFiles(await expandZips(examples.files));
        const balance = classBalance(dataset);
        if (dataset.classes.length < 2) throw new Error(`a classifier needs at least 2 classes with examples, got ${dataset.classes.length}`);
        if (balance.counts.some((n) => n < MIN_EXAMPLES_TO_SPLIT)) {
          throw new Error(`each class needs at least ${MIN_EXAMPLES_TO_SPLIT} examples (for the train, validation and test splits): ${dataset.classes.map((c, k) => `${c} ${balance.counts[k]}`).join(', ')}`);
        }
        const plan = await planForDataset(dataset, {
          arch: request.arch,
          channels: CLASSIFIER_DEFAULTS[request.arch].channels,
          normalisation: request.normalisation,
          device: planDeviceOf(backendName),
          budgetSeconds: request.budgetSeconds,
          batchSize: request.batchSize,
          fixed: { inputSize: request.inputSize, width: request.width, epochs: request.epochs },
          seed: request.seed,
        });
        if (job.controller.signal.aborted) throw abortError();
        const chosen = plannedChoices(request, plan);
        onPlan?.({ ...chosen, estimatedSeconds: plan.estimatedSeconds, timeCapSeconds: plan.timeCapSeconds, summary: plan.summary, warnings: plan.warnings });
        const spec = classifierSpec({
          arch: request.arch,
          classes: dataset.classes,
          inputSize: chosen.inputSize,
          channels: CLASSIFIER_DEFAULTS[request.arch].channels,
          width: chosen.width,
          normalisation: request.normalisation,
        });
        const { trained, test, split, predicted, testIndices } = await trainAndTest(dataset, spec, {
          epochs: chosen.epochs,
          batchSize: chosen.batchSize,
          patience: chosen.patience > 0 ? chosen.patience : undefined,
          learningRate: chosen.learningRate,
          augmentation: request.augment ? undefined : false,
          seed: request.seed,
          timeCapSeconds: plan.timeCapSeconds,
          signal: job.controller.signal,
          onProgress: (p) => onStep({ epoch: p.epoch, epochs: chosen.epochs, step: p.step, stepsPerEpoch: p.stepsPerEpoch, loss: p.loss, valLoss: p.valLoss, etaSeconds: p.etaSeconds }),
        }).finally(() => {
          if (examples.kind === 'images') for (const source of dataset.sources) source.close();
        });
        if (trained.result.status === 'cancelled') {
          trained.model.dispose();
          throw abortError();
        }
        state.classifier?.model.dispose();
        state.classifier = trained;
        const modelId = newModelId();
        const url = await saveClassifier(trained, request.fingerprint, modelId);
        const { report, roc } = test;
        const curve = (c: { fpr: Float64Array; tpr: Float64Array; auc: number }) => ({ fpr: c.fpr, tpr: c.tpr, auc: c.auc });
        return {
          ...classifierInfo(trained, url, modelId),
          split,
          metrics: {
            accuracy: report.accuracy,
            precision: Float64Array.from(report.perClass, (c) => c.precision),
            recall: Float64Array.from(report.perClass, (c) => c.recall),
            f1: Float64Array.from(report.perClass, (c) => c.f1),
            support: Int32Array.from(report.perClass, (c) => c.support),
            confusion: report.confusion.matrix,
            perClassRoc: roc.perClass.map(curve),
            microRoc: curve(roc.micro),
            macroAuc: roc.macroAuc,
            checks: classifierSelfChecks({ history: trained.result.history, predicted, actual: Array.from(testIndices, (i) => dataset.examples[i].label), classes: dataset.classes, stoppedByTimeCap: trained.stoppedByTimeCap ?? false, timeCapMinutes: plan.timeCapSeconds / 60 }),
          },
        };
      } finally {
        jobs.delete(jobId);
      }
    },

    async useClassifier(slideId, url) {
      await ready();
      const state = slideState(slideId);
      const model = await tfl.loadLayersModel(url);
      let trained: TrainedClassifier;
      try {
        trained = trainedClassifierFromModel(model);
      } catch (error) {
        model.dispose();
        throw new Error(`${url}: ${errorText(error)}`);
      }
      state.classifier?.model.dispose();
      state.classifier = trained;
      return { ...classifierInfo(trained, url, parseStoredModelUrl(url)?.modelId ?? 'imported'), split: { train: 0, validation: 0, test: 0 }, metrics: null };
    },

    async classify(classifierSlideId, slideId, rects, onProgress, jobId) {
      await ready();
      const trained = slideState(classifierSlideId).classifier;
      if (!trained) throw new Error('train a classifier first');
      const job = startJob(jobId);
      try {
        return await classifyRects(trained, slideState(slideId).source, rects, { signal: job.controller.signal, onProgress });
      } finally {
        jobs.delete(jobId);
      }
    },

    async useNucleiModel(slideId, url) {
      await ready();
      const state = slideState(slideId);
      const autoencoder = await tfl.loadLayersModel(url);
      let saved: ReturnType<typeof cspCaeFromSaved>;
      try {
        saved = cspCaeFromSaved(autoencoder, idsOf(url));
      } catch (error) {
        autoencoder.dispose();
        throw new Error(`${url}: ${errorText(error)}`);
      }
      const { models, meta } = saved;
      if (state.nuclei) disposeNuclei(state.nuclei);
      state.nuclei = { models, maps: null, tuned: null };
      return { ...nucleiInfo(models, meta), url };
    },

    async redetectNuclei(slideId, params) {
      const maps = slideState(slideId).nuclei?.maps;
      if (!maps) throw new Error('detect nuclei first');
      return detectionsOf(maps, params);
    },

    async project(latents, dim, params, onProgress, jobId) {
      const job = startJob(jobId);
      try {
        return await umapProjection(latents, dim, {
          seed: params.seed,
          nNeighbors: params.nNeighbors,
          minDist: params.minDist,
          onProgress,
          checkCancelled: () => {
            if (job.controller.signal.aborted) throw abortError();
          },
          yieldBetweenSlices: yieldToEventLoop,
        });
      } finally {
        jobs.delete(jobId);
      }
    },

    async listModels(kind) {
      await ready();
      return listStoredModels(kind);
    },

    async useModel(slideId, url) {
      await ready();
      const state = slideState(slideId);
      const models = await loadCishAutoencoder(url);
      const meta = cishMetaOf(models.autoencoder.getUserDefinedMetadata(), models, idsOf(url));
      setModel(state, models, meta);
      return meta;
    },

    async deleteModel(url) {
      await ready();
      await tf.io.removeModel(url);
    },

    async exportModel(url) {
      await ready();
      const parsed = parseStoredModelUrl(url);
      const model = await tfl.loadLayersModel(url);
      try {
        return await modelToFiles(model, `tilescope-${parsed?.kind ?? 'model'}-${parsed?.modelId ?? 'model'}`);
      } finally {
        model.dispose();
      }
    },

    async importModel(files, names) {
      await ready();
      const { handler, metadata } = await modelFromFiles(files, names);
      const model = await tfl.loadLayersModel(handler);
      try {
        // Models without a kind are CISH autoencoders (app exports from before kinds were recorded) or CAEs the command line saved before it wrote metadata.
        const kind: ModelKind = modelKindOf(metadata) ?? (isCspCae(model) ? 'cspcae' : 'cish');
        const meta = importedMeta(kind, model);
        const { fingerprint, modelId } = meta;
        const url = storedModelUrl(kind, fingerprint, modelId);
        model.setUserDefinedMetadata(metadataJson(meta));
        const info = await model.save(url);
        return {
          url,
          kind,
          modelId,
          fingerprint,
          dateSaved: new Date().toISOString(),
          bytes: (info.modelArtifactsInfo.modelTopologyBytes ?? 0) + (info.modelArtifactsInfo.weightDataBytes ?? 0),
          checkpoint: false,
        };
      } finally {
        model.dispose();
      }
    },
  };
  return api;
}

/**
 * A model's metadata as the app keeps it, whoever saved it (the app or the
 * command line, of any version); throws, with the reason, when the model is
 * not the kind it says.
 */
function importedMeta(kind: ModelKind, model: LayersModel): { fingerprint: string; modelId: string } {
  const ids = { modelId: newModelId(), fingerprint: 'imported' };
  if (kind === 'cish') {
    return cishMetaOf(model.getUserDefinedMetadata(), splitCishAutoencoder(model), ids);
  }
  if (kind === 'cspcae') return cspCaeFromSaved(model, ids).meta;
  const raw = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  trainedClassifierFromModel(model); // checks the spec against the layers
  return { ...raw, fingerprint: savedId(raw.fingerprint, ids.fingerprint), modelId: savedId(raw.modelId, ids.modelId) };
}

function detectionsOf(maps: DetectionMaps, params: NucleiPointParams): NucleiDetections {
  const found = nucleiFromMaps(maps, params);
  const checks = nucleiSelfChecks({ losses: [], count: found.x.length, stainEstimate: found.stainEstimate, stoppedByTimeCap: false, timeCapSeconds: 0, stain: maps.stain?.stain });
  return { x: found.x, y: found.y, score: found.score, features: found.features, featureDim: found.featureDim, patchRects: maps.rects, perPatch: found.perPatch, checks };
}

function nucleiInfo(models: CspCaeModels, meta: NucleiModelMeta): Omit<NucleiModelInfo, 'url'> {
  return {
    modelId: meta.modelId,
    preset: models.preset,
    parameters: models.autoencoder.countParams(),
    threshold: models.threshold.thresholdValue,
    history: Float32Array.from(meta.history ?? []),
    patches: meta.patches ?? 0,
  };
}

/** Saves to IndexedDB; null (with a warning) where there is none, as in Node. */
async function saveNucleiModel(models: CspCaeModels, meta: NucleiModelMeta): Promise<string | null> {
  const url = storedModelUrl('cspcae', meta.fingerprint, meta.modelId);
  try {
    models.autoencoder.setUserDefinedMetadata(meta as unknown as object);
    await models.autoencoder.save(url);
    return url;
  } catch (error) {
    console.warn('the nucleus model could not be saved', error);
    return null;
  }
}

function disposeNuclei(nuclei: NonNullable<SlideState['nuclei']>): void {
  if (nuclei.tuned) disposeDetectionCnn(nuclei.tuned);
  disposeCspCae(nuclei.models);
}

/** Saves a classifier with what it needs to run again (classes, input, DEC clusters); null where there is no IndexedDB. */
async function saveClassifier(trained: TrainedClassifier, fingerprint: string, modelId: string): Promise<string | null> {
  const url = storedModelUrl(trained.spec.arch, fingerprint, modelId);
  try {
    // tfjs-layers refuses metadata with undefined values: classifierMetadata leaves them out.
    trained.model.setUserDefinedMetadata(classifierMetadata(trained, fingerprint, modelId) as unknown as object);
    await trained.model.save(url);
    return url;
  } catch (error) {
    console.warn('the classifier could not be saved', error);
    return null;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the panel shows of a classifier, from the classifier itself (its training history is empty when loaded from storage). */
function classifierInfo(trained: TrainedClassifier, url: string | null, modelId: string): Omit<ClassifierInfo, 'split' | 'metrics'> {
  const { spec, result } = trained;
  return {
    arch: spec.arch,
    classes: spec.classes,
    parameters: trained.model.countParams(),
    inputSize: spec.inputSize,
    channels: spec.channels,
    width: spec.width,
    loss: Float32Array.from(result.history, (h) => h.loss),
    valLoss: Float32Array.from(result.history, (h) => h.valLoss ?? NaN),
    epochsRun: result.epochsRun,
    stoppedEarly: result.status === 'early-stopped',
    url,
    modelId,
  };
}
