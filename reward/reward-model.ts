/**
 * Learned reward r_hat(s, a): an ensemble of MLPs (PEBBLE: 3 members, 3 x 256 LeakyReLU, tanh
 * output, Adam 3e-4) run as one batched EnsembleMLP. Trained with the Bradley-Terry cross-entropy
 * on segment sums, P(A > B) = sigmoid(sum r_hat(A) - sum r_hat(B)), soft 0.5 targets for "equal";
 * every member walks the labelled pairs in its own random order, and the members' losses are summed
 * under one optimizer, as B-Pref does. Ratings (rating-based RL) train through `trainRatings`.
 *
 * The RL reward is the ensemble mean; `predictReward` evaluates it for many transitions in large
 * batches, since PEBBLE relabels the whole replay buffer after every feedback round.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import { EnsembleMLP } from '../core/nn/mlp.js';
import { adam, optimizerStep } from '../core/nn/optim.js';
import type { Activation } from '../core/nn/dense.js';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../core/serialize.js';
import { checkLabelValue, type LabelledPair, type PreferenceDataset, type RatedSegment } from './preference-dataset.js';
import type { RewardSegment } from './segments.js';
import { pairSegments, type CandidatePair } from './query/query.js';

export interface RewardModelConfig {
  obsDim: number;
  actDim: number;
  /** Ensemble size (PEBBLE: 3). */
  members?: number;
  hiddenDims?: number[];
  activation?: Activation;
  /** PEBBLE: tanh, so each step's reward is in (-1, 1). */
  outputActivation?: Activation;
  lr?: number;
  /** Labelled pairs per gradient step (PEBBLE: 128). */
  batchSize?: number;
  /**
   * What r_hat reads: 'state-action' (B-Pref, PEBBLE) or 'state' (the action slots are fed zeros, so
   * r_hat(s, a) = r_hat(s): a policy cannot raise it by its choice of action alone). Meta-World's true
   * reward depends on the action only through the next state.
   */
  inputs?: RewardInputs;
  seed?: number;
}

export const REWARD_INPUTS = ['state-action', 'state'] as const;
export type RewardInputs = (typeof REWARD_INPUTS)[number];

export type ResolvedRewardModelConfig = Required<RewardModelConfig>;

export function resolveRewardModelConfig(c: RewardModelConfig): ResolvedRewardModelConfig {
  const r: ResolvedRewardModelConfig = {
    obsDim: c.obsDim,
    actDim: c.actDim,
    members: c.members ?? 3,
    hiddenDims: c.hiddenDims ?? [256, 256, 256],
    activation: c.activation ?? 'leakyrelu',
    outputActivation: c.outputActivation ?? 'tanh',
    lr: c.lr ?? 3e-4,
    batchSize: c.batchSize ?? 128,
    inputs: c.inputs ?? 'state-action',
    seed: c.seed ?? 0,
  };
  if (!REWARD_INPUTS.includes(r.inputs)) throw new Error(`reward model inputs must be one of ${REWARD_INPUTS.join(', ')}, got ${String(r.inputs)}`);
  const posInt = (v: number, f: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`reward model ${f} must be an integer >= 1, got ${v}`);
  };
  posInt(r.obsDim, 'obsDim');
  posInt(r.actDim, 'actDim');
  posInt(r.members, 'members');
  posInt(r.batchSize, 'batchSize');
  if (!Array.isArray(r.hiddenDims)) throw new Error('reward model hiddenDims must be an array of layer sizes');
  r.hiddenDims.forEach((h, i) => posInt(h, `hiddenDims[${i}]`));
  if (!(r.lr > 0 && Number.isFinite(r.lr))) throw new Error(`reward model lr must be a positive number, got ${r.lr}`);
  return r;
}

