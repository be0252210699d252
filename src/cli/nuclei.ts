/**
 * `nuclei`: unsupervised nucleus detection with the crosswise-sparse CAE of
 * seed 001 (SPEC §2) on one slide or a region of it, headless: tissue mask →
 * 100 px patches at 0.5 µm/px → CAE training (or a saved model) → detection
 * → DIR/nuclei.csv (x, y, score, features…), DIR/nuclei.geojson,
 * DIR/model/ and DIR/summary.json; with --truth, precision, recall and F1
 * by the paper's 6-px rule. With --finetune, the detection CNN of the
 * paper's section 5.3 is fine-tuned from point annotations on top of the
 * CAE and detects instead (DIR/model-finetuned/; F1 before and after).
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { computeCishMask } from '../models/cish/pipeline';
import { CSP_CAE_PRESETS, disposeCspCae, type CspCaeModels, type CspCaePreset } from '../models/nuclei/model';
import {
  DETECTION_DEFAULTS,
  NUCLEI_DEFAULTS,
  SETTLE_DEFAULTS,
  calibrateThreshold,
  computeNucleusPatches,
  detectNuclei,
  estimateStainLevel,
  guessNuclearStain,
  nucleusMaskDownscale,
  trainCspCae,
  type DetectedNuclei,
  type NucleusNetwork,
  type NucleusPointSource,
  type SettleReport,
} from '../models/nuclei/pipeline';
import { checksVerdict, nucleiSelfChecks } from '../models/nuclei/checks';
import { describeChecks, type SelfCheck } from '../analysis/self-checks';
import type { NuclearStain } from '../models/nuclei/stain-detect';
import { FINETUNE_DEFAULTS, annotatedTiles, buildDetectionCnn, disposeDetectionCnn, fineTunedDetector, trainDetectionCnn, type DetectionCnn } from '../models/nuclei/finetune';
import { SparsityThreshold } from '../models/nuclei/threshold-layer';
import { matchDetections } from '../analysis/detection-metrics';
import { parsePointAnnotations } from '../analysis/point-annotations';
import { sampleTiles } from '../tiling/tile-grid';
import { CliError, OptionReader, UsageError, describeFsError, messageOf, parseCommandArgs, atPath, writeOutput } from './args';
import { ProgressReporter } from './progress';
import { fileSystemLoadHandler, fileSystemSaveHandler } from './model-io';
import { openSlideFile, slideFileFingerprint } from './slide-file';
import { cspCaeFromSaved, type NucleiModelMeta } from '../models/nuclei/metadata';
import { metadataJson, newModelId } from '../engine/model-store';
import { readOverview } from '../slide/overview';
import { printChecks, type CliIO } from './io';
import type { SlideSource } from '../slide/types';

export const NUCLEI_USAGE = `Usage: tilescope nuclei --slide FILE --out DIR [options]

Finds nuclei without labels: trains the crosswise-sparse CAE (seed 001) on
patches of the slide until its loss and threshold t settle, or up to the time
cap (or loads --model), then detects nuclei in every patch of the region that
touches tissue. By default the points are the centres of the nuclear stain
(haematoxylin, or the bright channel of a fluorescence slide, thresholded from
the data); the CAE describes each nucleus (its features X′). --detector cae
places the points with the CAE's map alone, as the seed does. Writes
DIR/nuclei.csv (x, y in level-0 pixels, score, the nucleus's features, then
the run's self-check verdict), DIR/nuclei.geojson (QuPath points),
DIR/model/ and DIR/summary.json (with "checks"). Progress and self-check
warnings go to stderr.

Options:
  --slide FILE          slide or image (required)
  --out DIR             output folder, created if missing (required)
  --roi X,Y,W,H         level-0 rectangle to work in (default: the whole slide)
  --preset NAME         ${Object.keys(CSP_CAE_PRESETS).join(', ')} (default ${NUCLEI_DEFAULTS.preset})
  --model DIR           use this saved model (its model.json) instead of training
  --epochs N            most training epochs (default ${SETTLE_DEFAULTS.maxEpochs}); training stops earlier once the
                        loss and t change by under ${SETTLE_DEFAULTS.lossTolerance * 100} % and ${SETTLE_DEFAULTS.thresholdTolerance * 100} % between epochs
  --time-cap S          stop training after S seconds (default ${SETTLE_DEFAULTS.timeCapSeconds}); a warning says so
  --train-patches N     patches drawn at random for training (default ${SETTLE_DEFAULTS.trainPatches})
  --detector NAME       stain (default ${DETECTION_DEFAULTS.detector}): points at the nuclear stain's centres;
                        combined: the same weighted by the CAE's map; cae: the CAE's map alone (seed)
                        (with --finetune the fine-tuned CNN's map places the points, gated by the stain)
  --batch N             training batch size (default ${NUCLEI_DEFAULTS.batchSize})
  --lr RATE             SGD learning rate (default ${NUCLEI_DEFAULTS.learningRate}; momentum ${NUCLEI_DEFAULTS.momentum})
  --threshold T         --detector cae: threshold on the blurred map, 0–1 (default ${DETECTION_DEFAULTS.threshold})
  --min-distance PX     minimum distance between nuclei in px at 0.5 µm/px (default ${DETECTION_DEFAULTS.minDistance})
  --sigma PX            Gaussian sigma on the map in px (default ${DETECTION_DEFAULTS.sigma})
  --truth FILE          point annotations (CSV x,y or GeoJSON, level-0 px): report P, R, F1 (6-px rule)
  --finetune FILE       point annotations (CSV x,y or GeoJSON, level-0 px) to fine-tune the detection
                        CNN on, after the CAE: trains on the tissue patches holding a point (every
                        nucleus in those patches must be annotated), detects with it, saves it to
                        DIR/model-finetuned/; with --truth, summary.json has F1 before and after
  --finetune-epochs N   fine-tuning epochs of the whole network (default ${FINETUNE_DEFAULTS.epochs}),
                        after ${FINETUNE_DEFAULTS.headEpochs} of the added layers alone (--finetune-head-epochs)
  --mpp N               µm per level-0 pixel, when the file lacks it or is wrong
  --min-tissue F        keep patches with at least this tissue share (default 0.5)
  --seed S              seed for weights and patch sampling (default 0)
  --backend NAME        wasm (default) or cpu
  --quiet               no progress lines
  -h, --help            show this help`;

const OPTIONS = {
  slide: { type: 'string' },
  out: { type: 'string' },
  roi: { type: 'string' },
  preset: { type: 'string' },
  model: { type: 'string' },
  epochs: { type: 'string' },
  'time-cap': { type: 'string' },
  detector: { type: 'string' },
  'train-patches': { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  threshold: { type: 'string' },
  'min-distance': { type: 'string' },
  sigma: { type: 'string' },
  truth: { type: 'string' },
  finetune: { type: 'string' },
  'finetune-epochs': { type: 'string' },
  'finetune-head-epochs': { type: 'string' },
  mpp: { type: 'string' },
  'min-tissue': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface NucleiSettings {
  slide: string;
  out: string;
  roi?: [number, number, number, number];
  preset: CspCaePreset;
  model?: string;
  epochs: number;
  timeCap: number;
  detector: NucleusPointSource;
  trainPatches: number;
  batch: number;
  learningRate: number;
  threshold: number;
  minDistance: number;
  sigma: number;
  truth?: string;
  finetune?: string;
  finetuneEpochs: number;
  finetuneHeadEpochs: number;
  mpp?: number;
  minTissue: number;
  seed: number;
  backend: 'wasm' | 'cpu';
  quiet: boolean;
}

export function parseNucleiArgs(argv: string[]): NucleiSettings | 'help' {
  const { values } = parseCommandArgs(argv, OPTIONS, NUCLEI_USAGE);
  const o = new OptionReader(values, NUCLEI_USAGE);
  if (o.flag('help')) return 'help';
  let roi: NucleiSettings['roi'];
  const roiText = o.string('roi');
  if (roiText !== undefined) {
    const parts = roiText.split(',').map((v) => Number(v.trim()));
    if (parts.length !== 4 || parts.some((v) => !Number.isFinite(v)) || !(parts[2] > 0 && parts[3] > 0)) {
      throw new UsageError(`--roi must be X,Y,W,H with W, H > 0, got '${roiText}'`, NUCLEI_USAGE);
    }
    roi = parts as [number, number, number, number];
  }
  return {
    slide: o.required('slide'),
    out: o.required('out'),
    roi,
    preset: o.choice('preset', Object.keys(CSP_CAE_PRESETS) as CspCaePreset[], NUCLEI_DEFAULTS.preset),
    model: o.string('model'),
    epochs: o.number('epochs', SETTLE_DEFAULTS.maxEpochs, { min: 1, integer: true }),
    timeCap: o.number('time-cap', SETTLE_DEFAULTS.timeCapSeconds, { min: 0, exclusiveMin: true }),
    detector: o.choice('detector', ['stain', 'combined', 'cae'] as const, DETECTION_DEFAULTS.detector),
    trainPatches: o.number('train-patches', SETTLE_DEFAULTS.trainPatches, { min: 1, integer: true }),
    batch: o.number('batch', NUCLEI_DEFAULTS.batchSize, { min: 1, integer: true }),
    learningRate: o.number('lr', NUCLEI_DEFAULTS.learningRate, { min: 0, exclusiveMin: true }),
    threshold: o.number('threshold', DETECTION_DEFAULTS.threshold, { min: 0, max: 1 }),
    minDistance: o.number('min-distance', DETECTION_DEFAULTS.minDistance, { min: 0, integer: true }),
    sigma: o.number('sigma', DETECTION_DEFAULTS.sigma, { min: 0 }),
    truth: o.string('truth'),
    finetune: o.string('finetune'),
    finetuneEpochs: o.number('finetune-epochs', FINETUNE_DEFAULTS.epochs, { min: 0, integer: true }),
    finetuneHeadEpochs: o.number('finetune-head-epochs', FINETUNE_DEFAULTS.headEpochs, { min: 0, integer: true }),
    mpp: o.optionalNumber('mpp', { min: 0, exclusiveMin: true }),
    minTissue: o.number('min-tissue', 0.5, { min: 0, max: 1 }),
    seed: o.number('seed', 0, { integer: true }),
    backend: o.choice('backend', ['wasm', 'cpu'] as const, 'wasm'),
    quiet: o.flag('quiet'),
  };
}


function formatSeconds(seconds: number): string {
  return seconds >= 90 ? `${(seconds / 60).toFixed(seconds % 60 === 0 ? 0 : 1)} min` : `${Math.round(seconds)} s`;
}

async function loadCspCae(dir: string): Promise<CspCaeModels> {
  // The layer class must be registered before loading (importing threshold-layer does it).
  void SparsityThreshold;
  const autoencoder = await tfl.loadLayersModel(fileSystemLoadHandler(path.join(dir, 'model.json')));
  try {
    return cspCaeFromSaved(autoencoder, { modelId: newModelId(), fingerprint: 'imported' }).models;
  } catch (error) {
    autoencoder.dispose();
    throw error;
  }
}

export interface RunNucleiOptions {
  /**
   * An already open slide to use instead of opening --slide (the evaluation
   * suite passes generated fields this way; --slide then only names it).
   */
  source?: SlideSource;
}

