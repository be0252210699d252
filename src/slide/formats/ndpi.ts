/**
 * Hamamatsu NDPI reader.
 *
 * NDPI is classic little-endian TIFF with private tags (65420 marks the
 * format). Each pyramid level is ONE baseline JPEG as large as the level,
 * written with restart markers; tag 65426 (McuStarts) lists where each restart
 * interval begins inside that JPEG. A region is served by reading only the
 * byte ranges of the intervals that cover it and decoding them as a small
 * standalone JPEG (see codecs/jpeg-restart.ts). Decoded intervals live in a
 * small LRU so panning does not decode twice.
 *
 * Files over 4 GB: NDPI keeps the classic 32-bit TIFF fields and lets them
 * overflow. Following OpenSlide's description of the format:
 *  - next-IFD offsets (in the header and after each IFD) are 64-bit;
 *  - StripOffsets and the out-of-line values of McuStarts(65426) and
 *    McuStartsHighBytes(65432) get the high bits that put them at the largest
 *    offset not after their IFD (NDPI writes data before its directory);
 *  - McuStarts gets its high 32 bits from 65432 when present; without it, a
 *    table that decreases is unwrapped by adding 2^32 at each wrap;
 *  - a StripByteCounts smaller than the last McuStart is unwrapped likewise.
 * Other out-of-line tag values are read at their 32-bit offsets (they are
 * small metadata that NDPI keeps near the start). Unverified on a real file
 * over 4 GB: we have none.
 */
import { decodeJpeg, mergeJpegTables } from '../codecs/jpeg';
import {
  assembleRestartJpeg,
  JpegStreamError,
  parseJpegHeader,
  restartGrid,
  splitTrailingMarker,
  type JpegHeader,
  type RestartGrid,
} from '../codecs/jpeg-restart';
import {
  LIMITS,
  SlideError,
  type AssociatedImageInfo,
  type LevelInfo,
  type PixelBlock,
  type Region,
  type SlideMetadata,
  type SlideSource,
} from '../types';
import { TAG as TIFF_TAG } from './tiff';
import { abortable, throwIfAborted } from './region';

/** First-IFD tag that identifies an NDPI file. */
export const NDPI_FORMAT_TAG = 65420;

export interface NdpiOptions {
  /** Budget of the decoded-interval cache in bytes (default 64 MiB). */
  cacheBytes?: number;
}

/** Counters for tests and benchmarks: what reading actually cost. */
export interface NdpiReadStats {
  /** Bytes fetched from the file with Blob.slice, all reads included. */
  bytesRead: number;
  /** Number of Blob.slice reads. */
  reads: number;
  /** JPEG decodes of assembled interval blocks. */
  decodes: number;
  /** Restart intervals decoded in total. */
  decodedIntervals: number;
}

export interface NdpiSlideSource extends SlideSource {
  readonly stats: NdpiReadStats;
}

const TWO_32 = 2 ** 32;
/** Target size of one assembled decode (pixels); a single interval may exceed it. */
const BLOCK_TARGET_PIXELS = 2 * 1024 * 1024;
const MAX_JPEG_SIDE = 0xffff;
/** McuStarts entries fetched per lazy read. */
const MCU_PAGE = 8192;
const MAX_IFDS = 1024;
const MAX_IFD_ENTRIES = 4096;
/** Largest metadata tag value we load (the 65449 text is a few KB). */
const MAX_METADATA_VALUE_BYTES = 1 << 20;

/** Standard TIFF tags plus Hamamatsu's private ones. */
const TAG = {
  ...TIFF_TAG,
  SourceLens: 65421,
  ZOffset: 65424,
  McuStarts: 65426,
  McuStartsHigh: 65432,
  Fluorescence: 65434,
  PropertyMap: 65449,
} as const;

/** Private tags copied into properties as `hamamatsu.<name>` (names as OpenSlide/tifffile use them). */
const VENDOR_TAG_NAMES: Record<number, string> = {
  65421: 'SourceLens',
  65422: 'XOffsetFromSlideCentre',
  65423: 'YOffsetFromSlideCentre',
  65424: 'ZOffsetFromSlideCentre',
  65425: 'TissueIndex',
  65427: 'Reference',
  65434: 'Fluorescence',
  65435: 'ExposureRatio',
  65436: 'RedMultiplier',
  65437: 'GreenMultiplier',
  65438: 'BlueMultiplier',
  65441: 'CaptureMode',
  65442: 'ScannerSerialNumber',
  65444: 'JpegQuality',
  65445: 'RefocusInterval',
  65446: 'FocusOffset',
  65448: 'FirmwareVersion',
  65451: 'Wavelength',
  65453: 'LampAge',
  65454: 'ExposureTime',
  65455: 'FocusTime',
  65456: 'ScanTime',
  65457: 'WriteTime',
  65458: 'FullyAutoFocus',
};

/** Bytes per value of each TIFF field type. */
const TYPE_SIZE: Record<number, number> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
};

interface IfdEntry {
  tag: number;
  type: number;
  count: number;
  /** Value bytes when they fit in the 4-byte field, else null. */
  inline: Uint8Array | null;
  /** Absolute file offset of the value when not inline. */
  offset: number;
}

interface Ifd {
  offset: number;
  entries: Map<number, IfdEntry>;
}

interface NdpiLevel {
  width: number;
  height: number;
  downsample: number;
  stripOffset: number;
  stripByteCount: number;
  header: JpegHeader;
  grid: RestartGrid;
  /** Relative start of interval i (i = count gives the end of the JPEG). */
  starts: McuStartTable;
  /** Why this level cannot be decoded, found at open; reported on read. */
  unreadable?: string;
}

