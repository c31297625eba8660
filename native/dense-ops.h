/* native/dense-ops.c: dense-layer pieces shared by mlp.c and sac.c. */
#ifndef PBRL_DENSE_OPS_H
#define PBRL_DENSE_OPS_H
#include <stdint.h>

/* Activation codes, as core/native-gemm.ts MLP_ACT_CODES numbers them. */
enum { F_LINEAR = 0, F_RELU = 1, F_SIGMOID = 3, F_LEAKYRELU = 5, F_TANH = 100 };

/* h = f(h) in place. */
void pbrl_activate(float *restrict h, int64_t n, int64_t act, float alpha);
/* out = f(a @ w + bias) for a [rows, din], w [din, dout]. */
void pbrl_dense_layer(const float *a, const float *w, const float *restrict bias, float *restrict out, int64_t rows,
                      int64_t din, int64_t dout, int64_t act, float alpha);
/* g *= f'(pre), from the activation's output y. */
void pbrl_activation_grad(float *restrict g, const float *restrict y, int64_t n, int64_t act, float alpha);
/* db = column sums of g [B, n]. */
void pbrl_column_sums(float *restrict db, const float *restrict g, int64_t B, int64_t n);

/* Adam's hyperparameters and step count t (from 1) for pbrl_adam_update. */
typedef struct {
  float lr, b1, b2, eps;
  double t;
} PbrlAdam;

/* One in-place Adam step on n floats: w -= lr m_hat / (sqrt(v_hat) + eps) (tf.train.adam, PyTorch). */
void pbrl_adam_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, int64_t n, const PbrlAdam *p);

/* x = tanh(x), exp(x), log1p(x) in place (libmvec where glibc has it, else libm; within a few ulp). */
void pbrl_tanh_array(float *x, int64_t n);
void pbrl_exp_array(float *x, int64_t n);
void pbrl_log1p_array(float *x, int64_t n);
/* 1 when the arrays above run on libmvec. */
int pbrl_vector_math(void);

#endif
