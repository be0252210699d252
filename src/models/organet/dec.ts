/**
 * OrgaNet's classification by deep embedded clustering (seed 002, §7.2.3):
 * k-means in the latent space, then the Hungarian algorithm maps clusters to
 * labels. Plain TypeScript on Float32/Float64 arrays (the codes of
 * `encodeAll`); no TensorFlow.js.
 *
 * The mapping is fitted once, on the training set: k-means on the training
 * codes, then the one-to-one cluster → label assignment that agrees with the
 * most training labels. New codes take the label of their nearest centre.
 * (The seed's script re-ran k-means on the test codes and matched them to the
 * test labels, which needs the labels it predicts; fitting on the training
 * set does not.)
 *
 * With more clusters than labels, the clusters left over by the one-to-one
 * assignment take the label most of their training points carry, so every
 * cluster predicts something; with fewer, some labels are never predicted.
 */
import { kmeans } from '../../analysis/kmeans';
import { matchClustersToClasses } from '../../analysis/metrics';
import { checkLabels, checkPoints, type NumericArray, type PointArray } from '../../analysis/points';
import { ORGANET_DEFAULTS } from './architecture';

export interface ClusterLabelMapping {
  /** Label predicted by each cluster 0 … k−1. */
  clusterToLabel: Int32Array;
  /** 1 where the cluster's label comes from the one-to-one assignment, 0 where from its majority. */
  assigned: Uint8Array;
  /** Points whose cluster's assigned (one-to-one) label is their label. */
  agreeing: number;
}

/**
 * The cluster → label mapping of DEC: the one-to-one assignment maximising
 * the number of points whose cluster maps to their own label (Hungarian
 * algorithm on the k × labels contingency table), the leftover clusters
 * mapped to their majority label (ties: the smallest label). Clusters are
 * 0 … k−1; labels any integers. A cluster with no points keeps label −1
 * unless the assignment gives it one.
 */
export function mapClustersToLabels(clusters: NumericArray, labels: NumericArray, k: number): ClusterLabelMapping {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, got ${k}`);
  checkLabels(clusters, clusters.length, 'clusters');
  checkLabels(labels, clusters.length, 'labels');
  for (let i = 0; i < clusters.length; i++) {
    if (clusters[i] < 0 || clusters[i] >= k) throw new RangeError(`cluster ${clusters[i]} at ${i} is outside 0…${k - 1}`);
  }
  const clusterToLabel = new Int32Array(k).fill(-1);
  const assigned = new Uint8Array(k);
  const match = matchClustersToClasses(clusters, labels);
  match.clusterLabels.forEach((cluster, q) => {
    const label = match.classLabels[q];
    if (label === null) return;
    clusterToLabel[cluster] = label;
    assigned[cluster] = 1;
  });
  // Leftover clusters: majority label.
  const counts = new Map<number, Map<number, number>>();
  for (let i = 0; i < clusters.length; i++) {
    if (assigned[clusters[i]]) continue;
    let perLabel = counts.get(clusters[i]);
    if (perLabel === undefined) counts.set(clusters[i], (perLabel = new Map()));
    perLabel.set(labels[i], (perLabel.get(labels[i]) ?? 0) + 1);
  }
  for (const [cluster, perLabel] of counts) {
    let best = -1;
    let bestLabel = 0;
    for (const [label, count] of perLabel) {
      if (count > best || (count === best && label < bestLabel)) {
        best = count;
        bestLabel = label;
      }
    }
    clusterToLabel[cluster] = bestLabel;
  }
  let agreeing = 0;
  for (let i = 0; i < clusters.length; i++) if (assigned[clusters[i]] && clusterToLabel[clusters[i]] === labels[i]) agreeing++;
  return { clusterToLabel, assigned, agreeing };
}

export interface DecModel {
  k: number;
  dims: number;
  /** k × dims cluster centres, row-major. */
  centres: Float64Array;
  clusterToLabel: Int32Array;
  /** Share of the training points whose predicted label is their label. */
  trainingAccuracy: number;
}

export interface FitDecOptions {
  /** Latent length; default latents.length / labels.length. */
  dims?: number;
  /** k-means restarts (20, as the seed's script). */
  nInit?: number;
  seed?: number;
  maxIter?: number;
}

/** Fits DEC on training codes [N × d] (row-major) and their labels. */
export function fitDec(latents: PointArray, labels: NumericArray, k: number, options: FitDecOptions = {}): DecModel {
  if (labels.length === 0) throw new RangeError('fitDec needs at least one training point');
  const dims = options.dims ?? latents.length / labels.length;
  if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`${latents.length} latent values do not split into ${labels.length} codes`);
  const n = checkPoints(latents, dims, 'latents');
  checkLabels(labels, n);
  const clustering = kmeans(latents, dims, {
    k,
    nInit: options.nInit ?? ORGANET_DEFAULTS.decRestarts,
    seed: options.seed ?? 0,
    maxIter: options.maxIter,
  });
  const mapping = mapClustersToLabels(clustering.labels, labels, k);
  let correct = 0;
  for (let i = 0; i < n; i++) if (mapping.clusterToLabel[clustering.labels[i]] === labels[i]) correct++;
  return { k, dims, centres: clustering.centres, clusterToLabel: mapping.clusterToLabel, trainingAccuracy: correct / n };
}

/** Nearest centre of each code [N × d]. */
export function assignClusters(model: DecModel, latents: PointArray): Int32Array {
  const n = checkPoints(latents, model.dims, 'latents');
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < model.k; c++) {
      let distance = 0;
      for (let t = 0; t < model.dims; t++) {
        const diff = latents[i * model.dims + t] - model.centres[c * model.dims + t];
        distance += diff * diff;
      }
      if (distance < bestDistance) {
        bestDistance = distance;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Predicted label of each code [N × d]: the label of its nearest centre. */
export function predictDec(model: DecModel, latents: PointArray): Int32Array {
  const clusters = assignClusters(model, latents);
  return clusters.map((c) => model.clusterToLabel[c]);
}
