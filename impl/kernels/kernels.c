/* Native float32 kernels for impl's row-wise and element-wise operators on CPU.
 *
 * Each function is the same math as the tensor-op formulas in impl/nn/functional (the derivations are there and
 * on the spec pages), done in one or two passes over memory where the tensor ops take several: that is the whole
 * point of this file. Rows are contiguous; the Python side checks dtype, device and layout before it calls here.
 * Work is split over OpenMP threads by rows (or chunks), with the thread count passed in from torch, and with
 * torch's own OpenMP runtime (the shared object names libgomp.so.1, which torch has already loaded).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* e^x for the vectorised loops: 2^k e^r with k = round(x log2 e) and |r| <= ln(2)/2, e^r by Cephes' degree-6
 * polynomial (about 1 ulp), and 2^k as a product of two powers of two built from their exponent bits, so that
 * results down into the subnormals and up to FLT_MAX come out right. Branch-free, so that a loop calling it
 * vectorises; NaN stays NaN. */
static inline float exp_f(float x) {
  float c = x < -104.0f ? -104.0f : x;
  c = c > 88.7228390f ? 88.7228390f : c;
  const float k = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
  const float r = (c - k * 0.693359375f) + k * 2.12194440e-4f;            /* ln 2 in two parts */
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t ki = (int32_t)k, half = ki >> 1;
  union {
    int32_t i;
    float f;
  } a = {.i = (half + 127) << 23}, b = {.i = (ki - half + 127) << 23};
  float y = (p * a.f) * b.f;
  y = x < -104.0f ? 0.0f : y;
  y = x > 88.7228390f ? INFINITY : y;
  return x != x ? x : y;
}

/* Below this many elements one thread does the work: waking a second costs more. */
#define GRAIN 32768

static int threads_for(int64_t work, int nt) { return (nt > 1 && work >= GRAIN) ? nt : 1; }

/* ---- layer_norm -------------------------------------------------------------------------------------------- */

/* y = (x - mean) * rstd * w + b per row of N; saves mean and rstd (M,). w and b may be NULL. */
void nnspec_layer_norm_fwd(const float *x, const float *w, const float *b, float *y, float *mean, float *rstd,
                           int64_t M, int64_t N, float eps, int nt) {
#pragma omp parallel for num_threads(threads_for(M * N, nt)) schedule(static)
  for (int64_t i = 0; i < M; i++) {
    const float *xr = x + i * N;
    float *yr = y + i * N;
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < N; j++) s += xr[j];
    const float mu = s / (float)N;
    float v = 0.f;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < N; j++) {
      const float d = xr[j] - mu;
      v += d * d;
    }
    const float r = 1.0f / sqrtf(v / (float)N + eps);
    mean[i] = mu;
    rstd[i] = r;
    if (w && b) {
#pragma omp simd
      for (int64_t j = 0; j < N; j++) yr[j] = (xr[j] - mu) * r * w[j] + b[j];
    } else if (w) {
#pragma omp simd
      for (int64_t j = 0; j < N; j++) yr[j] = (xr[j] - mu) * r * w[j];
    } else if (b) {
#pragma omp simd
      for (int64_t j = 0; j < N; j++) yr[j] = (xr[j] - mu) * r + b[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < N; j++) yr[j] = (xr[j] - mu) * r;
    }
  }
}

/* gx = r (g w - mean(g w) - x_hat mean(g w x_hat)), gw = sum_rows g x_hat, gb = sum_rows g; any output may be NULL.
 * The column sums run row by row in float, in each thread's block of rows, then over the threads in order: with
 * one thread, torch's own order. Returns 0, or -1 when memory runs out. */
