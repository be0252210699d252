/**
 * Synthetic single-nucleus FISH crops with known signal counts, built as in
 * the GENUINE seed's §2.3 (SPEC §4), for training and checking the few-label
 * classifiers (issue 6).
 *
 * Channels (RGB, as the seed's crops): red = the NMI reference signals,
 * green = MYCN signals, blue = DAPI. Values are floats in [0, 1].
 *
 * How a crop is made, following §2.3 step by step:
 * 1. DAPI nucleus. The seed takes the DAPI channel of a real nucleus; we
 *    draw one instead: an ellipse centred in the crop (±2 % jitter, as the
 *    seed crops each nucleus at its centre), major diameter 55–80 % of the
 *    crop, aspect 0.7–1, with a slightly irregular outline (radial harmonics
 *    2–4, together ≤ 8 % of the radius), brightness 0.35–0.65 with a dome
 *    profile (edges ~25 % dimmer), chromatin texture (two smooth random
 *    fields, ~1.5 px and ~5 px at 192 px), 3–10 bright chromocentres and
 *    0–2 dim nucleoli. Outside the nucleus the crop is black: the seed's
 *    crops are masked by the segmentation (§2.2, M = I × S).
 * 2. Signals. "Potential positions within the nucleus are identified …
 *    ensuring that the given size does not extend over the nucleus
 *    boundary": each signal's centre is drawn uniformly from the points whose
 *    distance to the outline is at least its size σ. Signals of one nucleus
 *    are placed independently, so they may overlap, as in the seed's §4.3
 *    ("randomized potentially leading to signal overlap"); where two overlap
 *    the brighter value is kept. Each signal is a Gaussian of standard
 *    deviation σ ("the standard deviation representing the width") and
 *    peak amplitude A, with every value below 0.8 of its maximum set to zero
 *    — a disc of radius σ·√(2 ln 1.25) ≈ 0.67σ whose values run from 0.8A at
 *    the rim to A in the middle. Defaults: σ ∈ [3, 5] px at 192 px (scaled
 *    with the crop size), A ∈ [0.6, 1]. (In the seed's Fig. 4A sizes 7–8
 *    already read as clusters, so single signals stay below that.)
 * 3. Elastic transform (Simard: displacement = α · Gaussian-smoothed U(−1, 1)
 *    fields of width σ_e) of the whole crop, signals and nucleus together;
 *    the seed names α and σ but not their values: σ_e = 12 px and α ∈ [0,
 *    250] at 192 px (displacements up to ~3.5 px rms), scaled with the size.
 * 4. Gaussian blur, σ_b ∈ [0.5, 1.5] px at 192 px.
 * Not in §2.3, added here and switchable: a faint diffuse red/green glow
 * inside the nucleus (level 0.02–0.08; real FISH channels are never black
 * inside a nucleus) and Gaussian camera noise (σ = 0.01) over the whole crop,
 * then clipping to [0, 1]. The seed applies "random noise addition" only as a
 * training augmentation (§3.2); set noiseSigma = 0 for the bare §2.3 crop.
 *
 * Label: the guideline rule the seed quotes (Cohn et al. 2009), MNA when
 * green signals ≥ 4 × red signals (fishNucleusClass). The label follows the
 * counts placed, even where overlapping signals merge into one blob.
 *
 * Each part draws from its own stream derived from the seed (outline,
 * texture, red signals, green signals, elastic field, blur, noise), so one
 * seed with different counts gives the same nucleus with different signals —
 * the seed's experiment of §4.3 (one background, signal counts varied).
 */
import { Random, type Seed } from '../util/random';
import { elasticDisplacement, warp } from '../imaging/augment';
import { gaussianBlur } from '../imaging/gaussian';
import { type LabelledImageSet, smoothNoise } from './textures';
import { harmonicFactor, randomHarmonics } from './outline';

export type Range = readonly [number, number];

