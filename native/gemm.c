/*
 * Native GEMM for the tfjs wasm backend.
 *
 * The wasm backend keeps every tensor in one WebAssembly memory (an ArrayBuffer). This addon takes
 * that buffer plus byte offsets of the operands and runs OpenBLAS sgemm directly on it, so a matmul
 * costs no copies in or out. Transposes are BLAS flags, which is the point: the stock wasm kernel is
 * 10-15x slower when asked for a transposed operand, and backprop always asks for one.
 *
 * JS side: core/native-gemm.ts (kernel registration, shape logic, fallbacks).
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dense-ops.h"

/* native/mlp.c */
napi_value PbrlMlpForward(napi_env env, napi_callback_info info);
napi_value PbrlMlpBackward(napi_env env, napi_callback_info info);
/* native/sac.c */
napi_value PbrlSacUpdate(napi_env env, napi_callback_info info);

/* Declared by OpenBLAS; not part of the reference CBLAS header. */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

#define CHECK(call)                                                         \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      napi_throw_error(env, NULL, "pbrl native gemm: N-API call failed: " #call); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  *out = (int64_t)d;
  return 1;
}

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_SIGMOID = 3, ACT_ELU = 4, ACT_LEAKYRELU = 5 };

/*
 * gemm(heap, transA, transB, M, N, K, batch, aOff, aStride, bOff, bStride, cOff,
 *      biasOff, biasLen, act, alpha, biasStride)
 * All offsets and strides in bytes; stride 0 broadcasts an operand over the batch.
 * biasOff < 0 means no bias; biasLen is 1 (scalar) or N (per output column); biasStride (bytes)
 * steps the bias per batch entry, so ensemble members each get their own bias row.
 */
static napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value argv[17];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 12) {
    napi_throw_type_error(env, NULL, "pbrl native gemm: expected at least 12 arguments");
    return NULL;
  }
  void *data;
  size_t byte_len;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &byte_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "pbrl native gemm: first argument must be the wasm heap ArrayBuffer");
    return NULL;
  }
  bool ta, tb;
  CHECK(napi_get_value_bool(env, argv[1], &ta));
  CHECK(napi_get_value_bool(env, argv[2], &tb));
  int64_t M, N, K, batch, aOff, aStride, bOff, bStride, cOff;
  int64_t biasOff = -1, biasLen = 0, act = ACT_LINEAR, biasStride = 0;
  double alpha = 0.2;
  if (!get_i64(env, argv[3], &M) || !get_i64(env, argv[4], &N) || !get_i64(env, argv[5], &K) ||
      !get_i64(env, argv[6], &batch) || !get_i64(env, argv[7], &aOff) || !get_i64(env, argv[8], &aStride) ||
      !get_i64(env, argv[9], &bOff) || !get_i64(env, argv[10], &bStride) || !get_i64(env, argv[11], &cOff)) {
    napi_throw_type_error(env, NULL, "pbrl native gemm: sizes and offsets must be numbers");
    return NULL;
  }
  if (argc >= 16) {
    get_i64(env, argv[12], &biasOff);
    get_i64(env, argv[13], &biasLen);
    get_i64(env, argv[14], &act);
    napi_get_value_double(env, argv[15], &alpha);
  }
  if (argc >= 17) get_i64(env, argv[16], &biasStride);
  /* Bounds: a wrong offset must be an exception, never a write outside the heap. */
  int64_t aBytes = M * K * 4, bBytes = K * N * 4, cBytes = M * N * 4;
  int64_t aEnd = aOff + (batch - 1) * aStride + aBytes;
  int64_t bEnd = bOff + (batch - 1) * bStride + bBytes;
  int64_t cEnd = cOff + batch * cBytes;
  if (M < 0 || N < 0 || K < 0 || batch < 0 || aOff < 0 || bOff < 0 || cOff < 0 || aStride < 0 || bStride < 0 ||
      aEnd > (int64_t)byte_len || bEnd > (int64_t)byte_len || cEnd > (int64_t)byte_len ||
      biasStride < 0 || (biasOff >= 0 && biasOff + (batch - 1) * biasStride + biasLen * 4 > (int64_t)byte_len)) {
    napi_throw_range_error(env, NULL, "pbrl native gemm: operand outside the wasm heap");
    return NULL;
  }
  uint8_t *heap = (uint8_t *)data;
  int lda = ta ? (int)M : (int)K;
  int ldb = tb ? (int)K : (int)N;
  for (int64_t i = 0; i < batch; i++) {
    const float *A = (const float *)(heap + aOff + i * aStride);
    const float *B = (const float *)(heap + bOff + i * bStride);
    float *C = (float *)(heap + cOff + i * cBytes);
    const int64_t MN = M * N;
    float beta = 0.f;
    if (biasOff >= 0) {
      /* Start C from the bias rows and let sgemm accumulate into it (beta = 1): no extra pass. */
      const float *bias = (const float *)(heap + biasOff + i * biasStride);
      for (int64_t r = 0; r < M; r++) {
        float *row = C + r * N;
        if (biasLen == 1) {
          for (int64_t c = 0; c < N; c++) row[c] = bias[0];
        } else {
          memcpy(row, bias, (size_t)N * 4);
        }
      }
      beta = 1.f;
    }
    if (K == 0) {
      if (beta == 0.f) memset(C, 0, (size_t)cBytes);
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                  (int)K, 1.0f, A, lda, B, ldb, beta, C, (int)N);
    }
    /* Activations as branch-free selects in tight loops (vectorised); NaN passes through, as in tfjs. */
    const float a = (float)alpha;
    switch (act) {
      case ACT_RELU:
        for (int64_t j = 0; j < MN; j++) {
          float v = C[j];
          float r = v > 0.f ? v : 0.f;
          C[j] = v != v ? v : r;
        }
        break;
      case ACT_RELU6:
        for (int64_t j = 0; j < MN; j++) {
          float v = C[j];
          float r = v > 0.f ? v : 0.f;
          r = r < 6.f ? r : 6.f;
          C[j] = v != v ? v : r;
        }
        break;
      case ACT_SIGMOID:
        for (int64_t j = 0; j < MN; j++) C[j] = 1.f / (1.f + expf(-C[j]));
        break;
      case ACT_ELU:
        for (int64_t j = 0; j < MN; j++) C[j] = C[j] > 0.f ? C[j] : expm1f(C[j]);
        break;
      case ACT_LEAKYRELU:
        for (int64_t j = 0; j < MN; j++) {
          float v = C[j];
          float s = v > 0.f ? 1.f : a;
          C[j] = v * s; /* NaN * s = NaN */
        }
        break;
      default:
        break;
    }
  }
  return NULL;
}

/*
 * adam(heap, table: Float64Array [wOff, gOff, mOff, vOff, n] per variable, lr, beta1, beta2, eps, t)
 * One in-place Adam step over every variable of an optimizer: one call instead of ~10 tfjs kernels per
 * variable, whose dispatch cost dominated small updates. Same formula as tf.train.adam and PyTorch:
 * w -= lr * m_hat / (sqrt(v_hat) + eps), with bias-corrected moments.
 */
static napi_value AdamStep(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "pbrl native adam: expected 7 arguments");
    return NULL;
  }
  void *data;
  size_t byte_len;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &byte_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "pbrl native adam: first argument must be the wasm heap ArrayBuffer");
    return NULL;
  }
  napi_typedarray_type ttype;
  size_t tlen;
  void *tdata;
  if (napi_get_typedarray_info(env, argv[1], &ttype, &tlen, &tdata, NULL, NULL) != napi_ok || ttype != napi_float64_array ||
      tlen % 5 != 0) {
    napi_throw_type_error(env, NULL, "pbrl native adam: table must be a Float64Array of 5 numbers per variable");
    return NULL;
  }
  double lr, b1, b2, eps, t;
  CHECK(napi_get_value_double(env, argv[2], &lr));
  CHECK(napi_get_value_double(env, argv[3], &b1));
  CHECK(napi_get_value_double(env, argv[4], &b2));
  CHECK(napi_get_value_double(env, argv[5], &eps));
  CHECK(napi_get_value_double(env, argv[6], &t));
  const double *tab = (const double *)tdata;
  uint8_t *heap = (uint8_t *)data;
  for (size_t k = 0; k < tlen; k += 5) {
    int64_t n = (int64_t)tab[k + 4];
    for (int j = 0; j < 4; j++) {
      int64_t off = (int64_t)tab[k + j];
      if (off < 0 || n < 0 || off + n * 4 > (int64_t)byte_len) {
        napi_throw_range_error(env, NULL, "pbrl native adam: operand outside the wasm heap");
        return NULL;
      }
    }
  }
  const PbrlAdam p = {(float)lr, (float)b1, (float)b2, (float)eps, t};
  for (size_t k = 0; k < tlen; k += 5) {
    pbrl_adam_update((float *)(heap + (int64_t)tab[k]), (const float *)(heap + (int64_t)tab[k + 1]), (float *)(heap + (int64_t)tab[k + 2]),
                     (float *)(heap + (int64_t)tab[k + 3]), (int64_t)tab[k + 4], &p);
  }
  return NULL;
}