int nnspec_layer_norm_bwd(const float *g, const float *x, const float *mean, const float *rstd, const float *w,
                          float *gx, float *gw, float *gb, int64_t M, int64_t N, int nt) {
  const int T = threads_for(M * N, nt);
  float *part_w = gw ? calloc((size_t)T * (size_t)N, sizeof(float)) : NULL;
  float *part_b = gb ? calloc((size_t)T * (size_t)N, sizeof(float)) : NULL;
  if ((gw && !part_w) || (gb && !part_b)) {
    free(part_w);
    free(part_b);
    return -1;
  }
  const float inv_n = 1.0f / (float)N;
#pragma omp parallel num_threads(T)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num();
#else
    const int t = 0;
#endif
    float *aw = part_w ? part_w + (size_t)t * (size_t)N : NULL;
    float *ab = part_b ? part_b + (size_t)t * (size_t)N : NULL;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < M; i++) {
      const float *gr = g + i * N, *xr = x + i * N;
      const float mu = mean[i], r = rstd[i];
      if (aw) {
#pragma omp simd
        for (int64_t j = 0; j < N; j++) aw[j] += gr[j] * ((xr[j] - mu) * r);
      }
      if (ab) {
#pragma omp simd
        for (int64_t j = 0; j < N; j++) ab[j] += gr[j];
      }
      if (gx) {
        float sg = 0.f, sx = 0.f;
        float *o = gx + i * N;
        if (w) {
#pragma omp simd reduction(+ : sg, sx)
          for (int64_t j = 0; j < N; j++) {
            const float gh = gr[j] * w[j];
            sg += gh;
            sx += gh * ((xr[j] - mu) * r);
          }
          const float a = sg * inv_n, c = sx * inv_n;
#pragma omp simd
          for (int64_t j = 0; j < N; j++) o[j] = r * (gr[j] * w[j] - a - (xr[j] - mu) * r * c);
        } else {
#pragma omp simd reduction(+ : sg, sx)
          for (int64_t j = 0; j < N; j++) {
            sg += gr[j];
            sx += gr[j] * ((xr[j] - mu) * r);
          }
          const float a = sg * inv_n, c = sx * inv_n;
#pragma omp simd
          for (int64_t j = 0; j < N; j++) o[j] = r * (gr[j] - a - (xr[j] - mu) * r * c);
        }
      }
    }
  }
  for (int k = 0; k < 2; k++) {
    float *part = k ? part_b : part_w, *out = k ? gb : gw;
    if (!part) continue;
    memcpy(out, part, (size_t)N * sizeof(float));
    for (int t = 1; t < T; t++)
      for (int64_t j = 0; j < N; j++) out[j] += part[(size_t)t * (size_t)N + j];
    free(part);
  }
  return 0;
}

/* ---- softmax and log_softmax over the last dimension --------------------------------------------------------- */

/* The row's max. A row holding a NaN or +inf gives NaN throughout, from exp(x - m), as torch's does. */
static inline float row_max(const float *restrict xr, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; j++) m = xr[j] > m ? xr[j] : m;
  return m;
}

/* sum_j exp(x_j - m), with e_j = exp(x_j - m) stored where e is not NULL. */
static inline float exp_sum(const float *restrict xr, float *restrict e, int64_t n, float m) {
  float s = 0.f;
  if (e) {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) {
      const float v = exp_f(xr[j] - m);
      e[j] = v;
      s += v;
    }
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; j++) s += exp_f(xr[j] - m);
  }
  return s;
}

/* For `rows` (1 to 4) consecutive rows of n from x: m[k] = max, s[k] = sum exp(x - m), and e = exp(x - m) where e
 * is not NULL. A row's max, exps and sum form one serial chain, short on rows such as a 65-letter vocabulary's
 * (where gcc's scalar loop epilogue lengthens it further); four rows in the same loops give the core independent
 * work to overlap: 1.6x faster at 768 x 65. */
static void rows_exp_sum(const float *x, float *e, int64_t rows, int64_t n, float *m, float *s) {
  if (rows < 4) {
    for (int64_t k = 0; k < rows; k++) {
      m[k] = row_max(x + k * n, n);
      s[k] = exp_sum(x + k * n, e ? e + k * n : NULL, n, m[k]);
    }
    return;
  }
  const float *x0 = x, *x1 = x + n, *x2 = x + 2 * n, *x3 = x + 3 * n;
  float m0 = -INFINITY, m1 = -INFINITY, m2 = -INFINITY, m3 = -INFINITY;
#pragma omp simd reduction(max : m0, m1, m2, m3)
  for (int64_t j = 0; j < n; j++) {
    m0 = x0[j] > m0 ? x0[j] : m0;
    m1 = x1[j] > m1 ? x1[j] : m1;
    m2 = x2[j] > m2 ? x2[j] : m2;
    m3 = x3[j] > m3 ? x3[j] : m3;
  }
  float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
  if (e) {
    float *e0 = e, *e1 = e + n, *e2 = e + 2 * n, *e3 = e + 3 * n;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t j = 0; j < n; j++) {
      const float v0 = exp_f(x0[j] - m0), v1 = exp_f(x1[j] - m1), v2 = exp_f(x2[j] - m2), v3 = exp_f(x3[j] - m3);
      e0[j] = v0;
      e1[j] = v1;
      e2[j] = v2;
      e3[j] = v3;
      s0 += v0;
      s1 += v1;
      s2 += v2;
      s3 += v3;
    }
  } else {
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t j = 0; j < n; j++) {
      s0 += exp_f(x0[j] - m0);
      s1 += exp_f(x1[j] - m1);
      s2 += exp_f(x2[j] - m2);
      s3 += exp_f(x3[j] - m3);
    }
  }
  m[0] = m0, m[1] = m1, m[2] = m2, m[3] = m3;
  s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}

