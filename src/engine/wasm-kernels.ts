import {
  add,
  backend_util,
  neg,
  reshape,
  rsqrt,
  sub,
  sum,
  cast,
  engine,
  getBackend,
  getGradient,
  getKernel,
  maxPool,
  mul,
  registerGradient,
  registerKernel,
  step,
  tidy,
  fused,
  type Tensor,
  type Tensor4D,
  unregisterKernel,
  util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type NamedTensorMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
// Registered first, so that the ReLU gradient installed below replaces the stock one.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernelsFor } from './simd';

/**
 * Gradient kernels for the wasm backend.
 *
 * TF.js 4.22's wasm backend has no Conv2DBackpropFilter and no depth-wise
 * conv gradients, so training fails there; and its Conv2DBackpropInput and
 * MaxPoolGrad are plain loops far slower than XNNPACK. Each kernel below is
 * rewritten in terms of kernels the wasm backend runs fast (Conv2D and
 * DepthwiseConv2dNative on XNNPACK, BatchMatMul, Transpose, PadV2…),
 * called directly on TensorInfos so that no tensors reach the engine's
 * bookkeeping; every intermediate is released before the kernel returns.
 * Cases a rewrite does not cover fall back to the stock wasm kernel.
 *
 * Where no composition of wasm kernels is fast (pool gradients, bias sums,
 * bias adds, small-channel filter gradients), the project's own SIMD kernels
 * (./simd, attached with `attachSimdKernels`) work on the tensor buffers in
 * place; without them, portable JS loops or the compositions are used.
 */

const BACKEND = 'wasm';
const fusedConv2d = fused.conv2d;

/** Name of the fused ReLU-gradient kernel (wasm only; not a TF.js kernel name). */
export const RELU_GRAD_KERNEL = 'TilescopeReluGrad';

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

  /** A new float32 tensor freed with the other intermediates (contents undefined). */
  output(shape: number[]): TensorInfo {
    const out = (this.backend as unknown as BackendWasm).makeOutput(shape, 'float32');
    this.temps.push(out);
    return out;
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

function offsetOf(backend: KernelBackend, t: TensorInfo): number {
  return (backend as unknown as BackendWasm).getMemoryOffset(t.dataId);
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

/** Attributes shared by the conv kernels (and their gradients) that fix the geometry. */
interface ConvGeometryAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | Explicit;
  /** Absent on Conv2DBackpropFilter/Input, which have no dilation. */
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** tfjs' NHWC conv geometry from a kernel's attributes. */
function convInfo(attrs: NamedAttrMap, xShape: readonly number[], filterShape: readonly number[], depthwise: boolean): backend_util.Conv2DInfo {
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as ConvGeometryAttrs;
  return backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

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
  const { dataFormat, filterShape } = attrs as unknown as { dataFormat: string; filterShape: Shape4 };
  assertChannelsLast(dataFormat, 'Conv2DBackpropFilter');
  const info = convInfo(attrs, x.shape, filterShape, false);
  const simd = simdKernelsFor(backend);
  if (simd !== null && useSimdFilterGradient(info) && x.dtype === 'float32' && dy.dtype === 'float32') {
    const out = (backend as unknown as BackendWasm).makeOutput(filterShape, 'float32');
    simd.conv2d_filter_grad(
      offsetOf(backend, x),
      offsetOf(backend, dy),
      offsetOf(backend, out),
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
      info.outChannels,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
    );
    return out;
  }
  return filterGradientByConv(backend, x, dy, info, false);
}

/**
 * The SIMD kernel keeps a block of dW in registers and streams x and dy once
 * per block, so it wins when dW is small (few channels); XNNPACK's
 * convolution wins on wide layers.
 */
const SIMD_FILTER_GRADIENT_MAX_CHANNEL_PRODUCT = 256;
function useSimdFilterGradient(info: backend_util.Conv2DInfo): boolean {
  return info.outChannels % 4 === 0 && info.inChannels * info.outChannels <= SIMD_FILTER_GRADIENT_MAX_CHANNEL_PRODUCT;
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
  // Reshapes hold their own reference to the buffer, so returning one is safe.
  return scope.finish(scope.reshape(summed, [kh, kw, Ci, M]));
}

// ---------------------------------------------------------------------------
// Conv2DBackpropInput (also the forward pass of conv2dTranspose)

/**
 * [B, OH, OW, kh, kw, C] → [B, OH·kh, OW·kw, C]: every row of kw·C values is
 * contiguous on both sides (a depth-to-space generalised to kh ≠ kw). The
 * stock DepthToSpace and rank-6 Transpose are several times slower.
 */
function spreadPatches(
  backend: BackendWasm,
  src: TensorInfo,
  dst: TensorInfo,
  B: number,
  OH: number,
  OW: number,
  kh: number,
  kw: number,
  C: number,
): void {
  const from = backend.typedArrayFromHeap(src) as Float32Array;
  const to = backend.typedArrayFromHeap(dst) as Float32Array;
  const run = kw * C;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const rowBase = (b * OH + oh) * OW * kh * run;
      for (let p = 0; p < kh; p++) {
        for (let ow = 0; ow < OW; ow++) {
          let i = rowBase + (ow * kh + p) * run;
          for (let k = 0; k < run; k++) to[o++] = from[i++];
        }
      }
    }
  }
}

function conv2DBackpropInputFast(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { dataFormat, inputShape } = attrs as unknown as { dataFormat: string; inputShape: Shape4 };
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return null;
  const info = convInfo(attrs, inputShape, filter.shape, false);
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
    // [kh, kw, Ci, Co] → [Co, kh·kw·Ci]: a tiny copy that saves the slow transposed-B product.
    const w2 = scope.reshape(scope.transpose(filter, [3, 0, 1, 2]), [Co, kh * kw * Ci]);
    const simd = simdKernelsFor(backend);
    if (simd !== null && dy.dtype === 'float32') {
      const out = (backend as unknown as BackendWasm).makeOutput([B, H, W, Ci], 'float32');
      simd.conv_transpose_patches(offsetOf(backend, dy), offsetOf(backend, w2), offsetOf(backend, out), B, OH, OW, Co, kh, kw, Ci);
      scope.abandon();
      return out;
    }
    const dy2 = scope.reshape(dy, [B * OH * OW, Co]);
    const patches = scope.run('BatchMatMul', { a: dy2, b: w2 }, { transposeA: false, transposeB: false });
    const out = (backend as unknown as BackendWasm).makeOutput([B, H, W, Ci], 'float32');
    spreadPatches(backend as unknown as BackendWasm, patches, out, B, OH, OW, kh, kw, Ci);
    scope.abandon();
    return out;
  }

  // Correlation of dy with the filter rotated by 180° and its channel axes
  // swapped, padded so that the output has the input's size; for strides > 1
  // over dy with (stride − 1) zeros after each pixel (a transposed conv's
  // textbook form). XNNPACK runs the correlation.
  let source = dy;
  const upH = OH * sh;
  const upW = OW * sw;
  if (sh > 1 || sw > 1) {
    if (dy.dtype !== 'float32') return null;
    source = scope.output([B, upH, upW, Co]);
    insertZeros(backend as unknown as BackendWasm, dy, source, B, OH, OW, Co, sh, sw);
  }
  const padTop = kh - 1 - top;
  const padLeft = kw - 1 - left;
  // Rows past H + kh − 1 − padTop feed no output row: trailing zeros may be cut.
  const padBottom = H - upH - padTop + kh - 1;
  const padRight = W - upW - padLeft + kw - 1;
  if (padTop < 0 || padLeft < 0) {
    scope.abandon();
    return null;
  }
  if (padBottom < 0 || padRight < 0) {
    source = scope.run('Slice', { x: source }, { begin: [0, 0, 0, 0], size: [B, upH + Math.min(0, padBottom), upW + Math.min(0, padRight), Co] });
  }
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = scope.transpose(flipped, [0, 1, 3, 2]); // [kh, kw, Co, Ci]
  const dx = scope.run(
    'Conv2D',
    { x: source, filter: swapped },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: explicitPad(padTop, Math.max(0, padBottom), padLeft, Math.max(0, padRight)),
      dataFormat: 'NHWC',
    },
  );
  if (dx.shape[1] !== H || dx.shape[2] !== W) {
    scope.abandon();
    return null;
  }
  return scope.finish(dx);
}

