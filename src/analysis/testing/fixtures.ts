/**
 * Loads the reference fixtures written by scripts/make_analysis_reference.py
 * (Node only: used by tests).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../../tests/fixtures/analysis/', import.meta.url));

interface ArrayEntry {
  file: string;
  shape: number[];
  dtype: 'float64' | 'uint8';
}

/** The parsed reference.json (shape documented by the generator script). */
export type Reference = Record<string, any> & { arrays: Record<string, ArrayEntry> };

let cached: Reference | null = null;

export function loadReference(): Reference {
  if (!cached) cached = JSON.parse(readFileSync(FIXTURES + 'reference.json', 'utf8')) as Reference;
  return cached;
}

function bytesOf(name: string): { bytes: Buffer; entry: ArrayEntry } {
  const entry = loadReference().arrays[name];
  if (!entry) throw new Error(`no fixture array '${name}'`);
  return { bytes: readFileSync(FIXTURES + entry.file), entry };
}

/** A little-endian float64 fixture array (copied so it is aligned). */
export function loadFloat64(name: string): Float64Array {
  const { bytes, entry } = bytesOf(name);
  if (entry.dtype !== 'float64') throw new Error(`fixture '${name}' is ${entry.dtype}`);
  const out = new Float64Array(bytes.byteLength / 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

export function loadUint8(name: string): Uint8Array {
  const { bytes } = bytesOf(name);
  return new Uint8Array(bytes);
}

export function shapeOf(name: string): number[] {
  return loadReference().arrays[name].shape;
}
