/**
 * The seed's Fig. 4 for one patch of a slide: the input, the detection map D,
 * the decoded foreground, the decoded background and their sum, as RGBA
 * images ready to draw. The patch is the one of the detection lattice
 * (computeNucleusPatches) that holds the given level-0 point, so what the
 * panel shows is exactly what detection saw there. DOM-free.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readTileInputs } from '../../engine/tile-batches';
import type { SlideSource } from '../../slide/types';
import type { CspCaeModels } from './model';
import { NUCLEI_DEFAULTS, computeNucleusPatches, inspectPatches, nucleusInputSpec } from './pipeline';

export interface PatchInspectionImages {
  /** Level-0 rectangle of the patch: x, y, width, height. */
  rect: [number, number, number, number];
  /** Side of the input and of the decoded images (the network's input size). */
  size: number;
  /** Side of the detection map (a quarter of `size`). */
  mapSize: number;
  /** RGBA, size² pixels each. */
  input: Uint8ClampedArray;
  foreground: Uint8ClampedArray;
  background: Uint8ClampedArray;
  reconstruction: Uint8ClampedArray;
  /** RGBA, mapSize² pixels: D from black (0) to white (1). */
  detection: Uint8ClampedArray;
  /** Largest value of D and the map cell where it lies (row-major index). */
  detectionMax: number;
  detectionArgMax: number;
}

/** RGB floats in [0, 1] (values outside are clipped) → RGBA bytes. */
export function rgbToRgba(rgb: ArrayLike<number>, pixels: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * pixels);
  for (let i = 0; i < pixels; i++) {
    // Uint8ClampedArray clips and rounds.
    out[4 * i] = 255 * rgb[3 * i];
    out[4 * i + 1] = 255 * rgb[3 * i + 1];
    out[4 * i + 2] = 255 * rgb[3 * i + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

function greyToRgba(values: ArrayLike<number>): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * values.length);
  for (let i = 0; i < values.length; i++) {
    const v = 255 * values[i];
    out[4 * i] = v;
    out[4 * i + 1] = v;
    out[4 * i + 2] = v;
    out[4 * i + 3] = 255;
  }
  return out;
}

/** Runs the inspector on the detection patch that holds level-0 point (x, y). */
export async function inspectPatchAt(
  models: CspCaeModels,
  source: SlideSource,
  x: number,
  y: number,
  options: { mppOverride?: number; signal?: AbortSignal } = {},
): Promise<PatchInspectionImages> {
  const { metadata } = source;
  const { width, height } = metadata;
  if (!(x >= 0 && y >= 0 && x < width && y < height)) {
    throw new RangeError(`${metadata.name}: point (${Math.round(x)}, ${Math.round(y)}) lies outside the slide (${width} × ${height} px)`);
  }
  const mpp = options.mppOverride ?? metadata.mppX;
  if (!mpp) throw new RangeError(`${metadata.name}: the slide does not state its µm per pixel`);
  const patchSize = models.inputSize;
  // A region twice the patch side around the point holds the centre of the patch that contains it.
  const side = (patchSize * NUCLEI_DEFAULTS.micronsPerPixel) / mpp;
  const roi = { kind: 'rectangle', x: x - side, y: y - side, width: 2 * side, height: 2 * side } as const;
  const grid = computeNucleusPatches(metadata, undefined, { patchSize, mppOverride: options.mppOverride, minTissueFraction: 0, roi });
  const tile = Array.from(grid.kept).find((t) => x >= grid.x[t] && x < grid.x[t] + grid.width[t] && y >= grid.y[t] && y < grid.y[t] + grid.height[t]);
  if (tile === undefined) throw new RangeError(`${metadata.name}: no whole patch covers (${Math.round(x)}, ${Math.round(y)}); the slide's edge cuts it`);
  const values = await readTileInputs(source, grid, [tile], nucleusInputSpec(patchSize), options.signal);
  const input = tf.tensor4d(values, [1, patchSize, patchSize, 3]);
  try {
    const inspection = inspectPatches(models, input);
    const pixels = patchSize * patchSize;
    let detectionArgMax = 0;
    inspection.detection.forEach((v, i) => {
      if (v > inspection.detection[detectionArgMax]) detectionArgMax = i;
    });
    return {
      rect: [grid.x[tile], grid.y[tile], grid.width[tile], grid.height[tile]],
      size: patchSize,
      mapSize: inspection.mapSize,
      input: rgbToRgba(values, pixels),
      foreground: rgbToRgba(inspection.foreground, pixels),
      background: rgbToRgba(inspection.background, pixels),
      reconstruction: rgbToRgba(inspection.reconstruction, pixels),
      detection: greyToRgba(inspection.detection),
      detectionMax: inspection.detection[detectionArgMax],
      detectionArgMax,
    };
  } finally {
    input.dispose();
  }
}