/** dy [B, OH, OW, C] → [B, OH·sh, OW·sw, C] with each pixel at (oh·sh, ow·sw) and zeros elsewhere. */
function insertZeros(backend: BackendWasm, src: TensorInfo, dst: TensorInfo, B: number, OH: number, OW: number, C: number, sh: number, sw: number): void {
  const from = backend.typedArrayFromHeap(src) as Float32Array;
  const to = backend.typedArrayFromHeap(dst) as Float32Array;
  to.fill(0);
  const rowOut = OW * sw * C;
  let i = 0;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const base = (b * OH * sh + oh * sh) * rowOut;
      for (let ow = 0; ow < OW; ow++) {
        to.set(from.subarray(i, i + C), base + ow * sw * C);
        i += C;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// MaxPoolGrad

/**
 * The stock wasm MaxPoolGrad of TF.js 4.22 is wrong for negative inputs: a
 * window whose values are all negative loses its gradient (its running
 * maximum seems to start at 0). This kernel follows the reference kernels:
 * the first strict maximum of each window (row-major) receives dy, and
 * overlapping windows add up. It is a plain loop over the wasm heap: for the
 * pooling layers of the models here that is several times faster than any
 * composition of wasm kernels (which needs large transposes).
 */
function maxPoolGrad(args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap }): TensorInfo {
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
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error('MaxPoolGrad on wasm supports float32 only');
  }
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput(input.shape, 'float32');
  const tiles = fh === sh && fw === sw && top === 0 && left === 0 && H === OH * fh && W === OW * fw;
  const simd = simdKernelsFor(backend);
  if (tiles && simd !== null) {
    simd.max_pool_grad_tiled(
      backend.getMemoryOffset(input.dataId),
      backend.getMemoryOffset(dy.dataId),
      backend.getMemoryOffset(out.dataId),
      B,
      OH,
      OW,
      fh,
      fw,
      C,
    );
    return out;
  }
  // Views are taken after the allocation: growing the heap detaches older ones.
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  if (!tiles) dx.fill(0);
  const rowStride = W * C;
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
        const xBase = (b * H + hFrom) * rowStride + wFrom * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let h = hFrom, rowAt = xBase + c; h < hTo; h++, rowAt += rowStride) {
            for (let w = wFrom, idx = rowAt; w < wTo; w++, idx += C) {
              const v = x[idx];
              if (v > best) {
                best = v;
                at = idx;
              }
              // Windows that tile the input are written in full here, so no
              // separate zero fill is needed.
              if (tiles) dx[idx] = 0;
            }
          }
          if (at >= 0) dx[at] += g[gBase + c];
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sum over every axis but the last (bias gradients)

