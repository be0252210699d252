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
 * 9 values of depth to work with). Output channels in groups of 4; four
 * neighbouring output pixels are computed per step from unaligned row loads
 * and transposed to NHWC. `bias` may be 0 (none); `relu` ≠ 0 applies ReLU.
 *   out[b, oh, ow, co] = bias[co] + Σ_{i,j} x[b, oh + i − top, ow + j − left] · w[i, j, 0, co]
 */
EXPORT(conv2d_c1_3x3)
void conv2d_c1_3x3(const float *x, const float *w, const float *bias, float *out, int B, int H, int W, int OH,
                   int OW, int Co, int top, int left, int relu) {
  const vf zero = wasm_f32x4_splat(0.0f);
  /* Output columns whose three taps all fall inside the row. */
  int fastFrom = left < 0 ? 0 : left;
  int fastTo = W - 2 + left; /* exclusive: ow + 2 − left ≤ W − 1 */
  if (fastTo > OW) fastTo = OW;
  for (int co0 = 0; co0 < Co; co0 += 4) {
    const vf bv = bias ? ld(bias + co0) : zero;
    for (int b = 0; b < B; b++) {
      for (int oh = 0; oh < OH; oh++) {
        float *orow = out + ((long)b * OH + oh) * OW * Co + co0;
        int ow = 0;
        for (; ow < OW; ow++) {
          if (ow == fastFrom) {
            /* four pixels per step, all taps in range */
            for (; ow + 4 <= fastTo; ow += 4) {
              vf a0 = zero, a1 = zero, a2 = zero, a3 = zero; /* lanes: pixels; one vector per channel */
              for (int i = 0; i < 3; i++) {
                const int ih = oh + i - top;
                if (ih < 0 || ih >= H) continue;
                const float *row = x + ((long)b * H + ih) * W + ow - left;
                for (int j = 0; j < 3; j++) {
                  const vf xv = wasm_v128_load(row + j);
                  const float *wt = w + (i * 3 + j) * Co + co0;
                  a0 = madd(a0, xv, wasm_v128_load32_splat(wt));
                  a1 = madd(a1, xv, wasm_v128_load32_splat(wt + 1));
                  a2 = madd(a2, xv, wasm_v128_load32_splat(wt + 2));
                  a3 = madd(a3, xv, wasm_v128_load32_splat(wt + 3));
                }
              }
              /* 4×4 transpose: lanes become channels, vectors become pixels */
              const v128_t t0 = wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5);
              const v128_t t1 = wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5);
              const v128_t t2 = wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7);
              const v128_t t3 = wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7);
              vf p0 = wasm_f32x4_add(wasm_i64x2_shuffle(t0, t1, 0, 2), bv);
              vf p1 = wasm_f32x4_add(wasm_i64x2_shuffle(t0, t1, 1, 3), bv);
              vf p2 = wasm_f32x4_add(wasm_i64x2_shuffle(t2, t3, 0, 2), bv);
              vf p3 = wasm_f32x4_add(wasm_i64x2_shuffle(t2, t3, 1, 3), bv);
              if (relu) {
                p0 = wasm_f32x4_max(p0, zero);
                p1 = wasm_f32x4_max(p1, zero);
                p2 = wasm_f32x4_max(p2, zero);
                p3 = wasm_f32x4_max(p3, zero);
              }
              float *o = orow + (long)ow * Co;
              st(o, p0);
              st(o + Co, p1);
              st(o + 2 * Co, p2);
              st(o + 3 * Co, p3);
            }
            if (ow >= OW) break;
          }
          /* one pixel, with bounds checks */
          vf acc = bv;
          for (int i = 0; i < 3; i++) {
            const int ih = oh + i - top;
            if (ih < 0 || ih >= H) continue;
            const float *row = x + ((long)b * H + ih) * W;
            for (int j = 0; j < 3; j++) {
              const int iw = ow + j - left;
              if (iw < 0 || iw >= W) continue;
              acc = madd(acc, wasm_f32x4_splat(row[iw]), ld(w + (i * 3 + j) * Co + co0));
            }
          }
          if (relu) acc = wasm_f32x4_max(acc, zero);
          st(orow + (long)ow * Co, acc);
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
