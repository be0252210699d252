/**
 * The fine-tuned detection CNN of seed 001 (section 5.3; SPEC §2, "Fine-tuned
 * CNNs"): parts 1, 2 and 5 of a trained crosswise-sparse CAE, then five 1×1
 * convolutions ending in a sigmoid, so that the network outputs a nucleus
 * probability per cell of a map a quarter of the patch's side. It is trained
 * from point annotations (nucleus centres) on top of the unsupervised
 * weights, and detects through the same post-processing as the CAE
 * (pipeline.ts: bilinear resize, Gaussian blur, non-maximum suppression,
 * threshold).
 *
 * DOM-free: the CLI, the tests and a worker run it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { disposeOptimizer, trainModel, type Batch, type BatchProvider, type EpochSummary, type TrainProgress, type TrainResult, TrainingControl } from '../../engine/train';
import { readTileInputs } from '../../engine/tile-batches';
import { Random } from '../../util/random';
import type { PointAnnotations } from '../../analysis/point-annotations';
import type { SlideSource } from '../../slide/types';
import type { TileGrid } from '../../tiling/tile-grid';
import { CSP_CAE_PRESETS, type CspCaeModels, type CspCaePreset } from './model';
import { SparsityThreshold } from './threshold-layer';
import { nucleusInputSpec, type NucleusDetector } from './pipeline';

/**
 * Width of the first four 1×1 convs at full ('paper') width. Section 5.3
 * gives no widths for the detection head; the heads it does size (the
 * classification CNN's added 1×1 and 3×3 convs) have 320 filters each, so
 * the detection head takes 320 too, scaled by the preset like every other
 * layer (20 at 'sixteenth'). The fifth conv has one filter: the map.
 */
export const DETECTION_HEAD_WIDTH = 320;

export interface DetectionCnnOptions {
  /** Channels of the five 1×1 convs; default four of 320 × the preset's width, then 1. The last must be 1. */
  widths?: readonly number[];
  /** Slope of the head's leaky ReLUs (default: the CAE's 0.01). */
  leakyAlpha?: number;
  /** Seeds the head's initial weights (each conv takes the next seed); unseeded otherwise. */
  seed?: number;
}

export interface DetectionCnn {
  /** patch [B, S, S, 3] → nucleus probability map [B, S/4, S/4, 1]. */
  model: tfl.LayersModel;
  /** patch → [probability map, the fourth 1×1 conv's output (the head's penultimate features)]; shares every layer. */
  inspector: tfl.LayersModel;
  /** The copy of part 5 (its t is the CAE's, frozen). */
  threshold: SparsityThreshold;
  preset: CspCaePreset;
  inputSize: number;
}

/** Names of the added layers: head_1_conv … head_5_conv (and head_k_act after the first four). */
const HEAD_PREFIX = 'head_';

/**
 * Builds the detection CNN from a trained CAE: new layers with the same
 * configuration as the CAE's parts 1 and 2 and its threshold layer (part 5),
 * their weights copied (the CAE keeps its own and stays usable), then five
 * new 1×1 convs.
 *
 * - t stays frozen at the CAE's value (and r at its 20). The seed freezes t
 *   once the CAE is trained, and its running percentile is an unsupervised
 *   device (it keeps p % of the map active); with labels, where D should
 *   fire is learned from the targets, through the batch norm of D′ (whose
 *   scale and offset stay trainable and do what a trainable t would).
 *   Fine-tuning runs every layer in inference mode (see trainDetectionCnn),
 *   so t never moves. With r = 20, gradients reach parts 1–2 mainly where
 *   D′ lies near t, i.e. at the borderline nuclei, which is where the CAE
 *   errs; that sufficed on synthetic H&E (recall 0.85 → 0.91).
 * - The head has biases and leaky ReLUs but no batch norm: its statistics
 *   would have to come from a handful of annotated patches, and fine-tuning
 *   keeps every batch norm in inference mode anyway.
 */
