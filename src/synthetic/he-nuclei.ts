/**
 * Synthetic H&E image patches with known nuclei, for training and scoring
 * unsupervised nucleus detection (SPEC §2) where real annotations are absent.
 *
 * Scale: 0.5 µm/px (20×). Nuclei are 15–25 px across by default, about 10 per
 * 100×100 px (the seed's p = 1.6 % of 25×25 detection positions).
 *
 * Stain model (Beer–Lambert, the vectors of src/imaging/stain.ts): every pixel
 * holds a hematoxylin amount h and an eosin amount e in skimage's HED units,
 * and transmits
 *   I_c = white_c · exp(−ln(10⁶) · (h · (H_c + β D_c) + e · (E_c + α D_c))),
 * c ∈ {R, G, B}, with H = (0.65, 0.70, 0.29), E = (0.07, 0.99, 0.11) and
 * D = (0.27, 0.57, 0.78) the rows of RGB_FROM_HED. Real hematoxylin and eosin
 * are redder than Ruifrok's reference vectors, so real H&E deconvolves with a
 * sizeable "DAB" channel (on the CMU-1 demo slide D ≈ 1.4 E in stroma and
 * ≈ 0.3 H in nuclei); the per-image mixing α ≈ 1.4, β ≈ 0.3 reproduces that
 * and varies the hue. Because the three vectors are independent,
 * rgbToHed(rgb) returns H = h, E = e, D = α e + β h exactly, up to 8-bit
 * rounding, camera noise and the white level's offset (white < 255 reads as a
 * little of every stain). `hematoxylin` in the result is the exact h map.
 *
 * Layers, in rendering order:
 * 1. tissue: eosin stroma with wavy, fibre-like texture (anisotropic value
 *    noise along a domain-warped direction), faint background hematoxylin,
 *    slow stain-intensity drift, and white gaps (cracks between fibre bundles);
 * 2. nuclei: ellipses with random orientation and a slightly irregular
 *    outline (3rd–5th radial harmonics), hematoxylin varying inside
 *    (chromatin granules and clumps), some with a darker rim and paler centre
 *    (vesicular nuclei); a share of them placed touching another one;
 * 3. optics: Gaussian blur of the stain maps (of the amounts rather than the
 *    light, so the model above stays exact; the difference is negligible at
 *    σ < 1 px), then per-channel camera noise and 8-bit rounding.
 * Everything is drawn from seeded generators (src/util/random.ts), each
 * layer from its own stream, so changing e.g. the density keeps the stroma.
 */
import { Random, type Seed } from '../util/random';
import { gaussianBlur } from '../imaging/gaussian';
import { HED_LOG_SCALE, RGB_FROM_HED } from '../imaging/stain';
import { harmonicFactor, randomHarmonics } from './outline';

export interface HeNucleiOptions {
  /** Image size in px (default 512 × 512). */
  width?: number;
  height?: number;
  seed?: Seed;
  /**
   * Nuclei per 100 × 100 px of image (default 10). Nuclei avoid the gaps, so
   * per tissue area it is a little higher. A nucleus that finds no room in
   * MAX_ATTEMPTS tries is left out, so far denser requests (≳ 20 at 15–25 px)
   * give fewer: the result's centres are what was drawn.
   */
  density?: number;
  /** Range of both nucleus diameters, px (default [15, 25]: 7.5–12.5 µm). */
  diameterRange?: readonly [number, number];
  /**
   * Share of nuclei placed so that they touch an earlier one (default 0.2);
   * as each such placement makes a touching pair, the share of nuclei that
   * touch another is up to about twice this. 0 keeps every nucleus at least
   * 2 px clear of the others.
   */
  touchingFraction?: number;
  /**
   * 0..1, strength of stain variation between images (default 0.3): the
   * hematoxylin and eosin strengths and the stain hues (α, β) are scaled by
   * 2^(±this) (0.81–1.23 at the default, 0.5–2 at 1); the white level drops
   * by up to 0.2 × this of 255 (6 % at the default) and is tinted by up to
   * ±this/20 per channel. Within an image nuclei vary 1.75:1 in darkness
   * whatever this is.
   */
  stainVariation?: number;
  /** Share of the image left as white gaps between tissue (default 0.1). */
  gapFraction?: number;
  /** Optical blur, px (default 0.8). */
  blurSigma?: number;
  /** Camera noise, standard deviation in grey levels (default 2). */
  noiseSigma?: number;
}

