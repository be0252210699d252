/**
 * JPEG 2000 tiles (TIFF 33003/33004/33005/34712) through OpenJPEG compiled
 * to wasm (@cornerstonejs/codec-openjpeg), loaded like the JPEG codec.
 *
 * Aperio 33003 tiles hold YCbCr components with no colour transform in the
 * codestream, so they are converted to RGB here. Codestreams that do signal
 * the transform (COD marker MCT = 1) are already RGB after decoding.
 */
import openJpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import openJpegWasmUrl from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import type { DecodedTile, TileDecodeInput } from './registry';
import { emscriptenOptions } from './wasm-loader';

interface J2kDecoderInstance {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; componentCount: number; bitsPerSample: number; isSigned: boolean };
  delete(): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => J2kDecoderInstance;
}

let modulePromise: Promise<OpenJpegModule> | undefined;
/** OpenJPEG reports failures through its print hooks, not through exceptions. */
let lastMessage = '';

function loadOpenJpeg(): Promise<OpenJpegModule> {
  modulePromise ??= emscriptenOptions(openJpegWasmUrl, '@cornerstonejs/codec-openjpeg/decodewasm').then((options) =>
    (openJpegFactory as unknown as (o: object) => Promise<OpenJpegModule>)({
      ...options,
      print: () => {},
      printErr: (text: string) => {
        if (text.includes('[ERROR]')) lastMessage = text.replace('[ERROR]', '').trim();
      },
    }),
  );
  return modulePromise;
}

export async function decodeJpeg2000(input: TileDecodeInput, compression: number): Promise<DecodedTile> {
  const lib = await loadOpenJpeg();
  const decoder = new lib.J2KDecoder();
  lastMessage = '';
  try {
    decoder.getEncodedBuffer(input.bytes.length).set(input.bytes);
    decoder.decode();
    const info = decoder.getFrameInfo();
    if (lastMessage || info.width === 0 || info.height === 0) {
      throw new Error(lastMessage || 'no image in the codestream');
    }
    if (info.isSigned) throw new Error('signed samples');
    // The decoder hands out a (clamped) view of the wasm heap: copy it out as plain bytes.
    const view = decoder.getDecodedBuffer();
    const channels = info.componentCount;
    const bytesPerSample = info.bitsPerSample <= 8 ? 1 : 2;
    const byteLength = info.width * info.height * channels * bytesPerSample;
    const bytes = new Uint8Array(view.buffer, view.byteOffset, byteLength).slice();
    const data = bytesPerSample === 1 ? bytes : new Uint16Array(bytes.buffer);
    if (compression === 33003 && channels === 3 && data instanceof Uint8Array && !usesColourTransform(input.bytes)) {
      ycbcrToRgbInPlace(data);
    }
    return { data, width: info.width, height: info.height, channels };
  } catch (err) {
    throw new Error(`corrupt JPEG 2000 data (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    decoder.delete();
  }
}

/** Reads the MCT flag of the COD marker in the codestream's main header. */
export function usesColourTransform(codestream: Uint8Array): boolean {
  // A JP2 file wraps the codestream in boxes; search for the markers either way.
  const limit = Math.min(codestream.length - 9, 4096);
  for (let i = 0; i < limit; i++) {
    if (codestream[i] === 0xff && codestream[i + 1] === 0x52) return codestream[i + 8] === 1;
  }
  return false;
}

/** JFIF (full-range) YCbCr to RGB, rounded half up, as OpenSlide and libjpeg do. */
function ycbcrToRgbInPlace(data: Uint8Array): void {
  for (let i = 0; i < data.length; i += 3) {
    const y = data[i];
    const cb = data[i + 1] - 128;
    const cr = data[i + 2] - 128;
    data[i] = clampByte(y + 1.402 * cr);
    data[i + 1] = clampByte(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clampByte(y + 1.772 * cb);
  }
}

function clampByte(value: number): number {
  const rounded = Math.floor(value + 0.5);
  return rounded < 0 ? 0 : rounded > 255 ? 255 : rounded;
}