/**
 * The stock wasm Sum first transposes the reduced axes innermost, a full
 * copy of the input; bias gradients reduce [B, H, W, C] to [C], where one
 * pass with C accumulators suffices. Accumulates in double precision like the
 * cpu backend.
 */
function sumLeadingAxes(args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap }): TensorInfo | null {
  const { inputs, attrs } = args;
  const x = inputs.x as TensorInfo;
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return null;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
  if (axes.length !== rank - 1) return null;
  const sorted = [...axes].sort((a, b) => a - b);
  for (let i = 0; i < rank - 1; i++) if (sorted[i] !== i) return null;
  const C = x.shape[rank - 1];
  const n = util.sizeFromShape(x.shape);
  if (n < 4096 || C > 256) return null;
  const backend = args.backend as unknown as BackendWasm;
  const outShape = attrs.keepDims ? [...new Array(rank - 1).fill(1), C] : [C];
  const out = backend.makeOutput(outShape, 'float32');
  const simd = simdKernelsFor(backend);
  if (simd !== null) {
    simd.sum_rows(backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(out.dataId), n / C, C);
    return out;
  }
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(C);
  if (C === 1) {
    let s0 = 0;
    for (let i = 0; i < n; i++) s0 += src[i];
    acc[0] = s0;
  } else {
    for (let i = 0; i < n; i += C) for (let c = 0; c < C; c++) acc[c] += src[i + c];
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
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
  const { filterShape } = attrs as unknown as { filterShape: Shape4 };
  const info = convInfo(attrs, x.shape, filterShape, true);
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
  const { inputShape } = attrs as unknown as { inputShape: Shape4 };
  const info = convInfo(attrs, inputShape, filter.shape, true);
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
// Conv2D and FusedConv2D with one input channel

/**
 * The first conv of a grey-image encoder (1 input channel, 3×3, stride 1)
 * gives XNNPACK's GEMM a depth of only 9; a direct SIMD convolution that
 * computes four neighbouring pixels per step is several times faster.
 * FusedConv2D (inference) is covered for bias with linear or ReLU activation.
 */
function conv2dSingleChannel(
  args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap },
  fused: boolean,
): TensorInfo | null {
  const { inputs, backend, attrs } = args;
  if (simdKernelsFor(backend) === null) return null;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const bias = fused ? ((inputs.bias as TensorInfo | undefined) ?? null) : null;
  const { dataFormat } = attrs as unknown as { dataFormat?: string };
  const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  if (fused && inputs.preluActivationWeights != null) return null;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  if (x.shape.length !== 4 || x.shape[3] !== 1) return null;
  const [kh, kw, , co] = filter.shape;
  if (kh !== 3 || kw !== 3 || co % 4 !== 0) return null;
  if (bias !== null && (bias.dtype !== 'float32' || util.sizeFromShape(bias.shape) !== co)) return null;
  const info = convInfo(attrs, x.shape, filter.shape, false);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    return null;
  }
  return singleChannelConv(backend, x, filter, bias, info, activation === 'relu', { scale: 1, offset: 0, pool: 1 });
}

