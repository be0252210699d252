/**
 * Online augmentation for few-label classifier training (SPEC §3: Mobincep
 * uses rotation, flip, crop and affine; OrgaNet adds elastic deformation,
 * contrast and brightness).
 *
 * Images are channel-interleaved float images (H×W×C, row-major, pixel
 * (x, y) channel c at data[(y·width + x)·channels + c]), on any scale; every
 * function returns a new image and leaves its input alone. Randomness comes
 * only from the `Random` passed in (src/util/random.ts), so a seed gives
 * the same augmented batch in a worker, in Node and in tests.
 *
 * Geometry follows scikit-image: pixel (i, j) is centred on the integer
 * point (x = i, y = j), rotations and affine maps act about the image centre
 * ((width − 1)/2, (height − 1)/2), and a positive angle turns the picture
 * counter-clockwise as displayed (y pointing down), as
 * skimage.transform.rotate does. Resampling is bilinear (skimage's order=1)
 * and every geometric transform drawn for one call of `augment` (rotation,
 * affine and elastic) is folded into ONE resampling, so the image is
 * interpolated once, not three times. Pixels that come from outside the
 * input are filled by `fill`:
 *   'reflect'  — mirror about the edge pixels without repeating them
 *                (… c b | a b c d | c b …), skimage mode='reflect' and
 *                scipy.ndimage mode='mirror'; the default, because it keeps
 *                tissue texture going into the corners;
 *   'constant' — `cval` (default 0); as skimage, a sample between an edge
 *                pixel and the outside blends the two;
 *   'edge'     — the nearest edge pixel (skimage 'edge', scipy 'nearest').
 *
 * Order in `augment` (and `applyAugmentParams`):
 *   1. flips (horizontal, then vertical) — exact, no interpolation;
 *   2. one bilinear warp: output pixel p samples the input at
 *      M⁻¹(p + d(p)), with M = rotation ∘ affine (below) and d the elastic
 *      displacement field — the same as rotating/affine-mapping first and
 *      deforming the result elastically, minus one interpolation;
 *   3. random crop, resized back to the input size with Lanczos-3
 *      (src/imaging/resize.ts);
 *   4. contrast: x' = m_c + k·(x − m_c), m_c the mean of channel c;
 *   5. brightness: x' = x + b, the same b for every channel;
 *   6. optional clip to `clip` = [lo, hi].
 * The forward map of step 2 is
 *   M = T(centre + t) · R(θ) · Sh(φx, φy) · S(sx, sy) · T(−centre),
 * with R(θ) = [[cos θ, sin θ], [−sin θ, cos θ]] (counter-clockwise on
 * screen), Sh = [[1, tan φx], [tan φy, 1]] and S = diag(sx, sy): scaling
 * first, then shear, rotation, and translation by t last.
 */
import type { Random } from '../util/random';
import { gaussianBlur } from './gaussian';
import { resizeLanczos } from './resize';

/** A channel-interleaved float image (H×W×C). */
export interface ChannelImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

export type FillMode = 'reflect' | 'constant' | 'edge';

export interface FillOptions {
  /** How samples outside the input are filled (default 'reflect'). */
  mode?: FillMode;
  /** Value for mode 'constant' (default 0). */
  cval?: number;
}

/** Affine map [a, b, tx, c, d, ty]: x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export type Affine = readonly [number, number, number, number, number, number];

export type Range = readonly [number, number];

export function checkChannelImage(img: ChannelImage): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`invalid channel count ${channels}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`data length ${data.length} != ${width}x${height}x${channels}`);
  }
}

function copyImage(img: ChannelImage): ChannelImage {
  return { data: img.data.slice(), width: img.width, height: img.height, channels: img.channels };
}

// --- flips ---------------------------------------------------------------

/** Mirror left–right (x → width − 1 − x). */
export function flipHorizontal(img: ChannelImage): ChannelImage {
  checkChannelImage(img);
  const { width, height, channels: C, data } = img;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * C;
      const to = (y * width + (width - 1 - x)) * C;
      for (let c = 0; c < C; c++) out[to + c] = data[from + c];
    }
  }
  return { data: out, width, height, channels: C };
}

