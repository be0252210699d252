import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeBackend } from './wasm-node';
import {
  isTilescopeWasmKernel,
  standardisedConv2dPool,
  STANDARDISED_CONV_POOL_KERNEL,
  WASM_TRAINING_KERNELS,
} from './wasm-kernels';
import { setSimdKernelsEnabled, simdKernelsFor } from './simd';

/**
 * Each wasm kernel is compared with the cpu backend's kernel of the same name
 * (the trusted reference) on random NHWC data. The error measure is the
 * largest absolute difference divided by the largest reference magnitude.
 */

type Attrs = Record<string, unknown>;

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomData(shape: number[], seed: number, quantum = 0): Float32Array {
  const rand = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rand() * 2 - 1;
    out[i] = quantum > 0 ? Math.round(v / quantum) * quantum : v;
  }
  return out;
}

interface Input {
  name: string;
  shape: number[];
  data: Float32Array;
}

async function runOn(backend: string, kernel: string, inputs: Input[], attrs: Attrs) {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const inp of inputs) tensors[inp.name] = tf.tensor(inp.data, inp.shape);
  const out = tf.engine().runKernel(kernel, tensors, attrs as never) as tf.Tensor;
  const values = out.dataSync().slice() as Float32Array;
  const shape = out.shape;
  out.dispose();
  for (const t of Object.values(tensors)) t.dispose();
  return { values, shape };
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-12);
}

async function compare(
  kernel: string,
  inputs: Input[],
  attrs: Attrs,
  reference?: { inputs: Input[]; attrs: Attrs; pick?: (v: Float32Array) => Float32Array },
) {
  const ref = reference
    ? await runOn('cpu', kernel, reference.inputs, reference.attrs)
    : await runOn('cpu', kernel, inputs, attrs);
  const expected = reference?.pick ? reference.pick(ref.values) : ref.values;
  const before = tf.memory().numTensors;
  const got = await runOn('wasm', kernel, inputs, attrs);
  expect(tf.memory().numTensors).toBe(before);
  expect(got.values.length).toBe(expected.length);
  const err = relativeError(got.values, expected);
  expect(err).toBeLessThan(1e-4);
  return got;
}

/** Spreads a [kh, kw, C, M] filter to its dilated footprint, zeros between taps. */
function dilateFilter(data: Float32Array, shape: number[], d: number): { data: Float32Array; shape: number[] } {
  const [kh, kw, c, m] = shape;
  const eh = (kh - 1) * d + 1;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * c * m);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < c * m; k++) out[((i * d) * ew + j * d) * c * m + k] = data[(i * kw + j) * c * m + k];
  return { data: out, shape: [eh, ew, c, m] };
}

/** Takes every d-th tap of a dilated-footprint filter gradient. */
function undilateFilter(data: Float32Array, shape: number[], d: number): Float32Array {
  const [kh, kw, c, m] = shape;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(kh * kw * c * m);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < c * m; k++) out[(i * kw + j) * c * m + k] = data[((i * d) * ew + j * d) * c * m + k];
  return out;
}

function outSize(inSize: number, k: number, s: number, pad: 'same' | 'valid', d = 1): number {
  const eff = (k - 1) * d + 1;
  return pad === 'same' ? Math.ceil(inSize / s) : Math.ceil((inSize - eff + 1) / s);
}

beforeAll(async () => {
  expect(await initNodeBackend('wasm')).toBe('wasm');
});

it('kernels are installed on the wasm backend with their SIMD module attached', () => {
  for (const k of WASM_TRAINING_KERNELS) expect(isTilescopeWasmKernel(k)).toBe(true);
  expect(simdKernelsFor(tf.findBackend('wasm') as object)).not.toBeNull();
});