/*
 * lerp(heap, table: Float64Array [dstOff, srcOff, n] per tensor, tau): dst = (1 - tau) dst + tau src,
 * in place. Target networks' Polyak averaging in one call instead of three kernels per variable.
 */
static napi_value Lerp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t byte_len;
  napi_typedarray_type ttype;
  size_t tlen;
  void *tdata;
  double tau;
  if (argc < 3 || napi_get_arraybuffer_info(env, argv[0], &data, &byte_len) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &ttype, &tlen, &tdata, NULL, NULL) != napi_ok || ttype != napi_float64_array ||
      tlen % 3 != 0 || napi_get_value_double(env, argv[2], &tau) != napi_ok) {
    napi_throw_type_error(env, NULL, "pbrl native lerp: expected (heap, Float64Array of 3 per tensor, tau)");
    return NULL;
  }
  const double *tab = (const double *)tdata;
  for (size_t k = 0; k < tlen; k += 3) {
    int64_t n = (int64_t)tab[k + 2];
    if ((int64_t)tab[k] < 0 || (int64_t)tab[k + 1] < 0 || n < 0 || (int64_t)tab[k] + n * 4 > (int64_t)byte_len ||
        (int64_t)tab[k + 1] + n * 4 > (int64_t)byte_len) {
      napi_throw_range_error(env, NULL, "pbrl native lerp: operand outside the wasm heap");
      return NULL;
    }
  }
  const float t = (float)tau, keep = (float)(1.0 - tau);
  for (size_t k = 0; k < tlen; k += 3) {
    float *dst = (float *)((uint8_t *)data + (int64_t)tab[k]);
    const float *src = (const float *)((uint8_t *)data + (int64_t)tab[k + 1]);
    int64_t n = (int64_t)tab[k + 2];
    for (int64_t i = 0; i < n; i++) dst[i] = keep * dst[i] + t * src[i];
  }
  return NULL;
}

/*
 * actGrad(heap, dyOff, yOff, outOff, n, act, alpha): out = dy * f'(pre) written in terms of the
 * activation's output y, for relu, leakyrelu, tanh and sigmoid. One pass instead of two or three
 * elementwise kernels per layer in the backward pass.
 */
