/**
 * `classify`: runs a classifier saved by `train-classifier` (or exported
 * from the app) headless. On a slide: tissue mask → tile grid → class and
 * confidence of every tissue tile → class-map.png, overview.png, tiles.csv,
 * classes.geojson and summary.json (tiles and mm² per class). On a folder of
 * images: one prediction per image in predictions.csv.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { classifierOutputs, classifyRects, trainedClassifierFromModel, type ClassifierOutputs, type TrainedClassifier } from '../models/classifier/pipeline';
import { IMAGE_NAME, type ClassifierDataset } from '../models/classifier/dataset';
import { classMapSelfChecks } from '../models/classifier/checks';
import { SELECTION_COLOURS } from '../analysis/selections';
import { computeCishMask, computeCishTiles } from '../models/cish/pipeline';
import type { TileGrid } from '../tiling/tile-grid';
import type { SlideSource } from '../slide/types';
import { CliError, OptionReader, UsageError, describeFsError, messageOf, parseCommandArgs, atPath, writeOutput } from './args';
import { formatCsv } from './csv';
import { clusterRegionsGeoJson, downsampleForMaxSide, encodePng, renderTileMap, tileCellLattice } from './map-exports';
import { readThumbnail, tileCells } from './analyze';
import { ProgressReporter, formatDuration } from './progress';
import { fileSystemLoadHandler } from './model-io';
import { openSlideFile } from './slide-file';
import { listFiles, requireFolder, underFolder } from './train-classifier';
import { printChecks, type CliIO } from './io';

const DEFAULT_TILE_UM = 150;

export const CLASSIFY_USAGE = `Usage: tilescope classify --model MODEL (--slide FILE | --images DIR) --out DIR [options]

Runs a classifier saved by 'train-classifier' (or exported from the app).
With --slide: classifies every tissue tile of the slide and writes
DIR/class-map.png (each tile's central cell in its class colour),
DIR/overview.png (the slide at the same size), DIR/tiles.csv (x, y, width,
height in level-0 pixels, class, confidence), DIR/classes.geojson (one QuPath
annotation per class) and DIR/summary.json (tiles and area in mm² per class,
and "checks": self-checks that fired, e.g. every tile given one class).
With --images: classifies every image under DIR (any depth) and writes
DIR/predictions.csv (file, class, confidence). Confidence is the probability
of the predicted class. Progress goes to stderr.

Options:
  --model MODEL       model folder (its model.json and weights.bin) or its model.json (required)
  --slide FILE        slide or image to map tile by tile
  --images DIR        folder of images (png, jpg, tif, webp) to classify one by one
  --out DIR           output folder, created if missing (required)
  --tile-um N         tile side in µm (default: the model's metadata 'tileUm', else ${DEFAULT_TILE_UM})
  --overlap-um N      overlap of neighbouring tiles in µm (default 0); each tile then owns
                      its central cell in the map and the areas
  --mpp N             µm per level-0 pixel, when the slide lacks it or is wrong
  --min-tissue F      classify tiles with at least this tissue share (default 0.5)
  --batch N           images per forward pass (default 16)
  --map-max-side N    long side of class-map.png in px (default 2048)
  --backend NAME      wasm (default) or cpu
  --quiet             no progress lines
  -h, --help          show this help`;

const OPTIONS = {
  model: { type: 'string' },
  slide: { type: 'string' },
  images: { type: 'string' },
  out: { type: 'string' },
  'tile-um': { type: 'string' },
  'overlap-um': { type: 'string' },
  mpp: { type: 'string' },
  'min-tissue': { type: 'string' },
  batch: { type: 'string' },
  'map-max-side': { type: 'string' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ClassifySettings {
  model: string;
  slide?: string;
  images?: string;
  out: string;
  tileUm?: number;
  overlapUm: number;
  mpp?: number;
  minTissue: number;
  batch: number;
  mapMaxSide: number;
  backend: 'wasm' | 'cpu';
  quiet: boolean;
}

export function parseClassifyArgs(argv: string[]): ClassifySettings | 'help' {
  const { values } = parseCommandArgs(argv, OPTIONS, CLASSIFY_USAGE);
  const o = new OptionReader(values, CLASSIFY_USAGE);
  if (o.flag('help')) return 'help';
  const model = o.required('model');
  const slide = o.string('slide');
  const images = o.string('images');
  if ((slide === undefined) === (images === undefined)) throw new UsageError('give either --slide FILE or --images DIR', CLASSIFY_USAGE);
  const tileUm = o.optionalNumber('tile-um', { min: 0, exclusiveMin: true });
  const overlapUm = o.number('overlap-um', 0, { min: 0 });
  if (!(overlapUm < (tileUm ?? Infinity))) throw new UsageError(`--overlap-um (${overlapUm}) must be smaller than --tile-um (${tileUm})`, CLASSIFY_USAGE);
  return {
    model,
    slide,
    images,
    out: o.required('out'),
    tileUm,
    overlapUm,
    mpp: o.optionalNumber('mpp', { min: 0, exclusiveMin: true }),
    minTissue: o.number('min-tissue', 0.5, { min: 0, max: 1 }),
    batch: o.number('batch', 16, { min: 1, integer: true }),
    mapMaxSide: o.number('map-max-side', 2048, { min: 16, integer: true }),
    backend: o.choice('backend', ['wasm', 'cpu'] as const, 'wasm'),
    quiet: o.flag('quiet'),
  };
}

/**
 * A saved classifier: the model.json (given, or in the given folder) and its
 * weights, rebuilt with trainedClassifierFromModel. Errors name the file.
 */