export const FISH_CLASSES = ['non-MNA', 'MNA'] as const;
export type FishClass = (typeof FISH_CLASSES)[number];
/** MNA when green ≥ MNA_RATIO × red (the seed's guideline rule). */
export const MNA_RATIO = 4;
/** Signal values below this share of the Gaussian's maximum are set to zero (§2.3). */
export const SIGNAL_CUTOFF = 0.8;
/** Crop size the defaults are stated for (the seed's 192 × 192). */
export const REFERENCE_SIZE = 192;

/**
 * The seed's rule, exactly: 'MNA' when green ≥ 4 × red, else 'non-MNA'.
 * With red = 0 every count satisfies it (an infinite ratio), so such a crop
 * is 'MNA'; the dataset generator never draws red = 0.
 */
export function fishNucleusClass(red: number, green: number): FishClass {
  if (!Number.isInteger(red) || !Number.isInteger(green) || red < 0 || green < 0) {
    throw new RangeError(`signal counts must be non-negative integers, got red ${red}, green ${green}`);
  }
  return green >= MNA_RATIO * red ? 'MNA' : 'non-MNA';
}

export interface FishNucleusOptions {
  /** Crop side, px (default 192, the seed's W = H). */
  size?: number;
  /** Number of red (NMI) signals. */
  redCount: number;
  /** Number of green (MYCN) signals. */
  greenCount: number;
  seed?: Seed;
  /** Major diameter as a share of the crop (default [0.55, 0.8]). */
  diameter?: Range;
  /** Minor / major axis (default [0.7, 1]). */
  aspect?: Range;
  /** DAPI brightness (default [0.35, 0.65]). */
  dapiLevel?: Range;
  /** Signal size σ, px (default [3, 5] × size/192), for red and green unless set separately. */
  signalSigma?: Range;
  redSigma?: Range;
  greenSigma?: Range;
  /** Signal peak amplitude (default [0.6, 1]). */
  signalAmplitude?: Range;
  /** Diffuse red/green level inside the nucleus (default [0.02, 0.08]; [0, 0] for none). */
  signalBackground?: Range;
  /** Elastic transform: alpha range and sigma, px (default alpha [0, 250]·s², sigma 12·s, s = size/192); false for none. */
  elastic?: false | { alpha: Range; sigma: number };
  /** Final Gaussian blur σ, px (default [0.5, 1.5] × size/192); [0, 0] for none. */
  blurSigma?: Range;
  /** Camera noise standard deviation (default 0.01; 0 for none). */
  noiseSigma?: number;
}

export interface FishSpot {
  channel: 'red' | 'green';
  /** Centre in the final crop, px (pixel (i, j) centred on (i, j)), after the elastic transform. */
  x: number;
  y: number;
  /** Centre before the elastic transform. */
  x0: number;
  y0: number;
  /** Gaussian σ, px. */
  sigma: number;
  /** Peak value. */
  amplitude: number;
}

export interface FishNucleus {
  width: number;
  height: number;
  channels: 3;
  /** Interleaved RGB floats in [0, 1]. */
  data: Float32Array;
  /** 1 inside the nucleus (after the elastic transform), 0 outside. */
  mask: Uint8Array;
  redCount: number;
  greenCount: number;
  label: FishClass;
  spots: FishSpot[];
  /** The nucleus ellipse before the outline irregularity and the deformation: centre, semi-axes, angle (radians). */
  nucleus: { cx: number; cy: number; a: number; b: number; angle: number };
  /** Drawn elastic alpha (0 when off) and blur σ. */
  elasticAlpha: number;
  blurSigma: number;
}

function draw(rng: Random, range: Range): number {
  return range[0] === range[1] ? range[0] : rng.uniformRange(range[0], range[1]);
}

/** Nucleus outline: an ellipse whose radius is modulated by harmonics 2–4. */
class Outline {
  /** Per harmonic k = 2, 3, 4: amplitude·cos(phase), amplitude·sin(phase). */
  private readonly harmonics: Float64Array;
  readonly cos: number;
  readonly sin: number;

