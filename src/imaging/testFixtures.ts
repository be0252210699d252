/**
 * Test-only helpers (Node: reads files). Loads the references written by
 * scripts/make_imaging_reference.py from tests/fixtures/imaging/.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Image, Mask } from './image';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures/imaging');

export interface RleMask {
  width: number;
  height: number;
  /** Alternating run lengths over row-major pixels, starting with zeros. */
  runs: number[];
}

interface ImageEntry {
  file: string;
  width: number;
  height: number;
  dtype: 'uint8' | 'float32';
  channels?: number;
}

/** Shape of reference.json (only the parts the tests read are typed loosely). */
export interface Reference {
  images: Record<string, ImageEntry>;
  [section: string]: any;
}

let cached: Reference | undefined;

export function reference(): Reference {
  cached ??= JSON.parse(readFileSync(resolve(FIXTURES, 'reference.json'), 'utf8')) as Reference;
  return cached;
}

/** A stored image: Uint8Array for *.u8.gz, Float32Array for *.f32.gz. */
export function fixtureImage(name: string): Image & { channels: number } {
  const entry = reference().images[name];
  if (!entry) throw new Error(`no fixture image ${name}`);
  const bytes = gunzipSync(readFileSync(resolve(FIXTURES, entry.file)));
  const channels = entry.channels ?? 1;
  const data =
    entry.dtype === 'uint8'
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice()
      : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (data.length !== entry.width * entry.height * channels) throw new Error(`fixture ${name}: bad length`);
  return { data, width: entry.width, height: entry.height, channels };
}

export function decodeRle(rle: RleMask): Mask {
  const data = new Uint8Array(rle.width * rle.height);
  let at = 0;
  rle.runs.forEach((run, i) => {
    if (i % 2 === 1) data.fill(1, at, at + run);
    at += run;
  });
  if (at !== data.length) throw new Error('RLE does not cover the mask');
  return { data, width: rle.width, height: rle.height };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Number of positions where the two arrays differ. */
export function countDifferent(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Intersection over union of two masks (1 when both are empty). */
export function iou(a: Mask, b: Mask): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i] !== 0;
    const y = b.data[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}
