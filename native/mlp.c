/*
 * A whole dense stack (MLP or ensemble of MLPs) forward and backward, one native call each.
 *
 * Why: at the sizes PbRL trains (2x128 to 3x256, batch 256-512) a tfjs update spends more time in
 * per-kernel dispatch than in GEMM: every layer costs a fused matmul plus saves in the forward pass,
 * and an activation-gradient, three matmuls and a bias reduction in the backward pass. Here the
 * forward pass writes every hidden activation into one workspace tensor, and the backward pass walks
 * the layers in C, so a network costs two kernel dispatches per update whatever its depth.
 *
 * Layout (all float32, row-major, byte offsets into the wasm heap):
 *   spec = [E, B, L, xShared, actHidden, actOut, alpha, d0, d1, ..., dL]
 *   x  [E, B, d0] (or [B, d0] shared by all members when xShared), y [E, B, dL]
 *   w_l [E, d_l, d_{l+1}], b_l [E, d_{l+1}]
 *   ws: the hidden activations, layer after layer, each [E, B, d_{l+1}] for l = 0 .. L-2
 * E = 1 is a plain MLP. JS side: core/nn/fused-mlp.ts.
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dense-ops.h"

#define MAX_LAYERS 16

typedef struct {
  int64_t E, B, L, shared, actHidden, actOut;
  float alpha;
  int64_t d[MAX_LAYERS + 1];
} Spec;

static int read_table(napi_env env, napi_value v, const double **out, size_t *len) {
  napi_typedarray_type t;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, len, &data, NULL, NULL) != napi_ok || t != napi_float64_array) return 0;
  *out = (const double *)data;
  return 1;
}

static int act_known(int64_t a) {
  return a == F_LINEAR || a == F_RELU || a == F_SIGMOID || a == F_LEAKYRELU || a == F_TANH;
}

static const char *parse_spec(const double *s, size_t n, Spec *sp) {
  if (n < 8) return "spec too short";
  sp->E = (int64_t)s[0];
  sp->B = (int64_t)s[1];
  sp->L = (int64_t)s[2];
  sp->shared = (int64_t)s[3];
  sp->actHidden = (int64_t)s[4];
  sp->actOut = (int64_t)s[5];
  sp->alpha = (float)s[6];
  if (sp->L < 1 || sp->L > MAX_LAYERS || n != (size_t)(8 + sp->L)) return "spec length does not match its layer count";
  if (sp->E < 1 || sp->B < 0) return "bad member or batch count";
  if (!act_known(sp->actHidden) || !act_known(sp->actOut)) return "unsupported activation code";
  for (int64_t l = 0; l <= sp->L; l++) {
    sp->d[l] = (int64_t)s[7 + l];
    if (sp->d[l] < 1) return "layer sizes must be positive";
  }
  return NULL;
}

static int in_heap(int64_t off, int64_t bytes, size_t heap_len) {
  return off >= 0 && bytes >= 0 && off + bytes <= (int64_t)heap_len;
}

/* Bytes of the workspace: every hidden layer's activations for all members. */
static int64_t ws_floats(const Spec *sp) {
  int64_t n = 0;
  for (int64_t l = 0; l + 1 < sp->L; l++) n += sp->E * sp->B * sp->d[l + 1];
  return n;
}

/* Scratch for the backward pass, grown on demand and kept: the addon runs on Node's main thread only. */
static float *scratch = NULL;
static size_t scratch_floats = 0;

static float *scratch_for(size_t floats) {
  if (floats > scratch_floats) {
    /* 64-byte aligned so OpenBLAS's packing reads whole cache lines. */
    free(scratch);
    size_t bytes = ((floats * 4 + 63) / 64) * 64;
    scratch = (float *)aligned_alloc(64, bytes);
    scratch_floats = scratch ? floats : 0;
  }
  return scratch;
}

#define F32(off) ((float *)(heap + (int64_t)(off)))