export function buildDetectionCnn(unsupervised: CspCaeModels, options: DetectionCnnOptions = {}): DetectionCnn {
  const { autoencoder, preset, inputSize } = unsupervised;
  const width = CSP_CAE_PRESETS[preset].width;
  const hidden = Math.max(1, Math.round(DETECTION_HEAD_WIDTH * width));
  const widths = options.widths ?? [hidden, hidden, hidden, hidden, 1];
  if (widths.length !== 5 || widths.some((w) => !(Number.isInteger(w) && w >= 1)) || widths[4] !== 1) {
    throw new RangeError(`the detection head has five 1×1 convs with positive integer widths, the last 1; got [${widths.join(', ')}]`);
  }
  const alpha = options.leakyAlpha ?? 0.01;
  let seed = options.seed;
  const init = () => (seed === undefined ? undefined : tfl.initializers.glorotUniform({ seed: seed++ }));

  // Parts 1 and 2 are chains (pools, convs, batch norms, activations) in the
  // CAE's topological layer order; part 5 is the threshold layer.
  const copied = autoencoder.layers.filter((l) => l.name.startsWith('part1_') || l.name.startsWith('part2_'));
  const sourceThreshold = autoencoder.getLayer('part5_threshold') as SparsityThreshold;
  if (copied.length === 0) throw new Error('the unsupervised model has no part 1 / part 2 layers to copy');

  const patch = tfl.input({ name: 'patch', shape: [inputSize, inputSize, 3] });
  let y: tfl.SymbolicTensor = patch;
  const pairs: Array<[tfl.layers.Layer, tfl.layers.Layer]> = [];
  for (const layer of copied) {
    const copy = cloneLayer(layer);
    y = copy.apply(y) as tfl.SymbolicTensor;
    pairs.push([layer, copy]);
  }
  const threshold = new SparsityThreshold({
    name: 'part5_threshold',
    slope: sourceThreshold.slope,
    sparsityPercent: sourceThreshold.sparsityPercent,
    momentum: sourceThreshold.momentum,
  });
  y = threshold.apply(y) as tfl.SymbolicTensor; // D
  pairs.push([sourceThreshold, threshold]);

  let penultimate: tfl.SymbolicTensor = y;
  widths.forEach((filters, i) => {
    const last = i === widths.length - 1;
    y = tfl.layers
      .conv2d({ name: `${HEAD_PREFIX}${i + 1}_conv`, filters, kernelSize: 1, useBias: true, kernelInitializer: init(), activation: last ? 'sigmoid' : 'linear' })
      .apply(y) as tfl.SymbolicTensor;
    if (!last) {
      y = tfl.layers.leakyReLU({ name: `${HEAD_PREFIX}${i + 1}_act`, alpha }).apply(y) as tfl.SymbolicTensor;
      penultimate = y;
    }
  });

  const model = tfl.model({ name: 'csp_cnn_detection', inputs: patch, outputs: y });
  const inspector = tfl.model({ name: 'csp_cnn_detection_inspector', inputs: patch, outputs: [y, penultimate] });
  // Weights are copied (not shared): later training of either model leaves the other as it is.
  tf.tidy(() => {
    for (const [from, to] of pairs) to.setWeights(from.getWeights().map((w) => tf.clone(w)));
  });
  return { model, inspector, threshold, preset, inputSize };
}

/** A new layer with another layer's class and configuration (name included), not yet built. */
function cloneLayer(layer: tfl.layers.Layer): tfl.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (entry === undefined) throw new Error(`cannot copy layer ${layer.name}: class ${layer.getClassName()} is not registered`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, layer.getConfig()) as tfl.layers.Layer;
}

/** The head's variables (the added 1×1 convs): what the first phase of fine-tuning trains. */
export function detectionHeadVariables(cnn: DetectionCnn): tf.Variable[] {
  return cnn.model.trainableWeights.filter((w) => cnn.model.layers.some((l) => l.name.startsWith(HEAD_PREFIX) && l.trainableWeights.includes(w))).map((w) => w.read() as tf.Variable);
}

/** Frees every weight of the detection CNN (model and inspector share all layers). */
export function disposeDetectionCnn(cnn: DetectionCnn): void {
  for (const variable of cnn.model.weights) variable.dispose();
}

