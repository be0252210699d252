/**
 * openSlide: the one entry point from a Blob (a dropped File, or
 * fs.openAsBlob under Node) to a SlideSource. It sniffs the first bytes,
 * picks the format module, and adds synthetic pyramid levels where the file
 * has too few. Reads stay lazy: nothing here loads the whole file, except
 * plain PNG/JPEG/WebP images, which cannot be decoded in parts.
 */
import { registerBuiltinCodecs } from './codecs/index';
import { openGenericTiff } from './formats/generic-tiff';
import { openNdpi } from './formats/ndpi';
import { openOmeTiff, looksLikeOmeXml } from './formats/ome-tiff';
import { openPlainImage, sniffPlainImage } from './formats/plain-image';
import { isAperioDescription, openSvs } from './formats/svs';
import { TAG, TiffFile, messageOf } from './formats/tiff';
import { withPyramid } from './pyramid';
import { SlideError, type SlideSource } from './types';

export type FileKind = 'tiff' | 'png' | 'jpeg' | 'webp';

/** Recognises a file by its magic bytes (extensions are not trusted). */
export function sniffFileKind(head: Uint8Array): FileKind | undefined {
  if (head.length >= 4) {
    const le = head[0] === 0x49 && head[1] === 0x49 && (head[2] === 42 || head[2] === 43) && head[3] === 0;
    const be = head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && (head[3] === 42 || head[3] === 43);
    if (le || be) return 'tiff';
  }
  return sniffPlainImage(head);
}

export async function openSlide(file: Blob, name: string): Promise<SlideSource> {
  registerBuiltinCodecs();
  if (file.size === 0) throw new SlideError(name, 'the file is empty (0 bytes)');
  try {
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const kind = sniffFileKind(head);
    if (!kind) throw new SlideError(name, 'not a recognised slide or image format');
    const source = kind === 'tiff' ? await openTiffSlide(file, name) : await openPlainImage(file, name, kind);
    return withPyramid(source);
  } catch (err) {
    if (err instanceof SlideError) throw err;
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new SlideError(name, `corrupt or unreadable file (${messageOf(err)})`);
  }
}

async function openTiffSlide(file: Blob, name: string): Promise<SlideSource> {
  const tiff = await TiffFile.open(file, name);
  const first = (await tiff.page(0))!;
  if (first.ifd.hasTag(TAG.NdpiFormat)) return openNdpi(file, name);
  if (isAperioDescription(first.description)) return openSvs(tiff);
  if (looksLikeOmeXml(first.description)) {
    const ome = await openOmeTiff(tiff);
    if (ome) return ome;
  }
  return openGenericTiff(tiff);
}
