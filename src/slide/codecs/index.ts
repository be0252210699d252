/**
 * Fills the codec registry: TIFF compression codes, plus mime types for
 * standalone images. Idempotent; openSlide calls it, tests may too.
 */
import { decodeJpeg, markAsRgb, mergeJpegTables } from './jpeg';
import { decodeJpeg2000 } from './jpeg2000';
import { decodeDeflate, decodeLzw, decodePackBits, decodeUncompressed, decodeZstd } from './lossless';
import { decodePng } from './png';
import { getCodec, registerCodec, type Codec } from './registry';
import { decodeWebp, webpUnavailableReason } from './webp';

const PHOTOMETRIC_RGB = 2;

/** JPEG tiles: splice in the shared JPEGTables; Photometric RGB means "no YCbCr transform". */
const decodeTiffJpeg: Codec = async (input) => {
  let stream = mergeJpegTables(input.bytes, input.jpegTables);
  if (input.photometric === PHOTOMETRIC_RGB && input.samplesPerPixel >= 3) stream = markAsRgb(stream);
  return decodeJpeg(stream);
};

let registered = false;

export function registerBuiltinCodecs(): void {
  if (registered) return;
  registered = true;
  registerCodec(1, { name: 'uncompressed', decode: decodeUncompressed });
  registerCodec(5, { name: 'LZW', decode: decodeLzw });
  registerCodec(7, { name: 'JPEG', decode: decodeTiffJpeg });
  registerCodec(8, { name: 'Deflate', decode: decodeDeflate });
  registerCodec(32946, { name: 'Deflate', decode: decodeDeflate });
  registerCodec(32773, { name: 'PackBits', decode: decodePackBits });
  registerCodec(50000, { name: 'ZSTD', decode: decodeZstd });
  for (const code of [33003, 33004, 33005, 34712]) {
    registerCodec(code, { name: 'JPEG 2000', decode: (input) => decodeJpeg2000(input, code) });
  }
  const webp = { name: 'WebP', decode: decodeWebp, unavailableReason: webpUnavailableReason };
  registerCodec(50001, webp);
  registerCodec('image/webp', webp);
  registerCodec('image/png', { name: 'PNG', decode: decodePng });
  registerCodec('image/jpeg', { name: 'JPEG', decode: (input) => decodeJpeg(input.bytes) });
}

export { getCodec };
