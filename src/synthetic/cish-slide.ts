/**
 * A procedural CISH slide with known ground truth, for testing the whole
 * expression-mapping pipeline (SPEC §1) without shipping gigabytes.
 *
 * Brightfield: white glass, a large irregular tissue section with pink stroma
 * and hematoxylin nuclei, and dark-brown CISH signal dots whose density is
 * the expression level. The tissue is split into vertical bands, one ordinal
 * level each (level 0 = tissue without signal). A few small dark specks lie
 * on the glass, away from the tissue: the seed's reconstruction step must
 * drop them from the mask.
 *
 * Pixels are a pure function of (x, y, seed), so any region at any level can
 * be rendered on demand: the source behaves like a lazily read slide of any
 * size and costs nothing until read.
 */
import type { PixelBlock, Region, SlideMetadata, SlideSource } from '../slide/types';
import { TileCache } from '../slide/formats/tile-cache';
import { RGB_CHANNELS } from '../slide/formats/tiff-source';

export interface SyntheticCishOptions {
  /** Level-0 size in px. */
  width?: number;
  height?: number;
  /** Ordinal expression levels including 0 (no signal). */
  levels?: number;
  seed?: number;
  mpp?: number;
  name?: string;
}

type Rgb = readonly [number, number, number];
const GLASS: Rgb = [243, 243, 245];
const STROMA: Rgb = [226, 206, 216];
const NUCLEUS: Rgb = [118, 104, 168];
const SIGNAL: Rgb = [72, 46, 34];
const SPECK: Rgb = [150, 140, 150];

/** Mean signal dots per nucleus at each level: ordinal and well separated. */
function dotsPerNucleus(level: number, levels: number): number {
  return (level * 12) / Math.max(1, levels - 1);
}

/** Side of the rendered, cached blocks. */
const BLOCK = 512;
const CELL = 22; // nucleus grid spacing, px at level 0
const NUCLEUS_R_MIN = 5;
const NUCLEUS_R_MAX = 8;
const DOT_R = 2.2;
/** Signal dots (mRNA) lie over the nucleus and the cytoplasm around it, up to this many nucleus radii. */
const SIGNAL_SPREAD = 1.6;
/** Coarse levels are rendered analytically (expected colour) from this downsample on. */
const ANALYTIC_FROM_DOWNSAMPLE = 8;

