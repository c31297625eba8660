/*
 * One whole SAC update in one native call: soft Bellman target from the target critic, twin-critic
 * regression, the reparameterised tanh-Gaussian actor loss through the updated critic, the
 * temperature loss, Adam on all three, and Polyak averaging of the target.
 *
 * Why: with the fused whole-network kernels an update of SAC's small networks still ran ~200 tfjs
 * kernels (the tanh-Gaussian log-probability, the losses, their gradients, concats, splits), each
 * with a fixed dispatch cost that outweighed its arithmetic; at 2x128 / batch 256 that overhead was
 * most of the update. Here it is one call: GEMMs through OpenBLAS, the elementwise math in plain loops
 * over the batch, gradients written out by hand (derivations beside each step).
 *
 * It computes what agents/sac.ts's tfjs update computes (same loss definitions, same noise, same
 * order: critic step, then the actor loss through the updated critic, then the temperature), and
 * test/agents/sac-native.test.ts checks the two agree. JS side: agents/sac-native.ts.
 *
 * sacUpdate(heap, spec, offs, obs, act, nextObs, rew, done, epsTarget, epsActor, params, out)
 *   spec   = [B, O, A, L, actHidden, actOut, leakyAlpha, H_1 .. H_{L-1}]
 *            actor dims [O, H.., 2A], critic dims [O + A, H.., 1] with 2 members
 *   offs   = actor   per layer [w, b, mw, vw, mb, vb]  (byte offsets into the wasm heap; m, v: Adam moments)
 *            critic  per layer [w, b, mw, vw, mb, vb]  (weights [2, din, dout], biases [2, 1, dout])
 *            target  per layer [w, b]
 *            logAlpha [w, m, v]
 *   batch arrays are plain Float32Arrays (not on the heap); epsActor may be empty when doActor is 0
 *   params = per optimizer (actor, critic, alpha) [lr, beta1, beta2, eps, t], then
 *            [discount, tau, logStdMin, logStdMax, targetEntropy, doActor, doAlpha, doTarget]
 *   out    = [critic_loss, actor_loss, entropy, alpha_loss, status]
 *            status 0: done; 1: critic loss not finite, nothing changed; 2: actor loss not finite,
 *            the critic step was applied and nothing after it (as the tfjs path, which throws there).
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dense-ops.h"

#define SAC_MAX_LAYERS 16
#define HALF_LOG_2PI 0.91893853320467274178f
#define LOG2F 0.69314718055994530942f

typedef struct {
  int64_t E, L;
  int64_t d[SAC_MAX_LAYERS + 1];
  float *w[SAC_MAX_LAYERS], *b[SAC_MAX_LAYERS];
  float *mw[SAC_MAX_LAYERS], *vw[SAC_MAX_LAYERS], *mb[SAC_MAX_LAYERS], *vb[SAC_MAX_LAYERS];
  int64_t actH, actO;
  float alpha;
} Net;


/* Every member's layer outputs: h[l] is [E, B, d[l+1]]; x [B, d0] is shared by the members. */
static void net_forward(const Net *n, const float *x, int64_t B, float *const *h) {
  for (int64_t l = 0; l < n->L; l++) {
    const int64_t din = n->d[l], dout = n->d[l + 1];
    for (int64_t e = 0; e < n->E; e++) {
      const float *a = l == 0 ? x : h[l - 1] + e * B * din;
      pbrl_dense_layer(a, n->w[l] + e * din * dout, n->b[l] + e * dout, h[l] + e * B * dout, B, din, dout,
                       l == n->L - 1 ? n->actO : n->actH, n->alpha);
    }
  }
}

/*
 * Backprop of dy [E, B, dL] through the network last run by net_forward on x. gw/gb NULL: no weight
 * gradients. dx non-NULL: dx [B, nc] = the gradient for input columns c0 .. c0+nc-1, summed over the
 * members (they share x); only those columns are computed (SAC's actor needs the action's alone).
 * g and gin are scratch of B * max(d) floats each.
 */