interface AssociatedPage {
  info: AssociatedImageInfo;
  ifd: Ifd;
  compression: number;
}


function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Byte-budgeted LRU (Map keeps insertion order; a hit moves the entry to the end). */
class ByteLru {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  get(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Uint8Array): void {
    if (value.byteLength > this.budget) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** Lazy byte-range access to the file with truncation checks and counters. */
class NdpiFile {
  littleEndian = true;
  constructor(
    readonly file: Blob,
    readonly name: string,
    readonly stats: NdpiReadStats,
  ) {}

  get size(): number {
    return this.file.size;
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (!(start >= 0 && end >= start && Number.isSafeInteger(end))) {
      throw new SlideError(this.name, `invalid byte range ${start}–${end}`);
    }
    if (end > this.file.size) {
      throw new SlideError(
        this.name,
        `file is truncated: bytes ${start}–${end} lie past its end (${this.file.size} bytes)`,
      );
    }
    let buffer: ArrayBuffer;
    try {
      buffer = await this.file.slice(start, end).arrayBuffer();
    } catch (err) {
      throw new SlideError(this.name, `could not read bytes ${start}–${end} (${describe(err)})`);
    }
    this.stats.reads++;
    this.stats.bytesRead += buffer.byteLength;
    if (buffer.byteLength !== end - start) {
      throw new SlideError(this.name, `file is truncated: got ${buffer.byteLength} of ${end - start} bytes at ${start}`);
    }
    return new Uint8Array(buffer);
  }

  view(bytes: Uint8Array): DataView {
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** NDPI offset fields overflow past 4 GB; pick the high bits that put `low` at or before `limit`. */
  widenOffset(low: number, limit: number): number {
    if (this.file.size <= TWO_32) return low;
    let offset = Math.floor(limit / TWO_32) * TWO_32 + low;
    if (offset > limit) offset -= TWO_32;
    return offset >= 0 ? offset : low;
  }

  async readIfd(offset: number): Promise<{ ifd: Ifd; next: number }> {
    const countBytes = await this.read(offset, offset + 2);
    const count = this.view(countBytes).getUint16(0, this.littleEndian);
    if (count === 0 || count > MAX_IFD_ENTRIES) {
      throw new SlideError(this.name, `TIFF directory at ${offset} declares ${count} entries`);
    }
    // 12-byte entries, then NDPI's 64-bit next-IFD offset.
    const body = await this.read(offset + 2, offset + 2 + 12 * count + 8);
    const view = this.view(body);
    const le = this.littleEndian;
    const entries = new Map<number, IfdEntry>();
    for (let i = 0; i < count; i++) {
      const at = 12 * i;
      const tag = view.getUint16(at, le);
      const type = view.getUint16(at + 2, le);
      const valueCount = view.getUint32(at + 4, le);
      const size = (TYPE_SIZE[type] ?? 0) * valueCount;
      if (size === 0) continue; // unknown type or empty: ignore the entry
      const field = body.subarray(at + 8, at + 12);
      const low = view.getUint32(at + 8, le);
      const widen = tag === TAG.McuStarts || tag === TAG.McuStartsHigh || tag === TAG.StripOffsets;
      entries.set(tag, {
        tag,
        type,
        count: valueCount,
        inline: size <= 4 ? field : null,
        offset: size <= 4 ? 0 : widen ? this.widenOffset(low, offset) : low,
      });
    }
    const nextLow = view.getUint32(12 * count, le);
    const nextHigh = view.getUint32(12 * count + 4, le);
    const next64 = nextHigh * TWO_32 + nextLow;
    // A plain 32-bit writer would leave unrelated bytes in the high half.
    const next = next64 < this.file.size ? next64 : nextLow;
    return { ifd: { offset, entries }, next };
  }

  async values(entry: IfdEntry, maxBytes = MAX_METADATA_VALUE_BYTES): Promise<number[]> {
    const bytes = await this.rawValue(entry, maxBytes);
    return decodeNumbers(this.view(bytes), entry.type, entry.count, this.littleEndian);
  }

  async text(entry: IfdEntry): Promise<string> {
    const bytes = await this.rawValue(entry, MAX_METADATA_VALUE_BYTES);
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    return new TextDecoder('latin1').decode(bytes.subarray(0, end));
  }

  private async rawValue(entry: IfdEntry, maxBytes: number): Promise<Uint8Array> {
    const size = TYPE_SIZE[entry.type] * entry.count;
    if (size > maxBytes) throw new SlideError(this.name, `TIFF tag ${entry.tag} holds ${size} bytes, more than expected`);
    if (entry.inline) return entry.inline.subarray(0, size);
    return this.read(entry.offset, entry.offset + size);
  }
}

function decodeNumbers(view: DataView, type: number, count: number, le: boolean): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 1:
      case 7:
        out[i] = view.getUint8(i);
        break;
      case 6:
        out[i] = view.getInt8(i);
        break;
      case 3:
        out[i] = view.getUint16(2 * i, le);
        break;
      case 8:
        out[i] = view.getInt16(2 * i, le);
        break;
      case 4:
      case 13:
        out[i] = view.getUint32(4 * i, le);
        break;
      case 9:
        out[i] = view.getInt32(4 * i, le);
        break;
      case 5: {
        const den = view.getUint32(8 * i + 4, le);
        out[i] = den === 0 ? NaN : view.getUint32(8 * i, le) / den;
        break;
      }
      case 10: {
        const den = view.getInt32(8 * i + 4, le);
        out[i] = den === 0 ? NaN : view.getInt32(8 * i, le) / den;
        break;
      }
      case 11:
        out[i] = view.getFloat32(4 * i, le);
        break;
      case 12:
        out[i] = view.getFloat64(8 * i, le);
        break;
      case 16:
      case 18:
        out[i] = Number(view.getBigUint64(8 * i, le));
        break;
      case 17:
        out[i] = Number(view.getBigInt64(8 * i, le));
        break;
      default:
        out[i] = NaN;
    }
  }
  return out;
}