/** Integer hash → [0, 1). Stateless, so every pixel is reproducible. */
function hash01(a: number, b: number, c: number, seed: number): number {
  let h = Math.imul(a, 0x27d4eb2d) ^ Math.imul(b, 0x165667b1) ^ Math.imul(c, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

export class SyntheticCishSlide implements SlideSource {
  readonly metadata: SlideMetadata;
  readonly levels: number;
  readonly seed: number;
  /** Band order: level of band i (a seeded permutation, so level ≠ position). */
  readonly bandLevels: number[];
  private readonly cx: number;
  private readonly cy: number;
  private readonly rx: number;
  private readonly ry: number;
  private readonly bandX0: number;
  private readonly bandWidth: number;
  readonly specks: { x: number; y: number; r: number }[];
  private readonly blocks = new TileCache<Uint8Array>(96 * 1024 * 1024);
  private readonly spanLeft: Float64Array;
  private readonly spanRight: Float64Array;

  constructor(options: SyntheticCishOptions = {}) {
    const width = options.width ?? 24000;
    const height = options.height ?? 16000;
    this.levels = options.levels ?? 5;
    this.seed = options.seed ?? 1;
    if (this.levels < 2) throw new Error('a synthetic CISH slide needs at least 2 levels');
    this.spanLeft = new Float64Array(height).fill(Number.NaN);
    this.spanRight = new Float64Array(height).fill(Number.NaN);
    this.cx = width / 2;
    this.cy = height / 2;
    this.rx = width * 0.42;
    this.ry = height * 0.4;
    this.bandX0 = this.cx - this.rx;
    this.bandWidth = (2 * this.rx) / this.levels;
    this.bandLevels = Array.from({ length: this.levels }, (_, i) => i);
    for (let i = this.levels - 1; i > 0; i--) {
      const j = Math.floor(hash01(i, 7, 3, this.seed) * (i + 1));
      [this.bandLevels[i], this.bandLevels[j]] = [this.bandLevels[j], this.bandLevels[i]];
    }
    // Specks in the glass corners, far outside the tissue ellipse.
    const r = Math.max(20, Math.round(Math.min(width, height) * 0.006));
    this.specks = [
      { x: width * 0.04, y: height * 0.05, r },
      { x: width * 0.96, y: height * 0.94, r },
      { x: width * 0.95, y: height * 0.06, r: r * 0.7 },
    ];
    const downsamples = [1, 4, 16, 64].filter((d) => Math.max(width, height) / d >= 64);
    const mpp = options.mpp ?? 0.5;
    this.metadata = {
      name: options.name ?? 'synthetic-cish.slide',
      format: 'synthetic',
      width,
      height,
      levels: downsamples.map((d) => ({
        width: Math.ceil(width / d),
        height: Math.ceil(height / d),
        tileWidth: BLOCK,
        tileHeight: BLOCK,
        downsample: d,
      })),
      channels: RGB_CHANNELS,
      dtype: 'uint8',
      rgb: true,
      mppX: mpp,
      mppY: mpp,
      objectivePower: 20,
      associated: [],
      properties: { generator: 'tilescope synthetic CISH', seed: String(this.seed), levels: String(this.levels) },
    };
  }

  /**
   * True where level-0 point (x, y) lies on tissue. The shape is a wobbly
   * superellipse; each pixel row's tissue span is found once by bisection and
   * cached, which keeps per-pixel tests to two comparisons.
   */
  isTissue(x: number, y: number): boolean {
    const row = Math.floor(y);
    if (row < 0 || row >= this.metadata.height) return false;
    if (Number.isNaN(this.spanLeft[row])) this.computeSpan(row);
    return x >= this.spanLeft[row] && x < this.spanRight[row];
  }

  private shapeContains(x: number, y: number): boolean {
    const dx = (x - this.cx) / this.rx;
    const dy = (y - this.cy) / this.ry;
    const angle = Math.atan2(dy, dx);
    const wobble = 1 + 0.04 * Math.sin(3 * angle + 0.5) + 0.025 * Math.sin(7 * angle + 1.3);
    // Superellipse (exponent 3): a rounded rectangle, like a tissue section.
    return Math.cbrt(Math.abs(dx) ** 3 + Math.abs(dy) ** 3) <= wobble;
  }

  private computeSpan(row: number): void {
    const y = row + 0.5;
    if (!this.shapeContains(this.cx, y)) {
      this.spanLeft[row] = 0;
      this.spanRight[row] = 0;
      return;
    }
    const edge = (outside: number): number => {
      let inside = this.cx;
      for (let i = 0; i < 40 && Math.abs(outside - inside) > 0.01; i++) {
        const mid = (inside + outside) / 2;
        if (this.shapeContains(mid, y)) inside = mid;
        else outside = mid;
      }
      return inside;
    };
    this.spanLeft[row] = edge(this.cx - 1.2 * this.rx);
    this.spanRight[row] = edge(this.cx + 1.2 * this.rx);
  }

  /** Ground truth: -1 on glass, otherwise the expression level at (x, y). */
  levelAt(x: number, y: number): number {
    if (!this.isTissue(x, y)) return -1;
    return this.bandLevels[this.bandAt(x)];
  }

  private bandAt(x: number): number {
    return Math.min(this.levels - 1, Math.max(0, Math.floor((x - this.bandX0) / this.bandWidth)));
  }

  private speckAt(x: number, y: number): boolean {
    for (const s of this.specks) if ((x - s.x) ** 2 + (y - s.y) ** 2 <= s.r * s.r) return true;
    return false;
  }

  /** Expected (area-averaged) colour of tissue at a given level, consistent with the disc model above. */
  private meanTissueColour(level: number): [number, number, number] {
    const meanR = (NUCLEUS_R_MIN + NUCLEUS_R_MAX) / 2;
    const cellArea = CELL * CELL;
    const nucleusArea = Math.PI * meanR * meanR;
    const haloArea = Math.PI * (meanR * SIGNAL_SPREAD) ** 2;
    const share = Math.min(0.95, (dotsPerNucleus(level, this.levels) * DOT_R * DOT_R) / (meanR * SIGNAL_SPREAD) ** 2);
    const out: [number, number, number] = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      const stroma = STROMA[c] * (cellArea - haloArea) + (STROMA[c] + (SIGNAL[c] - STROMA[c]) * share) * (haloArea - nucleusArea);
      const nucleus = (NUCLEUS[c] + (SIGNAL[c] - NUCLEUS[c]) * share) * nucleusArea;
      out[c] = (stroma + nucleus) / cellArea;
    }
    return out;
  }

  /**
   * Like a tiled file: regions are assembled from 512-px blocks that are
   * rendered once and kept in an LRU cache, so overlapping tiles cost no
   * more than the area they cover.
   */
  async readRegion(region: Region, signal?: AbortSignal): Promise<PixelBlock> {
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const level = this.metadata.levels[region.level];
    if (!level) throw new Error(`level ${region.level} does not exist`);
    const data = new Uint8Array(region.width * region.height * 3);
    const b0x = Math.floor(region.x / BLOCK);
    const b0y = Math.floor(region.y / BLOCK);
    const b1x = Math.floor((region.x + region.width - 1) / BLOCK);
    const b1y = Math.floor((region.y + region.height - 1) / BLOCK);
    for (let by = b0y; by <= b1y; by++) {
      for (let bx = b0x; bx <= b1x; bx++) {
        const block = this.block(region.level, bx, by);
        const x0 = Math.max(region.x, bx * BLOCK);
        const x1 = Math.min(region.x + region.width, (bx + 1) * BLOCK);
        const y0 = Math.max(region.y, by * BLOCK);
        const y1 = Math.min(region.y + region.height, (by + 1) * BLOCK);
        for (let y = y0; y < y1; y++) {
          const from = ((y - by * BLOCK) * BLOCK + (x0 - bx * BLOCK)) * 3;
          data.set(block.subarray(from, from + (x1 - x0) * 3), ((y - region.y) * region.width + (x0 - region.x)) * 3);
        }
      }
    }
    return { data, width: region.width, height: region.height, channels: 3, dtype: 'uint8' };
  }

  private block(level: number, bx: number, by: number): Uint8Array {
    const key = `${level}/${bx}/${by}`;
    const cached = this.blocks.get(key);
    if (cached) return cached;
    const d = this.metadata.levels[level].downsample;
    const data = new Uint8Array(BLOCK * BLOCK * 3);
    const region = { level, x: bx * BLOCK, y: by * BLOCK, width: BLOCK, height: BLOCK };
    if (d >= ANALYTIC_FROM_DOWNSAMPLE) this.renderAnalytic(region, d, data);
    else this.renderAtScale(region.x, region.y, BLOCK, BLOCK, d, data);
    this.blocks.set(key, data, data.byteLength);
    return data;
  }

  async readAssociated(name: string): Promise<PixelBlock> {
    throw new Error(`no associated image named ${name}`);
  }

  close(): void {}

  /**
   * Slow illumination shading, like the stitching and vignetting of real
   * scans: a multiplicative factor of about ±1.5 %, separable in x and y.
   */
  private shadingAxes(x0: number, y0: number, w: number, h: number, d: number): { sx: Float32Array; sy: Float32Array } {
    const { width, height } = this.metadata;
    const sx = new Float32Array(w);
    const sy = new Float32Array(h);
    for (let x = 0; x < w; x++) sx[x] = 0.009 * Math.sin((2 * Math.PI * 1.3 * (x0 + x + 0.5) * d) / width + 0.4);
    for (let y = 0; y < h; y++) sy[y] = 0.007 * Math.cos((2 * Math.PI * 0.9 * (y0 + y + 0.5) * d) / height + 1.1);
    return { sx, sy };
  }

  /**
   * Renders pixels of the level with downsample d: stroma/glass base, then
   * nuclei, then signal dots, with the geometry scaled by 1/d and discs
   * anti-aliased by their pixel coverage.
   */
  renderAtScale(x0: number, y0: number, w: number, h: number, d: number, out: Uint8Array): void {
    const seed = this.seed;
    const { sx, sy } = this.shadingAxes(x0, y0, w, h, d);
    for (let y = 0; y < h; y++) {
      const gy = (y0 + y + 0.5) * d;
      for (let x = 0; x < w; x++) {
        const gx = (x0 + x + 0.5) * d;
        const base = this.isTissue(gx, gy) ? STROMA : this.speckAt(gx, gy) ? SPECK : GLASS;
        const noise = (hash01(x0 + x, y0 + y, d, seed) - 0.5) * (base === GLASS ? 4 : 12);
        const shade = 1 + sx[x] + sy[y];
        const o = (y * w + x) * 3;
        out[o] = clamp(base[0] * shade + noise);
        out[o + 1] = clamp(base[1] * shade + noise);
        out[o + 2] = clamp(base[2] * shade + noise);
      }
    }
    const c0 = Math.floor((x0 * d) / CELL) - 1;
    const c1 = Math.floor(((x0 + w) * d) / CELL) + 1;
    const r0 = Math.floor((y0 * d) / CELL) - 1;
    const r1 = Math.floor(((y0 + h) * d) / CELL) + 1;
    const inTissue = (px: number, py: number) => this.isTissue(px * d, py * d);
    for (let row = r0; row <= r1; row++) {
      for (let col = c0; col <= c1; col++) {
        const nx = (col + 0.2 + 0.6 * hash01(col, row, 2, seed)) * CELL;
        const ny = (row + 0.2 + 0.6 * hash01(col, row, 3, seed)) * CELL;
        if (!this.isTissue(nx, ny)) continue;
        const nr = NUCLEUS_R_MIN + (NUCLEUS_R_MAX - NUCLEUS_R_MIN) * hash01(col, row, 4, seed);
        const level = this.bandLevels[this.bandAt(nx)];
        const mean = dotsPerNucleus(level, this.levels);
        // Dot count: floor or ceil of the mean, so the average is exact and the texture varies.
        const dots = Math.floor(mean) + (hash01(col, row, 5, seed) < mean - Math.floor(mean) ? 1 : 0);
        const halo = nr * SIGNAL_SPREAD;
        if (d > 1) {
          // Dots are sub-pixel here: tint the cell by the share of it they cover instead.
          const share = Math.min(0.95, (dots * DOT_R * DOT_R) / (halo * halo));
          fillDisc(out, x0, y0, w, h, nx / d, ny / d, halo / d, mix(STROMA, SIGNAL, share), inTissue);
          fillDisc(out, x0, y0, w, h, nx / d, ny / d, nr / d, mix(NUCLEUS, SIGNAL, share), inTissue);
          continue;
        }
        fillDisc(out, x0, y0, w, h, nx, ny, nr, NUCLEUS, inTissue);
        for (let k = 0; k < dots; k++) {
          const angle = 2 * Math.PI * hash01(col, row, 10 + k, seed);
          const radius = halo * Math.sqrt(hash01(col, row, 40 + k, seed));
          fillDisc(out, x0, y0, w, h, nx + radius * Math.cos(angle), ny + radius * Math.sin(angle), DOT_R, SIGNAL, null);
        }
      }
    }
  }

  /** Coarse levels: expected colour with 2×2 supersampled coverage of tissue and specks. */
  private renderAnalytic(region: Region, d: number, out: Uint8Array): void {
    const means = Array.from({ length: this.levels }, (_, l) => this.meanTissueColour(l));
    const { sx, sy } = this.shadingAxes(region.x, region.y, region.width, region.height, d);
    const S = 2;
    for (let y = 0; y < region.height; y++) {
      for (let x = 0; x < region.width; x++) {
        let r = 0, g = 0, b = 0;
        for (let sy2 = 0; sy2 < S; sy2++) {
          for (let sx2 = 0; sx2 < S; sx2++) {
            const gx = (region.x + x + (sx2 + 0.5) / S) * d;
            const gy = (region.y + y + (sy2 + 0.5) / S) * d;
            const c = this.isTissue(gx, gy) ? means[this.bandLevels[this.bandAt(gx)]] : this.speckAt(gx, gy) ? SPECK : GLASS;
            r += c[0];
            g += c[1];
            b += c[2];
          }
        }
        const shade = (1 + sx[x] + sy[y]) / (S * S);
        const noise = (hash01(region.x + x, region.y + y, d, this.seed) - 0.5) * 3;
        const o = (y * region.width + x) * 3;
        out[o] = clamp(r * shade + noise);
        out[o + 1] = clamp(g * shade + noise);
        out[o + 2] = clamp(b * shade + noise);
      }
    }
  }
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** Draws an anti-aliased disc in level pixels, blending by approximate pixel coverage. */
function fillDisc(
  out: Uint8Array,
  x0: number,
  y0: number,
  w: number,
  h: number,
  cx: number,
  cy: number,
  r: number,
  colour: Rgb,
  inside: ((x: number, y: number) => boolean) | null,
): void {
  const xa = Math.max(0, Math.floor(cx - r - 1 - x0));
  const xb = Math.min(w - 1, Math.ceil(cx + r + 1 - x0));
  const ya = Math.max(0, Math.floor(cy - r - 1 - y0));
  const yb = Math.min(h - 1, Math.ceil(cy + r + 1 - y0));
  // Discs smaller than a pixel darken it by their area share.
  const areaShare = Math.min(1, Math.PI * r * r);
  for (let y = ya; y <= yb; y++) {
    const dy = y0 + y + 0.5 - cy;
    for (let x = xa; x <= xb; x++) {
      const dx = x0 + x + 0.5 - cx;
      let cover = r + 0.5 - Math.sqrt(dx * dx + dy * dy);
      if (cover <= 0) continue;
      cover = Math.min(1, cover, areaShare);
      if (inside && !inside(x0 + x + 0.5, y0 + y + 0.5)) continue;
      const o = (y * w + x) * 3;
      out[o] = Math.round(out[o] + (colour[0] - out[o]) * cover);
      out[o + 1] = Math.round(out[o + 1] + (colour[1] - out[o + 1]) * cover);
      out[o + 2] = Math.round(out[o + 2] + (colour[2] - out[o + 2]) * cover);
    }
  }
}
