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
import { DETECTION_DEFAULTS, NUCLEI_DEFAULTS, computeNucleusPatches, detectNuclei, trainCspCae, type DetectedNuclei, type NucleusNetwork } from '../models/nuclei/pipeline';
import { FINETUNE_DEFAULTS, annotatedTiles, buildDetectionCnn, disposeDetectionCnn, fineTunedDetector, trainDetectionCnn, type DetectionCnn } from '../models/nuclei/finetune';
import { SparsityThreshold } from '../models/nuclei/threshold-layer';
import { matchDetections } from '../analysis/detection-metrics';
import { parsePointAnnotations } from '../analysis/point-annotations';
import { sampleTiles } from '../tiling/tile-grid';
import { CliError, OptionReader, UsageError, describeFsError, messageOf, parseCommandArgs, atPath, writeOutput } from './args';
import { ProgressReporter } from './progress';
import { fileSystemLoadHandler, fileSystemSaveHandler } from './model-io';
import { openSlideFile } from './slide-file';
import type { CliIO } from './io';

export const NUCLEI_USAGE = `Usage: tilescope nuclei --slide FILE --out DIR [options]

Finds nuclei without labels (crosswise-sparse CAE, seed 001): trains the CAE
on patches of the slide (or loads --model), then detects nuclei in every
tissue patch of the region. Writes DIR/nuclei.csv (x, y in level-0 pixels,
score, then the nucleus's foreground features), DIR/nuclei.geojson (QuPath
points), DIR/model/ and DIR/summary.json. Progress goes to stderr.

Options:
  --slide FILE          slide or image (required)
  --out DIR             output folder, created if missing (required)
  --roi X,Y,W,H         level-0 rectangle to work in (default: the whole slide)
  --preset NAME         ${Object.keys(CSP_CAE_PRESETS).join(', ')} (default ${NUCLEI_DEFAULTS.preset})
  --model DIR           use this saved model (its model.json) instead of training
  --epochs N            training epochs (default 2)
  --train-patches N     patches drawn at random for training (default 256)
  --batch N             training batch size (default ${NUCLEI_DEFAULTS.batchSize})
  --lr RATE             SGD learning rate (default ${NUCLEI_DEFAULTS.learningRate}; momentum ${NUCLEI_DEFAULTS.momentum})
  --threshold T         detection threshold on the blurred map, 0–1 (default ${DETECTION_DEFAULTS.threshold})
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
    epochs: o.number('epochs', 2, { min: 1, integer: true }),
    trainPatches: o.number('train-patches', 256, { min: 1, integer: true }),
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


async function loadCspCae(dir: string): Promise<CspCaeModels> {
  // The layer class must be registered before loading (importing threshold-layer does it).
  void SparsityThreshold;
  const autoencoder = await tfl.loadLayersModel(fileSystemLoadHandler(path.join(dir, 'model.json')));
  const threshold = autoencoder.getLayer('part5_threshold') as SparsityThreshold;
  const outputs = ['part5_threshold', 'part3_2_act', 'part7_9_deconv', 'part8_12_deconv', 'reconstruction'].map((name) => autoencoder.getLayer(name).output as tfl.SymbolicTensor);
  const inspector = tfl.model({ inputs: autoencoder.inputs, outputs });
  const inputSize = autoencoder.inputs[0].shape[1] ?? NUCLEI_DEFAULTS.patchSize;
  const width = (autoencoder.getLayer('part1_1_conv').getConfig() as { filters: number }).filters / 100;
  const preset = (Object.entries(CSP_CAE_PRESETS).find(([, p]) => Math.abs(p.width - width) < 1e-6)?.[0] ?? 'paper') as CspCaePreset;
  return { autoencoder, inspector, threshold, preset, inputSize };
}

export async function runNuclei(argv: string[], io: CliIO): Promise<number> {
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
  const source = await openSlideFile(s.slide);
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
    progress.begin('mask');
    const mask = await computeCishMask(source).catch(fail);
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

    if (s.model) {
      progress.begin('model', s.model);
      models = await loadCspCae(s.model).catch((err) => {
        throw new CliError(s.model!, messageOf(err));
      });
      progress.end(`${models.preset} preset, t = ${models.threshold.thresholdValue.toFixed(3)}`);
    } else {
      const train = sampleTiles(grid, s.trainPatches, s.seed);
      progress.begin('train', `${train.length} patches, ${s.epochs} epochs, batch ${s.batch}, ${s.preset} preset, ${backend}`);
      const trained = await trainCspCae(source, grid, train, {
        preset: s.preset,
        epochs: s.epochs,
        batchSize: s.batch,
        learningRate: s.learningRate,
        seed: s.seed,
        onProgress: (p) => {
          const steps = p.stepsPerEpoch ?? 1;
          progress.update(p.epoch * steps + p.step, s.epochs * steps, `epoch ${p.epoch + 1}/${s.epochs} loss ${p.loss.toPrecision(4)}`, p.etaSeconds);
        },
      }).catch(fail);
      models = trained.models;
      progress.end(`RMSE ${trained.result.history.at(-1)?.loss.toPrecision(4)}, t = ${models.threshold.thresholdValue.toFixed(3)}`);
      const modelDir = path.join(s.out, 'model');
      const { autoencoder } = trained.models;
      await atPath(modelDir, () => autoencoder.save(fileSystemSaveHandler(modelDir)));
    }

    const detect = (label: string, network: NucleusNetwork) => {
      progress.begin(label, `${grid.kept.length} patches`);
      return detectNuclei(network, source, grid, grid.kept, {
        threshold: s.threshold,
        minDistance: s.minDistance,
        sigma: s.sigma,
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
      found = await detect('detect', fineTunedDetector(tuned, unsupervised));
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
    const header = ['x', 'y', 'score', ...Array.from({ length: found.featureDim }, (_, k) => `f${k}`)].join(',');
    const rows = [header];
    for (let i = 0; i < found.x.length; i++) {
      const features = Array.from(found.features.subarray(i * found.featureDim, (i + 1) * found.featureDim), (v) => v.toPrecision(5));
      rows.push([found.x[i].toFixed(1), found.y[i].toFixed(1), found.score[i].toPrecision(4), ...features].join(','));
    }
    await writeOutput(path.join(s.out, 'nuclei.csv'), rows.join('\n') + '\n');
    const geojson = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          geometry: { type: 'MultiPoint', coordinates: Array.from(found.x, (x, i) => [x, found.y[i]]) },
          properties: { objectType: 'annotation', name: 'Nuclei', classification: { name: 'Nucleus', color: [0, 90, 200] }, measurements: { count: found.x.length } },
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