/**
 * McuStarts of one level, loaded lazily in pages so that opening a huge slide
 * does not read megabytes of offsets. Index `count` yields the end of the
 * level's JPEG. Relative to the level's StripOffsets.
 */
class McuStartTable {
  private readonly pages = new Map<number, Promise<number[]>>();
  private unwrapped?: Promise<number[]>;

  constructor(
    private readonly reader: NdpiFile,
    readonly count: number,
    private readonly low: IfdEntry | null,
    private readonly high: IfdEntry | null,
    /** Used for levels without McuStarts: one interval starting after the header. */
    private readonly headerLength: number,
    private readonly byteCount: number,
  ) {}

  /** Starts of intervals first..last inclusive (last may equal count). */
  async range(first: number, last: number): Promise<number[]> {
    const out: number[] = [];
    const lastStored = Math.min(last, this.count - 1);
    if (!this.low) {
      for (let i = first; i <= lastStored; i++) out.push(this.headerLength);
    } else if (!this.high && this.reader.size > TWO_32) {
      const all = await this.loadUnwrapped();
      for (let i = first; i <= lastStored; i++) out.push(all[i]);
    } else {
      for (let page = Math.floor(first / MCU_PAGE); page <= Math.floor(lastStored / MCU_PAGE); page++) {
        const values = await this.page(page);
        const from = Math.max(first, page * MCU_PAGE);
        const to = Math.min(lastStored, page * MCU_PAGE + values.length - 1);
        for (let i = from; i <= to; i++) out.push(values[i - page * MCU_PAGE]);
      }
    }
    if (last === this.count) {
      const lastStart = this.count > 0 && out.length > 0 ? out[out.length - 1] : 0;
      let end = this.byteCount;
      if (this.reader.size > TWO_32) while (end <= lastStart) end += TWO_32;
      out.push(end);
    }
    return out;
  }

  private page(index: number): Promise<number[]> {
    let page = this.pages.get(index);
    if (!page) {
      page = this.loadPage(index);
      this.pages.set(index, page);
      // A failed read (truncated file) must not poison later attempts.
      page.catch(() => this.pages.delete(index));
    }
    return page;
  }

  private async loadPage(index: number): Promise<number[]> {
    const first = index * MCU_PAGE;
    const n = Math.min(MCU_PAGE, this.count - first);
    const low = await this.slice(this.low!, first, n);
    if (!this.high) return low;
    const high = await this.slice(this.high, first, n);
    return low.map((v, i) => v + high[i] * TWO_32);
  }

  private async slice(entry: IfdEntry, first: number, n: number): Promise<number[]> {
    const size = TYPE_SIZE[entry.type];
    if (entry.inline) {
      const all = decodeNumbers(this.reader.view(entry.inline), entry.type, entry.count, this.reader.littleEndian);
      return all.slice(first, first + n);
    }
    const bytes = await this.reader.read(entry.offset + first * size, entry.offset + (first + n) * size);
    return decodeNumbers(this.reader.view(bytes), entry.type, n, this.reader.littleEndian);
  }

  private loadUnwrapped(): Promise<number[]> {
    this.unwrapped ??= (async () => {
      const values = await this.slice(this.low!, 0, this.count);
      let carry = 0;
      for (let i = 1; i < values.length; i++) {
        if (values[i] + carry < values[i - 1]) carry += TWO_32;
        values[i] += carry;
      }
      return values;
    })();
    this.unwrapped.catch(() => (this.unwrapped = undefined));
    return this.unwrapped;
  }
}

interface Block {
  level: number;
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

class NdpiSource implements NdpiSlideSource {
  readonly stats: NdpiReadStats;
  private readonly cache: ByteLru;
  private readonly pending = new Map<string, Promise<Uint8Array>>();
  private closed = false;

  constructor(
    readonly metadata: SlideMetadata,
    private readonly reader: NdpiFile,
    private readonly levels: NdpiLevel[],
    private readonly associatedPages: AssociatedPage[],
    private readonly background: number,
    cacheBytes: number,
  ) {
    this.stats = reader.stats;
    this.cache = new ByteLru(cacheBytes);
  }

  private get name(): string {
    return this.reader.name;
  }

