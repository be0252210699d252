/**
 * Turns any PixelBlock into RGBA for display. Pure functions, no DOM, so
 * they run in workers and tests.
 *
 * - 8-bit RGB brightfield: passed through.
 * - Anything else (fluorescence channels, 16-bit, float): additive
 *   composite of the visible channels, each scaled linearly from its
 *   contrast limits [min, max] to [0, 1] and tinted with its colour.
 */
import { dtypeFullScale, type PixelBlock, type SlideMetadata } from './types';

export interface ChannelDisplay {
  visible: boolean;
  /** #rrggbb */
  color: string;
  /** Contrast limits in sample units: min maps to black, max to full colour. */
  min: number;
  max: number;
}

export interface DisplaySettings {
  /** 'rgb' passes 8-bit RGB through; 'composite' blends channels. */
  mode: 'rgb' | 'composite';
  channels: ChannelDisplay[];
}

export function defaultDisplaySettings(metadata: SlideMetadata): DisplaySettings {
  const max = dtypeFullScale(metadata.dtype);
  const passthrough = metadata.rgb && metadata.dtype === 'uint8' && metadata.channels.length === 3;
  return {
    mode: passthrough ? 'rgb' : 'composite',
    channels: metadata.channels.map((channel) => ({ visible: true, color: channel.color, min: 0, max })),
  };
}

function parseColor(hex: string): [number, number, number] {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  const value = match ? parseInt(match[1], 16) : 0xffffff;
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

export function renderRgba(block: PixelBlock, settings: DisplaySettings, out?: Uint8ClampedArray): Uint8ClampedArray {
  const pixels = block.width * block.height;
  const rgba = out && out.length === pixels * 4 ? out : new Uint8ClampedArray(pixels * 4);
  const src = block.data;
  const n = block.channels;

  if (settings.mode === 'rgb' && block.dtype === 'uint8' && n >= 3) {
    for (let p = 0, s = 0, d = 0; p < pixels; p++, s += n, d += 4) {
      rgba[d] = src[s];
      rgba[d + 1] = src[s + 1];
      rgba[d + 2] = src[s + 2];
      rgba[d + 3] = 255;
    }
    return rgba;
  }

  // Per visible channel: colour × 1/(max − min), so each sample costs one multiply-add per colour.
  const active = settings.channels
    .map((channel, index) => ({ channel, index }))
    .filter(({ channel, index }) => channel.visible && index < n);
  const offsets = active.map(({ index }) => index);
  const mins = active.map(({ channel }) => channel.min);
  const scales = active.map(({ channel }) => 1 / Math.max(channel.max - channel.min, Number.EPSILON));
  const colours = active.map(({ channel }) => parseColor(channel.color));
  const k = active.length;
  for (let p = 0, s = 0, d = 0; p < pixels; p++, s += n, d += 4) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (let i = 0; i < k; i++) {
      let v = (src[s + offsets[i]] - mins[i]) * scales[i];
      if (!(v > 0)) continue; // also skips NaN
      if (v > 1) v = 1;
      const c = colours[i];
      r += v * c[0];
      g += v * c[1];
      b += v * c[2];
    }
    rgba[d] = r; // Uint8ClampedArray rounds and clamps
    rgba[d + 1] = g;
    rgba[d + 2] = b;
    rgba[d + 3] = 255;
  }
  return rgba;
}

/**
 * Contrast limits per channel from low/high percentiles (default 0.1 and
 * 99.9): the smallest sample value v with at least q% of the samples ≤ v.
 * Integer blocks use an exact histogram; float blocks sort the samples.
 */
export function estimateContrastLimits(
  block: PixelBlock,
  lowPercent = 0.1,
  highPercent = 99.9,
): { min: number; max: number }[] {
  const n = block.channels;
  const count = block.width * block.height;
  const limits: { min: number; max: number }[] = [];
  for (let c = 0; c < n; c++) {
    if (count === 0) {
      limits.push({ min: 0, max: 0 });
      continue;
    }
    const rank = (percent: number) => Math.max(1, Math.ceil((percent / 100) * count));
    if (block.dtype === 'float32') {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = block.data[i * n + c];
      values.sort();
      limits.push({ min: values[rank(lowPercent) - 1], max: values[rank(highPercent) - 1] });
      continue;
    }
    const histogram = new Uint32Array(block.dtype === 'uint8' ? 256 : 65536);
    for (let i = 0; i < count; i++) histogram[block.data[i * n + c]]++;
    const valueAtRank = (target: number) => {
      let seen = 0;
      for (let v = 0; v < histogram.length; v++) {
        seen += histogram[v];
        if (seen >= target) return v;
      }
      return histogram.length - 1;
    };
    limits.push({ min: valueAtRank(rank(lowPercent)), max: valueAtRank(rank(highPercent)) });
  }
  return limits;
}
