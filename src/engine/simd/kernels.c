/*
 * SIMD kernels for the TF.js wasm backend (Tilescope).
 *
 * Built by build.sh with clang --target=wasm32 -msimd128 into a module that
 * imports the wasm backend's own memory, so these functions work directly on
 * tensor buffers (pointers come from the backend's allocator). Rules that
 * keep the module safe to share that memory: no static data, no globals, no
 * use of the shadow stack (build.sh checks the output for all three), and
 * every pointer argument refers to a buffer the caller allocated.
 *
 * All tensors are NHWC float32, contiguous.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

typedef v128_t vf;

INLINE vf ld(const float *p) { return wasm_v128_load(p); }
INLINE void st(float *p, vf v) { wasm_v128_store(p, v); }
INLINE vf madd(vf acc, vf a, vf b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

/* out[r, k] = x[r, k] + bias[k] for rows × c values. */
EXPORT(bias_add)
void bias_add(const float *x, const float *bias, float *out, int rows, int c) {
  if (c == 1) {
    const vf b = wasm_f32x4_splat(bias[0]);
    const long n = rows;
    long i = 0;
    for (; i + 4 <= n; i += 4) st(out + i, wasm_f32x4_add(ld(x + i), b));
    for (; i < n; i++) out[i] = x[i] + bias[0];
    return;
  }
  if ((c & 3) == 0) {
    for (int r = 0; r < rows; r++) {
      const float *xr = x + (long)r * c;
      float *orow = out + (long)r * c;
      for (int k = 0; k < c; k += 4) st(orow + k, wasm_f32x4_add(ld(xr + k), ld(bias + k)));
    }
    return;
  }
  for (int r = 0; r < rows; r++)
    for (int k = 0; k < c; k++) out[(long)r * c + k] = x[(long)r * c + k] + bias[k];
}

/*
 * out[k] = Σ_r x[r, k]. Rows are summed in blocks of 256 before joining the
 * total, which keeps float32 rounding error small on long reductions.
 */
EXPORT(sum_rows)
void sum_rows(const float *x, float *out, int rows, int c) {
  const int block = 256;
  for (int k = 0; k < c; k++) out[k] = 0.0f;
  if (c == 1) {
    for (long r0 = 0; r0 < rows; r0 += 4 * block) {
      long r1 = r0 + 4 * block < rows ? r0 + 4 * block : rows;
      vf acc = wasm_f32x4_splat(0.0f);
      long i = r0;
      for (; i + 4 <= r1; i += 4) acc = wasm_f32x4_add(acc, ld(x + i));
      float s = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
                wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
      for (; i < r1; i++) s += x[i];
      out[0] += s;
    }
    return;
  }
  if ((c & 3) == 0) {
    for (int r0 = 0; r0 < rows; r0 += block) {
      int r1 = r0 + block < rows ? r0 + block : rows;
      for (int k = 0; k < c; k += 4) {
        vf acc = wasm_f32x4_splat(0.0f);
        for (int r = r0; r < r1; r++) acc = wasm_f32x4_add(acc, ld(x + (long)r * c + k));
        st(out + k, wasm_f32x4_add(ld(out + k), acc));
      }
    }
    return;
  }
  for (int r0 = 0; r0 < rows; r0 += block) {
    int r1 = r0 + block < rows ? r0 + block : rows;
    for (int k = 0; k < c; k++) {
      float s = 0.0f;
      for (int r = r0; r < r1; r++) s += x[(long)r * c + k];
      out[k] += s;
    }
  }
}

/*
 * Max-pool gradient for windows that tile the input (window = stride, no
 * padding, H = OH·fh, W = OW·fw). The first strict maximum of each window
 * (row-major) receives dy; every other input position gets 0.
 */