/* mlpForward(heap, spec: Float64Array, offs: Float64Array [x, y, ws (-1: inference), w0, b0, w1, b1, ...]) */
napi_value PbrlMlpForward(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *data;
  size_t heap_len, sn, on;
  const double *s, *o;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_arraybuffer_info(env, argv[0], &data, &heap_len) != napi_ok || !read_table(env, argv[1], &s, &sn) ||
      !read_table(env, argv[2], &o, &on)) {
    napi_throw_type_error(env, NULL, "pbrl mlpForward: expected (heap ArrayBuffer, spec Float64Array, offsets Float64Array)");
    return NULL;
  }
  Spec sp;
  const char *err = parse_spec(s, sn, &sp);
  if (err) {
    napi_throw_range_error(env, NULL, err);
    return NULL;
  }
  const int64_t E = sp.E, B = sp.B, L = sp.L;
  if (on != (size_t)(3 + 2 * L)) {
    napi_throw_range_error(env, NULL, "pbrl mlpForward: offsets table has the wrong length");
    return NULL;
  }
  /* Bounds: a wrong offset must be an exception, never a write outside the heap. */
  /* ws < 0: inference, no workspace (nothing will be differentiated). */
  const int inference = o[2] < 0;
  int ok = in_heap((int64_t)o[0], (sp.shared ? 1 : E) * B * sp.d[0] * 4, heap_len) &&
           in_heap((int64_t)o[1], E * B * sp.d[L] * 4, heap_len) &&
           (L == 1 || inference || in_heap((int64_t)o[2], ws_floats(&sp) * 4, heap_len));
  for (int64_t l = 0; l < L && ok; l++) {
    ok = in_heap((int64_t)o[3 + 2 * l], E * sp.d[l] * sp.d[l + 1] * 4, heap_len) &&
         in_heap((int64_t)o[4 + 2 * l], E * sp.d[l + 1] * 4, heap_len);
  }
  if (!ok) {
    napi_throw_range_error(env, NULL, "pbrl mlpForward: operand outside the wasm heap");
    return NULL;
  }
  uint8_t *heap = (uint8_t *)data;
  if (B == 0) return NULL;
  if (inference && L > 1) {
    /*
     * Nothing will be differentiated, so no activations are kept: rows go through all layers in tiles
     * small enough for the hidden activations to stay in cache (relabelling runs 4096-row chunks).
     */
    const int64_t T = 256;
    int64_t maxh = 0;
    for (int64_t l = 1; l < L; l++) maxh = sp.d[l] > maxh ? sp.d[l] : maxh;
    float *buf = scratch_for((size_t)(2 * T * maxh + 16));
    if (!buf) {
      napi_throw_error(env, NULL, "pbrl mlpForward: out of memory for the scratch buffer");
      return NULL;
    }
    float *bufs[2] = {buf, buf + ((T * maxh + 15) / 16) * 16};
    for (int64_t e = 0; e < E; e++) {
      for (int64_t r0 = 0; r0 < B; r0 += T) {
        const int64_t rows = B - r0 < T ? B - r0 : T;
        const float *a = F32(o[0]) + (sp.shared ? 0 : e * B * sp.d[0]) + r0 * sp.d[0];
        for (int64_t l = 0; l < L; l++) {
          const int64_t din = sp.d[l], dout = sp.d[l + 1];
          const int last = l == L - 1;
          float *out = last ? F32(o[1]) + e * B * dout + r0 * dout : bufs[l & 1];
          pbrl_dense_layer(a, F32(o[3 + 2 * l]) + e * din * dout, F32(o[4 + 2 * l]) + e * dout, out, rows, din, dout,
                      last ? sp.actOut : sp.actHidden, sp.alpha);
          a = out;
        }
      }
    }
    return NULL;
  }
  int64_t wsOff = (int64_t)o[2];
  for (int64_t l = 0; l < L; l++) {
    const int64_t din = sp.d[l], dout = sp.d[l + 1];
    const int last = l == L - 1;
    for (int64_t e = 0; e < E; e++) {
      const float *a;
      if (l == 0) a = F32(o[0]) + (sp.shared ? 0 : e * B * din);
      else a = F32(wsOff) - E * B * din + e * B * din; /* previous layer's block sits just before this one */
      float *h = last ? F32(o[1]) + e * B * dout : F32(wsOff) + e * B * dout;
      pbrl_dense_layer(a, F32(o[3 + 2 * l]) + e * din * dout, F32(o[4 + 2 * l]) + e * dout, h, B, din, dout,
                  last ? sp.actOut : sp.actHidden, sp.alpha);
    }
    if (!last) wsOff += E * B * dout * 4;
  }
  return NULL;
}

/*
 * mlpBackward(heap, spec, offs: [dy, x, ws, y, dx, w0..w{L-1}, dw0..dw{L-1}, db0..db{L-1}], paramGrad)
 * dx < 0: no input gradient wanted. paramGrad false: dw and db are written as zeros (callers that only
 * want the input gradient, e.g. SAC's actor loss through the critic, skip a GEMM per layer).
 */
