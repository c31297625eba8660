/**
 * Pieces the offline agents share: the deterministic tanh actor CPL and P-IQL use on state-based
 * Meta-World (log pi(a|s) := -||mu(s) - a||^2, reference/pbrl.md §4.2), the loss functions written
 * as plain tensor functions (so tests check them against hand-computed values), learning-rate
 * schedules, and optimizer save/restore for exact resume.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Adam } from '../../core/nn/optim.js';
import { MLP } from '../../core/nn/mlp.js';
import { dense } from '../../core/nn/dense.js';
import { Rng } from '../../core/rng.js';
import type { AgentState } from '../agent.js';

// ---------------------------------------------------------------------------------------------
// Losses. Shapes: per-pair tensors are [P]; per-transition tensors any shape (means are global).
// ---------------------------------------------------------------------------------------------

/**
 * CPL's contrastive loss with conservative bias lambda, for soft labels y = P(A preferred):
 *   y * L(A over B) + (1 - y) * L(B over A),  L(+ over -) = -log(e^S+ / (e^S+ + e^(lambda S-)))
 * and L(+ over -) = softplus(lambda S- - S+). Mean over pairs.
 */
export function cplLoss(scoreA: tf.Tensor, scoreB: tf.Tensor, labels: tf.Tensor, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    const aWins = tf.softplus(tf.sub(tf.mul(lambda, scoreB), scoreA));
    const bWins = tf.softplus(tf.sub(tf.mul(lambda, scoreA), scoreB));
    return tf.mean(tf.add(tf.mul(labels, aWins), tf.mul(tf.sub(1, labels), bWins))) as tf.Scalar;
  });
}

/**
 * Bradley-Terry cross-entropy on segment sums, y = P(A preferred): logit z = R_A - R_B and
 * -(y log s(z) + (1 - y) log s(-z)) = softplus(z) - y z. Mean over pairs.
 */
export function bradleyTerryLoss(returnA: tf.Tensor, returnB: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const z = tf.sub(returnA, returnB);
    return tf.mean(tf.sub(tf.softplus(z), tf.mul(labels, z))) as tf.Scalar;
  });
}

/** IQL's expectile regression: mean of |tau - 1(u < 0)| u^2 with u = target - prediction. */
export function expectileLoss(u: tf.Tensor, expectile: number): tf.Scalar {
  return tf.tidy(() => {
    // 1(u < 0) as step(-u): comparison ops have no gradient in tfjs and would break the tape.
    const weight = tf.add(expectile, tf.mul(1 - 2 * expectile, tf.step(tf.neg(u))));
    return tf.mean(tf.mul(weight, tf.square(u))) as tf.Scalar;
  });
}

/** AWR weights exp(A / beta), clipped at maxWeight (IQL / IPL: beta = 1/3, clip 100). */
export function awrWeights(advantage: tf.Tensor, beta: number, maxWeight = 100): tf.Tensor {
  return tf.tidy(() => tf.minimum(tf.exp(tf.div(advantage, beta)), maxWeight));
}

/**
 * IPL's implicit reward r_Q(s, a) = Q(s, a) - gamma * V(s') (inverse Bellman operator, time-limit
 * ends bootstrap like every other step).
 */
export function implicitReward(q: tf.Tensor, nextV: tf.Tensor, discount: number): tf.Tensor {
  return tf.tidy(() => tf.sub(q, tf.mul(discount, nextV)));
}

/** Deterministic-actor log-likelihood per row: -||mu - a||^2 (unit-variance Gaussian up to constants). */
export function squaredErrorLogLik(mu: tf.Tensor, actions: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.sum(tf.square(tf.sub(mu, actions)), -1)));
}

/**
 * Diagonal Gaussian log-likelihood per row, sum_k log N(a_k; mu_k, exp(logStd_k)^2), logStd [A]
 * shared by all rows (IPL's actor: state-independent log-std, no tanh squashing of the sample).
 */
export function gaussianLogLik(mu: tf.Tensor, actions: tf.Tensor, logStd: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.div(tf.sub(actions, mu), tf.exp(logStd));
    return tf.sum(tf.sub(tf.sub(tf.mul(-0.5, tf.square(z)), logStd), 0.5 * Math.log(2 * Math.PI)), -1);
  });
}

// ---------------------------------------------------------------------------------------------
// Networks.
// ---------------------------------------------------------------------------------------------

/** Tanh-output deterministic actor: mu(s) in [-1, 1]^A. */
export function makeActor(obsDim: number, actDim: number, hiddenDims: number[], seed: Rng, name = 'actor'): MLP {
  return new MLP({ inputDim: obsDim, hiddenDims, outputDim: actDim, outputActivation: 'tanh', init: 'orthogonal', seed, name });
}

/**
 * Inverted-dropout mask [rows, cols]: 0 with probability p, else 1 / (1 - p). core/nn has no dropout,
 * so this is drawn from the agent's own seeded stream (saved in checkpoints: resumes stay exact). Each
 * 32-bit word gives four 8-bit draws, so p is rounded to a multiple of 1/256 (0.25 and 0.5 are exact).
 */
