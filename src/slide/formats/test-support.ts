/**
 * Test helpers: open fixtures lazily (fs.openAsBlob) and compare decodes
 * with the references written by scripts/make_slide_fixtures.py.
 * Node-only; imported by *.test.ts files, never by app code.
 */
import { createHash } from 'node:crypto';
import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { openSlide } from '../open';
import type { PixelArray, PixelBlock, SlideSource } from '../types';

export const FIXTURES = fileURLToPath(new URL('../../../tests/fixtures/slide', import.meta.url));
export const SHARED_DATA = fileURLToPath(new URL('../../../../shared/data', import.meta.url));
export const HAS_SHARED_DATA = existsSync(join(SHARED_DATA, 'CMU-1-Small-Region.svs'));

export interface RegionReference {
  level: number;
  x: number;
  y: number;
  width: number;
  height: number;
  channels: number;
  dtype: string;
  sha256: string;
  means: number[];
  zlib64?: string;
}

export interface FileReference {
  format?: string;
  lossy?: boolean;
  fill?: number;
  mpp?: number;
  objectivePower?: number;
  levels?: [number, number][];
  regions?: RegionReference[];
  channelNames?: string[];
  channelColors?: string[];
  associated?: Record<string, RegionReference>;
  original?: RegionReference;
  contrast?: { level: number; low: number[]; high: number[] };
  [key: string]: unknown;
}

export interface Reference {
  files: Record<string, FileReference>;
  bad: Record<string, string>;
  real: {
    svs: {
      file: string;
      regions: RegionReference[];
      associated: Record<string, { width: number; height: number; means: number[]; crop: RegionReference }>;
    };
    ndpi: { file: string; regions: RegionReference[] };
  };
}

export const reference: Reference = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8'));

export async function openFixture(name: string): Promise<SlideSource> {
  return openSlide(await openAsBlob(join(FIXTURES, name)), name);
}

export async function openShared(name: string): Promise<SlideSource> {
  return openSlide(await openAsBlob(join(SHARED_DATA, name)), name);
}

export function rawBytes(data: PixelArray): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function sha256(data: PixelArray): string {
  return createHash('sha256').update(rawBytes(data)).digest('hex');
}

export function means(block: PixelBlock): number[] {
  const sums = new Array<number>(block.channels).fill(0);
  for (let i = 0; i < block.data.length; i++) sums[i % block.channels] += block.data[i];
  return sums.map((s) => s / (block.width * block.height));
}

/** The reference pixels of a region, when the fixture script stored them. */
export function referencePixels(ref: RegionReference): PixelArray | undefined {
  if (!ref.zlib64) return undefined;
  const bytes = inflateSync(Buffer.from(ref.zlib64, 'base64'));
  const copy = new Uint8Array(bytes).buffer;
  return ref.dtype === 'uint8' ? new Uint8Array(copy) : ref.dtype === 'uint16' ? new Uint16Array(copy) : new Float32Array(copy);
}

export function meanAbsoluteError(a: PixelArray, b: PixelArray): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
  return total / a.length;
}
