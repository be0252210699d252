/**
 * Hyper-parameters of the CISH autoencoder as given in seed 000 (SPEC §1).
 * Tile geometry is in micrometres so it survives a change of scan resolution;
 * `tilePixels` converts it at the working scale.
 */
export type CishLossName = 'mse' | 'mae';
export type CishIntensityMode = 'intensity' | 'od';

export interface CishDefaults {
  /** Side of the square network input in pixels (150 µm at 0.5 µm/px). */
  readonly inputSize: number;
  readonly latentDim: number;
  /** The seed found no difference between 30 and 60; 32 keeps batches power-of-two friendly. */
  readonly batchSize: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly optimizer: 'adam';
  /**
   * Adam's ε. The seed trained with PyTorch, whose Adam uses 1e-8; tfjs
   * defaults to 1e-7. It matters here: most gradients of this network are
   * ~1e-9 (MSE averaged over 90,000 pixels, through a 2-unit bottleneck), so
   * with ε = 1e-7 the effective step of the encoder is ~100× below the
   * learning rate and the latent code stays uninformative for hundreds of steps.
   */
  readonly adamEpsilon: number;
  /** MSE converged about 20 % faster than MAE in the seed. */
  readonly loss: CishLossName;
  readonly tileMicrons: number;
  readonly overlapMicrons: number;
  readonly micronsPerPixel: number;
  readonly intensityMode: CishIntensityMode;
  /** Slope of LeakyReLU for negative inputs: PyTorch's default, which the seed used. */
  readonly leakyAlpha: number;
}

export const CISH_DEFAULTS: CishDefaults = Object.freeze({
  inputSize: 300,
  latentDim: 2,
  batchSize: 32,
  epochs: 70,
  learningRate: 1e-3,
  optimizer: 'adam',
  adamEpsilon: 1e-8,
  loss: 'mse',
  tileMicrons: 150,
  overlapMicrons: 75,
  micronsPerPixel: 0.5,
  intensityMode: 'intensity',
  leakyAlpha: 0.01,
});

/**
 * Fuzzy c-means on the latent codes (seed 000 §4): K = 7, m = 2, tol 0.005.
 * `nInit` random starts are not in the seed; one start in a few stops in a
 * local minimum that merges two expression levels and splits another, and
 * ten starts cost ~10 × a run that takes well under a second on 100k tiles.
 */
/**
 * Tiles per encoder batch when encoding a slide. Not from the seed, whose batch
 * size concerns training: 64 tiles (23 MB of float input) spread the fixed
 * cost of a batch (a round trip to a model copy's worker) and fit any
 * backend's memory. The benchmark times encoding at this size.
 */
export const CISH_ENCODE_BATCH = 64;

export const CISH_FCM_DEFAULTS = Object.freeze({ k: 7, m: 2, tol: 0.005, nInit: 10 });

/** Tile side and step in pixels for a given scale; the network input stays `inputSize`. */
export function tilePixels(
  tileMicrons: number = CISH_DEFAULTS.tileMicrons,
  overlapMicrons: number = CISH_DEFAULTS.overlapMicrons,
  micronsPerPixel: number = CISH_DEFAULTS.micronsPerPixel,
): { size: number; step: number } {
  if (!(micronsPerPixel > 0)) throw new Error('micronsPerPixel must be positive');
  if (!(overlapMicrons >= 0 && overlapMicrons < tileMicrons)) {
    throw new Error('overlap must be in [0, tile size)');
  }
  const size = Math.round(tileMicrons / micronsPerPixel);
  const step = Math.round((tileMicrons - overlapMicrons) / micronsPerPixel);
  return { size, step };
}

/**
 * How a whole-slide run (CLI `analyze`, the app's panel) trains and tiles by
 * default. Not from the seed, which trains a fixed 70 epochs on tiles as
 * scanned; each value is justified in README.md (issue 15's measurements).
 */
export const CISH_RUN_DEFAULTS = Object.freeze({
  /** Epochs without a lower epoch loss before training stops (0 = run every epoch). */
  patience: 5,
  /** An epoch counts as an improvement when its loss is this share below the best so far. */
  minRelativeDrop: 0.01,
  /**
   * Training does not stop as settled before the loss fell this share below
   * the first epoch's: the `loss-flat` self-check's threshold. Without it,
   * runs on glass-filled tiles stopped after 6 epochs 1.3 % down (maps fine,
   * check fired).
   */
  minTotalDrop: 0.02,
  /** Training stops at the first epoch end after this many minutes. */
  maxMinutes: 10,
  /** Glass pixels inside a tile take the mean of its tissue ('fill') or stay ('keep'). */
  glass: 'fill' as 'fill' | 'keep',
  minTissue: 0.5,
});