/* softmax: y = exp(x - m) / sum exp(x - m); log_softmax: y = x - m - log(sum exp(x - m)); m the row's max. */
void nnspec_softmax_fwd(const float *x, float *y, int64_t M, int64_t N, int log, int nt) {
  const int64_t blocks = (M + 3) / 4;
#pragma omp parallel for num_threads(threads_for(M * N, nt)) schedule(static)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t i0 = blk * 4, rows = M - i0 < 4 ? M - i0 : 4;
    float m[4], s[4];
    rows_exp_sum(x + i0 * N, log ? NULL : y + i0 * N, rows, N, m, s);
    for (int64_t k = 0; k < rows; k++) {
      const float *xr = x + (i0 + k) * N;
      float *yr = y + (i0 + k) * N;
      if (log) {
        const float c = logf(s[k]); /* (x - m) - c: exact for logits of any size, where x - (m + c) is not */
#pragma omp simd
        for (int64_t j = 0; j < N; j++) yr[j] = (xr[j] - m[k]) - c;
      } else {
        const float r = 1.0f / s[k];
#pragma omp simd
        for (int64_t j = 0; j < N; j++) yr[j] *= r;
      }
    }
  }
}

/* softmax: gx = y (g - sum g y); log_softmax: gx = g - exp(y) sum g. On short rows (attention's 64) 256-bit vectors
 * measure 1.4x faster here than 512-bit ones, which suit the other kernels. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("prefer-vector-width=256")))
#endif
void nnspec_softmax_bwd(const float *g, const float *y, float *gx, int64_t M, int64_t N, int log, int nt) {
#pragma omp parallel for num_threads(threads_for(M * N, nt)) schedule(static)
  for (int64_t i = 0; i < M; i++) {
    const float *gr = g + i * N, *yr = y + i * N;
    float *o = gx + i * N;
    float s = 0.f;
    if (log) {
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < N; j++) s += gr[j];
#pragma omp simd
      for (int64_t j = 0; j < N; j++) o[j] = gr[j] - exp_f(yr[j]) * s;
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < N; j++) s += gr[j] * yr[j];
#pragma omp simd
      for (int64_t j = 0; j < N; j++) o[j] = yr[j] * (gr[j] - s);
    }
  }
}

/* ---- cross_entropy with class indices (no weights, no smoothing) -------------------------------------------- */

/* loss_i = log sum_c exp(x_ic - m_i) - (x_it - m_i) with t = t_i. With e non-NULL, also what the backward pass needs:
 * e = exp(x - m) and r_i = scale / sum_c e_ic, scale being 1 (sum, none) or 1 / (the number of targets not ignored)
 * (mean), so that d loss_i / d x_i = e_i r_i - scale onehot(t_i). A target equal to ignore_index gives a zero loss,
 * e row and r. With total non-NULL, *total = the losses' sum, or their mean over the targets kept (NaN when none
 * is: 0 / 0, as torch gives), summed in double. Returns -1, or the first row whose target is out of [0, C) and not
 * ignored (nothing is then written); *valid receives the number of targets not ignored. */
int64_t nnspec_cross_entropy_fwd(const float *x, const int64_t *t, float *loss, float *total, float *e, float *r,
                                 int64_t M, int64_t C, int64_t ignore_index, int mean, int64_t *valid, int nt) {
  int64_t kept = 0;
  for (int64_t i = 0; i < M; i++) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= C) return i;
    kept++;
  }
  *valid = kept;
  const float scale = mean ? 1.0f / (float)kept : 1.0f;
  const int64_t blocks = (M + 3) / 4;
