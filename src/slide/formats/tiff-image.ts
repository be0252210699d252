/**
 * The one TIFF level reader, shared by SVS, OME-TIFF and generic TIFF:
 * copies any rectangle of one IFD into an output block, fetching and
 * decoding only the tiles (or strips) it touches, through the shared tile
 * cache.
 *
 * Chunks are addressed as TIFF does: chunk = plane × (across × down) +
 * row × across + column, with one plane for chunky data and one per sample
 * for planar data. Uncompressed strips are read in bands of rows instead of
 * whole strips, so a single-strip 20 000 × 20 000 TIFF does not need its
 * whole strip in memory for one tile of view.
 */
import { getCodec } from '../codecs/index';
import { compressionName, type DecodedTile } from '../codecs/registry';
import { SlideError, type PixelArray, type PixelDType } from '../types';
import { abortable, forEachLimited, throwIfAborted } from './region';
import { PHOTOMETRIC, TAG, messageOf, type TiffFile, type TiffPage } from './tiff';
import type { TileCache } from './tile-cache';

/** Decoded chunk, or null for a sparse chunk (no bytes stored: leave the fill value). */
export type CachedChunk = DecodedTile | null;

/** Where decoded samples go: a channel-interleaved block with its origin in level pixels. */
export interface CopyTarget {
  data: PixelArray;
  /** Block size and channel count. */
  width: number;
  height: number;
  channels: number;
  /** Level coordinates of the block's top-left pixel. */
  x: number;
  y: number;
}

/** Sample `sample` of this image goes to channel `channel` of the target. */
export interface SampleRoute {
  sample: number;
  channel: number;
}

const CONCURRENT_CHUNKS = 6;
/** Uncompressed strips are read in bands of about this many pixels. */
const UNCOMPRESSED_BAND_PIXELS = 1 << 20;
const ARRAY_PRELOAD_LIMIT = 1 << 20;

const SUPPORTED_PHOTOMETRIC = new Set<number>([
  PHOTOMETRIC.MinIsWhite,
  PHOTOMETRIC.MinIsBlack,
  PHOTOMETRIC.RGB,
  PHOTOMETRIC.Palette,
  PHOTOMETRIC.YCbCr,
]);
const YCBCR_CAPABLE_COMPRESSIONS = new Set([7, 33003, 33004, 33005, 34712]);

let nextImageId = 0;

/** Throws a SlideError when this page's pixels cannot be decoded here. */
export function checkDecodable(fileName: string, page: TiffPage): void {
  const fail = (reason: string): never => {
    throw new SlideError(fileName, reason);
  };
  const code = page.compression;
  const codec = getCodec(code);
  if (!codec) {
    const known = compressionName(code);
    fail(known === 'unknown compression' ? `compression ${code} is not supported` : `${known} compression (${code}) is not supported`);
  }
  const unavailable = codec?.unavailableReason?.();
  if (unavailable) fail(`${codec?.name} compression (${code}) cannot be decoded here: ${unavailable}`);
  if (!page.dtype) {
    const kind = page.sampleFormat === 2 ? 'signed ' : page.sampleFormat === 3 ? 'floating-point ' : '';
    fail(`${page.bitsPerSample}-bit ${kind}samples are not supported`);
  }
  if (code === 7 && page.bitsPerSample !== 8) fail(`${page.bitsPerSample}-bit JPEG is not supported`);
  const p = page.photometric;
  if (p === PHOTOMETRIC.YCbCr && !YCBCR_CAPABLE_COMPRESSIONS.has(code)) {
    fail(`YCbCr data with ${codec?.name} compression is not supported`);
  }
  if (p === PHOTOMETRIC.Palette && (page.bitsPerSample !== 8 || page.samplesPerPixel !== 1)) {
    fail(`${page.bitsPerSample}-bit palette images are not supported`);
  }
  if (p === PHOTOMETRIC.CMYK) fail('CMYK images are not supported');
  if (!SUPPORTED_PHOTOMETRIC.has(p)) fail(`photometric interpretation ${p} is not supported`);
}

