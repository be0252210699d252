/**
 * A labelled texture-class set for few-label classifier training and tests
 * (issue 6, SPEC §3): four procedural textures that resemble tissue
 * patterns, told apart by their spatial structure only.
 *
 * Classes (index: name — what it imitates):
 *   0: fibrous  — wavy parallel fibres (stroma, collagen, muscle): a sine
 *                 grating of wavelength 5–12 px at a random orientation whose
 *                 phase is bent by a smooth random field;
 *   1: cellular — round blobs 2–4 px in Gaussian radius at a density of
 *                 40–120 per 100×100 px (sheets of nuclei, lymphocytes);
 *   2: granular — fine isotropic speckle (correlation length 0.6–1 px) with a
 *                 weaker 4-px component (granular cytoplasm, necrosis);
 *   3: smooth   — a linear gradient in a random direction plus slow
 *                 variation (σ 10–20 px) and faint fine noise (fat, mucin,
 *                 out-of-focus background).
 *
 * Not separable by intensity alone: every image is standardised to zero mean
 * and unit variance and then mapped to mean μ ~ U[0.35, 0.65] and standard
 * deviation s ~ U[0.08, 0.16], drawn the same way for every class; then
 * clipped to [0, 1] (about 0.2 % of pixels at 48 px). With 3 channels
 * each channel is the grey texture times a per-image gain in [0.85, 1.15]
 * (again the same for all classes), clipped. So the classes share their
 * mean/contrast/colour distributions, and a classifier must use texture.
 *
 * Everything is a pure function of the options and seed
 * (src/util/random.ts).
 */
import { Random, type Seed } from '../util/random';
import { gaussianBlur } from '../imaging/gaussian';

/** Images with class labels, the shape shared by the synthetic datasets. */
export interface LabelledImageSet {
  width: number;
  height: number;
  /** Channels per pixel of every image (interleaved H×W×C, row-major). */
  channels: number;
  classNames: readonly string[];
  /** Float32 images with values in [0, 1]. */
  images: Float32Array[];
  /** Per image, an index into classNames. */
  labels: Uint8Array;
}

/**
 * Zero-mean, unit-variance Gaussian random field: white normal noise
 * smoothed by a Gaussian of `sigma` px (none when sigma = 0), then
 * standardised.
 */
export function smoothNoise(rng: Random, width: number, height: number, sigma: number): Float32Array {
  const white = rng.fillNormal(new Float32Array(width * height));
  const field = sigma > 0 ? gaussianBlur({ data: white, width, height }, sigma).data : white;
  return standardise(field);
}

/** In place: subtract the mean, divide by the standard deviation (if not 0). */
export function standardise(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i];
  const mean = sum / v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i] - mean) ** 2;
  const sd = Math.sqrt(ss / v.length);
  const scale = sd > 0 ? 1 / sd : 1;
  for (let i = 0; i < v.length; i++) v[i] = (v[i] - mean) * scale;
  return v;
}

export const TEXTURE_CLASSES = ['fibrous', 'cellular', 'granular', 'smooth'] as const;
export type TextureClass = (typeof TEXTURE_CLASSES)[number];

export interface TextureOptions {
  /** Image side, px (default 64). */
  size?: number;
  seed?: Seed;
  /** 1 (grey) or 3 (tinted RGB); default 1. */
  channels?: 1 | 3;
}