EXPORT(max_pool_grad_tiled)
void max_pool_grad_tiled(const float *x, const float *dy, float *dx, int B, int OH, int OW, int fh, int fw,
                         int C) {
  const int W = OW * fw;
  const long rowStride = (long)W * C;
  for (int b = 0; b < B; b++) {
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const long base = ((long)b * OH * fh + (long)oh * fh) * rowStride + (long)ow * fw * C;
        const float *g = dy + (((long)b * OH + oh) * OW + ow) * C;
        int c = 0;
        if ((C & 3) == 0) {
          for (; c < C; c += 4) {
            vf best = wasm_f32x4_splat(-__builtin_inff());
            v128_t at = wasm_i32x4_splat(-1);
            int t = 0;
            for (int i = 0; i < fh; i++) {
              for (int j = 0; j < fw; j++, t++) {
                const vf v = ld(x + base + i * rowStride + (long)j * C + c);
                const v128_t gt = wasm_f32x4_gt(v, best);
                best = wasm_v128_bitselect(v, best, gt);
                at = wasm_v128_bitselect(wasm_i32x4_splat(t), at, gt);
              }
            }
            const vf gv = ld(g + c);
            const vf zero = wasm_f32x4_splat(0.0f);
            t = 0;
            for (int i = 0; i < fh; i++) {
              for (int j = 0; j < fw; j++, t++) {
                const v128_t hit = wasm_i32x4_eq(at, wasm_i32x4_splat(t));
                st(dx + base + i * rowStride + (long)j * C + c, wasm_v128_bitselect(gv, zero, hit));
              }
            }
          }
        }
        for (; c < C; c++) {
          float best = -__builtin_inff();
          long atIdx = -1;
          for (int i = 0; i < fh; i++) {
            for (int j = 0; j < fw; j++) {
              const long idx = base + i * rowStride + (long)j * C + c;
              dx[idx] = 0.0f;
              if (x[idx] > best) {
                best = x[idx];
                atIdx = idx;
              }
            }
          }
          if (atIdx >= 0) dx[atIdx] = g[c];
        }
      }
    }
  }
}

/*
 * Conv2D filter gradient (dilation 1), Co a multiple of 4:
 *   dw[i, j, ci, co] = Σ_{b, oh, ow} x[b, oh·sh + i − top, ow·sw + j − left, ci] · dy[b, oh, ow, co]
 * Positions outside x count as zero padding.
 *
 * The work is split into passes; each pass holds a small block of the
 * result in registers (NJ neighbouring taps j × NCI input channels × NCV
 * vectors of 4 output channels) and streams the rows of dy once. Sums are
 * formed per output row and then added to dw, which bounds float32 error.
 */
typedef struct {
  const float *x;
  const float *dy;
  float *dw;
  int B, H, W, Ci, OH, OW, Co, kh, kw, sh, sw, top, left;
} FilterGradArgs;

/* Adds one pixel's contribution for taps j0..j0+nj−1 with bounds checks (row borders). */
INLINE void filter_grad_border_pixel(const FilterGradArgs *a, int b, int ih, int oh, int ow, int i, int j0, int nj,
                                     int ci0, int nci, int co0, int ncv) {
  const float *g = a->dy + (((long)b * a->OH + oh) * a->OW + ow) * a->Co + co0;
  for (int jj = 0; jj < nj; jj++) {
    const int iw = ow * a->sw + j0 + jj - a->left;
    if (iw < 0 || iw >= a->W) continue;
    const float *xp = a->x + (((long)b * a->H + ih) * a->W + iw) * a->Ci + ci0;
    for (int c = 0; c < nci; c++) {
      const vf xs = wasm_f32x4_splat(xp[c]);
      float *d = a->dw + (((long)i * a->kw + j0 + jj) * a->Ci + ci0 + c) * a->Co + co0;
      for (int v = 0; v < ncv; v++) st(d + 4 * v, madd(ld(d + 4 * v), xs, ld(g + 4 * v)));
    }
  }
}