export interface HeNucleiImage {
  width: number;
  height: number;
  /** µm per px (always 0.5). */
  mpp: number;
  /** Interleaved RGB, 8-bit. */
  rgb: Uint8Array;
  /**
   * Nucleus centres x0, y0, x1, y1, … in px, with pixel (i, j)'s centre at
   * (i, j) (numpy's convention): the centre pixel is (round(x), round(y)).
   */
  centres: Float32Array;
  /**
   * Semi-axes (major, minor) per nucleus, px, of the nominal ellipse; the
   * drawn outline deviates from it by at most OUTLINE_IRREGULARITY of the radius.
   */
  radii: Float32Array;
  /** Orientation of each major axis, radians in [0, π), clockwise from +x (y points down). */
  angles: Float32Array;
  /** Per pixel: 0 off nuclei, i + 1 inside nucleus i (touching nuclei are split where their outlines meet). */
  labels: Uint32Array;
  /** 1 inside any nucleus, 0 elsewhere (labels > 0). */
  nucleusMask: Uint8Array;
  /** True hematoxylin amount per pixel (after blur, before noise), skimage HED units. */
  hematoxylin: Float32Array;
  /** True eosin amount per pixel (after blur, before noise). */
  eosin: Float32Array;
  /** The image's stain parameters (drawn from the seed). */
  stain: HeStainParameters;
}

export interface HeStainParameters {
  /** Transmitted light through blank glass per channel (0..255): the white level. */
  white: [number, number, number];
  /** Factors on all hematoxylin and all eosin amounts of this image (1 = typical). */
  hematoxylinScale: number;
  eosinScale: number;
  /** α, β: DAB-direction density per unit of eosin and of hematoxylin (see the model above). */
  dabPerEosin: number;
  dabPerHematoxylin: number;
}

/** Largest radial deviation of a nucleus outline from its ellipse (share of the radius). */
export const OUTLINE_IRREGULARITY = 0.06;
/** Gap kept between nuclei that are not meant to touch, px. */
const CLEARANCE = 2;
/** Tries to place one nucleus before giving up on it. */
const MAX_ATTEMPTS = 200;
/** Touching pairs may overlap at most this share of the newer nucleus' area. */
const MAX_TOUCH_OVERLAP = 0.08;

/**
 * Smooth random field in [0, 1]: values on a lattice (seeded) interpolated
 * with smoothstep weights. The lattice may be stretched (cell sizes along and
 * across `angle`) to make streaks, e.g. collagen fibres.
 */
class ValueNoise {
  private readonly grid: Float32Array;
  private readonly columns: number;
  private readonly u0: number;
  private readonly v0: number;
  private readonly ux: number;
  private readonly uy: number;
  private readonly vx: number;
  private readonly vy: number;

  /** Covers x ∈ [−pad, width + pad], y ∈ [−pad, height + pad]. */
  constructor(rng: Random, width: number, height: number, cellAlong: number, cellAcross: number, angle = 0, pad = 0) {
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    this.ux = c / cellAlong;
    this.uy = s / cellAlong;
    this.vx = -s / cellAcross;
    this.vy = c / cellAcross;
    const corners = [
      [-pad, -pad],
      [width + pad, -pad],
      [-pad, height + pad],
      [width + pad, height + pad],
    ];
    const us = corners.map(([x, y]) => x * this.ux + y * this.uy);
    const vs = corners.map(([x, y]) => x * this.vx + y * this.vy);
    this.u0 = Math.floor(Math.min(...us));
    this.v0 = Math.floor(Math.min(...vs));
    this.columns = Math.ceil(Math.max(...us)) - this.u0 + 2;
    const rows = Math.ceil(Math.max(...vs)) - this.v0 + 2;
    this.grid = rng.fillUniform(new Float32Array(this.columns * rows));
  }