static void net_backward(const Net *n, const float *x, int64_t B, float *const *h, const float *dy, float *const *gw,
                         float *const *gb, float *dx, int64_t c0, int64_t nc, float *g, float *gin) {
  const int64_t L = n->L, dL = n->d[L];
  for (int64_t e = 0; e < n->E; e++) {
    memcpy(g, dy + e * B * dL, (size_t)(B * dL * 4));
    pbrl_activation_grad(g, h[L - 1] + e * B * dL, B * dL, n->actO, n->alpha);
    for (int64_t l = L - 1; l >= 0; l--) {
      const int64_t din = n->d[l], dout = n->d[l + 1];
      const float *a = l == 0 ? x : h[l - 1] + e * B * din;
      const float *w = n->w[l] + e * din * dout;
      if (gw) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)din, (int)dout, (int)B, 1.f, a, (int)din, g, (int)dout, 0.f,
                    gw[l] + e * din * dout, (int)dout);
        pbrl_column_sums(gb[l] + e * dout, g, B, dout);
      }
      if (l > 0) {
        if (!gw && !dx) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)din, (int)dout, 1.f, g, (int)dout, w, (int)dout, 0.f, gin,
                    (int)din);
        pbrl_activation_grad(gin, h[l - 1] + e * B * din, B * din, n->actH, n->alpha);
        float *t = g;
        g = gin;
        gin = t;
      } else if (dx) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)nc, (int)dout, 1.f, g, (int)dout, w + c0 * dout,
                    (int)dout, e > 0 ? 1.f : 0.f, dx, (int)nc);
      }
    }
  }
}

static void net_adam(Net *n, float *const *gw, float *const *gb, const PbrlAdam *p) {
  for (int64_t l = 0; l < n->L; l++) {
    pbrl_adam_update(n->w[l], gw[l], n->mw[l], n->vw[l], n->E * n->d[l] * n->d[l + 1], p);
    pbrl_adam_update(n->b[l], gb[l], n->mb[l], n->vb[l], n->E * n->d[l + 1], p);
  }
}

/*
 * The actor's head out [B, 2A] = [mu | raw] to a reparameterised sample: log std = lo + (hi - lo)/2
 * (tanh(raw) + 1), u = mu + std eps, a = tanh(u), and log pi(a) = sum_j (-eps^2/2 - log std - log sqrt(2 pi))
 * - sum_j 2 (log 2 - u - softplus(-2u)) (the tanh change of variables, finite for large |u|), with
 * softplus(x) = max(x, 0) + log1p(exp(-|x|)). Writes a into xa's action columns (row stride O + A, from
 * column O) and keeps tanh(raw), std and a in tr, sd, act [B, A] for the backward pass; tmp holds 2 B A
 * floats. Written as passes over whole arrays so the transcendental functions run on vectors
 * (pbrl_tanh_array and friends); each row's sums add their terms in the same order as a per-element loop.
 */
static void sample_actions(const float *out, const float *eps, int64_t B, int64_t A, float lo, float hi, float *xa, int64_t O,
                           float *logp, float *tr, float *sd, float *act, float *tmp) {
  const float half = 0.5f * (hi - lo);
  const int64_t n = B * A;
  float *u = tmp, *sp = tmp + n;
  for (int64_t r = 0; r < B; r++) memcpy(tr + r * A, out + r * 2 * A + A, (size_t)A * 4);
  pbrl_tanh_array(tr, n);
  for (int64_t i = 0; i < n; i++) sd[i] = lo + half * (tr[i] + 1.f); /* log std until the exp below */
  for (int64_t r = 0; r < B; r++) {
    float gauss = 0.f;
    for (int64_t j = 0; j < A; j++) {
      const float e = eps[r * A + j];
      gauss += -0.5f * e * e - sd[r * A + j] - HALF_LOG_2PI;
    }
    logp[r] = gauss;
  }
  pbrl_exp_array(sd, n);
  for (int64_t r = 0; r < B; r++)
    for (int64_t j = 0; j < A; j++) u[r * A + j] = out[r * 2 * A + j] + sd[r * A + j] * eps[r * A + j];
  memcpy(act, u, (size_t)n * 4);
  pbrl_tanh_array(act, n);
  for (int64_t i = 0; i < n; i++) sp[i] = -fabsf(2.f * u[i]);
  pbrl_exp_array(sp, n);
  pbrl_log1p_array(sp, n);
  for (int64_t r = 0; r < B; r++) {
    float squash = 0.f;
    for (int64_t j = 0; j < A; j++) {
      const float uj = u[r * A + j], m2u = -2.f * uj;
      const float softplus = (m2u > 0.f ? m2u : 0.f) + sp[r * A + j];
      squash += 2.f * (LOG2F - uj - softplus);
      xa[r * (O + A) + O + j] = act[r * A + j];
    }
    logp[r] = logp[r] - squash;
  }
}