/** Runs the SIMD single-channel 3×3 conv (optionally standardising its input and max-pooling its output) into a new tensor. */
function singleChannelConv(
  backend: KernelBackend,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | null,
  info: backend_util.Conv2DInfo,
  relu: boolean,
  { scale, offset, pool }: { scale: number; offset: number; pool: number },
): TensorInfo {
  const simd = simdKernelsFor(backend)!;
  const co = filter.shape[3];
  const out = (backend as unknown as BackendWasm).makeOutput([info.batchSize, info.outHeight / pool, info.outWidth / pool, co], 'float32');
  simd.conv2d_c1_3x3(
    offsetOf(backend, x),
    offsetOf(backend, filter),
    bias === null ? 0 : offsetOf(backend, bias),
    offsetOf(backend, out),
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.outHeight,
    info.outWidth,
    co,
    info.padInfo.top,
    info.padInfo.left,
    relu ? 1 : 0,
    scale,
    offset,
    pool,
  );
  return out;
}

/** Kernel: standardise, 3×3 conv of one input channel, bias, optional ReLU, max-pool (wasm only). */
export const STANDARDISED_CONV_POOL_KERNEL = 'TilescopeStandardisedConvPool';

export interface StandardisedConvPoolOptions {
  /** The input is mapped to x · scale + offset before the conv (which pads that with zeros). */
  scale: number;
  offset: number;
  activation: 'linear' | 'relu';
  /** Max-pool window and stride after the conv: 1 (none) or 2. */
  pool: number;
  pad: 'same' | 'valid';
}

function standardisedConvPool(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (simdKernelsFor(backend) === null) throw new Error(`${STANDARDISED_CONV_POOL_KERNEL} needs the SIMD kernels`);
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const bias = (inputs.bias as TensorInfo | undefined) ?? null;
  const { scale, offset, activation, pool } = attrs as unknown as StandardisedConvPoolOptions;
  const info = convInfo({ strides: 1, pad: attrs.pad, dilations: 1 }, x.shape, filter.shape, false);
  return singleChannelConv(backend, x, filter, bias, info, activation === 'relu', { scale, offset, pool });
}

/**
 * maxPool(act(conv2d(x · scale + offset, filter) + bias), pool): the first
 * block of a grey-image encoder whose input is standardised, in one pass
 * over the tile on wasm (no standardised copy, no full-size conv output).
 * Other backends and shapes run the same ops one by one.
 */
