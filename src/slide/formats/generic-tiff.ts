/**
 * Any other TIFF or BigTIFF: the first page is the image; reduced-resolution
 * pages (NewSubfileType bit 0) and its SubIFDs with the same sample layout
 * are pyramid levels, sorted by size. A plain strip TIFF is the same thing
 * with a single level (openSlide adds synthetic levels on top).
 * µm/px comes from XResolution/YResolution with ResolutionUnit inch or cm.
 */
import type { SlideSource } from '../types';
import { PHOTOMETRIC, TAG, TiffFile, micronsPerPixel, type TiffPage } from './tiff';
import { RGB_CHANNELS, createTiffSource, defaultChannels, outputSamples } from './tiff-source';

/** Coarser than this is not a microscope image but a print/screen default such as 72 dpi. */
const MAX_PLAUSIBLE_MPP = 50;

function sameLayout(a: TiffPage, b: TiffPage): boolean {
  return (
    a.samplesPerPixel === b.samplesPerPixel &&
    a.bitsPerSample === b.bitsPerSample &&
    a.sampleFormat === b.sampleFormat &&
    a.photometric === b.photometric
  );
}

export async function openGenericTiff(file: TiffFile): Promise<SlideSource> {
  const pages = await file.pages();
  const main = pages[0];
  const candidates = [
    ...pages.slice(1).filter((page) => (page.newSubfileType & 1) === 1),
    ...(await file.subPages(main)),
  ];
  const levels = [main];
  for (const page of candidates) {
    const smaller = page.width < main.width && page.height <= main.height;
    if (smaller && sameLayout(page, main) && !levels.some((l) => l.width === page.width)) levels.push(page);
  }
  levels.sort((a, b) => b.width - a.width);

  const samples = outputSamples(main);
  const rgb =
    samples === 3 &&
    (main.photometric === PHOTOMETRIC.RGB || main.photometric === PHOTOMETRIC.YCbCr || main.photometric === PHOTOMETRIC.Palette);
  const mppX = plausibleMpp(micronsPerPixel(main.xResolution, main.resolutionUnit));
  const mppY = plausibleMpp(micronsPerPixel(main.yResolution ?? main.xResolution, main.resolutionUnit));

  const properties: Record<string, string> = {};
  const textTags: [string, number][] = [
    ['ImageDescription', TAG.ImageDescription],
    ['Make', TAG.Make],
    ['Model', TAG.Model],
    ['Software', TAG.Software],
    ['DateTime', TAG.DateTime],
  ];
  for (const [key, tag] of textTags) {
    const value = await TiffFile.textTag(main, tag);
    if (value) properties[`tiff.${key}`] = value;
  }
  properties['tiff.Compression'] = String(main.compression);
  properties['tiff.Pages'] = String(pages.length);

  return createTiffSource({
    file,
    format: 'tiff',
    levels: levels.map((page) => [page]),
    channels: rgb ? RGB_CHANNELS : defaultChannels(samples),
    rgb,
    mppX,
    mppY: mppY ?? mppX,
    properties,
  });
}

function plausibleMpp(mpp: number | undefined): number | undefined {
  return mpp !== undefined && mpp <= MAX_PLAUSIBLE_MPP ? mpp : undefined;
}
