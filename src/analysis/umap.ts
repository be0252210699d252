/**
 * UMAP (umap-js) of latent codes to 2-D, for wider codes in the scatter. Its
 * epochs run in slices so that a worker can report progress and take a cancel
 * between them. Kept apart from projection.ts so the page never loads umap-js.
 */
import { UMAP } from 'umap-js';
import { Random, type Seed } from '../util/random';
import { UMAP_MAX_ITEMS, type Projection } from './projection';

export interface UmapOptions {
  seed?: Seed;
  /** Neighbourhood size (umap-learn's n_neighbors); default 15. */
  nNeighbors?: number;
  /** How tightly points may pack (min_dist); default 0.1. */
  minDist?: number;
  /** Optimisation epochs; default umap-js's choice (500 for small sets, 200 for large). */
  nEpochs?: number;
  /** Called with (epochs done, epochs in all) after each slice. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between slices; throwing from it (e.g. an AbortError) stops the fit. */
  checkCancelled?: () => void;
  /** Awaited between slices so that messages (cancel) can arrive. */
  yieldBetweenSlices?: () => Promise<void>;
}

export function validateUmapOptions(n: number, options: UmapOptions): void {
  const { nNeighbors = 15, minDist = 0.1, nEpochs } = options;
  if (n > UMAP_MAX_ITEMS) throw new RangeError(`UMAP is limited to ${UMAP_MAX_ITEMS.toLocaleString('en')} items here; these are ${n.toLocaleString('en')} (use PCA)`);
  if (!(Number.isInteger(nNeighbors) && nNeighbors >= 2)) throw new RangeError(`UMAP neighbours must be a whole number ≥ 2, got ${nNeighbors}`);
  if (n <= nNeighbors) throw new RangeError(`UMAP needs more items (${n}) than neighbours (${nNeighbors})`);
  if (!(minDist >= 0 && minDist <= 1)) throw new RangeError(`UMAP min_dist must lie in [0, 1], got ${minDist}`);
  if (nEpochs !== undefined && !(Number.isInteger(nEpochs) && nEpochs >= 1)) throw new RangeError(`UMAP epochs must be a whole number ≥ 1, got ${nEpochs}`);
}

/** UMAP of `latents` (n × dim, row-major) to 2-D. Seeded: the same input and seed give the same layout. */
export async function umapProjection(latents: Float32Array, dim: number, options: UmapOptions = {}): Promise<Projection> {
  const n = Math.floor(latents.length / dim);
  validateUmapOptions(n, options);
  const rng = new Random(options.seed ?? 0);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: options.nNeighbors ?? 15,
    minDist: options.minDist ?? 0.1,
    nEpochs: options.nEpochs,
    random: () => rng.uniform(),
  });
  const rows: number[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(latents.subarray(i * dim, (i + 1) * dim));
  options.checkCancelled?.();
  const total = umap.initializeFit(rows);
  options.onProgress?.(0, total);
  // ~1 % of the epochs per slice: frequent enough for progress, rare enough to cost nothing.
  const slice = Math.max(1, Math.ceil(total / 100));
  for (let done = 0; done < total; ) {
    await options.yieldBetweenSlices?.();
    options.checkCancelled?.();
    for (let s = 0; s < slice && done < total; s++) done = umap.step();
    options.onProgress?.(done, total);
  }
  const embedding = umap.getEmbedding();
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    xy[2 * i] = embedding[i][0];
    xy[2 * i + 1] = embedding[i][1];
  }
  return { xy, axes: ['UMAP 1', 'UMAP 2'], method: 'umap' };
}