#define DEFINE_FILTER_GRAD_PASS(NAME, NJ, NCI, NCV)                                                        \
  static void NAME(const FilterGradArgs *a, int i, int j0, int ci0, int co0) {                            \
    for (int b = 0; b < a->B; b++) {                                                                       \
      for (int oh = 0; oh < a->OH; oh++) {                                                                 \
        const int ih = oh * a->sh + i - a->top;                                                            \
        if (ih < 0 || ih >= a->H) continue;                                                                \
        /* ow range in which all NJ taps fall inside the row */                                            \
        int owFrom = 0;                                                                                    \
        while (owFrom < a->OW && owFrom * a->sw + j0 - a->left < 0) owFrom++;                              \
        int owTo = a->OW;                                                                                  \
        while (owTo > owFrom && (owTo - 1) * a->sw + j0 + NJ - 1 - a->left >= a->W) owTo--;                \
        vf acc[NJ][NCI][NCV];                                                                              \
        for (int jj = 0; jj < NJ; jj++)                                                                    \
          for (int c = 0; c < NCI; c++)                                                                    \
            for (int v = 0; v < NCV; v++) acc[jj][c][v] = wasm_f32x4_splat(0.0f);                          \
        const float *xrow = a->x + ((long)b * a->H + ih) * a->W * a->Ci + ci0;                             \
        const float *grow = a->dy + ((long)b * a->OH + oh) * a->OW * a->Co + co0;                          \
        for (int ow = owFrom; ow < owTo; ow++) {                                                           \
          const float *xp = xrow + (long)(ow * a->sw + j0 - a->left) * a->Ci;                              \
          const float *g = grow + (long)ow * a->Co;                                                        \
          vf gv[NCV];                                                                                      \
          for (int v = 0; v < NCV; v++) gv[v] = ld(g + 4 * v);                                             \
          for (int jj = 0; jj < NJ; jj++)                                                                  \
            for (int c = 0; c < NCI; c++) {                                                                \
              const vf xs = wasm_f32x4_splat(xp[jj * a->Ci + c]);                                          \
              for (int v = 0; v < NCV; v++) acc[jj][c][v] = madd(acc[jj][c][v], xs, gv[v]);                \
            }                                                                                              \
        }                                                                                                  \
        for (int jj = 0; jj < NJ; jj++)                                                                    \
          for (int c = 0; c < NCI; c++) {                                                                  \
            float *d = a->dw + (((long)i * a->kw + j0 + jj) * a->Ci + ci0 + c) * a->Co + co0;              \
            for (int v = 0; v < NCV; v++) st(d + 4 * v, wasm_f32x4_add(ld(d + 4 * v), acc[jj][c][v]));     \
          }                                                                                                \
        for (int ow = 0; ow < owFrom; ow++)                                                                \
          filter_grad_border_pixel(a, b, ih, oh, ow, i, j0, NJ, ci0, NCI, co0, NCV);                        \
        for (int ow = owTo > owFrom ? owTo : owFrom; ow < a->OW; ow++)                                     \
          filter_grad_border_pixel(a, b, ih, oh, ow, i, j0, NJ, ci0, NCI, co0, NCV);                        \
      }                                                                                                    \
    }                                                                                                      \
  }

DEFINE_FILTER_GRAD_PASS(pass_j3_c1_v2, 3, 1, 2)
DEFINE_FILTER_GRAD_PASS(pass_j3_c1_v1, 3, 1, 1)
DEFINE_FILTER_GRAD_PASS(pass_j1_c4_v2, 1, 4, 2)
DEFINE_FILTER_GRAD_PASS(pass_j1_c4_v1, 1, 4, 1)
DEFINE_FILTER_GRAD_PASS(pass_j1_c1_v2, 1, 1, 2)
DEFINE_FILTER_GRAD_PASS(pass_j1_c1_v1, 1, 1, 1)

EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const float *x, const float *dy, float *dw, int B, int H, int W, int Ci, int OH, int OW,
                        int Co, int kh, int kw, int sh, int sw, int top, int left) {
  const FilterGradArgs a = {x, dy, dw, B, H, W, Ci, OH, OW, Co, kh, kw, sh, sw, top, left};
  const long n = (long)kh * kw * Ci * Co;
  for (long k = 0; k < n; k++) dw[k] = 0.0f;
  for (int i = 0; i < kh; i++) {
    int j0 = 0;
    /* Single input channel: three neighbouring taps per pass share each dy load. */
    if (Ci == 1) {
      for (; j0 + 3 <= kw; j0 += 3) {
        int co0 = 0;
        for (; co0 + 8 <= Co; co0 += 8) pass_j3_c1_v2(&a, i, j0, 0, co0);
        for (; co0 < Co; co0 += 4) pass_j3_c1_v1(&a, i, j0, 0, co0);
      }
    }
    for (; j0 < kw; j0++) {
      int ci0 = 0;
      for (; ci0 + 4 <= Ci; ci0 += 4) {
        int co0 = 0;
        for (; co0 + 8 <= Co; co0 += 8) pass_j1_c4_v2(&a, i, j0, ci0, co0);
        for (; co0 < Co; co0 += 4) pass_j1_c4_v1(&a, i, j0, ci0, co0);
      }
      for (; ci0 < Ci; ci0++) {
        int co0 = 0;
        for (; co0 + 8 <= Co; co0 += 8) pass_j1_c1_v2(&a, i, j0, ci0, co0);
        for (; co0 < Co; co0 += 4) pass_j1_c1_v1(&a, i, j0, ci0, co0);
      }
    }
  }
}

/*
 * Forward convolution for a single input channel and a 3×3 filter, stride 1
 * (the first layer of a grey-image encoder, where XNNPACK's GEMM has only
 * 9 values of depth to work with), optionally fused with the standardisation
 * before it and the 2×2 max-pool after it:
 *   conv[b, r, c, co] = bias[co] + Σ_{i,j} s(x[b, r + i − top, c + j − left]) · w[i, j, 0, co]
 * with s(v) = v · scale + offset inside the image and 0 in the padding (the
 * conv pads the standardised tile), then ReLU when `relu` ≠ 0, then
 * out = max over pool × pool windows (pool 1 or 2; for 2, OH and OW even).
 * OH × OW is the conv's output size; out is [B, OH / pool, OW / pool, Co].
 * Output channels go in groups of 4. Each step computes a block of 2 rows ×
 * 4 columns (8 independent accumulators keep the adder pipelines busy) from
 * unaligned row loads, then transposes to NHWC. `bias` may be 0 (none).
 */
INLINE vf conv_c1_pixel(const float *x, const float *w, int b, int H, int W, int Co, int co0, int r, int c, int top,
                        int left, float scale, float offset) {
  vf acc = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < 3; i++) {
    const int ih = r + i - top;
    if (ih < 0 || ih >= H) continue;
    const float *row = x + ((long)b * H + ih) * W;
    for (int j = 0; j < 3; j++) {
      const int iw = c + j - left;
      if (iw < 0 || iw >= W) continue;
      acc = madd(acc, wasm_f32x4_splat(row[iw] * scale + offset), ld(w + (i * 3 + j) * Co + co0));
    }
  }
  return acc;
}

