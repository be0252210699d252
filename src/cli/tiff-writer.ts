/**
 * A minimal tiled, pyramidal BigTIFF writer for 8-bit RGB slides (Node
 * only). Level 0 is the first page; each coarser level is a further page
 * with NewSubfileType = 1 (reduced resolution), the layout that libtiff,
 * OpenSlide's generic-TIFF reader, vips and QuPath read as a pyramid.
 *
 * Tiles are written as they are produced (streamed; the image is never
 * whole in memory), then all IFDs go at the end and the header is patched to
 * point at the first. Compression is Deflate (zlib, code 8) with horizontal
 * differencing (Predictor 2), or none.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';

export interface TiffLevelWriter {
  width: number;
  height: number;
  /** RGB pixels (width·height·3, row-major) of the level rectangle (x, y, w, h). */
  read(x: number, y: number, width: number, height: number): Promise<Uint8Array>;
}

export interface TiledTiffOptions {
  tileSize?: number;
  compression?: 'deflate' | 'none';
  /** µm per level-0 pixel, stored as X/YResolution in pixels per centimetre. */
  mpp?: number;
  description?: string;
  software?: string;
  /** Called after each tile with tiles done / total. */
  onProgress?: (done: number, total: number) => void;
}

const TYPE = { ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, LONG8: 16 } as const;
const TYPE_SIZE: Record<number, number> = { 2: 1, 3: 2, 4: 4, 5: 8, 16: 8 };

interface IfdEntry {
  tag: number;
  type: number;
  values: number[] | string;
}

/** Horizontal differencing of 8-bit interleaved samples, in place, row by row. */
export function applyHorizontalPredictor(data: Uint8Array, width: number, height: number, samples: number): void {
  const rowLength = width * samples;
  for (let y = 0; y < height; y++) {
    const row = y * rowLength;
    for (let i = rowLength - 1; i >= samples; i--) data[row + i] = (data[row + i] - data[row + i - samples]) & 0xff;
  }
}

/** A whole tile (edge tiles padded by repeating the last column/row, as libtiff tools do). */
function padTile(pixels: Uint8Array, width: number, height: number, tileSize: number): Uint8Array {
  if (width === tileSize && height === tileSize) return pixels;
  const out = new Uint8Array(tileSize * tileSize * 3);
  for (let y = 0; y < tileSize; y++) {
    const sy = Math.min(y, height - 1);
    out.set(pixels.subarray(sy * width * 3, (sy + 1) * width * 3), y * tileSize * 3);
    const last = (sy * width + width - 1) * 3;
    for (let x = width; x < tileSize; x++) out.set(pixels.subarray(last, last + 3), (y * tileSize + x) * 3);
  }
  return out;
}

function rational(value: number): [number, number] {
  const denominator = 1000;
  return [Math.round(value * denominator), denominator];
}

function encodeIfd(entries: IfdEntry[], ifdOffset: number): { bytes: Uint8Array; nextPointerAt: number } {
  entries.sort((a, b) => a.tag - b.tag);
  const headerSize = 8 + entries.length * 20 + 8;
  // Values longer than 8 bytes go right after the IFD, 8-byte aligned.
  const payloads: { entry: number; bytes: Uint8Array }[] = [];
  let extra = 0;
  const encoded = entries.map((entry, e) => {
    let bytes: Uint8Array;
    let count: number;
    if (typeof entry.values === 'string') {
      bytes = new TextEncoder().encode(entry.values + '\0');
      count = bytes.length;
    } else {
      const size = TYPE_SIZE[entry.type];
      count = entry.type === TYPE.RATIONAL ? entry.values.length / 2 : entry.values.length;
      bytes = new Uint8Array(entry.values.length * (entry.type === TYPE.RATIONAL ? 4 : size));
      const view = new DataView(bytes.buffer);
      entry.values.forEach((v, i) => {
        if (entry.type === TYPE.SHORT) view.setUint16(i * 2, v, true);
        else if (entry.type === TYPE.LONG || entry.type === TYPE.RATIONAL) view.setUint32(i * 4, v, true);
        else view.setBigUint64(i * 8, BigInt(v), true);
      });
    }
    if (bytes.length > 8) {
      payloads.push({ entry: e, bytes });
      extra += Math.ceil(bytes.length / 8) * 8;
    }
    return { bytes, count };
  });
  const out = new Uint8Array(headerSize + extra);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(entries.length), true);
  let payloadOffset = headerSize;
  const payloadAt = new Map<number, number>();
  for (const p of payloads) {
    payloadAt.set(p.entry, payloadOffset);
    out.set(p.bytes, payloadOffset);
    payloadOffset += Math.ceil(p.bytes.length / 8) * 8;
  }
  entries.forEach((entry, e) => {
    const at = 8 + e * 20;
    view.setUint16(at, entry.tag, true);
    view.setUint16(at + 2, entry.type, true);
    view.setBigUint64(at + 4, BigInt(encoded[e].count), true);
    const payload = payloadAt.get(e);
    if (payload === undefined) out.set(encoded[e].bytes, at + 12);
    else view.setBigUint64(at + 12, BigInt(ifdOffset + payload), true);
  });
  return { bytes: out, nextPointerAt: 8 + entries.length * 20 };
}

