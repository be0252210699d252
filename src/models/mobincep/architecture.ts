/**
 * Mobincep (seed 002, ch. 5; SPEC §3) as data: the layer tables, the width
 * multiplier, parameter counts and FLOPs. No TensorFlow.js here, so a page
 * can show a configuration's cost without loading a model.
 *
 * The thesis gives the layout (buffer conv → 4-branch inception module →
 * stack of depth-wise separable convs → global average pool → linear; every
 * conv followed by BN and ReLU; 224×224×3 input) and the size ("about 13
 * times fewer parameters than Inception-ResNet-v2's 56 M", i.e. ~4.3 M,
 * "slightly more than MobileNetV2"), but no filter counts or strides. The
 * ones below are chosen to give that size with familiar building blocks:
 *
 * - Buffer conv: 3×3, stride 2, 32 filters (MobileNet's stem): 224 → 112.
 * - Inception module at 112×112, stride 1: GoogLeNet's module "3a" at half
 *   width: 1×1 → 32; 1×1 → 48 then 3×3 → 64; 1×1 → 8 then 5×5 → 16; 3×3
 *   average pool (stride 1) then 1×1 → 16; concatenated: 128 channels.
 * - Depth-wise separable stack: MobileNet-v1's from its 128-channel stage
 *   on, four stride-2 layers taking 112 → 7, plus one more 1024 → 1024
 *   layer at 7×7. Without that layer the network has 3.26 M parameters
 *   (less than MobileNetV2's 3.5 M, which the thesis says Mobincep exceeds);
 *   with it, 4.31–4.33 M for 2–15 classes, the thesis's ~4.3 M.
 * - Global average pool → 1024 features; linear layer → class logits.
 *
 * Convs have no bias (the batch norm after each supplies the offset). BN and
 * ReLU follow every conv, the depth-wise and the point-wise halves of each
 * separable conv included (as in MobileNet).
 */

export interface ConvSpec {
  kernel: number;
  stride: number;
  filters: number;
}

export interface InceptionSpec {
  /** 1×1 branch. */
  branch1: number;
  /** 1×1 reduction, then 3×3. */
  branch3: { reduce: number; filters: number };
  /** 1×1 reduction, then 5×5. */
  branch5: { reduce: number; filters: number };
  /** Average pool (pool×pool, stride 1), then 1×1. */
  branchPool: { pool: number; filters: number };
}

export interface SeparableSpec {
  /** Output channels of the point-wise conv. */
  filters: number;
  /** Stride of the 3×3 depth-wise conv. */
  stride: number;
}

export const MOBINCEP_BUFFER: ConvSpec = { kernel: 3, stride: 2, filters: 32 };

export const MOBINCEP_INCEPTION: InceptionSpec = {
  branch1: 32,
  branch3: { reduce: 48, filters: 64 },
  branch5: { reduce: 8, filters: 16 },
  branchPool: { pool: 3, filters: 16 },
};

const sep = (filters: number, stride = 1): SeparableSpec => ({ filters, stride });

export const MOBINCEP_SEPARABLE: readonly SeparableSpec[] = [
  sep(128, 2), // 112 → 56
  sep(128),
  sep(256, 2), // → 28
  sep(256),
  sep(512, 2), // → 14
  sep(512),
  sep(512),
  sep(512),
  sep(512),
  sep(512),
  sep(1024, 2), // → 7
  sep(1024),
  sep(1024),
];

export const MOBINCEP_DEFAULTS = {
  inputSize: 224,
  channels: 3,
  width: 1,
  /** Weights of the centroid-separation and scatter terms (the seed's reference code). */
  gamma1: 0.01,
  gamma2: 0.01,
  /** AMSGrad. */
  learningRate: 1e-4,
  /**
   * AMSGrad's ε. The seed's released training script builds
   * `Adam(lr=1e-4, eps=1e-5, amsgrad=True)`; PyTorch's default would be 1e-8.
   */
  epsilon: 1e-5,
  batchSize: 4,
} as const;

/** Channels of a layer under a width multiplier (never below 1). */
export function scaledChannels(filters: number, width: number): number {
  return Math.max(1, Math.round(filters * width));
}

export function checkWidth(width: number): void {
  if (!(Number.isFinite(width) && width > 0)) throw new RangeError(`width multiplier must be a positive number, got ${width}`);
}

/** One conv of the network, in data-flow order, with its input geometry. */
export interface ConvVisit {
  name: string;
  kind: 'conv' | 'depthwise';
  kernel: number;
  stride: number;
  inputSide: number;
  inputChannels: number;
  /** Output channels (= input channels for a depth-wise conv). */
  outputChannels: number;
}