/**
 * The training target of one patch: a mapSize² binary map, 1 at each cell
 * that holds an annotated nucleus centre, 0 elsewhere (row-major). This is
 * the seed's "binary matrix with the same size of the output probability
 * map". A binary cell target suffices because the post-processing
 * (bilinear resize, Gaussian blur, peak finding) already places each point
 * between the cells it spans; a nucleus (15–25 px at 0.5 µm/px) covers four
 * to six cells, so the cell holding its centre is well defined.
 *
 * `rect` is the patch's level-0 rectangle [x, y, width, height]; points use
 * continuous level-0 coordinates (pixel c covers [c, c + 1)), and a cell
 * covers a half-open square, so a point on the patch's right or bottom edge
 * belongs to the next patch.
 */
export function pointsToTargetMap(points: PointAnnotations, rect: ArrayLike<number>, mapSize: number): Float32Array {
  const [x0, y0, w, h] = [rect[0], rect[1], rect[2], rect[3]];
  const target = new Float32Array(mapSize * mapSize);
  for (let i = 0; i < points.x.length; i++) {
    const u = ((points.x[i] - x0) / w) * mapSize;
    const v = ((points.y[i] - y0) / h) * mapSize;
    if (!(u >= 0 && u < mapSize && v >= 0 && v < mapSize)) continue;
    target[Math.floor(v) * mapSize + Math.floor(u)] = 1;
  }
  return target;
}

/**
 * Points per tile: how many annotated centres fall inside each of `indices`'
 * level-0 rectangles (half-open). Points are sorted by x once, so each tile
 * looks only at the points of its column strip.
 */
export function annotationsPerTile(grid: TileGrid, indices: ArrayLike<number>, points: PointAnnotations): Uint32Array {
  const order = Uint32Array.from(points.x.keys()).sort((a, b) => points.x[a] - points.x[b]);
  const sortedX = Float64Array.from(order, (i) => points.x[i]);
  const counts = new Uint32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const t = indices[k];
    const x0 = grid.x[t];
    const y0 = grid.y[t];
    const x1 = x0 + grid.width[t];
    const y1 = y0 + grid.height[t];
    // First point with x ≥ x0.
    let lo = 0;
    let hi = sortedX.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortedX[mid] < x0) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < sortedX.length && sortedX[j] < x1; j++) {
      const y = points.y[order[j]];
      if (y >= y0 && y < y1) counts[k]++;
    }
  }
  return counts;
}

/** The tiles of `indices` (default: the grid's kept tiles) that hold at least one annotated centre, ascending. */
export function annotatedTiles(grid: TileGrid, points: PointAnnotations, indices: ArrayLike<number> = grid.kept): Uint32Array {
  const counts = annotationsPerTile(grid, indices, points);
  return Uint32Array.from(Array.from(indices).filter((_, k) => counts[k] > 0)).sort();
}

/**
 * One of the eight symmetries of the square applied to an S×S×C image,
 * row-major: k & 1 mirrors left–right, k & 2 mirrors top–bottom, k & 4
 * swaps the axes (after the mirrors). Applied with the same k to a patch and
 * to its S/4 map, it moves each pixel into the transformed cell, as the map's
 * cells tile the patch exactly.
 */
export function dihedral(src: Float32Array, size: number, channels: number, k: number): Float32Array {
  if (k === 0) return src;
  const out = new Float32Array(src.length);
  const flipX = (k & 1) !== 0;
  const flipY = (k & 2) !== 0;
  const swap = (k & 4) !== 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      let sr = r;
      let sc = c;
      if (swap) [sr, sc] = [sc, sr];
      if (flipX) sc = size - 1 - sc;
      if (flipY) sr = size - 1 - sr;
      const from = (sr * size + sc) * channels;
      const to = (r * size + c) * channels;
      for (let ch = 0; ch < channels; ch++) out[to + ch] = src[from + ch];
    }
  }
  return out;
}

/**
 * Weighted binary cross-entropy over the map:
 *   −mean(w₊·y·log p + (1 − y)·log(1 − p)).
 * About 1.6 % of the cells hold a nucleus centre. Unweighted, the net learns
 * calibrated probabilities, and as a centre's neighbouring cells are nearly
 * as likely, the peaks stay low: after the post-processing's blur they fall
 * under the detection threshold (0.3) that the CAE's near-binary D was
 * tuned with. w₊ multiplies the positives' term (FINETUNE_DEFAULTS).
 */