/* acc[q][k]: conv row r0 + q, output channel co0 + k, lanes = columns c0 … c0 + 3 (all taps inside the row). */
INLINE void conv_c1_block(const float *x, const float *w, int b, int H, int W, int Co, int co0, int r0, int c0,
                          int top, int left, int rows, vf scale, vf offset, vf acc[2][4]) {
  const vf zero = wasm_f32x4_splat(0.0f);
  for (int q = 0; q < 2; q++)
    for (int k = 0; k < 4; k++) acc[q][k] = zero;
  for (int t = 0; t < 4; t++) {
    const int ih = r0 - top + t;
    if (ih < 0 || ih >= H) continue;
    const float *row = x + ((long)b * H + ih) * W + c0 - left;
    for (int j = 0; j < 3; j++) {
      const vf xv = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(row + j), scale), offset);
      if (t < 3) {
        const float *wt = w + (t * 3 + j) * Co + co0;
        for (int k = 0; k < 4; k++) acc[0][k] = madd(acc[0][k], xv, wasm_v128_load32_splat(wt + k));
      }
      if (t > 0 && rows == 2) {
        const float *wt = w + ((t - 1) * 3 + j) * Co + co0;
        for (int k = 0; k < 4; k++) acc[1][k] = madd(acc[1][k], xv, wasm_v128_load32_splat(wt + k));
      }
    }
  }
}

/* Lanes = columns per channel → one vector of 4 channels per column (4×4 transpose). */
INLINE void transpose4(const vf a[4], vf p[4]) {
  const v128_t t0 = wasm_i32x4_shuffle(a[0], a[1], 0, 4, 1, 5);
  const v128_t t1 = wasm_i32x4_shuffle(a[2], a[3], 0, 4, 1, 5);
  const v128_t t2 = wasm_i32x4_shuffle(a[0], a[1], 2, 6, 3, 7);
  const v128_t t3 = wasm_i32x4_shuffle(a[2], a[3], 2, 6, 3, 7);
  p[0] = wasm_i64x2_shuffle(t0, t1, 0, 2);
  p[1] = wasm_i64x2_shuffle(t0, t1, 1, 3);
  p[2] = wasm_i64x2_shuffle(t2, t3, 0, 2);
  p[3] = wasm_i64x2_shuffle(t2, t3, 1, 3);
}

INLINE vf bias_relu(vf v, vf bias, int relu) {
  v = wasm_f32x4_add(v, bias);
  return relu ? wasm_f32x4_max(v, wasm_f32x4_splat(0.0f)) : v;
}