/** Mirror top–bottom (y → height − 1 − y). */
export function flipVertical(img: ChannelImage): ChannelImage {
  checkChannelImage(img);
  const { width, height, channels: C, data } = img;
  const out = new Float32Array(data.length);
  const row = width * C;
  for (let y = 0; y < height; y++) out.set(data.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return { data: out, width, height, channels: C };
}

// --- affine maps -----------------------------------------------------------

export interface AffineParameters {
  /** Counter-clockwise on screen, degrees (default 0). */
  rotation?: number;
  /** Shift of the picture, px: +x right, +y down (default [0, 0]). */
  translate?: readonly [number, number];
  /** Scale factors [sx, sy] or one for both (default 1; > 1 enlarges). */
  scale?: number | readonly [number, number];
  /** Shear angles [φx, φy], degrees: x' = x + tan(φx)·y, y' = y + tan(φy)·x (default [0, 0]). */
  shear?: readonly [number, number];
}

/** Product p·q of two affine maps (apply q first, then p). */
export function composeAffine(p: Affine, q: Affine): Affine {
  return [
    p[0] * q[0] + p[1] * q[3],
    p[0] * q[1] + p[1] * q[4],
    p[0] * q[2] + p[1] * q[5] + p[2],
    p[3] * q[0] + p[4] * q[3],
    p[3] * q[1] + p[4] * q[4],
    p[3] * q[2] + p[4] * q[5] + p[5],
  ];
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (!(Math.abs(det) > 1e-12)) throw new RangeError('affine map is singular');
  const a = m[4] / det;
  const b = -m[1] / det;
  const c = -m[3] / det;
  const d = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), c, d, -(c * m[2] + d * m[5])];
}

const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

function isIdentity(m: Affine): boolean {
  return m.every((v, i) => v === IDENTITY[i]);
}

/** Forward map (input → output point) of rotation/scale/shear about the image centre plus translation; see the module comment. */
export function affineMatrix(params: AffineParameters, width: number, height: number): Affine {
  const theta = ((params.rotation ?? 0) * Math.PI) / 180;
  const [tx, ty] = params.translate ?? [0, 0];
  const [sx, sy] = typeof params.scale === 'number' ? [params.scale, params.scale] : (params.scale ?? [1, 1]);
  const [hx, hy] = params.shear ?? [0, 0];
  if (theta === 0 && tx === 0 && ty === 0 && sx === 1 && sy === 1 && hx === 0 && hy === 0) return IDENTITY;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  let m: Affine = [1, 0, -cx, 0, 1, -cy];
  m = composeAffine([sx, 0, 0, 0, sy, 0], m);
  m = composeAffine([1, Math.tan((hx * Math.PI) / 180), 0, Math.tan((hy * Math.PI) / 180), 1, 0], m);
  m = composeAffine([cos, sin, 0, -sin, cos, 0], m);
  return composeAffine([1, 0, cx + tx, 0, 1, cy + ty], m);
}

// --- resampling ------------------------------------------------------------

/** Index of coordinate k along an axis of n pixels, or −1 for a constant fill (skimage's coord_map). */
function mapIndex(k: number, n: number, mode: FillMode): number {
  if (k >= 0 && k < n) return k;
  if (mode === 'constant') return -1;
  if (mode === 'edge') return k < 0 ? 0 : n - 1;
  // reflect (mirror) with period 2(n − 1)
  const last = n - 1;
  if (last === 0) return 0;
  const period = 2 * last;
  let r = Math.abs(k) % period;
  if (r > last) r = period - r;
  return r;
}

export interface WarpOptions extends FillOptions {
  /**
   * Forward affine map (input → output). Output pixel p samples the input at
   * M⁻¹(p + d(p)). Default identity.
   */
  matrix?: Affine;
  /** Elastic displacement per output pixel, px (row-major width×height), applied before M⁻¹. */
  dx?: Float32Array;
  dy?: Float32Array;
}