  constructor(
    rng: Random,
    readonly cx: number,
    readonly cy: number,
    readonly a: number,
    readonly b: number,
    readonly angle: number,
  ) {
    this.cos = Math.cos(angle);
    this.sin = Math.sin(angle);
    this.harmonics = randomHarmonics(rng, 0.08);
  }

  /** Outline radius in the direction of (dx, dy) ≠ (0, 0) from the centre, image coordinates. */
  radiusToward(dx: number, dy: number): number {
    const d = Math.hypot(dx, dy);
    // Unit direction in the nucleus frame: cos φ, sin φ.
    const c = (dx * this.cos + dy * this.sin) / d;
    const s = (-dx * this.sin + dy * this.cos) / d;
    const factor = harmonicFactor(this.harmonics, 2, c, s);
    return (factor * this.a * this.b) / Math.sqrt((this.b * c) ** 2 + (this.a * s) ** 2);
  }

  /** Distance from the centre divided by the outline radius that way: ≤ 1 inside. */
  radial(x: number, y: number): number {
    const dx = x - this.cx;
    const dy = y - this.cy;
    return dx === 0 && dy === 0 ? 0 : Math.hypot(dx, dy) / this.radiusToward(dx, dy);
  }

  /** True when the whole circle of radius r around (x, y) lies inside (checked at 48 points). */
  holdsCircle(x: number, y: number, r: number): boolean {
    if (this.radial(x, y) > 1) return false;
    for (let k = 0; k < 48; k++) {
      const t = (k * 2 * Math.PI) / 48;
      if (this.radial(x + r * Math.cos(t), y + r * Math.sin(t)) > 1) return false;
    }
    return true;
  }
}

/** Adds a Gaussian bump (σ, amplitude) to `field` around (cx, cy). */
function addBlob(field: Float32Array, size: number, cx: number, cy: number, sigma: number, amplitude: number): void {
  const reach = Math.ceil(3 * sigma);
  const inv = 1 / (2 * sigma * sigma);
  for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(size - 1, Math.ceil(cy + reach)); y++) {
    for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(size - 1, Math.ceil(cx + reach)); x++) {
      field[y * size + x] += amplitude * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) * inv);
    }
  }
}

/** Places `count` signals (§2.3) into `channel` (single-channel size×size), returning them. */
function placeSignals(
  rng: Random,
  outline: Outline,
  channel: Float32Array,
  size: number,
  count: number,
  sigmaRange: Range,
  amplitudeRange: Range,
  name: 'red' | 'green',
): FishSpot[] {
  const spots: FishSpot[] = [];
  const reachX = outline.a * 1.1;
  const cutoffRadius = Math.sqrt(2 * Math.log(1 / SIGNAL_CUTOFF)); // in units of σ
  for (let k = 0; k < count; k++) {
    const sigma = draw(rng, sigmaRange);
    const amplitude = draw(rng, amplitudeRange);
    let x = NaN;
    let y = NaN;
    for (let attempt = 0; ; attempt++) {
      if (attempt === 20000) throw new RangeError(`no room for a signal of size ${sigma.toFixed(2)} px inside the nucleus`);
      x = outline.cx + rng.uniformRange(-reachX, reachX);
      y = outline.cy + rng.uniformRange(-reachX, reachX);
      if (outline.holdsCircle(x, y, sigma)) break;
    }
    const r = cutoffRadius * sigma;
    const inv = 1 / (2 * sigma * sigma);
    for (let py = Math.max(0, Math.floor(y - r)); py <= Math.min(size - 1, Math.ceil(y + r)); py++) {
      for (let px = Math.max(0, Math.floor(x - r)); px <= Math.min(size - 1, Math.ceil(x + r)); px++) {
        const g = Math.exp(-((px - x) ** 2 + (py - y) ** 2) * inv);
        if (g < SIGNAL_CUTOFF) continue;
        const v = amplitude * g;
        const i = py * size + px;
        if (v > channel[i]) channel[i] = v;
      }
    }
    spots.push({ channel: name, x, y, x0: x, y0: y, sigma, amplitude });
  }
  return spots;
}

