import { describe, expect, it } from 'vitest';
import { Random } from '../../util/random';
import { fitDec, mapClustersToLabels, predictDec } from './dec';

/** Best agreement over every one-to-one map between clusters 0…k−1 and labels 0…L−1 (brute force). */
function bruteForceAgreement(clusters: Int32Array, labels: Int32Array, k: number, labelCount: number): number {
  const table = Array.from({ length: k }, () => new Array<number>(labelCount).fill(0));
  clusters.forEach((c, i) => table[c][labels[i]]++);
  let best = 0;
  // Injective maps from clusters to labels, or labels to clusters, whichever side is smaller.
  const small = Math.min(k, labelCount);
  const large = Math.max(k, labelCount);
  const used = new Array<boolean>(large).fill(false);
  const walk = (row: number, total: number) => {
    if (row === small) {
      best = Math.max(best, total);
      return;
    }
    for (let col = 0; col < large; col++) {
      if (used[col]) continue;
      used[col] = true;
      walk(row + 1, total + (k <= labelCount ? table[row][col] : table[col][row]));
      used[col] = false;
    }
  };
  walk(0, 0);
  return best;
}

function randomCase(rng: Random, n: number, k: number, labelCount: number): { clusters: Int32Array; labels: Int32Array } {
  const clusters = new Int32Array(n);
  const labels = new Int32Array(n);
  // Clusters loosely follow a hidden permutation of the labels, so the best map is not trivial.
  const hidden = rng.sample(Math.max(k, labelCount), Math.max(k, labelCount));
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(labelCount);
    clusters[i] = rng.uniform() < 0.6 ? hidden[labels[i]] % k : rng.int(k);
  }
  return { clusters, labels };
}

describe('DEC cluster → label mapping', () => {
  it('agrees with brute force over all one-to-one maps (k, labels ≤ 6, square and rectangular)', () => {
    const rng = new Random(42);
    let cases = 0;
    for (let k = 1; k <= 6; k++) {
      for (let labelCount = 1; labelCount <= 6; labelCount++) {
        for (let repeat = 0; repeat < 3; repeat++) {
          const { clusters, labels } = randomCase(rng, 40, k, labelCount);
          const mapping = mapClustersToLabels(clusters, labels, k);
          expect(mapping.agreeing).toBe(bruteForceAgreement(clusters, labels, k, labelCount));
          // One-to-one on the assigned clusters, and as many as the smaller side (clusters that occur).
          const assignedLabels = Array.from(mapping.clusterToLabel).filter((_, c) => mapping.assigned[c]);
          expect(new Set(assignedLabels).size).toBe(assignedLabels.length);
          const occurring = new Set(clusters).size;
          expect(assignedLabels.length).toBe(Math.min(occurring, new Set(labels).size));
          // The agreement it reports is the agreement of its map.
          let agreeing = 0;
          clusters.forEach((c, i) => (agreeing += mapping.assigned[c] && mapping.clusterToLabel[c] === labels[i] ? 1 : 0));
          expect(agreeing).toBe(mapping.agreeing);
          cases++;
        }
      }
    }
    expect(cases).toBe(108);
  });

  it('gives leftover clusters (more clusters than labels) their majority label', () => {
    const clusters = Int32Array.from([0, 0, 1, 1, 2, 2, 2, 3, 3]);
    const labels = Int32Array.from([5, 5, 7, 7, 7, 5, 5, 7, 5]);
    const mapping = mapClustersToLabels(clusters, labels, 4);
    expect(mapping.agreeing).toBe(4); // clusters 0 → 5 and 1 → 7
    expect(Array.from(mapping.clusterToLabel)).toEqual([5, 7, 5, 5]); // 2: majority 5; 3: tie → smaller label
    expect(Array.from(mapping.assigned)).toEqual([1, 1, 0, 0]);
  });

  it('rejects clusters outside 0…k−1 and mismatched lengths', () => {
    expect(() => mapClustersToLabels([0, 3], [1, 1], 3)).toThrow(RangeError);
    expect(() => mapClustersToLabels([0, 1], [1], 2)).toThrow(RangeError);
  });
});

describe('DEC fit and predict', () => {
  /** Gaussian blobs in `dims` dimensions, one per label; labels are arbitrary integers. */
  function blobs(rng: Random, perLabel: number, dims: number, labelValues: number[]): { latents: Float32Array; labels: Int32Array } {
    const centres = labelValues.map(() => Array.from({ length: dims }, () => rng.uniform() * 20 - 10));
    const latents = new Float32Array(perLabel * labelValues.length * dims);
    const labels = new Int32Array(perLabel * labelValues.length);
    let row = 0;
    for (let rep = 0; rep < perLabel; rep++) {
      labelValues.forEach((label, q) => {
        for (let t = 0; t < dims; t++) latents[row * dims + t] = centres[q][t] + (rng.uniform() - 0.5);
        labels[row++] = label;
      });
    }
    return { latents, labels };
  }

  it('recovers separated classes on training codes and labels new codes by the nearest centre', () => {
    const rng = new Random(7);
    const labelValues = [3, 0, 9, 4, 1];
    const train = blobs(rng, 30, 10, labelValues);
    const model = fitDec(train.latents, train.labels, 5, { seed: 1 });
    expect(model.dims).toBe(10);
    expect(model.trainingAccuracy).toBe(1);
    expect(new Set(model.clusterToLabel)).toEqual(new Set(labelValues));
    // New codes: one near each class's training mean.
    const test = new Float32Array(labelValues.length * 10);
    labelValues.forEach((label, q) => {
      for (let t = 0; t < 10; t++) {
        let mean = 0;
        let count = 0;
        train.labels.forEach((l, i) => {
          if (l === label) {
            mean += train.latents[i * 10 + t];
            count++;
          }
        });
        test[q * 10 + t] = mean / count + 0.2;
      }
    });
    expect(Array.from(predictDec(model, test))).toEqual(labelValues);
  });

  it('checks its inputs', () => {
    expect(() => fitDec(new Float32Array(7), [0, 1], 2)).toThrow(RangeError);
    expect(() => fitDec(new Float32Array(0), [], 2)).toThrow(RangeError);
    const model = fitDec(Float32Array.from([0, 0, 1, 1, 10, 10, 11, 11]), [0, 0, 1, 1], 2, { dims: 2 });
    expect(() => predictDec(model, new Float32Array(3))).toThrow(RangeError);
  });
});
