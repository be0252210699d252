import { describe, expect, it } from 'vitest';
import { matchDetections, pointsInRects } from './detection-metrics';
import { Random } from '../util/random';

/** matchDetections on [x, y] pairs. */
function match(detections: [number, number][], truth: [number, number][], radius?: number) {
  return matchDetections(
    detections.map((p) => p[0]),
    detections.map((p) => p[1]),
    truth.map((p) => p[0]),
    truth.map((p) => p[1]),
    radius,
  );
}

function counts(r: ReturnType<typeof matchDetections>) {
  return { tp: r.truePositives, fp: r.falsePositives, fn: r.falseNegatives, matched: Array.from(r.matchedDetection) };
}

/**
 * The rule written the slow, direct way: all pairs, per detection the list
 * of nuclei for which it is the nearest detection within the radius.
 */
function bruteForce(dx: Float64Array, dy: Float64Array, tx: Float64Array, ty: Float64Array, radius: number) {
  const pickedBy: number[][] = Array.from({ length: dx.length }, () => []);
  const distance2 = (j: number, t: number) => (dx[j] - tx[t]) ** 2 + (dy[j] - ty[t]) ** 2;
  for (let t = 0; t < tx.length; t++) {
    let best = -1;
    for (let j = 0; j < dx.length; j++) {
      const d = distance2(j, t);
      if (d > radius * radius) continue;
      if (best < 0 || d < distance2(best, t)) best = j; // j ascending: ties keep the lower index
    }
    if (best >= 0) pickedBy[best].push(t);
  }
  const matched = new Array<number>(tx.length).fill(-1);
  let tp = 0;
  pickedBy.forEach((nuclei, j) => {
    if (nuclei.length === 0) return;
    tp++;
    const closest = nuclei.reduce((a, b) => (distance2(j, b) < distance2(j, a) ? b : a));
    matched[closest] = j;
  });
  return { tp, fp: dx.length - tp, fn: tx.length - tp, matched };
}

describe('matchDetections: the rule, clause by clause', () => {
  it('a detection within 6 px of a nucleus is a true positive (inclusive), beyond it a false positive + a false negative', () => {
    expect(counts(match([[13, 10]], [[10, 14]]))).toEqual({ tp: 1, fp: 0, fn: 0, matched: [0] }); // 5 px
    expect(counts(match([[16, 10]], [[10, 10]]))).toEqual({ tp: 1, fp: 0, fn: 0, matched: [0] }); // exactly 6 px
    expect(counts(match([[16.01, 10]], [[10, 10]]))).toEqual({ tp: 0, fp: 1, fn: 1, matched: [-1] });
    expect(counts(match([[16.01, 10]], [[10, 10]], 7))).toEqual({ tp: 1, fp: 0, fn: 0, matched: [0] });
  });

  it('two detections near one nucleus: the nearer is the true positive, the other a false positive', () => {
    const r = match([[14, 10], [11, 11]], [[10, 10]]);
    expect(counts(r)).toEqual({ tp: 1, fp: 1, fn: 0, matched: [1] });
    expect([r.precision, r.recall]).toEqual([0.5, 1]);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
    // Equal distances: the lower detection index wins.
    expect(counts(match([[13, 10], [7, 10]], [[10, 10]])).matched).toEqual([0]);
  });

  it('one detection between two nuclei counts once: the nearer nucleus gets it, the other is missed', () => {
    const r = match([[14, 10]], [[10, 10], [19, 10]]); // 4 px and 5 px away
    expect(counts(r)).toEqual({ tp: 1, fp: 0, fn: 1, matched: [0, -1] });
    expect([r.precision, r.recall]).toEqual([1, 0.5]);
    // Reversed order of the nuclei: still the nearer one.
    expect(counts(match([[14, 10]], [[19, 10], [10, 10]])).matched).toEqual([-1, 0]);
    // Exactly halfway: the lower nucleus index.
    expect(counts(match([[15, 10]], [[20, 10], [10, 10]])).matched).toEqual([0, -1]);
  });

  it('only the nearest detection counts: a missed nucleus does not fall back on its second-nearest', () => {
    // Nuclei A (10,10) and B (18,10); D0 (14.5,10) is nearest to both; D1 (22,12) is 4.5 px from B
    // but farther than D0, so it is "another detection within 6 px" of B: a false positive.
    const r = match([[14.5, 10], [22, 12]], [[10, 10], [18, 10]]);
    expect(counts(r)).toEqual({ tp: 1, fp: 1, fn: 1, matched: [-1, 0] });
  });

  it('a detection that is not one nucleus’s nearest can still be another nucleus’s nearest', () => {
    // D1 is 5 px from A (not A's nearest: D0 is) and 5 px from B (B's nearest): both detections count.
    const r = match([[11, 10], [15, 10]], [[10, 10], [20, 10]]);
    expect(counts(r)).toEqual({ tp: 2, fp: 0, fn: 0, matched: [0, 1] });
    expect(r.f1).toBe(1);
  });

  it('empty inputs: 0/0 ratios are 1', () => {
    const none = match([], []);
    expect(counts(none)).toEqual({ tp: 0, fp: 0, fn: 0, matched: [] });
    expect([none.precision, none.recall, none.f1]).toEqual([1, 1, 1]);
    const missedAll = match([], [[1, 1], [50, 50]]);
    expect(counts(missedAll)).toEqual({ tp: 0, fp: 0, fn: 2, matched: [-1, -1] });
    expect([missedAll.precision, missedAll.recall, missedAll.f1]).toEqual([1, 0, 0]);
    const noTruth = match([[1, 1]], []);
    expect(counts(noTruth)).toEqual({ tp: 0, fp: 1, fn: 0, matched: [] });
    expect([noTruth.precision, noTruth.recall, noTruth.f1]).toEqual([0, 1, 0]);
  });

  it('rejects mismatched lengths, non-finite points and bad radii', () => {
    expect(() => matchDetections([1, 2], [1], [], [])).toThrow(/detections have 2 x but 1 y/);
    expect(() => matchDetections([1], [1], [NaN], [2])).toThrow(/ground truth point 0/);
    expect(() => match([[1, 1]], [[1, 1]], 0)).toThrow(/radius/);
  });
});