/**
 * General bilinear warp: output pixel p = (x, y) takes the input's value at
 * M⁻¹(p + d(p)) (bilinear, order=1, outside filled per `mode`).
 */
export function warp(img: ChannelImage, options: WarpOptions = {}): ChannelImage {
  checkChannelImage(img);
  const { width, height, channels: C, data } = img;
  const mode = options.mode ?? 'reflect';
  const cval = options.cval ?? 0;
  const { dx, dy } = options;
  if ((dx === undefined) !== (dy === undefined)) throw new RangeError('warp needs both dx and dy or neither');
  if (dx && dy && (dx.length !== width * height || dy.length !== width * height)) {
    throw new RangeError('displacement fields must be width×height');
  }
  const inv = invertAffine(options.matrix ?? IDENTITY);
  const out = new Float32Array(data.length);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const qx = dx ? x + dx[p] : x;
      const qy = dy ? y + dy[p] : y;
      const sx = inv[0] * qx + inv[1] * qy + inv[2];
      const sy = inv[3] * qx + inv[4] * qy + inv[5];
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const c0 = mapIndex(x0, width, mode);
      const c1 = mapIndex(x0 + 1, width, mode);
      const r0 = mapIndex(y0, height, mode);
      const r1 = mapIndex(y0 + 1, height, mode);
      const i00 = r0 < 0 || c0 < 0 ? -1 : (r0 * width + c0) * C;
      const i01 = r0 < 0 || c1 < 0 ? -1 : (r0 * width + c1) * C;
      const i10 = r1 < 0 || c0 < 0 ? -1 : (r1 * width + c0) * C;
      const i11 = r1 < 0 || c1 < 0 ? -1 : (r1 * width + c1) * C;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const o = p * C;
      for (let c = 0; c < C; c++) {
        const v00 = i00 < 0 ? cval : data[i00 + c];
        const v01 = i01 < 0 ? cval : data[i01 + c];
        const v10 = i10 < 0 ? cval : data[i10 + c];
        const v11 = i11 < 0 ? cval : data[i11 + c];
        out[o + c] = w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11;
      }
    }
  }
  return { data: out, width, height, channels: C };
}

/** Rotation about the image centre, counter-clockwise on screen by `degrees` (skimage.transform.rotate, order=1). */
export function rotate(img: ChannelImage, degrees: number, fill: FillOptions = {}): ChannelImage {
  return warp(img, { ...fill, matrix: affineMatrix({ rotation: degrees }, img.width, img.height) });
}

/** Affine map about the image centre (see affineMatrix), bilinear. */
export function affine(img: ChannelImage, params: AffineParameters, fill: FillOptions = {}): ChannelImage {
  return warp(img, { ...fill, matrix: affineMatrix(params, img.width, img.height) });
}

// --- elastic deformation (Simard et al. 2003) ---------------------------------

export interface DisplacementField {
  width: number;
  height: number;
  /** Per-pixel displacement, px, row-major. */
  dx: Float32Array;
  dy: Float32Array;
}

/**
 * Smooths raw per-pixel displacements (uniform in [−1, 1] in Simard's
 * recipe) with a Gaussian of `sigma` px (src/imaging/gaussian.ts:
 * scipy.ndimage.gaussian_filter with mode='nearest', truncate=4) and
 * multiplies by `alpha`. The resulting displacement has a standard
 * deviation of about 0.16·alpha/sigma px away from the edges.
 */
export function smoothDisplacement(
  rawX: Float32Array,
  rawY: Float32Array,
  width: number,
  height: number,
  alpha: number,
  sigma: number,
): DisplacementField {
  if (rawX.length !== width * height || rawY.length !== width * height) {
    throw new RangeError('displacement fields must be width×height');
  }
  const dx = gaussianBlur({ data: rawX, width, height }, sigma).data;
  const dy = gaussianBlur({ data: rawY, width, height }, sigma).data;
  for (let i = 0; i < dx.length; i++) {
    dx[i] *= alpha;
    dy[i] *= alpha;
  }
  return { width, height, dx, dy };
}

