/**
 * In-page part of the explorer benchmark (bench/explorer/run.mjs): a lasso
 * over 1,000,000 scatter points (point-in-polygon + applying it to the
 * active selection) and the step from a selection to the overlay's colour
 * buffer, on this page's main thread, where the app runs them.
 */
import { Random } from '../analysis/random';
import { addSelection, applyShape, emptySelectionSet, selectionColours } from '../analysis/selections';
import { pointsInPolygon } from '../tiling/polygon';

export interface ExplorerBenchResult {
  points: number;
  lassoVertices: number;
  selected: number;
  lassoMs: number[];
  overlayMs: number[];
}

/** A freehand-like lasso: a wobbly loop of `vertices` points around the middle of the unit square. */
function lasso(rng: Random, vertices: number): number[] {
  const ring: number[] = [];
  for (let v = 0; v < vertices; v++) {
    const angle = (2 * Math.PI * v) / vertices;
    const radius = 0.3 + 0.08 * Math.sin(5 * angle) + 0.02 * rng.normal();
    ring.push(0.5 + radius * Math.cos(angle), 0.5 + radius * Math.sin(angle));
  }
  return ring;
}

function run(options: { points?: number; runs?: number; vertices?: number } = {}): ExplorerBenchResult {
  const n = options.points ?? 1_000_000;
  const runs = options.runs ?? 7;
  const vertices = options.vertices ?? 300;
  const rng = new Random(1);
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = rng.uniform();
    ys[i] = rng.uniform();
  }
  const polygon = lasso(rng, vertices);
  let set = addSelection(emptySelectionSet(n));
  const lassoMs: number[] = [];
  const overlayMs: number[] = [];
  let selected = 0;
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    set = applyShape(set, pointsInPolygon(xs, ys, polygon), 'replace');
    const t1 = performance.now();
    const colours = selectionColours(set, 200, [0, 0, 0, 0]);
    const t2 = performance.now();
    selected = set.selections[0].members.reduce((a, b) => a + b, 0);
    if (colours.length !== 4 * n) throw new Error('colour buffer has the wrong size');
    if (r > 0) {
      lassoMs.push(t1 - t0);
      overlayMs.push(t2 - t1);
    }
  }
  return { points: n, lassoVertices: vertices, selected, lassoMs, overlayMs };
}

declare global {
  interface Window {
    explorerBench: { run: typeof run };
  }
}

window.explorerBench = { run };
