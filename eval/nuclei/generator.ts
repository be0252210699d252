/**
 * An independent generator of H&E-like fields with known nucleus centres,
 * for the nucleus evaluation (issue 15). It shares no code with
 * src/synthetic/he-nuclei.ts and is built differently on purpose:
 *
 * - tissue is a union of a few lobes with a wavy outline (value noise on the
 *   radius), the rest is glass of a given colour;
 * - the stroma's eosin density is smooth value noise plus oriented fibres;
 * - nuclei are ellipses with a soft rim, a per-nucleus stain amount and a
 *   chromatin texture; some are pale, some are laid out in touching clusters;
 * - the image is composed by Beer–Lambert with stain vectors perturbed from
 *   the usual H and E directions, then scaled by an illumination factor,
 *   given Gaussian noise and, optionally, an 8 × 8 block DCT quantisation
 *   (what JPEG compression does to a slide).
 *
 * Coordinates of the centres: continuous level-0 pixels in which pixel
 * (c, r) covers [c, c + 1) × [r, r + 1), the convention of the detections.
 */
import { createMemorySource } from '../../src/slide/formats/memory-source';
import type { SlideSource } from '../../src/slide/types';
import { RGB_CHANNELS } from '../../src/slide/formats/tiff-source';

export interface FieldOptions {
  width: number;
  height: number;
  seed: number;
  /** µm per pixel (0.25–1.0). */
  mpp: number;
  /** Nucleus diameter range in µm (5–20). */
  diameterUm: [number, number];
  /** Nuclei per 10 000 µm² of tissue. */
  density: number;
  /** Share of nuclei placed in touching clusters of 2–4. */
  clusterShare: number;
  /** Share of pale (weakly stained) nuclei. */
  paleShare: number;
  /** Haematoxylin optical density of a typical nucleus (≈ 0.5–1.2). */
  hStrength: number;
  /** Eosin optical density of the stroma (≈ 0.1–0.5). */
  eStrength: number;
  /** Angle (radians) by which the stain vectors are turned from the usual ones. */
  stainTwist: number;
  /** Glass colour, 0–255 RGB. */
  glass: [number, number, number];
  /** Illumination factor (0.8–1.1). */
  brightness: number;
  /** Gaussian noise, standard deviation in grey levels. */
  noise: number;
  /** JPEG-like quantisation step of the 8 × 8 DCT (0: none). */
  jpegStep: number;
  /** Share of the field that is glass (approximate; 0–0.6). */
  glassShare: number;
  /** Fibre contrast of the stroma texture (0–1). */
  fibres: number;
}

export interface Field {
  rgb: Uint8Array;
  width: number;
  height: number;
  mpp: number;
  /** Nucleus centres, level-0 px. */
  x: Float64Array;
  y: Float64Array;
  /** Per nucleus: true when pale. */
  pale: Uint8Array;
  /** Tissue mask used (1 = tissue), for checks. */
  tissue: Uint8Array;
}

/** Small, fast, seedable generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(r: () => number): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Value noise: a coarse lattice of random values, bicubic-smoothed (smoothstep) between nodes. */
function valueNoise(width: number, height: number, cell: number, r: () => number): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const lattice = Float32Array.from({ length: gw * gh }, () => r());
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = y / cell;
    const iy = Math.floor(fy);
    let ty = fy - iy;
    ty = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < width; x++) {
      const fx = x / cell;
      const ix = Math.floor(fx);
      let tx = fx - ix;
      tx = tx * tx * (3 - 2 * tx);
      const a = lattice[iy * gw + ix];
      const b = lattice[iy * gw + ix + 1];
      const c = lattice[(iy + 1) * gw + ix];
      const d = lattice[(iy + 1) * gw + ix + 1];
      out[y * width + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return out;
}

function normalise(v: [number, number, number]): [number, number, number] {
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** Turns v by `angle` about the axis a (Rodrigues). */
function turn(v: [number, number, number], a: [number, number, number], angle: number): [number, number, number] {
  const k = normalise(a);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const dot = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  const cross: [number, number, number] = [k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]];
  return normalise([0, 1, 2].map((i) => v[i] * c + cross[i] * s + k[i] * dot * (1 - c)) as [number, number, number]);
}

/** 8 × 8 block DCT, quantised with one step for every coefficient but DC-weighted lightly, per channel. */
function blockQuantise(rgb: Float32Array, width: number, height: number, step: number): void {
  const C = new Float64Array(64);
  for (let k = 0; k < 8; k++) for (let n = 0; n < 8; n++) C[k * 8 + n] = (k === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * n + 1) * k * Math.PI) / 16);
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  for (let by = 0; by + 8 <= height; by += 8) {
    for (let bx = 0; bx + 8 <= width; bx += 8) {
      for (let ch = 0; ch < 3; ch++) {
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = rgb[((by + y) * width + bx + x) * 3 + ch] - 128;
        // forward: tmp = C · block · Cᵀ
        for (let k = 0; k < 8; k++)
          for (let x = 0; x < 8; x++) {
            let s = 0;
            for (let n = 0; n < 8; n++) s += C[k * 8 + n] * block[n * 8 + x];
            tmp[k * 8 + x] = s;
          }
        for (let k = 0; k < 8; k++)
          for (let l = 0; l < 8; l++) {
            let s = 0;
            for (let n = 0; n < 8; n++) s += tmp[k * 8 + n] * C[l * 8 + n];
            // Higher frequencies get coarser steps, as in JPEG tables.
            const q = step * (1 + (k + l) / 4);
            block[k * 8 + l] = Math.round(s / q) * q;
          }
        // inverse: block = Cᵀ · coef · C
        for (let n = 0; n < 8; n++)
          for (let l = 0; l < 8; l++) {
            let s = 0;
            for (let k = 0; k < 8; k++) s += C[k * 8 + n] * block[k * 8 + l];
            tmp[n * 8 + l] = s;
          }
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            let s = 0;
            for (let l = 0; l < 8; l++) s += tmp[y * 8 + l] * C[l * 8 + x];
            rgb[((by + y) * width + bx + x) * 3 + ch] = s + 128;
          }
      }
    }
  }
}