/**
 * Random elastic displacement field: independent uniform [−1, 1] values per
 * pixel (all x components first, then all y components, row-major), then
 * smoothDisplacement(alpha, sigma).
 */
export function elasticDisplacement(
  width: number,
  height: number,
  alpha: number,
  sigma: number,
  random: Random,
): DisplacementField {
  const rawX = new Float32Array(width * height);
  const rawY = new Float32Array(width * height);
  for (let i = 0; i < rawX.length; i++) rawX[i] = 2 * random.uniform() - 1;
  for (let i = 0; i < rawY.length; i++) rawY[i] = 2 * random.uniform() - 1;
  return smoothDisplacement(rawX, rawY, width, height, alpha, sigma);
}

/** Elastic deformation by a given field: output(p) = input(p + d(p)), bilinear. */
export function elasticDeform(img: ChannelImage, field: DisplacementField, fill: FillOptions = {}): ChannelImage {
  if (field.width !== img.width || field.height !== img.height) throw new RangeError('field and image sizes differ');
  return warp(img, { ...fill, dx: field.dx, dy: field.dy });
}

// --- crop ----------------------------------------------------------------------

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Crops the box (integer pixels) and resizes it to outWidth×outHeight with
 * Lanczos-3 per channel (Pillow's Image.resize(LANCZOS) in float mode; may
 * overshoot the input range slightly at sharp edges).
 */
export function cropResize(img: ChannelImage, box: CropBox, outWidth = img.width, outHeight = img.height): ChannelImage {
  checkChannelImage(img);
  const { width, channels: C, data } = img;
  const { x: bx, y: by, width: bw, height: bh } = box;
  if (![bx, by, bw, bh].every(Number.isInteger) || bx < 0 || by < 0 || bw < 1 || bh < 1 || bx + bw > width || by + bh > img.height) {
    throw new RangeError(`crop box ${bx},${by} ${bw}x${bh} does not fit ${width}x${img.height}`);
  }
  const out = new Float32Array(outWidth * outHeight * C);
  const plane = new Float32Array(bw * bh);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) plane[y * bw + x] = data[((by + y) * width + bx + x) * C + c];
    }
    const resized = resizeLanczos({ data: plane, width: bw, height: bh }, outWidth, outHeight).data;
    for (let i = 0; i < resized.length; i++) out[i * C + c] = resized[i];
  }
  return { data: out, width: outWidth, height: outHeight, channels: C };
}

// --- intensity -------------------------------------------------------------------

/** x' = m_c + factor·(x − m_c), m_c the mean of channel c. factor 1 leaves the image unchanged. */
export function adjustContrast(img: ChannelImage, factor: number): ChannelImage {
  checkChannelImage(img);
  if (factor === 1) return copyImage(img);
  const { data, channels: C } = img;
  const n = data.length / C;
  const means = new Float64Array(C);
  for (let i = 0; i < data.length; i++) means[i % C] += data[i];
  for (let c = 0; c < C; c++) means[c] /= n;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const m = means[i % C];
    out[i] = m + factor * (data[i] - m);
  }
  return { ...img, data: out };
}

/** x' = x + delta on every channel. */
export function adjustBrightness(img: ChannelImage, delta: number): ChannelImage {
  checkChannelImage(img);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] + delta;
  return { ...img, data: out };
}

// --- random augmentation -----------------------------------------------------------

/**
 * What `augment` may do. A transform is on when its entry is present (and
 * not false); `p` is the chance it is applied to a given image (default 1;
 * flips take their probability directly, `true` meaning 0.5). Ranges are
 * [low, high] and drawn uniformly.
 */
