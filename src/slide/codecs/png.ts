/**
 * PNG through fast-png (pure JS, so it runs in Node, workers and pages).
 * Palette images become RGB(A); 1/2/4-bit grey is scaled to 8 bits. Alpha
 * is kept as a channel; the plain-image format decides what to do with it.
 */
import { convertIndexedToRgb, decode } from 'fast-png';
import type { DecodedTile, TileDecodeInput } from './registry';

export async function decodePng(input: TileDecodeInput): Promise<DecodedTile> {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(input.bytes);
  } catch (err) {
    throw new Error(`corrupt PNG data (${err instanceof Error ? err.message : String(err)})`);
  }
  const { width, height } = png;
  if (png.palette) {
    const data = convertIndexedToRgb(png);
    return { data, width, height, channels: data.length / (width * height) };
  }
  if (png.depth === 16) {
    return { data: png.data as Uint16Array, width, height, channels: png.channels };
  }
  if (png.depth === 8) {
    const data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
    return { data, width, height, channels: png.channels };
  }
  return { data: unpackLowBitGrey(png.data as Uint8Array, width, height, png.depth), width, height, channels: 1 };
}

function unpackLowBitGrey(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const maxValue = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      const value = (byte >> (8 - depth - (bit & 7))) & maxValue;
      out[y * width + x] = Math.round((value * 255) / maxValue);
    }
  }
  return out;
}