  async readRegion(region: Region, signal?: AbortSignal): Promise<PixelBlock> {
    throwIfAborted(signal);
    if (this.closed) throw new SlideError(this.name, 'the slide is closed');
    const { level, x, y, width, height } = region;
    const picked = pickedChannels(this.name, region);
    const info = this.levels[level];
    if (!Number.isInteger(level) || !info) throw new SlideError(this.name, `level ${level} does not exist`);
    if (![x, y, width, height].every(Number.isSafeInteger) || width < 1 || height < 1) {
      throw new SlideError(this.name, `invalid region ${x},${y} ${width}×${height}`);
    }
    if (width * height > LIMITS.maxRegionPixels) {
      throw new SlideError(this.name, `region of ${width}×${height} pixels exceeds the read limit`);
    }
    const out = new Uint8Array(width * height * 3);
    if (this.background !== 0) out.fill(this.background);
    const block: PixelBlock = { data: out, width, height, channels: 3, dtype: 'uint8' };
    const x0 = Math.max(x, 0);
    const y0 = Math.max(y, 0);
    const x1 = Math.min(x + width, info.width);
    const y1 = Math.min(y + height, info.height);
    if (x0 >= x1 || y0 >= y1) return selectChannels(block, picked);
    if (info.unreadable) throw new SlideError(this.name, `level ${level}: ${info.unreadable}`);

    const { intervalWidth: iw, intervalHeight: ih, columns } = info.grid;
    const c0 = Math.floor(x0 / iw);
    const c1 = Math.floor((x1 - 1) / iw);
    const r0 = Math.floor(y0 / ih);
    const r1 = Math.floor((y1 - 1) / ih);

    const pieces = new Map<number, Uint8Array | Promise<Uint8Array>>();
    const missing: boolean[][] = [];
    for (let r = r0; r <= r1; r++) {
      const row: boolean[] = [];
      for (let c = c0; c <= c1; c++) {
        const index = r * columns + c;
        const key = `${level}/${index}`;
        const hit = this.cache.get(key) ?? this.pending.get(key);
        if (hit) pieces.set(index, hit);
        row.push(!hit);
      }
      missing.push(row);
    }
    for (const b of this.planBlocks(level, info, r0, c0, missing)) {
      const decoded = this.decodeBlock(info, b);
      for (let r = b.r0; r <= b.r1; r++) {
        for (let c = b.c0; c <= b.c1; c++) {
          const index = r * columns + c;
          const key = `${level}/${index}`;
          const piece = decoded.then((m) => m.get(index)!);
          piece.catch(() => undefined); // awaited below; this only marks it handled
          this.pending.set(key, piece);
          pieces.set(index, piece);
        }
      }
      decoded.then(
        (m) => {
          for (const [index, pixels] of m) {
            this.pending.delete(`${level}/${index}`);
            if (!this.closed) this.cache.set(`${level}/${index}`, pixels);
          }
        },
        () => {
          for (let r = b.r0; r <= b.r1; r++) {
            for (let c = b.c0; c <= b.c1; c++) this.pending.delete(`${level}/${r * columns + c}`);
          }
        },
      );
    }

    const indices = [...pieces.keys()];
    const resolved = await abortable(Promise.all(indices.map((i) => pieces.get(i)!)), signal);
    indices.forEach((index, k) => {
      const pixels = resolved[k];
      const c = index % columns;
      const r = (index - c) / columns;
      const px = c * iw;
      const py = r * ih;
      const pw = Math.min(iw, info.width - px);
      const sx0 = Math.max(x0, px);
      const sx1 = Math.min(x1, px + pw);
      const sy0 = Math.max(y0, py);
      const sy1 = Math.min(y1, py + Math.min(ih, info.height - py));
      const rowBytes = (sx1 - sx0) * 3;
      for (let sy = sy0; sy < sy1; sy++) {
        const from = ((sy - py) * pw + (sx0 - px)) * 3;
        out.set(pixels.subarray(from, from + rowBytes), ((sy - y) * width + (sx0 - x)) * 3);
      }
    });
    return selectChannels(block, picked);
  }

  /**
   * Groups the missing intervals into rectangles decoded as one JPEG each:
   * runs of missing columns per row, stacked while the rows repeat the same
   * run and the block stays under the size target and JPEG's 65535 limit.
   */
  private planBlocks(level: number, info: NdpiLevel, r0: number, c0: number, missing: boolean[][]): Block[] {
    const { intervalWidth: iw, intervalHeight: ih } = info.grid;
    const intervalPixels = iw * ih;
    const maxIntervals = Math.max(1, Math.floor(BLOCK_TARGET_PIXELS / intervalPixels));
    const maxCols = Math.max(1, Math.min(maxIntervals, Math.floor(MAX_JPEG_SIDE / iw)));
    const maxRows = Math.max(1, Math.floor(MAX_JPEG_SIDE / ih));
    const blocks: Block[] = [];
    let growing: Block[] = [];
    missing.forEach((row, dr) => {
      const r = r0 + dr;
      const runs: [number, number][] = [];
      for (let i = 0; i < row.length; ) {
        if (!row[i]) {
          i++;
          continue;
        }
        let j = i;
        while (j + 1 < row.length && row[j + 1] && j + 1 - i < maxCols) j++;
        runs.push([c0 + i, c0 + j]);
        i = j + 1;
      }
      const next: Block[] = [];
      for (const [a, b] of runs) {
        const open = growing.find((g) => g.c0 === a && g.c1 === b && g.r1 === r - 1);
        const cols = b - a + 1;
        if (open && (open.r1 - open.r0 + 2) * cols <= maxIntervals && open.r1 - open.r0 + 2 <= maxRows) {
          open.r1 = r;
          next.push(open);
        } else {
          const created: Block = { level, r0: r, r1: r, c0: a, c1: b };
          blocks.push(created);
          next.push(created);
        }
      }
      growing = next;
    });
    return blocks;
  }

