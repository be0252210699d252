/**
 * An independent procedural CISH slide for the evaluation suite (issue 15).
 * It shares no code with src/synthetic/cish-slide.ts, on purpose: the suite
 * must test the workflow on inputs its own tests were not built on.
 *
 * Model (all lengths in µm, so the same slide can be scanned at any µm/px):
 * - Tissue: a noisy ellipse with ragged edges, holes and separate fragments;
 *   everything else is glass of a given colour.
 * - Expression: 3–7 ordinal levels laid out as warped Voronoi cells (few
 *   large regions or many small ones) or warped bands.
 * - Brightfield Beer–Lambert colour: optical density = counterstain amount ×
 *   its OD vector + chromogen amount × its OD vector; intensity =
 *   background × 10^(−OD), plus sensor noise.
 * - Counterstain: nuclei on a jittered lattice over a pale cytoplasm.
 * - Chromogen: granules on a jittered lattice of pitch `granule` µm; the
 *   share of lattice cells holding a granule and their size grow with the
 *   level, plus a weak diffuse component.
 * - Compression: 8×8 DCT quantisation of Y/Cb/Cr per 256-px file tile (the
 *   part of JPEG that loses information), at a chosen quality.
 *
 * Pixels are a pure function of (position, seed): any region of any level is
 * rendered on demand, so a 20000² px slide needs no large buffer. Levels
 * whose pixels are coarser than 2 µm are rendered from the expected optical
 * density (granules and nuclei averaged out), which is what an area-averaged
 * overview of the fine model would show.
 */
import type { PixelBlock, Region, SlideMetadata, SlideSource } from '../../src/slide/types';
import { TileCache } from '../../src/slide/formats/tile-cache';
import { RGB_CHANNELS } from '../../src/slide/formats/tiff-source';

export type Rgb = readonly [number, number, number];

export interface StainSpec {
  /** Optical density per unit amount in R, G, B (normalised to unit length when used). */
  vector: Rgb;
  name: string;
}

/** Counterstains and chromogens, as rough OD vectors of the real dyes. */
export const STAINS = {
  haematoxylin: { name: 'haematoxylin', vector: [0.65, 0.7, 0.29] },
  nuclearFastRed: { name: 'nuclear fast red', vector: [0.18, 0.78, 0.6] },
  dab: { name: 'DAB', vector: [0.27, 0.57, 0.78] },
  fastRed: { name: 'fast red', vector: [0.12, 0.82, 0.56] },
  nbtBcip: { name: 'NBT/BCIP', vector: [0.62, 0.72, 0.3] },
  green: { name: 'HRP green', vector: [0.76, 0.2, 0.62] },
} as const satisfies Record<string, StainSpec>;

export interface CishSlideSpec {
  seed: number;
  /** Level-0 size in px. */
  width: number;
  height: number;
  /** µm per level-0 pixel. */
  mpp: number;
  /** Number of ordinal expression levels (3–7); level 0 has (almost) no chromogen. */
  levels: number;
  layout: 'large-regions' | 'small-regions' | 'bands';
  counterstain: StainSpec;
  chromogen: StainSpec;
  /** Multiplies the chromogen's optical density (1 = a strong DAB). */
  chromogenStrength: number;
  /** Multiplies the counterstain's optical density. */
  counterstainStrength: number;
  /** Pitch of the granule lattice in µm: 1.5 = fine dust, 5 = coarse dots. */
  granule: number;
  /** Glass colour (0–255 per channel) before `brightness`. */
  background: Rgb;
  /** Multiplies every intensity (scan exposure), e.g. 0.85–1.05. */
  brightness: number;
  /** Sensor noise, sd in 0–255 units. */
  noise: number;
  /** DCT quantisation quality 1–100 (JPEG's scale); 0 = lossless. */
  jpegQuality: number;
  /** Radius of the main tissue body as a share of the slide's half-size (0.5–0.95). */
  tissueExtent: number;
  /** Edge raggedness, 0 (smooth) to 1 (very ragged). */
  ragged: number;
  /** Holes inside the tissue, and separate fragments beside it. */
  holes: number;
  fragments: number;
}

// ---------------------------------------------------------------- hashing and noise