export interface AugmentOptions {
  flipHorizontal?: boolean | number;
  flipVertical?: boolean | number;
  /** Rotation angle, degrees, counter-clockwise on screen, e.g. [−180, 180]. */
  rotation?: false | { degrees: Range; p?: number };
  affine?:
    | false
    | {
        /** Largest shift as a share of the width and height: tx ∈ ±fx·width, ty ∈ ±fy·height. */
        translate?: readonly [number, number];
        /** Isotropic scale factor range, e.g. [0.9, 1.1]. */
        scale?: Range;
        /** Horizontal shear angle range, degrees. */
        shear?: Range;
        /** Vertical shear angle range, degrees (default none). */
        shearY?: Range;
        p?: number;
      };
  /** Simard elastic deformation: alpha (a value or a range) and sigma, px. */
  elastic?: false | { alpha: number | Range; sigma: number; p?: number };
  /** Random crop of `area` (share of the image area) and `aspectRatio` (width/height, drawn log-uniformly; default [1, 1]), resized back. */
  crop?: false | { area: Range; aspectRatio?: Range; p?: number };
  /** Contrast factor k range (1 = unchanged). */
  contrast?: false | { factor: Range; p?: number };
  /** Additive brightness range (in the image's units). */
  brightness?: false | { delta: Range; p?: number };
  /** Fill for the warp (default 'reflect'). */
  fill?: FillMode;
  cval?: number;
  /** Clip the result to [lo, hi] at the end (default: no clipping). */
  clip?: Range;
}

/** The concrete parameters of one augmentation (what `drawAugmentParams` drew). */
export interface AugmentParams {
  flipHorizontal: boolean;
  flipVertical: boolean;
  /** Degrees; 0 when off. */
  rotation: number;
  /** px */
  translate: [number, number];
  scale: number;
  /** Degrees [φx, φy]. */
  shear: [number, number];
  elastic: DisplacementField | null;
  crop: CropBox | null;
  contrast: number;
  brightness: number;
  fill: FillMode;
  cval: number;
  clip: Range | null;
}

function drawRange(random: Random, range: Range): number {
  return range[0] === range[1] ? range[0] : random.uniformRange(range[0], range[1]);
}

function flipProbability(v: boolean | number | undefined): number {
  if (v === undefined || v === false) return 0;
  return v === true ? 0.5 : v;
}

/**
 * Draws one set of parameters. Draw order (so a seed replays exactly): for
 * each enabled transform in the order hflip, vflip, rotation, affine,
 * elastic, crop, contrast, brightness, one uniform for its `p` coin, then,
 * when it is applied, its values (affine: tx, ty, scale, shear x, shear y;
 * elastic: alpha, then the x field, then the y field; crop: area, aspect
 * ratio, x, y).
 */
export function drawAugmentParams(options: AugmentOptions, width: number, height: number, random: Random): AugmentParams {
  const coin = (p: number | undefined): boolean => random.uniform() < (p ?? 1);
  const params: AugmentParams = {
    flipHorizontal: false,
    flipVertical: false,
    rotation: 0,
    translate: [0, 0],
    scale: 1,
    shear: [0, 0],
    elastic: null,
    crop: null,
    contrast: 1,
    brightness: 0,
    fill: options.fill ?? 'reflect',
    cval: options.cval ?? 0,
    clip: options.clip ?? null,
  };
  const ph = flipProbability(options.flipHorizontal);
  if (ph > 0) params.flipHorizontal = coin(ph);
  const pv = flipProbability(options.flipVertical);
  if (pv > 0) params.flipVertical = coin(pv);
  if (options.rotation && coin(options.rotation.p)) params.rotation = drawRange(random, options.rotation.degrees);
  if (options.affine && coin(options.affine.p)) {
    const a = options.affine;
    if (a.translate) {
      const [fx, fy] = a.translate;
      params.translate = [drawRange(random, [-fx * width, fx * width]), drawRange(random, [-fy * height, fy * height])];
    }
    if (a.scale) params.scale = drawRange(random, a.scale);
    if (a.shear) params.shear[0] = drawRange(random, a.shear);
    if (a.shearY) params.shear[1] = drawRange(random, a.shearY);
  }
  if (options.elastic && coin(options.elastic.p)) {
    const { alpha, sigma } = options.elastic;
    const a = typeof alpha === 'number' ? alpha : drawRange(random, alpha);
    params.elastic = elasticDisplacement(width, height, a, sigma, random);
  }
  if (options.crop && coin(options.crop.p)) {
    const area = drawRange(random, options.crop.area);
    const [r0, r1] = options.crop.aspectRatio ?? [1, 1];
    const ratio = Math.exp(drawRange(random, [Math.log(r0), Math.log(r1)]));
    const cw = Math.max(1, Math.min(width, Math.round(Math.sqrt(area * ratio) * width)));
    const ch = Math.max(1, Math.min(height, Math.round(Math.sqrt(area / ratio) * height)));
    const x = random.int(width - cw + 1);
    const y = random.int(height - ch + 1);
    params.crop = { x, y, width: cw, height: ch };
  }
  if (options.contrast && coin(options.contrast.p)) params.contrast = drawRange(random, options.contrast.factor);
  if (options.brightness && coin(options.brightness.p)) params.brightness = drawRange(random, options.brightness.delta);
  return params;
}