/** Bilinear sample of a size×size field, clamped at the edges. */
function sampleField(field: Float32Array, size: number, x: number, y: number): number {
  const cx = Math.min(size - 1, Math.max(0, x));
  const cy = Math.min(size - 1, Math.max(0, y));
  const x0 = Math.min(size - 2, Math.floor(cx));
  const y0 = Math.min(size - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const i = y0 * size + x0;
  return (
    (1 - fx) * (1 - fy) * field[i] + fx * (1 - fy) * field[i + 1] + (1 - fx) * fy * field[i + size] + fx * fy * field[i + size + 1]
  );
}

/** One synthetic FISH nucleus crop (see the module comment). */
export function generateFishNucleus(options: FishNucleusOptions): FishNucleus {
  const size = options.size ?? REFERENCE_SIZE;
  if (!Number.isInteger(size) || size < 32) throw new RangeError(`size must be an integer ≥ 32, got ${size}`);
  const { redCount, greenCount } = options;
  const label = fishNucleusClass(redCount, greenCount);
  const s = size / REFERENCE_SIZE;
  const base = new Random(options.seed ?? 0);
  const streams = {
    shape: new Random(base.nextUint32()),
    texture: new Random(base.nextUint32()),
    red: new Random(base.nextUint32()),
    green: new Random(base.nextUint32()),
    elastic: new Random(base.nextUint32()),
    blur: new Random(base.nextUint32()),
    noise: new Random(base.nextUint32()),
  };
  const n = size * size;

  // 1. DAPI nucleus ------------------------------------------------------------
  const shapeRng = streams.shape;
  const major = draw(shapeRng, options.diameter ?? [0.55, 0.8]) * size;
  const minor = major * draw(shapeRng, options.aspect ?? [0.7, 1]);
  const centre = (size - 1) / 2;
  const outline = new Outline(
    shapeRng,
    centre + shapeRng.uniformRange(-0.02, 0.02) * size,
    centre + shapeRng.uniformRange(-0.02, 0.02) * size,
    major / 2,
    minor / 2,
    shapeRng.uniform() * Math.PI,
  );
  const level = draw(shapeRng, options.dapiLevel ?? [0.35, 0.65]);

  const textureRng = streams.texture;
  const fine = smoothNoise(textureRng, size, size, 1.5 * s);
  const coarse = smoothNoise(textureRng, size, size, 5 * s);
  const spots = new Float32Array(n); // chromocentres (+) and nucleoli (−), relative to the level
  const bright = 3 + textureRng.int(8);
  const dim = textureRng.int(3);
  for (let k = 0; k < bright + dim; k++) {
    let x = 0;
    let y = 0;
    do {
      x = outline.cx + textureRng.uniformRange(-outline.a, outline.a);
      y = outline.cy + textureRng.uniformRange(-outline.a, outline.a);
    } while (outline.radial(x, y) > 0.85);
    if (k < bright) addBlob(spots, size, x, y, textureRng.uniformRange(1.5, 3.5) * s, textureRng.uniformRange(0.1, 0.3));
    else addBlob(spots, size, x, y, textureRng.uniformRange(4, 7) * s, -textureRng.uniformRange(0.15, 0.3));
  }
  const glowRange = options.signalBackground ?? [0.02, 0.08];
  const redGlow = draw(textureRng, glowRange);
  const greenGlow = draw(textureRng, glowRange);
  const glowField = smoothNoise(textureRng, size, size, 8 * s);

  const red = new Float32Array(n);
  const green = new Float32Array(n);
  const blue = new Float32Array(n);
  const inside = new Uint8Array(n);
  for (let y = 0, i = 0; y < size; y++) {
    for (let x = 0; x < size; x++, i++) {
      const dx = x - outline.cx;
      const dy = y - outline.cy;
      const d = Math.hypot(dx, dy);
      const radius = d === 0 ? outline.a : outline.radiusToward(dx, dy);
      // Anti-aliased edge: the share of the pixel inside, from the distance to the outline along the ray.
      const cover = Math.min(1, Math.max(0, radius - d + 0.5));
      if (cover === 0) continue;
      inside[i] = d <= radius ? 1 : 0;
      const rho = Math.min(1, d / radius);
      const profile = 0.75 + 0.25 * Math.sqrt(1 - rho * rho);
      const texture = 1 + 0.18 * fine[i] + 0.12 * coarse[i] + spots[i];
      blue[i] = cover * Math.max(0, level * profile * texture);
      const glow = Math.max(0, 1 + 0.3 * glowField[i]);
      red[i] = cover * redGlow * glow;
      green[i] = cover * greenGlow * glow;
    }
  }

  // 2. Signals -------------------------------------------------------------------
  const defaultSigma: Range = [3 * s, 5 * s];
  const amplitude = options.signalAmplitude ?? [0.6, 1];
  const redSignals = new Float32Array(n);
  const greenSignals = new Float32Array(n);
  const placed = [
    ...placeSignals(streams.red, outline, redSignals, size, redCount, options.redSigma ?? options.signalSigma ?? defaultSigma, amplitude, 'red'),
    ...placeSignals(
      streams.green,
      outline,
      greenSignals,
      size,
      greenCount,
      options.greenSigma ?? options.signalSigma ?? defaultSigma,
      amplitude,
      'green',
    ),
  ];
  // A signal replaces the glow where it is brighter.
  for (let i = 0; i < n; i++) {
    if (redSignals[i] > red[i]) red[i] = redSignals[i];
    if (greenSignals[i] > green[i]) green[i] = greenSignals[i];
  }

  // 3. Elastic transform of the whole crop (and of the mask) ------------------------
  let rgbm: Float32Array = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    rgbm[4 * i] = red[i];
    rgbm[4 * i + 1] = green[i];
    rgbm[4 * i + 2] = blue[i];
    rgbm[4 * i + 3] = inside[i];
  }
  const elastic = options.elastic ?? { alpha: [0, 250 * s * s] as Range, sigma: 12 * s };
  let elasticAlpha = 0;
  if (elastic) {
    elasticAlpha = draw(streams.elastic, elastic.alpha);
    if (elasticAlpha > 0) {
      const field = elasticDisplacement(size, size, elasticAlpha, elastic.sigma, streams.elastic);
      rgbm = warp({ data: rgbm, width: size, height: size, channels: 4 }, { dx: field.dx, dy: field.dy, mode: 'constant', cval: 0 }).data;
      // Final position p of a signal drawn at q solves p + d(p) = q (fixed point; d is smooth and small).
      for (const spot of placed) {
        let px = spot.x0;
        let py = spot.y0;
        for (let it = 0; it < 30; it++) {
          const nx = spot.x0 - sampleField(field.dx, size, px, py);
          const ny = spot.y0 - sampleField(field.dy, size, px, py);
          const moved = Math.abs(nx - px) + Math.abs(ny - py);
          px = nx;
          py = ny;
          if (moved < 1e-6) break;
        }
        spot.x = px;
        spot.y = py;
      }
    }
  }

  // 4. Blur, then (not §2.3) noise and clipping ----------------------------------------
  const blurSigma = draw(streams.blur, options.blurSigma ?? [0.5 * s, 1.5 * s]);
  const data = new Float32Array(n * 3);
  const mask = new Uint8Array(n);
  const plane = new Float32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) plane[i] = rgbm[4 * i + c];
    const blurred = blurSigma > 0 ? gaussianBlur({ data: plane, width: size, height: size }, blurSigma).data : plane;
    for (let i = 0; i < n; i++) data[3 * i + c] = blurred[i];
  }
  for (let i = 0; i < n; i++) mask[i] = rgbm[4 * i + 3] >= 0.5 ? 1 : 0;
  const noiseSigma = options.noiseSigma ?? 0.01;
  for (let i = 0; i < data.length; i++) {
    const v = noiseSigma > 0 ? data[i] + streams.noise.normal(0, noiseSigma) : data[i];
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }

  return {
    width: size,
    height: size,
    channels: 3,
    data,
    mask,
    redCount,
    greenCount,
    label,
    spots: placed,
    nucleus: { cx: outline.cx, cy: outline.cy, a: outline.a, b: outline.b, angle: outline.angle },
    elasticAlpha,
    blurSigma,
  };
}