EXPORT(conv2d_c1_3x3)
void conv2d_c1_3x3(const float *x, const float *w, const float *bias, float *out, int B, int H, int W, int OH,
                   int OW, int Co, int top, int left, int relu, float scale, float offset, int pool) {
  const vf sv = wasm_f32x4_splat(scale), ov = wasm_f32x4_splat(offset);
  const int PH = OH / pool, PW = OW / pool;
  /* Conv columns whose three taps all fall inside the row: [fastFrom, fastTo). */
  const int fastFrom = left < 0 ? 0 : left;
  int fastTo = W - 2 + left;
  if (fastTo > OW) fastTo = OW;
  for (int co0 = 0; co0 < Co; co0 += 4) {
    const vf bv = bias ? ld(bias + co0) : wasm_f32x4_splat(0.0f);
    for (int b = 0; b < B; b++) {
      if (pool == 1) {
        for (int r0 = 0; r0 < OH; r0 += 2) {
          const int rows = r0 + 1 < OH ? 2 : 1;
          int c = 0;
          while (c < OW) {
            if (c >= fastFrom && c + 4 <= fastTo) {
              vf acc[2][4], p[4];
              conv_c1_block(x, w, b, H, W, Co, co0, r0, c, top, left, rows, sv, ov, acc);
              /* constant row indices keep the accumulators out of memory */
              float *o = out + (((long)b * OH + r0) * OW + c) * Co + co0;
              transpose4(acc[0], p);
              for (int m = 0; m < 4; m++) st(o + (long)m * Co, bias_relu(p[m], bv, relu));
              if (rows == 2) {
                o += (long)OW * Co;
                transpose4(acc[1], p);
                for (int m = 0; m < 4; m++) st(o + (long)m * Co, bias_relu(p[m], bv, relu));
              }
              c += 4;
            } else {
              for (int q = 0; q < rows; q++) {
                const vf v = conv_c1_pixel(x, w, b, H, W, Co, co0, r0 + q, c, top, left, scale, offset);
                st(out + (((long)b * OH + r0 + q) * OW + c) * Co + co0, bias_relu(v, bv, relu));
              }
              c += 1;
            }
          }
        }
      } else {
        /* pool 2: max commutes with the per-channel bias and ReLU, so those come after it. */
        for (int ph = 0; ph < PH; ph++) {
          const int r0 = 2 * ph;
          int pw = 0;
          while (pw < PW) {
            const int c = 2 * pw;
            if (pw + 2 <= PW && c >= fastFrom && c + 4 <= fastTo) {
              vf acc[2][4], m[4], p[4];
              conv_c1_block(x, w, b, H, W, Co, co0, r0, c, top, left, 2, sv, ov, acc);
              for (int k = 0; k < 4; k++) m[k] = wasm_f32x4_max(acc[0][k], acc[1][k]);
              transpose4(m, p); /* p[n]: the 4 channels of column c + n */
              float *o = out + (((long)b * PH + ph) * PW + pw) * Co + co0;
              st(o, bias_relu(wasm_f32x4_max(p[0], p[1]), bv, relu));
              st(o + Co, bias_relu(wasm_f32x4_max(p[2], p[3]), bv, relu));
              pw += 2;
            } else {
              vf v = conv_c1_pixel(x, w, b, H, W, Co, co0, r0, c, top, left, scale, offset);
              v = wasm_f32x4_max(v, conv_c1_pixel(x, w, b, H, W, Co, co0, r0, c + 1, top, left, scale, offset));
              v = wasm_f32x4_max(v, conv_c1_pixel(x, w, b, H, W, Co, co0, r0 + 1, c, top, left, scale, offset));
              v = wasm_f32x4_max(v, conv_c1_pixel(x, w, b, H, W, Co, co0, r0 + 1, c + 1, top, left, scale, offset));
              st(out + (((long)b * PH + ph) * PW + pw) * Co + co0, bias_relu(v, bv, relu));
              pw += 1;
            }
          }
        }
      }
    }
  }
}
/*
 * Transposed convolution whose kernel equals its stride, no padding (also
 * Conv2DBackpropInput for such convs): every input pixel owns a kh×kw patch.
 *   out[b, oh·kh + p, ow·kw + q, c] = Σ_k x[b, oh, ow, k] · wr[k, p, q, c]
 * with wr the filter rearranged to [K, kh, kw, C] (K = channels of x).
 */
EXPORT(conv_transpose_patches)
void conv_transpose_patches(const float *x, const float *wr, float *out, int B, int OH, int OW, int K, int kh,
                            int kw, int C) {
  const int run = kw * C;
  const long outRow = (long)OW * run;
  for (int b = 0; b < B; b++) {
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const float *xp = x + (((long)b * OH + oh) * OW + ow) * K;
        for (int p = 0; p < kh; p++) {
          float *o = out + ((long)b * OH * kh + (long)oh * kh + p) * outRow + (long)ow * run;
          const float *wp = wr + (long)p * run;
          int r = 0;
          for (; r + 4 <= run; r += 4) {
            vf acc = wasm_f32x4_splat(0.0f);
            for (int k = 0; k < K; k++) acc = madd(acc, wasm_f32x4_splat(xp[k]), ld(wp + (long)k * kh * run + r));
            st(o + r, acc);
          }
          for (; r < run; r++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++) s += xp[k] * wp[(long)k * kh * run + r];
            o[r] = s;
          }
        }
      }
    }
  }
}

/* ReLU gradient: dx = dy where x > 0, else 0 (one pass instead of step, cast and multiply). */
EXPORT(relu_grad)
void relu_grad(const float *x, const float *dy, float *dx, int n) {
  const vf zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) st(dx + i, wasm_v128_and(ld(dy + i), wasm_f32x4_gt(ld(x + i), zero)));
  for (; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}