  /**
   * Samples at every pixel centre (x, y integers) into `out`, row-major. Same
   * values as sample(x, y); for an unrotated lattice each row first blends
   * two lattice rows, leaving one blend per pixel.
   */
  fill(out: Float32Array, width: number, height: number): Float32Array {
    if (this.uy !== 0 || this.vx !== 0) {
      for (let y = 0, i = 0; y < height; y++) for (let x = 0; x < width; x++, i++) out[i] = this.sample(x, y);
      return out;
    }
    const columnIndex = new Int32Array(width);
    const columnWeight = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      const u = x * this.ux - this.u0;
      const iu = Math.floor(u);
      const fu = u - iu;
      columnIndex[x] = iu;
      columnWeight[x] = fu * fu * (3 - 2 * fu);
    }
    const blended = new Float32Array(this.columns);
    const g = this.grid;
    for (let y = 0; y < height; y++) {
      const v = y * this.vy - this.v0;
      const iv = Math.floor(v);
      let fv = v - iv;
      fv = fv * fv * (3 - 2 * fv);
      const top = iv * this.columns;
      const bottom = top + this.columns;
      for (let k = 0; k < this.columns; k++) blended[k] = g[top + k] + (g[bottom + k] - g[top + k]) * fv;
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const iu = columnIndex[x];
        out[row + x] = blended[iu] + (blended[iu + 1] - blended[iu]) * columnWeight[x];
      }
    }
    return out;
  }

  sample(x: number, y: number): number {
    const u = x * this.ux + y * this.uy - this.u0;
    const v = x * this.vx + y * this.vy - this.v0;
    const iu = Math.floor(u);
    const iv = Math.floor(v);
    let fu = u - iu;
    let fv = v - iv;
    fu = fu * fu * (3 - 2 * fu);
    fv = fv * fv * (3 - 2 * fv);
    const k = iv * this.columns + iu;
    const g = this.grid;
    const top = g[k] + (g[k + 1] - g[k]) * fu;
    const bottom = g[k + this.columns] + (g[k + this.columns + 1] - g[k + this.columns]) * fu;
    return top + (bottom - top) * fv;
  }
}

/** One nucleus: an ellipse times (1 + Σ amplitude_k cos(kφ + phase_k)), k = 3, 4, 5. */
interface NucleusShape {
  cx: number;
  cy: number;
  a: number;
  b: number;
  cos: number;
  sin: number;
  harmonics: Float64Array; // [cos·amp, sin·amp] for k = 3, 4, 5
}

/** Radial factor 1 + Σ amp_k cos(kφ + phase_k), k = 3, 4, 5, from the unit direction (c, s) in the nucleus frame. */
function outlineFactor(shape: NucleusShape, c: number, s: number): number {
  return harmonicFactor(shape.harmonics, 3, c, s);
}

/**
 * Normalised radial coordinate of point (x, y): 0 at the centre, 1 on the
 * outline, proportional to distance along each ray.
 */
function radialCoordinate(shape: NucleusShape, x: number, y: number): number {
  const dx = x - shape.cx;
  const dy = y - shape.cy;
  const u = dx * shape.cos + dy * shape.sin;
  const v = -dx * shape.sin + dy * shape.cos;
  const d = Math.sqrt(u * u + v * v);
  if (d === 0) return 0;
  const q = Math.sqrt((u / shape.a) ** 2 + (v / shape.b) ** 2);
  return q / outlineFactor(shape, u / d, v / d);
}

/** Distance from the centre to the outline in image direction ψ. */
function outlineRadius(shape: NucleusShape, psi: number): number {
  const wx = Math.cos(psi);
  const wy = Math.sin(psi);
  const c = wx * shape.cos + wy * shape.sin;
  const s = -wx * shape.sin + wy * shape.cos;
  const ellipse = 1 / Math.sqrt((c / shape.a) ** 2 + (s / shape.b) ** 2);
  return ellipse * outlineFactor(shape, c, s);
}