export interface TrainOptions {
  /** Passes over the labelled pairs (PEBBLE Meta-World scripts: 10). */
  epochs?: number;
  /** Stop once the ensemble's mean training accuracy of an epoch exceeds this (PEBBLE: 0.97; 1 = never). */
  earlyStopAccuracy?: number;
  /** 'shuffle': each member its own permutation (B-Pref); 'bootstrap': each member resamples with replacement. */
  sampling?: 'shuffle' | 'bootstrap';
  /** Held-out pairs to evaluate after training (result.heldOut). */
  heldOut?: readonly LabelledPair[];
  /**
   * The gradient step of one batch, in place of the plain preference step (stepOnWindows): for a loss
   * with more terms (Hindsight PRIOR). Gets the packed windows and, per member, the batch's pairs;
   * returns the summed loss, the preference logits for accuracy, and any loss parts to average.
   */
  batchStep?: (batch: BatchStepInput) => { loss: number; logits: Float32Array; parts?: Record<string, number> };
}

export interface BatchStepInput {
  /** [E, P, 2, L, in], as stepOnWindows takes it. */
  x: Float32Array;
  /** The batch's pairs per member ([E][P]), in x's order. */
  pairs: LabelledPair[][];
  P: number;
  L: number;
  target: Float32Array;
  weight: Float32Array;
}

export interface TrainResult {
  epochs: number;
  steps: number;
  /** Mean summed-over-members loss of the last epoch. */
  loss: number;
  /** Mean member accuracy on the hard labels of the last epoch (NaN if all labels were 0.5). */
  trainAccuracy: number;
  /** evaluate(heldOut) after training, when held-out pairs were given. */
  heldOut?: EvalResult;
  /** With a batchStep that reports loss parts: their mean over the last epoch's batches. */
  parts?: Record<string, number>;
}

export interface EvalResult {
  /** Accuracy of the ensemble-mean segment returns on hard (0/1) labels. */
  accuracy: number;
  /** Each member's accuracy. */
  memberAccuracy: number[];
  /** Mean Bradley-Terry cross-entropy of the ensemble-mean returns (all labels, 0.5 included). */
  loss: number;
  /** Hard labels counted for accuracy. */
  n: number;
}

/** Rating-based loss settings (White et al.). */
export interface RatingTrainOptions {
  epochs?: number;
  /** Segments per gradient step (default the model's batchSize). */
  batchSize?: number;
  /** Sharpness k of the class probabilities. Our default; the paper's value was not checked. */
  sharpness?: number;
}

/** Model inputs of one segment window: per step, obs then action (zeros when `withActions` is false). */
export function segmentFeatures(seg: RewardSegment, offset = 0, length = seg.length, out?: Float32Array, outOffset = 0, withActions = true): Float32Array {
  const { obsDim: od, actDim: ad } = seg;
  const d = od + ad;
  const o = out ?? new Float32Array(length * d);
  for (let t = 0; t < length; t++) {
    const s = offset + t;
    o.set(seg.obs.subarray(s * od, (s + 1) * od), outOffset + t * d);
    if (withActions) o.set(seg.actions.subarray(s * ad, (s + 1) * ad), outOffset + t * d + od);
    else o.fill(0, outOffset + t * d + od, outOffset + (t + 1) * d);
  }
  return o;
}

/** One window of a pair per member: which pair, and where each of its segments is cropped. */
export interface PairWindow {
  pair: { a: RewardSegment; b: RewardSegment };
  offA: number;
  offB: number;
}

const FORMAT = 'pbrl-reward-model';

/** Whatever core's adam() returns (tf's Adam or core's fused one). */
type Optimizer = ReturnType<typeof adam>;

/** Weights, Adam moments and the shuffling stream: what a checkpoint needs to continue training exactly. */
export interface RewardModelTrainingState {
  rng: ReturnType<Rng['getState']>;
  weights: number[][];
  optimizer: { values: number[][]; shapes: number[][] };
}

export class RewardModel {
  readonly config: ResolvedRewardModelConfig;
  readonly net: EnsembleMLP;
  private optimizer: Optimizer;
  private rng: Rng;
  /** Rows per forward pass in inference (predictReward, segment returns); 4096 was fastest in bench/reward.ts. */
  inferenceBatchRows = 4096;