/* Rows of obs [B, O] into the first O columns of x [B, O + A]. */
static void put_obs(float *x, const float *obs, int64_t B, int64_t O, int64_t A) {
  for (int64_t r = 0; r < B; r++) memcpy(x + r * (O + A), obs + r * O, (size_t)O * 4);
}

/* Scratch, grown on demand and kept (the addon runs on Node's main thread only). */
static float *arena = NULL;
static size_t arena_floats = 0;

static float *arena_for(size_t floats) {
  if (floats > arena_floats) {
    free(arena);
    arena = (float *)aligned_alloc(64, ((floats * 4 + 63) / 64) * 64);
    arena_floats = arena ? floats : 0;
  }
  return arena;
}

/* Carves 64-byte aligned pieces out of the arena. */
typedef struct {
  float *base;
  size_t used;
} Carver;

static float *carve(Carver *c, int64_t floats) {
  float *p = c->base ? c->base + c->used : NULL;
  c->used += (size_t)((floats + 15) / 16) * 16;
  return p;
}

static int read_f64(napi_env env, napi_value v, const double **out, size_t *len) {
  napi_typedarray_type t;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, len, &data, NULL, NULL) != napi_ok || t != napi_float64_array) return 0;
  *out = (const double *)data;
  return 1;
}

static int read_f32(napi_env env, napi_value v, const float **out, size_t *len) {
  napi_typedarray_type t;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, len, &data, NULL, NULL) != napi_ok || t != napi_float32_array) return 0;
  *out = (const float *)data;
  return 1;
}

static int in_heap(double off, int64_t floats, size_t heap_len) {
  return off >= 0 && floats >= 0 && (int64_t)off + floats * 4 <= (int64_t)heap_len && (int64_t)off % 4 == 0;
}

/* Points a Net's tensors at the heap; 6 offsets per layer with moments, 2 without. Returns 0 if one is outside. */
static int bind_net(Net *n, uint8_t *heap, size_t heap_len, const double *o, int withMoments) {
  const int per = withMoments ? 6 : 2;
  for (int64_t l = 0; l < n->L; l++) {
    const int64_t wn = n->E * n->d[l] * n->d[l + 1], bn = n->E * n->d[l + 1];
    const double *p = o + per * l;
    if (!in_heap(p[0], wn, heap_len) || !in_heap(p[1], bn, heap_len)) return 0;
    n->w[l] = (float *)(heap + (int64_t)p[0]);
    n->b[l] = (float *)(heap + (int64_t)p[1]);
    if (withMoments) {
      if (!in_heap(p[2], wn, heap_len) || !in_heap(p[3], wn, heap_len) || !in_heap(p[4], bn, heap_len) || !in_heap(p[5], bn, heap_len))
        return 0;
      n->mw[l] = (float *)(heap + (int64_t)p[2]);
      n->vw[l] = (float *)(heap + (int64_t)p[3]);
      n->mb[l] = (float *)(heap + (int64_t)p[4]);
      n->vb[l] = (float *)(heap + (int64_t)p[5]);
    }
  }
  return 1;
}

static void carve_acts(Carver *c, const Net *n, int64_t B, float **h) {
  for (int64_t l = 0; l < n->L; l++) h[l] = carve(c, n->E * B * n->d[l + 1]);
}

