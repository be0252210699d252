/**
 * Baseline/progressive 8-bit JPEG through libjpeg-turbo compiled to wasm
 * (@cornerstonejs/codec-libjpeg-turbo-8bit), so decodes match libjpeg-based
 * references (vips, OpenSlide) bit for bit in most cases.
 */
import libjpegFactory from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs';
import libjpegWasmUrl from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm?url';
import { emscriptenOptions } from './wasm-loader';
import type { DecodedTile } from './registry';

interface JpegDecoderInstance {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  readHeader(): void;
  decode(): void;
  getFrameInfo(): { width: number; height: number; componentCount: number; bitsPerSample: number };
  delete(): void;
}
interface LibJpegModule {
  JPEGDecoder: new () => JpegDecoderInstance;
}

let modulePromise: Promise<LibJpegModule> | undefined;

function loadLibjpeg(): Promise<LibJpegModule> {
  modulePromise ??= emscriptenOptions(libjpegWasmUrl, '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm').then(
    (options) => (libjpegFactory as unknown as (o: object) => Promise<LibJpegModule>)(options),
  );
  return modulePromise;
}

const SOI = 0xd8;
const EOI = 0xd9;

/**
 * TIFF JPEG tiles may be "abbreviated": their quantisation and Huffman tables
 * live once in the JPEGTables tag. Splice the tables (minus their SOI/EOI)
 * right after the tile's SOI to get a self-contained stream.
 */
export function mergeJpegTables(tile: Uint8Array, tables?: Uint8Array): Uint8Array {
  if (!tables || tables.length < 4) return tile;
  if (tile[0] !== 0xff || tile[1] !== SOI) return tile;
  let end = tables.length;
  if (tables[end - 2] === 0xff && tables[end - 1] === EOI) end -= 2;
  const body = tables.subarray(2, end);
  const merged = new Uint8Array(tile.length + body.length);
  merged.set(tile.subarray(0, 2), 0);
  merged.set(body, 2);
  merged.set(tile.subarray(2), 2 + body.length);
  return merged;
}

/**
 * Adobe APP14 marker telling libjpeg the components are stored as plain RGB
 * (transform 0). Aperio writes "JPEG/RGB" tiles without any colour marker,
 * which libjpeg would otherwise take for YCbCr.
 */
const ADOBE_RGB_MARKER = new Uint8Array([
  0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
]);

export function markAsRgb(stream: Uint8Array): Uint8Array {
  const out = new Uint8Array(stream.length + ADOBE_RGB_MARKER.length);
  out.set(stream.subarray(0, 2), 0);
  out.set(ADOBE_RGB_MARKER, 2);
  out.set(stream.subarray(2), 2 + ADOBE_RGB_MARKER.length);
  return out;
}

/** Decodes a complete JPEG stream to interleaved 8-bit samples. */
export async function decodeJpeg(stream: Uint8Array): Promise<DecodedTile> {
  const lib = await loadLibjpeg();
  const decoder = new lib.JPEGDecoder();
  try {
    decoder.getEncodedBuffer(stream.length).set(stream);
    decoder.readHeader();
    decoder.decode();
    const info = decoder.getFrameInfo();
    // Copy out of the wasm heap: the heap view dies with the decoder.
    const data = new Uint8Array(decoder.getDecodedBuffer());
    return { data, width: info.width, height: info.height, channels: info.componentCount };
  } catch (err) {
    throw new Error(`corrupt JPEG data (${describeWasmError(err)})`);
  } finally {
    decoder.delete();
  }
}

function describeWasmError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'number' ? `libjpeg error ${err}` : String(err);
}
