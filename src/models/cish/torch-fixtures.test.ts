import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from '../../engine/wasm-node';
import { trainModel } from '../../engine/train';
import { buildCishAutoencoder, loadCishAutoencoder, tileStatistics } from './model';
import { meanSquaredError } from './losses';
import { syntheticBatch } from './testing/synthetic-tiles';

/**
 * Cross-framework fixtures for the CISH autoencoder, in tests/fixtures/cish/:
 *   model/model.json + model/weights.bin  the autoencoder in the TF.js layers format
 *   tiles.u8                              4 tiles, 300×300 grey, uint8 (input = value / 255)
 *   outputs.json                          TF.js latent codes of the 4 tiles, and shapes
 *   reconstructions.f32                   TF.js reconstructions of the first 2 tiles (float32)
 *
 * `CISH_WRITE_FIXTURES=1 npx vitest run src/models/cish/torch-fixtures.test.ts`
 * regenerates them (a briefly trained model, so activations are not trivial);
 * scripts/cish_torch_equivalence.py rebuilds the network in PyTorch from these
 * files and checks that it gives the same codes. Without the variable this test
 * checks that the TF.js model still reproduces the committed outputs.
 */

const DIR = path.resolve(__dirname, '../../../tests/fixtures/cish');
const SIZE = 300;
const TILE_COUNT = 4;
const RECON_COUNT = 2;

interface Outputs {
  tileShape: [number, number, number, number];
  latentDim: number;
  latent: number[][];
  reconstructionShape: [number, number, number, number];
}

function tilesToTensor(u8: Uint8Array): tf.Tensor4D {
  const f = new Float32Array(u8.length);
  for (let i = 0; i < u8.length; i++) f[i] = u8[i] / 255;
  return tf.tensor4d(f, [TILE_COUNT, SIZE, SIZE, 1]);
}

async function writeFixtures(): Promise<void> {
  const train = syntheticBatch(8, SIZE, 700);
  const trainTiles = tf.tensor4d(train.data, [8, SIZE, SIZE, 1]);
  const inputStatistics = tileStatistics(trainTiles);
  trainTiles.dispose();
  const { autoencoder, encoder, decoder } = buildCishAutoencoder({ seed: 2024, inputStatistics });
  const optimizer = tf.train.adam(2e-3);
  await trainModel({
    model: autoencoder,
    optimizer,
    loss: meanSquaredError,
    batches: {
      stepsPerEpoch: 1,
      getBatch: () => ({ xs: tf.tensor4d(train.data, [8, SIZE, SIZE, 1]) }),
    },
    epochs: 12,
  });
  optimizer.dispose();

  // Two synthetic tiles of each kind, then quantised to 8 bits.
  const { data } = syntheticBatch(TILE_COUNT, SIZE, 900);
  const u8 = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) u8[i] = Math.round(data[i] * 255);

  mkdirSync(path.join(DIR, 'model'), { recursive: true });
  await autoencoder.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const { weightData, ...rest } = artifacts;
      const manifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const modelJson = { ...rest, weightSpecs: undefined, weightsManifest: manifest };
      writeFileSync(path.join(DIR, 'model', 'model.json'), JSON.stringify(modelJson));
      const bytes = tf.io.CompositeArrayBuffer.join(weightData as ArrayBuffer | ArrayBuffer[]);
      writeFileSync(path.join(DIR, 'model', 'weights.bin'), new Uint8Array(bytes));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  writeFileSync(path.join(DIR, 'tiles.u8'), u8);
  const x = tilesToTensor(u8);
  const codes = encoder.predict(x) as tf.Tensor2D;
  const recon = decoder.predict(tf.slice(codes, [0, 0], [RECON_COUNT, -1])) as tf.Tensor;
  const outputs: Outputs = {
    tileShape: [TILE_COUNT, SIZE, SIZE, 1],
    latentDim: codes.shape[1],
    latent: codes.arraySync(),
    reconstructionShape: [RECON_COUNT, SIZE, SIZE, 1],
  };
  writeFileSync(path.join(DIR, 'outputs.json'), JSON.stringify(outputs, null, 1) + '\n');
  writeFileSync(path.join(DIR, 'reconstructions.f32'), new Uint8Array((recon.dataSync() as Float32Array).buffer));
  tf.dispose([x, codes, recon]);
}

function loadModelFromFixtures(): tf.io.IOHandler {
  const modelJson = JSON.parse(readFileSync(path.join(DIR, 'model', 'model.json'), 'utf8'));
  const weights = readFileSync(path.join(DIR, 'model', 'weights.bin'));
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  return tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
    weightData,
  });
}

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
  if (process.env.CISH_WRITE_FIXTURES === '1') await writeFixtures();
});

describe('CISH cross-framework fixtures', () => {
  it('exist and are small', () => {
    for (const f of ['model/model.json', 'model/weights.bin', 'tiles.u8', 'outputs.json', 'reconstructions.f32']) {
      expect(existsSync(path.join(DIR, f))).toBe(true);
    }
    expect(readFileSync(path.join(DIR, 'model', 'weights.bin')).byteLength).toBe(186421 * 4);
    // The fixture model standardises its input, so the PyTorch check covers that layer too.
    const layers = JSON.parse(readFileSync(path.join(DIR, 'model', 'model.json'), 'utf8')).modelTopology.config.layers;
    const rescaling = layers.find((layer: { class_name: string }) => layer.class_name === 'Rescaling');
    expect(rescaling.config.scale).not.toBe(1);
    expect(rescaling.config.offset).not.toBe(0);
  });

  it('the committed model reproduces the committed latent codes and reconstructions', async () => {
    const { encoder, decoder } = await loadCishAutoencoder(loadModelFromFixtures());
    const outputs: Outputs = JSON.parse(readFileSync(path.join(DIR, 'outputs.json'), 'utf8'));
    const u8 = new Uint8Array(readFileSync(path.join(DIR, 'tiles.u8')));
    expect(u8.length).toBe(TILE_COUNT * SIZE * SIZE);
    const x = tilesToTensor(u8);
    const codes = encoder.predict(x) as tf.Tensor2D;
    const got = codes.arraySync();
    let maxDiff = 0;
    let spread = 0;
    outputs.latent.forEach((row, i) =>
      row.forEach((v, d) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - got[i][d]));
        spread = Math.max(spread, Math.abs(v - outputs.latent[0][d]));
      }),
    );
    expect(maxDiff).toBeLessThan(1e-5);
    expect(spread).toBeGreaterThan(1e-3); // the tiles do not all map to one code

    const recon = decoder.predict(tf.slice(codes, [0, 0], [RECON_COUNT, -1])) as tf.Tensor;
    const ref = new Float32Array(new Uint8Array(readFileSync(path.join(DIR, 'reconstructions.f32'))).buffer);
    const r = recon.dataSync();
    expect(r.length).toBe(ref.length);
    let reconDiff = 0;
    for (let i = 0; i < r.length; i++) reconDiff = Math.max(reconDiff, Math.abs(r[i] - ref[i]));
    expect(reconDiff).toBeLessThan(1e-5);
    tf.dispose([x, codes, recon]);
  });
});