/** Raw (not yet standardised) texture field of one class. */
function textureField(rng: Random, cls: TextureClass, size: number): Float32Array {
  const n = size * size;
  const out = new Float32Array(n);
  switch (cls) {
    case 'fibrous': {
      const wavelength = rng.uniformRange(5, 12);
      const angle = rng.uniform() * Math.PI;
      const bend = rng.uniformRange(0.5, 2);
      const warpField = smoothNoise(rng, size, size, 10);
      const fine = smoothNoise(rng, size, size, 0.7);
      const kx = ((2 * Math.PI) / wavelength) * Math.cos(angle);
      const ky = ((2 * Math.PI) / wavelength) * Math.sin(angle);
      for (let y = 0, i = 0; y < size; y++) {
        for (let x = 0; x < size; x++, i++) out[i] = Math.sin(kx * x + ky * y + bend * warpField[i]) + 0.35 * fine[i];
      }
      return out;
    }
    case 'cellular': {
      const density = rng.uniformRange(40, 120);
      const count = Math.max(1, Math.round((density * n) / 10000));
      for (let k = 0; k < count; k++) {
        // Centres may lie a little outside so the edges are covered like the middle.
        const cx = rng.uniformRange(-3, size + 3);
        const cy = rng.uniformRange(-3, size + 3);
        const r = rng.uniformRange(2, 4);
        const amplitude = rng.uniformRange(0.7, 1);
        const reach = Math.ceil(3 * r);
        const x0 = Math.max(0, Math.floor(cx - reach));
        const x1 = Math.min(size - 1, Math.ceil(cx + reach));
        const y0 = Math.max(0, Math.floor(cy - reach));
        const y1 = Math.min(size - 1, Math.ceil(cy + reach));
        const inv = 1 / (2 * r * r);
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            const v = amplitude * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) * inv);
            // Overlapping blobs merge rather than add up into bright clumps.
            const i = y * size + x;
            if (v > out[i]) out[i] = v;
          }
        }
      }
      const fine = smoothNoise(rng, size, size, 0.7);
      for (let i = 0; i < n; i++) out[i] += 0.08 * fine[i];
      return out;
    }
    case 'granular': {
      const grain = smoothNoise(rng, size, size, rng.uniformRange(0.6, 1));
      const coarse = smoothNoise(rng, size, size, 4);
      for (let i = 0; i < n; i++) out[i] = grain[i] + 0.3 * coarse[i];
      return out;
    }
    case 'smooth': {
      const angle = rng.uniform() * 2 * Math.PI;
      // Gradient of 0.5–1.5 noise-sd across the image.
      const slope = rng.uniformRange(0.5, 1.5) / size;
      const slow = smoothNoise(rng, size, size, rng.uniformRange(10, 20));
      const fine = smoothNoise(rng, size, size, 0);
      const gx = slope * Math.cos(angle);
      const gy = slope * Math.sin(angle);
      for (let y = 0, i = 0; y < size; y++) {
        for (let x = 0; x < size; x++, i++) out[i] = gx * x + gy * y + 0.6 * slow[i] + 0.12 * fine[i];
      }
      return out;
    }
  }
}

/**
 * One texture image of class `cls`: Float32, H×W×channels, values in [0, 1].
 * Deterministic in (cls, size, seed, channels).
 */
export function generateTexture(cls: TextureClass, options: TextureOptions = {}): Float32Array {
  const size = options.size ?? 64;
  const channels = options.channels ?? 1;
  if (!Number.isInteger(size) || size < 8) throw new RangeError(`texture size must be an integer ≥ 8, got ${size}`);
  if (channels !== 1 && channels !== 3) throw new RangeError('channels must be 1 or 3');
  const rng = new Random(options.seed ?? 0);
  // Intensity statistics first, from the same draws whatever the class.
  const mean = rng.uniformRange(0.35, 0.65);
  const sd = rng.uniformRange(0.08, 0.16);
  const gains = [0, 1, 2].map(() => rng.uniformRange(0.85, 1.15));
  const field = standardise(textureField(rng, cls, size));
  const n = size * size;
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const v = mean + sd * field[i];
    for (let c = 0; c < channels; c++) {
      const t = channels === 1 ? v : v * gains[c];
      out[i * channels + c] = t < 0 ? 0 : t > 1 ? 1 : t;
    }
  }
  return out;
}

export interface TextureDatasetOptions extends TextureOptions {
  /** Images per class. */
  perClass: number;
}

export interface TextureDataset extends LabelledImageSet {
  classNames: typeof TEXTURE_CLASSES;
}

/**
 * perClass images of each of the four classes, grouped by class (images
 * k·perClass … (k+1)·perClass − 1 have label k). Each image has its own seed
 * drawn from `seed`, so the set is reproducible and one image can be
 * regenerated alone with generateTexture.
 */
export function generateTextureDataset(options: TextureDatasetOptions): TextureDataset {
  const { perClass } = options;
  if (!Number.isInteger(perClass) || perClass < 0) throw new RangeError(`perClass must be a non-negative integer, got ${perClass}`);
  const size = options.size ?? 64;
  const channels = options.channels ?? 1;
  const master = new Random(options.seed ?? 0);
  const images: Float32Array[] = [];
  const labels = new Uint8Array(perClass * TEXTURE_CLASSES.length);
  TEXTURE_CLASSES.forEach((cls, label) => {
    for (let k = 0; k < perClass; k++) {
      labels[images.length] = label;
      images.push(generateTexture(cls, { size, channels, seed: master.nextUint32() }));
    }
  });
  return { width: size, height: size, channels, classNames: TEXTURE_CLASSES, images, labels };
}
