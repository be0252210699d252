/**
 * Image containers shared by the imaging functions.
 *
 * Conventions (all functions in src/imaging):
 * - single channel, row-major: pixel (x, y) is `data[y * width + x]`;
 * - 8-bit images hold 0..255 in a Uint8Array; float images hold whatever
 *   scale the producer states (most functions keep the input's scale, e.g.
 *   a 0..255 Float32Array stays 0..255; skimage's 0..1 is 1/255 of it);
 * - binary masks are Uint8Array images holding 0 (background) or 1 (foreground);
 *   functions reading masks treat any non-zero value as foreground.
 */

export type ImagePixels = Float32Array | Uint8Array;

/** A single-channel image. */
export interface Image<T extends ImagePixels = ImagePixels> {
  data: T;
  width: number;
  height: number;
}

export type FloatImage = Image<Float32Array>;
export type ByteImage = Image<Uint8Array>;
/** Binary mask: 1 = foreground, 0 = background. */
export type Mask = Image<Uint8Array>;

/** Channel-interleaved colour pixels (RGB or RGBA), row-major. */
export interface InterleavedImage {
  data: ImagePixels;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA; alpha is ignored by the imaging functions). */
  channels: number;
}

export function floatImage(width: number, height: number, data?: Float32Array): FloatImage {
  checkSize(width, height);
  const pixels = data ?? new Float32Array(width * height);
  if (pixels.length !== width * height) throw new RangeError('data length does not match width*height');
  return { data: pixels, width, height };
}

export function byteImage(width: number, height: number, data?: Uint8Array): ByteImage {
  checkSize(width, height);
  const pixels = data ?? new Uint8Array(width * height);
  if (pixels.length !== width * height) throw new RangeError('data length does not match width*height');
  return { data: pixels, width, height };
}

export function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
}

export function checkImage(img: Image, what = 'image'): void {
  checkSize(img.width, img.height);
  if (img.data.length !== img.width * img.height) {
    throw new RangeError(`${what}: data length ${img.data.length} != ${img.width}x${img.height}`);
  }
}

export function sameSize(a: Image, b: Image): boolean {
  return a.width === b.width && a.height === b.height;
}

/** Float32 copy of any single-channel image (same scale). */
export function toFloat(img: Image): FloatImage {
  return { data: Float32Array.from(img.data), width: img.width, height: img.height };
}

/**
 * numpy's rounding (half to even), so 8-bit conversions agree with
 * `np.round(x).astype(np.uint8)` in the reference script.
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round sends x.5 up; step back when that lands on an odd integer.
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

/** Rounds (half to even) and clips to 0..255. */
export function toByte(img: Image): ByteImage {
  if (img.data instanceof Uint8Array) return { data: img.data.slice(), width: img.width, height: img.height };
  const out = new Uint8Array(img.data.length);
  const src = img.data;
  for (let i = 0; i < src.length; i++) {
    const v = roundHalfEven(src[i]);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { data: out, width: img.width, height: img.height };
}

/** Smallest and largest value (NaN-free input assumed). */
export function minMax(data: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Mask from a predicate over pixel values. */
export function maskWhere(img: Image, keep: (v: number) => boolean): Mask {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = keep(img.data[i]) ? 1 : 0;
  return { data: out, width: img.width, height: img.height };
}

/** Number of foreground pixels of a mask. */
export function countForeground(mask: Mask): number {
  let n = 0;
  const d = mask.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}
