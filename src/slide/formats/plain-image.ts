/**
 * Plain PNG, JPEG and WebP files: one image, decoded whole. The header's
 * size is checked against LIMITS before any pixel is decoded (decompression
 * bombs), then the pixels live in a memory source; openSlide adds the
 * synthetic pyramid. Alpha is composited over the background colour.
 */
import { getCodec } from '../codecs/index';
import { LIMITS, SlideError, type PixelBlock, type SlideSource } from '../types';
import { createMemorySource } from './memory-source';
import { messageOf } from './tiff';
import { RGB_CHANNELS, defaultChannels } from './tiff-source';

export type PlainImageKind = 'png' | 'jpeg' | 'webp';

const MIME: Record<PlainImageKind, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const LABEL: Record<PlainImageKind, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };
/** Enough to reach the size fields, past large EXIF blocks in JPEGs. */
const HEADER_BYTES = 256 * 1024;

export function sniffPlainImage(head: Uint8Array): PlainImageKind | undefined {
  if (head.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b)) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WEBP') return 'webp';
  return undefined;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** Image size from the file header, without decoding. */
export function readImageSize(kind: PlainImageKind, head: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (kind === 'png') {
    if (head.length < 24 || ascii(head, 12, 4) !== 'IHDR') return undefined;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (kind === 'jpeg') {
    let pos = 2;
    while (pos + 9 < head.length) {
      if (head[pos] !== 0xff) return undefined;
      const marker = head[pos + 1];
      if (marker === 0xff) {
        pos++; // fill byte
        continue;
      }
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isFrame) return { height: view.getUint16(pos + 5), width: view.getUint16(pos + 7) };
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
        pos += 2;
        continue;
      }
      pos += 2 + view.getUint16(pos + 2);
    }
    return undefined;
  }
  const chunk = ascii(head, 12, 4);
  if (chunk === 'VP8 ' && head.length >= 30 && head[23] === 0x9d && head[24] === 0x01 && head[25] === 0x2a) {
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L' && head.length >= 25 && head[20] === 0x2f) {
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X' && head.length >= 30) {
    const le24 = (at: number) => head[at] | (head[at + 1] << 8) | (head[at + 2] << 16);
    return { width: le24(24) + 1, height: le24(27) + 1 };
  }
  return undefined;
}

export async function openPlainImage(file: Blob, name: string, kind: PlainImageKind): Promise<SlideSource> {
  const label = LABEL[kind];
  const head = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
  const size = readImageSize(kind, head);
  if (!size || size.width === 0 || size.height === 0) throw new SlideError(name, `corrupt ${label} header`);
  const { width, height } = size;
  if (width > LIMITS.maxSide || height > LIMITS.maxSide) {
    throw new SlideError(name, `declares ${width} × ${height} px, beyond the ${LIMITS.maxSide} px limit`);
  }
  if (width * height > LIMITS.maxWholeImagePixels) {
    throw new SlideError(
      name,
      `declares ${width} × ${height} px, beyond the ${LIMITS.maxWholeImagePixels} px limit for an image decoded whole`,
    );
  }
  const codec = getCodec(MIME[kind])!;
  const unavailable = codec.unavailableReason?.();
  if (unavailable) throw new SlideError(name, `${label} images cannot be decoded here: ${unavailable}`);

  const bytes = new Uint8Array(await file.arrayBuffer());
  let decoded;
  try {
    decoded = await codec.decode({ bytes, width, height, samplesPerPixel: 3, bitsPerSample: 8, dtype: 'uint8' });
  } catch (err) {
    throw new SlideError(name, messageOf(err));
  }
  if (decoded.width !== width || decoded.height !== height) {
    throw new SlideError(name, `corrupt ${label} data (decodes to ${decoded.width} × ${decoded.height} px, header says ${width} × ${height})`);
  }
  if (decoded.channels > 4 || (kind === 'jpeg' && decoded.channels === 4)) {
    throw new SlideError(name, `${decoded.channels}-component ${label} images (e.g. CMYK) are not supported`);
  }
  const dtype = decoded.data instanceof Uint16Array ? 'uint16' : 'uint8';
  let image: PixelBlock = { data: decoded.data, width, height, channels: decoded.channels, dtype };
  const colour = image.channels >= 3;
  if (image.channels === 2 || image.channels === 4) image = compositeAlpha(image, colour && dtype === 'uint8' ? 255 : 0);

  const properties: Record<string, string> = { 'image.Format': label, 'image.Channels': String(decoded.channels) };
  return createMemorySource(image, {
    name,
    format: kind,
    channels: colour ? RGB_CHANNELS : defaultChannels(1),
    rgb: colour,
    properties,
  });
}

/** Drops the alpha channel after blending each pixel over `background`. */
function compositeAlpha(image: PixelBlock, background: number): PixelBlock {
  const { width, height, channels } = image;
  const colours = channels - 1;
  const max = image.dtype === 'uint8' ? 255 : 65535;
  const src = image.data;
  const out = image.dtype === 'uint8' ? new Uint8Array(width * height * colours) : new Uint16Array(width * height * colours);
  for (let p = 0, s = 0, d = 0; p < width * height; p++, s += channels, d += colours) {
    const alpha = src[s + colours] / max;
    for (let c = 0; c < colours; c++) out[d + c] = Math.round(src[s + c] * alpha + background * (1 - alpha));
  }
  return { data: out, width, height, channels: colours, dtype: image.dtype };
}