export function standardisedConv2dPool(
  x: Tensor,
  filter: Tensor,
  bias: Tensor | null,
  options: StandardisedConvPoolOptions,
): Tensor {
  const { scale, offset, activation, pool, pad } = options;
  const [b, h, w, ci] = x.shape as Shape4;
  const [kh, kw, , co] = filter.shape as Shape4;
  const outH = pad === 'same' ? h : h - 2;
  const outW = pad === 'same' ? w : w - 2;
  const fits =
    getBackend() === BACKEND &&
    simdKernelsFor(engine().backend) !== null &&
    getKernel(STANDARDISED_CONV_POOL_KERNEL, BACKEND) !== undefined &&
    x.dtype === 'float32' &&
    ci === 1 &&
    kh === 3 &&
    kw === 3 &&
    co % 4 === 0 &&
    (pool === 1 || (pool === 2 && outH % 2 === 0 && outW % 2 === 0)) &&
    b > 0;
  if (fits) {
    const inputs: NamedTensorMap = bias === null ? { x, filter } : { x, filter, bias };
    return engine().runKernel(STANDARDISED_CONV_POOL_KERNEL, inputs, {
      scale,
      offset,
      activation,
      pool,
      pad,
    } as unknown as NamedAttrMap) as Tensor;
  }
  return tidy(() => {
    const standardised = add(mul(x, scale), offset);
    const conv = fusedConv2d({
      x: standardised as Tensor4D,
      filter: filter as Tensor4D,
      strides: 1,
      pad,
      bias: bias ?? undefined,
      activation,
    });
    return pool === 1 ? conv : maxPool(conv as Tensor4D, pool, pool, 'valid');
  });
}

// ---------------------------------------------------------------------------
// Bias add, Identity, Cast

/**
 * [..., C] + [C] (or [1, ..., 1, C]), either order: the bias add of every
 * unfused conv and dense layer. The stock wasm Add takes a slow general
 * broadcasting path for it. SIMD only; otherwise the stock kernel runs.
 */
function biasAdd(args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap }): TensorInfo | null {
  const { inputs, backend } = args;
  const simd = simdKernelsFor(backend);
  if (simd === null) return null;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const isBiasOf = (bias: TensorInfo, x: TensorInfo): boolean => {
    const rank = x.shape.length;
    if (rank < 2 || bias.shape.length > rank || bias.shape.length === 0) return false;
    const c = x.shape[rank - 1];
    if (bias.shape[bias.shape.length - 1] !== c) return false;
    for (let i = 0; i < bias.shape.length - 1; i++) if (bias.shape[i] !== 1) return false;
    return util.sizeFromShape(x.shape) >= 4096;
  };
  let x: TensorInfo;
  let bias: TensorInfo;
  if (isBiasOf(b, a)) {
    x = a;
    bias = b;
  } else if (isBiasOf(a, b)) {
    x = b;
    bias = a;
  } else {
    return null;
  }
  const c = x.shape[x.shape.length - 1];
  const out = (backend as unknown as BackendWasm).makeOutput(x.shape, 'float32');
  simd.bias_add(offsetOf(backend, x), offsetOf(backend, bias), offsetOf(backend, out), util.sizeFromShape(x.shape) / c, c);
  return out;
}

/**
 * Identity without a copy, as the cpu backend does it: TF.js tensors are
 * immutable, so sharing the buffer under a reference count is safe. The
 * engine clones every tensor it saves for the backward pass, so the stock
 * copying Identity costs a full pass over each activation in training.
 */
function identityShared(args: { inputs: NamedTensorInfoMap; backend: KernelBackend }): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string') throw new Error('unreachable: string tensors use the stock Identity');
  (args.backend as unknown as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

function castSameType(args: { inputs: NamedTensorInfoMap; backend: KernelBackend; attrs: NamedAttrMap }): TensorInfo | null {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype !== args.attrs.dtype || x.dtype === 'string') return null;
  return identityShared(args);
}

// ---------------------------------------------------------------------------
// ReLU gradient

function reluGrad(args: { inputs: NamedTensorInfoMap; backend: KernelBackend }): TensorInfo {
  const backend = args.backend as unknown as BackendWasm;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const out = backend.makeOutput(x.shape, 'float32');
  const n = util.sizeFromShape(x.shape);
  const simd = simdKernelsFor(backend);
  if (simd !== null) {
    simd.relu_grad(backend.getMemoryOffset(x.dataId), backend.getMemoryOffset(dy.dataId), backend.getMemoryOffset(out.dataId), n);
    return out;
  }
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < n; i++) dx[i] = xs[i] > 0 ? g[i] : 0;
  return out;
}

/**
 * TF.js differentiates ReLU as dy · cast(step(x)): three full passes. On
 * backends with the fused kernel (wasm, here) one pass does it; elsewhere the
 * original formula runs unchanged. The gradient registry is global, hence
 * the per-backend choice at run time.
 */
