/**
 * Labelled image sets for the classifier evaluation (issue 15, item 1),
 * written as DIR/<class>/<image>.png so that `train-classifier --data DIR`
 * reads them exactly as it reads a user's folder.
 *
 * Independent of the project's own generators (src/synthetic/): other
 * pattern families, rendered through a stain model, with brightness, colour,
 * blur and noise drawn per image from distributions shared by every class.
 *
 * Texture sets. Each class is one pattern family drawn as a "stain amount"
 * map a(x, y) ∈ [0, 1]:
 *   rings   — hollow circles (membranes), radius 2.5–6 px;
 *   dots    — filled discs, radius 1–3 px;
 *   fibres  — straight segments at random angles (crossing, not parallel);
 *   mesh    — nodes of a jittered, rotated lattice joined to their neighbours;
 *   patches — a few large irregular blobs (thresholded smooth noise);
 *   dashes  — short parallel dashes at one random orientation per image.
 * Elements are added until a coverage drawn per image from U[0.12, 0.4]
 * (the same for every class) is reached, so the mean stain, and with it the
 * mean intensity, does not give the class away. The map is blurred
 * (σ 0.4–1.2 px) and rendered by Beer–Lambert absorption: pixel = bg ·
 * exp(−a · strength · od), with a background colour, a stain optical-density
 * vector (purple … pink … brown) and a strength drawn per image, then
 * brightness gain, additive Gaussian noise and rounding to 8 bits.
 *
 * FISH-like crops. One nucleus per image (RGB: red = reference probe, green
 * = target probe, blue = DAPI): an ellipse with a soft edge and a grainy
 * chromatin texture; red spots (1–3) and green spots as Gaussians of a
 * per-image size, placed inside the nucleus. Class MNA (amplified): green
 * ≥ 4 × red as separate spots, or one or two amplification clusters (many
 * spots packed into a bright patch); class "normal": red ≤ green ≤ 2 × red.
 * No borderline counts between the two, so the label is clear to the eye.
 * Spot intensity, size, background, DAPI brightness, blur, crosstalk and
 * noise vary per image, the same for both classes.
 *
 * Everything is a pure function of the options (src/util/random.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encode } from 'fast-png';
import { Random } from '../../src/util/random';

export interface ImageRGB {
  width: number;
  height: number;
  /** RGB, interleaved, 0–255. */
  data: Uint8Array;
}

export const TEXTURE_FAMILIES = ['rings', 'dots', 'fibres', 'mesh', 'patches', 'dashes'] as const;
export type TextureFamily = (typeof TEXTURE_FAMILIES)[number];

export interface TextureSetOptions {
  kind: 'texture';
  /** Which families are the classes (2–6). */
  classes: TextureFamily[];
  /** Images per class (same order as classes). */
  counts: number[];
  size: number;
  seed: number;
  /** Per-image noise sd in 8-bit levels (range drawn per image). Default [2, 10]. */
  noise?: [number, number];
  /** Range of the per-image brightness gain. Default [0.75, 1.1]. */
  brightness?: [number, number];
  /** Range of the stain strength (optical density at full stain). Default [0.5, 1.4]. */
  strength?: [number, number];
}

export interface FishSetOptions {
  kind: 'fish';
  /** Images per class: [normal, MNA]. */
  counts: [number, number];
  size: number;
  seed: number;
  /** Range of the spots' Gaussian sd as a share of the image side. Default [0.012, 0.025]. */
  spotSize?: [number, number];
  /** Range of the spots' peak (8-bit levels before gain). Default [90, 230]. */
  spotPeak?: [number, number];
  /** Per-image noise sd range. Default [2, 8]. */
  noise?: [number, number];
  /** Share of MNA images shown as clusters rather than separate spots. Default 0.4. */
  clusterShare?: number;
}

export type SetOptions = TextureSetOptions | FishSetOptions;

export interface GeneratedSet {
  classNames: string[];
  images: ImageRGB[];
  labels: number[];
}

// ------------------------------------------------------------------ drawing helpers

function blur(plane: Float32Array, w: number, h: number, sigma: number): Float32Array {
  if (sigma < 0.2) return plane;
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let total = 0;
  for (let i = -r; i <= r; i++) total += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= total;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const clamp = (v: number, n: number) => (v < 0 ? -v - 1 < n ? -v - 1 : 0 : v >= n ? Math.max(0, 2 * n - v - 1) : v);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * plane[y * w + clamp(x + i, w)];
      tmp[y * w + x] = s;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * tmp[clamp(y + i, h) * w + x];
      out[y * w + x] = s;
    }
  return out;
}

/** Smooth random field in [0, 1] (white noise blurred at `sigma`, stretched by its own range). */
function smoothNoise(w: number, h: number, sigma: number, rng: Random): Float32Array {
  const raw = new Float32Array(w * h);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.normal();
  const b = blur(raw, w, h, sigma);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of b) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (let i = 0; i < b.length; i++) b[i] = (b[i] - lo) / (hi - lo || 1);
  return b;
}