static void carve_grads(Carver *c, const Net *n, float **gw, float **gb) {
  for (int64_t l = 0; l < n->L; l++) {
    gw[l] = carve(c, n->E * n->d[l] * n->d[l + 1]);
    gb[l] = carve(c, n->E * n->d[l + 1]);
  }
}

#define THROW(kind, msg)                       \
  do {                                         \
    napi_throw_##kind(env, NULL, "pbrl sacUpdate: " msg); \
    return NULL;                               \
  } while (0)

napi_value PbrlSacUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  void *heapData;
  size_t heap_len, sn, on, pn, outn;
  const double *s, *o, *prm, *outc;
  const float *obs, *act, *nobs, *rew, *done, *epsT, *epsA;
  size_t nObs, nAct, nNobs, nRew, nDone, nEpsT, nEpsA;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 12 ||
      napi_get_arraybuffer_info(env, argv[0], &heapData, &heap_len) != napi_ok || !read_f64(env, argv[1], &s, &sn) ||
      !read_f64(env, argv[2], &o, &on) || !read_f32(env, argv[3], &obs, &nObs) || !read_f32(env, argv[4], &act, &nAct) ||
      !read_f32(env, argv[5], &nobs, &nNobs) || !read_f32(env, argv[6], &rew, &nRew) || !read_f32(env, argv[7], &done, &nDone) ||
      !read_f32(env, argv[8], &epsT, &nEpsT) || !read_f32(env, argv[9], &epsA, &nEpsA) || !read_f64(env, argv[10], &prm, &pn) ||
      !read_f64(env, argv[11], &outc, &outn)) {
    THROW(type_error, "expected (heap, spec, offsets, obs, act, nextObs, rew, done, epsTarget, epsActor, params, out)");
  }
  double *out = (double *)outc;
  if (sn < 7 || outn < 5 || pn != 23) THROW(range_error, "spec, params or out has the wrong length");
  const int64_t B = (int64_t)s[0], O = (int64_t)s[1], A = (int64_t)s[2], L = (int64_t)s[3];
  if (B < 1 || O < 1 || A < 1 || L < 1 || L > SAC_MAX_LAYERS || sn != (size_t)(7 + L - 1)) THROW(range_error, "bad spec");
  if (on != (size_t)(14 * L + 3)) THROW(range_error, "offsets table has the wrong length");
  const int doActor = prm[20] != 0, doAlpha = prm[21] != 0, doTarget = prm[22] != 0;
  if (nObs != (size_t)(B * O) || nNobs != (size_t)(B * O) || nAct != (size_t)(B * A) || nRew != (size_t)B || nDone != (size_t)B ||
      nEpsT != (size_t)(B * A) || (doActor && nEpsA != (size_t)(B * A)))
    THROW(range_error, "a batch array has the wrong length");

  Net actor = {.E = 1, .L = L, .actH = (int64_t)s[4], .actO = (int64_t)s[5], .alpha = (float)s[6]};
  Net critic = {.E = 2, .L = L, .actH = actor.actH, .actO = actor.actO, .alpha = actor.alpha};
  actor.d[0] = O;
  critic.d[0] = O + A;
  for (int64_t l = 1; l < L; l++) {
    actor.d[l] = critic.d[l] = (int64_t)s[6 + l];
    if (actor.d[l] < 1) THROW(range_error, "hidden sizes must be positive");
  }
  actor.d[L] = 2 * A;
  critic.d[L] = 1;
  Net target = critic;
  uint8_t *heap = (uint8_t *)heapData;
  if (!bind_net(&actor, heap, heap_len, o, 1) || !bind_net(&critic, heap, heap_len, o + 6 * L, 1) ||
      !bind_net(&target, heap, heap_len, o + 12 * L, 0) || !in_heap(o[14 * L], 1, heap_len) || !in_heap(o[14 * L + 1], 1, heap_len) ||
      !in_heap(o[14 * L + 2], 1, heap_len))
    THROW(range_error, "operand outside the wasm heap");
  float *logAlpha = (float *)(heap + (int64_t)o[14 * L]);
  float *mAlpha = (float *)(heap + (int64_t)o[14 * L + 1]);
  float *vAlpha = (float *)(heap + (int64_t)o[14 * L + 2]);
  PbrlAdam pa = {(float)prm[0], (float)prm[1], (float)prm[2], (float)prm[3], prm[4]};
  PbrlAdam pc = {(float)prm[5], (float)prm[6], (float)prm[7], (float)prm[8], prm[9]};
  PbrlAdam pt = {(float)prm[10], (float)prm[11], (float)prm[12], (float)prm[13], prm[14]};
  const float discount = (float)prm[15], tau = (float)prm[16], lo = (float)prm[17], hi = (float)prm[18], targetEntropy = (float)prm[19];

  int64_t maxd = 0;
  for (int64_t l = 0; l <= L; l++) {
    if (actor.d[l] > maxd) maxd = actor.d[l];
    if (critic.d[l] > maxd) maxd = critic.d[l];
  }
  /* One sizing pass with a NULL base, then the real one. */
  float *ha[SAC_MAX_LAYERS], *hc[SAC_MAX_LAYERS], *gwa[SAC_MAX_LAYERS], *gba[SAC_MAX_LAYERS], *gwc[SAC_MAX_LAYERS], *gbc[SAC_MAX_LAYERS];
  float *x, *xa2, *g, *gin, *y, *logp, *dq, *dA, *dOut, *tr, *sd, *av, *vt;
  /*
   * The actor has the same weights for the target's next actions and for its own loss (it is updated
   * last), so both run as one forward pass over [s'; s]: 2B rows, half the GEMM calls, larger GEMMs.
   */
  const int64_t AR = doActor ? 2 * B : B;
  Carver c = {NULL, 0};
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      c.base = arena_for(c.used);
      if (!c.base) THROW(error, "out of memory for the scratch buffer");
      c.used = 0;
    }
    carve_acts(&c, &actor, AR, ha);
    carve_acts(&c, &critic, B, hc);
    carve_grads(&c, &actor, gwa, gba);
    carve_grads(&c, &critic, gwc, gbc);
    x = carve(&c, B * (O + A));
    xa2 = carve(&c, AR * O);
    g = carve(&c, B * maxd);
    gin = carve(&c, B * maxd);
    y = carve(&c, B);
    logp = carve(&c, B);
    dq = carve(&c, 2 * B);
    dA = carve(&c, B * A);
    dOut = carve(&c, B * 2 * A);
    tr = carve(&c, B * A);
    sd = carve(&c, B * A);
    av = carve(&c, B * A);
    vt = carve(&c, 2 * B * A);
  }

  const float alpha = expf(logAlpha[0]);
  const float invB = 1.f / (float)B;
  const int64_t CL = L - 1; /* index of the output layer's activations */

  /* Target: y = r + (1 - done) gamma (min_k Q'_k(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s'). */
  memcpy(xa2, nobs, (size_t)(B * O) * 4);
  if (doActor) memcpy(xa2 + B * O, obs, (size_t)(B * O) * 4);
  net_forward(&actor, xa2, AR, ha);
  put_obs(x, nobs, B, O, A);
  sample_actions(ha[CL], epsT, B, A, lo, hi, x, O, logp, tr, sd, av, vt); /* tr, sd, av: overwritten by the actor's */
  net_forward(&target, x, B, hc);
  for (int64_t r = 0; r < B; r++) {
    const float q0 = hc[CL][r], q1 = hc[CL][B + r];
    const float qmin = q0 < q1 ? q0 : q1;
    y[r] = rew[r] + ((1.f - done[r]) * discount) * (qmin - alpha * logp[r]);
  }

  /* Critic: loss = sum_k mean_b (Q_k(s, a) - y)^2 (two MSEs summed); dloss/dQ_k = 2 (Q_k - y) / B. */
  put_obs(x, obs, B, O, A);
  for (int64_t r = 0; r < B; r++) memcpy(x + r * (O + A) + O, act + r * A, (size_t)A * 4);
  net_forward(&critic, x, B, hc);
  double closs = 0;
  for (int64_t k = 0; k < 2; k++) {
    for (int64_t r = 0; r < B; r++) {
      const float diff = hc[CL][k * B + r] - y[r];
      closs += (double)diff * diff;
      dq[k * B + r] = 2.f * diff * invB;
    }
  }
  closs /= (double)B;
  out[0] = closs;
  out[1] = out[2] = out[3] = NAN;
  if (!isfinite(closs)) {
    out[4] = 1;
    return NULL;
  }
  net_backward(&critic, x, B, hc, dq, gwc, gbc, NULL, 0, 0, g, gin);
  net_adam(&critic, gwc, gbc, &pc);

  if (doActor) {
    /* Actor: loss = mean_b (alpha log pi(a|s) - min_k Q_k(s, a)), a = tanh(u), through the updated critic. */
    /* The s half of the actor's pass: rows B .. 2B of every layer. */
    float *hs[SAC_MAX_LAYERS];
    for (int64_t l = 0; l < L; l++) hs[l] = ha[l] + B * actor.d[l + 1];
    sample_actions(hs[CL], epsA, B, A, lo, hi, x, O, logp, tr, sd, av, vt); /* x still holds obs */
    net_forward(&critic, x, B, hc);
    double aloss = 0, lpsum = 0;
    for (int64_t r = 0; r < B; r++) {
      const float q0 = hc[CL][r], q1 = hc[CL][B + r];
      const float qmin = q0 < q1 ? q0 : q1;
      aloss += (double)(alpha * logp[r] - qmin);
      lpsum += logp[r];
      /* min's gradient goes to every member equal to the minimum (tfjs's rule; ties are rare). */
      dq[r] = q0 == qmin ? -invB : 0.f;
      dq[B + r] = q1 == qmin ? -invB : 0.f;
    }
    aloss /= (double)B;
    out[1] = aloss;
    if (!isfinite(aloss)) {
      out[4] = 2;
      return NULL;
    }
    /* dA = dloss/da through the critic (its input's action columns), weights untouched. */
    net_backward(&critic, x, B, hc, dq, NULL, NULL, dA, O, A, g, gin);
    /*
     * d log pi / du = 2 tanh(u) = 2a (the derivative of -log(1 - tanh(u)^2)); u = mu + std eps, so
     * dloss/du = alpha 2a / B + dA (1 - a^2), dloss/dmu = dloss/du, dloss/dlogstd = -alpha / B +
     * dloss/du std eps, and dlogstd/draw = (hi - lo)/2 (1 - tanh(raw)^2).
     */
    const float half = 0.5f * (hi - lo);
    for (int64_t r = 0; r < B; r++) {
      for (int64_t j = 0; j < A; j++) {
        const int64_t i = r * A + j;
        const float a = av[i];
        const float gu = alpha * 2.f * a * invB + dA[i] * (1.f - a * a);
        const float gls = -alpha * invB + gu * sd[i] * epsA[i];
        dOut[r * 2 * A + j] = gu;
        dOut[r * 2 * A + A + j] = gls * half * (1.f - tr[i] * tr[i]);
      }
    }
    net_backward(&actor, obs, B, hs, dOut, gwa, gba, NULL, 0, 0, g, gin);
    net_adam(&actor, gwa, gba, &pa);
    const double meanLogp = lpsum / (double)B;
    out[2] = -meanLogp;
    if (doAlpha) {
      /* loss = mean_b exp(log alpha) (-log pi - target entropy), log pi held fixed; d/dlog alpha is the loss itself. */
      const float galpha = alpha * (float)(-meanLogp - targetEntropy);
      out[3] = galpha;
      pbrl_adam_update(logAlpha, &galpha, mAlpha, vAlpha, 1, &pt);
    }
  }
  if (doTarget) {
    const float keep = 1.f - tau;
    for (int64_t l = 0; l < L; l++) {
      const int64_t wn = 2 * critic.d[l] * critic.d[l + 1], bn = 2 * critic.d[l + 1];
      for (int64_t i = 0; i < wn; i++) target.w[l][i] = keep * target.w[l][i] + tau * critic.w[l][i];
      for (int64_t i = 0; i < bn; i++) target.b[l][i] = keep * target.b[l][i] + tau * critic.b[l][i];
    }
  }
  out[4] = 0;
  return NULL;
}