/** Writes `levels` (finest first) as a tiled pyramidal BigTIFF at `filePath`. */
export async function writeTiledTiff(filePath: string, levels: TiffLevelWriter[], options: TiledTiffOptions = {}): Promise<void> {
  const tileSize = options.tileSize ?? 512;
  if (!(Number.isInteger(tileSize) && tileSize >= 16 && tileSize % 16 === 0)) {
    throw new RangeError(`TIFF tile size must be a multiple of 16, got ${tileSize}`);
  }
  if (levels.length === 0) throw new RangeError('nothing to write: no levels');
  const compression = options.compression ?? 'deflate';
  const totalTiles = levels.reduce((sum, l) => sum + Math.ceil(l.width / tileSize) * Math.ceil(l.height / tileSize), 0);
  let done = 0;
  let handle: FileHandle | undefined;
  try {
    handle = await open(filePath, 'w');
    const header = new Uint8Array(16);
    const headerView = new DataView(header.buffer);
    header[0] = 0x49;
    header[1] = 0x49;
    headerView.setUint16(2, 43, true);
    headerView.setUint16(4, 8, true);
    await handle.write(header, 0, 16, 0);
    let position = 16;
    const pages: { offsets: number[]; counts: number[] }[] = [];
    for (const level of levels) {
      const across = Math.ceil(level.width / tileSize);
      const down = Math.ceil(level.height / tileSize);
      const offsets: number[] = [];
      const counts: number[] = [];
      for (let ty = 0; ty < down; ty++) {
        for (let tx = 0; tx < across; tx++) {
          const x = tx * tileSize;
          const y = ty * tileSize;
          const w = Math.min(tileSize, level.width - x);
          const h = Math.min(tileSize, level.height - y);
          const pixels = await level.read(x, y, w, h);
          if (pixels.length !== w * h * 3) throw new Error(`level read gave ${pixels.length} bytes for ${w} × ${h} RGB`);
          let tile = padTile(pixels, w, h, tileSize);
          if (compression === 'deflate') {
            if (tile === pixels) tile = pixels.slice();
            applyHorizontalPredictor(tile, tileSize, tileSize, 3);
            tile = deflateSync(tile, { level: 6 });
          }
          await handle.write(tile, 0, tile.length, position);
          offsets.push(position);
          counts.push(tile.length);
          position += tile.length;
          options.onProgress?.(++done, totalTiles);
        }
      }
      pages.push({ offsets, counts });
    }
    // IFDs, each followed by its long values; every IFD starts 8-byte aligned.
    position = Math.ceil(position / 8) * 8;
    headerView.setBigUint64(8, BigInt(position), true);
    let previousNextPointer = -1;
    const resolution = options.mpp ? rational(10000 / options.mpp) : undefined;
    for (let l = 0; l < levels.length; l++) {
      const level = levels[l];
      const entries: IfdEntry[] = [
        { tag: 254, type: TYPE.LONG, values: [l === 0 ? 0 : 1] },
        { tag: 256, type: TYPE.LONG, values: [level.width] },
        { tag: 257, type: TYPE.LONG, values: [level.height] },
        { tag: 258, type: TYPE.SHORT, values: [8, 8, 8] },
        { tag: 259, type: TYPE.SHORT, values: [compression === 'deflate' ? 8 : 1] },
        { tag: 262, type: TYPE.SHORT, values: [2] },
        { tag: 277, type: TYPE.SHORT, values: [3] },
        { tag: 284, type: TYPE.SHORT, values: [1] },
        { tag: 322, type: TYPE.LONG, values: [tileSize] },
        { tag: 323, type: TYPE.LONG, values: [tileSize] },
        { tag: 324, type: TYPE.LONG8, values: pages[l].offsets },
        { tag: 325, type: TYPE.LONG8, values: pages[l].counts },
      ];
      if (compression === 'deflate') entries.push({ tag: 317, type: TYPE.SHORT, values: [2] });
      if (resolution) {
        entries.push(
          { tag: 282, type: TYPE.RATIONAL, values: resolution },
          { tag: 283, type: TYPE.RATIONAL, values: resolution },
          { tag: 296, type: TYPE.SHORT, values: [3] },
        );
      }
      if (l === 0 && options.description) entries.push({ tag: 270, type: TYPE.ASCII, values: options.description });
      if (l === 0 && options.software) entries.push({ tag: 305, type: TYPE.ASCII, values: options.software });
      const ifd = encodeIfd(entries, position);
      if (previousNextPointer >= 0) {
        const pointer = new Uint8Array(8);
        new DataView(pointer.buffer).setBigUint64(0, BigInt(position), true);
        await handle.write(pointer, 0, 8, previousNextPointer);
      }
      await handle.write(ifd.bytes, 0, ifd.bytes.length, position);
      previousNextPointer = position + ifd.nextPointerAt;
      position += Math.ceil(ifd.bytes.length / 8) * 8;
    }
    await handle.write(header, 0, 16, 0);
  } finally {
    await handle?.close();
  }
}
