/**
 * WebP (TIFF 50001 tiles and plain .webp files). There is no small wasm
 * WebP decoder in the project, so this uses the browser's own decoder
 * (createImageBitmap + OffscreenCanvas), which also exists in workers.
 * Under Node it is unavailable and formats report that up front.
 */
import type { DecodedTile, TileDecodeInput } from './registry';

export function webpUnavailableReason(): string | undefined {
  const scope = globalThis as { createImageBitmap?: unknown; OffscreenCanvas?: unknown };
  if (typeof scope.createImageBitmap === 'function' && typeof scope.OffscreenCanvas === 'function') return undefined;
  return 'WebP decoding needs a browser (createImageBitmap and OffscreenCanvas are not available here)';
}

export async function decodeWebp(input: TileDecodeInput): Promise<DecodedTile> {
  const reason = webpUnavailableReason();
  if (reason) throw new Error(reason);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([input.bytes as Uint8Array<ArrayBuffer>], { type: 'image/webp' }), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (err) {
    throw new Error(`corrupt WebP data (${err instanceof Error ? err.message : String(err)})`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('WebP decoding needs a 2D canvas context');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  // Keep alpha only when the caller asked for 4 samples.
  const channels = input.samplesPerPixel === 4 ? 4 : 3;
  if (channels === 4) return { data: new Uint8Array(rgba.buffer.slice(0)), width, height, channels };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = rgba[j];
    rgb[i + 1] = rgba[j + 1];
    rgb[i + 2] = rgba[j + 2];
  }
  return { data: rgb, width, height, channels };
}