export function generateField(o: FieldOptions): Field {
  const { width, height, mpp } = o;
  const r = rng(o.seed * 7919 + 17);
  const n = width * height;

  // Tissue: lobes with wavy outlines; glass elsewhere.
  const tissue = new Uint8Array(n);
  if (o.glassShare <= 0.01) {
    tissue.fill(1);
  } else {
    const wobble = valueNoise(width, height, Math.max(40, width / 6), r);
    const lobes = 2 + Math.floor(r() * 3);
    const cx: number[] = [];
    const cy: number[] = [];
    const rad: number[] = [];
    // Radius so that the union roughly covers (1 − glassShare) of the field.
    const area = (1 - o.glassShare) * n;
    for (let k = 0; k < lobes; k++) {
      cx.push(width * (0.2 + 0.6 * r()));
      cy.push(height * (0.2 + 0.6 * r()));
      rad.push(Math.sqrt(area / lobes / Math.PI) * (0.9 + 0.5 * r()));
    }
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const w = 0.75 + 0.5 * wobble[i];
        for (let k = 0; k < lobes; k++) {
          if (Math.hypot(x - cx[k], y - cy[k]) < rad[k] * w) {
            tissue[i] = 1;
            break;
          }
        }
      }
  }

  // Stroma eosin: smooth variation plus fibres along a few directions.
  const um = (v: number) => v / mpp; // µm → px
  const smooth = valueNoise(width, height, um(60), r);
  const fine = valueNoise(width, height, um(6), r);
  const eo = new Float32Array(n);
  const hBg = new Float32Array(n);
  const theta = r() * Math.PI;
  const period = um(4 + 6 * r());
  const ct = Math.cos(theta);
  const st = Math.sin(theta);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!tissue[i]) continue;
      const along = x * ct + y * st;
      const across = -x * st + y * ct;
      const fibre = 0.5 + 0.5 * Math.sin((2 * Math.PI * (across + 8 * smooth[i] * period)) / period + 0.002 * along);
      const t = (0.6 + 0.6 * smooth[i]) * (1 - o.fibres * 0.5 + o.fibres * 0.5 * fibre) * (0.85 + 0.3 * fine[i]);
      eo[i] = o.eStrength * t;
      // A little haematoxylin in the stroma (counterstain spill).
      hBg[i] = 0.06 * o.hStrength * (0.5 + smooth[i]);
    }

  // Nuclei: centres in tissue, at most slight overlap, some in touching clusters.
  const tissueArea = tissue.reduce((s, v) => s + v, 0) * mpp * mpp;
  const target = Math.round((o.density * tissueArea) / 10000);
  const xs: number[] = [];
  const ys: number[] = [];
  const rs: number[] = [];
  const pale: number[] = [];
  const cellSize = um(o.diameterUm[1]) + 2;
  const buckets = new Map<number, number[]>();
  const key = (x: number, y: number) => Math.floor(y / cellSize) * 100000 + Math.floor(x / cellSize);
  const free = (x: number, y: number, rad: number, minGap: number) => {
    if (x < 1 || y < 1 || x >= width - 1 || y >= height - 1) return false;
    if (!tissue[Math.floor(y) * width + Math.floor(x)]) return false;
    const gx = Math.floor(x / cellSize);
    const gy = Math.floor(y / cellSize);
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        for (const j of buckets.get((gy + dy) * 100000 + gx + dx) ?? []) {
          if (Math.hypot(xs[j] - x, ys[j] - y) < (rad + rs[j]) * minGap) return false;
        }
      }
    return true;
  };
  const add = (x: number, y: number, rad: number) => {
    xs.push(x);
    ys.push(y);
    rs.push(rad);
    pale.push(r() < o.paleShare ? 1 : 0);
    const k = key(x, y);
    if (!buckets.has(k)) buckets.set(k, []);
    buckets.get(k)!.push(xs.length - 1);
  };
  const radius = () => um(o.diameterUm[0] + (o.diameterUm[1] - o.diameterUm[0]) * r()) / 2;
  let tries = 0;
  while (xs.length < target && tries < target * 60) {
    tries++;
    const x = r() * width;
    const y = r() * height;
    const rad = radius();
    if (!free(x, y, rad, 1.15)) continue;
    add(x, y, rad);
    if (r() < o.clusterShare / 2) {
      // A touching cluster: 1–3 neighbours at about one diameter, rims touching.
      const extra = 1 + Math.floor(r() * 3);
      let px = x;
      let py = y;
      let pr = rad;
      for (let k = 0; k < extra && xs.length < target; k++) {
        const nr = radius();
        const a = r() * 2 * Math.PI;
        const d = (pr + nr) * (0.85 + 0.1 * r());
        const nx = px + d * Math.cos(a);
        const ny = py + d * Math.sin(a);
        if (!free(nx, ny, nr, 0.8)) continue;
        add(nx, ny, nr);
        px = nx;
        py = ny;
        pr = nr;
      }
    }
  }

  // Render nuclei into the haematoxylin density (maximum where rims touch).
  const hn = new Float32Array(n);
  const chrom = valueNoise(width, height, Math.max(1.5, um(1.2)), r);
  for (let k = 0; k < xs.length; k++) {
    const rad = rs[k];
    const ratio = 0.65 + 0.35 * r();
    const a = r() * Math.PI;
    const ca = Math.cos(a);
    const sa = Math.sin(a);
    const ax = rad / Math.sqrt(ratio);
    const ay = rad * Math.sqrt(ratio);
    const amount = o.hStrength * (pale[k] ? 0.35 + 0.15 * r() : 0.8 + 0.4 * r());
    const rim = Math.max(0.8, rad * 0.15);
    const reach = ax + 2 * rim;
    for (let y = Math.max(0, Math.floor(ys[k] - reach)); y <= Math.min(height - 1, Math.ceil(ys[k] + reach)); y++)
      for (let x = Math.max(0, Math.floor(xs[k] - reach)); x <= Math.min(width - 1, Math.ceil(xs[k] + reach)); x++) {
        const dx = x + 0.5 - xs[k];
        const dy = y + 0.5 - ys[k];
        const u = (dx * ca + dy * sa) / ax;
        const v = (-dx * sa + dy * ca) / ay;
        const d = (Math.sqrt(u * u + v * v) - 1) * Math.min(ax, ay); // px outside the outline
        const inside = 1 / (1 + Math.exp(d / (rim * 0.4)));
        if (inside < 0.01) continue;
        const i = y * width + x;
        const val = amount * inside * (0.75 + 0.5 * chrom[i]) * (1 + 0.15 * Math.max(0, -d / rad));
        if (val > hn[i]) hn[i] = val;
      }
  }

  // Compose: transmitted light through H and E along turned stain vectors.
  const hVec = turn(normalise([0.65, 0.7, 0.29]), [r() - 0.5, r() - 0.5, r() - 0.5], o.stainTwist);
  const eVec = turn(normalise([0.07, 0.99, 0.11]), [r() - 0.5, r() - 0.5, r() - 0.5], o.stainTwist);
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    // Nuclei displace the cytoplasm's eosin.
    const h = hn[i] + hBg[i];
    const e = eo[i] * (1 - Math.min(1, hn[i] / Math.max(1e-6, o.hStrength * 0.5)) * 0.7);
    for (let c = 0; c < 3; c++) {
      const od = h * hVec[c] + e * eVec[c];
      const v = o.glass[c] * o.brightness * Math.pow(10, -od) + o.noise * gauss(r);
      out[i * 3 + c] = v;
    }
  }
  if (o.jpegStep > 0) blockQuantise(out, width, height, o.jpegStep);
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) rgb[i] = Math.max(0, Math.min(255, Math.round(out[i])));
  return {
    rgb,
    width,
    height,
    mpp,
    x: Float64Array.from(xs),
    y: Float64Array.from(ys),
    pale: Uint8Array.from(pale),
    tissue,
  };
}

/** The field as a single-level slide, the way a PNG/JPEG file opens. */
export function fieldSource(field: Field, name: string): SlideSource {
  return createMemorySource(
    { data: field.rgb, width: field.width, height: field.height, channels: 3, dtype: 'uint8' },
    {
      name,
      format: 'synthetic',
      channels: RGB_CHANNELS,
      rgb: true,
      mppX: field.mpp,
      mppY: field.mpp,
      properties: {},
    },
  );
}