/** Applies drawn parameters in the documented order (flips, one warp, crop, contrast, brightness, clip). */
export function applyAugmentParams(img: ChannelImage, params: AugmentParams): ChannelImage {
  checkChannelImage(img);
  let out = img;
  if (params.flipHorizontal) out = flipHorizontal(out);
  if (params.flipVertical) out = flipVertical(out);
  const matrix = affineMatrix(
    { rotation: params.rotation, translate: params.translate, scale: params.scale, shear: params.shear },
    img.width,
    img.height,
  );
  if (!isIdentity(matrix) || params.elastic) {
    out = warp(out, {
      mode: params.fill,
      cval: params.cval,
      matrix,
      dx: params.elastic?.dx,
      dy: params.elastic?.dy,
    });
  }
  const crop = params.crop;
  if (crop && !(crop.x === 0 && crop.y === 0 && crop.width === img.width && crop.height === img.height)) {
    out = cropResize(out, crop, img.width, img.height);
  }
  if (params.contrast !== 1) out = adjustContrast(out, params.contrast);
  if (params.brightness !== 0) out = adjustBrightness(out, params.brightness);
  if (params.clip) {
    const [lo, hi] = params.clip;
    if (out === img) out = copyImage(img);
    const d = out.data;
    for (let i = 0; i < d.length; i++) d[i] = d[i] < lo ? lo : d[i] > hi ? hi : d[i];
  }
  return out === img ? copyImage(img) : out;
}

/** One random augmentation of `img`: drawAugmentParams then applyAugmentParams. */
export function augment(img: ChannelImage, options: AugmentOptions, random: Random): ChannelImage {
  checkChannelImage(img);
  return applyAugmentParams(img, drawAugmentParams(options, img.width, img.height, random));
}

/**
 * Suggested settings for the seed-002 classifiers. The thesis names the
 * transforms but not their ranges; these ranges are this project's choice
 * (moderate, label-preserving for cells and organelles). Brightness and
 * contrast assume intensities on a 0..1 scale. For masked crops on a black
 * background (e.g. the FISH nuclei of src/synthetic/fish-nuclei.ts) use
 * `fill: 'constant'`, or the mirrored fill repeats bits of the object.
 */
export const MOBINCEP_AUGMENTATION: AugmentOptions = {
  flipHorizontal: true,
  flipVertical: true,
  rotation: { degrees: [-180, 180] },
  affine: { translate: [0.1, 0.1], scale: [0.9, 1.1], shear: [-10, 10] },
  crop: { area: [0.7, 1], aspectRatio: [0.8, 1.25], p: 0.5 },
  fill: 'reflect',
};

/** OrgaNet's "heavy" augmentation: Mobincep's plus elastic, contrast and brightness (ranges again this project's choice). */
export const ORGANET_AUGMENTATION: AugmentOptions = {
  flipHorizontal: true,
  flipVertical: true,
  rotation: { degrees: [-180, 180] },
  affine: { translate: [0.1, 0.1], scale: [0.8, 1.2], shear: [-15, 15], shearY: [-5, 5] },
  elastic: { alpha: [0, 400], sigma: 16, p: 0.5 },
  contrast: { factor: [0.7, 1.3] },
  brightness: { delta: [-0.1, 0.1] },
  fill: 'reflect',
};
