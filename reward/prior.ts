/**
 * Hindsight PRIOR (Verma & Metcalf, "Hindsight PRIORs for Reward Learning from Human Preferences",
 * ICLR 2024) on the PEBBLE reward ensemble.
 *
 * - A small causal transformer world model reads a segment as interleaved tokens
 *   s_0, a_0, s_1, a_1, ..., s_{H-1}, a_{H-1} and predicts s_{t+1} from the output at a_t (MSE over
 *   the H - 1 next states inside the segment). It is trained at every feedback round on segments drawn
 *   from the recent episodes (the trajectories the round samples its queries from).
 * - State importance: the attention row of the last token (a_{H-1}, the one that has seen the whole
 *   segment), averaged over heads and layers; the weights of a step's state and action tokens are
 *   added, so w_t >= 0 and sum_t w_t = 1 (a softmax row over 2H keys, folded in pairs).
 * - Predicted return redistribution: per member, target_t = sg(R_hat) * w_t with R_hat = sum_t r_hat_t
 *   of the same member (stop-gradient), so the targets sum to R_hat; aux loss = mean_t (r_hat_t -
 *   target_t)^2 over the pair batch's segments, summed over members like the preference loss.
 *   Member loss = Bradley-Terry CE + lambda * aux.
 *
 * The authors' repository (apple/ml-rlhf-hindsight-prior) could not be read from here, so the
 * world-model size and lambda are not checked against theirs. How attention becomes importance (the
 * last token's row, a step's (s, a) weights added, averaged over layers) and lambda = 1 follow a
 * third-party re-implementation (wiserl's Hindsight_PRIOR_IQL, offline). It also uses MSE, but lets
 * the gradient flow through R_hat in the target; we stop it there, as the issue specifies. Our
 * choices and simplifications:
 * - World model: 1 layer, 2 heads, d_model 32, pre-LayerNorm, 4x ReLU MLP, fixed sinusoidal time
 *   encoding, no dropout (deterministic), Adam 1e-3, 50 steps of 16 segments per feedback round,
 *   continuing from the previous round's weights (kept small for CPU; the paper's model is larger
 *   and trained longer). Its Adam moments are not checkpointed: a resumed run restarts them.
 * - The world model is frozen while the reward model trains: importance is computed once per round
 *   for all labelled segments (the paper's attention is likewise a fixed prior for the reward loss).
 * - Reward training otherwise follows RewardModel.train exactly (per-member shuffles, batches of
 *   `batchSize` pairs, `epochs` with PEBBLE's early stop on training accuracy), on the model's own Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Rng } from '../core/rng.js';
import type { Trajectory } from '../core/types.js';
import { adam, optimizerStep, type GradientApplier } from '../core/nn/optim.js';
import { bmm } from '../core/nn/dense.js';
import { xavierUniform } from '../core/nn/init.js';
import type { LabelledPair } from './preference-dataset.js';
import type { RewardModel, TrainResult } from './reward-model.js';
import { SegmentSampler, type RewardSegment } from './segments.js';

const posInt = () => z.number().int().min(1);

export const PriorConfigSchema = z
  .object({
    /** Weight of the return-redistribution loss beside the preference loss (lambda; 1 as in the wiserl re-implementation). */
    lambda: z.number().min(0).finite().default(1),
    /** World-model token width d_model (ours; small for CPU). */
    embedDim: posInt().max(512).default(32),
    /** Transformer layers of the world model (ours: 1); importance averages their last-token attention. */
    layers: posInt().max(8).default(1),
    /** Attention heads per layer (ours: 2); importance averages them. embedDim must divide evenly. */
    heads: posInt().max(16).default(2),
    /** World-model Adam learning rate (ours). */
    lr: z.number().positive().finite().default(1e-3),
    /** World-model gradient steps per feedback round, before the reward model trains (ours; 0 = keep it as is). */
    worldModelSteps: z.number().int().min(0).default(50),
    /** Segments per world-model gradient step (ours). */
    worldModelBatch: posInt().default(16),
  })
  .strict()
  .refine((c) => c.embedDim % c.heads === 0, { message: 'embedDim must be a multiple of heads', path: ['embedDim'] });

export type PriorConfig = z.infer<typeof PriorConfigSchema>;

