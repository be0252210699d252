/**
 * Batches of model inputs read straight from a SlideSource over a TileGrid,
 * inside the worker that trains or encodes: pixels never visit the main thread.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PixelBlock, SlideSource } from '../slide/types';
import { tileRegion, type TileGrid } from '../tiling/tile-grid';
import { Random, type Seed } from '../util/random';
import type { Batch, BatchProvider } from './train';

/** Turns one tile's pixels into a model input of `inputSize`² × `inputChannels` values. */
export interface TileInputSpec {
  inputSize: number;
  inputChannels: number;
  prepare: (block: PixelBlock) => Float32Array;
}

/** Reads and prepares the given tiles concurrently, packed into one Float32Array [B, S, S, C]. */
export async function readTileInputs(
  source: SlideSource,
  grid: TileGrid,
  indices: ArrayLike<number>,
  spec: TileInputSpec,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const stride = spec.inputSize * spec.inputSize * spec.inputChannels;
  const out = new Float32Array(indices.length * stride);
  await Promise.all(
    Array.from({ length: indices.length }, async (_, b) => {
      const block = await source.readRegion(tileRegion(grid, indices[b]), signal);
      const input = spec.prepare(block);
      if (input.length !== stride) throw new Error(`tile input has ${input.length} values, expected ${stride}`);
      out.set(input, b * stride);
    }),
  );
  return out;
}

function toBatch(values: Float32Array, count: number, spec: TileInputSpec): Batch {
  return { xs: tf.tensor4d(values, [count, spec.inputSize, spec.inputSize, spec.inputChannels]) };
}

/**
 * Training batches: the tiles are shuffled afresh each epoch (seeded), and
 * the last partial batch is kept so every tile is seen once per epoch.
 * Prepared inputs are kept in memory up to `cacheBytes` (default 512 MiB):
 * training revisits the same tiles every epoch, and decoding them again
 * would cost more than the training step itself on a CPU.
 */
export function tileBatchProvider(
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  spec: TileInputSpec,
  options: { batchSize: number; seed: Seed; cacheBytes?: number },
): BatchProvider {
  const { batchSize } = options;
  const tileValues = spec.inputSize * spec.inputSize * spec.inputChannels;
  const cacheable = indices.length * tileValues * 4 <= (options.cacheBytes ?? 512 * 1024 * 1024);
  const cache = new Map<number, Float32Array>();
  const readBatch = async (picked: Uint32Array, signal?: AbortSignal): Promise<Float32Array> => {
    if (!cacheable) return readTileInputs(source, grid, picked, spec, signal);
    const missing = Uint32Array.from(Array.from(picked).filter((i) => !cache.has(i)));
    if (missing.length > 0) {
      const values = await readTileInputs(source, grid, missing, spec, signal);
      missing.forEach((tile, b) => cache.set(tile, values.slice(b * tileValues, (b + 1) * tileValues)));
    }
    const out = new Float32Array(picked.length * tileValues);
    picked.forEach((tile, b) => out.set(cache.get(tile)!, b * tileValues));
    return out;
  };
  if (indices.length === 0) throw new Error('no tiles to train on');
  const stepsPerEpoch = Math.ceil(indices.length / batchSize);
  let orderEpoch = -1;
  let order = indices;
  return {
    stepsPerEpoch,
    async getBatch(epoch, step, signal) {
      if (epoch !== orderEpoch) {
        order = indices.slice();
        new Random(`${options.seed}:${epoch}`).shuffle(order);
        orderEpoch = epoch;
      }
      const picked = order.subarray(step * batchSize, Math.min(order.length, (step + 1) * batchSize));
      return toBatch(await readBatch(picked, signal), picked.length, spec);
    },
  };
}

/** Inference batches in index order, reading the next batch while the current one runs. */
export async function* tileBatches(
  source: SlideSource,
  grid: TileGrid,
  indices: Uint32Array,
  spec: TileInputSpec,
  options: { batchSize: number; signal?: AbortSignal },
): AsyncGenerator<Batch> {
  const { batchSize, signal } = options;
  const read = (start: number) => {
    const picked = indices.subarray(start, Math.min(indices.length, start + batchSize));
    return readTileInputs(source, grid, picked, spec, signal).then((values) => ({ values, count: picked.length }));
  };
  let next = indices.length > 0 ? read(0) : null;
  for (let start = 0; next; start += batchSize) {
    const current = await next;
    next = start + batchSize < indices.length ? read(start + batchSize) : null;
    // A rejected read-ahead must not become an unhandled rejection when we stop early.
    next?.catch(() => undefined);
    yield toBatch(current.values, current.count, spec);
  }
}