export class TiffImage {
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly dtype: PixelDType;
  /** Samples per pixel that copyInto can deliver (3 for palette images). */
  readonly samples: number;
  private readonly id = `tiff${nextImageId++}`;
  private readonly planar: boolean;
  /** Rows per chunk as this reader addresses them (a band for uncompressed strips). */
  private readonly bandRows: number;
  private readonly banded: boolean;
  private offsets?: Promise<ArrayLike<number> | undefined>;
  private byteCounts?: Promise<ArrayLike<number> | undefined>;
  private palette?: Promise<Uint8Array>;

  constructor(
    readonly file: TiffFile,
    readonly page: TiffPage,
    private readonly cache: TileCache<CachedChunk>,
  ) {
    checkDecodable(file.name, page);
    this.width = page.width;
    this.height = page.height;
    this.dtype = page.dtype as PixelDType;
    this.planar = page.planarConfiguration === 2 && page.samplesPerPixel > 1;
    this.samples = page.photometric === PHOTOMETRIC.Palette ? 3 : page.samplesPerPixel;
    this.banded = !page.tiled && page.compression === 1;
    this.bandRows = this.banded
      ? Math.max(1, Math.min(page.height, Math.floor(UNCOMPRESSED_BAND_PIXELS / page.width)))
      : page.chunkHeight;
    // Strips have no useful tile shape; report a synthetic one for viewers.
    this.tileWidth = page.tiled ? page.chunkWidth : Math.min(page.width, 512);
    this.tileHeight = page.tiled ? page.chunkHeight : Math.min(page.height, 512);
    const bytesPerSample = page.bitsPerSample / 8;
    cache.ensureCapacity(page.chunkWidth * this.bandRows * this.samples * bytesPerSample);
  }

  /** Copies rect (level coords, already inside the image) into the target, routing samples to channels. */
  async copyInto(
    rect: { x: number; y: number; width: number; height: number },
    target: CopyTarget,
    routes: readonly SampleRoute[],
    signal?: AbortSignal,
  ): Promise<void> {
    const cw = this.page.chunkWidth;
    const ch = this.bandRows;
    const across = Math.ceil(this.width / cw);
    const jobs: { cx: number; cy: number; plane: number; routes: SampleRoute[] }[] = [];
    for (let cy = Math.floor(rect.y / ch); cy <= Math.floor((rect.y + rect.height - 1) / ch); cy++) {
      for (let cx = Math.floor(rect.x / cw); cx <= Math.floor((rect.x + rect.width - 1) / cw); cx++) {
        if (this.planar) {
          for (const route of routes) jobs.push({ cx, cy, plane: route.sample, routes: [{ sample: 0, channel: route.channel }] });
        } else {
          jobs.push({ cx, cy, plane: 0, routes: [...routes] });
        }
      }
    }
    await forEachLimited(jobs, CONCURRENT_CHUNKS, async ({ cx, cy, plane, routes: chunkRoutes }) => {
      throwIfAborted(signal);
      const chunk = await abortable(this.chunk(plane, cy, cx, across), signal);
      throwIfAborted(signal);
      if (chunk) this.copyChunk(chunk, cx * cw, cy * ch, rect, target, chunkRoutes);
    });
  }

  private chunk(plane: number, cy: number, cx: number, across: number): Promise<CachedChunk> {
    const key = `${this.id}:${plane}:${cy}:${cx}`;
    return this.cache.getOrLoad(key, async () => {
      const value = this.banded ? await this.loadBand(plane, cy) : await this.loadChunk(plane, cy, cx, across);
      return { value, bytes: value ? value.data.byteLength : 0 };
    });
  }

