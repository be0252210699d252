/**
 * The TIFF container (classic and BigTIFF), read lazily from a Blob.
 *
 * geotiff parses the header and each IFD; its IFDs keep big arrays such as
 * TileOffsets on disk until asked (loadValue / loadValueIndexed). Before
 * geotiff sees an IFD we check its entry counts against the file size, so a
 * corrupt or hostile directory cannot make it allocate gigabytes. Pages are
 * walked only as far as a format needs them.
 *
 * `TiffPage` is the plain description of one IFD that the level reader
 * (tiff-image.ts) and the format modules work from.
 */
import { GeoTIFF, type ImageFileDirectory } from 'geotiff';
import { LIMITS, SlideError, type PixelDType } from '../types';

export const TAG = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  Make: 271,
  Model: 272,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  ResolutionUnit: 296,
  Software: 305,
  DateTime: 306,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SubIFDs: 330,
  ExtraSamples: 338,
  SampleFormat: 339,
  JPEGTables: 347,
  /** Hamamatsu NDPI marker (first IFD). */
  NdpiFormat: 65420,
} as const;

export const PHOTOMETRIC = { MinIsWhite: 0, MinIsBlack: 1, RGB: 2, Palette: 3, Mask: 4, CMYK: 5, YCbCr: 6 } as const;

/** Byte size of each TIFF field type, for sanity checks before geotiff allocates. */
const FIELD_TYPE_SIZE: Record<number, number> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
};
/** More entries than any real IFD has (~30 is typical). */
const MAX_IFD_ENTRIES = 4096;
/** Largest single metadata read we let geotiff make (big OME-XML fits). */
const MAX_METADATA_READ = 256 * 1024 * 1024;

export interface TiffPage {
  /** Where this IFD sits, for messages: "page 2" or "page 0, SubIFD 1". */
  label: string;
  ifd: ImageFileDirectory;
  width: number;
  height: number;
  tiled: boolean;
  /** Tile size, or for strips: image width × RowsPerStrip. */
  chunkWidth: number;
  chunkHeight: number;
  chunksAcross: number;
  chunksDown: number;
  samplesPerPixel: number;
  bitsPerSample: number;
  /** 1 unsigned, 2 signed, 3 float. */
  sampleFormat: number;
  /** uint8 / uint16 / float32, or undefined when the samples have another type. */
  dtype: PixelDType | undefined;
  compression: number;
  photometric: number;
  /** 1 chunky (interleaved), 2 planar (one plane of chunks per sample). */
  planarConfiguration: number;
  predictor: number;
  newSubfileType: number;
  description: string;
  jpegTables?: Uint8Array;
  subIfdOffsets: number[];
  extraSamples: number[];
  /** Pixels per ResolutionUnit, when present. */
  xResolution?: number;
  yResolution?: number;
  /** 1 none, 2 inch, 3 centimetre. */
  resolutionUnit: number;
}

/** A geotiff data source over a Blob: every read is a Blob.slice. */
class BlobSource {
  constructor(
    private readonly blob: Blob,
    private readonly fileName: string,
  ) {}

  get fileSize(): number {
    return this.blob.size;
  }

  async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
    return Promise.all(
      slices.map(({ offset, length }) => {
        if (length > MAX_METADATA_READ) {
          throw new SlideError(this.fileName, `corrupt TIFF structure: a field claims ${length} bytes`);
        }
        // geotiff reads a fixed window after each IFD; near the end of the file it is cut short.
        return this.blob.slice(offset, offset + length).arrayBuffer();
      }),
    );
  }

  async close(): Promise<void> {}
}

export class TiffFile {
  private readonly pageList: TiffPage[] = [];
  private nextIfdOffset: number;
  private readonly visited = new Set<number>();
  private readonly subPageCache = new Map<TiffPage, Promise<TiffPage[]>>();

  private constructor(
    readonly blob: Blob,
    readonly name: string,
    private readonly tiff: GeoTIFF,
  ) {
    this.nextIfdOffset = tiff.firstIFDOffset;
  }

  static async open(blob: Blob, name: string): Promise<TiffFile> {
    const source = new BlobSource(blob, name);
    let tiff: GeoTIFF;
    try {
      tiff = await GeoTIFF.fromSource(source as unknown as Parameters<typeof GeoTIFF.fromSource>[0]);
    } catch (err) {
      throw new SlideError(name, `corrupt TIFF header (${messageOf(err)})`);
    }
    const file = new TiffFile(blob, name, tiff);
    if (!(await file.page(0))) throw new SlideError(name, 'corrupt TIFF structure: the file has no image directory');
    return file;
  }

  get size(): number {
    return this.blob.size;
  }

  get bigTiff(): boolean {
    return this.tiff.bigTiff;
  }

  get littleEndian(): boolean {
    return this.tiff.littleEndian;
  }