function coverage(a: Float32Array): number {
  let c = 0;
  for (const v of a) if (v > 0.5) c++;
  return c / a.length;
}

/** Stamps value 1 where `inside(x, y)` over a bounding box (wrap-around, so textures are seamless). */
function stamp(a: Float32Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number, inside: (x: number, y: number) => boolean): void {
  for (let y = Math.floor(y0); y <= Math.ceil(y1); y++)
    for (let x = Math.floor(x0); x <= Math.ceil(x1); x++) {
      if (!inside(x, y)) continue;
      const xx = ((x % w) + w) % w;
      const yy = ((y % h) + h) % h;
      a[yy * w + xx] = 1;
    }
}

function segment(a: Float32Array, w: number, h: number, xa: number, ya: number, xb: number, yb: number, halfWidth: number): void {
  const dx = xb - xa;
  const dy = yb - ya;
  const len2 = dx * dx + dy * dy || 1;
  stamp(a, w, h, Math.min(xa, xb) - halfWidth - 1, Math.min(ya, yb) - halfWidth - 1, Math.max(xa, xb) + halfWidth + 1, Math.max(ya, yb) + halfWidth + 1, (x, y) => {
    const t = Math.min(1, Math.max(0, ((x - xa) * dx + (y - ya) * dy) / len2));
    return (x - xa - t * dx) ** 2 + (y - ya - t * dy) ** 2 <= halfWidth * halfWidth;
  });
}

// ------------------------------------------------------------------ textures

