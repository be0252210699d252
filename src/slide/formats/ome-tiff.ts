/**
 * OME-TIFF: the first ImageDescription holds OME-XML describing the image
 * (sizes, pixel type, physical pixel size, channels) and where each image
 * plane lives (TiffData → IFD). We read the first <Image>, take the planes
 * at Z = 0, T = 0 (one page per channel, or one RGB page), and use their
 * SubIFDs (tag 330) as pyramid levels, as Bio-Formats and tifffile write them.
 */
import { SlideError, type ChannelInfo, type SlideSource } from '../types';
import { childrenNamed, findElement, parseXml, type XmlElement } from './ome-xml';
import type { TiffFile, TiffPage } from './tiff';
import { RGB_CHANNELS, createTiffSource, defaultChannels } from './tiff-source';

export function looksLikeOmeXml(description: string): boolean {
  return /<(\w+:)?OME[\s>]/.test(description);
}

export interface OmeImage {
  name?: string;
  sizeX: number;
  sizeY: number;
  sizeZ: number;
  sizeT: number;
  /** Channels as OME lists them (an RGB image is one channel of 3 samples). */
  channels: { name?: string; color?: string; samplesPerPixel: number }[];
  type: string;
  /** Micrometres per pixel. */
  physicalSizeX?: number;
  physicalSizeY?: number;
  objectivePower?: number;
  dimensionOrder: string;
  /** Plane index (in DimensionOrder) → IFD index. */
  planeToIfd: (plane: number) => number;
  planeIndex: (c: number, z: number, t: number) => number;
  imageCount: number;
  pixelsAttributes: Record<string, string>;
}

const MICRONS_PER_UNIT: Record<string, number> = {
  m: 1e6,
  cm: 1e4,
  mm: 1e3,
  '\u00b5m': 1, // micro sign
  '\u03bcm': 1, // Greek mu
  um: 1,
  nm: 1e-3,
  pm: 1e-6,
  '\u00c5': 1e-4, // Å
  '\u212b': 1e-4, // Ångström sign
};

/** OME colours are signed 32-bit RGBA integers. */
export function omeColorToHex(value: string | undefined): string | undefined {
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return undefined;
  const rgba = Number(value) >>> 0;
  return `#${(rgba >>> 8).toString(16).padStart(6, '0')}`;
}

function physicalSize(value: string | undefined, unit: string | undefined): number | undefined {
  const size = Number(value);
  if (value === undefined || !Number.isFinite(size) || size <= 0) return undefined;
  const factor = MICRONS_PER_UNIT[unit ?? 'um'];
  return factor === undefined ? undefined : size * factor;
}