export function weightedBinaryCrossEntropy(target: tf.Tensor, probability: tf.Tensor, positiveWeight: number): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(probability, 1e-6, 1 - 1e-6);
    const positive = tf.mul(tf.mul(target, tf.log(p)), positiveWeight);
    const negative = tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)));
    return tf.neg(tf.mean(tf.add(positive, negative))) as tf.Scalar;
  });
}

export const FINETUNE_DEFAULTS = {
  /** First phase: the added head alone, the CAE's layers fixed (the seed trains the added layers to convergence first). */
  headEpochs: 10,
  /** Second phase: the whole network. */
  epochs: 20,
  /** Small: an annotated set may be a handful of patches, and each step counts. */
  batchSize: 2,
  /** Adam's rate for the new head (a tiny network, trained from scratch). */
  headLearningRate: 1e-2,
  /** Adam's rate for the whole network: 10⁻³ wiped out the map on synthetic H&E, 10⁻⁴ refines it. */
  learningRate: 1e-4,
  /**
   * w₊ of the weighted cross-entropy: about half the weight that would
   * balance the classes (≈ 61 at 1.6 % positives). Nucleus cells then peak
   * well above the detection threshold, while a background cell of nucleus
   * probability π settles at w₊π / (1 + w₊π), under 0.2 for π up to 0.8 %.
   * With full balance the background rises to about the threshold, and
   * weights of 10 or less leave the peaks near or under it (synthetic H&E).
   */
  positiveWeight: 30,
  /** Random flips and quarter turns of each patch and its target (the seed rotates and mirrors its inputs). */
  augment: true,
} as const;

export interface FineTuneProgress extends TrainProgress {
  /** 'head': the added layers alone; 'all': the whole network. */
  phase: 'head' | 'all';
  /** Epoch over both phases (0-based) and their total. */
  overallEpoch: number;
  overallEpochs: number;
}

/** Annotated patches of one slide: every nucleus inside `patches` must be annotated (unlabelled ones would be taught as background). */
export interface AnnotatedPatches {
  source: SlideSource;
  grid: TileGrid;
  /** Nucleus centres, level-0 px (continuous: pixel c covers [c, c + 1)). */
  annotations: PointAnnotations;
  /** Tiles to train on; default: the grid's kept tiles that hold at least one centre. */
  patches?: Uint32Array;
}

export interface FineTuneOptions {
  headEpochs?: number;
  epochs?: number;
  batchSize?: number;
  headLearningRate?: number;
  learningRate?: number;
  positiveWeight?: number;
  augment?: boolean;
  seed?: number;
  onProgress?: (p: FineTuneProgress) => void;
  onEpochEnd?: (summary: EpochSummary & { phase: 'head' | 'all' }, cnn: DetectionCnn) => void | Promise<void>;
  signal?: AbortSignal;
  control?: TrainingControl;
}

export interface FineTuneResult {
  head: TrainResult | null;
  all: TrainResult | null;
  /** Patches trained on, the annotated centres inside them, and the map cells their targets mark (two centres may share one). */
  patches: number;
  points: number;
  positives: number;
  status: TrainResult['status'];
}

/**
 * Fine-tunes the detection CNN on annotated patches (of one slide or
 * several), through the shared training loop (progress, pause, cancel), in
 * two phases as in the seed: the added head alone, then the whole network.
 *
 * - Targets: pointsToTargetMap (a binary map, 1 at cells holding a centre).
 * - Loss: weighted binary cross-entropy (the seed's log-likelihood, with
 *   the rare nucleus cells weighted `positiveWeight` times).
 * - Optimiser: Adam. The seed used SGD with momentum with rates chosen per
 *   task; Adam's per-weight step sizes suit a run of a hundred-odd steps in
 *   which a freshly initialised head and pretrained layers of very different
 *   gradient scales are trained, without a search for the rate per task.
 *   The head alone trains at 10⁻², the whole network continues at 10⁻⁴ so
 *   that a handful of patches adjust the CAE's layers rather than overwrite
 *   them. (A new optimiser per phase: the head's moments do not carry over.)
 * - Every layer runs in inference mode: batch norm uses the CAE's moving
 *   statistics (a batch of a few annotated patches would give noisy ones,
 *   and would shift D′ against the frozen t), and the threshold layer keeps
 *   t. The batch norms' scales and offsets still learn.
 * - Augmentation: each patch and its target get one of the eight flips and
 *   quarter turns, drawn per sample per epoch (seeded).
 */