  /** The index-th page of the main IFD chain, walking the chain as far as needed. */
  async page(index: number): Promise<TiffPage | undefined> {
    while (this.pageList.length <= index && this.nextIfdOffset !== 0) {
      const offset = this.nextIfdOffset;
      if (this.visited.has(offset)) {
        throw new SlideError(this.name, `corrupt TIFF structure: the directory chain loops back to byte ${offset}`);
      }
      this.visited.add(offset);
      const label = `page ${this.pageList.length}`;
      const ifd = await this.parseIfd(offset, label);
      this.nextIfdOffset = ifd.nextIFDByteOffset;
      this.pageList.push(await this.describe(ifd, label));
    }
    return this.pageList[index];
  }

  /** All pages of the main chain (at most `max`). */
  async pages(max = 1024): Promise<TiffPage[]> {
    await this.page(max - 1);
    return this.pageList.slice(0, max);
  }

  /** The SubIFDs (tag 330) of a page, e.g. OME-TIFF pyramid levels. */
  subPages(page: TiffPage): Promise<TiffPage[]> {
    let pending = this.subPageCache.get(page);
    if (!pending) {
      pending = Promise.all(
        page.subIfdOffsets.map(async (offset, i) => {
          const label = `${page.label}, SubIFD ${i}`;
          return this.describe(await this.parseIfd(offset, label), label);
        }),
      );
      this.subPageCache.set(page, pending);
    }
    return pending;
  }

