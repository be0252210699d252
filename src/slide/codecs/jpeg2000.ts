/**
 * JPEG 2000 tiles (TIFF 33003/33004/33005/34712) through OpenJPEG compiled
 * to wasm (@cornerstonejs/codec-openjpeg), loaded like the JPEG codec.
 *
 * Colour: what OpenJPEG returns is RGB for 33005 and 34712, but YCbCr for
 *  - Aperio 33003 (YCbCr components, OpenSlide converts them the same way);
 *  - 33004 as libvips writes it: vips converts RGB to YCbCr itself before
 *    encoding (the codestream's own colour transform comes on top) and back
 *    after decoding. Measured: OpenJPEG gives (242, 128, 128) where vips
 *    reads (243, 243, 243).
 * The codestream cannot tell these apart, so the TIFF tag decides.
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

const YCBCR_COMPRESSIONS = new Set([33003, 33004]);

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
    if (YCBCR_COMPRESSIONS.has(compression) && channels === 3 && data instanceof Uint8Array) ycbcrToRgbInPlace(data);
    return { data, width: info.width, height: info.height, channels };
  } catch (err) {
    throw new Error(`corrupt JPEG 2000 data (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    decoder.delete();
  }
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