export async function runNuclei(argv: string[], io: CliIO, options: RunNucleiOptions = {}): Promise<number> {
  const parsed = parseNucleiArgs(argv);
  if (parsed === 'help') {
    io.stdout(NUCLEI_USAGE + '\n');
    return 0;
  }
  const s = parsed;
  const progress = new ProgressReporter(io.stderr, { quiet: s.quiet });
  await atPath(s.out, () => mkdir(s.out, { recursive: true }));
  const readPoints = (file: string | undefined) =>
    file === undefined
      ? undefined
      : readFile(file, 'utf8').then(
          (text) => parsePointAnnotations(text, { source: file }),
          (err) => {
            throw new CliError(file, describeFsError(err));
          },
        );
  const truth = await readPoints(s.truth);
  const finetune = await readPoints(s.finetune);
  if (finetune && s.finetuneEpochs + s.finetuneHeadEpochs === 0) throw new UsageError('--finetune needs --finetune-epochs or --finetune-head-epochs above 0', NUCLEI_USAGE);

  const { initNodeBackend } = await import('../engine/wasm-node');
  const backend = await initNodeBackend(s.backend);
  progress.begin('open');
  const source = options.source ?? (await openSlideFile(s.slide));
  // A slide passed in open (the evaluation's generated fields) has no file to fingerprint.
  const fingerprint = options.source ? 'generated' : await slideFileFingerprint(s.slide);
  const meta = source.metadata;
  progress.end(`${meta.format} ${meta.width} × ${meta.height} px, ${meta.mppX ?? '?'} µm/px`);
  const fail = (err: unknown): never => {
    if (err instanceof CliError) throw err;
    throw new CliError(s.slide, messageOf(err));
  };

  let models: CspCaeModels | undefined;
  let cnn: DetectionCnn | undefined;
  try {
    if (s.mpp === undefined && meta.mppX === undefined) throw new CliError(s.slide, 'the file does not state its µm per pixel; pass --mpp');
    // Bright nuclei on a dark background are fluorescence: the nuclear dye (DAPI)
    // is the bright channel and tissue is brighter than the background; in
    // brightfield tissue is darker than glass. The tissue mask is told which.
    const overview = await readOverview(source, 20).catch(fail);
    const stain: NuclearStain = guessNuclearStain(overview.block, meta.rgb);
    progress.begin('mask');
    const mask = await computeCishMask(source, { polarity: stain === 'fluorescence' ? 'bright' : 'dark', downscale: nucleusMaskDownscale(meta.width, meta.height) }).catch(fail);
    progress.end(`threshold ${mask.threshold.toFixed(2)}`);

    progress.begin('patches');
    const roi = s.roi ? ({ kind: 'rectangle', x: s.roi[0], y: s.roi[1], width: s.roi[2], height: s.roi[3] } as const) : undefined;
    const grid = (() => {
      try {
        return computeNucleusPatches(meta, mask.mask, { roi, mppOverride: s.mpp, minTissueFraction: s.minTissue });
      } catch (err) {
        return fail(err);
      }
    })();
    progress.end(`${grid.kept.length} patches of ${grid.tileSize} px at level ${grid.level}`);
    if (grid.kept.length === 0) throw new CliError(s.slide, 'no patch lies on tissue in the region (try --min-tissue lower)');
    // Detection covers every patch of the region where that is affordable
    // (≤ 20 000 patches, 50 mm² at 0.5 µm/px): the seed-000 tissue mask, made
    // for whole slides, left out a quarter to a third of the tissue of small
    // generated fields (eval variants nuc-02, nuc-03, nuc-15: 530 of 706,
    // 221 of 309, 76 of 95 nuclei in its patches), and nuclei at the
    // tissue's edge sit in patches that are mostly glass. Points still never
    // land on glass: they must lie on the nuclear stain, and patches without
    // any skip the network. Larger regions use the patches touching the mask.
    const detectGrid = (() => {
      try {
        const all = computeNucleusPatches(meta, undefined, { roi, mppOverride: s.mpp, minTissueFraction: 0 });
        return all.kept.length <= 20_000 ? all : computeNucleusPatches(meta, mask.mask, { roi, mppOverride: s.mpp, minTissueFraction: Math.min(s.minTissue, 0.01) });
      } catch (err) {
        return fail(err);
      }
    })();

    progress.begin('stain', stain);
    const stainLevelValue = await estimateStainLevel(source, grid, sampleTiles(grid, 64, s.seed), stain).catch(fail);
    progress.end(`${stain} level ${stainLevelValue.toFixed(3)} (Otsu)`);
    let settle: SettleReport | undefined;

    if (s.model) {
      progress.begin('model', s.model);
      models = await loadCspCae(s.model).catch((err) => {
        throw new CliError(s.model!, messageOf(err));
      });
      progress.end(`${models.preset} preset, t = ${models.threshold.thresholdValue.toFixed(3)}`);
    } else {
      const train = sampleTiles(grid, s.trainPatches, s.seed);
      // Said before training starts, so the user knows the longest wait.
      io.stderr(`training until the loss and t settle: at most ${s.epochs} epochs or ${formatSeconds(s.timeCap)} (time cap, --time-cap)\n`);
      progress.begin('train', `${train.length} patches, up to ${s.epochs} epochs, batch ${s.batch}, ${s.preset} preset, ${backend}`);
      const trained = await trainCspCae(source, grid, train, {
        preset: s.preset,
        epochs: s.epochs,
        batchSize: s.batch,
        learningRate: s.learningRate,
        seed: s.seed,
        untilSettled: { timeCapSeconds: s.timeCap },
        onProgress: (p) => {
          const steps = p.stepsPerEpoch ?? 1;
          progress.update(p.epoch * steps + p.step, s.epochs * steps, `epoch ${p.epoch + 1} (≤ ${s.epochs}) loss ${p.loss.toPrecision(4)}`, p.etaSeconds);
        },
      }).catch(fail);
      models = trained.models;
      settle = trained.settle;
      const trainedT = models.threshold.thresholdValue;
      const calibrated = await calibrateThreshold(models, source, grid, train).catch(fail);
      progress.end(
        `RMSE ${trained.result.history.at(-1)?.loss.toPrecision(4)} after ${settle?.losses.length ?? 0} epochs (${settle?.stopped ?? 'completed'}), t = ${trainedT.toFixed(3)} → ${calibrated.after.toFixed(3)} on inference D′`,
      );
      const modelDir = path.join(s.out, 'model');
      const { autoencoder } = trained.models;
      // The app's format (models/nuclei/metadata.ts): the model imports into the app.
      const modelMeta: NucleiModelMeta = {
        tilescope: 'cspcae',
        fingerprint,
        modelId: newModelId(),
        preset: trained.models.preset,
        history: trained.result.history.map((h) => h.loss),
        patches: train.length,
      };
      autoencoder.setUserDefinedMetadata(metadataJson(modelMeta));
      await atPath(modelDir, () => autoencoder.save(fileSystemSaveHandler(modelDir)));
    }

    // The fine-tuned CNN learned the user's annotations: its map places the points (gated by the stain).
    const detect = (label: string, network: NucleusNetwork, detector: NucleusPointSource = s.detector) => {
      progress.begin(label, `${detectGrid.kept.length} patches`);
      return detectNuclei(network, source, detectGrid, detectGrid.kept, {
        threshold: s.threshold,
        minDistance: s.minDistance,
        sigma: s.sigma,
        detector,
        stain: { stain, level: stainLevelValue },
        onProgress: (done, total) => progress.update(done, total, `${done}/${total} patches`),
      }).then((nuclei) => {
        progress.end(`${nuclei.x.length} nuclei`);
        return nuclei;
      }, fail);
    };
    const evaluate = (nuclei: DetectedNuclei) => {
      if (!truth) return undefined;
      const m = matchDetections(nuclei.x, nuclei.y, truth.x, truth.y, 6);
      return { truth: truth.x.length, truePositives: m.truePositives, falsePositives: m.falsePositives, falseNegatives: m.falseNegatives, precision: m.precision, recall: m.recall, f1: m.f1 };
    };
    const describe = (e: NonNullable<ReturnType<typeof evaluate>>) => `precision ${e.precision.toFixed(3)}, recall ${e.recall.toFixed(3)}, F1 ${e.f1.toFixed(3)}`;

    let fineTuning: Record<string, unknown> | undefined;
    let found: DetectedNuclei;
    if (finetune) {
      // The unsupervised CAE's detections are only needed for the comparison.
      const before = truth ? evaluate(await detect('detect-unsupervised', models)) : undefined;
      if (before) io.stderr(`evaluation before fine-tuning (6-px rule): ${describe(before)}\n`);
      const patches = annotatedTiles(grid, finetune);
      if (patches.length === 0) throw new CliError(s.finetune!, 'no tissue patch of the region holds an annotated point');
      const epochs = s.finetuneHeadEpochs + s.finetuneEpochs;
      progress.begin('finetune', `${patches.length} patches, ${s.finetuneHeadEpochs} + ${s.finetuneEpochs} epochs`);
      const unsupervised = models;
      cnn = buildDetectionCnn(unsupervised, { seed: s.seed });
      const tuned = cnn;
      const result = await trainDetectionCnn(tuned, { source, grid, annotations: finetune, patches }, {
        headEpochs: s.finetuneHeadEpochs,
        epochs: s.finetuneEpochs,
        seed: s.seed,
        onProgress: (p) => {
          const steps = p.stepsPerEpoch ?? 1;
          progress.update(p.overallEpoch * steps + p.step, epochs * steps, `epoch ${p.overallEpoch + 1}/${epochs} (${p.phase === 'head' ? 'added layers' : 'all layers'}) loss ${p.loss.toPrecision(4)}`, p.etaSeconds);
        },
      }).catch(fail);
      const loss = (result.all ?? result.head)?.history.at(-1)?.loss;
      progress.end(`${result.points} annotated nuclei, loss ${loss?.toPrecision(4)}`);
      const tunedDir = path.join(s.out, 'model-finetuned');
      await atPath(tunedDir, () => tuned.model.save(fileSystemSaveHandler(tunedDir)));
      // Points from the fine-tuned map; features stay the CAE's X′.
      found = await detect('detect', fineTunedDetector(tuned, unsupervised), 'cae');
      const after = evaluate(found);
      fineTuning = {
        annotations: s.finetune,
        patches: result.patches,
        annotatedNuclei: result.points,
        loss,
        model: 'model-finetuned',
        f1Before: before?.f1,
        f1After: after?.f1,
        evaluationBefore: before,
      };
    } else {
      found = await detect('detect', models);
    }
    const checks: SelfCheck[] = nucleiSelfChecks({
      losses: settle?.losses ?? [],
      count: found.x.length,
      stainEstimate: found.stainEstimate,
      stoppedByTimeCap: settle?.stopped === 'time-cap',
      timeCapSeconds: s.timeCap,
      stain,
      detector: finetune ? 'cae' : s.detector,
    });
    printChecks(io.stderr, checks);
    const verdict = checksVerdict(checks);
    // Every row carries the run's verdict, so a table read on its own still says when a check failed.
    const header = ['x', 'y', 'score', ...Array.from({ length: found.featureDim }, (_, k) => `f${k}`), 'checks'].join(',');
    const rows = [header];
    for (let i = 0; i < found.x.length; i++) {
      const features = Array.from(found.features.subarray(i * found.featureDim, (i + 1) * found.featureDim), (v) => v.toPrecision(5));
      rows.push([found.x[i].toFixed(1), found.y[i].toFixed(1), found.score[i].toPrecision(4), ...features, verdict].join(','));
    }
    await writeOutput(path.join(s.out, 'nuclei.csv'), rows.join('\n') + '\n');
    const geojson = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          geometry: { type: 'MultiPoint', coordinates: Array.from(found.x, (x, i) => [x, found.y[i]]) },
          properties: {
            objectType: 'annotation',
            name: verdict === 'ok' ? 'Nuclei' : `Nuclei (self-check ${verdict})`,
            classification: { name: 'Nucleus', color: [0, 90, 200] },
            measurements: { count: found.x.length },
            checks: verdict,
            checkMessages: describeChecks(checks),
          },
        },
      ],
    };
    await writeOutput(path.join(s.out, 'nuclei.geojson'), JSON.stringify(geojson));
    const evaluation = evaluate(found);
    if (evaluation) io.stderr(`evaluation (6-px rule): ${describe(evaluation)}\n`);
    const summary = {
      slide: s.slide,
      backend,
      settings: { ...s, out: undefined, quiet: undefined },
      patches: { kept: grid.kept.length, sizePx: grid.tileSize, readLevel: grid.level },
      model: { preset: models.preset, parameters: models.autoencoder.countParams(), threshold: models.threshold.thresholdValue },
      nuclei: found.x.length,
      stain: { kind: stain, level: stainLevelValue, estimate: found.stainEstimate, detector: finetune ? 'fine-tuned CNN (cae)' : s.detector },
      training: settle ? { epochs: settle.losses.length, stopped: settle.stopped, seconds: settle.seconds, timeCapSeconds: settle.timeCapSeconds, losses: settle.losses, thresholds: settle.thresholds } : undefined,
      checks,
      evaluation,
      finetune: fineTuning,
      timings: progress.timings,
    };
    await writeOutput(path.join(s.out, 'summary.json'), JSON.stringify(summary, null, 2));
    io.stdout(`${found.x.length} nuclei → ${s.out}\n`);
    return 0;
  } finally {
    if (cnn) disposeDetectionCnn(cnn);
    if (models) disposeCspCae(models);
  }
}