export interface FishDatasetOptions extends Omit<FishNucleusOptions, 'redCount' | 'greenCount'> {
  /** Crops per class. */
  perClass: number;
  /** Red (NMI) counts to draw from, integers, min ≥ 1 (default [1, 4]). */
  redRange?: Range;
  /** Largest green count of an MNA crop (default 35, the top of the seed's Fig. 4B); must be ≥ 4 × redRange[1]. */
  maxGreen?: number;
  /** Smallest green count of a non-MNA crop (default 1). */
  minGreen?: number;
}

export interface FishDataset extends LabelledImageSet {
  classNames: typeof FISH_CLASSES;
  /** Per image, the counts used. */
  redCounts: Uint8Array;
  greenCounts: Uint8Array;
}

/**
 * perClass crops of each class, grouped by class (non-MNA first, label 0;
 * then MNA, label 1). Per crop, red is drawn uniformly from redRange; green
 * uniformly from [minGreen, 4·red − 1] for non-MNA and from [4·red,
 * maxGreen] for MNA, so the whole span of the rule is covered, borderline
 * ratios included (the seed's Fig. 4B runs green from 0 to 35 at red = 2).
 * Every other option is passed on to generateFishNucleus; each crop gets its
 * own seed drawn from `seed`.
 */
export function generateFishDataset(options: FishDatasetOptions): FishDataset {
  const { perClass, redRange = [1, 4], maxGreen = 35, minGreen = 1, ...nucleusOptions } = options;
  if (!Number.isInteger(perClass) || perClass < 0) throw new RangeError(`perClass must be a non-negative integer, got ${perClass}`);
  const [r0, r1] = redRange;
  if (!Number.isInteger(r0) || !Number.isInteger(r1) || r0 < 1 || r1 < r0) {
    throw new RangeError(`redRange must be integers 1 ≤ low ≤ high, got [${r0}, ${r1}]`);
  }
  if (!Number.isInteger(minGreen) || !Number.isInteger(maxGreen) || minGreen < 0 || maxGreen > 255) {
    throw new RangeError(`minGreen and maxGreen must be integers in [0, 255], got ${minGreen}, ${maxGreen}`);
  }
  if (maxGreen < MNA_RATIO * r1) throw new RangeError(`maxGreen ${maxGreen} < ${MNA_RATIO} × ${r1}: no room for MNA crops`);
  if (minGreen > MNA_RATIO * r0 - 1) throw new RangeError(`minGreen ${minGreen} leaves no non-MNA count for red = ${r0}`);
  const size = options.size ?? REFERENCE_SIZE;
  const master = new Random(options.seed ?? 0);
  const total = perClass * FISH_CLASSES.length;
  const images: Float32Array[] = [];
  const labels = new Uint8Array(total);
  const redCounts = new Uint8Array(total);
  const greenCounts = new Uint8Array(total);
  FISH_CLASSES.forEach((cls, label) => {
    for (let k = 0; k < perClass; k++) {
      const red = r0 + master.int(r1 - r0 + 1);
      // minGreen ≤ 4·r0 − 1 (checked above), so every red leaves a non-MNA range.
      const green =
        cls === 'MNA'
          ? MNA_RATIO * red + master.int(maxGreen - MNA_RATIO * red + 1)
          : minGreen + master.int(MNA_RATIO * red - minGreen);
      const nucleus = generateFishNucleus({ ...nucleusOptions, size, redCount: red, greenCount: green, seed: master.nextUint32() });
      if (nucleus.label !== cls) throw new Error('internal: drawn counts do not match the class');
      const i = images.length;
      images.push(nucleus.data);
      labels[i] = label;
      redCounts[i] = red;
      greenCounts[i] = green;
    }
  });
  return { width: size, height: size, channels: 3, classNames: FISH_CLASSES, images, labels, redCounts, greenCounts };
}