  private async loadChunk(plane: number, cy: number, cx: number, across: number): Promise<CachedChunk> {
    const page = this.page;
    const index = plane * across * page.chunksDown + cy * across + cx;
    const what = `${page.tiled ? 'tile' : 'strip'} ${index}`;
    const [offset, count] = await this.chunkLocation(index, what);
    if (count === 0) return null;
    const bytes = await this.file.readBytes(offset, count, what);
    const rows = page.tiled ? page.chunkHeight : Math.min(page.chunkHeight, page.height - cy * page.chunkHeight);
    const samples = this.planar ? 1 : page.samplesPerPixel;
    const codec = getCodec(page.compression);
    let tile: DecodedTile;
    try {
      tile = await codec!.decode({
        bytes,
        width: page.chunkWidth,
        height: rows,
        samplesPerPixel: samples,
        bitsPerSample: page.bitsPerSample,
        dtype: this.dtype,
        jpegTables: page.jpegTables,
        photometric: page.photometric,
        predictor: page.predictor,
        littleEndian: this.file.littleEndian,
      });
    } catch (err) {
      throw new SlideError(this.file.name, describeDecodeError(messageOf(err), what));
    }
    const needWidth = Math.min(page.chunkWidth, page.width - cx * page.chunkWidth);
    const needRows = Math.min(rows, page.height - cy * page.chunkHeight);
    if (tile.width < needWidth || tile.height < needRows || tile.channels !== samples || !matchesDtype(tile.data, this.dtype)) {
      throw new SlideError(
        this.file.name,
        `corrupt data in ${what}: it decodes to ${tile.width} × ${tile.height} px × ${tile.channels} samples, expected ${page.chunkWidth} × ${rows} × ${samples}`,
      );
    }
    return this.finish(tile);
  }

  /** Rows [cy × bandRows, …) of an uncompressed strip image, read straight from the file. */
  private async loadBand(plane: number, cy: number): Promise<CachedChunk> {
    const page = this.page;
    const samples = this.planar ? 1 : page.samplesPerPixel;
    const rowBytes = page.width * samples * (page.bitsPerSample / 8);
    const firstRow = cy * this.bandRows;
    const rows = Math.min(this.bandRows, page.height - firstRow);
    const bytes = new Uint8Array(rows * rowBytes);
    const rps = page.chunkHeight;
    for (let row = firstRow; row < firstRow + rows; ) {
      const strip = Math.floor(row / rps);
      const rowsHere = Math.min(rps - (row - strip * rps), firstRow + rows - row);
      const index = plane * page.chunksDown + strip;
      const what = `strip ${index}`;
      const [offset, count] = await this.chunkLocation(index, what);
      const start = (row - strip * rps) * rowBytes;
      if (count < start + rowsHere * rowBytes) {
        throw new SlideError(this.file.name, `corrupt data in ${what}: it holds ${count} bytes, fewer than its rows need`);
      }
      bytes.set(await this.file.readBytes(offset + start, rowsHere * rowBytes, what), (row - firstRow) * rowBytes);
      row += rowsHere;
    }
    const codec = getCodec(1)!;
    const tile = await codec.decode({
      bytes,
      width: page.width,
      height: rows,
      samplesPerPixel: samples,
      bitsPerSample: page.bitsPerSample,
      dtype: this.dtype,
      predictor: page.predictor,
      littleEndian: this.file.littleEndian,
    });
    return this.finish(tile);
  }

  /** Photometric fix-ups that apply after any codec. */
  private async finish(tile: DecodedTile): Promise<DecodedTile> {
    const photometric = this.page.photometric;
    if (photometric === PHOTOMETRIC.MinIsWhite && !(tile.data instanceof Float32Array)) {
      const max = tile.data instanceof Uint8Array ? 255 : 65535;
      for (let i = 0; i < tile.data.length; i++) tile.data[i] = max - tile.data[i];
    }
    if (photometric === PHOTOMETRIC.Palette) {
      const palette = await this.loadPalette();
      const rgb = new Uint8Array(tile.data.length * 3);
      for (let i = 0; i < tile.data.length; i++) rgb.set(palette.subarray(tile.data[i] * 3, tile.data[i] * 3 + 3), i * 3);
      return { data: rgb, width: tile.width, height: tile.height, channels: 3 };
    }
    return tile;
  }

  private loadPalette(): Promise<Uint8Array> {
    this.palette ??= (async () => {
      const map = Array.from((await this.page.ifd.loadValue(320)) ?? [], Number);
      if (map.length < 768) throw new SlideError(this.file.name, `corrupt TIFF structure: ${this.page.label} has no colour map`);
      const rgb = new Uint8Array(768);
      for (let i = 0; i < 256; i++) {
        rgb[i * 3] = map[i] >> 8;
        rgb[i * 3 + 1] = map[256 + i] >> 8;
        rgb[i * 3 + 2] = map[512 + i] >> 8;
      }
      return rgb;
    })();
    return this.palette;
  }

