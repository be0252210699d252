import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Gradient kernels for the wasm backend.
 *
 * TF.js 4.22's wasm backend has no Conv2DBackpropFilter and no depth-wise
 * conv gradients, so training fails there; and its Conv2DBackpropInput and
 * MaxPoolGrad are plain loops far slower than XNNPACK. Each kernel below is
 * rewritten in terms of kernels the wasm backend runs fast (Conv2D and
 * DepthwiseConv2dNative on XNNPACK, BatchMatMul, Transpose, DepthToSpace…),
 * called directly on TensorInfos so that no tensors reach the engine's
 * bookkeeping; every intermediate is released before the kernel returns.
 * Cases a rewrite does not cover fall back to the stock wasm kernel.
 */

const BACKEND = 'wasm';

type Explicit = backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/** Runs wasm kernels on TensorInfos and frees every intermediate it created. */
class KernelScope {
  private readonly temps: TensorInfo[] = [];
  constructor(readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const config = getKernel(kernelName, BACKEND);
    if (config === undefined) throw new Error(`wasm kernel ${kernelName} is not registered`);
    const out = config.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Releases every intermediate except `result`, which the caller returns. */
  finish(result: TensorInfo): TensorInfo {
    let kept = false;
    for (const t of this.temps) {
      if (t === result && !kept) {
        kept = true;
        continue;
      }
      this.backend.disposeData(t.dataId);
    }
    this.temps.length = 0;
    if (!kept) throw new Error('kernel result was not produced inside its scope');
    return result;
  }

  /** Releases everything (used when a fast route bails out). */
  abandon(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

function assertChannelsLast(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm supports NHWC only, got ${String(dataFormat)}`);
  }
}

function explicitPad(top: number, bottom: number, left: number, right: number): Explicit {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * Crops or zero-pads the two spatial axes of an NHWC tensor; negative amounts crop.
 */
function padOrCropSpatial(
  scope: KernelScope,
  x: TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): TensorInfo {
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = y.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    const size = [b, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c];
    y = scope.run('Slice', { x: y }, { begin: [0, t, l, 0], size });
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = scope.run(
      'PadV2',
      { x: y },
      {
        paddings: explicitPad(Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)),
        constantValue: 0,
      },
    );
  }
  return y;
}

// ---------------------------------------------------------------------------
// Conv2DBackpropFilter

/**
 * dW[i, j, ci, co] = Σ_{b, oh, ow} x_pad[b, oh·s + i, ow·s + j, ci] · dy[b, oh, ow, co].
 *
 * Read with ci as the batch, b as the channel and dy as a filter of size
 * OH×OW applied with dilation s, this is a forward convolution:
 * conv2d(x as [Ci, H, W, B], dy as [OH, OW, B, Co], dilation = s) gives
 * [Ci, kh', kw', Co] with kh' ≥ kh; crop and move Ci next to Co.
 */
function conv2DBackpropFilter(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Explicit;
    dataFormat: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: Shape4;
  };
  assertChannelsLast(dataFormat, 'Conv2DBackpropFilter');
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return filterGradientByConv(backend, x, dy, info, false);
}

/**
 * Shared by the dense and depth-wise filter gradients. For depth-wise, the
 * batch is folded into the channels and summed afterwards (see below).
 */
function filterGradientByConv(
  backend: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  depthwise: boolean,
): TensorInfo {
  const scope = new KernelScope(backend);
  const { batchSize: B, inChannels: Ci, outChannels: Co, outHeight: OH, outWidth: OW } = info;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const pads = explicitPad(info.padInfo.top, info.padInfo.bottom, info.padInfo.left, info.padInfo.right);
  const convAttrs = {
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
    pad: pads,
    dataFormat: 'NHWC',
  };
  if (!depthwise) {
    const xT = scope.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, B]
    const dyT = scope.transpose(dy, [1, 2, 0, 3]); // [OH, OW, B, Co]
    let g = scope.run('Conv2D', { x: xT, filter: dyT }, convAttrs); // [Ci, kh', kw', Co]
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      g = scope.run('Slice', { x: g }, { begin: [0, 0, 0, 0], size: [Ci, kh, kw, Co] });
    }
    return scope.finish(scope.transpose(g, [1, 2, 0, 3]));
  }
  // Depth-wise: every (b, ci) pair is its own channel, so a depth-wise conv of
  // x as [1, H, W, B·Ci] with dy as a [OH, OW, B·Ci, M] filter gives
  // [1, kh', kw', B·Ci·M]; summing over b leaves [kh, kw, Ci, M].
  const M = Co / Ci;
  const xT = scope.reshape(scope.transpose(x, [1, 2, 0, 3]), [1, x.shape[1], x.shape[2], B * Ci]);
  const dyT = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [OH, OW, B * Ci, M]);
  let g = scope.run('DepthwiseConv2dNative', { x: xT, filter: dyT }, convAttrs); // [1, kh', kw', B·Ci·M]
  if (g.shape[1] !== kh || g.shape[2] !== kw) {
    g = scope.run('Slice', { x: g }, { begin: [0, 0, 0, 0], size: [1, kh, kw, B * Ci * M] });
  }
  const perBatch = scope.reshape(g, [kh, kw, B, Ci * M]);
  const summed = B === 1 ? perBatch : scope.run('Sum', { x: perBatch }, { axis: [2], keepDims: false });
  const out = scope.reshape(summed, [kh, kw, Ci, M]);
  // A reshape shares its buffer; copy so the result owns fresh memory.
  return scope.finish(B === 1 ? scope.run('Identity', { x: out }) : out);
}

// ---------------------------------------------------------------------------
// Conv2DBackpropInput (also the forward pass of conv2dTranspose)

function conv2DBackpropInputFast(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Explicit;
    dataFormat: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: Shape4;
  };
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return null;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const { top, bottom, left, right } = info.padInfo;
  const scope = new KernelScope(backend);

  // Kernel = stride, no padding: the output is tiled by non-overlapping
  // kh×kw patches, each a linear map of one dy pixel: dy · Wᵀ, then
  // depth-to-space.
  if (
    kh === sh &&
    kw === sw &&
    top === 0 &&
    bottom === 0 &&
    left === 0 &&
    right === 0 &&
    H === OH * sh &&
    W === OW * sw
  ) {
    const dy2 = scope.reshape(dy, [B * OH * OW, Co]);
    const w2 = scope.reshape(filter, [kh * kw * Ci, Co]);
    const patches = scope.run('BatchMatMul', { a: dy2, b: w2 }, { transposeA: false, transposeB: true });
    if (kh === kw) {
      const nhwc = scope.reshape(patches, [B, OH, OW, kh * kw * Ci]);
      return scope.finish(scope.run('DepthToSpace', { x: nhwc }, { blockSize: kh, dataFormat: 'NHWC' }));
    }
    const six = scope.reshape(patches, [B, OH, OW, kh, kw, Ci]);
    const moved = scope.transpose(six, [0, 1, 3, 2, 4, 5]);
    return scope.finish(scope.run('Identity', { x: scope.reshape(moved, [B, H, W, Ci]) }));
  }

  // Stride 1: correlation of dy with the filter rotated by 180° and its
  // channel axes swapped, padded so that the output has the input's size.
  if (sh === 1 && sw === 1) {
    const padTop = kh - 1 - top;
    const padBottom = kh - 1 - bottom;
    const padLeft = kw - 1 - left;
    const padRight = kw - 1 - right;
    if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) return null;
    const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = scope.transpose(flipped, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
    const dx = scope.run(
      'Conv2D',
      { x: dy, filter: swapped },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: explicitPad(padTop, padBottom, padLeft, padRight),
        dataFormat: 'NHWC',
      },
    );
    if (dx.shape[1] !== H || dx.shape[2] !== W) {
      scope.abandon();
      return null;
    }
    return scope.finish(dx);
  }
  return null;
}

// ---------------------------------------------------------------------------
// MaxPoolGrad

/**
 * For pools whose windows tile the input exactly (window = stride, no
 * padding), the gradient goes to the first maximum of each window, like the
 * reference kernels: gather each window into the last axis, ArgMax, one-hot,
 * scale by dy and scatter back with a transpose.
 */
function maxPoolGradFast(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Explicit;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const fh = info.filterHeight;
  const fw = info.filterWidth;
  const { top, bottom, left, right } = info.padInfo;
  if (
    fh !== info.strideHeight ||
    fw !== info.strideWidth ||
    top !== 0 ||
    bottom !== 0 ||
    left !== 0 ||
    right !== 0 ||
    H !== OH * fh ||
    W !== OW * fw ||
    input.dtype !== 'float32'
  ) {
    return null;
  }
  const scope = new KernelScope(backend);
  const windowSize = fh * fw;
  const rows = B * OH * OW * C;
  const split = scope.reshape(input, [B, OH, fh, OW, fw, C]);
  const windows = scope.reshape(scope.transpose(split, [0, 1, 3, 5, 2, 4]), [rows, windowSize]);
  const first = scope.run('ArgMax', { x: windows }, { axis: [1] });
  // The wasm OneHot always writes int32, whatever dtype is asked for.
  const hotInt = scope.run('OneHot', { indices: first }, { depth: windowSize, onValue: 1, offValue: 0, dtype: 'int32' });
  const hot = scope.run('Cast', { x: hotInt }, { dtype: 'float32' });
  const scaled = scope.run('Multiply', { a: hot, b: scope.reshape(dy, [rows, 1]) });
  const back = scope.transpose(scope.reshape(scaled, [B, OH, OW, C, fh, fw]), [0, 1, 4, 2, 5, 3]);
  return scope.finish(scope.run('Identity', { x: scope.reshape(back, [B, H, W, C]) }));
}

/**
 * Any other pool geometry (overlapping windows, padding). The stock wasm
 * MaxPoolGrad of TF.js 4.22 is not usable here: it treats padding and
 * negative inputs as if the window maximum started at 0, so windows whose
 * values are all negative lose their gradient. This plain loop follows the
 * reference kernels: the first strict maximum of each window receives dy.
 */
function maxPoolGradGeneral(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as unknown as BackendWasm;
  const dy = inputs.dy as TensorInfo;
  const input = inputs.input as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Explicit;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const x = backend.readSync(input.dataId) as Float32Array;
  const g = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - top;
      const hFrom = Math.max(0, h0);
      const hTo = Math.min(H, h0 + fh);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - left;
        const wFrom = Math.max(0, w0);
        const wTo = Math.min(W, w0 + fw);
        const gBase = ((b * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let h = hFrom; h < hTo; h++) {
            for (let w = wFrom; w < wTo; w++) {
              const idx = ((b * H + h) * W + w) * C + c;
              if (x[idx] > best) {
                best = x[idx];
                at = idx;
              }
            }
          }
          if (at >= 0) dx[at] += g[gBase + c];
        }
      }
    }
  }
  const out = backend.makeOutput(input.shape, 'float32');
  backend.typedArrayFromHeap(out).set(dx);
  return out;
}

// ---------------------------------------------------------------------------
// Depth-wise conv gradients

function depthwiseBackpropFilter(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    dilations: [number, number] | number;
    pad: 'valid' | 'same' | number | Explicit;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: Shape4;
  };
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
    'channelsLast',
  );
  return filterGradientByConv(backend, x, dy, info, true);
}

/**
 * dx[b, h, w, c] = Σ_{i, j, m} dy[b, oh, ow, c·M + m] · W[i, j, c, m] with
 * h = oh·s + i·d − top. Insert s−1 zeros between dy pixels, pad (or crop) so
 * that a stride-1 depth-wise correlation with the 180°-rotated filter lands on
 * the input grid, then sum the M multiplier outputs of each channel.
 */
function depthwiseBackpropInput(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number;
    dilations: [number, number] | number;
    pad: 'valid' | 'same' | number | Explicit;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: Shape4;
  };
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
    'channelsLast',
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co } = info;
  const { outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const dh = info.dilationHeight;
  const dw = info.dilationWidth;
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const M = Co / Ci;
  const scope = new KernelScope(backend);

  let spread = dy;
  if (sh > 1 || sw > 1) {
    const six = scope.reshape(dy, [B, OH, 1, OW, 1, Co]);
    const padded = scope.run(
      'PadV2',
      { x: six },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    spread = scope.reshape(padded, [B, OH * sh, OW * sw, Co]);
  }
  const spanH = (kh - 1) * dh;
  const spanW = (kw - 1) * dw;
  const padTop = spanH - info.padInfo.top;
  const padLeft = spanW - info.padInfo.left;
  const padBottom = H + spanH - spread.shape[1] - padTop;
  const padRight = W + spanW - spread.shape[2] - padLeft;
  const framed = padOrCropSpatial(scope, spread, padTop, padBottom, padLeft, padRight);

  // Filter [kh, kw, Ci, M] → rotated, one output per (c, m) channel: [kh, kw, Ci·M, 1].
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const perChannel = scope.reshape(flipped, [kh, kw, Co, 1]);
  const corr = scope.run(
    'DepthwiseConv2dNative',
    { x: framed, filter: perChannel },
    { strides: [1, 1], dilations: [dh, dw], pad: 'valid', dataFormat: 'NHWC' },
  ); // [B, H, W, Ci·M]
  if (M === 1) return scope.finish(corr);
  const grouped = scope.reshape(corr, [B, H, W, Ci, M]);
  return scope.finish(scope.run('Sum', { x: grouped }, { axis: [4], keepDims: false }));
}

// ---------------------------------------------------------------------------
// Registration

/** Kernel names this module provides or replaces on the wasm backend. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

const MARK = Symbol.for('tilescope.wasmKernel');
type Marked = KernelFunc & { [MARK]?: true };

function mark(fn: KernelFunc): KernelFunc {
  (fn as Marked)[MARK] = true;
  return fn;
}

/** Replaces (or adds) a wasm kernel, keeping the stock setup step so the original stays usable. */
function install(
  kernelName: string,
  build: (stock: KernelConfig | undefined) => KernelFunc,
): void {
  const stock = getKernel(kernelName, BACKEND);
  if (stock !== undefined && (stock.kernelFunc as Marked)[MARK]) return;
  const kernelFunc = mark(build(stock));
  if (stock !== undefined) unregisterKernel(kernelName, BACKEND);
  registerKernel({ kernelName, backendName: BACKEND, setupFunc: stock?.setupFunc, kernelFunc });
}

function withFallback(
  kernelName: string,
  fast: (args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap }) => TensorInfo | null,
  stock: KernelConfig | undefined,
): KernelFunc {
  return (args) => {
    const a = args as { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap };
    const out = fast(a);
    if (out !== null) return out;
    if (stock === undefined) throw new Error(`no wasm ${kernelName} for these arguments`);
    return stock.kernelFunc(args);
  };
}

/**
 * Registers the training kernels on the wasm backend. Call after importing
 * '@tensorflow/tfjs-backend-wasm' (so its kernels exist) and before or after
 * `tf.setBackend('wasm')`. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (getKernel('Conv2D', BACKEND) === undefined) {
    throw new Error("the wasm backend is not loaded: import '@tensorflow/tfjs-backend-wasm' first");
  }
  install('Conv2DBackpropFilter', () => conv2DBackpropFilter as unknown as KernelFunc);
  install('Conv2DBackpropInput', (stock) => withFallback('Conv2DBackpropInput', conv2DBackpropInputFast, stock));
  install('MaxPoolGrad', () => ((args: Parameters<typeof maxPoolGradGeneral>[0]) =>
    maxPoolGradFast(args) ?? maxPoolGradGeneral(args)) as unknown as KernelFunc);
  install('DepthwiseConv2dNativeBackpropFilter', () => depthwiseBackpropFilter as unknown as KernelFunc);
  install('DepthwiseConv2dNativeBackpropInput', () => depthwiseBackpropInput as unknown as KernelFunc);
}

/** True when `kernelName` on wasm is this module's implementation. */
export function isTilescopeWasmKernel(kernelName: string): boolean {
  const k = getKernel(kernelName, BACKEND);
  return k !== undefined && (k.kernelFunc as Marked)[MARK] === true;
}