static napi_value ActGrad(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t byte_len;
  int64_t dyOff, yOff, outOff, n, act;
  double alpha;
  if (argc < 7 || napi_get_arraybuffer_info(env, argv[0], &data, &byte_len) != napi_ok || !get_i64(env, argv[1], &dyOff) ||
      !get_i64(env, argv[2], &yOff) || !get_i64(env, argv[3], &outOff) || !get_i64(env, argv[4], &n) || !get_i64(env, argv[5], &act) ||
      napi_get_value_double(env, argv[6], &alpha) != napi_ok) {
    napi_throw_type_error(env, NULL, "pbrl native actGrad: expected (heap, dyOff, yOff, outOff, n, act, alpha)");
    return NULL;
  }
  if (n < 0 || dyOff < 0 || yOff < 0 || outOff < 0 || dyOff + n * 4 > (int64_t)byte_len || yOff + n * 4 > (int64_t)byte_len ||
      outOff + n * 4 > (int64_t)byte_len) {
    napi_throw_range_error(env, NULL, "pbrl native actGrad: operand outside the wasm heap");
    return NULL;
  }
  if (act != ACT_RELU && act != ACT_LEAKYRELU && act != ACT_SIGMOID && act != F_TANH) {
    napi_throw_range_error(env, NULL, "pbrl native actGrad: unsupported activation code");
    return NULL;
  }
  /* out = dy, then dense-ops.c's in-place g *= f'(pre) (its loops are branch-free selects; see there). */
  float *out = (float *)((uint8_t *)data + outOff);
  memmove(out, (const float *)((uint8_t *)data + dyOff), (size_t)n * 4);
  pbrl_activation_grad(out, (const float *)((uint8_t *)data + yOff), n, act, (float)alpha);
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n = 1;
  if (argc < 1 || !get_i64(env, argv[0], &n) || n < 1) {
    napi_throw_range_error(env, NULL, "pbrl native gemm: thread count must be a number >= 1");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return NULL;
}

/*
 * benchSgemm(M, N, K, iters, transA, transB) -> ms per call of cblas_sgemm on 64-byte aligned buffers
 * of this process's own heap: the "OpenBLAS called directly from C" rate that the native path through
 * tfjs is measured against, in the same process and under the same load.
 */
static napi_value BenchSgemm(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t M, N, K, iters;
  bool ta = false, tb = false;
  if (argc < 4 || !get_i64(env, argv[0], &M) || !get_i64(env, argv[1], &N) || !get_i64(env, argv[2], &K) ||
      !get_i64(env, argv[3], &iters) || M < 1 || N < 1 || K < 1 || iters < 1) {
    napi_throw_range_error(env, NULL, "pbrl benchSgemm: expected (M, N, K, iters >= 1[, transA, transB])");
    return NULL;
  }
  if (argc >= 6) {
    napi_get_value_bool(env, argv[4], &ta);
    napi_get_value_bool(env, argv[5], &tb);
  }
  size_t an = (size_t)(M * K), bn = (size_t)(K * N), cn = (size_t)(M * N);
  float *A = aligned_alloc(64, ((an * 4 + 63) / 64) * 64);
  float *B = aligned_alloc(64, ((bn * 4 + 63) / 64) * 64);
  float *C = aligned_alloc(64, ((cn * 4 + 63) / 64) * 64);
  if (!A || !B || !C) {
    free(A);
    free(B);
    free(C);
    napi_throw_error(env, NULL, "pbrl benchSgemm: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < an; i++) A[i] = (float)((i * 7919) % 1000) / 1000.f - 0.5f;
  for (size_t i = 0; i < bn; i++) B[i] = (float)((i * 104729) % 1000) / 1000.f - 0.5f;
  memset(C, 0, cn * 4);
  int lda = ta ? (int)M : (int)K, ldb = tb ? (int)K : (int)N;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.f, A,
              lda, B, ldb, 0.f, C, (int)N);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t i = 0; i < iters; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.f,
                A, lda, B, ldb, 0.f, C, (int)N);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  free(A);
  free(B);
  free(C);
  double ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) / (double)iters;
  napi_value out;
  CHECK(napi_create_double(env, ms, &out));
  return out;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  napi_value obj, cfg, threads, core;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &cfg));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &threads));
  CHECK(napi_set_named_property(env, obj, "config", cfg));
  CHECK(napi_set_named_property(env, obj, "threads", threads));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core));
  CHECK(napi_set_named_property(env, obj, "core", core));
  napi_value vm;
  CHECK(napi_get_boolean(env, pbrl_vector_math() != 0, &vm));
  CHECK(napi_set_named_property(env, obj, "vectorMath", vm));
  return obj;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, Gemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, AdamStep, NULL, NULL, NULL, napi_default, NULL},
      {"lerp", NULL, Lerp, NULL, NULL, NULL, napi_default, NULL},
      {"actGrad", NULL, ActGrad, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
      {"benchSgemm", NULL, BenchSgemm, NULL, NULL, NULL, napi_default, NULL},
      {"mlpForward", NULL, PbrlMlpForward, NULL, NULL, NULL, napi_default, NULL},
      {"mlpBackward", NULL, PbrlMlpBackward, NULL, NULL, NULL, napi_default, NULL},
      {"sacUpdate", NULL, PbrlSacUpdate, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