  /** Reads and decodes one rectangle of intervals; resolves to each interval's RGB pixels. */
  private async decodeBlock(info: NdpiLevel, b: Block): Promise<Map<number, Uint8Array>> {
    const { columns, rows, intervalWidth: iw, intervalHeight: ih } = info.grid;
    const total = columns * rows;
    const level = b.level;
    const firstIndex = b.r0 * columns + b.c0;
    const lastIndex = b.r1 * columns + b.c1;
    const label = `level ${level}, restart intervals ${firstIndex}–${lastIndex}`;

    // Byte ranges: one per block row, or one for the whole block when it spans full rows.
    const runs: [number, number][] = [];
    if (b.c0 === 0 && b.c1 === columns - 1) runs.push([firstIndex, lastIndex]);
    else for (let r = b.r0; r <= b.r1; r++) runs.push([r * columns + b.c0, r * columns + b.c1]);
    const chunksPerRun = await Promise.all(
      runs.map(async ([first, last]) => {
        const starts = await info.starts.range(first, last + 1);
        for (let i = 1; i < starts.length; i++) {
          // Past 4 GB the byte count itself may have wrapped, so only the order is checked there.
          const beyondStrip = this.reader.size <= TWO_32 && starts[i] > info.stripByteCount;
          if (!(starts[i] > starts[i - 1]) || beyondStrip) {
            throw new SlideError(this.name, `${label}: McuStarts table is corrupt (offset ${starts[i]})`);
          }
        }
        const base = info.stripOffset;
        const bytes = await this.reader.read(base + starts[0], base + starts[starts.length - 1]);
        const chunks: Uint8Array[] = [];
        for (let i = 0; i + 1 < starts.length; i++) {
          const chunk = bytes.subarray(starts[i] - starts[0], starts[i + 1] - starts[0]);
          const index = first + i;
          const { marker } = splitTrailingMarker(chunk);
          const expectEoi = index === total - 1;
          if (marker === null || (expectEoi ? marker !== 0xd9 : marker === 0xd9)) {
            throw new SlideError(
              this.name,
              `level ${level}, restart interval ${index} does not end with a ${expectEoi ? 'EOI' : 'restart'} marker: ` +
                'the data or McuStarts is corrupt',
            );
          }
          chunks.push(chunk);
        }
        return chunks;
      }),
    );
    const chunks = chunksPerRun.flat();

    const bx = b.c0 * iw;
    const by = b.r0 * ih;
    const bw = Math.min((b.c1 + 1) * iw, info.width) - bx;
    const bh = Math.min((b.r1 + 1) * ih, info.height) - by;
    let decoded;
    try {
      decoded = await decodeJpeg(assembleRestartJpeg(info.header, chunks, bw, bh));
    } catch (err) {
      throw new SlideError(this.name, `${label}: ${describe(err)}`);
    }
    if (decoded.width !== bw || decoded.height !== bh || (decoded.channels !== 3 && decoded.channels !== 1)) {
      throw new SlideError(
        this.name,
        `${label}: decoded ${decoded.width}×${decoded.height}×${decoded.channels}, expected ${bw}×${bh} RGB`,
      );
    }
    this.stats.decodes++;
    this.stats.decodedIntervals += chunks.length;
    const rgb = toRgb(decoded.data as Uint8Array, decoded.channels);

    const pieces = new Map<number, Uint8Array>();
    for (let r = b.r0; r <= b.r1; r++) {
      for (let c = b.c0; c <= b.c1; c++) {
        const px = c * iw - bx;
        const py = r * ih - by;
        const pw = Math.min(iw, info.width - c * iw);
        const ph = Math.min(ih, info.height - r * ih);
        const piece = new Uint8Array(pw * ph * 3);
        for (let row = 0; row < ph; row++) {
          const from = ((py + row) * bw + px) * 3;
          piece.set(rgb.subarray(from, from + pw * 3), row * pw * 3);
        }
        pieces.set(r * columns + c, piece);
      }
    }
    return pieces;
  }

  async readAssociated(name: string, signal?: AbortSignal): Promise<PixelBlock> {
    throwIfAborted(signal);
    const page = this.associatedPages.find((p) => p.info.name === name);
    if (!page) throw new SlideError(this.name, `no associated image named "${name}"`);
    return abortable(this.decodeAssociated(page), signal);
  }

