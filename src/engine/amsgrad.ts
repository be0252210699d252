import * as tf from '@tensorflow/tfjs-core';

/**
 * AMSGrad (Reddi, Kale & Kumar, 2018): Adam whose second-moment estimate
 * never decreases. TF.js 4.22 has no AMSGrad option, so it is written here as
 * an ordinary tf.Optimizer. The update is PyTorch's `Adam(amsgrad=True)` (the
 * framework of seed 002), with Adam's bias corrections kept:
 *
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   v̂ ← max(v̂, v)
 *   θ ← θ − lr · (m / (1 − β1ᵗ)) / (√(v̂ / (1 − β2ᵗ)) + ε)
 *
 * where t counts the steps from 1. (Keras puts ε inside the bias-corrected
 * step instead; the two differ only in how ε scales.)
 *
 * Slots (m, v, v̂ per variable) belong to the position of a variable in the
 * gradients passed to `applyGradients`, as with TF.js's own Adam: the project
 * copies optimizer state between model copies whose variables have different
 * names (engine/data-parallel.ts), so names cannot be the key. The variables
 * must therefore come in the same order at every step, which `minimize` and
 * the training loop guarantee.
 *
 * `getWeights()` gives the iteration count (a new scalar: the caller disposes
 * it) followed by every m, then every v, then every v̂, named
 * `<variable>/m`, `<variable>/v`, `<variable>/vhat`; `setWeights()` takes the
 * same list back (it makes its own variables, so the caller may dispose the
 * tensors it passed). `dispose()` frees every slot.
 */

/** A named tensor, as the optimizer API passes them (tfjs-core does not export the type). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

export interface AmsgradConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class AMSGradOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'AMSGrad';
  }

  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private firstMoments: Slot[] = [];
  private secondMoments: Slot[] = [];
  private maxSecondMoments: Slot[] = [];

  /** Defaults: β1 = 0.9, β2 = 0.999, ε = 1e-8 (PyTorch's). */
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8) {
    super();
    for (const [name, value] of [
      ['learning rate', learningRate],
      ['epsilon', epsilon],
    ] as const) {
      if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`AMSGrad: ${name} must be a finite number ≥ 0, got ${value}`);
    }
    for (const [name, value] of [
      ['beta1', beta1],
      ['beta2', beta2],
    ] as const) {
      if (!(value >= 0 && value < 1)) throw new RangeError(`AMSGrad: ${name} must lie in [0, 1), got ${value}`);
    }
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[string, tf.Tensor | undefined]> = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.keys(variableGradients).map((name) => [name, variableGradients[name]]);
    // Step number t of this update (1 for the first).
    const t = this.iterations + 1;
    const correction1 = 1 - Math.pow(this.beta1, t);
    const correction2 = 1 - Math.pow(this.beta2, t);
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      entries.forEach(([name, gradient], i) => {
        const value = registered[name];
        if (value === undefined) throw new Error(`AMSGrad: no variable named '${name}'`);
        if (this.firstMoments[i] === undefined) {
          this.firstMoments[i] = makeSlot(`${name}/m`, value);
          this.secondMoments[i] = makeSlot(`${name}/v`, value);
          this.maxSecondMoments[i] = makeSlot(`${name}/vhat`, value);
        }
        if (gradient == null) return;
        const m = this.firstMoments[i].variable;
        const v = this.secondMoments[i].variable;
        const vHat = this.maxSecondMoments[i].variable;
        const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const newVHat = tf.maximum(vHat, newV);
        m.assign(newM);
        v.assign(newV);
        vHat.assign(newVHat);
        const denominator = tf.add(tf.sqrt(tf.div(newVHat, correction2)), this.epsilon);
        const step = tf.mul(tf.div(newM, denominator), this.learningRate / correction1);
        value.assign(tf.sub(value, step));
      });
    });
    this.incrementIterations();
  }

  override dispose(): void {
    for (const slot of [...this.firstMoments, ...this.secondMoments, ...this.maxSecondMoments]) {
      if (slot !== undefined) slot.variable.dispose();
    }
    this.firstMoments = [];
    this.secondMoments = [];
    this.maxSecondMoments = [];
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const slots = [...this.firstMoments, ...this.secondMoments, ...this.maxSecondMoments];
    return [await this.saveIterations(), ...slots.map((s) => ({ name: s.originalName, tensor: s.variable as tf.Tensor }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    if (rest.length % 3 !== 0) {
      throw new Error(`AMSGrad: expected the iteration count then m, v and v̂ for each variable, got ${rest.length} slot tensors`);
    }
    const count = rest.length / 3;
    // New variables first (they share the given tensors' data): the tensors
    // may be this optimizer's own slots, which are freed after.
    const toSlots = (part: NamedTensor[]): Slot[] =>
      part.map((w) => ({ originalName: w.name, variable: w.tensor.variable(false) }));
    const slots = [toSlots(rest.slice(0, count)), toSlots(rest.slice(count, 2 * count)), toSlots(rest.slice(2 * count))];
    this.dispose();
    [this.firstMoments, this.secondMoments, this.maxSecondMoments] = slots;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const ctor = cls as unknown as new (lr: number, b1?: number, b2?: number, eps?: number) => T;
    return new ctor(
      config.learningRate as number,
      config.beta1 as number | undefined,
      config.beta2 as number | undefined,
      config.epsilon as number | undefined,
    );
  }
}

function makeSlot(name: string, like: tf.Tensor): Slot {
  return { originalName: name, variable: tf.tidy(() => tf.zerosLike(like).variable(false)) };
}

// Known to the serialisation map, so copies of a model in other workers can
// rebuild it from its class name and config (engine/data-parallel.ts).
tf.serialization.registerClass(AMSGradOptimizer);

/** An AMSGrad optimizer (defaults as PyTorch: β1 = 0.9, β2 = 0.999, ε = 1e-8). */
export function amsgrad(config: AmsgradConfig): AMSGradOptimizer {
  return new AMSGradOptimizer(config.learningRate, config.beta1, config.beta2, config.epsilon);
}