/** A 32-bit integer hash of two lattice coordinates and a salt, to [0, 1). */
function hash01(ix: number, iy: number, salt: number): number {
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ Math.imul(salt | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1] with features of size `scale`. */
function valueNoise(x: number, y: number, scale: number, salt: number): number {
  const fx = x / scale;
  const fy = y / scale;
  const ix = Math.floor(fx);
  const iy = Math.floor(fy);
  const tx = fx - ix;
  const ty = fy - iy;
  const sx = tx * tx * (3 - 2 * tx);
  const sy = ty * ty * (3 - 2 * ty);
  const a = hash01(ix, iy, salt);
  const b = hash01(ix + 1, iy, salt);
  const c = hash01(ix, iy + 1, salt);
  const d = hash01(ix + 1, iy + 1, salt);
  return (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy;
}

/** Three octaves of value noise, centred on 0 (range about ±0.5). */
function fractalNoise(x: number, y: number, scale: number, salt: number): number {
  return (
    0.57 * valueNoise(x, y, scale, salt) +
    0.29 * valueNoise(x, y, scale / 2, salt + 1) +
    0.14 * valueNoise(x, y, scale / 4, salt + 2) -
    0.5
  );
}

/** A seeded stream for the slide's layout (small counts; speed does not matter). */
class Stream {
  private counter = 0;
  constructor(private readonly seed: number) {}
  next(): number {
    return hash01(this.counter++, 7, this.seed);
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}

function unit(v: Rgb): Rgb {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

// ---------------------------------------------------------------- the slide

interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  angle: number;
}

function insideEllipse(e: Ellipse, x: number, y: number, wobble: number): number {
  const c = Math.cos(e.angle);
  const s = Math.sin(e.angle);
  const dx = x - e.cx;
  const dy = y - e.cy;
  const u = (dx * c + dy * s) / e.rx;
  const v = (-dx * s + dy * c) / e.ry;
  return 1 - Math.sqrt(u * u + v * v) + wobble;
}

/** Nuclei: lattice pitch and radii in µm (a cell every ~12 µm, nuclei 5–9 µm across). */
const NUCLEUS_PITCH = 12;
const FILE_TILE = 256;

export class GeneratedCishSlide implements SlideSource {
  readonly metadata: SlideMetadata;
  /** Expression level per raster cell (−1 = glass); the truth and the renderer read the same raster. */
  private readonly raster: Int8Array;
  readonly rasterCellUm: number;
  readonly rasterWidth: number;
  readonly rasterHeight: number;
  private readonly counterVector: Rgb;
  private readonly chromVector: Rgb;
  private readonly cache = new TileCache<Uint8Array>(160 * 1024 * 1024);

  constructor(readonly spec: CishSlideSpec) {
    const { width, height, mpp } = spec;
    const levels: SlideMetadata['levels'] = [];
    for (let downsample = 1; ; downsample *= 2) {
      const w = Math.ceil(width / downsample);
      const h = Math.ceil(height / downsample);
      levels.push({ width: w, height: h, tileWidth: FILE_TILE, tileHeight: FILE_TILE, downsample });
      if (Math.max(w, h) <= 512) break;
    }
    this.metadata = {
      name: `generated-cish-${spec.seed}`,
      format: 'generated',
      width,
      height,
      levels,
      channels: RGB_CHANNELS,
      dtype: 'uint8',
      rgb: true,
      mppX: mpp,
      mppY: mpp,
      associated: [],
      properties: {},
    };
    this.counterVector = unit(spec.counterstain.vector);
    this.chromVector = unit(spec.chromogen.vector);
    const widthUm = width * mpp;
    const heightUm = height * mpp;
    // 4 µm cells, coarser on huge sections so the raster stays ≤ ~4 M cells.
    this.rasterCellUm = Math.max(4, Math.max(widthUm, heightUm) / 2000);
    this.rasterWidth = Math.ceil(widthUm / this.rasterCellUm);
    this.rasterHeight = Math.ceil(heightUm / this.rasterCellUm);
    this.raster = this.buildRaster(widthUm, heightUm);
  }

  private buildRaster(widthUm: number, heightUm: number): Int8Array {
    const { spec } = this;
    const rng = new Stream(spec.seed * 7919 + 13);
    const half = Math.min(widthUm, heightUm) / 2;
    const body: Ellipse = {
      cx: widthUm / 2 + rng.range(-0.05, 0.05) * widthUm,
      cy: heightUm / 2 + rng.range(-0.05, 0.05) * heightUm,
      rx: spec.tissueExtent * (widthUm / 2) * rng.range(0.9, 1.05),
      ry: spec.tissueExtent * (heightUm / 2) * rng.range(0.85, 1.0),
      angle: rng.range(-0.3, 0.3),
    };
    const holes: Ellipse[] = [];
    for (let i = 0; i < spec.holes; i++) {
      const r = half * rng.range(0.04, 0.1);
      holes.push({
        cx: body.cx + rng.range(-0.6, 0.6) * body.rx,
        cy: body.cy + rng.range(-0.6, 0.6) * body.ry,
        rx: r,
        ry: r * rng.range(0.5, 1),
        angle: rng.range(0, Math.PI),
      });
    }
    const fragments: Ellipse[] = [];
    for (let i = 0; i < spec.fragments; i++) {
      // Corners of the slide, outside the main body.
      const corner = i % 4;
      const r = half * rng.range(0.08, 0.14);
      fragments.push({
        cx: (corner % 2 === 0 ? 0.12 : 0.88) * widthUm + rng.range(-0.03, 0.03) * widthUm,
        cy: (corner < 2 ? 0.12 : 0.88) * heightUm + rng.range(-0.03, 0.03) * heightUm,
        rx: r,
        ry: r * rng.range(0.6, 1),
        angle: rng.range(0, Math.PI),
      });
    }
    // Expression layout. Region seeds carry a level; every level appears at least once.
    const n = spec.levels;
    const regionCount =
      spec.layout === 'large-regions' ? n + 1 : spec.layout === 'small-regions' ? Math.max(2 * n, Math.round((widthUm * heightUm) / 600 ** 2)) : n;
    const seeds: Array<{ x: number; y: number; level: number }> = [];
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < regionCount; i++) {
      seeds.push({
        x: body.cx + rng.range(-0.95, 0.95) * body.rx,
        y: body.cy + rng.range(-0.95, 0.95) * body.ry,
        level: i < n ? order[i] : Math.floor(rng.next() * n),
      });
    }
    const bandAngle = rng.range(-0.6, 0.6);
    const raggedScale = half * 0.15;
    const warp = spec.layout === 'small-regions' ? 60 : 150;
    const cell = this.rasterCellUm;
    const out = new Int8Array(this.rasterWidth * this.rasterHeight);
    for (let ry = 0; ry < this.rasterHeight; ry++) {
      for (let rx = 0; rx < this.rasterWidth; rx++) {
        const x = (rx + 0.5) * cell;
        const y = (ry + 0.5) * cell;
        const wobble = spec.ragged * 0.25 * fractalNoise(x, y, raggedScale, spec.seed + 101);
        let tissue = insideEllipse(body, x, y, wobble) > 0;
        if (!tissue) for (const f of fragments) if (insideEllipse(f, x, y, wobble) > 0) tissue = true;
        if (tissue) for (const h of holes) if (insideEllipse(h, x, y, 0.5 * wobble) > 0) tissue = false;
        if (!tissue) {
          out[ry * this.rasterWidth + rx] = -1;
          continue;
        }
        const wx = x + warp * 2 * fractalNoise(x, y, 400, spec.seed + 201);
        const wy = y + warp * 2 * fractalNoise(x, y, 400, spec.seed + 301);
        let level: number;
        if (spec.layout === 'bands') {
          const along = ((wx - body.cx) * Math.cos(bandAngle) + (wy - body.cy) * Math.sin(bandAngle)) / (2 * body.rx) + 0.5;
          level = order[Math.min(n - 1, Math.max(0, Math.floor(along * n)))];
        } else {
          let best = Infinity;
          level = 0;
          for (const s of seeds) {
            const d = (s.x - wx) ** 2 + (s.y - wy) ** 2;
            if (d < best) {
              best = d;
              level = s.level;
            }
          }
        }
        out[ry * this.rasterWidth + rx] = level;
      }
    }
    return out;
  }

  /** Expression level at a level-0 pixel position (−1 = glass). */
  levelAt(x0: number, y0: number): number {
    const { mpp } = this.spec;
    const rx = Math.min(this.rasterWidth - 1, Math.max(0, Math.floor((x0 * mpp) / this.rasterCellUm)));
    const ry = Math.min(this.rasterHeight - 1, Math.max(0, Math.floor((y0 * mpp) / this.rasterCellUm)));
    return this.raster[ry * this.rasterWidth + rx];
  }

  /**
   * Truth of a level-0 rectangle from the raster cells it covers: the share
   * that is tissue, the majority level, and the share of tissue at that level.
   */
  regionTruth(x0: number, y0: number, w0: number, h0: number): { tissue: number; level: number; purity: number } {
    const { mpp } = this.spec;
    const c = this.rasterCellUm;
    const x1 = Math.max(0, Math.floor((x0 * mpp) / c));
    const y1 = Math.max(0, Math.floor((y0 * mpp) / c));
    const x2 = Math.min(this.rasterWidth - 1, Math.floor(((x0 + w0) * mpp - 1e-9) / c));
    const y2 = Math.min(this.rasterHeight - 1, Math.floor(((y0 + h0) * mpp - 1e-9) / c));
    const counts = new Array<number>(this.spec.levels).fill(0);
    let total = 0;
    let tissue = 0;
    for (let ry = y1; ry <= y2; ry++) {
      for (let rx = x1; rx <= x2; rx++) {
        total++;
        const v = this.raster[ry * this.rasterWidth + rx];
        if (v >= 0) {
          tissue++;
          counts[v]++;
        }
      }
    }
    const level = counts.indexOf(Math.max(...counts));
    return { tissue: total ? tissue / total : 0, level, purity: tissue ? counts[level] / tissue : 0 };
  }

  /** Share of the slide that is glass. */
  glassFraction(): number {
    let glass = 0;
    for (const v of this.raster) if (v < 0) glass++;
    return glass / this.raster.length;
  }

  // ------------------------------------------------------------ colour

  /** Chromogen granules: share of lattice cells holding one, and radius as a share of the pitch, at level `level`. */
  private granuleShape(level: number): { occupancy: number; radius: number; diffuse: number } {
    const e = level / Math.max(1, this.spec.levels - 1);
    return { occupancy: 0.02 + 0.7 * e, radius: 0.22 + 0.08 * e, diffuse: 0.05 * e };
  }

  /** RGB of one pixel of side `pixelUm` centred at (x, y) µm. */
  private shade(x: number, y: number, pixelUm: number, out: Float64Array): void {
    const { spec } = this;
    const rx = Math.min(this.rasterWidth - 1, Math.floor(x / this.rasterCellUm));
    const ry = Math.min(this.rasterHeight - 1, Math.floor(y / this.rasterCellUm));
    const level = this.raster[ry * this.rasterWidth + rx];
    let counter = 0;
    let chrom = 0;
    if (level >= 0) {
      // Pale cytoplasm whose density drifts over ~100 µm.
      counter = 0.1 * (1 + 0.6 * fractalNoise(x, y, 100, spec.seed + 401));
      const g = this.granuleShape(level);
      chrom = g.diffuse;
      if (pixelUm > 2) {
        // Expected densities over a pixel that holds many nuclei and granules.
        counter += 0.55 * 0.3;
        chrom += 1.3 * g.occupancy * Math.PI * g.radius * g.radius;
      } else {
        // Nucleus of this lattice cell, jittered so it stays inside the cell.
        const ix = Math.floor(x / NUCLEUS_PITCH);
        const iy = Math.floor(y / NUCLEUS_PITCH);
        const r = NUCLEUS_PITCH * (0.2 + 0.15 * hash01(ix, iy, spec.seed + 501));
        const room = NUCLEUS_PITCH / 2 - r;
        const cx = (ix + 0.5) * NUCLEUS_PITCH + room * (2 * hash01(ix, iy, spec.seed + 502) - 1);
        const cy = (iy + 0.5) * NUCLEUS_PITCH + room * (2 * hash01(ix, iy, spec.seed + 503) - 1);
        counter += 0.55 * discCoverage(Math.hypot(x - cx, y - cy), r, pixelUm);
        // Granule of this lattice cell, if the cell holds one.
        const pitch = spec.granule;
        const gx = Math.floor(x / pitch);
        const gy = Math.floor(y / pitch);
        if (hash01(gx, gy, spec.seed + 601) < g.occupancy) {
          const gr = pitch * g.radius * (0.7 + 0.6 * hash01(gx, gy, spec.seed + 602));
          const groom = Math.max(0, pitch / 2 - gr);
          const hx = (gx + 0.5) * pitch + groom * (2 * hash01(gx, gy, spec.seed + 603) - 1);
          const hy = (gy + 0.5) * pitch + groom * (2 * hash01(gx, gy, spec.seed + 604) - 1);
          chrom += 1.3 * discCoverage(Math.hypot(x - hx, y - hy), gr, pixelUm);
        }
      }
    }
    counter *= spec.counterstainStrength;
    chrom *= spec.chromogenStrength;
    const cv = this.counterVector;
    const hv = this.chromVector;
    for (let c = 0; c < 3; c++) {
      const od = counter * cv[c] + chrom * hv[c];
      out[c] = spec.background[c] * spec.brightness * Math.pow(10, -od);
    }
  }

  // ------------------------------------------------------------ pixels

  private renderTile(level: number, tx: number, ty: number): Uint8Array {
    const { spec } = this;
    const info = this.metadata.levels[level];
    const downsample = info.downsample;
    const pixelUm = spec.mpp * downsample;
    const w = Math.min(FILE_TILE, info.width - tx * FILE_TILE);
    const h = Math.min(FILE_TILE, info.height - ty * FILE_TILE);
    const out = new Uint8Array(FILE_TILE * FILE_TILE * 3).fill(255);
    const rgb = new Float64Array(3);
    // Coarse levels average many sensor pixels: their noise is smaller.
    const noise = spec.noise / Math.min(8, downsample);
    for (let y = 0; y < h; y++) {
      const py = ty * FILE_TILE + y;
      const yUm = (py + 0.5) * pixelUm;
      for (let x = 0; x < w; x++) {
        const px = tx * FILE_TILE + x;
        this.shade((px + 0.5) * pixelUm, yUm, pixelUm, rgb);
        const o = (y * FILE_TILE + x) * 3;
        for (let c = 0; c < 3; c++) {
          // Sum of two uniforms: a cheap bell-shaped noise with sd = `noise`.
          const u = hash01(px * 3 + c, py, spec.seed + 701 + level) + hash01(px * 3 + c, py, spec.seed + 702 + level) - 1;
          out[o + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + u * noise * 2.449)));
        }
      }
    }
    if (spec.jpegQuality > 0) quantiseDct(out, FILE_TILE, FILE_TILE, spec.jpegQuality);
    return out;
  }

  private tile(level: number, tx: number, ty: number): Uint8Array {
    const key = `${level}/${tx}/${ty}`;
    let t = this.cache.get(key);
    if (!t) {
      t = this.renderTile(level, tx, ty);
      this.cache.set(key, t, t.byteLength);
    }
    return t;
  }

  async readRegion(region: Region, signal?: AbortSignal): Promise<PixelBlock> {
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const info = this.metadata.levels[region.level];
    if (!info) throw new RangeError(`no level ${region.level}`);
    const { x, y, width, height } = region;
    const data = new Uint8Array(width * height * 3).fill(255);
    const tx0 = Math.max(0, Math.floor(x / FILE_TILE));
    const ty0 = Math.max(0, Math.floor(y / FILE_TILE));
    const tx1 = Math.min(Math.ceil(info.width / FILE_TILE) - 1, Math.floor((x + width - 1) / FILE_TILE));
    const ty1 = Math.min(Math.ceil(info.height / FILE_TILE) - 1, Math.floor((y + height - 1) / FILE_TILE));
    for (let ty = ty0; ty <= ty1; ty++) {
      for (let tx = tx0; tx <= tx1; tx++) {
        const tile = this.tile(region.level, tx, ty);
        const left = Math.max(x, tx * FILE_TILE);
        const right = Math.min(x + width, (tx + 1) * FILE_TILE, info.width);
        const top = Math.max(y, ty * FILE_TILE);
        const bottom = Math.min(y + height, (ty + 1) * FILE_TILE, info.height);
        for (let row = top; row < bottom; row++) {
          const from = ((row - ty * FILE_TILE) * FILE_TILE + (left - tx * FILE_TILE)) * 3;
          data.set(tile.subarray(from, from + (right - left) * 3), ((row - y) * width + (left - x)) * 3);
        }
      }
    }
    return { data, width, height, channels: 3, dtype: 'uint8' };
  }

  async readAssociated(name: string): Promise<PixelBlock> {
    throw new Error(`no associated image '${name}'`);
  }

  close(): void {
    this.cache.clear();
  }
}