export function parseOmeXml(xml: string): OmeImage | undefined {
  const root = parseXml(xml);
  const ome = findElement(root, 'OME');
  const images = ome ? childrenNamed(ome, 'Image') : [];
  const image = images[0];
  const pixels = image && findElement(image, 'Pixels');
  if (!ome || !image || !pixels) return undefined;
  const a = pixels.attributes;
  const int = (key: string, fallback: number) => {
    const value = Number(a[key]);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const channelElements = childrenNamed(pixels, 'Channel');
  const channels: OmeImage['channels'] = channelElements.map((c) => ({
    name: c.attributes.Name,
    color: omeColorToHex(c.attributes.Color),
    samplesPerPixel: Math.max(1, Number(c.attributes.SamplesPerPixel) || 1),
  }));
  const sizeC = int('SizeC', 1);
  if (channels.length === 0) {
    for (let c = 0; c < sizeC; c++) channels.push({ name: undefined, color: undefined, samplesPerPixel: 1 });
  }
  const sizeZ = int('SizeZ', 1);
  const sizeT = int('SizeT', 1);
  const dimensionOrder = /^XY[CZT]{3}$/.test(a.DimensionOrder ?? '') ? a.DimensionOrder : 'XYCZT';
  const sizes: Record<string, number> = { C: channels.length, Z: sizeZ, T: sizeT };
  const planeIndex = (c: number, z: number, t: number): number => {
    const position: Record<string, number> = { C: c, Z: z, T: t };
    let index = 0;
    let stride = 1;
    for (const dim of dimensionOrder.slice(2)) {
      index += position[dim] * stride;
      stride *= sizes[dim];
    }
    return index;
  };
  const planeToIfd = tiffDataMap(childrenNamed(pixels, 'TiffData'), planeIndex, channels.length * sizeZ * sizeT);

  return {
    name: image.attributes.Name,
    sizeX: int('SizeX', 0),
    sizeY: int('SizeY', 0),
    sizeZ,
    sizeT,
    channels,
    type: a.Type ?? '',
    physicalSizeX: physicalSize(a.PhysicalSizeX, a.PhysicalSizeXUnit),
    physicalSizeY: physicalSize(a.PhysicalSizeY, a.PhysicalSizeYUnit),
    objectivePower: objectiveMagnification(ome, image),
    dimensionOrder,
    planeToIfd,
    planeIndex,
    imageCount: images.length,
    pixelsAttributes: { ...a },
  };
}

/**
 * TiffData blocks map runs of planes to runs of IFDs. Without attributes a
 * block covers all planes from IFD 0; with an IFD but no PlaneCount it covers
 * one plane. No TiffData at all means plane i is IFD i.
 */
function tiffDataMap(
  blocks: XmlElement[],
  planeIndex: (c: number, z: number, t: number) => number,
  planeCount: number,
): (plane: number) => number {
  if (blocks.length === 0) return (plane) => plane;
  const map = new Map<number, number>();
  for (const block of blocks) {
    const b = block.attributes;
    const ifd = Number(b.IFD ?? 0);
    const first = planeIndex(Number(b.FirstC ?? 0), Number(b.FirstZ ?? 0), Number(b.FirstT ?? 0));
    const count = b.PlaneCount !== undefined ? Number(b.PlaneCount) : b.IFD !== undefined ? 1 : planeCount - first;
    for (let k = 0; k < Math.min(count, planeCount); k++) {
      if (!map.has(first + k)) map.set(first + k, ifd + k);
    }
  }
  return (plane) => map.get(plane) ?? -1;
}

function objectiveMagnification(ome: XmlElement, image: XmlElement): number | undefined {
  const objectives: XmlElement[] = [];
  for (const instrument of childrenNamed(ome, 'Instrument')) objectives.push(...childrenNamed(instrument, 'Objective'));
  const wanted = findElement(image, 'ObjectiveSettings')?.attributes.ID;
  const objective = objectives.find((o) => o.attributes.ID === wanted) ?? objectives[0];
  const value = Number(objective?.attributes.NominalMagnification);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Returns undefined when the description is not usable OME-XML (the caller then reads the file as generic TIFF). */
export async function openOmeTiff(file: TiffFile): Promise<SlideSource | undefined> {
  const first = await file.page(0);
  const ome = first && parseOmeXml(first.description);
  if (!ome) return undefined;

  // One page per channel, or one page that holds every channel as samples.
  const totalSamples = ome.channels.reduce((sum, c) => sum + c.samplesPerPixel, 0);
  const channelPages: TiffPage[] = [];
  for (let c = 0; c < ome.channels.length; c++) {
    const ifd = ome.planeToIfd(ome.planeIndex(c, 0, 0));
    const page = ifd >= 0 ? await file.page(ifd) : undefined;
    if (c === 0 && page && page.samplesPerPixel === totalSamples) {
      channelPages.push(page);
      break;
    }
    if (!page) {
      throw new SlideError(
        file.name,
        `OME-XML puts channel ${c} in IFD ${ifd}, which is not in this file (multi-file OME-TIFF is not supported)`,
      );
    }
    channelPages.push(page);
  }
  const subLevels = await Promise.all(channelPages.map((page) => file.subPages(page)));
  const levelCount = 1 + Math.min(...subLevels.map((levels) => levels.length));
  const levels: TiffPage[][] = [channelPages];
  for (let k = 0; k < levelCount - 1; k++) levels.push(subLevels.map((levels) => levels[k]));
  levels.sort((x, y) => y[0].width - x[0].width);

  const rgb = ome.channels.length === 1 && totalSamples === 3 && channelPages[0].photometric === 2;
  const defaults = defaultChannels(totalSamples);
  const channels: ChannelInfo[] = rgb
    ? RGB_CHANNELS
    : ome.channels.flatMap((c, i) =>
        Array.from({ length: c.samplesPerPixel }, (_, k) => {
          const base = c.name || `Channel ${i}`;
          return {
            name: c.samplesPerPixel > 1 ? `${base} ${k}` : c.name || defaults[i].name,
            color: c.samplesPerPixel > 1 ? defaults[(i + k) % defaults.length].color : (c.color ?? defaults[i].color),
          };
        }),
      );

  const properties: Record<string, string> = {};
  if (ome.name) properties['ome.Image.Name'] = ome.name;
  for (const [key, value] of Object.entries(ome.pixelsAttributes)) properties[`ome.Pixels.${key}`] = value;
  ome.channels.forEach((c, i) => {
    if (c.name) properties[`ome.Channel.${i}.Name`] = c.name;
  });
  if (ome.objectivePower) properties['ome.Objective.NominalMagnification'] = String(ome.objectivePower);
  if (ome.imageCount > 1) properties['ome.ImageCount'] = String(ome.imageCount);

  return createTiffSource({
    file,
    format: 'ome-tiff',
    levels,
    channels,
    rgb,
    mppX: ome.physicalSizeX,
    mppY: ome.physicalSizeY ?? ome.physicalSizeX,
    objectivePower: ome.objectivePower,
    properties,
  });
}
