/**
 * Naming the clusters of an expression map, and the codes they are found in.
 * Pure (no tensors): the app's main thread names clusters too.
 */
import { clusterRanks } from '../../analysis/exports';
import { CISH_DEFAULTS } from './defaults';

/**
 * Rank of each cluster (0 = lowest expression) by the mean optical density
 * of its tiles' tissue. Replaces the order along the main latent axis
 * (clusterRanks), which has no sign of its own and, on the issue's slides,
 * named half-glass tiles the highest level. An empty cluster ranks last.
 */
export function densityRanks(labels: ArrayLike<number>, densities: ArrayLike<number>, k: number): Int32Array {
  const sums = new Float64Array(k);
  const counts = new Float64Array(k);
  for (let q = 0; q < labels.length; q++) {
    sums[labels[q]] += densities[q];
    counts[labels[q]]++;
  }
  const mean = (j: number) => (counts[j] > 0 ? sums[j] / counts[j] : Infinity);
  const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => mean(a) - mean(b) || a - b);
  const ranks = new Int32Array(k);
  order.forEach((cluster, rank) => (ranks[cluster] = rank));
  return ranks;
}

/**
 * The codes with the code layer's LeakyReLU undone (negative values ÷ α),
 * i.e. the latent layer's pre-activation. FCM clusters these, not the
 * encoder's output: with the seed's α = 0.01 every negative code is squashed
 * 100× towards 0, so on generated slides levels whose codes fell on that side
 * merged into one cluster while the codes still ordered them (variant 07:
 * Spearman 0.98 of its ceiling, ARI 0.48).
 */
export function unsquashCodes(codes: Float32Array, alpha: number = CISH_DEFAULTS.leakyAlpha): Float32Array {
  return codes.map((v) => (v < 0 ? v / alpha : v));
}

/**
 * Rank of each cluster, 0 = "Expression 1": by the mean tissue optical
 * density of its tiles where the encoder measured it (as `analyze` names
 * them), else along the main latent axis (nuclei, classifier features).
 * Without `centres`, they are the memberships-weighted means of the codes.
 */
export function rankClusters(a: {
  latents: Float32Array;
  latentDim: number;
  densities: Float64Array | null;
  labels: Int32Array;
  memberships?: Float32Array | null;
  k: number;
  centres?: ArrayLike<number>;
}): Int32Array {
  const { latents, latentDim: d, k, labels } = a;
  if (a.densities && a.densities.length === labels.length) return densityRanks(labels, a.densities, k);
  let centres = a.centres ? Float64Array.from(a.centres) : undefined;
  if (!centres) {
    centres = new Float64Array(k * d);
    const weights = new Float64Array(k);
    const u = a.memberships;
    for (let i = 0; i < labels.length; i++)
      for (let j = 0; j < k; j++) {
        const w = u ? u[i * k + j] ** 2 : labels[i] === j ? 1 : 0;
        weights[j] += w;
        for (let t = 0; t < d; t++) centres[j * d + t] += w * latents[i * d + t];
      }
    for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) centres[j * d + t] /= weights[j] || 1;
  }
  return clusterRanks(latents, d, centres, k);
}
