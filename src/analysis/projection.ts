/**
 * 2-D projections of latent codes for the scatter: the first two principal
 * components (exact, linear, instant) or UMAP (umap-js; non-linear, keeps
 * neighbourhoods, seconds to minutes; umap.ts, which only workers load).
 * Both return x, y per item in the items' order.
 */
import { pca } from './pca';

export type ProjectionMethod = 'pca' | 'umap';

export interface Projection {
  /** x, y per item. */
  xy: Float32Array;
  axes: [string, string];
  method: ProjectionMethod;
}

/**
 * Above this many items UMAP's neighbour search and layout take minutes and
 * gigabytes in a browser tab; such sets are projected with PCA instead.
 */
export const UMAP_MAX_ITEMS = 50_000;

/**
 * The codes themselves for dim = 2, the first two principal components for
 * dim > 2, the code against 0 for dim = 1.
 */
export function pcaProjection(latents: Float32Array, dim: number): Projection {
  const n = Math.floor(latents.length / dim);
  const xy = new Float32Array(2 * n);
  if (dim === 2) {
    xy.set(latents.subarray(0, 2 * n));
    return { xy, axes: ['latent 0', 'latent 1'], method: 'pca' };
  }
  if (dim === 1 || n < 3) {
    for (let i = 0; i < n; i++) {
      xy[2 * i] = latents[i * dim];
      xy[2 * i + 1] = dim > 1 ? latents[i * dim + 1] : 0;
    }
    return { xy, axes: ['latent 0', dim > 1 ? 'latent 1' : ''], method: 'pca' };
  }
  const projected = pca(latents, dim, { components: 2 }).projected;
  for (let i = 0; i < 2 * n; i++) xy[i] = projected[i];
  return { xy, axes: ['PC 1', 'PC 2'], method: 'pca' };
}