export async function loadClassifier(modelPath: string): Promise<TrainedClassifier> {
  const jsonPath = modelPath.endsWith('.json') ? modelPath : path.join(modelPath, 'model.json');
  try {
    const info = await stat(jsonPath);
    if (!info.isFile()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ENOENT';
    throw new CliError(jsonPath, missing && jsonPath !== modelPath ? 'no such file: not a model folder (expected model.json and weights.bin)' : describeFsError(err));
  }
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(fileSystemLoadHandler(jsonPath));
  } catch (err) {
    // A missing or unreadable weights file is named itself.
    const file = (err as { path?: string; code?: string }).code ? ((err as { path?: string }).path ?? jsonPath) : jsonPath;
    const reason = err instanceof SyntaxError ? `not a model.json (${err.message})` : describeFsError(err);
    throw new CliError(file, reason);
  }
  try {
    return trainedClassifierFromModel(model);
  } catch (err) {
    model.dispose();
    throw new CliError(jsonPath, messageOf(err));
  }
}


/** The selections' Okabe–Ito colours (colour-blind safe) for the classes, in turn, then its black; grey beyond them. */
const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [...SELECTION_COLOURS, [0, 0, 0]];

export function classColours(k: number): Uint8Array {
  const out = new Uint8Array(3 * k);
  for (let j = 0; j < k; j++) out.set(CLASS_COLOURS[j] ?? [128, 128, 128], 3 * j);
  return out;
}

const hex = (colours: Uint8Array, j: number) => '#' + Array.from(colours.subarray(3 * j, 3 * j + 3), (v) => v.toString(16).padStart(2, '0')).join('');

/** Probability of each prediction's class. */
function confidences(outputs: ClassifierOutputs, classes: number): Float32Array {
  return Float32Array.from(outputs.predicted, (c, i) => Math.min(1, Math.max(0, outputs.probabilities[i * classes + c])));
}


function countsLine(classes: string[], counts: number[]): string {
  return classes.map((c, k) => `${c} ${counts[k]}`).join(', ');
}

