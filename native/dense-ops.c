/*
 * Dense-layer building blocks shared by the whole-network kernels (mlp.c) and the whole SAC update
 * (sac.c): a layer's forward pass with bias and activation, the activation gradient, bias gradients.
 */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "dense-ops.h"

/*
 * The elementwise loops below are memory- and divide-bound, and the addon is built for baseline x86-64
 * (SSE2) so that one build runs on any machine. target_clones compiles each loop also for AVX2 and
 * AVX-512 and picks one at load time: at 2x128 / batch 256 these loops were ~10% of a SAC update.
 * They hold no reductions across lanes and the build uses -ffp-contract=off (no FMA contraction), so
 * every clone computes bit-identical results; only the speed differs between machines.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define PBRL_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PBRL_SIMD_CLONES
#endif

/* In place; select-then-multiply forms (restrict, no branch) so GCC vectorises them. */
PBRL_SIMD_CLONES
void pbrl_activate(float *restrict h, int64_t n, int64_t act, float alpha) {
  const float a = alpha;
  switch (act) {
    case F_RELU:
      for (int64_t j = 0; j < n; j++) {
        float v = h[j];
        float r = v > 0.f ? v : 0.f;
        h[j] = v != v ? v : r; /* NaN passes through, as in tfjs */
      }
      break;
    case F_LEAKYRELU:
      for (int64_t j = 0; j < n; j++) {
        float v = h[j];
        float s = v * a;
        h[j] = v > 0.f ? v : s; /* a select of two values vectorises; NaN stays NaN (NaN * a) */
      }
      break;
    case F_SIGMOID:
      for (int64_t j = 0; j < n; j++) h[j] = 1.f / (1.f + expf(-h[j]));
      break;
    case F_TANH:
      for (int64_t j = 0; j < n; j++) h[j] = tanhf(h[j]);
      break;
    default:
      break;
  }
}

/*
 * out = act(a @ w + bias) for rows x din @ din x dout. The bias rows are written first and sgemm adds
 * the product to them (beta = 1): with beta = 0 OpenBLAS clears the output in a pass of its own, and
 * adding the bias after it is another.
 */
void pbrl_dense_layer(const float *a, const float *w, const float *restrict bias, float *restrict out, int64_t rows,
                        int64_t din, int64_t dout, int64_t act, float alpha) {
  for (int64_t r = 0; r < rows; r++) memcpy(out + r * dout, bias, (size_t)dout * 4);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)dout, (int)din, 1.f, a, (int)din, w, (int)dout, 1.f,
              out, (int)dout);
  if (act != F_LINEAR) pbrl_activate(out, rows * dout, act, alpha);
}

/*
 * g *= f'(pre), written with the activation's output y. The slope is formed as a select and then
 * multiplied (restrict pointers, no branch): with a branch GCC emits a scalar loop that mispredicts on
 * y's random signs, which made this the largest cost of a small network's backward pass.
 */
PBRL_SIMD_CLONES
void pbrl_activation_grad(float *restrict g, const float *restrict y, int64_t n, int64_t act, float alpha) {
  switch (act) {
    case F_RELU:
      for (int64_t j = 0; j < n; j++) {
        float m = y[j] > 0.f ? 1.f : 0.f;
        g[j] = g[j] * m;
      }
      break;
    case F_LEAKYRELU:
      for (int64_t j = 0; j < n; j++) {
        float m = y[j] > 0.f ? 1.f : alpha;
        g[j] = g[j] * m;
      }
      break;
    case F_SIGMOID:
      for (int64_t j = 0; j < n; j++) g[j] = g[j] * (y[j] * (1.f - y[j]));
      break;
    case F_TANH:
      for (int64_t j = 0; j < n; j++) g[j] = g[j] * (1.f - y[j] * y[j]);
      break;
    default:
      break;
  }
}

/* db = column sums of g [B, n]. */
PBRL_SIMD_CLONES
void pbrl_column_sums(float *restrict db, const float *restrict g, int64_t B, int64_t n) {
  memset(db, 0, (size_t)n * 4);
  for (int64_t r = 0; r < B; r++) {
    const float *restrict gr = g + r * n;
    for (int64_t c = 0; c < n; c++) db[c] += gr[c];
  }
}


/*
 * The bias corrections are applied as multiplications by their reciprocals: two divisions per element
 * were most of this loop's time.
 */
PBRL_SIMD_CLONES
void pbrl_adam_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, int64_t n, const PbrlAdam *p) {
  const float b1 = p->b1, b2 = p->b2, eps = p->eps, lr = p->lr;
  const float ibc1 = (float)(1.0 / (1.0 - pow(p->b1, p->t))), ibc2 = (float)(1.0 / (1.0 - pow(p->b2, p->t)));
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + (1.f - b1) * gi;
    float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= lr * (mi * ibc1) / (sqrtf(vi * ibc2) + eps);
  }
}

/*
 * tanh, exp and log1p over arrays, for the tanh-Gaussian policy's per-sample math. glibc's scalar
 * tanhf/expf/log1pf cost 10-20 ns a call, ~6% of a 2x128 SAC update; libmvec (glibc >= 2.35 has all
 * three) does four lanes a call and picks its SSE4 / AVX2 / AVX-512 body when it is loaded. The tail is
 * padded to four lanes so a value's result never depends on where it sits in the array. Elsewhere the
 * scalar libm calls.
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#include <emmintrin.h>
__m128 _ZGVbN4v_tanhf(__m128);
__m128 _ZGVbN4v_expf(__m128);
__m128 _ZGVbN4v_log1pf(__m128);
typedef __m128 (*Vec4Fn)(__m128);

static void map4(float *x, int64_t n, Vec4Fn f) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, f(_mm_loadu_ps(x + i)));
  if (i < n) {
    float pad[4] = {0.f, 0.f, 0.f, 0.f};
    memcpy(pad, x + i, (size_t)(n - i) * 4);
    _mm_storeu_ps(pad, f(_mm_loadu_ps(pad)));
    memcpy(x + i, pad, (size_t)(n - i) * 4);
  }
}
void pbrl_tanh_array(float *x, int64_t n) { map4(x, n, _ZGVbN4v_tanhf); }
void pbrl_exp_array(float *x, int64_t n) { map4(x, n, _ZGVbN4v_expf); }
void pbrl_log1p_array(float *x, int64_t n) { map4(x, n, _ZGVbN4v_log1pf); }
int pbrl_vector_math(void) { return 1; }
#else
void pbrl_tanh_array(float *x, int64_t n) { for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i]); }
void pbrl_exp_array(float *x, int64_t n) { for (int64_t i = 0; i < n; i++) x[i] = expf(x[i]); }
void pbrl_log1p_array(float *x, int64_t n) { for (int64_t i = 0; i < n; i++) x[i] = log1pf(x[i]); }
int pbrl_vector_math(void) { return 0; }
#endif
