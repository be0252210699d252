import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * The crosswise-sparse CAE's thresholding layer (seed 001, Eqs. 6–7; SPEC §2):
 *   D = sigmoid(r · (D′ − t)),
 * where t is a running average, over training batches, of the value that
 * the top p % of each input's D′ positions exceed: t ← (1 − α)·t + α·mean_b q_b
 * with q_b = percentile_{100−p}(D′_b). The seed writes "the p-th percentile"
 * for the value that leaves p % of the map active (p = 1.6 % ≈ 10 of 625
 * positions fire, the mean number of nuclei per patch), so the percentile
 * taken here is the (100 − p)-th, interpolated linearly as NumPy does.
 *
 * t is a non-trainable weight, saved with the model: it is updated only by
 * calls in training mode and is frozen in inference. Gradients reach D′
 * through the sigmoid only (t is a variable, not a function of D′).
 */
export interface SparsityThresholdArgs {
  /** r: slope of the sigmoid (20 in the seed: D is binary in practice). */
  slope?: number;
  /** p: share of positions meant to fire, in per cent (1.6 in the seed). */
  sparsityPercent?: number;
  /** α: weight of the newest batch in the running average (0.1 in the seed). */
  momentum?: number;
  name?: string;
}

export const THRESHOLD_DEFAULTS = { slope: 20, sparsityPercent: 1.6, momentum: 0.1 } as const;

export class SparsityThreshold extends tfl.layers.Layer {
  static className = 'SparsityThreshold';
  readonly slope: number;
  readonly sparsityPercent: number;
  readonly momentum: number;
  private threshold: tfl.LayerVariable | null = null;

  constructor(args: SparsityThresholdArgs = {}) {
    super({ name: args.name, trainable: true });
    this.slope = args.slope ?? THRESHOLD_DEFAULTS.slope;
    this.sparsityPercent = args.sparsityPercent ?? THRESHOLD_DEFAULTS.sparsityPercent;
    this.momentum = args.momentum ?? THRESHOLD_DEFAULTS.momentum;
    if (!(this.slope > 0)) throw new RangeError(`threshold slope r must be positive, got ${this.slope}`);
    if (!(this.sparsityPercent > 0 && this.sparsityPercent < 100)) {
      throw new RangeError(`sparsity p must lie strictly between 0 and 100 %, got ${this.sparsityPercent}`);
    }
    if (!(this.momentum > 0 && this.momentum <= 1)) throw new RangeError(`running-average weight α must lie in (0, 1], got ${this.momentum}`);
  }

  override build(): void {
    this.threshold = this.addWeight('threshold', [], 'float32', tfl.initializers.zeros(), undefined, false);
    this.built = true;
  }

  /** The current t. */
  get thresholdValue(): number {
    return (this.threshold!.read().dataSync() as Float32Array)[0];
  }

  /**
   * Sets t (e.g. to the percentile of D′ measured in inference mode after
   * training, see pipeline.calibrateThreshold). The value is saved with the model.
   */
  setThresholdValue(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`threshold must be finite, got ${value}`);
    const next = tf.scalar(value);
    this.threshold!.write(next);
    next.dispose();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training) {
      const next = tf.tidy(() => {
        const q = tf.mean(perImagePercentile(x, 100 - this.sparsityPercent));
        const t = this.threshold!.read();
        return tf.add(tf.mul(t, 1 - this.momentum), tf.mul(q, this.momentum));
      });
      this.threshold!.write(next);
      next.dispose(); // the variable holds its own reference to the data
    }
    return tf.tidy(() => tf.sigmoid(tf.mul(tf.sub(x, this.threshold!.read()), this.slope)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), slope: this.slope, sparsityPercent: this.sparsityPercent, momentum: this.momentum };
  }
}
tf.serialization.registerClass(SparsityThreshold);

/**
 * The q-th percentile (0–100, linear interpolation as numpy.percentile) of
 * every image's values: [B, …] → [B]. Uses top-k, so high percentiles of
 * large maps cost little.
 */
export function perImagePercentile(x: tf.Tensor, q: number): tf.Tensor1D {
  return tf.tidy(() => {
    const batch = x.shape[0] ?? 1;
    const flat = tf.reshape(x, [batch, -1]) as tf.Tensor2D;
    const n = flat.shape[1];
    const h = (q / 100) * (n - 1);
    const low = Math.floor(h);
    const fraction = h - low;
    // Ascending index `low` is the (n − low)-th largest value.
    const k = Math.min(n, n - low);
    const { values } = tf.topk(flat, k, true);
    const atLow = tf.reshape(tf.slice(values, [0, k - 1], [batch, 1]), [batch]);
    if (fraction === 0 || k < 2) return atLow as tf.Tensor1D;
    const atHigh = tf.reshape(tf.slice(values, [0, k - 2], [batch, 1]), [batch]);
    return tf.add(atLow, tf.mul(tf.sub(atHigh, atLow), fraction)) as tf.Tensor1D;
  });
}