export function dropoutMask(rng: Rng, rows: number, cols: number, p: number): Float32Array {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout must be in [0, 1), got ${p}`);
  const n = rows * cols;
  const out = new Float32Array(n);
  const threshold = Math.round(p * 256);
  const keep = 1 / (1 - threshold / 256);
  // One draw of the agent's stream seeds an inlined mulberry32 for the mask: masks are the bulk of
  // the random numbers (millions per update at the reference batch) and a method call per word
  // tripled the update time of small nets.
  let a = rng.nextUint32() | 0;
  for (let i = 0; i < n; i += 4) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    let u = (t ^ (t >>> 14)) >>> 0;
    for (let k = 0; k < 4 && i + k < n; k++, u >>>= 8) out[i + k] = (u & 255) < threshold ? 0 : keep;
  }
  return out;
}

/**
 * Training-mode forward pass of an actor with dropout after every hidden layer, as the reference's
 * MLP (Linear, Dropout, ReLU: the same as dropout after the ReLU, since relu(m x) = m relu(x) for
 * m >= 0). rng null or p 0: the plain forward pass. Evaluation (act) never uses dropout.
 */
export function actorForward(actor: MLP, x: tf.Tensor2D, p: number, rng: Rng | null): tf.Tensor2D {
  if (!rng || p === 0) return actor.apply(x);
  const n = actor.variables.length / 2;
  const rows = x.shape[0];
  let h: tf.Tensor = x;
  for (let l = 0; l < n; l++) {
    const w = actor.variables[2 * l];
    const last = l === n - 1;
    h = dense(h, w, actor.variables[2 * l + 1], { activation: last ? actor.config.outputActivation : actor.config.activation, inputGrad: l > 0 });
    const cols = w.shape[1] as number;
    if (!last) h = tf.mul(h, tf.tensor2d(dropoutMask(rng, rows, cols, p), [rows, cols]));
  }
  return h as tf.Tensor2D;
}

/** act() of every offline agent: the actor's mean, clipped by its tanh. Offline policies are evaluated deterministically. */
export function actorAct(actor: MLP, obs: Float32Array, n: number, obsDim: number, who: string): Float32Array {
  if (obs.length !== n * obsDim) throw new Error(`${who}.act: got ${obs.length} values for ${n} observations of ${obsDim}`);
  return tf.tidy(() => actor.apply(tf.tensor2d(obs, [n, obsDim])).dataSync() as Float32Array);
}

// ---------------------------------------------------------------------------------------------
// Schedules and optimizer state.
// ---------------------------------------------------------------------------------------------

/**
 * Sets an Adam's learning rate for the next step. core's Adam reads `learningRate` on every step but
 * declares it readonly; schedules (CPL's warm-up) need to change it, so it is written here in one
 * place. (A settable rate in core/nn/adam.ts would remove this.)
 */
export function setLearningRate(opt: Adam, lr: number): void {
  opt.learningRate = lr; // validated by the setter
}

/** CPL's linear warm-up: lr * min(1, (step + 1) / warmup). */
export function warmupLr(base: number, step: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return base;
  return base * Math.min(1, (step + 1) / warmupSteps);
}

/** IQL's actor schedule: cosine decay from lr to 0 over `total` steps (0 = constant). */
export function cosineLr(base: number, step: number, total: number): number {
  if (total <= 0) return base;
  const t = Math.min(1, step / total);
  // A floor keeps Adam's lr positive at the very end.
  return Math.max(base * 1e-6, base * 0.5 * (1 + Math.cos(Math.PI * t)));
}

export async function saveOptimizers(opts: Record<string, Adam>): Promise<AgentState['optimizers']> {
  const out: AgentState['optimizers'] = {};
  for (const [name, opt] of Object.entries(opts)) {
    const ws = await opt.getWeights();
    out[name] = { name, values: ws.map((w) => Array.from(w.tensor.dataSync())), shapes: ws.map((w) => [...w.tensor.shape]) };
    ws.forEach((w) => w.tensor.dispose());
  }
  return out;
}

/** Restores moments by variable position (names differ between processes), as SAC does. */
export async function loadOptimizers(state: AgentState['optimizers'], opts: Record<string, { opt: Adam; vars: tf.Variable[] }>): Promise<void> {
  for (const [name, { opt, vars }] of Object.entries(opts)) {
    const s = state[name];
    if (!s) throw new Error(`checkpoint has no optimizer state for ${name}`);
    if (s.values.length === 1) {
      // Saved before this optimizer's first step: only the step counter exists.
      opt.iterations = s.values[0][0];
      continue;
    }
    const tensors = s.values.map((v, i) => ({ name: `${name}_slot${i}`, tensor: tf.tensor(v, s.shapes[i]) }));
    try {
      await opt.setWeights(tensors, vars);
    } finally {
      tensors.forEach((t) => t.tensor.dispose());
    }
  }
}

export function checkAlgo(state: AgentState, name: string): void {
  if (state.algo !== name) throw new Error(`checkpoint is for "${state.algo}", not ${name}`);
}

/** zod parse with every bad field named. */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, raw: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(raw ?? {});
  if (!r.success) throw new Error(`invalid ${what} config: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/**
 * Fraction of hard-labelled pairs (label 0 or 1) whose preferred side scores higher; ties (0.5) are
 * left out. A metric: comparison ops have no gradient, so it must never feed a loss value.
 */
export function pairAccuracy(scoreA: tf.Tensor, scoreB: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const hard = tf.cast(tf.notEqual(labels, 0.5), 'float32');
    const right = tf.cast(tf.equal(tf.greater(scoreA, scoreB), tf.greater(labels, 0.5)), 'float32');
    return tf.div(tf.sum(tf.mul(right, hard)), tf.maximum(tf.sum(hard), 1)) as tf.Scalar;
  });
}