  private async decodeAssociated(page: AssociatedPage): Promise<PixelBlock> {
    const { width, height } = page.info;
    const e = page.ifd.entries;
    const offsets = await this.reader.values(e.get(TAG.StripOffsets)!);
    const counts = await this.reader.values(e.get(TAG.StripByteCounts)!);
    const rowsPerStripEntry = e.get(TAG.RowsPerStrip);
    const rowsPerStrip = rowsPerStripEntry ? Math.min((await this.reader.values(rowsPerStripEntry))[0], height) : height;
    if (offsets.length !== counts.length || offsets.length !== Math.ceil(height / rowsPerStrip)) {
      throw new SlideError(this.name, `${page.info.name} image: strip tables are inconsistent`);
    }
    const out = new Uint8Array(width * height * 3);
    const tablesEntry = e.get(TAG.JPEGTables);
    const tables =
      tablesEntry && !tablesEntry.inline
        ? await this.reader.read(tablesEntry.offset, tablesEntry.offset + tablesEntry.count)
        : undefined;
    const spp = e.has(TAG.SamplesPerPixel) ? (await this.reader.values(e.get(TAG.SamplesPerPixel)!))[0] : 1;
    for (let s = 0; s < offsets.length; s++) {
      const stripRows = Math.min(rowsPerStrip, height - s * rowsPerStrip);
      const offset = this.reader.widenOffset(offsets[s], page.ifd.offset);
      const bytes = await this.reader.read(offset, offset + counts[s]);
      let pixels: Uint8Array;
      if (page.compression === 7) {
        let decoded;
        try {
          decoded = await decodeJpeg(mergeJpegTables(bytes, tables));
        } catch (err) {
          throw new SlideError(this.name, `${page.info.name} image: ${describe(err)}`);
        }
        if (decoded.width !== width || decoded.height !== stripRows) {
          throw new SlideError(
            this.name,
            `${page.info.name} image: JPEG is ${decoded.width}×${decoded.height}, expected ${width}×${stripRows}`,
          );
        }
        pixels = toRgb(decoded.data as Uint8Array, decoded.channels);
      } else {
        if (bytes.length < width * stripRows * spp) {
          throw new SlideError(this.name, `${page.info.name} image: strip ${s} is shorter than its pixels`);
        }
        pixels = toRgb(bytes.subarray(0, width * stripRows * spp), spp);
      }
      out.set(pixels, s * rowsPerStrip * width * 3);
    }
    return { data: out, width, height, channels: 3, dtype: 'uint8' };
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
    this.pending.clear();
  }
}

/**
 * Readers may be asked for a subset of channels (`region.channels`, indices
 * into metadata.channels, as the shared region helpers allow); undefined means all three.
 */
function pickedChannels(fileName: string, region: Region): number[] | undefined {
  const wanted = (region as Region & { channels?: readonly number[] }).channels;
  if (!wanted) return undefined;
  if (wanted.length === 0 || wanted.some((c) => !Number.isInteger(c) || c < 0 || c > 2)) {
    throw new SlideError(fileName, `channel selection [${wanted.join(', ')}] is not within the 3 RGB channels`);
  }
  return [...wanted];
}

function selectChannels(block: PixelBlock, picked: number[] | undefined): PixelBlock {
  if (!picked || (picked.length === 3 && picked.every((c, i) => c === i))) return block;
  const n = block.width * block.height;
  const out = new Uint8Array(n * picked.length);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < picked.length; k++) out[p * picked.length + k] = block.data[p * 3 + picked[k]];
  }
  return { ...block, data: out, channels: picked.length };
}

function toRgb(data: Uint8Array, channels: number): Uint8Array {
  if (channels === 3) return data;
  if (channels !== 1) throw new Error(`unexpected ${channels}-channel image`);
  const out = new Uint8Array(data.length * 3);
  for (let i = 0; i < data.length; i++) {
    out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i];
  }
  return out;
}

async function firstNumber(reader: NdpiFile, ifd: Ifd, tag: number): Promise<number | undefined> {
  const entry = ifd.entries.get(tag);
  if (!entry) return undefined;
  return (await reader.values(entry))[0];
}

/** Reads the JPEG header of a level: exactly McuStarts[0] bytes, or a growing prefix without McuStarts. */
async function readLevelHeader(
  reader: NdpiFile,
  stripOffset: number,
  byteCount: number,
  headerLength?: number,
): Promise<JpegHeader> {
  const attempts = headerLength !== undefined ? [headerLength] : [64 * 1024, 1024 * 1024];
  let lastError: unknown;
  for (const want of attempts) {
    const length = Math.min(want, byteCount);
    const bytes = await reader.read(stripOffset, stripOffset + length);
    try {
      return parseJpegHeader(bytes);
    } catch (err) {
      lastError = err;
      if (length === byteCount) break;
    }
  }
  throw new SlideError(reader.name, `level JPEG at ${stripOffset}: ${describe(lastError)}`);
}

/** The 65449 text: `key=value` lines, then an `;NDP Shading Data` block whose lines start with `;`. */
function parsePropertyMap(text: string, into: Record<string, string>): void {
  let section = '';
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    const sectionLine = rawLine.startsWith(';');
    const line = (sectionLine ? rawLine.slice(1) : rawLine).trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (sectionLine) section = line;
      continue;
    }
    const key = line.slice(0, eq).trim();
    if (!key) continue;
    const prefix = sectionLine && section ? `${section}.` : '';
    into[`hamamatsu.${prefix}${key}`] = line.slice(eq + 1).trim();
  }
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
}

async function collectProperties(reader: NdpiFile, ifd: Ifd): Promise<Record<string, string>> {
  const props: Record<string, string> = {};
  const e = ifd.entries;
  const textTags: [number, string][] = [
    [TAG.Make, 'tiff.Make'],
    [TAG.Model, 'tiff.Model'],
    [TAG.Software, 'tiff.Software'],
    [TAG.DateTime, 'tiff.DateTime'],
  ];
  for (const [tag, key] of textTags) {
    const entry = e.get(tag);
    if (entry?.type === 2) props[key] = await reader.text(entry);
  }
  for (const [tag, key] of [
    [TAG.XResolution, 'tiff.XResolution'],
    [TAG.YResolution, 'tiff.YResolution'],
  ] as const) {
    const value = await firstNumber(reader, ifd, tag);
    if (value !== undefined && Number.isFinite(value)) props[key] = formatNumber(value);
  }
  const unit = await firstNumber(reader, ifd, TAG.ResolutionUnit);
  if (unit !== undefined) props['tiff.ResolutionUnit'] = unit === 3 ? 'centimeter' : unit === 2 ? 'inch' : 'none';
  for (const [tagText, name] of Object.entries(VENDOR_TAG_NAMES)) {
    const entry = e.get(Number(tagText));
    if (!entry || entry.count > 16 * (entry.type === 2 ? 64 : 1)) continue;
    props[`hamamatsu.${name}`] =
      entry.type === 2 ? (await reader.text(entry)).trim() : (await reader.values(entry)).map(formatNumber).join(',');
  }
  const map = e.get(TAG.PropertyMap);
  if (map?.type === 2 || map?.type === 7) parsePropertyMap(await reader.text(map), props);
  return props;
}

