/**
 * Area-average (box filter) resampling of a PixelBlock, channel by channel.
 * Output pixel (ox, oy) averages the source pixels whose index lies in
 * [floor(ox·sx), floor((ox+1)·sx)) × [floor(oy·sy), floor((oy+1)·sy)), sx = srcW/outW.
 * For integer factors this is exactly a block mean (skimage's
 * downscale_local_mean); when enlarging, each output pixel takes the source
 * pixel under its top-left corner.
 * Averaging happens on raw samples, before contrast/colour mapping.
 */
import type { PixelBlock } from '../slide/types';

/** Source index range [start[i], end[i]) of each output index i along one axis. */
function spans(src: number, out: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(out);
  const end = new Int32Array(out);
  const step = src / out;
  for (let i = 0; i < out; i++) {
    const s = Math.min(src - 1, Math.floor(i * step));
    start[i] = s;
    end[i] = Math.min(src, Math.max(s + 1, Math.floor((i + 1) * step)));
  }
  return { start, end };
}

export function resampleBlock(block: PixelBlock, outWidth: number, outHeight: number): PixelBlock {
  const { width, height, channels, data, dtype } = block;
  if (outWidth === width && outHeight === height) return block;
  if (!(outWidth >= 1 && outHeight >= 1 && width >= 1 && height >= 1)) {
    throw new RangeError(`Cannot resample ${width}×${height} to ${outWidth}×${outHeight}`);
  }
  const xs = spans(width, outWidth);
  const ys = spans(height, outHeight);
  const out =
    dtype === 'uint8'
      ? new Uint8Array(outWidth * outHeight * channels)
      : dtype === 'uint16'
        ? new Uint16Array(outWidth * outHeight * channels)
        : new Float32Array(outWidth * outHeight * channels);
  const round = dtype !== 'float32';
  const sums = new Float64Array(channels);
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = ys.start[oy];
    const y1 = ys.end[oy];
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = xs.start[ox];
      const x1 = xs.end[ox];
      sums.fill(0);
      for (let y = y0; y < y1; y++) {
        let p = (y * width + x0) * channels;
        for (let x = x0; x < x1; x++) {
          for (let c = 0; c < channels; c++) sums[c] += data[p + c];
          p += channels;
        }
      }
      const count = (y1 - y0) * (x1 - x0);
      const q = (oy * outWidth + ox) * channels;
      for (let c = 0; c < channels; c++) {
        const mean = sums[c] / count;
        // Round half up, as numpy's mean followed by np.floor(x + 0.5).
        out[q + c] = round ? Math.floor(mean + 0.5) : mean;
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels, dtype };
}

/** Output size that fits within maxSide × maxSide, keeping the aspect ratio (never enlarges). */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