#pragma omp parallel for num_threads(threads_for(M * C, nt)) schedule(static)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t i0 = blk * 4, rows = M - i0 < 4 ? M - i0 : 4;
    float m[4], s[4];
    rows_exp_sum(x + i0 * C, e ? e + i0 * C : NULL, rows, C, m, s);
    for (int64_t k = 0; k < rows; k++) {
      const int64_t i = i0 + k, ti = t[i];
      if (ti == ignore_index) {
        loss[i] = 0.0f;
        if (e) {
          memset(e + i * C, 0, (size_t)C * sizeof(float));
          r[i] = 0.0f;
        }
        continue;
      }
      if (e) r[i] = scale / s[k];
      loss[i] = logf(s[k]) - (x[i * C + ti] - m[k]);
    }
  }
  if (total) {
    double sum = 0.0;
    for (int64_t i = 0; i < M; i++) sum += loss[i];
    *total = mean ? (float)(sum / (double)kept) : (float)sum;
  }
  return -1;
}

/* grad_ic = (e_ic r_i - scale [c = t_i]) g_i, g_i = g[i * g_stride] (g_stride 0: one upstream gradient for all, the
 * reduced loss's). grad may be e itself. */
void nnspec_cross_entropy_bwd(const float *e, const float *r, const int64_t *t, const float *g, int64_t g_stride,
                              float *grad, int64_t M, int64_t C, int64_t ignore_index, float scale, int nt) {
#pragma omp parallel for num_threads(threads_for(M * C, nt)) schedule(static)
  for (int64_t i = 0; i < M; i++) {
    const float gi = g[i * g_stride], k = r[i] * gi;
    const float *er = e + i * C;
    float *o = grad + i * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) o[c] = er[c] * k;
    if (t[i] != ignore_index) o[t[i]] -= scale * gi;
  }
}

/* ---- gelu ---------------------------------------------------------------------------------------------------- */

#define SQRT1_2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f
#define TANH_A 0.79788456080286535588f /* sqrt(2 / pi) */
#define TANH_K 0.044715f

/* Phi(v), given e = exp(-v^2 / 2): erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, the form
 * torch's vectorised CPU erf takes), erf(|z|) = 1 - t P(t) e with z = v / sqrt 2 and t = 1 / (1 + p |z|); the lower
 * tail is taken as t P(t) e / 2 directly rather than as 1 minus a number close to 1. */
static inline float normal_cdf(float v, float e) {
  const float t = 1.0f / (1.0f + 0.3275911f * fabsf(v * SQRT1_2));
  const float q = 0.5f * t * ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
                              0.254829592f) * e;
  return v < 0.0f ? q : 1.0f - q;
}

/* y = x Phi(x) (exact) or x s with s = sigmoid(2u) = (1 + tanh u) / 2, u = sqrt(2/pi) (x + k x^3) (tanh); with d
 * non-NULL, d = dy/dx: Phi + x phi, or s + x s (1 - s) 2 sqrt(2/pi) (1 + 3 k x^2). */
void nnspec_gelu_fwd(const float *x, float *y, float *d, int64_t n, int tanh_form, int nt) {
  const int64_t chunk = 4096;
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(threads_for(n, nt)) schedule(static)
  for (int64_t k = 0; k < chunks; k++) {
    const int64_t lo = k * chunk, hi = lo + chunk < n ? lo + chunk : n;
    if (tanh_form) {
#pragma omp simd
      for (int64_t j = lo; j < hi; j++) {
        const float v = x[j], v2 = v * v;
        const float s = 1.0f / (1.0f + exp_f(-2.0f * TANH_A * v * (1.0f + TANH_K * v2)));
        y[j] = v * s;
        if (d) d[j] = s + v * s * (1.0f - s) * (2.0f * TANH_A) * (1.0f + 3.0f * TANH_K * v2);
      }
    } else {
#pragma omp simd
      for (int64_t j = lo; j < hi; j++) {
        const float v = x[j];
        const float e = exp_f(-0.5f * v * v);
        const float cdf = normal_cdf(v, e);
        y[j] = v * cdf;
        if (d) d[j] = cdf + v * (INV_SQRT_2PI * e);
      }
    }
  }
}