/** 'same' padding: the output side is the input side over the stride, rounded up. */
export function sameOutput(side: number, stride: number): number {
  return Math.ceil(side / stride);
}

export interface MobincepShape {
  inputSize: number;
  channels: number;
  classes: number;
  width: number;
}

/**
 * Visits every conv in data-flow order; returns the side and channels of the
 * last feature map (the input of the global average pool).
 */
export function forEachMobincepConv(shape: MobincepShape, visit: (conv: ConvVisit) => void): { side: number; channels: number } {
  const { width } = shape;
  checkWidth(width);
  const c = (n: number) => scaledChannels(n, width);
  let side = shape.inputSize;
  const buffer = c(MOBINCEP_BUFFER.filters);
  visit({ name: 'buffer', kind: 'conv', kernel: MOBINCEP_BUFFER.kernel, stride: MOBINCEP_BUFFER.stride, inputSide: side, inputChannels: shape.channels, outputChannels: buffer });
  side = sameOutput(side, MOBINCEP_BUFFER.stride);
  const inc = MOBINCEP_INCEPTION;
  const conv = (name: string, kernel: number, cin: number, cout: number) =>
    visit({ name, kind: 'conv', kernel, stride: 1, inputSide: side, inputChannels: cin, outputChannels: cout });
  conv('inc_1x1', 1, buffer, c(inc.branch1));
  conv('inc_3x3_reduce', 1, buffer, c(inc.branch3.reduce));
  conv('inc_3x3', 3, c(inc.branch3.reduce), c(inc.branch3.filters));
  conv('inc_5x5_reduce', 1, buffer, c(inc.branch5.reduce));
  conv('inc_5x5', 5, c(inc.branch5.reduce), c(inc.branch5.filters));
  conv('inc_pool_proj', 1, buffer, c(inc.branchPool.filters));
  let channels = c(inc.branch1) + c(inc.branch3.filters) + c(inc.branch5.filters) + c(inc.branchPool.filters);
  MOBINCEP_SEPARABLE.forEach((spec, i) => {
    const name = `sep${i + 1}`;
    visit({ name: `${name}_dw`, kind: 'depthwise', kernel: 3, stride: spec.stride, inputSide: side, inputChannels: channels, outputChannels: channels });
    side = sameOutput(side, spec.stride);
    const out = c(spec.filters);
    visit({ name: `${name}_pw`, kind: 'conv', kernel: 1, stride: 1, inputSide: side, inputChannels: channels, outputChannels: out });
    channels = out;
  });
  return { side, channels };
}

export interface ParameterCount {
  /** Trainable weights: what PyTorch's `sum(p.numel() for p in model.parameters())` gives. */
  trainable: number;
  /** All weights as TF.js's countParams() counts them: trainable + BN moving mean and variance. */
  total: number;
}

/** Parameters of a configuration: convs (no bias), 2 trainable + 2 moving values per BN channel, the linear layer. */
export function mobincepParameters(shape: MobincepShape): ParameterCount {
  let trainable = 0;
  let moving = 0;
  const { channels: features } = forEachMobincepConv(shape, (conv) => {
    const weights = conv.kind === 'depthwise' ? conv.kernel * conv.kernel * conv.inputChannels : conv.kernel * conv.kernel * conv.inputChannels * conv.outputChannels;
    trainable += weights + 2 * conv.outputChannels;
    moving += 2 * conv.outputChannels;
  });
  trainable += features * shape.classes + shape.classes;
  return { trainable, total: trainable + moving };
}

/** Length of the global-average-pooled feature vector (the penultimate layer). */
export function mobincepFeatureLength(width = 1): number {
  return scaledChannels(MOBINCEP_SEPARABLE[MOBINCEP_SEPARABLE.length - 1].filters, width);
}

/**
 * FLOPs of one forward pass for one image (2 per multiply-add of the convs
 * and the linear layer; BN, ReLU and pools not counted). About 2.1 GFLOP at
 * 224 px: the inception module's 3×3 branch at 112×112 is a third of it.
 */
export function mobincepForwardFlops(shape: MobincepShape): number {
  let macs = 0;
  const { channels } = forEachMobincepConv(shape, (conv) => {
    const out = sameOutput(conv.inputSide, conv.stride);
    const perPixel = conv.kind === 'depthwise' ? conv.kernel * conv.kernel * conv.inputChannels : conv.kernel * conv.kernel * conv.inputChannels * conv.outputChannels;
    macs += out * out * perPixel;
  });
  macs += channels * shape.classes;
  return 2 * macs;
}
