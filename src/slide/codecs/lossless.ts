/**
 * Lossless TIFF compressions: none (1), LZW (5), Deflate (8, 32946),
 * PackBits (32773) and ZSTD (50000). Each one only decompresses; byte order
 * and predictor are applied by bytesToSamples.
 *
 * Every decompressor stops at the size the tile should have, so a malicious
 * tile cannot inflate into gigabytes (decompression bomb at tile level).
 */
import { getDecoder } from 'geotiff';
import type { Codec, DecodedTile, TileDecodeInput } from './registry';
import { bytesToSamples, expectedByteLength } from './samples';

export const decodeUncompressed: Codec = async (input) => bytesToSamples(input.bytes, input, 'uncompressed');

export const decodeLzw: Codec = async (input) =>
  bytesToSamples(lzwDecompress(input.bytes, expectedByteLength(input)), input, 'LZW');

export const decodePackBits: Codec = async (input) =>
  bytesToSamples(packBitsDecompress(input.bytes, expectedByteLength(input)), input, 'PackBits');

export const decodeDeflate: Codec = async (input) =>
  bytesToSamples(await inflate(input.bytes, expectedByteLength(input)), input, 'Deflate');

export const decodeZstd: Codec = async (input: TileDecodeInput): Promise<DecodedTile> => {
  // geotiff's decoder wraps zstddec (wasm) and initialises it on first use.
  zstdDecoder ??= getDecoder(50000, { tileWidth: 0, tileHeight: 0, predictor: 1, bitsPerSample: 8, planarConfiguration: 1 });
  const decoder = await zstdDecoder;
  const copy = input.bytes.slice().buffer;
  let out: Uint8Array;
  try {
    out = new Uint8Array(await decoder.decodeBlock(copy));
  } catch (err) {
    throw new Error(`corrupt ZSTD data (${err instanceof Error ? err.message : String(err)})`);
  }
  return bytesToSamples(out, input, 'ZSTD');
};
let zstdDecoder: ReturnType<typeof getDecoder> | undefined;

/**
 * TIFF LZW: MSB-first codes of 9 to 12 bits, 256 = clear, 257 = end, and
 * the "early change" rule (the code width grows one code before the table
 * would overflow it).
 */
export function lzwDecompress(input: Uint8Array, maxLength: number): Uint8Array {
  if (input.length >= 2 && input[0] === 0 && (input[1] & 1) === 1) {
    throw new Error('old-style (pre-TIFF 6) LZW data is not supported');
  }
  const CLEAR = 256;
  const END = 257;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  const first = new Uint8Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    length[i] = 1;
    first[i] = i;
  }
  const out = new Uint8Array(maxLength);
  let outPos = 0;
  let next = 258;
  let width = 9;
  let previous = -1;
  let bitBuffer = 0;
  let bitCount = 0;
  let inPos = 0;

  const emit = (code: number): void => {
    const len = length[code];
    let p = outPos + len - 1;
    for (let c = code; c !== -1; c = prefix[c], p--) {
      if (p < maxLength) out[p] = suffix[c];
    }
    outPos += len;
  };

  while (outPos < maxLength) {
    while (bitCount < width && inPos < input.length) {
      bitBuffer = ((bitBuffer << 8) | input[inPos++]) & 0xffffff;
      bitCount += 8;
    }
    if (bitCount < width) break; // ran out of data: the caller checks the length
    const code = (bitBuffer >>> (bitCount - width)) & ((1 << width) - 1);
    bitCount -= width;

    if (code === CLEAR) {
      next = 258;
      width = 9;
      previous = -1;
      continue;
    }
    if (code === END) break;
    if (previous === -1) {
      if (code > 255) throw new Error('corrupt LZW data (first code after a clear is not a literal)');
      emit(code);
      previous = code;
      continue;
    }
    if (code < next) {
      emit(code);
      if (next < 4096) addEntry(previous, first[code]);
    } else if (code === next) {
      if (next < 4096) addEntry(previous, first[previous]);
      emit(code);
    } else {
      throw new Error(`corrupt LZW data (code ${code} before it is defined)`);
    }
    previous = code;
    if (next >= (1 << width) - 1 && width < 12) width++;
  }
  return outPos >= maxLength ? out : out.subarray(0, outPos);

  function addEntry(prefixCode: number, byte: number): void {
    prefix[next] = prefixCode;
    suffix[next] = byte;
    length[next] = length[prefixCode] + 1;
    first[next] = first[prefixCode];
    next++;
  }
}

/** PackBits: n >= 0 copies n+1 literal bytes, -127..-1 repeats the next byte 1-n times, -128 is a no-op. */
export function packBitsDecompress(input: Uint8Array, maxLength: number): Uint8Array {
  const out = new Uint8Array(maxLength);
  let outPos = 0;
  let i = 0;
  while (i < input.length && outPos < maxLength) {
    const n = (input[i++] << 24) >> 24;
    if (n >= 0) {
      const count = Math.min(n + 1, input.length - i, maxLength - outPos);
      out.set(input.subarray(i, i + count), outPos);
      outPos += count;
      i += n + 1;
    } else if (n !== -128) {
      const count = Math.min(1 - n, maxLength - outPos);
      if (i >= input.length) break;
      out.fill(input[i++], outPos, outPos + count);
      outPos += count;
    }
  }
  return outPos >= maxLength ? out : out.subarray(0, outPos);
}

/**
 * zlib-wrapped Deflate through the platform's DecompressionStream (browsers,
 * workers and Node all have it), reading only until the tile is complete.
 */
export async function inflate(input: Uint8Array, maxLength: number): Promise<Uint8Array> {
  const stream = new Blob([input as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  const out = new Uint8Array(maxLength);
  let outPos = 0;
  try {
    while (outPos < maxLength) {
      const { done, value } = await reader.read();
      if (done) break;
      const count = Math.min(value.length, maxLength - outPos);
      out.set(value.subarray(0, count), outPos);
      outPos += count;
    }
  } catch (err) {
    // Some writers leave a truncated or checksum-less stream after the pixels;
    // what was decoded is kept when it is complete.
    if (outPos < maxLength) {
      throw new Error(`corrupt Deflate data (${err instanceof Error ? err.message : String(err)})`);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return outPos >= maxLength ? out : out.subarray(0, outPos);
}
