import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Layer helpers shared by the two classifiers of seed 002 (Mobincep here,
 * OrgaNet in ../organet), which were both written in PyTorch.
 */

/**
 * Batch norm as PyTorch's defaults: the moving statistics keep 0.9 of their
 * old value (PyTorch's momentum 0.1; Keras's 0.99 lags far behind the batches
 * in short runs) and ε = 1e-5.
 */
export const BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

/**
 * A view of a classifier (the same layers, other outputs), built once per
 * classifier: the training loss and prediction ask for it at every step or
 * batch, and building the graph each time is wasted work.
 */
export function viewPerModel(build: (model: tfl.LayersModel) => tfl.LayersModel): (model: tfl.LayersModel) => tfl.LayersModel {
  const views = new WeakMap<tfl.LayersModel, tfl.LayersModel>();
  return (model) => {
    let view = views.get(model);
    if (view === undefined) {
      view = build(model);
      views.set(model, view);
    }
    return view;
  };
}

/**
 * Seeds for the layers' initialisers: each call gives the next seed, or
 * undefined (TF.js's own random state) when no seed was given.
 */
export class SeedSequence {
  private next: number | undefined;

  constructor(seed?: number) {
    this.next = seed;
  }

  take(): number | undefined {
    if (this.next === undefined) return undefined;
    return this.next++;
  }
}

/**
 * Kaiming (He) uniform initialisation as PyTorch's
 * `nn.init.kaiming_uniform_(w, nonlinearity='relu')`: U(−b, b) with
 * b = √(6 / fan_in), where fan_in is the number of inputs of one output unit:
 * k²·C_in for a conv, k² for a depth-wise conv (one input channel per filter),
 * the input length for a linear layer. The bound is computed here rather than
 * left to `heUniform`, because TF.js derives a depth-wise kernel's fan-in
 * from its [k, k, C, 1] shape as k²·C, which would shrink it by √C.
 */
export function kaimingUniform(fanIn: number, seeds: SeedSequence): ReturnType<typeof tfl.initializers.randomUniform> {
  const bound = Math.sqrt(6 / fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seeds.take() });
}

export function batchNorm(name: string): tfl.layers.Layer {
  return tfl.layers.batchNormalization({ name, axis: -1, ...BATCH_NORM });
}

export function apply(layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}
