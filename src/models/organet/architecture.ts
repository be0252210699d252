/**
 * OrgaNet (seed 002, ch. 7; SPEC §3) as data: the adaptation layer's
 * geometry, the MobileNet-v2 configuration, the width multiplier, parameter
 * counts and FLOPs. No TensorFlow.js here.
 *
 * Layout: adaptation layer (conv + BN: 382×382×1 → 224×224×3) → MobileNet-v2
 * feature extractor → global average pool → fully connected latent (d = 10)
 * → linear classification head for the cross-entropy term.
 *
 * Size. The thesis gives 2.24 M parameters. MobileNet-v2's feature extractor
 * at width 1 (stem, 17 bottlenecks, the 1×1 conv to 1280 channels) has
 * 2 223 872 trainable parameters and a 1280 → 10 latent adds 12 810: 2.2367 M
 * — the thesis's number, so the extractor is the standard one, blocks
 * (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1)
 * (6,160,3,2) (6,320,1,1). The thesis describes bottlenecks with t = 6; as
 * in MobileNet-v2 (and the ImageNet weights the seed started from), the first
 * one has t = 1 and so no expansion conv. The adaptation layer adds 33
 * (27 weights + 6 BN) and the head 110 (10 classes): 2 236 825 in all.
 *
 * Adaptation geometry. A stride-1 conv maps 382 to 224 only with a 159×159
 * kernel (75 846 weights, 2.31 M in all: not the thesis's count), so the layer
 * is a small strided conv: 3×3, stride 2, after 34 pixels of zero padding on
 * every side: ⌊(382 + 68 − 3) / 2⌋ + 1 = 224 exactly. The image fills the
 * central 191×191 of the 224×224 map; the border is constant. (A resize to
 * 224 would fill it but discards resolution, which the thesis's layer exists
 * to keep.) For other sizes `adaptationGeometry` picks the stride and padding
 * the same way.
 */

export interface BottleneckStage {
  /** Expansion factor t of the first 1×1 conv (1: no expansion conv). */
  expansion: number;
  /** Output channels c. */
  filters: number;
  /** Blocks n in the stage. */
  repeats: number;
  /** Stride s of the stage's first block (later blocks: 1). */
  stride: number;
}

const stage = (expansion: number, filters: number, repeats: number, stride: number): BottleneckStage => ({ expansion, filters, repeats, stride });

export const MOBILENET_V2_STEM = { kernel: 3, stride: 2, filters: 32 } as const;

export const MOBILENET_V2_STAGES: readonly BottleneckStage[] = [
  stage(1, 16, 1, 1),
  stage(6, 24, 2, 2),
  stage(6, 32, 3, 2),
  stage(6, 64, 4, 2),
  stage(6, 96, 3, 1),
  stage(6, 160, 3, 2),
  stage(6, 320, 1, 1),
];

/** Channels of the last 1×1 conv, before the pool. */
export const MOBILENET_V2_LAST = 1280;

export const ORGANET_DEFAULTS = {
  inputSize: 382,
  inputChannels: 1,
  /** Side of the adaptation layer's output (MobileNet-v2's input). */
  adaptedSize: 224,
  adaptedChannels: 3,
  latentDim: 10,
  width: 1,
  /** Weight of the MMD term. */
  gamma: 1,
  /** Adam. */
  learningRate: 1e-4,
  /** k-means restarts when fitting DEC (the seed's script: 20). */
  decRestarts: 20,
} as const;

/**
 * MobileNet-v2's channel rounding: the nearest multiple of 8, at least 8,
 * and never more than 10 % below the unrounded value.
 */
export function makeDivisible(value: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor(value + divisor / 2) - (Math.floor(value + divisor / 2) % divisor));
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

export function checkWidth(width: number): void {
  if (!(Number.isFinite(width) && width > 0)) throw new RangeError(`width multiplier must be a positive number, got ${width}`);
}

/**
 * Channels under a width multiplier. Every width scales, the last conv's
 * 1280 included (torchvision keeps 1280 below width 1; scaling it keeps test
 * models small). Width 1 is the standard network.
 */
export function organetChannels(filters: number, width: number): number {
  return makeDivisible(filters * width);
}

export interface AdaptationGeometry {
  kernel: number;
  stride: number;
  /** Zero rows/columns added before the conv: [top, bottom] (= [left, right]). */
  padding: [number, number];
}

/**
 * A 3×3 conv with zero padding mapping `inputSize` to `adaptedSize` exactly:
 * the smallest stride that can, then the least padding (split evenly when
 * the total is even, one more at the end otherwise). 382 → 224: stride 2,
 * 34 on each side.
 */
export function adaptationGeometry(inputSize: number, adaptedSize: number): AdaptationGeometry {
  if (!(Number.isInteger(inputSize) && inputSize >= 1)) throw new RangeError(`input size must be a positive integer, got ${inputSize}`);
  if (!(Number.isInteger(adaptedSize) && adaptedSize >= 1)) throw new RangeError(`adapted size must be a positive integer, got ${adaptedSize}`);
  const kernel = 3;
  // Output of a valid conv over a padded side P: ⌊(P − k) / s⌋ + 1. It equals A for
  // P − k in [s(A − 1), s(A − 1) + s − 1]; the padding must be ≥ 0, so s ≥ (S − k + 1) / A.
  const stride = Math.max(1, Math.ceil((inputSize - kernel + 1) / adaptedSize));
  const lowest = stride * (adaptedSize - 1) + kernel - inputSize;
  const highest = lowest + stride - 1;
  let total = Math.max(0, lowest);
  if (total % 2 === 1 && total + 1 <= highest) total += 1;
  const before = Math.floor(total / 2);
  return { kernel, stride, padding: [before, total - before] };
}

