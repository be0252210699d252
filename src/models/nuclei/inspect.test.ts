import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { createMemorySource } from '../../slide/formats/memory-source';
import { buildCspCae, disposeCspCae } from './model';
import { inspectPatchAt } from './inspect';
import { inspectPatches } from './pipeline';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

/** A 450 × 230 px RGB image at 0.25 µm/px whose pixel values encode their position (red = x / 2, green = y). */
function positionSource() {
  const [width, height] = [450, 230];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([x >> 1, y, 128], 3 * (y * width + x));
  const channels = ['R', 'G', 'B'].map((name) => ({ name, color: '#ffffff' }));
  return createMemorySource({ data, width, height, channels: 3, dtype: 'uint8' }, { name: 'positions.png', format: 'png', channels, rgb: true, mppX: 0.25, mppY: 0.25, properties: {} });
}

describe('inspectPatchAt', () => {
  it('shows the detection patch that holds the point: input, D, foreground, background, reconstruction', async () => {
    const source = positionSource();
    const models = buildCspCae({ preset: 'sixteenth', inputSize: 100, seed: 2 });
    const before = tf.memory().numTensors;
    // 50 µm patches are 200 px here; (210, 30) lies in the second column's first patch.
    const view = await inspectPatchAt(models, source, 210, 30);
    expect(view.rect).toEqual([200, 0, 200, 200]);
    expect(tf.memory().numTensors).toBe(before);
    expect(view.size).toBe(100);
    expect(view.mapSize).toBe(25);
    for (const image of [view.input, view.foreground, view.background, view.reconstruction]) expect(image.length).toBe(4 * 100 * 100);
    expect(view.detection.length).toBe(4 * 25 * 25);
    // The input is the patch resampled to 100 px (means of 2 × 2 pixels).
    expect(view.input[0]).toBe(100); // x 200–201
    expect([0, 1]).toContain(view.input[1]); // y 0–1: 0.5 in float32, rounded either way
    expect(view.input[4 * 99]).toBe(199); // x 398–399
    expect([198, 199]).toContain(view.input[4 * 99 * 100 + 1]); // y 198–199: 198.5
    expect(view.input[2]).toBe(128);
    // The outputs are the inspector's on that input.
    const direct = inspectPatches(models, tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(view.input.filter((_, i) => i % 4 !== 3)), [1, 100, 100, 3]), 255)) as tf.Tensor4D);
    expect(view.detectionMax).toBeCloseTo(direct.detection[view.detectionArgMax], 2);
    expect(Math.max(...direct.detection)).toBeCloseTo(view.detectionMax, 2);
    expect(view.reconstruction[0]).toBeCloseTo(Math.min(255, Math.max(0, 255 * direct.reconstruction[0])), -1);
    await expect(inspectPatchAt(models, source, 460, 10)).rejects.toThrow(/outside the slide/);
    // Patches hang off the right edge at x ≥ 400 (the detection lattice keeps whole patches only).
    await expect(inspectPatchAt(models, source, 420, 10)).rejects.toThrow(/no whole patch/);
    disposeCspCae(models);
  });
});
