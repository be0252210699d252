/**
 * Training sets for the classifiers (issue 6): every example, whatever it
 * came from, is a labelled level-0 rectangle of an image source (a slide, or
 * one image file opened as a slide), so one reader serves them all:
 * - labelled selections of the latent explorer (their tiles or nuclei, as rectangles);
 * - rectangles, polygons or points drawn on the slide with a class;
 * - a folder or zip of images with one sub-folder per class.
 * DOM-free: the analysis worker, the CLI and the tests use it.
 */
import { unzip, type Unzipped } from 'fflate';
import { resizeArea } from '../../imaging/resize';
import { levelForDownsample } from '../../slide/overview';
import { openSlide } from '../../slide/open';
import { createMemorySource } from '../../slide/formats/memory-source';
import { dtypeFullScale, type PixelBlock, type SlideSource } from '../../slide/types';
import { pointsInPolygon } from '../../tiling/polygon';
import { MIN_EXAMPLES_PER_CLASS } from '../../analysis/selections';

export interface LabelledRegion {
  /** Index into the dataset's sources. */
  source: number;
  /** Level-0 pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Class index into `classes`. */
  label: number;
  /** Where the example came from, for reports and predictions.csv (a file path, or "slide x,y"). */
  name: string;
}

export interface ClassifierDataset {
  classes: string[];
  sources: SlideSource[];
  examples: LabelledRegion[];
}

export interface ClassBalance {
  counts: number[];
  /** Classes with fewer than MIN_EXAMPLES_PER_CLASS examples, by name. */
  tooFew: string[];
  /** One line per problem, for the panel and the CLI. */
  warnings: string[];
}

export function classBalance(dataset: ClassifierDataset, minimum = MIN_EXAMPLES_PER_CLASS): ClassBalance {
  const counts = dataset.classes.map(() => 0);
  for (const e of dataset.examples) counts[e.label]++;
  const tooFew = dataset.classes.filter((_, k) => counts[k] < minimum);
  const warnings = tooFew.map((name) => `class "${name}" has ${counts[dataset.classes.indexOf(name)]} examples (fewer than ${minimum}): add more, or expect an unreliable classifier`);
  if (dataset.classes.length < 2) warnings.unshift(`${dataset.classes.length} class: a classifier needs at least 2`);
  return { counts, tooFew, warnings };
}

// ------------------------------------------------------------------ builders

/** Labelled rectangles (n × 4 level-0 x, y, width, height) of one slide; example i is rectangle i. */
export function datasetFromRects(source: SlideSource, classes: string[], rects: ArrayLike<number>, labels: ArrayLike<number>): ClassifierDataset {
  const n = labels.length;
  if (rects.length !== 4 * n) throw new RangeError(`${rects.length} rectangle values for ${n} labels`);
  const examples = Array.from({ length: n }, (_, i) => {
    const [x, y, width, height] = [rects[4 * i], rects[4 * i + 1], rects[4 * i + 2], rects[4 * i + 3]];
    return { source: 0, x, y, width, height, label: labels[i], name: `${source.metadata.name} ${Math.round(x)},${Math.round(y)}` };
  });
  return { classes, sources: [source], examples };
}

export type DrawnShape =
  | { kind: 'point'; x: number; y: number; className: string }
  | { kind: 'polygon'; points: number[]; className: string };

/**
 * The labelled squares that shapes drawn on a slide of width × height
 * (level-0 px) stand for: a point gives the square of side `patchSize0`
 * centred on it; a rectangle or polygon (a rectangle is a 4-point polygon)
 * the squares of a patchSize0 lattice whose centre lies inside it, or, when
 * it is smaller than a patch, the square centred on it. Squares that would
 * leave the slide are moved back inside. Classes are the shapes' class names,
 * sorted; `labels` index them.
 */
