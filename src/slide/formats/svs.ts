/**
 * Aperio SVS: a TIFF whose first ImageDescription starts with "Aperio".
 *
 * Page layout: the tiled pages are the pyramid levels (largest first); the
 * strip page right after level 0 is a thumbnail; pages whose description's
 * second line starts with "label" or "macro" are those associated images.
 * The description carries "key = value" pairs after '|', e.g.
 * "…|AppMag = 20|MPP = 0.499|…".
 * Tiles are JPEG (shared JPEGTables; "JPEG/RGB" files store RGB, hence
 * Photometric 2) or JPEG 2000 (33003 YCbCr, 33005 RGB).
 */
import type { SlideSource } from '../types';
import type { TiffFile, TiffPage } from './tiff';
import { RGB_CHANNELS, createTiffSource } from './tiff-source';

export function isAperioDescription(description: string): boolean {
  return description.startsWith('Aperio');
}

export interface AperioDescription {
  /** The text before the first '|', e.g. "Aperio Image Library v11.2.1 \r\n46000x32914 [...] JPEG/RGB Q=30". */
  header: string;
  fields: Record<string, string>;
}

export function parseAperioDescription(description: string): AperioDescription {
  const [header, ...pairs] = description.split('|');
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key) fields[key] = pair.slice(eq + 1).trim();
  }
  return { header: header.trim(), fields };
}

/** "label" / "macro" when the description's second line names one. */
function associatedKind(page: TiffPage): 'label' | 'macro' | undefined {
  const secondLine = page.description.split(/\r?\n/)[1]?.trim() ?? '';
  if (/^label\b/i.test(secondLine)) return 'label';
  if (/^macro\b/i.test(secondLine)) return 'macro';
  return undefined;
}

export async function openSvs(file: TiffFile): Promise<SlideSource> {
  const pages = await file.pages();
  const levels: TiffPage[] = [];
  const associated: { name: string; page: TiffPage }[] = [];
  pages.forEach((page, index) => {
    const kind = associatedKind(page);
    if (kind) associated.push({ name: kind, page });
    else if (page.tiled) levels.push(page);
    else if (index === 1) associated.push({ name: 'thumbnail', page });
  });
  levels.sort((a, b) => b.width - a.width);

  const { header, fields } = parseAperioDescription(pages[0].description);
  const properties: Record<string, string> = { 'aperio.Header': header };
  for (const [key, value] of Object.entries(fields)) properties[`aperio.${key}`] = value;
  const mpp = positiveNumber(fields.MPP);
  return createTiffSource({
    file,
    format: 'svs',
    levels: levels.map((page) => [page]),
    channels: RGB_CHANNELS,
    rgb: true,
    mppX: mpp,
    mppY: mpp,
    objectivePower: positiveNumber(fields.AppMag),
    associated,
    properties,
  });
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
