/**
 * The crosswise-sparse CAE's architecture as data (seed 001, Tables 1–2),
 * with its presets, parameter counts and FLOPs: no TensorFlow.js, so the
 * page can show each preset's cost without loading a model.
 */

export const CSP_CAE_PRESETS = {
  paper: { width: 1, label: 'paper (full width)' },
  quarter: { width: 1 / 4, label: '¼ of the channels' },
  eighth: { width: 1 / 8, label: '⅛ of the channels' },
  sixteenth: { width: 1 / 16, label: '1/16 of the channels' },
} as const;
export type CspCaePreset = keyof typeof CSP_CAE_PRESETS;

/** One layer of Tables 1–2: a conv ('conv'), transposed conv ('deconv') or average pool ('pool'). */
export interface LayerSpec {
  kind: 'conv' | 'deconv' | 'pool';
  kernel: number;
  /** Output channels at full width (convs only). */
  filters?: number;
  /** Stride of a deconv (its upsampling factor), or pool size. */
  stride?: number;
  /** Channels that do not scale with the preset. */
  fixed?: boolean;
  /** 'bn-leaky' (default), 'bn' (batch norm only) or 'linear'. */
  after?: 'bn-leaky' | 'bn' | 'linear';
}

const conv = (kernel: number, filters: number, extra: Partial<LayerSpec> = {}): LayerSpec => ({ kind: 'conv', kernel, filters, ...extra });
const deconv = (kernel: number, filters: number, stride = 1, extra: Partial<LayerSpec> = {}): LayerSpec => ({ kind: 'deconv', kernel, filters, stride, ...extra });
const pool = (size: number): LayerSpec => ({ kind: 'pool', kernel: size, stride: size });

/** Tables 1–2 of seed 001, part by part. */
export const CSP_CAE_TABLES = {
  part1: [conv(5, 100), conv(5, 120), pool(2), conv(3, 240), conv(3, 320), pool(2), conv(3, 640), conv(3, 1024)],
  part2: [conv(1, 100), conv(1, 1, { fixed: true, after: 'bn' })],
  part3: [conv(1, 640), conv(1, 100)],
  part4: [conv(1, 128), pool(5), conv(3, 64), conv(1, 5, { fixed: true })],
  part7: [
    deconv(3, 1024),
    deconv(3, 640),
    deconv(4, 640, 2),
    deconv(3, 320),
    deconv(3, 320),
    deconv(4, 320, 2),
    deconv(5, 120),
    deconv(5, 100),
    deconv(1, 3, 1, { fixed: true, after: 'linear' }),
  ],
  part8: [
    deconv(3, 256),
    deconv(3, 128),
    deconv(9, 128, 5),
    deconv(3, 128),
    deconv(3, 128),
    deconv(4, 128, 2),
    deconv(3, 64),
    deconv(3, 64),
    deconv(4, 64, 2),
    deconv(5, 32),
    deconv(5, 32),
    deconv(1, 3, 1, { fixed: true, after: 'linear' }),
  ],
} satisfies Record<string, LayerSpec[]>;

export type CspCaePart = keyof typeof CSP_CAE_TABLES;

/** Channels of a layer under a preset's width (never below 1). */
export function presetChannels(spec: LayerSpec, preset: CspCaePreset): number {
  if (spec.filters === undefined) throw new Error('a pool has no channels');
  return spec.fixed ? spec.filters : Math.max(1, Math.round(spec.filters * CSP_CAE_PRESETS[preset].width));
}

/**
 * Multiply-adds of one forward pass per patch, ×2 = FLOPs (batch norm,
 * activations and pools not counted): the cost shown per preset and used to
 * propose one from the measured backend speed.
 */
export function cspCaeForwardFlops(preset: CspCaePreset, inputSize = 100): number {
  let macs = 0;
  // A (transposed) conv touches k²·C_in·C_out weights per input pixel.
  forEachConv(preset, inputSize, (spec, side, channels, out) => (macs += side * side * spec.kernel * spec.kernel * channels * out));
  return 2 * macs;
}

/**
 * Weights of a preset, as TF.js counts them: k²·C_in·C_out per (de)conv, plus
 * 4·C_out for batch norm (γ, β and the two moving statistics) or C_out
 * biases, plus the threshold t.
 */
export function cspCaeParameters(preset: CspCaePreset): number {
  let total = 1;
  forEachConv(preset, 100, (spec, _side, channels, out) => (total += spec.kernel * spec.kernel * channels * out + (spec.after === 'linear' ? out : 4 * out)));
  return total;
}

/**
 * Visits every (de)conv of the network in data-flow order with its input
 * side (px), input channels and output channels under a preset: parts 2–4
 * read part 1's output, part 7 reads part 3's, part 8 part 4's.
 */
function forEachConv(
  preset: CspCaePreset,
  inputSize: number,
  visit: (spec: LayerSpec, inputSide: number, inputChannels: number, outputChannels: number) => void,
): void {
  const walk = (part: CspCaePart, side: number, channels: number): { side: number; channels: number } => {
    for (const spec of CSP_CAE_TABLES[part] as LayerSpec[]) {
      if (spec.kind === 'pool') {
        side /= spec.kernel;
        continue;
      }
      const out = presetChannels(spec, preset);
      visit(spec, side, channels, out);
      if (spec.kind === 'deconv') side *= spec.stride ?? 1;
      channels = out;
    }
    return { side, channels };
  };
  const shared = walk('part1', inputSize, 3);
  walk('part2', shared.side, shared.channels);
  const features = walk('part3', shared.side, shared.channels);
  const code = walk('part4', shared.side, shared.channels);
  walk('part7', features.side, features.channels);
  walk('part8', code.side, code.channels);
}