napi_value PbrlMlpBackward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void *data;
  size_t heap_len, sn, on;
  const double *s, *o;
  bool paramGrad = true;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_arraybuffer_info(env, argv[0], &data, &heap_len) != napi_ok || !read_table(env, argv[1], &s, &sn) ||
      !read_table(env, argv[2], &o, &on) || napi_get_value_bool(env, argv[3], &paramGrad) != napi_ok) {
    napi_throw_type_error(env, NULL, "pbrl mlpBackward: expected (heap ArrayBuffer, spec, offsets, paramGrad)");
    return NULL;
  }
  Spec sp;
  const char *err = parse_spec(s, sn, &sp);
  if (err) {
    napi_throw_range_error(env, NULL, err);
    return NULL;
  }
  const int64_t E = sp.E, B = sp.B, L = sp.L;
  if (on != (size_t)(5 + 3 * L)) {
    napi_throw_range_error(env, NULL, "pbrl mlpBackward: offsets table has the wrong length");
    return NULL;
  }
  const int64_t xRows = (sp.shared ? 1 : E) * B;
  const int wantDx = o[4] >= 0;
  int ok = in_heap((int64_t)o[0], E * B * sp.d[L] * 4, heap_len) && in_heap((int64_t)o[1], xRows * sp.d[0] * 4, heap_len) &&
           (L == 1 || in_heap((int64_t)o[2], ws_floats(&sp) * 4, heap_len)) &&
           in_heap((int64_t)o[3], E * B * sp.d[L] * 4, heap_len) && (!wantDx || in_heap((int64_t)o[4], xRows * sp.d[0] * 4, heap_len));
  for (int64_t l = 0; l < L && ok; l++) {
    const int64_t wn = E * sp.d[l] * sp.d[l + 1] * 4;
    ok = in_heap((int64_t)o[5 + l], wn, heap_len) && in_heap((int64_t)o[5 + L + l], wn, heap_len) &&
         in_heap((int64_t)o[5 + 2 * L + l], E * sp.d[l + 1] * 4, heap_len);
  }
  if (!ok) {
    napi_throw_range_error(env, NULL, "pbrl mlpBackward: operand outside the wasm heap");
    return NULL;
  }
  uint8_t *heap = (uint8_t *)data;
  int64_t maxd = 0;
  for (int64_t l = 0; l <= L; l++) maxd = sp.d[l] > maxd ? sp.d[l] : maxd;
  float *g = scratch_for((size_t)(2 * B * maxd + 16));
  if (!g) {
    napi_throw_error(env, NULL, "pbrl mlpBackward: out of memory for the scratch buffer");
    return NULL;
  }
  /* Second buffer 64-byte aligned after the first. */
  float *gin = g + ((B * maxd + 15) / 16) * 16;
  /* Hidden layer l's activations start at hOff[l] (l = 0 .. L-2). */
  int64_t hOff[MAX_LAYERS];
  int64_t off = (int64_t)o[2];
  for (int64_t l = 0; l + 1 < L; l++) {
    hOff[l] = off;
    off += E * B * sp.d[l + 1] * 4;
  }
  if (!paramGrad) {
    for (int64_t l = 0; l < L; l++) {
      memset(F32(o[5 + L + l]), 0, (size_t)(E * sp.d[l] * sp.d[l + 1] * 4));
      memset(F32(o[5 + 2 * L + l]), 0, (size_t)(E * sp.d[l + 1] * 4));
    }
  }
  if (B == 0) {
    if (wantDx) memset(F32(o[4]), 0, (size_t)(xRows * sp.d[0] * 4));
    if (paramGrad) {
      for (int64_t l = 0; l < L; l++) {
        memset(F32(o[5 + L + l]), 0, (size_t)(E * sp.d[l] * sp.d[l + 1] * 4));
        memset(F32(o[5 + 2 * L + l]), 0, (size_t)(E * sp.d[l + 1] * 4));
      }
    }
    return NULL;
  }
  for (int64_t e = 0; e < E; e++) {
    const int64_t dL = sp.d[L];
    memcpy(g, F32(o[0]) + e * B * dL, (size_t)(B * dL * 4));
    pbrl_activation_grad(g, F32(o[3]) + e * B * dL, B * dL, sp.actOut, sp.alpha);
    for (int64_t l = L - 1; l >= 0; l--) {
      const int64_t din = sp.d[l], dout = sp.d[l + 1];
      const float *a = l == 0 ? F32(o[1]) + (sp.shared ? 0 : e * B * din) : F32(hOff[l - 1]) + e * B * din;
      const float *w = F32(o[5 + l]) + e * din * dout;
      if (paramGrad) {
        float *dw = F32(o[5 + L + l]) + e * din * dout;
        float *db = F32(o[5 + 2 * L + l]) + e * dout;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)din, (int)dout, (int)B, 1.f, a, (int)din, g, (int)dout, 0.f,
                    dw, (int)dout);
        pbrl_column_sums(db, g, B, dout);
      }
      if (l > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)din, (int)dout, 1.f, g, (int)dout, w, (int)dout, 0.f,
                    gin, (int)din);
        pbrl_activation_grad(gin, F32(hOff[l - 1]) + e * B * din, B * din, sp.actHidden, sp.alpha);
        float *t = g;
        g = gin;
        gin = t;
      } else if (wantDx) {
        /* A shared input sums every member's path into one gradient. */
        float *dx = F32(o[4]) + (sp.shared ? 0 : e * B * din);
        const float beta = sp.shared && e > 0 ? 1.f : 0.f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)din, (int)dout, 1.f, g, (int)dout, w, (int)dout, beta,
                    dx, (int)din);
      }
    }
  }
  return NULL;
}