// Every case runs with the SIMD kernels and with the portable fallbacks.
describe.each([
  { simd: true, label: 'SIMD' },
  { simd: false, label: 'portable' },
])('wasm training kernels ($label)', ({ simd }) => {
  beforeAll(() => setSimdKernelsEnabled(simd));
  afterAll(() => setSimdKernelsEnabled(true));

  const convCases: Array<{ x: number[]; k: [number, number]; co: number; s: number; pad: 'same' | 'valid' }> = [
    { x: [2, 9, 11, 3], k: [3, 3], co: 5, s: 1, pad: 'same' },
    { x: [2, 9, 11, 3], k: [3, 3], co: 5, s: 1, pad: 'valid' },
    { x: [3, 10, 9, 2], k: [3, 3], co: 4, s: 2, pad: 'same' },
    { x: [3, 10, 9, 2], k: [3, 3], co: 4, s: 2, pad: 'valid' },
    { x: [2, 8, 7, 4], k: [2, 3], co: 3, s: 2, pad: 'same' },
    { x: [2, 11, 11, 1], k: [5, 5], co: 2, s: 3, pad: 'valid' },
    { x: [4, 12, 12, 1], k: [3, 3], co: 4, s: 1, pad: 'same' },
    // output channels a multiple of 4: the SIMD route (when attached)
    { x: [2, 9, 11, 3], k: [3, 3], co: 8, s: 1, pad: 'same' },
    { x: [2, 10, 9, 4], k: [3, 3], co: 8, s: 2, pad: 'same' },
    { x: [3, 12, 13, 1], k: [3, 3], co: 12, s: 1, pad: 'same' },
    { x: [2, 8, 8, 8], k: [2, 2], co: 4, s: 2, pad: 'valid' },
    { x: [2, 11, 11, 5], k: [5, 5], co: 4, s: 3, pad: 'valid' },
    { x: [2, 7, 9, 1], k: [5, 4], co: 8, s: 1, pad: 'same' },
    { x: [1, 6, 6, 16], k: [3, 3], co: 16, s: 1, pad: 'valid' },
  ];

  it.each(convCases)('Conv2DBackpropFilter matches cpu: %o', async ({ x, k, co, s, pad }) => {
    const filterShape = [k[0], k[1], x[3], co];
    const oh = outSize(x[1], k[0], s, pad);
    const ow = outSize(x[2], k[1], s, pad);
    const dyShape = [x[0], oh, ow, co];
    const got = await compare(
      'Conv2DBackpropFilter',
      [
        { name: 'x', shape: x, data: randomData(x, 1) },
        { name: 'dy', shape: dyShape, data: randomData(dyShape, 2) },
      ],
      { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape },
    );
    expect(got.shape).toEqual(filterShape);
  });

  const inputCases: Array<{ x: number[]; k: [number, number]; co: number; s: [number, number]; pad: 'same' | 'valid' }> = [
    // stride 1: rotated-filter convolution route
    { x: [2, 9, 11, 3], k: [3, 3], co: 5, s: [1, 1], pad: 'same' },
    { x: [2, 9, 11, 3], k: [3, 3], co: 5, s: [1, 1], pad: 'valid' },
    { x: [2, 8, 8, 2], k: [2, 2], co: 3, s: [1, 1], pad: 'same' },
    // kernel = stride: matrix product + depth-to-space route (the CISH decoder)
    { x: [2, 10, 10, 3], k: [5, 5], co: 4, s: [5, 5], pad: 'valid' },
    { x: [2, 6, 9, 2], k: [2, 3], co: 3, s: [2, 3], pad: 'valid' },
    { x: [2, 12, 12, 1], k: [2, 2], co: 4, s: [2, 2], pad: 'same' },
    // other strides: zero-inserted dy, rotated-filter convolution
    { x: [2, 9, 10, 3], k: [3, 3], co: 4, s: [2, 2], pad: 'same' },
    { x: [2, 50, 50, 3], k: [4, 4], co: 5, s: [2, 2], pad: 'same' }, // CSP-CAE: 25 → 50
    { x: [2, 25, 25, 2], k: [9, 9], co: 3, s: [5, 5], pad: 'same' }, // CSP-CAE background: 5 → 25
    { x: [1, 11, 13, 2], k: [3, 4], co: 3, s: [3, 2], pad: 'valid' },
    { x: [2, 12, 11, 1], k: [5, 3], co: 2, s: [2, 3], pad: 'same' },
  ];

  it.each(inputCases)('Conv2DBackpropInput matches cpu: %o', async ({ x, k, co, s, pad }) => {
    const filterShape = [k[0], k[1], x[3], co];
    const dyShape = [x[0], outSize(x[1], k[0], s[0], pad), outSize(x[2], k[1], s[1], pad), co];
    const got = await compare(
      'Conv2DBackpropInput',
      [
        { name: 'dy', shape: dyShape, data: randomData(dyShape, 3) },
        { name: 'filter', shape: filterShape, data: randomData(filterShape, 4) },
      ],
      { strides: s, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: x },
    );
    expect(got.shape).toEqual(x);
  });

  const poolCases: Array<{ x: number[]; f: number; s: number; pad: 'same' | 'valid'; quantum: number }> = [
    { x: [2, 12, 12, 3], f: 2, s: 2, pad: 'valid', quantum: 0 },
    { x: [2, 12, 12, 3], f: 2, s: 2, pad: 'valid', quantum: 0.5 }, // many ties: first maximum wins
    { x: [1, 15, 15, 2], f: 3, s: 3, pad: 'valid', quantum: 0.25 },
    { x: [2, 10, 10, 4], f: 5, s: 5, pad: 'valid', quantum: 0 },
    { x: [2, 9, 9, 2], f: 3, s: 2, pad: 'same', quantum: 0 }, // overlapping windows and padding
    { x: [2, 12, 12, 4], f: 2, s: 2, pad: 'valid', quantum: 0.5 },
    { x: [1, 15, 15, 8], f: 3, s: 3, pad: 'valid', quantum: 0.25 },
    { x: [2, 10, 10, 12], f: 5, s: 5, pad: 'valid', quantum: 0 },
    { x: [2, 10, 10, 4], f: 3, s: 3, pad: 'valid', quantum: 0 }, // window does not tile: last row/col unused
  ];

  it.each(poolCases)('MaxPoolGrad matches cpu: %o', async ({ x, f, s, pad, quantum }) => {
    const xData = randomData(x, 5, quantum);
    // The pooled output is part of the kernel's inputs; compute it on cpu.
    await tf.setBackend('cpu');
    const y = tf.tidy(() => tf.maxPool(tf.tensor4d(xData, x as [number, number, number, number]), f, s, pad));
    const yShape = y.shape;
    const yData = y.dataSync().slice() as Float32Array;
    y.dispose();
    await compare(
      'MaxPoolGrad',
      [
        { name: 'dy', shape: yShape, data: randomData(yShape, 6) },
        { name: 'input', shape: x, data: xData },
        { name: 'output', shape: yShape, data: yData },
      ],
      { filterSize: [f, f], strides: [s, s], pad, dimRoundingMode: undefined },
    );
  });

  const depthwiseCases: Array<{ x: number[]; k: number; m: number; s: number; d: number; pad: 'same' | 'valid' }> = [
    { x: [2, 9, 10, 3], k: 3, m: 1, s: 1, d: 1, pad: 'same' },
    { x: [2, 9, 10, 3], k: 3, m: 2, s: 1, d: 1, pad: 'valid' },
    { x: [2, 11, 10, 4], k: 3, m: 1, s: 2, d: 1, pad: 'same' },
    { x: [2, 11, 10, 2], k: 3, m: 3, s: 2, d: 1, pad: 'valid' },
    { x: [3, 8, 8, 5], k: 5, m: 1, s: 2, d: 1, pad: 'same' },
    { x: [2, 12, 11, 3], k: 3, m: 2, s: 1, d: 2, pad: 'same' },
    { x: [2, 12, 11, 3], k: 3, m: 1, s: 1, d: 2, pad: 'valid' },
  ];

  // The cpu kernels ignore dilation, so dilated cases are referenced by the
  // equivalent undilated kernel with zeros between the taps.
  it.each(depthwiseCases)('DepthwiseConv2dNativeBackpropFilter matches cpu: %o', async ({ x, k, m, s, d, pad }) => {
    const filterShape = [k, k, x[3], m];
    const dyShape = [x[0], outSize(x[1], k, s, pad, d), outSize(x[2], k, s, pad, d), x[3] * m];
    const inputs = [
      { name: 'x', shape: x, data: randomData(x, 7) },
      { name: 'dy', shape: dyShape, data: randomData(dyShape, 8) },
    ];
    const attrs = { strides: [s, s], dilations: [d, d], pad, dimRoundingMode: undefined, filterShape };
    const eff = (k - 1) * d + 1;
    const reference =
      d === 1
        ? undefined
        : {
            inputs,
            attrs: { ...attrs, dilations: [1, 1], filterShape: [eff, eff, x[3], m] },
            pick: (v: Float32Array) => undilateFilter(v, filterShape, d),
          };
    const got = await compare('DepthwiseConv2dNativeBackpropFilter', inputs, attrs, reference);
    expect(got.shape).toEqual(filterShape);
  });

  it.each(depthwiseCases)('DepthwiseConv2dNativeBackpropInput matches cpu: %o', async ({ x, k, m, s, d, pad }) => {
    const filterShape = [k, k, x[3], m];
    const dyShape = [x[0], outSize(x[1], k, s, pad, d), outSize(x[2], k, s, pad, d), x[3] * m];
    const filterData = randomData(filterShape, 10);
    const inputs = [
      { name: 'dy', shape: dyShape, data: randomData(dyShape, 9) },
      { name: 'filter', shape: filterShape, data: filterData },
    ];
    const attrs = { strides: [s, s], dilations: [d, d], pad, dimRoundingMode: undefined, inputShape: x };
    let reference;
    if (d > 1) {
      const wide = dilateFilter(filterData, filterShape, d);
      reference = {
        inputs: [inputs[0], { name: 'filter', shape: wide.shape, data: wide.data }],
        attrs: { ...attrs, dilations: [1, 1] },
      };
    }
    const got = await compare('DepthwiseConv2dNativeBackpropInput', inputs, attrs, reference);
    expect(got.shape).toEqual(x);
  });

  const singleChannelCases = [
    { x: [2, 9, 13, 1], co: 4, pad: 'same', k: 3, s: 1 },
    { x: [2, 9, 13, 1], co: 8, pad: 'valid', k: 3, s: 1 },
    { x: [1, 5, 3, 1], co: 12, pad: 'same', k: 3, s: 1 }, // narrower than one 4-pixel step
    { x: [3, 7, 22, 1], co: 4, pad: 'same', k: 3, s: 1 },
    { x: [2, 10, 14, 1], co: 4, pad: 'same', k: 3, s: 1 }, // even rows: 2-row blocks only
    { x: [2, 9, 13, 2], co: 4, pad: 'same', k: 3, s: 1 }, // two channels: stock kernel
    { x: [2, 9, 13, 1], co: 4, pad: 'same', k: 3, s: 2 }, // stride 2: stock kernel
    { x: [2, 9, 13, 1], co: 4, pad: 'same', k: 5, s: 1 }, // 5×5: stock kernel
  ] as const;

  it.each(singleChannelCases)('Conv2D matches cpu: %o', async ({ x, co, pad, k, s: stride }) => {
    const filterShape = [k, k, x[3], co];
    await compare(
      'Conv2D',
      [
        { name: 'x', shape: [...x], data: randomData([...x], 14) },
        { name: 'filter', shape: filterShape, data: randomData(filterShape, 15) },
      ],
      { strides: [stride, stride], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined },
    );
  });

  it.each(singleChannelCases.flatMap((c) => [{ ...c, activation: 'relu' }, { ...c, activation: 'linear' }]))(
    'FusedConv2D matches cpu: %o',
    async ({ x, co, pad, k, s: stride, activation }) => {
      const filterShape = [k, k, x[3], co];
      await compare(
        'FusedConv2D',
        [
          { name: 'x', shape: [...x], data: randomData([...x], 16) },
          { name: 'filter', shape: filterShape, data: randomData(filterShape, 17) },
          { name: 'bias', shape: [co], data: randomData([co], 18) },
        ],
        {
          strides: [stride, stride],
          pad,
          dataFormat: 'NHWC',
          dilations: [1, 1],
          dimRoundingMode: undefined,
          activation,
          leakyreluAlpha: 0,
        },
      );
    },
  );

  // conv output sizes: odd ones (and 8 channels + 'valid') exercise the edge paths;
  // an odd output with pool 2 falls back to the separate ops.
  it.each([
    { x: [2, 12, 18, 1], co: 4, pad: 'same', pool: 2, activation: 'relu', scale: 2.5, offset: -1.25 },
    { x: [3, 10, 14, 1], co: 8, pad: 'valid', pool: 2, activation: 'linear', scale: -0.5, offset: 0.3 },
    { x: [1, 6, 6, 1], co: 4, pad: 'same', pool: 2, activation: 'relu', scale: 1, offset: 0 },
    { x: [2, 9, 13, 1], co: 4, pad: 'same', pool: 1, activation: 'relu', scale: 3, offset: -1 },
    { x: [2, 9, 13, 1], co: 4, pad: 'same', pool: 2, activation: 'relu', scale: 3, offset: -1 },
  ] as const)('standardised conv + pool matches the separate ops on cpu: %o', async (c) => {
    const filterShape = [3, 3, 1, c.co];
    const make = () => ({
      x: tf.tensor4d(randomData([...c.x], 21), c.x as unknown as [number, number, number, number]),
      filter: tf.tensor4d(randomData(filterShape, 22), filterShape as [number, number, number, number]),
      bias: tf.tensor1d(randomData([c.co], 23)),
    });
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const t = make();
      const before = tf.memory().numTensors;
      let out!: tf.Tensor;
      const profile = await tf.profile(() => {
        out = standardisedConv2dPool(t.x, t.filter, t.bias, c);
        return out;
      });
      // the one-pass kernel must run wherever it applies (else the case tests nothing new)
      const oddPooled = c.pool === 2 && c.x[1] % 2 === 1;
      const fused = profile.kernels.some((k) => k.name === STANDARDISED_CONV_POOL_KERNEL);
      expect(fused).toBe(backend === 'wasm' && simd && !oddPooled);
      const values = (await out.data()) as Float32Array;
      const shape = out.shape;
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([t.x, t.filter, t.bias]);
      return { values, shape };
    };
    const expected = await run('cpu');
    const got = await run('wasm');
    expect(got.shape).toEqual(expected.shape);
    expect(relativeError(got.values, expected.values)).toBeLessThan(1e-4);
  });

  it('the ReLU gradient matches cpu (fused kernel on wasm)', async () => {
    const shape = [2, 17, 19, 4];
    const xData = randomData(shape, 19, 0.25); // quantised: many exact zeros
    const dyData = randomData(shape, 20);
    const gradOn = async (backend: string) => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor(xData, shape);
      const dy = tf.tensor(dyData, shape);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dy)))(x);
      const values = g.dataSync().slice();
      tf.dispose([x, dy, g]);
      expect(tf.memory().numTensors).toBe(before);
      return values;
    };
    const ref = await gradOn('cpu');
    const got = await gradOn('wasm');
    // Exact up to the sign of zero (dy·0 may give −0 on cpu).
    expect(relativeError(got as Float32Array, ref as Float32Array)).toBe(0);
    expect(ref.some((v) => v === 0) && ref.some((v) => v !== 0)).toBe(true);
  });

  it.each([
    { shape: [3, 20, 20, 4], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 20, 20, 4], axis: [2, 0, 1], keepDims: true },
    { shape: [5000, 1], axis: [0], keepDims: false },
    { shape: [2, 30, 30, 6], axis: [0, 1, 2], keepDims: false },
    { shape: [40, 40, 32], axis: [0, 1], keepDims: false },
    { shape: [3, 20, 20, 4], axis: [1, 2], keepDims: false }, // not leading axes: stock kernel
  ])('Sum matches cpu: %o', async ({ shape, axis, keepDims }) => {
    const got = await compare('Sum', [{ name: 'x', shape, data: randomData(shape, 11) }], { axis, keepDims });
    await tf.setBackend('cpu');
    const expectedShape = tf.tidy(() => tf.sum(tf.zeros(shape), axis, keepDims).shape);
    expect(got.shape).toEqual(expectedShape);
  });

  it.each([
    { a: [2, 30, 30, 8], b: [8] },
    { a: [1, 1, 1, 8], b: [2, 30, 30, 8] },
    { a: [2, 70, 70, 1], b: [1, 1, 1, 1] },
    { a: [4096, 3], b: [3] },
    { a: [2, 30, 30, 8], b: [2, 30, 30, 8] }, // no broadcast: stock kernel
    { a: [2, 30, 30, 8], b: [30, 1, 8] }, // other broadcast: stock kernel
  ])('Add matches cpu: %o', async ({ a, b }) => {
    const got = await compare(
      'Add',
      [
        { name: 'a', shape: a, data: randomData(a, 12) },
        { name: 'b', shape: b, data: randomData(b, 13) },
      ],
      {},
    );
    expect(got.values.length).toBe(Math.max(a.reduce((p, q) => p * q, 1), b.reduce((p, q) => p * q, 1)));
  });
});