async function classifyImages(s: ClassifySettings, dir: string, trained: TrainedClassifier, io: CliIO, progress: ProgressReporter): Promise<void> {
  await requireFolder(dir);
  let files: string[];
  try {
    files = (await listFiles(dir)).filter((f) => IMAGE_NAME.test(f));
  } catch (err) {
    throw new CliError(dir, describeFsError(err));
  }
  if (files.length === 0) throw new CliError(dir, 'no images (.png, .jpg, .tif, .webp) in the folder');
  const { classes } = trained.spec;
  const K = classes.length;
  const rows: string[][] = [];
  const counts = classes.map(() => 0);
  progress.begin('classify', `${files.length} images`);
  // Opened a chunk at a time, so a large folder never holds every decoded image.
  const chunk = Math.max(s.batch, 64);
  for (let start = 0; start < files.length; start += chunk) {
    const names = files.slice(start, start + chunk).map((rel) => underFolder(dir, rel));
    const sources: SlideSource[] = [];
    try {
      for (const name of names) sources.push(await openSlideFile(name));
      const dataset: ClassifierDataset = {
        classes,
        sources,
        examples: sources.map((source, i) => ({ source: i, x: 0, y: 0, width: source.metadata.width, height: source.metadata.height, label: 0, name: names[i] })),
      };
      const outputs = await classifierOutputs(trained, dataset, Uint32Array.from(names.keys()), s.batch).catch((err: unknown) => {
        throw new CliError(names.length === 1 ? names[0] : dir, messageOf(err));
      });
      const confidence = confidences(outputs, K);
      names.forEach((name, i) => {
        counts[outputs.predicted[i]]++;
        rows.push([name, classes[outputs.predicted[i]], confidence[i].toFixed(4)]);
      });
    } finally {
      for (const source of sources) source.close();
    }
    progress.update(rows.length, files.length, `${rows.length}/${files.length} images`);
  }
  progress.end(countsLine(classes, counts));
  const file = path.join(s.out, 'predictions.csv');
  await writeOutput(file, formatCsv({ header: ['file', 'class', 'confidence'], rows }));
  io.stdout(`${files.length} images: ${countsLine(classes, counts)} → ${file}\n`);
}