export function shapeRegions(shapes: DrawnShape[], patchSize0: number, width: number, height: number): { classes: string[]; rects: Float64Array; labels: Int32Array } {
  if (!(patchSize0 > 0)) throw new RangeError(`patch size must be positive, got ${patchSize0}`);
  const classes = [...new Set(shapes.map((s) => s.className))].sort();
  const rects: number[] = [];
  const labels: number[] = [];
  const side = Math.min(patchSize0, width, height);
  const add = (x: number, y: number, label: number) => {
    rects.push(Math.min(Math.max(x, 0), Math.max(0, width - patchSize0)), Math.min(Math.max(y, 0), Math.max(0, height - patchSize0)), side, side);
    labels.push(label);
  };
  for (const shape of shapes) {
    const label = classes.indexOf(shape.className);
    if (shape.kind === 'point') {
      add(shape.x - patchSize0 / 2, shape.y - patchSize0 / 2, label);
      continue;
    }
    const xs = shape.points.filter((_, i) => i % 2 === 0);
    const ys = shape.points.filter((_, i) => i % 2 === 1);
    const cxs: number[] = [];
    const cys: number[] = [];
    for (let y = Math.floor(Math.max(0, Math.min(...ys)) / patchSize0) * patchSize0; y < Math.max(...ys) && y + patchSize0 <= height; y += patchSize0)
      for (let x = Math.floor(Math.max(0, Math.min(...xs)) / patchSize0) * patchSize0; x < Math.max(...xs) && x + patchSize0 <= width; x += patchSize0) {
        cxs.push(x + patchSize0 / 2);
        cys.push(y + patchSize0 / 2);
      }
    const inside = pointsInPolygon(Float64Array.from(cxs), Float64Array.from(cys), shape.points);
    let found = 0;
    inside.forEach((flag, i) => {
      if (!flag) return;
      add(cxs[i] - patchSize0 / 2, cys[i] - patchSize0 / 2, label);
      found++;
    });
    if (found === 0) add((Math.min(...xs) + Math.max(...xs)) / 2 - patchSize0 / 2, (Math.min(...ys) + Math.max(...ys)) / 2 - patchSize0 / 2, label);
  }
  return { classes, rects: Float64Array.from(rects), labels: Int32Array.from(labels) };
}

/** Examples from shapes drawn on a slide (see shapeRegions). */
export function datasetFromShapes(source: SlideSource, shapes: DrawnShape[], patchSize0: number): ClassifierDataset {
  const { classes, rects, labels } = shapeRegions(shapes, patchSize0, source.metadata.width, source.metadata.height);
  return datasetFromRects(source, classes, rects, labels);
}

/** Examples from images already in memory (float, interleaved H × W × C), e.g. the synthetic sets. */
export function datasetFromImages(set: { width: number; height: number; channels: number; classNames: readonly string[]; images: Float32Array[]; labels: ArrayLike<number> }): ClassifierDataset {
  const channels = Array.from({ length: set.channels }, (_, c) => ({ name: `C${c}`, color: ['#ff0000', '#00ff00', '#0000ff'][c] ?? '#ffffff' }));
  const sources = set.images.map((data, i) =>
    createMemorySource(
      { data, width: set.width, height: set.height, channels: set.channels, dtype: 'float32' },
      { name: `image ${i}`, format: 'memory', channels, rgb: set.channels === 3, properties: {} },
    ),
  );
  const examples = set.images.map((_, i) => ({ source: i, x: 0, y: 0, width: set.width, height: set.height, label: set.labels[i], name: `image ${i}` }));
  return { classes: [...set.classNames], sources, examples };
}

/** File names read as images (the formats openSlide opens as plain images or TIFF). */
export const IMAGE_NAME = /\.(png|jpe?g|tiff?|webp)$/i;

/**
 * The class of an image file laid out as …/<class>/<image>: its parent
 * folder's name; null for a non-image, hidden (or __MACOSX) file, or one
 * outside a class folder.
 */
export function imageClassOf(path: string): string | null {
  const parts = path.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  const hidden = parts.some((p) => p.startsWith('.') || p === '__MACOSX');
  return hidden || parts.length < 2 || !IMAGE_NAME.test(parts[parts.length - 1]) ? null : parts[parts.length - 2];
}

/** Images per class of files laid out as <class>/<image> (from their paths alone, nothing is read), and how many files are not such images. */
export function imageClassCounts(paths: string[]): { classes: string[]; counts: number[]; skipped: number } {
  const byClass = new Map<string, number>();
  let skipped = 0;
  for (const path of paths) {
    const name = imageClassOf(path);
    if (name === null) skipped++;
    else byClass.set(name, (byClass.get(name) ?? 0) + 1);
  }
  const classes = [...byClass.keys()].sort();
  return { classes, counts: classes.map((c) => byClass.get(c)!), skipped };
}

