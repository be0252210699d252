import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initNodeBackend } from '../../engine/wasm-node';
import { STANDARDISED_CONV_POOL_KERNEL } from '../../engine/wasm-kernels';
import {
  buildCishAutoencoder,
  CISH_LAYER_NAMES,
  initialiseOutputBias,
  tileStatistics,
  codeIsCollapsed,
  cishEncodeFunction,
  cishForwardFlops,
  cishGeometry,
  loadCishAutoencoder,
  splitCishAutoencoder,
} from './model';
import { CISH_DEFAULTS, tilePixels } from './defaults';
import { meanAbsoluteError, meanSquaredError, cishLoss } from './losses';

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

function outputShape(model: LayersModel, layerName: string): (number | null)[] {
  return model.getLayer(layerName).outputShape as (number | null)[];
}

/** Parameter count written out from the architecture table of SPEC §1. */
function expectedParameters(latent: number, size: number) {
  const conv = (cin: number, cout: number, k: number) => k * k * cin * cout + cout;
  const dense = (nin: number, nout: number) => nin * nout + nout;
  const flat = (size / 60) ** 2 * 32;
  const encoder =
    conv(1, 4, 3) + conv(4, 8, 3) + conv(8, 16, 3) + conv(16, 32, 3) + dense(flat, 100) + dense(100, 25) + dense(25, latent);
  // Transposed convs with kernel = stride: k·k·cin·cout weights + cout biases.
  const decoder =
    dense(latent, 25) + dense(25, 100) + dense(100, flat) + conv(32, 16, 5) + conv(16, 8, 3) + conv(8, 4, 2) + conv(4, 1, 2);
  return { encoder, decoder, total: encoder + decoder };
}

describe('CISH autoencoder architecture', () => {
  let autoencoder: LayersModel;
  let encoder: LayersModel;
  let decoder: LayersModel;
  beforeAll(() => {
    ({ autoencoder, encoder, decoder } = buildCishAutoencoder());
  });
  const n = CISH_LAYER_NAMES;

  it('has the layer output shapes of SPEC §1', () => {
    expect(autoencoder.inputs[0].shape).toEqual([null, 300, 300, 1]);
    expect(outputShape(autoencoder, n.encConv[0])).toEqual([null, 300, 300, 4]);
    expect(outputShape(autoencoder, n.encPool[0])).toEqual([null, 150, 150, 4]);
    expect(outputShape(autoencoder, n.encPool[1])).toEqual([null, 75, 75, 8]);
    expect(outputShape(autoencoder, n.encPool[2])).toEqual([null, 25, 25, 16]);
    expect(outputShape(autoencoder, n.encPool[3])).toEqual([null, 5, 5, 32]);
    expect(outputShape(autoencoder, n.flatten)).toEqual([null, 800]);
    expect(outputShape(autoencoder, n.encDense[0])).toEqual([null, 100]);
    expect(outputShape(autoencoder, n.encDense[1])).toEqual([null, 25]);
    expect(encoder.outputs[0].shape).toEqual([null, 2]);
    expect(outputShape(autoencoder, n.decDense[2])).toEqual([null, 800]);
    expect(outputShape(autoencoder, n.reshape)).toEqual([null, 5, 5, 32]);
    expect(outputShape(autoencoder, n.decDeconv[0])).toEqual([null, 25, 25, 16]);
    expect(outputShape(autoencoder, n.decDeconv[1])).toEqual([null, 75, 75, 8]);
    expect(outputShape(autoencoder, n.decDeconv[2])).toEqual([null, 150, 150, 4]);
    expect(outputShape(autoencoder, n.decDeconv[3])).toEqual([null, 300, 300, 1]);
    expect(decoder.inputs[0].shape).toEqual([null, 2]);
    expect(decoder.outputs[0].shape).toEqual([null, 300, 300, 1]);
    expect(autoencoder.outputs[0].shape).toEqual([null, 300, 300, 1]);
  });

  it('counts 186 421 parameters (88 821 encoder + 97 600 decoder)', () => {
    const expected = expectedParameters(2, 300);
    expect(expected).toEqual({ encoder: 88821, decoder: 97600, total: 186421 });
    expect(encoder.countParams()).toBe(expected.encoder);
    expect(decoder.countParams()).toBe(expected.decoder);
    expect(autoencoder.countParams()).toBe(expected.total);
  });

  it('uses LeakyReLU with the PyTorch slope 0.01 and the seed activations', () => {
    for (const name of [...n.encAct, ...n.decAct]) {
      expect(autoencoder.getLayer(name).getConfig().alpha).toBeCloseTo(0.01, 8);
    }
    for (const name of n.encConv) expect(autoencoder.getLayer(name).getConfig().activation).toBe('relu');
    const deconvActs = n.decDeconv.map((name) => autoencoder.getLayer(name).getConfig().activation);
    expect(deconvActs).toEqual(['relu', 'relu', 'relu', 'sigmoid']);
    const kernels = n.decDeconv.map((name) => autoencoder.getLayer(name).getConfig().kernelSize);
    expect(kernels).toEqual([[5, 5], [3, 3], [2, 2], [2, 2]]);
  });

  it('shares weights between the autoencoder and its halves', () => {
    const aeWeights = new Set(autoencoder.weights.map((w) => w.read()));
    for (const w of encoder.weights) expect(aeWeights.has(w.read())).toBe(true);
    for (const w of decoder.weights) expect(aeWeights.has(w.read())).toBe(true);
    expect(encoder.weights.length + decoder.weights.length).toBe(autoencoder.weights.length);
  });

  it('runs a forward pass with outputs in (0, 1) and decoder(encoder(x)) = autoencoder(x)', () => {
    const x = tf.randomUniform([2, 300, 300, 1], 0, 1, 'float32', 7);
    const [codes, y, y2] = tf.tidy(() => {
      const c = encoder.predict(x) as tf.Tensor;
      return [c, autoencoder.predict(x) as tf.Tensor, decoder.predict(c) as tf.Tensor];
    });
    expect(codes.shape).toEqual([2, 2]);
    expect(y.shape).toEqual([2, 300, 300, 1]);
    const values = y.dataSync();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThan(0);
    expect(hi).toBeLessThan(1);
    expect(tf.max(tf.abs(tf.sub(y, y2))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, codes, y, y2]);
  });
});