function randomShape(rng: Random, minDiameter: number, maxDiameter: number): NucleusShape {
  const major = rng.uniformRange(minDiameter, maxDiameter);
  // Aspect ratios down to 0.7, but never below the smallest diameter.
  const minor = rng.uniformRange(Math.max(minDiameter, 0.7 * major), major);
  const angle = rng.uniform() * Math.PI;
  const harmonics = randomHarmonics(rng, OUTLINE_IRREGULARITY);
  return { cx: 0, cy: 0, a: major / 2, b: minor / 2, cos: Math.cos(angle), sin: Math.sin(angle), harmonics };
}

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/** Value below which `share` of the samples lie (from a strided subsample). */
function quantile(values: Float32Array, share: number, stride = 7): number {
  const picked = new Float32Array(Math.ceil(values.length / stride));
  for (let i = 0, j = 0; i < values.length; i += stride, j++) picked[j] = values[i];
  picked.sort();
  return picked[Math.min(picked.length - 1, Math.max(0, Math.floor(share * picked.length)))];
}

interface StromaLayer {
  /** 0 in gaps, 1 in tissue, smooth in between. */
  tissue: Float32Array;
  hematoxylin: Float32Array;
  eosin: Float32Array;
}

/** Eosin stroma with wavy fibres, faint hematoxylin, intensity drift and white gaps. */
function renderStroma(
  rng: Random,
  width: number,
  height: number,
  gapFraction: number,
  hScale: number,
  eScale: number,
): StromaLayer {
  const n = width * height;
  const fibreAngle = rng.uniform() * Math.PI;
  const warpAmplitude = rng.uniformRange(12, 30);
  const warpPad = warpAmplitude + 2;
  const warpCell = rng.uniformRange(40, 64);
  const warpX = new ValueNoise(rng, width, height, warpCell, warpCell);
  const warpY = new ValueNoise(rng, width, height, warpCell, warpCell);
  // Thin fibres and thicker bundles, both streaked along fibreAngle.
  const fibres = new ValueNoise(rng, width, height, rng.uniformRange(18, 40), rng.uniformRange(2, 3.5), fibreAngle, warpPad);
  const bundles = new ValueNoise(rng, width, height, rng.uniformRange(50, 90), rng.uniformRange(7, 12), fibreAngle, warpPad);
  // Gaps: elongated cracks between bundles plus rounder open spaces.
  const cracks = new ValueNoise(rng, width, height, rng.uniformRange(40, 90), rng.uniformRange(5, 9), fibreAngle, warpPad);
  const spaces = new ValueNoise(rng, width, height, 70, 70);
  const drift = new ValueNoise(rng, width, height, 160, 160);
  const fibreContrast = rng.uniformRange(0.5, 0.9);
  // Stroma amounts of the CMU-1 demo slide: E ≈ 0.02–0.035, H ≈ 0.01–0.03.
  const eosinBase = rng.uniformRange(0.016, 0.03);
  const hematoxylinBase = rng.uniformRange(0.008, 0.022);

  const warpXField = warpX.fill(new Float32Array(n), width, height);
  const warpYField = warpY.fill(new Float32Array(n), width, height);
  const gapField = spaces.fill(new Float32Array(n), width, height);
  const driftField = drift.fill(new Float32Array(n), width, height);
  const fibreField = new Float32Array(n);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      // Domain warp bends the straight streaks into wavy fibres.
      const wx = x + warpAmplitude * (2 * warpXField[i] - 1);
      const wy = y + warpAmplitude * (2 * warpYField[i] - 1);
      const fibre = 0.55 * fibres.sample(wx, wy) + 0.45 * bundles.sample(wx, wy);
      fibreField[i] = fibre;
      // Gaps open along the fibres, where the matrix is thinnest.
      gapField[i] = 0.45 * cracks.sample(wx, wy) + 0.25 * fibre + 0.3 * gapField[i];
    }
  }
  // Tissue where the gap field is above its gapFraction quantile, with a soft 1–2 px edge.
  const level = gapFraction > 0 ? quantile(gapField, gapFraction) : -Infinity;
  const tissue = new Float32Array(n);
  const hematoxylin = new Float32Array(n);
  const eosin = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = gapFraction > 0 ? smoothstep(level - 0.006, level + 0.006, gapField[i]) : 1;
    const fibre = fibreField[i];
    // ±15 % slow drift of stain uptake (section thickness).
    const uptake = 0.85 + 0.3 * driftField[i];
    tissue[i] = t;
    eosin[i] = eScale * uptake * (0.0015 + t * eosinBase * (1 + fibreContrast * 2 * (fibre - 0.5)));
    hematoxylin[i] = hScale * uptake * (0.001 + t * hematoxylinBase * (0.6 + 0.8 * fibre));
  }
  return { tissue, hematoxylin, eosin };
}