describe('matchDetections against a brute-force implementation', () => {
  it('agrees on random layouts, including ties, crowded nuclei and negative coordinates', () => {
    const random = new Random(20240917);
    for (let round = 0; round < 40; round++) {
      const nDet = random.int(400);
      const nTruth = random.int(400);
      const extent = 50 + random.int(400);
      // Integer coordinates in half the rounds: many equal distances and points exactly 6 px apart.
      const integer = round % 2 === 0;
      const coordinate = () => {
        const v = random.uniformRange(-extent / 4, extent);
        return integer ? Math.round(v) : v;
      };
      const tx = Float64Array.from({ length: nTruth }, coordinate);
      const ty = Float64Array.from({ length: nTruth }, coordinate);
      // Detections partly jittered copies of nuclei (realistic), partly anywhere.
      const dx = new Float64Array(nDet);
      const dy = new Float64Array(nDet);
      for (let j = 0; j < nDet; j++) {
        if (nTruth > 0 && random.uniform() < 0.7) {
          const t = random.int(nTruth);
          const jitterX = random.normal(0, 3);
          const jitterY = random.normal(0, 3);
          dx[j] = integer ? Math.round(tx[t] + jitterX) : tx[t] + jitterX;
          dy[j] = integer ? Math.round(ty[t] + jitterY) : ty[t] + jitterY;
        } else {
          dx[j] = coordinate();
          dy[j] = coordinate();
        }
      }
      const radius = round % 5 === 0 ? 6 : 2 + random.uniform() * 10;
      const fast = matchDetections(dx, dy, tx, ty, radius);
      const slow = bruteForce(dx, dy, tx, ty, radius);
      expect(counts(fast), `round ${round}`).toEqual(slow);
    }
  });

  it('scores 100k detections against 100k nuclei quickly', () => {
    const random = new Random(7);
    const n = 100_000;
    const side = 5000; // one nucleus per 250 px², about the density of cellular tissue
    const tx = new Float64Array(n);
    const ty = new Float64Array(n);
    const dx = new Float32Array(n);
    const dy = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      tx[i] = random.uniform() * side;
      ty[i] = random.uniform() * side;
    }
    for (let i = 0; i < n; i++) {
      const t = random.int(n);
      dx[i] = tx[t] + random.normal(0, 3);
      dy[i] = ty[t] + random.normal(0, 3);
    }
    const started = performance.now();
    const r = matchDetections(dx, dy, tx, ty);
    const ms = performance.now() - started;
    console.log(`matchDetections 100k × 100k: ${ms.toFixed(1)} ms (TP ${r.truePositives}, F1 ${r.f1.toFixed(3)})`);
    expect(r.truePositives + r.falsePositives).toBe(n);
    expect(r.truePositives + r.falseNegatives).toBe(n);
    expect(ms).toBeLessThan(1000);
  });
});

describe('pointsInRects', () => {
  it('keeps exactly the points a brute-force test keeps (half-open rectangles, a lattice with gaps and a stray rectangle)', () => {
    const random = new Random(5);
    const rects: number[] = [];
    for (let row = 0; row < 8; row++)
      for (let col = 0; col < 9; col++) if (random.uniform() < 0.6) rects.push(col * 50, row * 50, 50, 50);
    rects.push(123.5, 77.25, 20, 10);
    const n = 5000;
    const xs = Float64Array.from({ length: n }, () => Math.floor(random.uniform() * 500) - 25);
    const ys = Float64Array.from({ length: n }, () => Math.floor(random.uniform() * 450) - 25);
    // Points on the edges are common with integer coordinates: the half-open rule matters.
    const expected: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < rects.length / 4; r++) {
        const [x, y, w, h] = rects.slice(4 * r, 4 * r + 4);
        if (xs[i] >= x && xs[i] < x + w && ys[i] >= y && ys[i] < y + h) {
          expected.push(i);
          break;
        }
      }
    }
    expect(expected.length).toBeGreaterThan(1000);
    expect(expected.length).toBeLessThan(n - 1000);
    expect(Array.from(pointsInRects(xs, ys, rects))).toEqual(expected);
    expect(pointsInRects(xs, ys, []).length).toBe(0);
    expect(() => pointsInRects(xs, ys, [1, 2, 3])).toThrow(/rectangles of 4/);
  });
});