describe('CISH options', () => {
  it('accepts another latent size and input size', () => {
    const { autoencoder, encoder } = buildCishAutoencoder({ latentDim: 8, inputSize: 120 });
    expect(encoder.outputs[0].shape).toEqual([null, 8]);
    expect(outputShape(autoencoder, CISH_LAYER_NAMES.flatten)).toEqual([null, 128]);
    expect(autoencoder.outputs[0].shape).toEqual([null, 120, 120, 1]);
    expect(autoencoder.countParams()).toBe(expectedParameters(8, 120).total);
  });

  it('starts the reconstruction at the tiles\' mean intensity (output bias = logit(mean))', async () => {
    const models = buildCishAutoencoder({ inputSize: 60, seed: 4 });
    const tiles = tf.add(0.7, tf.mul(0.1, tf.randomUniform([4, 60, 60, 1], -1, 1, 'float32', 9)));
    const meanOutput = async () => {
      const out = models.autoencoder.predict(tiles) as tf.Tensor;
      const value = (await tf.mean(out).data())[0];
      out.dispose();
      return value;
    };
    const before = await meanOutput();
    const tensorsBefore = tf.memory().numTensors;
    initialiseOutputBias(models, tileStatistics(tiles).mean);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const bias = await models.autoencoder.getLayer(CISH_LAYER_NAMES.decDeconv[3]).getWeights()[1].data();
    const mean = (await tf.mean(tiles).data())[0];
    expect(bias[0]).toBeCloseTo(Math.log(mean / (1 - mean)), 5);
    const after = await meanOutput();
    expect(Math.abs(after - mean)).toBeLessThan(Math.abs(before - mean));
    expect(Math.abs(after - mean)).toBeLessThan(0.05);
    const blank = tf.fill([1, 60, 60, 1], NaN);
    expect(() => tileStatistics(blank)).toThrow(/non-finite/);
    blank.dispose();
    tiles.dispose();
    models.autoencoder.weights.forEach((w) => w.dispose());
  });

  it('standardises the encoder input with the training tiles\' statistics', () => {
    const tiles = tf.add(0.6, tf.mul(0.2, tf.randomNormal([3, 60, 60, 1], 0, 1, 'float32', 5)));
    const stats = tileStatistics(tiles);
    expect(stats.mean).toBeCloseTo(0.6, 2);
    expect(stats.std).toBeCloseTo(0.2, 2);
    const models = buildCishAutoencoder({ inputSize: 60, seed: 4, inputStatistics: stats });
    const standardised = tf.tidy(() => {
      const layer = models.autoencoder.getLayer(CISH_LAYER_NAMES.standardise);
      return layer.apply(tiles) as tf.Tensor;
    });
    const moments = tf.tidy(() => {
      const m = tf.moments(standardised);
      return [m.mean.dataSync()[0], Math.sqrt(m.variance.dataSync()[0])];
    });
    expect(moments[0]).toBeCloseTo(0, 4);
    expect(moments[1]).toBeCloseTo(1, 4);
    // The scaling is fixed: it is part of the saved graph, not a trained weight.
    expect(models.autoencoder.getLayer(CISH_LAYER_NAMES.standardise).countParams()).toBe(0);
    expect(() => buildCishAutoencoder({ inputSize: 60, inputStatistics: { mean: 0.5, std: 0 } })).toThrow(/positive sd/);
    // A blank batch has no spread; the input is then left unscaled.
    const flat = tf.fill([2, 60, 60, 1], 0.9);
    expect(tileStatistics(flat).std).toBe(1);
    tf.dispose([tiles, standardised, flat]);
    models.autoencoder.weights.forEach((w) => w.dispose());
  });

  it('reports a collapsed code only when every unit sits on the LeakyReLU\'s negative side', () => {
    const models = buildCishAutoencoder({ inputSize: 60, seed: 4 });
    const tiles = tf.randomUniform([6, 60, 60, 1], 0, 1, 'float32', 3);
    const latent = models.autoencoder.getLayer(CISH_LAYER_NAMES.encDense[2]);
    const [kernel] = latent.getWeights();
    const setBias = (values: number[]) => {
      const zero = tf.zerosLike(kernel);
      const bias = tf.tensor1d(values);
      latent.setWeights([zero, bias]);
      tf.dispose([zero, bias]);
    };
    setBias([-1, -2]);
    expect(codeIsCollapsed(models, tiles)).toBe(true);
    setBias([-1, 0.5]);
    expect(codeIsCollapsed(models, tiles)).toBe(false);
    tiles.dispose();
    models.autoencoder.weights.forEach((w) => w.dispose());
  });

  it('counts forward FLOPs layer by layer (benchmarks report GFLOP/s from it)', () => {
    // [output pixels, multiply-adds per output pixel] for every layer of a 300 px tile.
    const layers: Array<[number, number]> = [
      [300 * 300 * 4, 9 * 1], [150 * 150 * 8, 9 * 4], [75 * 75 * 16, 9 * 8], [25 * 25 * 32, 9 * 16],
      [100, 800], [25, 100], [2, 25], [25, 2], [100, 25], [800, 100],
      [25 * 25 * 16, 32], [75 * 75 * 8, 16], [150 * 150 * 4, 8], [300 * 300 * 1, 4],
    ];
    const expected = 2 * layers.reduce((sum, [outputs, macs]) => sum + outputs * macs, 0);
    expect(cishForwardFlops(300, 2)).toBe(expected);
    expect(cishForwardFlops(300, 2)).toBeCloseTo(42.73e6, -4);
    // Convs and deconvs scale with the tile's area; the dense layers do not.
    expect(cishForwardFlops(600, 2)).toBeGreaterThan(3.5 * cishForwardFlops(300, 2));
  });

  it('rejects input sizes the pools cannot divide', () => {
    expect(() => buildCishAutoencoder({ inputSize: 250 })).toThrow(/multiple of 60/);
    expect(() => cishGeometry(300, 0)).toThrow(/latentDim/);
  });

  it('has the seed defaults', () => {
    expect(CISH_DEFAULTS).toMatchObject({ batchSize: 32, epochs: 70, learningRate: 1e-3, loss: 'mse', adamEpsilon: 1e-8 });
    expect(tilePixels()).toEqual({ size: 300, step: 150 });
    expect(tilePixels(150, 75, 0.25)).toEqual({ size: 600, step: 300 });
  });

  it('gives seeded initial weights reproducibly', () => {
    const a = buildCishAutoencoder({ seed: 3 }).autoencoder.getWeights()[0].dataSync();
    const b = buildCishAutoencoder({ seed: 3 }).autoencoder.getWeights()[0].dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('CISH losses', () => {
  it('computes MSE and MAE', () => {
    const t = tf.tensor([0, 0.5, 1, 1]);
    const p = tf.tensor([0.5, 0.5, 0, 1]);
    expect(meanSquaredError(t, p).dataSync()[0]).toBeCloseTo((0.25 + 0 + 1 + 0) / 4, 6);
    expect(meanAbsoluteError(t, p).dataSync()[0]).toBeCloseTo((0.5 + 0 + 1 + 0) / 4, 6);
    expect(cishLoss('mae')).toBe(meanAbsoluteError);
    tf.dispose([t, p]);
  });
});

describe('CISH save and load', () => {
  it('round-trips through the standard TF.js layers format', async () => {
    const { autoencoder, encoder } = buildCishAutoencoder({ seed: 11 });
    let saved: tf.io.ModelArtifacts | null = null;
    await autoencoder.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(saved).not.toBeNull();
    const loaded = await loadCishAutoencoder(tf.io.fromMemory(saved!));
    const x = tf.randomUniform([2, 300, 300, 1], 0, 1, 'float32', 5);
    const diff = tf.tidy(() => {
      const a = encoder.predict(x) as tf.Tensor;
      const b = loaded.encoder.predict(x) as tf.Tensor;
      const r1 = autoencoder.predict(x) as tf.Tensor;
      const r2 = loaded.autoencoder.predict(x) as tf.Tensor;
      const r3 = loaded.decoder.predict(b) as tf.Tensor;
      return [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(tf.sub(r1, r2))), tf.max(tf.abs(tf.sub(r1, r3)))].map(
        (t) => t.dataSync()[0],
      );
    });
    for (const d of diff) expect(d).toBeLessThan(1e-6);
    expect(splitCishAutoencoder(loaded.autoencoder).encoder.outputs[0].shape).toEqual([null, 2]);
    x.dispose();
  });
});

describe('CISH gradients on wasm', () => {
  it('match the cpu backend for every weight', async () => {
    // A 60 px variant keeps this fast; it exercises every kernel of the 300 px model.
    const { autoencoder } = buildCishAutoencoder({ inputSize: 60, seed: 21 });
    const xData = tf.tidy(() => tf.randomUniform([3, 60, 60, 1], 0, 1, 'float32', 8).dataSync().slice());
    const gradsOn = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xData, [3, 60, 60, 1]);
      const vars = autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => meanSquaredError(x, autoencoder.apply(x, { training: true }) as tf.Tensor),
        vars,
      );
      const out = vars.map((v) => grads[v.name].dataSync().slice() as Float32Array);
      const loss = value.dataSync()[0];
      tf.dispose([x, value, ...Object.values(grads)]);
      return { out, loss };
    };
    const ref = await gradsOn('cpu');
    const got = await gradsOn('wasm');
    expect(got.loss).toBeCloseTo(ref.loss, 6);
    ref.out.forEach((r, i) => {
      let maxRef = 0;
      let maxDiff = 0;
      for (let k = 0; k < r.length; k++) {
        maxRef = Math.max(maxRef, Math.abs(r[k]));
        maxDiff = Math.max(maxDiff, Math.abs(r[k] - got.out[i][k]));
      }
      expect(maxRef).toBeGreaterThan(0);
      expect(maxDiff / maxRef).toBeLessThan(1e-4);
    });
  });
});