/**
 * A synthetic H&E patch with nuclei at known places. Same options and seed,
 * same image (bit for bit); about 0.3 s for 1024 × 1024 in Node.
 */
export function generateHeNuclei(options: HeNucleiOptions = {}): HeNucleiImage {
  const width = options.width ?? 512;
  const height = options.height ?? 512;
  const density = options.density ?? 10;
  const [minDiameter, maxDiameter] = options.diameterRange ?? [15, 25];
  const touchingFraction = options.touchingFraction ?? 0.2;
  const stainVariation = options.stainVariation ?? 0.3;
  const gapFraction = options.gapFraction ?? 0.1;
  const blurSigma = options.blurSigma ?? 0.8;
  const noiseSigma = options.noiseSigma ?? 2;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  if (!(density >= 0)) throw new RangeError('density must be ≥ 0');
  if (!(minDiameter >= 2 && maxDiameter >= minDiameter)) throw new RangeError('diameterRange must be [min ≥ 2, max ≥ min]');
  if (!(touchingFraction >= 0 && touchingFraction <= 1)) throw new RangeError('touchingFraction must be in [0, 1]');
  if (!(stainVariation >= 0 && stainVariation <= 1)) throw new RangeError('stainVariation must be in [0, 1]');
  if (!(gapFraction >= 0 && gapFraction < 1)) throw new RangeError('gapFraction must be in [0, 1)');

  // One stream per layer, so that e.g. a different density keeps the stroma.
  const master = new Random(options.seed ?? 1);
  const stainRng = new Random(master.nextUint32());
  const stromaRng = new Random(master.nextUint32());
  const nucleusRng = new Random(master.nextUint32());
  const noiseRng = new Random(master.nextUint32());

  // Multiplicative, so that strengths stay positive: 2^(±variation).
  const vary = () => 2 ** (stainVariation * (2 * stainRng.uniform() - 1));
  const hScale = vary();
  const eScale = vary();
  const dabPerEosin = 1.4 * vary();
  const dabPerHematoxylin = 0.3 * vary();
  const whiteLevel = 255 * (1 - 0.2 * stainVariation * stainRng.uniform());
  const white: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) white[c] = Math.min(255, whiteLevel * (1 + 0.05 * stainVariation * (2 * stainRng.uniform() - 1)));

  const n = width * height;
  const stroma = renderStroma(stromaRng, width, height, gapFraction, hScale, eScale);

  // --- nuclei -------------------------------------------------------------
  const labels = new Uint32Array(n);
  const rho = new Float32Array(n); // radial coordinate of the owning nucleus
  const coverage = new Float32Array(n); // anti-aliased nucleus coverage 0..1
  const nucleusAmount = new Float32Array(n); // hematoxylin amount of the covering nucleus
  // Chromatin: fine granules plus coarser clumps, one field for the whole image, in [−1, 1].
  const chromatin = new ValueNoise(nucleusRng, width, height, 2.5, 2.5).fill(new Float32Array(n), width, height);
  const clumps = new ValueNoise(nucleusRng, width, height, 6, 6).fill(new Float32Array(n), width, height);
  for (let i = 0; i < n; i++) chromatin[i] = chromatin[i] + clumps[i] - 1;
  const target = Math.round((density * n) / 10000);
  const shapes: NucleusShape[] = [];

  /** Checks the shape against placed nuclei; returns false if it collides. */
  const fits = (shape: NucleusShape, partner: number): boolean => {
    const reach = shape.a * (1 + OUTLINE_IRREGULARITY) + CLEARANCE + 1;
    const x0 = Math.max(0, Math.floor(shape.cx - reach));
    const x1 = Math.min(width - 1, Math.ceil(shape.cx + reach));
    const y0 = Math.max(0, Math.floor(shape.cy - reach));
    const y1 = Math.min(height - 1, Math.ceil(shape.cy + reach));
    const clear = 1 + CLEARANCE / shape.b;
    let inside = 0;
    let shared = 0;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const r = radialCoordinate(shape, x, y);
        if (r >= clear) continue;
        const owner = labels[y * width + x];
        if (r < 1) inside++;
        if (owner === 0) continue;
        // Only the partner may be within reach, and only overlap it a little.
        if (owner !== partner + 1) return false;
        if (r < 1) shared++;
      }
    }
    return shared <= MAX_TOUCH_OVERLAP * Math.max(inside, 1);
  };

  const draw = (shape: NucleusShape, label: number): void => {
    // Per nucleus: 1.75:1 spread of darkness; 30 % vesicular (paler centre, darker rim).
    // Nuclei of the CMU-1 demo slide: H ≈ 0.15 (median).
    const amount = hScale * nucleusRng.uniformRange(0.12, 0.21);
    const vesicular = nucleusRng.uniform() < 0.3;
    const granularity = nucleusRng.uniformRange(0.12, 0.3);
    const reach = shape.a * (1 + OUTLINE_IRREGULARITY) + 1.5;
    const x0 = Math.max(0, Math.floor(shape.cx - reach));
    const x1 = Math.min(width - 1, Math.ceil(shape.cx + reach));
    const y0 = Math.max(0, Math.floor(shape.cy - reach));
    const y1 = Math.min(height - 1, Math.ceil(shape.cy + reach));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const r = radialCoordinate(shape, x, y);
        const d = Math.sqrt((x - shape.cx) ** 2 + (y - shape.cy) ** 2);
        // Distance to the outline along the ray, px: d/r is the outline radius there.
        const edge = r > 0 ? d / r - d : d + 1;
        const cover = Math.min(1, Math.max(0, edge + 0.5));
        if (cover === 0) continue;
        const i = y * width + x;
        if (r < 1 && (labels[i] === 0 || r < rho[i])) {
          labels[i] = label;
          rho[i] = r;
        }
        if (cover <= coverage[i] && labels[i] !== label) continue;
        const texture = 1 + granularity * chromatin[i];
        const profile = vesicular ? 0.85 + 0.4 * r * r * r : 1 + 0.1 * r * r;
        nucleusAmount[i] = amount * texture * profile;
        coverage[i] = Math.max(coverage[i], cover);
      }
    }
  };

  for (let k = 0; k < target; k++) {
    const shape = randomShape(nucleusRng, minDiameter, maxDiameter);
    let touching = shapes.length > 0 && nucleusRng.uniform() < touchingFraction;
    let placed = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !placed; attempt++) {
      // A touching nucleus that finds no room becomes a free one.
      if (touching && attempt === MAX_ATTEMPTS / 4) touching = false;
      let partner = -1;
      if (touching) {
        partner = nucleusRng.int(shapes.length);
        const other = shapes[partner];
        const psi = nucleusRng.uniform() * 2 * Math.PI;
        // Centre on the ray from the partner so the two outlines meet (0–1 px overlap).
        const gap = outlineRadius(other, psi) + outlineRadius({ ...shape, cx: 0, cy: 0 }, psi + Math.PI) - nucleusRng.uniform();
        shape.cx = other.cx + gap * Math.cos(psi);
        shape.cy = other.cy + gap * Math.sin(psi);
        if (shape.cx < 0 || shape.cy < 0 || shape.cx > width - 1 || shape.cy > height - 1) continue;
      } else {
        shape.cx = nucleusRng.uniform() * (width - 1);
        shape.cy = nucleusRng.uniform() * (height - 1);
      }
      // Nuclei lie in tissue, not in the gaps.
      if (stroma.tissue[Math.round(shape.cy) * width + Math.round(shape.cx)] < 0.5) continue;
      if (!fits(shape, partner)) continue;
      shapes.push(shape);
      draw(shape, shapes.length);
      placed = true;
    }
  }

  // --- compose, blur, transmit -------------------------------------------
  const hMap = new Float32Array(n);
  const eMap = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = coverage[i];
    hMap[i] = stroma.hematoxylin[i] * (1 - c) + nucleusAmount[i] * c;
    // Nuclei displace some of the eosin-stained matrix (on CMU-1 they keep E ≈ 0.02).
    eMap[i] = stroma.eosin[i] * (1 - 0.3 * c);
  }
  const hematoxylin = blurSigma > 0 ? gaussianBlur({ data: hMap, width, height }, blurSigma).data : hMap;
  const eosin = blurSigma > 0 ? gaussianBlur({ data: eMap, width, height }, blurSigma).data : eMap;

  const rgb = new Uint8Array(n * 3);
  const [hv, ev, dv] = RGB_FROM_HED;
  // Optical density (natural log) per unit amount of the stains as used here.
  const hOd = [0, 1, 2].map((c) => HED_LOG_SCALE * (hv[c] + dabPerHematoxylin * dv[c]));
  const eOd = [0, 1, 2].map((c) => HED_LOG_SCALE * (ev[c] + dabPerEosin * dv[c]));
  // Irwin–Hall: the sum of a uint32's four bytes is near-normal with sd √(4·(256²−1)/12).
  const noiseScale = noiseSigma / Math.sqrt((4 * (256 * 256 - 1)) / 12);
  for (let i = 0; i < n; i++) {
    const h = hematoxylin[i];
    const e = eosin[i];
    for (let c = 0; c < 3; c++) {
      const intensity = white[c] * transmittance(h * hOd[c] + e * eOd[c]);
      let noise = 0;
      if (noiseSigma > 0) {
        const bits = noiseRng.nextUint32();
        noise = ((bits & 255) + ((bits >>> 8) & 255) + ((bits >>> 16) & 255) + (bits >>> 24) - 510) * noiseScale;
      }
      const v = Math.round(intensity + noise);
      rgb[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }

  const count = shapes.length;
  const centres = new Float32Array(2 * count);
  const radii = new Float32Array(2 * count);
  const angles = new Float32Array(count);
  shapes.forEach((s, k) => {
    centres[2 * k] = s.cx;
    centres[2 * k + 1] = s.cy;
    radii[2 * k] = s.a;
    radii[2 * k + 1] = s.b;
    const angle = Math.atan2(s.sin, s.cos);
    angles[k] = angle < 0 ? angle + Math.PI : angle;
  });
  const nucleusMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) nucleusMask[i] = labels[i] > 0 ? 1 : 0;
  const stain = { white, hematoxylinScale: hScale, eosinScale: eScale, dabPerEosin, dabPerHematoxylin };
  return { width, height, mpp: 0.5, rgb, centres, radii, angles, labels, nucleusMask, hematoxylin, eosin, stain };
}

/** exp(−x) for x ≥ 0 by table: 3 exp calls per pixel were a third of the run time. */
const TRANSMITTANCE_STEP = 1 / 1024;
const TRANSMITTANCE_TABLE: Float64Array = (() => {
  // Beyond x = 24, exp(−x)·255 < 1e-8: black.
  const table = new Float64Array(24 * 1024 + 2);
  for (let k = 0; k < table.length; k++) table[k] = Math.exp(-k * TRANSMITTANCE_STEP);
  return table;
})();

/** Linear interpolation in the table: relative error ≤ step²/8 ≈ 1.2e-7. */
function transmittance(x: number): number {
  const t = x / TRANSMITTANCE_STEP;
  if (!(t < TRANSMITTANCE_TABLE.length - 1)) return 0;
  if (t <= 0) return 1;
  const k = Math.floor(t);
  const f = t - k;
  return TRANSMITTANCE_TABLE[k] + (TRANSMITTANCE_TABLE[k + 1] - TRANSMITTANCE_TABLE[k]) * f;
}