/**
 * Opens a Hamamatsu NDPI file. Reads the TIFF directories, the McuStarts
 * tables' first page and each level's JPEG header; pixels are read on demand.
 */
export async function openNdpi(file: Blob, name: string, options: NdpiOptions = {}): Promise<NdpiSlideSource> {
  const stats: NdpiReadStats = { bytesRead: 0, reads: 0, decodes: 0, decodedIntervals: 0 };
  const reader = new NdpiFile(file, name, stats);
  try {
    return await openWith(reader, options);
  } catch (err) {
    if (err instanceof SlideError) throw err;
    throw new SlideError(name, describe(err));
  }
}

async function openWith(reader: NdpiFile, options: NdpiOptions): Promise<NdpiSlideSource> {
  const name = reader.name;
  if (reader.size < 16) throw new SlideError(name, 'file is too small to be an NDPI slide');
  const head = await reader.read(0, 16);
  const order = String.fromCharCode(head[0], head[1]);
  if (order !== 'II' && order !== 'MM') throw new SlideError(name, 'not a TIFF file');
  reader.littleEndian = order === 'II';
  const headView = reader.view(head);
  if (headView.getUint16(2, reader.littleEndian) !== 42) throw new SlideError(name, 'not a classic TIFF file, so not NDPI');
  const first64 = headView.getUint32(8, reader.littleEndian) * TWO_32 + headView.getUint32(4, reader.littleEndian);
  let next = first64 < reader.size ? first64 : headView.getUint32(4, reader.littleEndian);

  const ifds: Ifd[] = [];
  const seen = new Set<number>();
  while (next !== 0) {
    if (seen.has(next) || ifds.length >= MAX_IFDS) throw new SlideError(name, 'TIFF directory chain loops');
    seen.add(next);
    const { ifd, next: after } = await reader.readIfd(next);
    ifds.push(ifd);
    next = after;
  }
  if (!ifds[0].entries.has(NDPI_FORMAT_TAG)) throw new SlideError(name, 'not an NDPI file (tag 65420 missing)');

  interface PageInfo {
    ifd: Ifd;
    width: number;
    height: number;
    compression: number;
    lens: number;
    z: number;
  }
  const pages: PageInfo[] = [];
  for (const ifd of ifds) {
    const width = await firstNumber(reader, ifd, TAG.ImageWidth);
    const height = await firstNumber(reader, ifd, TAG.ImageLength);
    if (width === undefined || height === undefined) continue;
    if (!(width >= 1 && height >= 1 && width <= LIMITS.maxSide && height <= LIMITS.maxSide)) {
      throw new SlideError(name, `image dimensions ${width}×${height} are outside the supported range`);
    }
    pages.push({
      ifd,
      width,
      height,
      compression: (await firstNumber(reader, ifd, TAG.Compression)) ?? 1,
      lens: (await firstNumber(reader, ifd, TAG.SourceLens)) ?? 0,
      z: (await firstNumber(reader, ifd, TAG.ZOffset)) ?? 0,
    });
  }
  // Pyramid levels carry a positive source-lens magnification; extra focal planes (z ≠ 0) are skipped.
  const candidates = pages.filter((p) => p.lens > 0);
  if (candidates.length === 0) throw new SlideError(name, 'no pyramid level found');
  const focal = candidates.some((p) => p.z === 0) ? 0 : candidates[0].z;
  const pyramid = candidates.filter((p) => p.z === focal).sort((a, b) => b.width - a.width);

  const levels: NdpiLevel[] = [];
  for (const page of pyramid) {
    if (page.compression !== 7) {
      throw new SlideError(
        name,
        `pyramid level ${page.width}×${page.height} uses compression ${page.compression}, not JPEG`,
      );
    }
    levels.push(await openLevel(reader, page.ifd, page.width, page.height, pyramid[0].width));
  }

  const associatedPages: AssociatedPage[] = [];
  for (const [lens, label] of [
    [-1, 'macro'],
    [-2, 'map'],
  ] as const) {
    const page = pages.find((p) => p.lens === lens);
    if (!page || (page.compression !== 7 && page.compression !== 1)) continue;
    if (page.width * page.height > LIMITS.maxWholeImagePixels) continue;
    if (!page.ifd.entries.has(TAG.StripOffsets) || !page.ifd.entries.has(TAG.StripByteCounts)) continue;
    if (page.compression === 1) {
      const bits = await firstNumber(reader, page.ifd, TAG.BitsPerSample);
      const spp = (await firstNumber(reader, page.ifd, TAG.SamplesPerPixel)) ?? 1;
      const planar = (await firstNumber(reader, page.ifd, TAG.PlanarConfiguration)) ?? 1;
      if (bits !== 8 || (spp !== 1 && spp !== 3) || (spp === 3 && planar !== 1)) continue;
    }
    associatedPages.push({
      info: { name: label, width: page.width, height: page.height },
      ifd: page.ifd,
      compression: page.compression,
    });
  }

  const base = pyramid[0].ifd;
  const properties = await collectProperties(reader, base);
  const unit = await firstNumber(reader, base, TAG.ResolutionUnit);
  const micronsPerUnit = unit === 3 ? 1e4 : unit === 2 ? 25400 : undefined;
  const xres = await firstNumber(reader, base, TAG.XResolution);
  const yres = await firstNumber(reader, base, TAG.YResolution);
  const mpp = (res: number | undefined) =>
    micronsPerUnit !== undefined && res !== undefined && Number.isFinite(res) && res > 0 ? micronsPerUnit / res : undefined;
  const fluorescence = (properties['hamamatsu.Fluorescence'] ?? '') !== '';

  const levelInfos: LevelInfo[] = levels.map((l) => {
    const { intervalWidth, columns } = l.grid;
    // Viewer tiles: the interval width when intervals split rows into a handy size, else 512.
    const tileWidth = columns > 1 && intervalWidth >= 128 && intervalWidth <= 2048 ? intervalWidth : 512;
    return { width: l.width, height: l.height, tileWidth, tileHeight: 512, downsample: l.downsample };
  });
  const metadata: SlideMetadata = {
    name,
    format: 'ndpi',
    width: levels[0].width,
    height: levels[0].height,
    levels: levelInfos,
    channels: [
      { name: 'Red', color: '#ff0000' },
      { name: 'Green', color: '#00ff00' },
      { name: 'Blue', color: '#0000ff' },
    ],
    dtype: 'uint8',
    rgb: true,
    mppX: mpp(xres),
    mppY: mpp(yres),
    objectivePower: pyramid[0].lens,
    associated: associatedPages.map((p) => p.info),
    properties,
  };
  // Fluorescence slides are dark-field: pad with black; brightfield pads with glass white.
  const cacheBytes = options.cacheBytes ?? 64 * 1024 * 1024;
  return new NdpiSource(metadata, reader, levels, associatedPages, fluorescence ? 0 : 255, cacheBytes);
}