/** One conv of the network, in data-flow order, with its input geometry. */
export interface ConvVisit {
  name: string;
  kind: 'conv' | 'depthwise';
  kernel: number;
  stride: number;
  /** Side of the conv's input after any padding it applies ('same' convs: the unpadded side). */
  inputSide: number;
  outputSide: number;
  inputChannels: number;
  outputChannels: number;
}

export interface OrganetShape {
  inputSize: number;
  inputChannels: number;
  adaptedSize: number;
  width: number;
}

/** One bottleneck block: names, channels and whether the residual applies. */
export interface BottleneckBlock {
  name: string;
  expansion: number;
  inputChannels: number;
  hiddenChannels: number;
  outputChannels: number;
  stride: number;
  residual: boolean;
}

/** MobileNet-v2's bottleneck blocks under a width multiplier, named block1 … block17. */
export function bottleneckBlocks(width: number): BottleneckBlock[] {
  checkWidth(width);
  const blocks: BottleneckBlock[] = [];
  let channels = organetChannels(MOBILENET_V2_STEM.filters, width);
  for (const s of MOBILENET_V2_STAGES) {
    const out = organetChannels(s.filters, width);
    for (let r = 0; r < s.repeats; r++) {
      const stride = r === 0 ? s.stride : 1;
      blocks.push({
        name: `block${blocks.length + 1}`,
        expansion: s.expansion,
        inputChannels: channels,
        hiddenChannels: Math.round(channels * s.expansion),
        outputChannels: out,
        stride,
        residual: stride === 1 && channels === out,
      });
      channels = out;
    }
  }
  return blocks;
}

const same = (side: number, stride: number) => Math.ceil(side / stride);

/** Visits every conv in data-flow order; returns the last feature map's side and channels. */
export function forEachOrganetConv(shape: OrganetShape, visit: (conv: ConvVisit) => void): { side: number; channels: number } {
  const adapt = adaptationGeometry(shape.inputSize, shape.adaptedSize);
  const padded = shape.inputSize + adapt.padding[0] + adapt.padding[1];
  visit({
    name: 'adapt',
    kind: 'conv',
    kernel: adapt.kernel,
    stride: adapt.stride,
    inputSide: padded,
    outputSide: shape.adaptedSize,
    inputChannels: shape.inputChannels,
    outputChannels: ORGANET_DEFAULTS.adaptedChannels,
  });
  let side = shape.adaptedSize;
  const stem = organetChannels(MOBILENET_V2_STEM.filters, shape.width);
  const conv = (name: string, kind: ConvVisit['kind'], kernel: number, stride: number, cin: number, cout: number) => {
    const out = same(side, stride);
    visit({ name, kind, kernel, stride, inputSide: side, outputSide: out, inputChannels: cin, outputChannels: cout });
    side = out;
  };
  conv('stem', 'conv', MOBILENET_V2_STEM.kernel, MOBILENET_V2_STEM.stride, ORGANET_DEFAULTS.adaptedChannels, stem);
  for (const b of bottleneckBlocks(shape.width)) {
    if (b.expansion !== 1) conv(`${b.name}_expand`, 'conv', 1, 1, b.inputChannels, b.hiddenChannels);
    conv(`${b.name}_dw`, 'depthwise', 3, b.stride, b.hiddenChannels, b.hiddenChannels);
    conv(`${b.name}_project`, 'conv', 1, 1, b.hiddenChannels, b.outputChannels);
  }
  const blocks = bottleneckBlocks(shape.width);
  const last = organetChannels(MOBILENET_V2_LAST, shape.width);
  conv('last', 'conv', 1, 1, blocks[blocks.length - 1].outputChannels, last);
  return { side, channels: last };
}

export interface ParameterCount {
  /** Trainable weights (PyTorch's count). */
  trainable: number;
  /** As TF.js's countParams(): trainable + BN moving mean and variance. */
  total: number;
}

export interface OrganetCountOptions extends OrganetShape {
  latentDim: number;
  classes: number;
  /** The latent itself gives the class scores (no head). */
  latentAsLogits?: boolean;
}

/** Convs without bias (BN after each), 2 trainable + 2 moving values per BN channel; dense layers with bias. */
export function organetParameters(options: OrganetCountOptions): ParameterCount {
  let trainable = 0;
  let moving = 0;
  const { channels } = forEachOrganetConv(options, (conv) => {
    const weights = conv.kind === 'depthwise' ? conv.kernel * conv.kernel * conv.inputChannels : conv.kernel * conv.kernel * conv.inputChannels * conv.outputChannels;
    trainable += weights + 2 * conv.outputChannels;
    moving += 2 * conv.outputChannels;
  });
  trainable += channels * options.latentDim + options.latentDim;
  if (!options.latentAsLogits) trainable += options.latentDim * options.classes + options.classes;
  return { trainable, total: trainable + moving };
}

/** FLOPs of one forward pass for one image (2 per multiply-add of convs and dense layers). */
export function organetForwardFlops(options: OrganetCountOptions): number {
  let macs = 0;
  const { channels } = forEachOrganetConv(options, (conv) => {
    const perPixel = conv.kind === 'depthwise' ? conv.kernel * conv.kernel * conv.inputChannels : conv.kernel * conv.kernel * conv.inputChannels * conv.outputChannels;
    macs += conv.outputSide * conv.outputSide * perPixel;
  });
  macs += channels * options.latentDim + (options.latentAsLogits ? 0 : options.latentDim * options.classes);
  return 2 * macs;
}