function installReluGradient(): void {
  const current = getGradient('Relu');
  if (current !== undefined && (current as { [MARK]?: true })[MARK]) return;
  const config = {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
      const [x] = saved;
      const g = dy as Tensor;
      return {
        x: () =>
          x.dtype === 'float32' && getKernel(RELU_GRAD_KERNEL, getBackend()) !== undefined
            ? (engine().runKernel(RELU_GRAD_KERNEL, { dy: g, x }) as Tensor)
            : mul(g, cast(step(x), 'float32')),
      };
    },
  };
  (config as { [MARK]?: true })[MARK] = true;
  registerGradient(config);
}

/**
 * Batch-norm gradient without full-size temporaries it does not need.
 * TF.js's own gradient tiles 1/σ up to the input's full shape before a
 * multiply and forms five full-size products; here the per-channel factors
 * are computed first and broadcast, and the two sums every parameter's
 * gradient needs (Σ dy and Σ dy·(x − μ)) are taken once: five passes over
 * the data instead of about twelve. Same formulas, every backend.
 */
function installBatchNormGradient(): void {
  const current = getGradient('FusedBatchNorm');
  if (current !== undefined && (current as { [MARK]?: true })[MARK]) return;
  const config = {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const g = dy as Tensor;
      const [x, mean, variance, scale] = saved;
      const epsilon = attrs.varianceEpsilon as number;
      const channels = mean.rank === 1;
      const axes = channels ? backend_util.getReductionAxes(mean.shape, x.shape) : [];
      const reduce = (t: Tensor) => (channels ? sum(t, axes) : t);
      const rstd = rsqrt(add(variance, epsilon)); // 1/σ per channel
      const scaled = scale == null ? rstd : mul(rstd, scale); // γ/σ
      // Made here, not in the closures: the engine runs each closure in its own
      // scope, but keeps what the gradient function itself creates until backprop ends.
      const sumDy = reduce(g);
      const sumDyCentred = reduce(mul(g, sub(x, mean)));
      return {
        x: () => reshape(mul(g, scaled), x.shape),
        mean: () => reshape(neg(mul(sumDy, scaled)), mean.shape),
        // d/dσ² of γ(x − μ)/σ = −½ γ (x − μ) σ⁻³
        variance: () => reshape(mul(mul(sumDyCentred, mul(scaled, mul(rstd, rstd))), -0.5), mean.shape),
        scale: () => reshape(mul(sumDyCentred, rstd), mean.shape),
        offset: () => reshape(sumDy, mean.shape),
      };
    },
  };
  (config as { [MARK]?: true })[MARK] = true;
  registerGradient(config as never);
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
  'Sum',
  'Add',
  'Identity',
  'Cast',
  'Conv2D',
  'FusedConv2D',
  RELU_GRAD_KERNEL,
  STANDARDISED_CONV_POOL_KERNEL,
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
  install('MaxPoolGrad', () => maxPoolGrad as unknown as KernelFunc);
  install('Sum', (stock) => withFallback('Sum', sumLeadingAxes, stock));
  install('Add', (stock) => withFallback('Add', biasAdd, stock));
  install('Identity', (stock) =>
    withFallback('Identity', (a) => ((a.inputs.x as TensorInfo).dtype === 'string' ? null : identityShared(a)), stock),
  );
  install('Cast', (stock) => withFallback('Cast', castSameType, stock));
  install(RELU_GRAD_KERNEL, () => reluGrad as unknown as KernelFunc);
  installReluGradient();
  installBatchNormGradient();
  install('Conv2D', (stock) => withFallback('Conv2D', (a) => conv2dSingleChannel(a, false), stock));
  install('FusedConv2D', (stock) => withFallback('FusedConv2D', (a) => conv2dSingleChannel(a, true), stock));
  install(STANDARDISED_CONV_POOL_KERNEL, () => standardisedConvPool as unknown as KernelFunc);
  install('DepthwiseConv2dNativeBackpropFilter', () => depthwiseBackpropFilter as unknown as KernelFunc);
  install('DepthwiseConv2dNativeBackpropInput', () => depthwiseBackpropInput as unknown as KernelFunc);
}

/** True when `kernelName` on wasm is this module's implementation. */
export function isTilescopeWasmKernel(kernelName: string): boolean {
  const k = getKernel(kernelName, BACKEND);
  return k !== undefined && (k.kernelFunc as Marked)[MARK] === true;
}