async function openLevel(
  reader: NdpiFile,
  ifd: Ifd,
  width: number,
  height: number,
  baseWidth: number,
): Promise<NdpiLevel> {
  const name = reader.name;
  const e = ifd.entries;
  const offsetsEntry = e.get(TAG.StripOffsets);
  const countsEntry = e.get(TAG.StripByteCounts);
  if (!offsetsEntry || !countsEntry || offsetsEntry.count !== 1 || countsEntry.count !== 1) {
    throw new SlideError(name, `level ${width}×${height}: expected one JPEG strip`);
  }
  const stripOffset = reader.widenOffset((await reader.values(offsetsEntry))[0], ifd.offset);
  const stripByteCount = (await reader.values(countsEntry))[0];
  const low = e.get(TAG.McuStarts) ?? null;
  const high = e.get(TAG.McuStartsHigh) ?? null;
  if (low && !TYPE_SIZE[low.type]) throw new SlideError(name, 'McuStarts has an unknown type');
  if (low && low.count > LIMITS.maxTiles) {
    throw new SlideError(name, `level ${width}×${height} declares ${low.count} restart intervals`);
  }
  if (high && low && high.count !== low.count) throw new SlideError(name, 'McuStartsHighBytes does not match McuStarts');
  const count = low ? low.count : 1;

  let headerLength: number | undefined;
  let starts: McuStartTable;
  if (low) {
    starts = new McuStartTable(reader, count, low, high, 0, stripByteCount);
    headerLength = (await starts.range(0, 0))[0];
    if (!(headerLength > 4 && headerLength < Math.min(stripByteCount, 16 * 1024 * 1024))) {
      throw new SlideError(
        name,
        `level ${width}×${height}: first McuStart ${headerLength} is not a JPEG header length`,
      );
    }
  }
  const header = await readLevelHeader(reader, stripOffset, stripByteCount, headerLength);
  if (!low) starts = new McuStartTable(reader, 1, null, null, header.bytes.length, stripByteCount);
  else if (header.bytes.length !== headerLength) {
    throw new SlideError(
      name,
      `level ${width}×${height}: McuStarts[0] (${headerLength}) is not where the JPEG header ends (${header.bytes.length})`,
    );
  }

  let grid: RestartGrid;
  let unreadable: string | undefined;
  if (!low) {
    // No interval table: the whole level is one JPEG, decodable only if small.
    grid = { intervalWidth: width, intervalHeight: height, columns: 1, rows: 1 };
    if (width * height > LIMITS.maxWholeImagePixels || width > MAX_JPEG_SIDE || height > MAX_JPEG_SIDE) {
      unreadable = `JPEG of ${width}×${height} without restart offsets is too large to decode whole`;
    }
  } else {
    try {
      grid = restartGrid(header, width, height);
    } catch (err) {
      if (!(err instanceof JpegStreamError)) throw err;
      throw new SlideError(name, `level ${width}×${height}: ${err.message}`);
    }
    if (grid.columns * grid.rows !== count) {
      throw new SlideError(
        name,
        `level ${width}×${height}: McuStarts lists ${count} intervals, the JPEG layout has ${grid.columns * grid.rows}`,
      );
    }
    if (grid.intervalWidth > MAX_JPEG_SIDE || grid.intervalWidth * grid.intervalHeight > LIMITS.maxTilePixels) {
      unreadable = `restart intervals of ${grid.intervalWidth}×${grid.intervalHeight} px are too large to decode`;
    }
  }
  return {
    width,
    height,
    downsample: baseWidth / width,
    stripOffset,
    stripByteCount,
    header,
    grid,
    starts: starts!,
    unreadable,
  };
}