  constructor(config: RewardModelConfig) {
    this.config = resolveRewardModelConfig(config);
    const c = this.config;
    const seed = new Rng(c.seed);
    this.net = new EnsembleMLP({
      inputDim: c.obsDim + c.actDim,
      hiddenDims: c.hiddenDims,
      outputDim: 1,
      activation: c.activation,
      outputActivation: c.outputActivation,
      members: c.members,
      seed: seed.split('net'),
      name: 'reward',
    });
    this.optimizer = adam(c.lr);
    this.rng = seed.split('train');
  }

  get members(): number {
    return this.config.members;
  }

  /** False when r_hat reads the state only (inputs 'state'): action slots are fed zeros. */
  get readsActions(): boolean {
    return this.config.inputs === 'state-action';
  }

  get inputDim(): number {
    return this.config.obsDim + this.config.actDim;
  }

  private checkSegment(seg: RewardSegment): void {
    if (seg.obsDim !== this.config.obsDim || seg.actDim !== this.config.actDim) {
      throw new Error(`segment ${seg.id}: obsDim ${seg.obsDim} / actDim ${seg.actDim} do not match the reward model's ${this.config.obsDim} / ${this.config.actDim}`);
    }
  }

  /**
   * One gradient step on E x P pair windows of length L. x: [E, P, 2, L, in] (member-major);
   * target: P(A) per member and pair; weight: each pair's weight in its member's loss.
   * Loss = sum_e sum_p weight * CE. Returns the loss and the logits R_A - R_B [E * P].
   */
  stepOnWindows(x: Float32Array, P: number, L: number, target: Float32Array, weight: Float32Array): { loss: number; logits: Float32Array } {
    const E = this.members;
    const d = this.inputDim;
    if (x.length !== E * P * 2 * L * d) throw new Error(`stepOnWindows: x has ${x.length} values, expected ${E}*${P}*2*${L}*${d}`);
    if (target.length !== E * P || weight.length !== E * P) throw new Error(`stepOnWindows: target and weight need ${E * P} values`);
    let logitsT: tf.Tensor | null = null;
    // Inputs live outside the loss function: the dense layers' gradients may read their inputs after
    // the forward pass's scope has ended, so they must not be tensors that scope owns.
    const xT = tf.tensor3d(x, [E, P * 2 * L, d]);
    const yT = tf.tensor2d(target, [E, P]);
    const wT = tf.tensor2d(weight, [E, P]);
    let loss: number;
    try {
      loss = optimizerStep(
        this.optimizer,
        () => {
          const r = this.net.apply(xT); // [E, P*2*L, 1]
          const ret = tf.sum(tf.reshape(r, [E, P, 2, L]), 3); // [E, P, 2]
          const [ra, rb] = tf.split(ret, 2, 2);
          const z = tf.reshape(tf.sub(ra, rb), [E, P]);
          logitsT = tf.keep(z);
          // CE with logits: -(y log s(z) + (1-y) log s(-z)) = softplus(z) - y z
          const ce = tf.sub(tf.softplus(z), tf.mul(yT, z));
          return tf.sum(tf.mul(ce, wT)) as tf.Scalar;
        },
        this.net.variables,
        { name: 'reward model loss' },
      );
    } catch (e) {
      (logitsT as tf.Tensor | null)?.dispose();
      throw e;
    } finally {
      xT.dispose();
      yT.dispose();
      wT.dispose();
    }
    const lt = logitsT as tf.Tensor | null;
    const logits = lt ? (lt.dataSync() as Float32Array).slice() : new Float32Array(E * P);
    lt?.dispose();
    return { loss, logits };
  }

  /** Packs per-member windows into the [E, P, 2, L, in] layout of stepOnWindows. */
  packWindows(windows: PairWindow[][], L: number): Float32Array {
    const E = this.members;
    const P = windows[0].length;
    const d = this.inputDim;
    const x = new Float32Array(E * P * 2 * L * d);
    for (let e = 0; e < E; e++) {
      if (windows[e].length !== P) throw new Error('packWindows: every member needs the same number of pairs');
      for (let p = 0; p < P; p++) {
        const w = windows[e][p];
        const base = ((e * P + p) * 2) * L * d;
        segmentFeatures(w.pair.a, w.offA, L, x, base, this.readsActions);
        segmentFeatures(w.pair.b, w.offB, L, x, base + L * d, this.readsActions);
      }
    }
    return x;
  }