/** Validated settings with defaults; throws naming every bad field. */
export function resolvePriorConfig(c: Partial<PriorConfig> = {}): PriorConfig {
  const r = PriorConfigSchema.safeParse(c ?? {});
  if (!r.success) throw new Error(`invalid PRIOR config:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  return r.data;
}

/** Identity forward, zero gradient backward (tf.js has no stop_gradient op). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * The redistribution target and aux loss of one batch, in tensors: r [..., L] per-step rewards,
 * w [..., L] importance (rows summing to 1). target = sg(sum_t r) * w; returns mean over the leading
 * dims and steps of (r - target)^2 per leading index 0 (members), shape [E] when r is [E, ..., L].
 */
export function redistributionLoss(r: tf.Tensor, w: tf.Tensor): { target: tf.Tensor; loss: tf.Tensor } {
  const ret = tf.sum(r, -1, true);
  const target = tf.mul(stopGradient(ret), w);
  const sq = tf.square(tf.sub(r, target));
  const E = r.shape[0];
  const loss = tf.mean(tf.reshape(sq, [E, -1]), 1);
  return { target, loss };
}

/** Plain-number redistribution target of one segment: R_hat * w_t (tests compare tensors to this). */
export function redistributionTarget(rHat: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  let R = 0;
  for (let t = 0; t < rHat.length; t++) R += rHat[t];
  return Float64Array.from({ length: w.length }, (_, t) => R * w[t]);
}

let worldModelCount = 0;

interface Layer {
  ln1g: tf.Variable; ln1b: tf.Variable;
  wq: tf.Variable; wk: tf.Variable; wv: tf.Variable; wo: tf.Variable; bo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable;
  w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable;
}

/** Fixed sinusoidal encoding of step t (shared by a step's state and action tokens), [T, d]. */
function timeEncoding(T: number, d: number): Float32Array {
  const out = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < d; i += 2) {
      const f = t / Math.pow(10000, i / d);
      out[t * d + i] = Math.sin(f);
      if (i + 1 < d) out[t * d + i + 1] = Math.cos(f);
    }
  }
  return out;
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
}

/** x [N, in] @ w [in, out] + b, for x of any rank (flattened to 2-D and back). */
function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const y = tf.matMul(tf.reshape(x, [-1, shape[shape.length - 1]]), w);
  const yb = b ? tf.add(y, b) : y;
  return tf.reshape(yb, [...shape.slice(0, -1), w.shape[1]!]);
}

/** Segment windows as world-model inputs: obs [B, T, obsDim] and actions [B, T, actDim], row-major. */
export function worldModelInputs(segs: readonly RewardSegment[], T: number): { obs: Float32Array; act: Float32Array } {
  const B = segs.length;
  const od = segs[0].obsDim;
  const ad = segs[0].actDim;
  const obs = new Float32Array(B * T * od);
  const act = new Float32Array(B * T * ad);
  segs.forEach((s, i) => {
    if (s.length < T) throw new Error(`segment ${s.id} has ${s.length} steps, the world model needs ${T}`);
    obs.set(s.obs.subarray(0, T * od), i * T * od);
    act.set(s.actions.subarray(0, T * ad), i * T * ad);
  });
  return { obs, act };
}

/**
 * The causal transformer world model. `forward` returns next-state predictions at the action tokens
 * and, per layer, the attention row of the last token [B, heads, 2T].
 */
export class PriorWorldModel {
  readonly variables: tf.Variable[] = [];
  private readonly embS: tf.Variable;
  private readonly bS: tf.Variable;
  private readonly embA: tf.Variable;
  private readonly bA: tf.Variable;
  private readonly layers: Layer[] = [];
  private readonly lnfG: tf.Variable;
  private readonly lnfB: tf.Variable;
  private readonly head: tf.Variable;
  private readonly headB: tf.Variable;
  private readonly optimizer: ReturnType<typeof adam>;
  readonly config: PriorConfig;

  constructor(readonly obsDim: number, readonly actDim: number, config: Partial<PriorConfig>, seed: Rng) {
    this.config = resolvePriorConfig(config);
    const d = this.config.embedDim;
    const name = `prior-wm${worldModelCount++}`;
    let k = 0;
    const v = (shape: number[], init: Float32Array | 'zeros' | 'ones') => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = init === 'zeros' ? new Float32Array(size) : init === 'ones' ? new Float32Array(size).fill(1) : init;
      const init0 = tf.tensor(data, shape);
      const t = tf.variable(init0, true, `${name}/v${k++}`);
      init0.dispose();
      this.variables.push(t);
      return t;
    };
    const w = (fi: number, fo: number) => v([fi, fo], xavierUniform(seed, fi, fo));
    this.embS = w(obsDim, d);
    this.bS = v([d], 'zeros');
    this.embA = w(actDim, d);
    this.bA = v([d], 'zeros');
    for (let l = 0; l < this.config.layers; l++) {
      this.layers.push({
        ln1g: v([d], 'ones'), ln1b: v([d], 'zeros'),
        wq: w(d, d), wk: w(d, d), wv: w(d, d), wo: w(d, d), bo: v([d], 'zeros'),
        ln2g: v([d], 'ones'), ln2b: v([d], 'zeros'),
        w1: w(d, 4 * d), b1: v([4 * d], 'zeros'), w2: w(4 * d, d), b2: v([d], 'zeros'),
      });
    }
    this.lnfG = v([d], 'ones');
    this.lnfB = v([d], 'zeros');
    this.head = w(d, obsDim);
    this.headB = v([obsDim], 'zeros');
    this.optimizer = adam(this.config.lr);
  }

  /** obs [B, T, od], act [B, T, ad] -> predictions [B, T, od] (s_{t+1} from a_t) and last-token attention per layer. */
  forward(obs: tf.Tensor, act: tf.Tensor): { pred: tf.Tensor; lastAttention: tf.Tensor[] } {
    const [B, T] = obs.shape;
    const d = this.config.embedDim;
    const h = this.config.heads;
    const dh = d / h;
    const S = 2 * T;
    const te = tf.tensor3d(timeEncoding(T, d), [1, T, d]);
    const sTok = tf.add(linear(obs, this.embS, this.bS), te);
    const aTok = tf.add(linear(act, this.embA, this.bA), te);
    let x = tf.reshape(tf.stack([sTok, aTok], 2), [B, S, d]); // s_0, a_0, s_1, ...
    const maskData = new Float32Array(S * S);
    for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) maskData[i * S + j] = -1e9;
    const mask = tf.tensor3d(maskData, [1, S, S]);
    const lastAttention: tf.Tensor[] = [];
    const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, S, h, dh]), [0, 2, 1, 3]), [B * h, S, dh]);
    for (const L of this.layers) {
      const xn = layerNorm(x, L.ln1g, L.ln1b);
      const q = heads(linear(xn, L.wq));
      const kk = heads(linear(xn, L.wk));
      const vv = heads(linear(xn, L.wv));
      const scores = tf.add(tf.mul(bmm(q, kk, false, true), 1 / Math.sqrt(dh)), mask);
      const att = tf.softmax(scores, -1); // [B*h, S, S]
      lastAttention.push(tf.reshape(tf.slice(att, [0, S - 1, 0], [B * h, 1, S]), [B, h, S]));
      const ctx = tf.reshape(tf.transpose(tf.reshape(bmm(att, vv), [B, h, S, dh]), [0, 2, 1, 3]), [B, S, d]);
      x = tf.add(x, linear(ctx, L.wo, L.bo));
      const xn2 = layerNorm(x, L.ln2g, L.ln2b);
      x = tf.add(x, linear(tf.relu(linear(xn2, L.w1, L.b1)), L.w2, L.b2));
    }
    const out = layerNorm(x, this.lnfG, this.lnfB);
    const actOut = tf.reshape(tf.slice(tf.reshape(out, [B, T, 2, d]), [0, 0, 1, 0], [B, T, 1, d]), [B, T, d]);
    return { pred: linear(actOut, this.head, this.headB), lastAttention };
  }

  /** Mean squared next-state error over the T - 1 predictable steps of each window. */
  lossOn(obs: tf.Tensor, act: tf.Tensor): tf.Scalar {
    const [B, T, od] = obs.shape;
    const { pred } = this.forward(obs, act);
    const p = tf.slice(pred, [0, 0, 0], [B, T - 1, od]);
    const target = tf.slice(obs, [0, 1, 0], [B, T - 1, od]);
    return tf.mean(tf.square(tf.sub(p, target))) as tf.Scalar;
  }

  /** Next-state loss of segment windows of length T (no training). */
  evaluate(segs: readonly RewardSegment[], T = segs[0].length): number {
    const { obs, act } = worldModelInputs(segs, T);
    return tf.tidy(() => this.lossOn(tf.tensor3d(obs, [segs.length, T, this.obsDim]), tf.tensor3d(act, [segs.length, T, this.actDim])).dataSync()[0]);
  }

  /** One Adam step on a batch of windows; returns the loss before the step. */
  step(segs: readonly RewardSegment[], T = segs[0].length): number {
    if (T < 2) throw new Error(`PRIOR world model needs segments of at least 2 steps, got ${T}`);
    const { obs, act } = worldModelInputs(segs, T);
    const oT = tf.tensor3d(obs, [segs.length, T, this.obsDim]);
    const aT = tf.tensor3d(act, [segs.length, T, this.actDim]);
    try {
      return optimizerStep(this.optimizer, () => this.lossOn(oT, aT), this.variables, { name: 'PRIOR world-model loss' });
    } finally {
      oT.dispose();
      aT.dispose();
    }
  }

  /** `steps` Adam steps on windows of length T drawn from the trajectories; returns the mean loss (NaN if none). */
  train(trajectories: readonly Trajectory[], T: number, steps: number, rng: Rng): number {
    if (steps === 0) return NaN;
    const sampler = new SegmentSampler(trajectories, { length: T });
    let sum = 0;
    for (let i = 0; i < steps; i++) {
      const batch = Array.from({ length: this.config.worldModelBatch }, () => sampler.sample(rng));
      sum += this.step(batch, T);
    }
    return sum / steps;
  }

  /**
   * State importance per segment, [N * T] row-major: the last token's attention averaged over heads
   * and layers, a step's state and action weights added. Each row is >= 0 and sums to 1.
   */
  importance(segs: readonly RewardSegment[], T = segs[0]?.length ?? 0, chunk = 128): Float32Array {
    const N = segs.length;
    const out = new Float32Array(N * T);
    for (let s0 = 0; s0 < N; s0 += chunk) {
      const part = segs.slice(s0, s0 + chunk);
      const m = part.length;
      const { obs, act } = worldModelInputs(part, T);
      const w = tf.tidy(() => {
        const { lastAttention } = this.forward(tf.tensor3d(obs, [m, T, this.obsDim]), tf.tensor3d(act, [m, T, this.actDim]));
        const avg = tf.mean(tf.stack(lastAttention), [0, 2]); // [m, 2T]
        return tf.sum(tf.reshape(avg, [m, T, 2]), 2).dataSync() as Float32Array;
      });
      out.set(w, s0 * T);
    }
    return out;
  }

  getWeights(): number[][] {
    return this.variables.map((v) => Array.from(v.dataSync()));
  }

  setWeights(ws: number[][]): void {
    if (ws.length !== this.variables.length) throw new Error(`PRIOR world model: ${ws.length} weight arrays, expected ${this.variables.length}`);
    this.variables.forEach((v, i) => {
      if (ws[i].length !== v.size) throw new Error(`PRIOR world model: weight ${i} has ${ws[i].length} values, expected ${v.size}`);
      const t = tf.tensor(ws[i], v.shape);
      v.assign(t);
      t.dispose();
    });
  }

  dispose(): void {
    this.variables.forEach((v) => v.dispose());
    this.optimizer.dispose();
  }
}

export interface PriorTrainResult extends TrainResult {
  /** Mean preference (CE) loss summed over members, last epoch. */
  preferenceLoss: number;
  /** Mean redistribution loss summed over members (before lambda), last epoch. */
  priorLoss: number;
  /** Mean world-model next-state loss of this round's world-model steps (NaN if none ran). */
  worldModelLoss: number;
}

/** RewardModel keeps its Adam private; PRIOR steps it too, so checkpoints keep one set of moments. */
function optimizerOf(model: RewardModel): GradientApplier {
  return (model as unknown as { optimizer: GradientApplier }).optimizer;
}

/**
 * One PRIOR gradient step on E x P pair windows of length L: x as RewardModel.stepOnWindows,
 * w [E, P, 2, L] the importance of each window. Loss = sum_e [sum_p weight CE + lambda * aux_e].
 */
export function priorStep(
  model: RewardModel, x: Float32Array, w: Float32Array, P: number, L: number, target: Float32Array, weight: Float32Array, lambda: number,
): { loss: number; ce: number; aux: number; logits: Float32Array } {
  const E = model.members;
  const d = model.inputDim;
  if (x.length !== E * P * 2 * L * d) throw new Error(`priorStep: x has ${x.length} values, expected ${E}*${P}*2*${L}*${d}`);
  if (w.length !== E * P * 2 * L) throw new Error(`priorStep: importance has ${w.length} values, expected ${E * P * 2 * L}`);
  const xT = tf.tensor3d(x, [E, P * 2 * L, d]);
  const wT = tf.tensor4d(w, [E, P, 2, L]);
  const yT = tf.tensor2d(target, [E, P]);
  const pwT = tf.tensor2d(weight, [E, P]);
  let parts: tf.Tensor | null = null;
  let logitsT: tf.Tensor | null = null;
  try {
    const loss = optimizerStep(
      optimizerOf(model),
      () => {
        const r = tf.reshape(model.net.apply(xT), [E, P, 2, L]);
        const ret = tf.sum(r, 3);
        const [ra, rb] = tf.split(ret, 2, 2);
        const z = tf.reshape(tf.sub(ra, rb), [E, P]);
        logitsT = tf.keep(z);
        const ce = tf.sum(tf.mul(tf.sub(tf.softplus(z), tf.mul(yT, z)), pwT));
        const aux = tf.sum(redistributionLoss(r, wT).loss);
        parts = tf.keep(tf.stack([ce, aux]));
        return tf.add(ce, tf.mul(aux, lambda)) as tf.Scalar;
      },
      model.net.variables,
      { name: 'PRIOR reward loss' },
    );
    const pv = (parts as tf.Tensor | null)?.dataSync() ?? new Float32Array(2);
    const logits = (logitsT as tf.Tensor | null)?.dataSync().slice() as Float32Array ?? new Float32Array(E * P);
    return { loss, ce: pv[0], aux: pv[1], logits };
  } finally {
    (parts as tf.Tensor | null)?.dispose();
    (logitsT as tf.Tensor | null)?.dispose();
    xT.dispose();
    wT.dispose();
    yT.dispose();
    pwT.dispose();
  }
}

export interface PriorTrainOptions {
  epochs?: number;
  earlyStopAccuracy?: number;
}

/**
 * A feedback round's reward training with the PRIOR loss: RewardModel.train's loop (member orders,
 * batches, early stop) with priorStep as its batch step. `importance` maps each labelled segment to its
 * [L] weights.
 */
export function trainWithPrior(
  model: RewardModel, pairs: readonly LabelledPair[], importance: (seg: RewardSegment) => Float32Array, lambda: number, opts: PriorTrainOptions = {},
): Omit<PriorTrainResult, 'worldModelLoss'> {
  const E = model.members;
  const r = model.train(pairs, {
    epochs: opts.epochs,
    earlyStopAccuracy: opts.earlyStopAccuracy,
    batchStep: ({ x, pairs: batch, P, L, target, weight }) => {
      const w = new Float32Array(E * P * 2 * L);
      for (let e = 0; e < E; e++) {
        for (let p = 0; p < P; p++) {
          w.set(importance(batch[e][p].a), ((e * P + p) * 2) * L);
          w.set(importance(batch[e][p].b), ((e * P + p) * 2 + 1) * L);
        }
      }
      const s = priorStep(model, x, w, P, L, target, weight, lambda);
      return { loss: s.loss, logits: s.logits, parts: { ce: s.ce, aux: s.aux } };
    },
  });
  return { epochs: r.epochs, steps: r.steps, loss: r.loss, trainAccuracy: r.trainAccuracy, preferenceLoss: r.parts!.ce, priorLoss: r.parts!.aux };
}

export interface PriorState {
  worldModel: number[][];
}

/**
 * What PreferenceLearner holds when `prior` is set: the world model, retrained each round on the
 * round's trajectories, then the reward model trained with the redistribution loss.
 */
export class PriorLearner {
  readonly config: PriorConfig;
  readonly worldModel: PriorWorldModel;
  /** The last round's world-model loss and aux loss, for logs and tests. */
  last: PriorTrainResult | null = null;

  constructor(readonly model: RewardModel, config: Partial<PriorConfig>, seed: Rng) {
    this.config = resolvePriorConfig(config);
    this.worldModel = new PriorWorldModel(model.config.obsDim, model.config.actDim, this.config, seed.split('world-model'));
  }

  train(pairs: readonly LabelledPair[], trajectories: readonly Trajectory[], rng: Rng, opts: PriorTrainOptions = {}): PriorTrainResult {
    const L = pairs[0].a.length;
    const eligible = trajectories.filter((t) => t.length >= L);
    const worldModelLoss = eligible.length > 0 ? this.worldModel.train(eligible, L, this.config.worldModelSteps, rng.split('world-model')) : NaN;
    // Importance of every labelled segment under this round's (now frozen) world model.
    const segs = new Map<string, RewardSegment>();
    for (const p of pairs) {
      segs.set(p.a.id, p.a);
      segs.set(p.b.id, p.b);
    }
    const list = [...segs.values()];
    const w = this.worldModel.importance(list, L);
    const index = new Map<string, number>();
    list.forEach((s, i) => index.set(s.id, i));
    const lookup = (s: RewardSegment) => w.subarray(index.get(s.id)! * L, (index.get(s.id)! + 1) * L);
    const r = trainWithPrior(this.model, pairs, lookup, this.config.lambda, opts);
    this.last = { ...r, worldModelLoss };
    return this.last;
  }

  getState(): PriorState {
    return { worldModel: this.worldModel.getWeights() };
  }

  setState(s: PriorState): void {
    this.worldModel.setWeights(s.worldModel);
  }

  dispose(): void {
    this.worldModel.dispose();
  }
}