describe('batch-norm gradient', () => {
  it('equals autodiff of the same formula written with primitive ops (x, mean, variance, scale, offset)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomData([2, 5, 6, 4], 31), [2, 5, 6, 4]);
    const dy = tf.tensor4d(randomData([2, 5, 6, 4], 32), [2, 5, 6, 4]);
    const params = [33, 34, 35, 36].map((seed) => tf.tensor1d(randomData([4], seed)));
    const [mean, rawVariance, scale, offset] = params;
    const variance = tf.add(tf.abs(rawVariance), 0.5);
    const fused = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.batchNorm(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3);
    const primitive = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.add(tf.mul(tf.div(tf.sub(a, m), tf.sqrt(tf.add(v, 1e-3))), s), o);
    const before = tf.memory().numTensors;
    const got = tf.grads(fused)([x, mean, variance, scale, offset], dy);
    const want = tf.grads(primitive)([x, mean, variance, scale, offset], dy);
    got.forEach((g, i) => expect(relativeError(g.dataSync() as Float32Array, want[i].dataSync() as Float32Array), `input ${i}`).toBeLessThan(1e-4));
    tf.dispose([...got, ...want]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy, ...params, variance]);
  });
});

describe('buffer-sharing Identity and Cast', () => {
  it('keep their values after the source tensor is disposed, and free the buffer last', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numBytes;
    const x = tf.tensor([1.5, -2, 3], [3]);
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    const i = tf.cast(x, 'int32');
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(z.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3]);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1.5, -2, 3]);
    z.dispose();
    i.dispose();
    expect(tf.memory().numBytes).toBe(before);
  });
});
