import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initNodeBackend } from './wasm-node';
import { modelFromFiles, modelKindOf, modelToFiles, parseStoredModelUrl, storedModelUrl } from './model-store';
import { buildCspCae, disposeCspCae, splitCspCae } from '../models/nuclei/model';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

describe('stored model URLs', () => {
  it('round-trip kind, fingerprint (dashes allowed) and id; other URLs are not ours', () => {
    const url = storedModelUrl('cspcae', '1234-abcd', 'mxyz');
    expect(url).toBe('indexeddb://tilescope-cspcae-1234-abcd-mxyz');
    expect(parseStoredModelUrl(url)).toEqual({ kind: 'cspcae', fingerprint: '1234-abcd', modelId: 'mxyz' });
    expect(parseStoredModelUrl('indexeddb://tilescope-cish-f00-checkpoint')).toEqual({ kind: 'cish', fingerprint: 'f00', modelId: 'checkpoint' });
    expect(parseStoredModelUrl('indexeddb://tilescope-other-f-m')).toBeNull();
    expect(parseStoredModelUrl('indexeddb://tilescope-cish-nodash')).toBeNull();
    expect(parseStoredModelUrl('localstorage://tilescope-cish-f-m')).toBeNull();
    expect(modelKindOf({ tilescope: 'organet' })).toBe('organet');
    expect(modelKindOf({ tilescope: 'something' })).toBeNull();
  });
});

describe('models as files', () => {
  it('a nucleus CAE survives export and import: same outputs, same threshold t, same metadata', async () => {
    const models = buildCspCae({ preset: 'sixteenth', inputSize: 100, seed: 4 });
    // Move t and the batch-norm statistics away from their initial values, as training does.
    const x = tf.randomUniform([4, 100, 100, 3], 0, 1, 'float32', 5);
    for (let i = 0; i < 3; i++) tf.dispose(models.autoencoder.apply(x, { training: true }) as tf.Tensor);
    models.autoencoder.setUserDefinedMetadata({ tilescope: 'cspcae', preset: 'sixteenth', modelId: 'm1', fingerprint: 'f1', history: [0.2, 0.1], patches: 64 });
    const files = await modelToFiles(models.autoencoder, 'tilescope-cspcae-m1');
    const { handler, metadata } = await modelFromFiles([files.weights, files.json], ['tilescope-cspcae-m1.weights.bin', 'tilescope-cspcae-m1.json']);
    expect(metadata).toMatchObject({ tilescope: 'cspcae', preset: 'sixteenth', history: [0.2, 0.1] });
    const loaded = splitCspCae(await tfl.loadLayersModel(handler), 'sixteenth');
    expect(loaded.threshold.thresholdValue).toBeCloseTo(models.threshold.thresholdValue, 6);
    expect(models.threshold.thresholdValue).not.toBe(0);
    const before = (models.inspector.predict(x) as tf.Tensor[]).map((t) => t.dataSync());
    const after = (loaded.inspector.predict(x) as tf.Tensor[]).map((t) => t.dataSync());
    expect(after.length).toBe(5);
    after.forEach((values, k) => {
      expect(values.length).toBe(before[k].length);
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - before[k][i]));
      expect(worst).toBeLessThan(1e-5);
    });
    disposeCspCae(models);
    disposeCspCae(loaded);
    x.dispose();
  });

  it('names the file and the reason for a wrong, truncated or missing part', async () => {
    const models = buildCspCae({ preset: 'sixteenth', inputSize: 100, seed: 4 });
    const files = await modelToFiles(models.autoencoder, 'm');
    disposeCspCae(models);
    await expect(modelFromFiles([files.weights], ['m.weights.bin'])).rejects.toThrow(/choose the model \.json/);
    await expect(modelFromFiles([new Blob(['{oops'])], ['broken.json'])).rejects.toThrow(/broken\.json: not JSON/);
    await expect(modelFromFiles([new Blob(['{}'])], ['empty.json'])).rejects.toThrow(/empty\.json: not a TF\.js layers model/);
    await expect(modelFromFiles([files.json], ['m.json'])).rejects.toThrow(/m\.json: weights file m\.weights\.bin is missing/);
    const truncated = files.weights.slice(0, files.weights.size - 8);
    await expect(modelFromFiles([files.json, truncated], ['m.json', 'm.weights.bin'])).rejects.toThrow(/m\.json: the weights hold \d+ bytes, the manifest needs \d+/);
  });
});