async function classifySlide(s: ClassifySettings, slide: string, trained: TrainedClassifier, tileUm: number, io: CliIO, progress: ProgressReporter): Promise<void> {
  progress.begin('open');
  const source = await openSlideFile(slide);
  const meta = source.metadata;
  progress.end(`${meta.format} ${meta.width} × ${meta.height} px, ${meta.levels.length} levels, ${meta.mppX ?? '?'} µm/px`);
  const fail = (err: unknown): never => {
    if (err instanceof CliError) throw err;
    throw new CliError(slide, messageOf(err));
  };
  try {
    if (s.mpp === undefined && meta.mppX === undefined) throw new CliError(slide, 'the file does not state its µm per pixel; pass --mpp');
    if (!(s.overlapUm < tileUm)) throw new UsageError(`--overlap-um (${s.overlapUm}) must be smaller than the tile side (${tileUm} µm)`, CLASSIFY_USAGE);
    progress.begin('mask');
    const mask = await computeCishMask(source).catch(fail);
    progress.end(`threshold ${mask.threshold.toFixed(2)}, ${mask.polarity} tissue`);

    progress.begin('tiles');
    let grid: TileGrid;
    try {
      // The CISH tiling (read level chosen for the network's input), with this command's tile size.
      grid = computeCishTiles(meta, mask.mask, { tileUm, overlapUm: s.overlapUm, minTissueFraction: s.minTissue, mppOverride: s.mpp, inputSize: trained.spec.inputSize });
    } catch (err) {
      return fail(err);
    }
    progress.end(`${grid.columns} × ${grid.rows} grid of ${tileUm} µm, ${grid.kept.length} on tissue, ${grid.tileSize} px at level ${grid.level}`);
    if (grid.kept.length === 0) throw new CliError(slide, 'no tile lies on tissue (try --min-tissue lower, or a smaller --tile-um)');

    const kept = grid.kept;
    const n = kept.length;
    const rects = new Float64Array(4 * n);
    kept.forEach((id, q) => rects.set([grid.x[id], grid.y[id], grid.width[id], grid.height[id]], 4 * q));
    const { classes } = trained.spec;
    const K = classes.length;
    progress.begin('classify', `${n} tiles`);
    const outputs = await classifyRects(trained, source, rects, {
      batchSize: Math.max(s.batch, 64),
      onProgress: (done, total) => progress.update(done, total, `${done}/${total} tiles`),
    }).catch(fail);
    const confidence = confidences(outputs, K);
    const counts = classes.map(() => 0);
    for (const c of outputs.predicted) counts[c]++;
    progress.end(countsLine(classes, counts));
    // A map with one class everywhere, or a class that never comes up, says so (issue 15, item 5).
    const checks = classMapSelfChecks(outputs.predicted, classes);
    printChecks(io.stderr, checks);

    progress.begin('export');
    const colours = classColours(K);
    const rows = Array.from({ length: n }, (_, q) => [
      ...Array.from(rects.subarray(4 * q, 4 * q + 4), (v) => String(Math.round(v * 100) / 100)),
      classes[outputs.predicted[q]],
      confidence[q].toFixed(4),
    ]);
    await writeOutput(path.join(s.out, 'tiles.csv'), formatCsv({ header: ['x', 'y', 'width', 'height', 'class', 'confidence'], rows }));
    const stepLevel0 = grid.stride * grid.downsample;
    const geojson = clusterRegionsGeoJson(tileCellLattice({ ...grid, stepLevel0 }, kept, outputs.predicted), colours, classes);
    await writeOutput(path.join(s.out, 'classes.geojson'), JSON.stringify(geojson));
    const downsample = downsampleForMaxSide(meta.width, meta.height, s.mapMaxSide);
    const map = renderTileMap(tileCells(grid, kept), outputs.predicted, colours, { slideWidth: meta.width, slideHeight: meta.height, downsample, background: [255, 255, 255, 255] });
    await writeOutput(path.join(s.out, 'class-map.png'), encodePng(map));
    const thumbnail = await readThumbnail(source, map.width, map.height).catch(fail);
    await writeOutput(path.join(s.out, 'overview.png'), encodePng({ width: map.width, height: map.height, data: thumbnail, channels: 3 }));
    // Each tile owns its central stride × stride cell (the whole tile without overlap), as in the app.
    const cellMm2 = ((stepLevel0 * grid.mpp) / 1000) ** 2;
    let meanConfidence = 0;
    for (const c of confidence) meanConfidence += c / n;
    const summary = {
      slide,
      format: meta.format,
      width: meta.width,
      height: meta.height,
      mpp: grid.mpp,
      model: s.model,
      arch: trained.spec.arch,
      classes: classes.map((name, k) => ({ class: name, color: hex(colours, k), tiles: counts[k], areaMm2: counts[k] * cellMm2, share: counts[k] / n })),
      tiles: {
        tileUm,
        overlapUm: s.overlapUm,
        grid: grid.count,
        columns: grid.columns,
        rows: grid.rows,
        classified: n,
        tileSizePx: grid.tileSize,
        strideLevelPx: grid.stride,
        readLevel: grid.level,
        cellMm2,
        minTissue: s.minTissue,
      },
      tissueAreaMm2: n * cellMm2,
      meanConfidence,
      checks,
      mask: { threshold: mask.threshold, polarity: mask.polarity, downsample: mask.mask.downsample },
      map: { width: map.width, height: map.height, downsample },
      timings: progress.timings.concat(),
    };
    await writeOutput(path.join(s.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    progress.end();
    const areas = classes.map((c, k) => `${c} ${counts[k]} (${(counts[k] * cellMm2).toFixed(3)} mm²)`).join(', ');
    io.stdout(`${n} tiles: ${areas} → ${s.out}\n`);
    printChecks(io.stdout, checks);
  } finally {
    source.close();
  }
}

export async function runClassify(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseClassifyArgs(argv);
  if (parsed === 'help') {
    io.stdout(CLASSIFY_USAGE + '\n');
    return 0;
  }
  const s = parsed;
  const progress = new ProgressReporter(io.stderr, { quiet: s.quiet });
  const startedAt = performance.now();
  const { initNodeBackend } = await import('../engine/wasm-node');
  const backend = await initNodeBackend(s.backend);
  if (backend !== s.backend) progress.note(`backend: ${s.backend} unavailable, using ${backend}`);

  progress.begin('model', s.model);
  const trained = await loadClassifier(s.model);
  try {
    const { spec } = trained;
    progress.end(`${spec.arch}, ${spec.classes.length} classes (${spec.classes.join(', ')}), ${spec.inputSize} px × ${spec.channels}`);
    await atPath(s.out, () => mkdir(s.out, { recursive: true }));
    if (s.images !== undefined) {
      await classifyImages(s, s.images, trained, io, progress);
    } else {
      const saved = (trained.model.getUserDefinedMetadata() as { tileUm?: unknown } | undefined)?.tileUm;
      const tileUm = s.tileUm ?? (typeof saved === 'number' && saved > 0 ? saved : DEFAULT_TILE_UM);
      await classifySlide(s, s.slide!, trained, tileUm, io, progress);
    }
    if (!s.quiet) io.stderr(`classify: finished in ${formatDuration((performance.now() - startedAt) / 1000)}\n`);
    return 0;
  } finally {
    trained.model.dispose();
  }
}