  /** File offset and byte count of a chunk. Arrays up to ~1M entries are read once; larger ones per entry. */
  private async chunkLocation(index: number, what: string): Promise<[number, number]> {
    const page = this.page;
    const total = page.chunksAcross * page.chunksDown * (this.planar ? page.samplesPerPixel : 1);
    const offsetTag = page.tiled ? TAG.TileOffsets : TAG.StripOffsets;
    const countTag = page.tiled ? TAG.TileByteCounts : TAG.StripByteCounts;
    try {
      let offset: number;
      let count: number;
      if (total <= ARRAY_PRELOAD_LIMIT) {
        this.offsets ??= page.ifd.loadValue(offsetTag).then(asArray);
        this.byteCounts ??= page.ifd.loadValue(countTag).then(asArray);
        const [offsets, counts] = await Promise.all([this.offsets, this.byteCounts]);
        if (!offsets || !counts || offsets.length < total || counts.length < total) {
          throw new Error(`${offsets?.length ?? 0} offsets and ${counts?.length ?? 0} byte counts for ${total} chunks`);
        }
        offset = Number(offsets[index]);
        count = Number(counts[index]);
      } else {
        offset = Number(await page.ifd.loadValueIndexed(offsetTag, index));
        count = Number(await page.ifd.loadValueIndexed(countTag, index));
      }
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(count) || offset < 0 || count < 0) {
        throw new Error(`invalid location of ${what}`);
      }
      if (count > 0 && offset + count > this.file.size) {
        throw new SlideError(this.file.name, `truncated: ${what} ends past the end of the file`);
      }
      return [offset, count];
    } catch (err) {
      if (err instanceof SlideError) throw err;
      throw new SlideError(this.file.name, `corrupt TIFF structure in ${page.label} (${messageOf(err)})`);
    }
  }

  private copyChunk(
    chunk: DecodedTile,
    chunkX: number,
    chunkY: number,
    rect: { x: number; y: number; width: number; height: number },
    target: CopyTarget,
    routes: readonly SampleRoute[],
  ): void {
    // Overlap of this chunk's valid pixels with the requested rectangle.
    const x0 = Math.max(rect.x, chunkX);
    const y0 = Math.max(rect.y, chunkY);
    const x1 = Math.min(rect.x + rect.width, chunkX + chunk.width, this.width);
    const y1 = Math.min(rect.y + rect.height, chunkY + chunk.height, this.height);
    if (x1 <= x0 || y1 <= y0) return;
    const src = chunk.data;
    const dst = target.data;
    const sc = chunk.channels;
    const tc = target.channels;
    const identity = sc === tc && routes.length === tc && routes.every((r, i) => r.sample === i && r.channel === i);
    const span = x1 - x0;
    for (let y = y0; y < y1; y++) {
      const s = ((y - chunkY) * chunk.width + (x0 - chunkX)) * sc;
      const d = ((y - target.y) * target.width + (x0 - target.x)) * tc;
      if (identity) {
        dst.set(src.subarray(s, s + span * sc), d);
        continue;
      }
      for (const { sample, channel } of routes) {
        for (let i = 0, si = s + sample, di = d + channel; i < span; i++, si += sc, di += tc) dst[di] = src[si];
      }
    }
  }
}

function asArray(value: unknown): ArrayLike<number> | undefined {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return value as ArrayLike<number>;
  return undefined;
}

function matchesDtype(data: PixelArray, dtype: PixelDType): boolean {
  return dtype === 'uint8' ? data instanceof Uint8Array : dtype === 'uint16' ? data instanceof Uint16Array : data instanceof Float32Array;
}

/** "corrupt JPEG data (…)" + "tile 12" → "corrupt JPEG data in tile 12 (…)". */
function describeDecodeError(message: string, what: string): string {
  const match = /^(corrupt [^(]*?data)\s*(\(.*\))?$/s.exec(message);
  if (match) return `${match[1]} in ${what}${match[2] ? ` ${match[2]}` : ''}`;
  return `${what} could not be decoded: ${message}`;
}
