/**
 * One small decoder registry, keyed by TIFF compression code (or a mime-like
 * name for standalone images). Each codec turns one compressed tile/strip into
 * raw interleaved samples. Formats never call a codec directly.
 */
import type { PixelDType } from '../types';

export interface TileDecodeInput {
  /** Compressed bytes of one tile or strip. */
  bytes: Uint8Array;
  /** Expected decoded size (tile size, or strip width × rows). */
  width: number;
  height: number;
  samplesPerPixel: number;
  bitsPerSample: number;
  dtype: PixelDType;
  /** TIFF JPEGTables (abbreviated JPEG streams), when present. */
  jpegTables?: Uint8Array;
  /** TIFF Photometric (2 = RGB, 6 = YCbCr, 1 = min-is-black...). */
  photometric?: number;
  /** TIFF Predictor (1 none, 2 horizontal, 3 float). */
  predictor?: number;
  littleEndian?: boolean;
}

export interface DecodedTile {
  data: Uint8Array | Uint16Array | Float32Array;
  width: number;
  height: number;
  channels: number;
}

export type Codec = (input: TileDecodeInput) => Promise<DecodedTile>;

export interface CodecEntry {
  name: string;
  decode: Codec;
  /**
   * Why this codec cannot run here (e.g. WebP needs a browser), or undefined
   * when it can. Formats ask before opening a file so that the user gets one
   * clear message instead of a failure per tile.
   */
  unavailableReason?: () => string | undefined;
}

const registry = new Map<number | string, CodecEntry>();

export function registerCodec(key: number | string, entry: CodecEntry): void {
  registry.set(key, entry);
}

export function getCodec(key: number | string): CodecEntry | undefined {
  return registry.get(key);
}

/** Names of compressions we recognise but do not decode, for clear errors. */
export const KNOWN_COMPRESSIONS: Record<number, string> = {
  1: 'uncompressed',
  5: 'LZW',
  6: 'old-style JPEG',
  7: 'JPEG',
  8: 'Deflate',
  32946: 'Deflate',
  32773: 'PackBits',
  33003: 'JPEG 2000 (Aperio YCbCr)',
  33004: 'JPEG 2000',
  33005: 'JPEG 2000 (Aperio RGB)',
  34712: 'JPEG 2000',
  34887: 'LERC',
  34892: 'JPEG-XR',
  34925: 'LZMA',
  50000: 'ZSTD',
  50001: 'WebP',
  50002: 'JPEG XL',
  52546: 'JPEG XL',
};

export function compressionName(code: number): string {
  return KNOWN_COMPRESSIONS[code] ?? `unknown compression`;
}