function stainMap(family: TextureFamily, S: number, target: number, rng: Random): Float32Array {
  const a = new Float32Array(S * S);
  const scale = S / 64; // element sizes grow a little with the image, so larger images hold similar patterns
  const sz = (lo: number, hi: number) => rng.uniformRange(lo, hi) * Math.max(1, Math.sqrt(scale));
  let guard = 0;
  const more = () => coverage(a) < target && guard++ < 4000;
  switch (family) {
    case 'rings': {
      const thick = rng.uniformRange(0.9, 1.6);
      while (more()) {
        const cx = rng.uniform() * S;
        const cy = rng.uniform() * S;
        const r = sz(2.5, 6);
        stamp(a, S, S, cx - r - 2, cy - r - 2, cx + r + 2, cy + r + 2, (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= thick / 2 + 0.3);
      }
      break;
    }
    case 'dots':
      while (more()) {
        const cx = rng.uniform() * S;
        const cy = rng.uniform() * S;
        const r = sz(1, 3);
        stamp(a, S, S, cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1, (x, y) => Math.hypot(x - cx, y - cy) <= r);
      }
      break;
    case 'fibres':
      while (more()) {
        const cx = rng.uniform() * S;
        const cy = rng.uniform() * S;
        const len = sz(8, 20);
        const t = rng.uniform() * Math.PI;
        const dx = (Math.cos(t) * len) / 2;
        const dy = (Math.sin(t) * len) / 2;
        segment(a, S, S, cx - dx, cy - dy, cx + dx, cy + dy, rng.uniformRange(0.5, 1.1));
      }
      break;
    case 'mesh': {
      // Jittered lattice whose spacing is chosen for the coverage: node-to-node links.
      const spacing = sz(6, 10) * Math.sqrt(0.25 / Math.max(0.08, target));
      const theta = rng.uniform() * Math.PI;
      const [c, s] = [Math.cos(theta), Math.sin(theta)];
      const n = Math.ceil((S * 1.5) / spacing) + 2;
      const node = new Map<string, [number, number]>();
      for (let i = -n; i <= n; i++)
        for (let j = -n; j <= n; j++) {
          const u = i * spacing + rng.normal(0, spacing * 0.12);
          const v = j * spacing + rng.normal(0, spacing * 0.12);
          node.set(`${i},${j}`, [S / 2 + c * u - s * v, S / 2 + s * u + c * v]);
        }
      const hw = rng.uniformRange(0.5, 1);
      for (let i = -n; i <= n; i++)
        for (let j = -n; j <= n; j++) {
          const p = node.get(`${i},${j}`)!;
          if (p[0] < -spacing || p[0] > S + spacing || p[1] < -spacing || p[1] > S + spacing) continue;
          for (const q of [node.get(`${i + 1},${j}`), node.get(`${i},${j + 1}`)]) if (q) segment(a, S, S, p[0], p[1], q[0], q[1], hw);
        }
      break;
    }
    case 'patches': {
      const field = smoothNoise(S, S, sz(4, 7), rng);
      const sorted = Float32Array.from(field).sort();
      const threshold = sorted[Math.floor((1 - target) * (sorted.length - 1))];
      for (let i = 0; i < a.length; i++) a[i] = field[i] >= threshold ? 1 : 0;
      break;
    }
    case 'dashes': {
      const t = rng.uniform() * Math.PI;
      const len = sz(4, 8);
      const dx = (Math.cos(t) * len) / 2;
      const dy = (Math.sin(t) * len) / 2;
      const hw = rng.uniformRange(0.6, 1.1);
      while (more()) {
        const cx = rng.uniform() * S;
        const cy = rng.uniform() * S;
        segment(a, S, S, cx - dx, cy - dy, cx + dx, cy + dy, hw);
      }
      break;
    }
  }
  return a;
}

/** Stain optical-density vectors from purple (haematoxylin-like) through pink (eosin-like) to brown (DAB-like). */
function stainColour(rng: Random): [number, number, number] {
  const t = rng.uniform();
  const purple = [0.65, 0.7, 0.29];
  const pink = [0.07, 0.99, 0.11];
  const brown = [0.27, 0.57, 0.78];
  const mix = t < 0.5 ? purple.map((p, i) => p + (pink[i] - p) * (2 * t)) : pink.map((p, i) => p + (brown[i] - p) * (2 * t - 1));
  const n = Math.hypot(...mix);
  return mix.map((v) => v / n) as [number, number, number];
}

export function textureImage(family: TextureFamily, o: Pick<TextureSetOptions, 'size' | 'noise' | 'brightness' | 'strength'>, rng: Random): ImageRGB {
  const S = o.size;
  const target = rng.uniformRange(0.12, 0.4);
  const a = blur(stainMap(family, S, target, rng), S, S, rng.uniformRange(0.4, 1.2));
  const od = stainColour(rng);
  const [s0, s1] = o.strength ?? [0.5, 1.4];
  const strength = rng.uniformRange(s0, s1);
  const bg = [rng.uniformRange(215, 250), rng.uniformRange(200, 245), rng.uniformRange(210, 250)];
  const [b0, b1] = o.brightness ?? [0.75, 1.1];
  const gain = rng.uniformRange(b0, b1);
  const [n0, n1] = o.noise ?? [2, 10];
  const noise = rng.uniformRange(n0, n1);
  // A faint uneven background stain (counterstain), the same for every class.
  const haze = smoothNoise(S, S, S / 6, rng);
  const hazeLevel = rng.uniformRange(0, 0.25);
  const data = new Uint8Array(S * S * 3);
  for (let i = 0; i < S * S; i++) {
    const amount = a[i] * strength + haze[i] * hazeLevel;
    for (let c = 0; c < 3; c++) {
      const v = bg[c] * Math.exp(-amount * od[c] * 2.3) * gain + rng.normal(0, noise);
      data[3 * i + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: S, height: S, data };
}

// ------------------------------------------------------------------ FISH

export const FISH_CLASSES = ['MNA', 'normal'] as const;

interface Spot {
  x: number;
  y: number;
  peak: number;
  sigma: number;
}

export function fishImage(amplified: boolean, o: Pick<FishSetOptions, 'size' | 'spotSize' | 'spotPeak' | 'noise' | 'clusterShare'>, rng: Random): ImageRGB {
  const S = o.size;
  const cx = S / 2 + rng.normal(0, S * 0.04);
  const cy = S / 2 + rng.normal(0, S * 0.04);
  const ra = S * rng.uniformRange(0.3, 0.42);
  const rb = ra * rng.uniformRange(0.7, 1);
  const theta = rng.uniform() * Math.PI;
  const [ct, st] = [Math.cos(theta), Math.sin(theta)];
  const ellipse = (x: number, y: number) => {
    const u = ((x - cx) * ct + (y - cy) * st) / ra;
    const v = (-(x - cx) * st + (y - cy) * ct) / rb;
    return u * u + v * v;
  };
  const insidePoint = (margin: number): [number, number] => {
    for (let t = 0; t < 200; t++) {
      const x = cx + rng.uniformRange(-ra, ra);
      const y = cy + rng.uniformRange(-ra, ra);
      if (ellipse(x, y) <= margin) return [x, y];
    }
    return [cx, cy];
  };
  const [z0, z1] = o.spotSize ?? [0.012, 0.025];
  const sigma = S * rng.uniformRange(z0, z1);
  const [p0, p1] = o.spotPeak ?? [90, 230];
  const peakR = rng.uniformRange(p0, p1);
  const peakG = rng.uniformRange(p0, p1);
  const spot = (peak: number, margin = 0.75): Spot => {
    const [x, y] = insidePoint(margin);
    return { x, y, peak: peak * rng.uniformRange(0.7, 1.15), sigma: sigma * rng.uniformRange(0.8, 1.25) };
  };
  const nRed = 1 + rng.int(3);
  const red: Spot[] = Array.from({ length: nRed }, () => spot(peakR));
  const green: Spot[] = [];
  if (!amplified) {
    const nGreen = nRed + rng.int(nRed + 1); // red … 2 × red
    for (let i = 0; i < nGreen; i++) green.push(spot(peakG));
  } else if (rng.uniform() < (o.clusterShare ?? 0.4)) {
    // Amplification clusters: many spots packed into one or two patches.
    const clusters = 1 + rng.int(2);
    for (let c = 0; c < clusters; c++) {
      const [qx, qy] = insidePoint(0.5);
      const spread = sigma * rng.uniformRange(1.5, 3);
      const n = 8 + rng.int(10);
      for (let i = 0; i < n; i++) green.push({ x: qx + rng.normal(0, spread), y: qy + rng.normal(0, spread), peak: peakG * rng.uniformRange(0.5, 0.9), sigma: sigma * rng.uniformRange(0.8, 1.25) });
    }
  } else {
    const nGreen = 4 * nRed + rng.int(5);
    for (let i = 0; i < nGreen; i++) green.push(spot(peakG, 0.85));
  }
  const render = (spots: Spot[]) => {
    const plane = new Float32Array(S * S);
    for (const s of spots) {
      const r = Math.ceil(3.5 * s.sigma);
      for (let y = Math.max(0, Math.floor(s.y - r)); y <= Math.min(S - 1, Math.ceil(s.y + r)); y++)
        for (let x = Math.max(0, Math.floor(s.x - r)); x <= Math.min(S - 1, Math.ceil(s.x + r)); x++)
          plane[y * S + x] += s.peak * Math.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * s.sigma * s.sigma));
    }
    return plane;
  };
  const R = render(red);
  const G = render(green);
  const dapiLevel = rng.uniformRange(60, 190);
  const chromatin = smoothNoise(S, S, rng.uniformRange(1, 2.5), rng);
  const edge = rng.uniformRange(0.04, 0.12);
  const background = [rng.uniformRange(0, 20), rng.uniformRange(0, 20), rng.uniformRange(0, 25)];
  const crosstalk = rng.uniformRange(0, 0.12); // DAPI leaking into the green and red channels
  const focus = rng.uniformRange(0, 1.2);
  const [n0, n1] = o.noise ?? [2, 8];
  const noise = rng.uniformRange(n0, n1);
  const B = new Float32Array(S * S);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const e = ellipse(x, y);
      const inside = 1 / (1 + Math.exp((e - 1) / edge));
      B[y * S + x] = inside * dapiLevel * (0.75 + 0.5 * chromatin[y * S + x]);
    }
  const planes = [R, G, B].map((p) => blur(p, S, S, focus));
  const data = new Uint8Array(S * S * 3);
  for (let i = 0; i < S * S; i++)
    for (let c = 0; c < 3; c++) {
      const leak = c < 2 ? crosstalk * planes[2][i] : 0;
      const v = background[c] + planes[c][i] + leak + rng.normal(0, noise);
      data[3 * i + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  return { width: S, height: S, data };
}

// ------------------------------------------------------------------ sets

export function generateSet(o: SetOptions): GeneratedSet {
  const rng = new Random(`classifier-eval:${o.kind}:${o.seed}`);
  const images: ImageRGB[] = [];
  const labels: number[] = [];
  if (o.kind === 'texture') {
    if (o.classes.length < 2 || o.classes.length !== o.counts.length) throw new RangeError('texture sets need ≥ 2 classes and one count per class');
    o.classes.forEach((family, k) => {
      for (let i = 0; i < o.counts[k]; i++) {
        images.push(textureImage(family, o, rng));
        labels.push(k);
      }
    });
    return { classNames: [...o.classes], images, labels };
  }
  // FISH: class folders sort as MNA, normal; counts are given as [normal, MNA].
  const [normal, mna] = o.counts;
  for (let i = 0; i < mna; i++) {
    images.push(fishImage(true, o, rng));
    labels.push(0);
  }
  for (let i = 0; i < normal; i++) {
    images.push(fishImage(false, o, rng));
    labels.push(1);
  }
  return { classNames: [...FISH_CLASSES], images, labels };
}

/** Writes a set as DIR/<class>/<class>-NNNN.png; returns DIR. */
export async function writeSet(set: GeneratedSet, dir: string): Promise<string> {
  for (const name of set.classNames) await mkdir(path.join(dir, name), { recursive: true });
  const next = set.classNames.map(() => 0);
  for (let i = 0; i < set.images.length; i++) {
    const k = set.labels[i];
    const name = set.classNames[k];
    const image = set.images[i];
    const png = encode({ width: image.width, height: image.height, data: image.data, channels: 3, depth: 8 });
    await writeFile(path.join(dir, name, `${name}-${String(next[k]++).padStart(4, '0')}.png`), png);
  }
  return dir;
}