  /** Per member, an order over n items: a permutation, or n draws with replacement. */
  memberOrders(n: number, sampling: 'shuffle' | 'bootstrap', rng: Rng = this.rng): Int32Array[] {
    return Array.from({ length: this.members }, () => {
      if (sampling === 'bootstrap') return Int32Array.from({ length: n }, () => rng.int(n));
      const idx = Int32Array.from({ length: n }, (_, i) => i);
      rng.shuffle(idx);
      return idx;
    });
  }

  /** A feedback round's training: epochs over all labelled pairs, early stop on training accuracy. */
  train(data: PreferenceDataset | readonly LabelledPair[], opts: TrainOptions = {}): TrainResult {
    const pairs = Array.isArray(data) ? (data as readonly LabelledPair[]) : (data as PreferenceDataset).pairs;
    const epochs = opts.epochs ?? 10;
    const stopAt = opts.earlyStopAccuracy ?? 0.97;
    const sampling = opts.sampling ?? 'shuffle';
    if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`train: epochs must be an integer >= 1, got ${epochs}`);
    if (!(stopAt >= 0 && stopAt <= 1)) throw new Error(`train: earlyStopAccuracy must be in [0, 1], got ${stopAt}`);
    if (sampling !== 'shuffle' && sampling !== 'bootstrap') throw new Error(`train: sampling must be "shuffle" or "bootstrap", got ${sampling}`);
    const n = pairs.length;
    if (n === 0) throw new Error('train: no labelled pairs (all queries skipped?); collect labels first');
    const L = pairs[0].a.length;
    pairs.forEach((p, i) => checkLabelValue(p.label, `train pair ${i}`));
    for (const p of pairs) {
      this.checkSegment(p.a);
      this.checkSegment(p.b);
      if (p.a.length !== L || p.b.length !== L) throw new Error(`train: all segments must have the same length (${L}); pair (${p.a.id}, ${p.b.id}) differs`);
    }
    const E = this.members;
    const bs = this.config.batchSize;
    let steps = 0;
    let epoch = 0;
    let lastLoss = 0;
    let lastAcc = 0;
    let lastParts: Record<string, number> | undefined;
    while (epoch < epochs) {
      epoch++;
      const orders = this.memberOrders(n, sampling);
      let lossSum = 0;
      let partSums: Record<string, number> | undefined;
      let correct = 0;
      let hard = 0;
      let batches = 0;
      for (let start = 0; start < n; start += bs) {
        const P = Math.min(bs, n - start);
        const windows: PairWindow[][] = [];
        const batchPairs: LabelledPair[][] = [];
        const target = new Float32Array(E * P);
        const weight = new Float32Array(E * P).fill(1 / P);
        for (let e = 0; e < E; e++) {
          const row: PairWindow[] = [];
          const memberPairs: LabelledPair[] = [];
          for (let p = 0; p < P; p++) {
            const pair = pairs[orders[e][start + p]];
            row.push({ pair, offA: 0, offB: 0 });
            memberPairs.push(pair);
            target[e * P + p] = pair.label;
          }
          windows.push(row);
          batchPairs.push(memberPairs);
        }
        const x = this.packWindows(windows, L);
        const { loss, logits, parts }: { loss: number; logits: Float32Array; parts?: Record<string, number> } = opts.batchStep
          ? opts.batchStep({ x, pairs: batchPairs, P, L, target, weight })
          : this.stepOnWindows(x, P, L, target, weight);
        for (let i = 0; i < E * P; i++) {
          if (target[i] === 0.5) continue;
          hard++;
          if ((logits[i] > 0) === (target[i] === 1)) correct++;
        }
        lossSum += loss;
        if (parts) {
          partSums ??= {};
          for (const [k, v] of Object.entries(parts)) partSums[k] = (partSums[k] ?? 0) + v;
        }
        batches++;
        steps++;
      }
      lastLoss = lossSum / batches;
      lastParts = partSums && Object.fromEntries(Object.entries(partSums).map(([k, v]) => [k, (v as number) / batches]));
      // Only 0.5 labels: no accuracy to judge, so no early stop.
      lastAcc = hard ? correct / hard : NaN;
      if (hard > 0 && lastAcc > stopAt) break;
    }
    const result: TrainResult = { epochs: epoch, steps, loss: lastLoss, trainAccuracy: lastAcc };
    if (lastParts) result.parts = lastParts;
    if (opts.heldOut && opts.heldOut.length > 0) result.heldOut = this.evaluate(opts.heldOut);
    return result;
  }

  /**
   * Predicted returns of segment windows, per member: [E * N] member-major. Each window is
   * (segment, offset, length); all of one length.
   */
  windowReturns(segs: readonly RewardSegment[], offsets?: ArrayLike<number>, length?: number): Float32Array {
    const N = segs.length;
    const E = this.members;
    const out = new Float32Array(E * N);
    if (N === 0) return out;
    const L = length ?? segs[0].length;
    const d = this.inputDim;
    const perChunk = Math.max(1, Math.floor(this.inferenceBatchRows / L));
    for (let s0 = 0; s0 < N; s0 += perChunk) {
      const m = Math.min(perChunk, N - s0);
      const x = new Float32Array(m * L * d);
      for (let i = 0; i < m; i++) {
        const seg = segs[s0 + i];
        this.checkSegment(seg);
        const off = offsets ? offsets[s0 + i] : 0;
        if (off + L > seg.length) throw new Error(`segment ${seg.id}: window [${off}, ${off + L}) runs past its ${seg.length} steps`);
        segmentFeatures(seg, off, L, x, i * L * d, this.readsActions);
      }
      const r = tf.tidy(() => tf.sum(tf.reshape(this.net.apply(tf.tensor2d(x, [m * L, d])), [E, m, L]), 2).dataSync() as Float32Array);
      for (let e = 0; e < E; e++) out.set(r.subarray(e * m, (e + 1) * m), e * N + s0);
    }
    return out;
  }

  /** Predicted (undiscounted) segment returns per member, [E * N] member-major. */
  segmentReturns(segs: readonly RewardSegment[]): Float32Array {
    return this.windowReturns(segs);
  }

  /**
   * Each member's P(A preferred) for each pair, [E * N] member-major. With `window` the pairs'
   * segments are read at [offset, offset + length) (SURF scores the central H of longer segments).
   */
  preferenceProbs(pairs: readonly CandidatePair[], window?: { offset: number; length: number }): Float32Array {
    const N = pairs.length;
    const segs: RewardSegment[] = [];
    for (const p of pairs) segs.push(...pairSegments(p));
    const offsets = window ? new Array(segs.length).fill(window.offset) : undefined;
    const r = this.windowReturns(segs, offsets, window?.length);
    const E = this.members;
    const out = new Float32Array(E * N);
    for (let e = 0; e < E; e++) {
      for (let i = 0; i < N; i++) out[e * N + i] = 1 / (1 + Math.exp(-(r[e * 2 * N + 2 * i] - r[e * 2 * N + 2 * i + 1])));
    }
    return out;
  }

  /** Held-out label accuracy and loss. Skipped labels must not be passed. */
  evaluate(pairs: readonly LabelledPair[]): EvalResult {
    const N = pairs.length;
    if (N === 0) throw new Error('evaluate: no pairs');
    const segs: RewardSegment[] = [];
    for (const p of pairs) segs.push(p.a, p.b);
    const r = this.windowReturns(segs);
    const E = this.members;
    let correct = 0;
    let hard = 0;
    let loss = 0;
    const memberCorrect = new Array(E).fill(0);
    for (let i = 0; i < N; i++) {
      const y = pairs[i].label;
      let z = 0;
      for (let e = 0; e < E; e++) {
        const ze = r[e * 2 * N + 2 * i] - r[e * 2 * N + 2 * i + 1];
        z += ze / E;
        if (y !== 0.5 && (ze > 0) === (y === 1)) memberCorrect[e]++;
      }
      loss += softplus(z) - y * z;
      if (y === 0.5) continue;
      hard++;
      if ((z > 0) === (y === 1)) correct++;
    }
    return {
      accuracy: hard ? correct / hard : NaN,
      memberAccuracy: memberCorrect.map((c) => (hard ? c / hard : NaN)),
      loss: loss / N,
      n: hard,
    };
  }

  /**
   * Ensemble-mean reward of n transitions (obs [n, obsDim], act [n, actDim], row-major), in chunks of
   * `inferenceBatchRows`. `out` may be a caller's buffer (a replay buffer's reward column).
   */
  predictReward(obs: Float32Array, act: Float32Array, n: number, out?: Float32Array): Float32Array {
    return this.predictRewardStats(obs, act, n, { mean: out }).mean;
  }

  /** Ensemble mean and, when `std` is given (RUNE's exploration bonus), the ensemble std per transition. */
  predictRewardStats(obs: Float32Array, act: Float32Array, n: number, outs: { mean?: Float32Array; std?: Float32Array } = {}): { mean: Float32Array; std?: Float32Array } {
    const { obsDim: od, actDim: ad } = this.config;
    if (!Number.isInteger(n) || n < 0) throw new Error(`predictReward: n must be a non-negative integer, got ${n}`);
    if (obs.length < n * od) throw new Error(`predictReward: obs has ${obs.length} values, need n * obsDim = ${n * od}`);
    if (act.length < n * ad) throw new Error(`predictReward: act has ${act.length} values, need n * actDim = ${n * ad}`);
    const mean = outs.mean ?? new Float32Array(n);
    if (mean.length < n) throw new Error(`predictReward: output buffer has ${mean.length} slots, need ${n}`);
    const std = outs.std;
    if (std && std.length < n) throw new Error(`predictReward: std buffer has ${std.length} slots, need ${n}`);
    const B = this.inferenceBatchRows;
    for (let s = 0; s < n; s += B) {
      const m = Math.min(B, n - s);
      tf.tidy(() => {
        const a = this.readsActions ? tf.tensor2d(act.subarray(s * ad, (s + m) * ad), [m, ad]) : tf.zeros([m, ad]);
        const x = tf.concat([tf.tensor2d(obs.subarray(s * od, (s + m) * od), [m, od]), a], 1);
        const r = tf.reshape(this.net.apply(x), [this.members, m]);
        const mu = tf.mean(r, 0);
        mean.set(mu.dataSync() as Float32Array, s);
        if (std) std.set(tf.sqrt(tf.mean(tf.square(tf.sub(r, mu)), 0)).dataSync() as Float32Array, s);
      });
    }
    return std ? { mean, std } : { mean };
  }

  /**
   * Rating-based training (White et al.): per batch, each member's predicted returns are min-max
   * normalised to [0, 1]; class boundaries are placed so that the share of segments below each one
   * equals the share of ratings in the classes below it; class i has logit
   * -k (R~ - b_i)(R~ - b_{i+1}), positive only inside its interval; loss = cross-entropy.
   */
  trainRatings(rated: readonly RatedSegment[], opts: RatingTrainOptions = {}): TrainResult {
    const epochs = opts.epochs ?? 10;
    const bs = opts.batchSize ?? this.config.batchSize;
    const k = opts.sharpness ?? 30;
    if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`trainRatings: epochs must be an integer >= 1, got ${epochs}`);
    if (!Number.isInteger(bs) || bs < 2) throw new Error(`trainRatings: batchSize must be an integer >= 2, got ${bs}`);
    if (!(k > 0)) throw new Error(`trainRatings: sharpness must be > 0, got ${k}`);
    const N = rated.length;
    if (N < 2) throw new Error(`trainRatings: need at least 2 rated segments, got ${N}`);
    const C = rated[0].classes;
    const L = rated[0].segment.length;
    rated.forEach((r, i) => {
      this.checkSegment(r.segment);
      if (r.classes !== C) throw new Error(`trainRatings: rating ${i} has ${r.classes} classes, the others ${C}`);
      if (r.segment.length !== L) throw new Error(`trainRatings: segment ${r.segment.id} has length ${r.segment.length}, the others ${L}`);
      if (!Number.isInteger(r.rating) || r.rating < 0 || r.rating >= C) throw new Error(`trainRatings: rating ${i} must be an integer in [0, ${C - 1}], got ${r.rating}`);
    });
    const E = this.members;
    const d = this.inputDim;
    let steps = 0;
    let lastLoss = 0;
    let lastAcc = 0;
    for (let ep = 0; ep < epochs; ep++) {
      const orders = this.memberOrders(N, 'shuffle');
      let lossSum = 0;
      let batches = 0;
      let correct = 0;
      let count = 0;
      for (let start = 0; start < N; start += bs) {
        // A batch of one segment cannot be normalised; fold a short tail into the previous batch's size.
        const B = Math.min(bs, N - start);
        if (B < 2) break;
        const x = new Float32Array(E * B * L * d);
        const cls = new Int32Array(E * B);
        for (let e = 0; e < E; e++) {
          for (let b = 0; b < B; b++) {
            const r = rated[orders[e][start + b]];
            segmentFeatures(r.segment, 0, L, x, (e * B + b) * L * d, this.readsActions);
            cls[e * B + b] = r.rating;
          }
        }
        let predicted: Int32Array | null = null;
        const xT = tf.tensor3d(x, [E, B * L, d]); // outside the loss function, as in stepOnWindows
        let loss: number;
        try {
          loss = optimizerStep(
          this.optimizer,
          () => {
            const ret = tf.sum(tf.reshape(this.net.apply(xT), [E, B, L]), 2) as tf.Tensor2D; // [E, B]
            const r = ratingCrossEntropy(ret, cls, C, k);
            predicted = r.predicted;
            return r.loss;
          },
          this.net.variables,
          { name: 'rating loss' },
          );
        } finally {
          xT.dispose();
        }
        const pred = predicted as Int32Array | null;
        if (pred) for (let i = 0; i < E * B; i++) if (pred[i] === cls[i]) correct++;
        count += E * B;
        lossSum += loss;
        batches++;
        steps++;
      }
      lastLoss = batches ? lossSum / batches : NaN;
      lastAcc = count ? correct / count : NaN;
    }
    return { epochs, steps, loss: lastLoss, trainAccuracy: lastAcc };
  }

  /** A fresh optimizer (e.g. when the model is re-initialised between experiments). */
  resetOptimizer(): void {
    this.optimizer.dispose();
    this.optimizer = adam(this.config.lr);
  }

  /** Weights and Adam moments, so a checkpointed run continues training exactly (toJSON has weights only). */
  async getTrainingState(): Promise<RewardModelTrainingState> {
    const ws = await this.optimizer.getWeights();
    const state = {
      rng: this.rng.getState(),
      weights: this.net.getWeights().map((w) => Array.from(w)),
      optimizer: { values: ws.map((w) => Array.from(w.tensor.dataSync())), shapes: ws.map((w) => [...w.tensor.shape]) },
    };
    ws.forEach((w) => w.tensor.dispose());
    return state;
  }

  async setTrainingState(state: RewardModelTrainingState): Promise<void> {
    this.net.setWeights(state.weights);
    this.rng = Rng.fromState(state.rng);
    const tensors = state.optimizer.values.map((v, i) => ({ name: `slot${i}`, tensor: tf.tensor(v, state.optimizer.shapes[i]) }));
    // An optimizer that has not stepped yet saved only its step counter.
    await this.optimizer.setWeights(tensors, tensors.length > 1 ? this.net.variables : []);
    tensors.forEach((t) => t.tensor.dispose());
  }

  toJSON(): { format: string; version: number; config: ResolvedRewardModelConfig; network: ReturnType<EnsembleMLP['toJSON']> } {
    return { format: FORMAT, version: 1, config: { ...this.config, hiddenDims: [...this.config.hiddenDims] }, network: this.net.toJSON() };
  }

  /** Restores weights (not the Adam moments: training after a load restarts the optimizer). */
  static fromJSON(j: unknown): RewardModel {
    const o = j as { format?: string; version?: number; config?: RewardModelConfig; network?: { weights?: number[][] } };
    if (!o || o.format !== FORMAT) throw new Error(`not a saved reward model (format "${o?.format}", expected "${FORMAT}")`);
    if (o.version !== 1) throw new Error(`saved reward model version ${o.version} is not supported (expected 1)`);
    if (!o.config || !o.network || !Array.isArray(o.network.weights)) throw new Error('saved reward model lacks config or network weights');
    const m = new RewardModel(o.config);
    m.net.setWeights(o.network.weights);
    return m;
  }

  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.toJSON()));
  }

  static load(path: string): RewardModel {
    let j: unknown;
    try {
      j = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read reward model ${path}: ${(e as Error).message}`);
    }
    return RewardModel.fromJSON(j);
  }

  dispose(): void {
    this.net.dispose();
    this.optimizer.dispose();
  }
}

/**
 * The rating loss of E models' returns `ret` [E, B] of B rated segments (classes `cls` [E * B], C of them,
 * sharpness k), for use inside a gradient: per member the returns are min-max normalised to [0, 1] over
 * the batch, class boundaries placed by the ratings' shares (constants, no gradient), class i's logit
 * -k (R~ - b_i)(R~ - b_{i+1}); loss = cross-entropy, mean over the batch per member, summed over members
 * (as the preference loss). Also each segment's most probable class.
 */
export function ratingCrossEntropy(ret: tf.Tensor2D, cls: Int32Array, C: number, k: number): { loss: tf.Scalar; predicted: Int32Array } {
  const [E, B] = ret.shape;
  if (cls.length !== E * B) throw new Error(`ratingCrossEntropy: ${cls.length} classes for ${E} x ${B} returns`);
  const lo = tf.min(ret, 1, true);
  const hi = tf.max(ret, 1, true);
  const rn = tf.div(tf.sub(ret, lo), tf.add(tf.sub(hi, lo), 1e-6));
  const bounds = ratingBoundaries(rn.dataSync() as Float32Array, cls, E, B, C); // [E, C + 1]
  const bt = tf.tensor3d(bounds, [E, 1, C + 1]);
  const r3 = tf.expandDims(rn, 2); // [E, B, 1]
  const lower = tf.sub(r3, tf.slice(bt, [0, 0, 0], [E, 1, C]));
  const upper = tf.sub(r3, tf.slice(bt, [0, 0, 1], [E, 1, C]));
  const logits = tf.mul(-k, tf.mul(lower, upper)); // [E, B, C]
  const logp = tf.logSoftmax(logits, 2);
  const predicted = (tf.argMax(logits, 2).dataSync() as Int32Array).slice();
  const onehot = tf.oneHot(tf.tensor2d(cls, [E, B], 'int32'), C);
  return { loss: tf.div(tf.neg(tf.sum(tf.mul(onehot, logp))), B) as tf.Scalar, predicted };
}

function softplus(z: number): number {
  return z > 30 ? z : Math.log1p(Math.exp(z));
}

/**
 * Class boundaries per member: b_0 = 0, b_C = 1, and b_i halfway between the normalised returns
 * ranked just below and just above the number of ratings in classes < i.
 */
export function ratingBoundaries(rn: Float32Array, cls: Int32Array, E: number, B: number, C: number): Float32Array {
  const out = new Float32Array(E * (C + 1));
  for (let e = 0; e < E; e++) {
    const sorted = Array.from(rn.subarray(e * B, (e + 1) * B)).sort((x, y) => x - y);
    const counts = new Array(C).fill(0);
    for (let b = 0; b < B; b++) counts[cls[e * B + b]]++;
    out[e * (C + 1)] = 0;
    out[e * (C + 1) + C] = 1;
    let below = 0;
    for (let i = 1; i < C; i++) {
      below += counts[i - 1];
      let b: number;
      if (below === 0) b = 0;
      else if (below >= B) b = 1;
      else b = 0.5 * (sorted[below - 1] + sorted[below]);
      out[e * (C + 1) + i] = b;
    }
  }
  return out;
}
