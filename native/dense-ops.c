/*
 * Dense-layer building blocks shared by the whole-network kernels (mlp.c) and the whole SAC update
 * (sac.c): a layer's forward pass with bias and activation, the activation gradient, bias gradients.
 */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "dense-ops.h"

/* In place; select-then-multiply forms (restrict, no branch) so GCC vectorises them. */
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