/** Share of a pixel of side `pixelUm` covered by a disc of radius r at distance d (a linear ramp one pixel wide). */
function discCoverage(d: number, r: number, pixelUm: number): number {
  // Discs smaller than a pixel keep their area: a one-pixel disc with the density scaled down.
  const effective = Math.max(r, 0.6 * pixelUm);
  const scale = (r / effective) ** 2;
  const t = (effective - d) / pixelUm + 0.5;
  return scale * (t <= 0 ? 0 : t >= 1 ? 1 : t);
}

// ---------------------------------------------------------------- compression

/** JPEG's luminance quantisation table (Annex K), used for all three channels here. */
const QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
  37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

const COSINES: Float64Array = (() => {
  const c = new Float64Array(64);
  for (let u = 0; u < 8; u++) {
    const a = u === 0 ? Math.SQRT1_2 : 1;
    for (let x = 0; x < 8; x++) c[u * 8 + x] = 0.5 * a * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return c;
})();

/**
 * In place: RGB → YCbCr, per 8×8 block a DCT, rounding to the quantisation
 * step of `quality` (JPEG's scaling; chroma quantised twice as coarsely, in
 * place of subsampling), inverse DCT, back to RGB.
 */
export function quantiseDct(rgb: Uint8Array, width: number, height: number, quality: number): void {
  const q = Math.max(1, Math.min(100, quality));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  const steps = QUANT.map((v) => Math.max(1, Math.floor((v * scale + 50) / 100)));
  const planes = [new Float64Array(width * height), new Float64Array(width * height), new Float64Array(width * height)];
  for (let i = 0; i < width * height; i++) {
    const r = rgb[3 * i];
    const g = rgb[3 * i + 1];
    const b = rgb[3 * i + 2];
    planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
    planes[1][i] = -0.168736 * r - 0.331264 * g + 0.5 * b;
    planes[2][i] = 0.5 * r - 0.418688 * g - 0.081312 * b;
  }
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  for (let p = 0; p < 3; p++) {
    const plane = planes[p];
    const factor = p === 0 ? 1 : 2;
    for (let by = 0; by + 8 <= height; by += 8) {
      for (let bx = 0; bx + 8 <= width; bx += 8) {
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * width + bx + x];
        // Forward: rows then columns.
        for (let y = 0; y < 8; y++)
          for (let u = 0; u < 8; u++) {
            let s = 0;
            for (let x = 0; x < 8; x++) s += COSINES[u * 8 + x] * block[y * 8 + x];
            tmp[y * 8 + u] = s;
          }
        for (let u = 0; u < 8; u++)
          for (let v = 0; v < 8; v++) {
            let s = 0;
            for (let y = 0; y < 8; y++) s += COSINES[v * 8 + y] * tmp[y * 8 + u];
            const step = steps[v * 8 + u] * factor;
            block[v * 8 + u] = Math.round(s / step) * step;
          }
        // Inverse.
        for (let v = 0; v < 8; v++)
          for (let x = 0; x < 8; x++) {
            let s = 0;
            for (let u = 0; u < 8; u++) s += COSINES[u * 8 + x] * block[v * 8 + u];
            tmp[v * 8 + x] = s;
          }
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            let s = 0;
            for (let v = 0; v < 8; v++) s += COSINES[v * 8 + y] * tmp[v * 8 + x];
            plane[(by + y) * width + bx + x] = s;
          }
      }
    }
  }
  for (let i = 0; i < width * height; i++) {
    const Y = planes[0][i] + 128;
    const cb = planes[1][i];
    const cr = planes[2][i];
    rgb[3 * i] = clampByte(Y + 1.402 * cr);
    rgb[3 * i + 1] = clampByte(Y - 0.344136 * cb - 0.714136 * cr);
    rgb[3 * i + 2] = clampByte(Y + 1.772 * cb);
  }
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
