/**
 * Pure builders the CLI adds to src/analysis/exports (CSV, tile GeoJSON,
 * palette) and src/analysis/regions (cluster regions as GeoJSON): the
 * colour-coded tile map as an RGBA raster, and PNG encoding. No file system.
 */
import { encode as encodePngImage } from 'fast-png';

export {
  clusterRegionsGeoJson,
  signedArea,
  tileCellLattice,
  traceLabelPolygons,
  type CellLattice,
  type LinearRing,
  type Position,
  type RegionFeature,
} from '../analysis/regions';

export interface RgbaImage {
  width: number;
  height: number;
  /** width × height × 4, row-major. */
  data: Uint8Array;
}

/** The downsample that makes the long side of a width × height image at most `maxSide` (never below 1). */
export function downsampleForMaxSide(width: number, height: number, maxSide = 2048): number {
  if (!(maxSide >= 1)) throw new RangeError(`maxSide must be ≥ 1, got ${maxSide}`);
  return Math.max(1, Math.max(width, height) / maxSide);
}

/**
 * The colour-coded tile map: each cell (level-0 rectangle) filled with its
 * cluster colour (`colours`: r, g, b per cluster). Edges are rounded to map
 * pixels, so touching cells stay touching, with no gaps and no double seams.
 */
export function renderTileMap(
  cells: { x: ArrayLike<number>; y: ArrayLike<number>; width: ArrayLike<number>; height: ArrayLike<number> },
  labels: ArrayLike<number>,
  colours: ArrayLike<number>,
  options: { slideWidth: number; slideHeight: number; downsample: number; background?: readonly [number, number, number, number] },
): RgbaImage {
  const { downsample } = options;
  if (!(downsample > 0)) throw new RangeError(`downsample must be > 0, got ${downsample}`);
  const width = Math.max(1, Math.ceil(options.slideWidth / downsample));
  const height = Math.max(1, Math.ceil(options.slideHeight / downsample));
  const data = new Uint8Array(width * height * 4);
  const bg = options.background ?? [0, 0, 0, 0];
  for (let p = 0; p < width * height; p++) data.set(bg, p * 4);
  const k = Math.floor(colours.length / 3);
  for (let i = 0; i < labels.length; i++) {
    const j = labels[i];
    if (!(j >= 0 && j < k)) continue;
    const x0 = Math.max(0, Math.round(cells.x[i] / downsample));
    const y0 = Math.max(0, Math.round(cells.y[i] / downsample));
    const x1 = Math.min(width, Math.round((cells.x[i] + cells.width[i]) / downsample));
    const y1 = Math.min(height, Math.round((cells.y[i] + cells.height[i]) / downsample));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const o = (y * width + x) * 4;
        data[o] = colours[3 * j];
        data[o + 1] = colours[3 * j + 1];
        data[o + 2] = colours[3 * j + 2];
        data[o + 3] = 255;
      }
    }
  }
  return { width, height, data };
}

/** PNG bytes of an 8-bit image with 1 (grey), 3 (RGB) or 4 (RGBA) channels. */
export function encodePng(image: { width: number; height: number; data: Uint8Array | Uint8ClampedArray; channels?: number }): Uint8Array {
  const channels = image.channels ?? 4;
  if (image.data.length !== image.width * image.height * channels) {
    throw new RangeError(`encodePng: ${image.data.length} samples for ${image.width} × ${image.height} × ${channels}`);
  }
  return encodePngImage({ width: image.width, height: image.height, data: image.data, depth: 8, channels });
}
