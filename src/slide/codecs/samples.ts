/**
 * Turns the decompressed bytes of a TIFF tile/strip into typed samples:
 * byte order, then the TIFF predictor (2 = horizontal differencing,
 * 3 = floating-point byte planes). Shared by every lossless codec.
 */
import type { DecodedTile, TileDecodeInput } from './registry';

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function expectedByteLength(input: TileDecodeInput): number {
  return input.width * input.height * input.samplesPerPixel * (input.bitsPerSample / 8);
}

export function bytesToSamples(bytes: Uint8Array, input: TileDecodeInput, codecName: string): DecodedTile {
  const { width, height, samplesPerPixel: spp, bitsPerSample } = input;
  const expected = expectedByteLength(input);
  if (bytes.length < expected) {
    throw new Error(`corrupt ${codecName} data (decodes to ${bytes.length} bytes, expected ${expected})`);
  }
  const predictor = input.predictor ?? 1;
  const rowSamples = width * spp;
  let data: Uint8Array | Uint16Array | Float32Array;

  if (predictor === 3) {
    data = undoFloatPredictor(bytes, width, height, spp, bitsPerSample);
  } else if (bitsPerSample === 8) {
    data = bytes.slice(0, expected);
    if (predictor === 2) undoHorizontal(data, rowSamples, height, spp);
  } else if (bitsPerSample === 16) {
    const words = new Uint16Array(width * height * spp);
    copyWithByteOrder(bytes, new Uint8Array(words.buffer), 2, input.littleEndian ?? true);
    if (predictor === 2) undoHorizontal(words, rowSamples, height, spp);
    data = words;
  } else if (bitsPerSample === 32) {
    const floats = new Float32Array(width * height * spp);
    copyWithByteOrder(bytes, new Uint8Array(floats.buffer), 4, input.littleEndian ?? true);
    // Horizontal differencing of 32-bit data works on the integer bits.
    if (predictor === 2) undoHorizontal(new Uint32Array(floats.buffer), rowSamples, height, spp);
    data = floats;
  } else {
    throw new Error(`${bitsPerSample}-bit samples are not supported`);
  }
  return { data, width, height, channels: spp };
}

function copyWithByteOrder(src: Uint8Array, dst: Uint8Array, size: number, littleEndian: boolean): void {
  const n = dst.length;
  if (littleEndian === hostIsLittleEndian) {
    dst.set(src.subarray(0, n));
    return;
  }
  for (let i = 0; i < n; i += size) {
    for (let b = 0; b < size; b++) dst[i + b] = src[i + size - 1 - b];
  }
}

/** Predictor 2: each sample stores the difference to the same sample of the previous pixel. */
function undoHorizontal(
  data: Uint8Array | Uint16Array | Uint32Array,
  rowSamples: number,
  rows: number,
  spp: number,
): void {
  // Typed-array stores wrap modulo 2^bits, exactly as the predictor requires.
  for (let row = 0; row < rows; row++) {
    const start = row * rowSamples;
    for (let i = start + spp, end = start + rowSamples; i < end; i++) data[i] += data[i - spp];
  }
}

/**
 * Predictor 3: each row holds the bytes of its samples split into planes,
 * most significant byte plane first, then byte-wise differenced across the
 * whole row. Undo the differencing, then gather each sample's bytes.
 */
function undoFloatPredictor(bytes: Uint8Array, width: number, rows: number, spp: number, bits: number): Float32Array {
  if (bits !== 32) throw new Error(`floating-point predictor with ${bits}-bit samples is not supported`);
  const rowSamples = width * spp;
  const rowBytes = rowSamples * 4;
  const out = new Float32Array(rowSamples * rows);
  const view = new DataView(out.buffer);
  const row = new Uint8Array(rowBytes);
  for (let r = 0; r < rows; r++) {
    row.set(bytes.subarray(r * rowBytes, (r + 1) * rowBytes));
    for (let i = spp; i < rowBytes; i++) row[i] = (row[i] + row[i - spp]) & 0xff;
    const base = r * rowSamples * 4;
    for (let s = 0; s < rowSamples; s++) {
      const value =
        (row[s] << 24) | (row[rowSamples + s] << 16) | (row[2 * rowSamples + s] << 8) | row[3 * rowSamples + s];
      view.setUint32(base + s * 4, value >>> 0, hostIsLittleEndian);
    }
  }
  return out;
}
