/**
 * In-page part of the explorer benchmark (bench/explorer/run.mjs): a lasso
 * over 1,000,000 scatter points (point-in-polygon + applying it to the
 * active selection) and the step from a selection to the overlay's colour
 * buffer, on this page's main thread, where the app runs them; and the frame
 * time of panning the WebGL scatter over 1,000,000 points.
 */
import { Random } from '../util/random';
import { addSelection, applyShape, emptySelectionSet, selectionColours } from '../analysis/selections';
import { pointsInPolygon } from '../tiling/polygon';
import { fitTransform, panBy, pointSizeFor, rasterise, zoomAbout, type DensityScratch } from '../ui/scatter/scatter-math';
import { WebGLScatter, type AccumulationFormat } from '../ui/scatter/webgl-scatter';

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

export interface PanBenchResult {
  points: number;
  frames: number;
  /** CSS px of the scatter, and the device pixel ratio it was drawn at. */
  width: number;
  height: number;
  pixelRatio: number;
  /** UNMASKED_RENDERER_WEBGL (or RENDERER): which GPU, or software renderer, drew; 'CPU' for the rasteriser. */
  renderer: string;
  accumulation: AccumulationFormat | 'float32 sums on the CPU';
  /** Per frame: draw both passes, wait for the GPU (1-pixel readPixels), copy onto the 2-D canvas as LatentScatter does. */
  frameMs: number[];
  /** Between successive animation frames (the display's pace, or the work's when slower). */
  intervalMs: number[];
}

/** Clustered points like latent codes: Gaussian blobs of different sizes and colours. */
function blobs(rng: Random, n: number): { xy: Float32Array; rgba: Uint8Array } {
  const palette = [
    [230, 97, 1],
    [94, 60, 153],
    [27, 158, 119],
    [231, 41, 138],
    [102, 166, 30],
    [230, 171, 2],
    [31, 120, 180],
    [166, 118, 29],
  ];
  const centres = palette.map(() => [rng.uniform(), rng.uniform(), 0.02 + 0.1 * rng.uniform()]);
  const xy = new Float32Array(2 * n);
  const rgba = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    const b = Math.floor(rng.uniform() * palette.length);
    const [cx, cy, spread] = centres[b];
    xy[2 * i] = cx + spread * rng.normal();
    xy[2 * i + 1] = cy + spread * rng.normal();
    rgba.set(palette[b], 4 * i);
    rgba[4 * i + 3] = 255;
  }
  return { xy, rgba };
}

/**
 * Pans the WebGL scatter (zoomed 2× so points cross the edges) along a circle
 * for `frames` animation frames and times each frame's work.
 */
async function pan(
  options: { points?: number; frames?: number; width?: number; height?: number; renderer?: 'webgl' | 'cpu' } = {},
): Promise<PanBenchResult> {
  const n = options.points ?? 1_000_000;
  const frames = options.frames ?? 120;
  const width = options.width ?? 800;
  const height = options.height ?? 600;
  const pixelRatio = window.devicePixelRatio || 1;
  const { xy, rgba } = blobs(new Random(2), n);

  // As in LatentScatter: WebGL on a canvas outside the page, copied onto a visible 2-D canvas.
  const glCanvas = document.createElement('canvas');
  const cpu = options.renderer === 'cpu';
  const renderer = cpu ? null : WebGLScatter.create(glCanvas);
  if (!cpu && !renderer) throw new Error('WebGL2 is not available in this browser');
  const shown = document.createElement('canvas');
  shown.width = Math.round(width * pixelRatio);
  shown.height = Math.round(height * pixelRatio);
  shown.style.width = `${width}px`;
  shown.style.height = `${height}px`;
  document.body.append(shown);
  const ctx = shown.getContext('2d')!;
  try {
    renderer?.resize(shown.width, shown.height);
    renderer?.setPoints(xy);
    renderer?.setColours(rgba);
    // The CPU path as LatentScatter runs it without a hardware GPU: density sums, resolve, putImageData.
    const image = ctx.createImageData(shown.width, shown.height);
    const scratch: DensityScratch = {};
    const base = zoomAbout(fitTransform(xy, width, height), width / 2, height / 2, 2);
    const size = pointSizeFor(n);
    const frame = (i: number): number => {
      const angle = (2 * Math.PI * i) / frames;
      const view = panBy(base, 150 * Math.cos(angle) - 150, 120 * Math.sin(angle));
      const t0 = performance.now();
      if (renderer) {
        renderer.render(view, width, height, size);
        renderer.readPixel(0, 0);
        ctx.clearRect(0, 0, shown.width, shown.height);
        ctx.drawImage(glCanvas, 0, 0);
      } else {
        const scaled = { sx: view.sx * pixelRatio, ox: view.ox * pixelRatio, sy: view.sy * pixelRatio, oy: view.oy * pixelRatio };
        rasterise(xy, rgba, scaled, shown.width, shown.height, Math.max(1, Math.round(size * pixelRatio)), image.data, scratch);
        ctx.putImageData(image, 0, 0);
      }
      return performance.now() - t0;
    };
    // Warm-up: shader compilation, the float target's allocation.
    for (let i = 0; i < 3; i++) frame(i);
    const frameMs: number[] = [];
    const intervalMs: number[] = [];
    await new Promise<void>((resolve) => {
      let last: number | undefined;
      const step = (time: number) => {
        if (last !== undefined) intervalMs.push(time - last);
        last = time;
        frameMs.push(frame(frameMs.length));
        if (frameMs.length < frames) requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame(step);
    });
    return {
      points: n,
      frames,
      width,
      height,
      pixelRatio,
      renderer: renderer ? renderer.rendererName : 'CPU',
      accumulation: renderer ? renderer.accumulation : 'float32 sums on the CPU',
      frameMs,
      intervalMs,
    };
  } finally {
    renderer?.dispose();
    shown.remove();
  }
}

declare global {
  interface Window {
    explorerBench: { run: typeof run; pan: typeof pan };
  }
}

window.explorerBench = { run, pan };