describe('CISH fast encoding', () => {
  it('gives the codes of encoder.apply, on wasm (one-pass first block) and cpu, leaking nothing', async () => {
    const models = buildCishAutoencoder({ inputSize: 60, seed: 9, inputStatistics: { mean: 0.7, std: 0.08 } });
    const encode = cishEncodeFunction(models.encoder);
    const xData = tf.tidy(() => tf.randomUniform([5, 60, 60, 1], 0.4, 1, 'float32', 12).dataSync().slice());
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xData, [5, 60, 60, 1]);
      const before = tf.memory().numTensors;
      const reference = tf.tidy(() => models.encoder.apply(x, { training: false }) as tf.Tensor);
      let fast!: tf.Tensor;
      const profile = await tf.profile(() => (fast = encode(x)));
      const fused = profile.kernels.some((k) => k.name === STANDARDISED_CONV_POOL_KERNEL);
      expect(fused).toBe(backend === 'wasm');
      const [r, f] = [reference.dataSync(), fast.dataSync()];
      expect(fast.shape).toEqual([5, 2]);
      const scale = Math.max(...Array.from(r, Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < r.length; i++) expect(Math.abs(f[i] - r[i]) / scale).toBeLessThan(1e-4);
      tf.dispose([reference, fast]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
    await tf.setBackend('wasm');
    models.autoencoder.weights.forEach((w) => w.dispose());
  });
});