/**
 * Examples from image files laid out as <class>/<image> (a dropped folder, a
 * zip, or a directory given to the CLI): the class is the parent folder's
 * name, each image one example. Files elsewhere, and hidden or non-image
 * files, are skipped and counted.
 */
export async function datasetFromImageFiles(files: { path: string; blob: Blob }[]): Promise<ClassifierDataset & { skipped: string[] }> {
  const skipped: string[] = [];
  const usable: { path: string; blob: Blob; className: string }[] = [];
  for (const file of files) {
    const className = imageClassOf(file.path);
    if (className === null) skipped.push(file.path);
    else usable.push({ ...file, className });
  }
  const classes = [...new Set(usable.map((f) => f.className))].sort();
  const sources: SlideSource[] = [];
  const examples: LabelledRegion[] = [];
  for (const file of usable) {
    const source = await openSlide(file.blob, file.path).catch((error: unknown) => {
      throw new Error(`${file.path}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const { width, height } = source.metadata;
    examples.push({ source: sources.length, x: 0, y: 0, width, height, label: classes.indexOf(file.className), name: file.path });
    sources.push(source);
  }
  return { classes, sources, examples, skipped };
}

/** The file paths in a zip archive, read from its directory without inflating anything. */
export async function zipEntryNames(zip: Blob, name = 'archive.zip'): Promise<string[]> {
  const bytes = new Uint8Array(await zip.arrayBuffer());
  const names: string[] = [];
  await new Promise<void>((resolve, reject) =>
    unzip(
      bytes,
      {
        filter: (file) => {
          if (!file.name.endsWith('/')) names.push(file.name);
          return false;
        },
      },
      (error) => (error ? reject(new Error(`${name}: not a readable zip (${error.message})`)) : resolve()),
    ),
  );
  return names;
}

/** Files as given, with every .zip among them replaced by its contents (paths inside the archive). */
export async function expandZips(files: { path: string; blob: Blob }[]): Promise<{ path: string; blob: Blob }[]> {
  const out: { path: string; blob: Blob }[] = [];
  for (const file of files) {
    if (/\.zip$/i.test(file.path)) out.push(...(await filesFromZip(file.blob, file.path)));
    else out.push(file);
  }
  return out;
}

/** The files of a zip archive as path + blob (directories dropped). */
export async function filesFromZip(zip: Blob, name = 'archive.zip'): Promise<{ path: string; blob: Blob }[]> {
  const bytes = new Uint8Array(await zip.arrayBuffer());
  const entries = await new Promise<Unzipped>((resolve, reject) =>
    unzip(bytes, (error, data) => (error ? reject(new Error(`${name}: not a readable zip (${error.message})`)) : resolve(data))),
  );
  return Object.entries(entries)
    .filter(([path]) => !path.endsWith('/'))
    .map(([path, data]) => ({ path, blob: new Blob([data as Uint8Array<ArrayBuffer>]) }));
}

// ------------------------------------------------------------------ reading

export interface ClassifierInputSpec {
  /** Side of the square network input. */
  inputSize: number;
  /** 3: RGB; 1: grey (luminance of RGB, or the first channel of fluorescence). */
  channels: 1 | 3;
  /**
   * How each image is standardised: 'image' — one mean and standard
   * deviation over all its channels, so colour and the channels' relative
   * intensities survive (FISH signal counts, stain balance); 'channel' — each
   * channel on its own; 'none' — intensities as stored, scaled to [0, 1] by
   * the data type (uint8 / 255, uint16 / 65535, float as is), for images whose
   * absolute levels mean something (fluorescence at a fixed exposure).
   * Default 'channel' (what models saved before the choice existed were
   * trained with).
   */
  normalisation?: Normalisation;
}

/** Examples each class needs so that every split of a 5-fold partition trains, validates and tests on it. */
export const MIN_EXAMPLES_TO_SPLIT = 3;

export type Normalisation = 'image' | 'channel' | 'none';
export const NORMALISATIONS: readonly Normalisation[] = ['image', 'channel', 'none'];

/**
 * New classifiers standardise each image over all its channels: the thesis
 * normalises "per image", and per-channel standardisation would erase
 * colour and the channels' relative intensities (FISH signal counts).
 */
export const DEFAULT_NORMALISATION: Normalisation = 'image';

/**
 * One example as network input [S, S, C]: read from the pyramid level that
 * still has the input's resolution, resampled to S × S (area averaging), and
 * standardised per image (zero mean, unit sd; over all channels or per
 * channel, as spec.normalisation says), as the thesis normalises
 * intensities per image.
 */
export async function readExample(dataset: ClassifierDataset, example: LabelledRegion, spec: ClassifierInputSpec, signal?: AbortSignal): Promise<Float32Array> {
  const source = dataset.sources[example.source];
  const levels = source.metadata.levels;
  const level = levelForDownsample(levels, Math.min(example.width, example.height) / spec.inputSize);
  const d = levels[level].downsample;
  const region = {
    level,
    x: Math.floor(example.x / d),
    y: Math.floor(example.y / d),
    width: Math.max(1, Math.round(example.width / d)),
    height: Math.max(1, Math.round(example.height / d)),
  };
  const block = await source.readRegion(region, signal);
  return exampleInput(block, spec);
}

export function exampleInput(block: PixelBlock, spec: ClassifierInputSpec): Float32Array {
  const { width, height, channels } = block;
  const S = spec.inputSize;
  const out = new Float32Array(S * S * spec.channels);
  const planes: Float32Array[] = [];
  if (spec.channels === 1) {
    const plane = new Float32Array(width * height);
    if (channels >= 3 && (block.dtype === 'uint8' || channels === 3)) {
      for (let i = 0; i < width * height; i++) plane[i] = 0.2125 * block.data[i * channels] + 0.7154 * block.data[i * channels + 1] + 0.0721 * block.data[i * channels + 2];
    } else {
      for (let i = 0; i < width * height; i++) plane[i] = block.data[i * channels];
    }
    planes.push(plane);
  } else {
    for (let c = 0; c < 3; c++) {
      const plane = new Float32Array(width * height);
      const from = Math.min(c, channels - 1); // grey images fill all three
      for (let i = 0; i < width * height; i++) plane[i] = block.data[i * channels + from];
      planes.push(plane);
    }
  }
  const resized = planes.map((plane) => (width === S && height === S ? plane : resizeArea({ data: plane, width, height }, S, S).data));
  if (spec.normalisation === 'none') {
    const scale = 1 / dtypeFullScale(block.dtype);
    resized.forEach((plane, c) => {
      for (let i = 0; i < S * S; i++) out[i * spec.channels + c] = plane[i] * scale;
    });
    return out;
  }
  // Standardise over each plane alone, or over all of them together.
  const groups = spec.normalisation === 'image' ? [resized.map((_, c) => c)] : resized.map((_, c) => [c]);
  for (const group of groups) {
    const n = group.length * S * S;
    let mean = 0;
    for (const c of group) for (let i = 0; i < S * S; i++) mean += resized[c][i];
    mean /= n;
    let variance = 0;
    for (const c of group) for (let i = 0; i < S * S; i++) variance += (resized[c][i] - mean) ** 2;
    const sd = Math.sqrt(variance / n);
    // A flat image has nothing to standardise: it stays at zero.
    const scale = sd > 1e-6 ? 1 / sd : 0;
    for (const c of group) for (let i = 0; i < S * S; i++) out[i * spec.channels + c] = (resized[c][i] - mean) * scale;
  }
  return out;
}

/** Several examples packed as [B, S, S, C], read concurrently. */
export async function readExamples(dataset: ClassifierDataset, indices: ArrayLike<number>, spec: ClassifierInputSpec, signal?: AbortSignal): Promise<Float32Array> {
  const stride = spec.inputSize * spec.inputSize * spec.channels;
  const out = new Float32Array(indices.length * stride);
  await Promise.all(
    Array.from({ length: indices.length }, async (_, b) => {
      out.set(await readExample(dataset, dataset.examples[indices[b]], spec, signal), b * stride);
    }),
  );
  return out;
}