export async function trainDetectionCnn(
  cnn: DetectionCnn,
  data: AnnotatedPatches | readonly AnnotatedPatches[],
  options: FineTuneOptions = {},
): Promise<FineTuneResult> {
  const o = {
    headEpochs: options.headEpochs ?? FINETUNE_DEFAULTS.headEpochs,
    epochs: options.epochs ?? FINETUNE_DEFAULTS.epochs,
    batchSize: options.batchSize ?? FINETUNE_DEFAULTS.batchSize,
    headLearningRate: options.headLearningRate ?? FINETUNE_DEFAULTS.headLearningRate,
    learningRate: options.learningRate ?? FINETUNE_DEFAULTS.learningRate,
    positiveWeight: options.positiveWeight ?? FINETUNE_DEFAULTS.positiveWeight,
    augment: options.augment ?? FINETUNE_DEFAULTS.augment,
  };
  const checkInteger = (name: string, v: number, min: number) => {
    if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  checkInteger('batch size', o.batchSize, 1);
  checkInteger('head epochs', o.headEpochs, 0);
  checkInteger('epochs', o.epochs, 0);
  if (o.headEpochs + o.epochs === 0) throw new RangeError('fine-tuning needs at least one epoch');
  if (!(o.headLearningRate > 0 && o.learningRate > 0)) throw new RangeError('learning rates must be positive');
  if (!(o.positiveWeight > 0)) throw new RangeError(`the positive weight must be positive, got ${o.positiveWeight}`);

  const size = cnn.inputSize;
  const mapSize = size / 4;
  const spec = nucleusInputSpec(size);
  // One item per annotated patch, over all slides.
  const items: Array<{ slide: AnnotatedPatches; tile: number; target: Float32Array }> = [];
  let points = 0;
  for (const slide of Array.isArray(data) ? data : [data as AnnotatedPatches]) {
    const { grid, annotations } = slide;
    const tiles = slide.patches ?? annotatedTiles(grid, annotations);
    points += annotationsPerTile(grid, tiles, annotations).reduce((a, n) => a + n, 0);
    for (const tile of tiles) {
      items.push({ slide, tile, target: pointsToTargetMap(annotations, [grid.x[tile], grid.y[tile], grid.width[tile], grid.height[tile]], mapSize) });
    }
  }
  if (items.length === 0) throw new Error('no patch holds an annotated nucleus: nothing to fine-tune on');
  const positives = items.reduce((n, item) => n + item.target.reduce((a, v) => a + v, 0), 0);
  // Inputs are read once and kept when they fit in 256 MiB (annotated sets are small); otherwise read per batch.
  const inputValues = size * size * 3;
  const cacheable = items.length * inputValues * 4 <= 256 * 1024 * 1024;
  const cache = new Map<number, Float32Array>();
  const seed = options.seed ?? 0;
  const steps = Math.ceil(items.length / o.batchSize);

  const provider = (phase: string): BatchProvider => {
    let orderEpoch = -1;
    let order = new Uint32Array(0);
    let turns = new Uint8Array(0);
    return {
      stepsPerEpoch: steps,
      async getBatch(epoch, step, signal): Promise<Batch> {
        if (epoch !== orderEpoch) {
          const random = new Random(`${seed}:${phase}:${epoch}`);
          order = random.shuffle(Uint32Array.from(items, (_, i) => i));
          turns = Uint8Array.from(items, () => (o.augment ? random.int(8) : 0));
          orderEpoch = epoch;
        }
        const picked = Array.from(order.subarray(step * o.batchSize, Math.min(order.length, (step + 1) * o.batchSize)));
        const inputs = await Promise.all(
          picked.map(async (i) => {
            const cached = cache.get(i);
            if (cached) return cached;
            const { source, grid } = items[i].slide;
            const values = await readTileInputs(source, grid, [items[i].tile], spec, signal);
            if (cacheable) cache.set(i, values);
            return values;
          }),
        );
        const xs = new Float32Array(picked.length * inputValues);
        const ys = new Float32Array(picked.length * mapSize * mapSize);
        picked.forEach((i, b) => {
          xs.set(dihedral(inputs[b], size, 3, turns[i]), b * inputValues);
          ys.set(dihedral(items[i].target, mapSize, 1, turns[i]), b * mapSize * mapSize);
        });
        return { xs: tf.tensor4d(xs, [picked.length, size, size, 3]), ys: tf.tensor4d(ys, [picked.length, mapSize, mapSize, 1]) };
      },
    };
  };

  // Inference mode throughout (see above); gradients still reach every weight in `variables`.
  const computeLoss = (batch: Batch): tf.Scalar => weightedBinaryCrossEntropy(batch.ys!, cnn.model.apply(batch.xs, { training: false }) as tf.Tensor, o.positiveWeight);
  const overallEpochs = o.headEpochs + o.epochs;
  const phases: Array<{ phase: 'head' | 'all'; epochs: number; rate: number; variables?: tf.Variable[]; offset: number }> = [
    { phase: 'head', epochs: o.headEpochs, rate: o.headLearningRate, variables: detectionHeadVariables(cnn), offset: 0 },
    { phase: 'all', epochs: o.epochs, rate: o.learningRate, offset: o.headEpochs },
  ];
  const results: Record<'head' | 'all', TrainResult | null> = { head: null, all: null };
  let status: TrainResult['status'] = 'completed';
  for (const p of phases) {
    if (p.epochs === 0) continue;
    if (options.signal?.aborted) {
      status = 'cancelled';
      break;
    }
    const optimizer = tf.train.adam(p.rate);
    try {
      const result = await trainModel({
        model: cnn.model,
        optimizer,
        computeLoss,
        batches: provider(p.phase),
        epochs: p.epochs,
        variables: p.variables,
        onProgress: (progress) => {
          // The ETA also covers the second phase, at this phase's pace per sample.
          const later = p.phase === 'head' ? o.epochs * items.length : 0;
          const etaSeconds = progress.etaSeconds === null ? null : progress.etaSeconds + later / progress.samplesPerSecond;
          options.onProgress?.({ ...progress, etaSeconds, phase: p.phase, overallEpoch: p.offset + progress.epoch, overallEpochs });
        },
        onEpochEnd: (summary) => options.onEpochEnd?.({ ...summary, phase: p.phase }, cnn),
        signal: options.signal,
        control: options.control,
      });
      results[p.phase] = result;
      if (result.status === 'cancelled') {
        status = 'cancelled';
        break;
      }
    } finally {
      disposeOptimizer(optimizer);
    }
  }
  return { ...results, patches: items.length, points, positives, status };
}

/**
 * The fine-tuned CNN as a detector for computeDetectionMaps / detectNuclei:
 * its probability map is the detection map. Each nucleus's features are the
 * unsupervised CAE's foreground features X′ when `features` is given (the
 * representation the explorer clusters; this runs the CAE's encoder too), or
 * else the CNN's penultimate 1×1 features (which, the head reading only the
 * one-channel D, describe the detection score rather than the nucleus).
 */
export function fineTunedDetector(cnn: DetectionCnn, features?: CspCaeModels): NucleusDetector {
  if (features && features.inputSize !== cnn.inputSize) throw new RangeError(`the CAE reads ${features.inputSize} px patches, the CNN ${cnn.inputSize} px`);
  const encoder = features ? tfl.model({ inputs: features.inspector.inputs, outputs: features.inspector.outputs[1] }) : null;
  const featureDim = ((encoder ? encoder.outputs[0] : cnn.inspector.outputs[1]).shape[3] ?? 1) as number;
  return {
    inputSize: cnn.inputSize,
    featureDim,
    run(patches) {
      if (encoder === null) {
        const [map, head] = cnn.inspector.apply(patches, { training: false }) as tf.Tensor[];
        return { map, features: head };
      }
      return { map: cnn.model.apply(patches, { training: false }) as tf.Tensor, features: encoder.apply(patches, { training: false }) as tf.Tensor };
    },
  };
}