  /** Reads file bytes, failing clearly when they lie past the end of the file. */
  async readBytes(offset: number, length: number, what: string): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.blob.size) {
      throw new SlideError(this.name, `truncated: ${what} ends past the end of the file`);
    }
    return new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
  }

  private async parseIfd(offset: number, label: string): Promise<ImageFileDirectory> {
    await this.checkIfd(offset, label);
    try {
      return await this.tiff.parser.parseFileDirectoryAt(offset);
    } catch (err) {
      if (err instanceof SlideError) throw err;
      throw new SlideError(this.name, `corrupt TIFF structure in ${label} (${messageOf(err)})`);
    }
  }

  /** Validates the entry count and every entry's value size against the file. */
  private async checkIfd(offset: number, label: string): Promise<void> {
    const big = this.tiff.bigTiff;
    const countSize = big ? 8 : 2;
    const entrySize = big ? 20 : 12;
    if (offset + countSize > this.blob.size) {
      throw new SlideError(
        this.name,
        `truncated: the directory of ${label} (byte ${offset}) lies past the end of the file (${this.blob.size} bytes)`,
      );
    }
    const head = new DataView(await this.blob.slice(offset, offset + countSize).arrayBuffer());
    const le = this.tiff.littleEndian;
    const entries = big ? Number(head.getBigUint64(0, le)) : head.getUint16(0, le);
    if (entries === 0 || entries > MAX_IFD_ENTRIES) {
      throw new SlideError(this.name, `corrupt TIFF structure: ${label} declares ${entries} directory entries`);
    }
    const tableEnd = offset + countSize + entries * entrySize;
    if (tableEnd + (big ? 8 : 4) > this.blob.size) {
      throw new SlideError(this.name, `truncated: the directory of ${label} ends past the end of the file`);
    }
    const table = new DataView(await this.blob.slice(offset + countSize, tableEnd).arrayBuffer());
    for (let i = 0; i < entries; i++) {
      const at = i * entrySize;
      const tag = table.getUint16(at, le);
      const type = table.getUint16(at + 2, le);
      const count = big ? Number(table.getBigUint64(at + 4, le)) : table.getUint32(at + 4, le);
      const size = FIELD_TYPE_SIZE[type];
      if (size === undefined) {
        throw new SlideError(this.name, `corrupt TIFF structure: tag ${tag} in ${label} has unknown field type ${type}`);
      }
      if (count * size > this.blob.size) {
        throw new SlideError(this.name, `corrupt TIFF structure: tag ${tag} in ${label} claims ${count} values`);
      }
    }
  }

  private async describe(ifd: ImageFileDirectory, label: string): Promise<TiffPage> {
    const name = this.name;
    const num = async (tag: number, fallback: number): Promise<number> => {
      const value: unknown = await ifd.loadValue(tag);
      if (value === undefined || value === null) return fallback;
      if (typeof value === 'number') return value;
      if (ArrayLike(value) && value.length > 0) return Number(value[0]);
      return fallback;
    };
    const list = async (tag: number): Promise<number[]> => {
      const value: unknown = await ifd.loadValue(tag);
      if (value === undefined || value === null) return [];
      if (typeof value === 'number') return [value];
      return ArrayLike(value) ? Array.from(value, Number) : [];
    };
    const text = async (tag: number): Promise<string> => {
      const value: unknown = await ifd.loadValue(tag);
      return typeof value === 'string' ? value.replace(/\0+$/, '') : '';
    };
    const rational = async (tag: number): Promise<number | undefined> => {
      const value = await list(tag);
      return value.length >= 2 && value[1] !== 0 ? value[0] / value[1] : undefined;
    };

    const width = await num(TAG.ImageWidth, 0);
    const height = await num(TAG.ImageLength, 0);
    if (width <= 0 || height <= 0) {
      throw new SlideError(name, `corrupt TIFF structure: ${label} has no image size`);
    }
    if (width > LIMITS.maxSide || height > LIMITS.maxSide) {
      throw new SlideError(name, `declares ${width} × ${height} px, beyond the ${LIMITS.maxSide} px limit`);
    }
    const tiled = ifd.hasTag(TAG.TileWidth);
    const chunkWidth = tiled ? await num(TAG.TileWidth, 0) : width;
    const chunkHeight = tiled ? await num(TAG.TileLength, 0) : Math.min(await num(TAG.RowsPerStrip, height), height);
    if (chunkWidth <= 0 || chunkHeight <= 0) {
      throw new SlideError(name, `corrupt TIFF structure: ${label} has a zero tile or strip size`);
    }
    const chunkLimit = tiled ? LIMITS.maxTilePixels : LIMITS.maxWholeImagePixels;
    if (chunkWidth * chunkHeight > chunkLimit) {
      throw new SlideError(
        name,
        `declares ${chunkWidth} × ${chunkHeight} px ${tiled ? 'tiles' : 'strips'}, beyond the ${chunkLimit} px limit`,
      );
    }
    const samplesPerPixel = await num(TAG.SamplesPerPixel, 1);
    const planarConfiguration = await num(TAG.PlanarConfiguration, 1);
    const chunksAcross = Math.ceil(width / chunkWidth);
    const chunksDown = Math.ceil(height / chunkHeight);
    const chunkCount = chunksAcross * chunksDown * (planarConfiguration === 2 ? samplesPerPixel : 1);
    if (chunkCount > LIMITS.maxTiles) {
      throw new SlideError(name, `declares ${chunkCount} ${tiled ? 'tiles' : 'strips'}, beyond the ${LIMITS.maxTiles} tile limit`);
    }
    const bits = await list(TAG.BitsPerSample);
    const bitsPerSample = bits[0] ?? 1;
    if (bits.some((b) => b !== bitsPerSample)) {
      throw new SlideError(name, `samples of different bit depths (${bits.join(', ')}) are not supported`);
    }
    const sampleFormat = await num(TAG.SampleFormat, 1);
    const jpegTablesValue: unknown = await ifd.loadValue(TAG.JPEGTables);
    return {
      label,
      ifd,
      width,
      height,
      tiled,
      chunkWidth,
      chunkHeight,
      chunksAcross,
      chunksDown,
      samplesPerPixel,
      bitsPerSample,
      sampleFormat,
      dtype: dtypeOf(bitsPerSample, sampleFormat),
      compression: await num(TAG.Compression, 1),
      photometric: await num(TAG.Photometric, samplesPerPixel >= 3 ? PHOTOMETRIC.RGB : PHOTOMETRIC.MinIsBlack),
      planarConfiguration,
      predictor: await num(TAG.Predictor, 1),
      newSubfileType: await num(TAG.NewSubfileType, 0),
      description: await text(TAG.ImageDescription),
      jpegTables: jpegTablesValue instanceof Uint8Array ? jpegTablesValue : undefined,
      subIfdOffsets: await list(TAG.SubIFDs),
      extraSamples: await list(TAG.ExtraSamples),
      xResolution: await rational(TAG.XResolution),
      yResolution: await rational(TAG.YResolution),
      resolutionUnit: await num(TAG.ResolutionUnit, 2),
    };
  }

  /** An ASCII tag of a page as plain text ('' when absent). */
  static async textTag(page: TiffPage, tag: number): Promise<string> {
    const value: unknown = await page.ifd.loadValue(tag);
    return typeof value === 'string' ? value.replace(/\0+$/, '') : '';
  }
}

function dtypeOf(bits: number, sampleFormat: number): PixelDType | undefined {
  if (sampleFormat === 1 && bits === 8) return 'uint8';
  if (sampleFormat === 1 && bits === 16) return 'uint16';
  if (sampleFormat === 3 && bits === 32) return 'float32';
  return undefined;
}

function ArrayLike(value: unknown): value is ArrayLike<number> {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Micrometres per pixel from a resolution tag, when the unit is physical. */
export function micronsPerPixel(pixelsPerUnit: number | undefined, unit: number): number | undefined {
  if (!pixelsPerUnit || !Number.isFinite(pixelsPerUnit) || pixelsPerUnit <= 0) return undefined;
  const micronsPerUnit = unit === 2 ? 25_400 : unit === 3 ? 10_000 : undefined;
  return micronsPerUnit === undefined ? undefined : micronsPerUnit / pixelsPerUnit;
}
