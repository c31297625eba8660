/**
 * Label-free checks of a learned reward against the env's true reward, logged by PEBBLE once per
 * feedback round (issue 18): Pearson and Spearman correlation per step over the replay buffer and over
 * the most recent (on-policy) transitions, and how often r_hat orders random segment pairs drawn from
 * the recent episodes the way their true returns do. The true reward is never used for training.
 *
 * Spearman matters beside Pearson: r_hat (tanh, in (-1, 1)) and the true reward (Meta-World: [0, 10])
 * have different shapes, so Pearson understates how well r_hat ranks states, which is what the policy
 * needs. Costs stay small: the buffer is subsampled at an even stride, the rest is a few thousand steps.
 */
import type { Trajectory } from '../core/types.js';
import { Rng } from '../core/rng.js';

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Ranks 1..n, ties sharing their mean rank (so Spearman is Pearson of ranks, ties handled). */
export function ranks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i] - x[j]);
  const r = new Float64Array(n);
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && x[order[e]] === x[order[s]]) e++;
    const mean = (s + e + 1) / 2; // ranks s+1..e
    for (let t = s; t < e; t++) r[order[t]] = mean;
    s = e;
  }
  return r;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return NaN;
  return pearson(ranks(Array.prototype.slice.call(a, 0, n)), ranks(Array.prototype.slice.call(b, 0, n)));
}

/** At most `max` of n indices, evenly spaced (deterministic; the buffer's slots are all alike). */
export function strideSample(n: number, max: number): Int32Array {
  const k = Math.min(n, max);
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) out[i] = Math.floor((i * n) / k);
  return out;
}

export interface DiagnosticsOptions {
  /** Buffer transitions used for Spearman (evenly spaced subsample; Pearson uses all). */
  maxTransitions: number;
  /** Most recent transitions that count as on-policy (whole recent episodes up to this many). */
  recentSteps: number;
  /** Random segment pairs from the recent episodes for the ordering accuracy. */
  pairs: number;
  segmentLength: number;
}

/**
 * r_hat against the true reward. `rHat` and `trueR` are the buffer's columns (same slots);
 * `recent` the latest episodes, oldest first; `predict` the reward model's ensemble mean.
 */
export function rewardDiagnostics(
  rHat: Float32Array,
  trueR: Float32Array,
  recent: readonly Trajectory[],
  predict: (obs: Float32Array, act: Float32Array, n: number) => Float32Array,
  opts: DiagnosticsOptions,
  rng: Rng,
): Record<string, number> {
  const out: Record<string, number> = {};
  out.reward_true_corr = pearson(rHat, trueR);
  const idx = strideSample(rHat.length, opts.maxTransitions);
  out.reward_true_spearman = spearman(Array.from(idx, (i) => rHat[i]), Array.from(idx, (i) => trueR[i]));

  // The latest whole episodes covering recentSteps transitions.
  const eps: { hat: Float32Array; tru: Float32Array }[] = [];
  let total = 0;
  for (let e = recent.length - 1; e >= 0 && total < opts.recentSteps; e--) {
    const t = recent[e];
    if (t.length === 0) continue;
    eps.unshift({ hat: predict(t.obs.subarray(0, t.length * t.obsDim), t.actions.subarray(0, t.length * t.actDim), t.length), tru: t.rewards });
    total += t.length;
  }
  if (total > 0) {
    const hat = new Float32Array(total);
    const tru = new Float32Array(total);
    let o = 0;
    for (const e of eps) {
      hat.set(e.hat, o);
      tru.set(e.tru.subarray(0, e.hat.length), o);
      o += e.hat.length;
    }
    out.reward_true_corr_recent = pearson(hat, tru);
    out.reward_true_spearman_recent = spearman(hat, tru);
  }

  // Segment pairs from the recent episodes: does r_hat order them as the true return does?
  const H = opts.segmentLength;
  const usable = eps.filter((e) => e.hat.length >= H).map((e) => ({ hat: prefix(e.hat), tru: prefix(e.tru.subarray(0, e.hat.length)), T: e.hat.length }));
  if (usable.length > 0 && opts.pairs > 0) {
    let right = 0;
    let counted = 0;
    const seg = () => {
      const e = usable[rng.int(usable.length)];
      const s = rng.int(e.T - H + 1);
      return { hat: e.hat[s + H] - e.hat[s], tru: e.tru[s + H] - e.tru[s] };
    };
    for (let p = 0; p < opts.pairs; p++) {
      const a = seg();
      const b = seg();
      if (a.tru === b.tru) continue; // no order to get right
      counted++;
      if ((a.hat > b.hat) === (a.tru > b.tru)) right++;
    }
    if (counted > 0) out.reward_recent_pair_accuracy = right / counted;
  }
  for (const k of Object.keys(out)) if (!Number.isFinite(out[k])) delete out[k];
  return out;
}

function prefix(x: ArrayLike<number>): Float64Array {
  const p = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) p[i + 1] = p[i] + x[i];
  return p;
}

/**
 * Does state-entropy pre-training reach more states than random actions? Counts the distinct voxels
 * visited by the hand (obs[0:3], 2 cm cells) and by the first object (obs[4:7], 1 cm cells) in two
 * windows of equal length of the buffer: the uniform-random warm-up [0, seedSteps) and the last
 * `seedSteps` steps of the unsupervised phase (where the exploration policy is most trained). Equal
 * lengths keep the counts comparable (a voxel count grows with the number of samples).
 * Assumes Meta-World's observation layout (hand xyz, gripper, object xyz, ...).
 */
export function pretrainCoverage(obs: Float32Array, obsDim: number, seedSteps: number, firstFeedbackStep: number): Record<string, number> {
  const n = Math.min(seedSteps, firstFeedbackStep - seedSteps, Math.floor(obs.length / obsDim) - seedSteps);
  if (n <= 0 || obsDim < 7) return {};
  const count = (from: number, off: number, cell: number) => {
    const seen = new Set<string>();
    for (let t = from; t < from + n; t++) {
      const o = t * obsDim + off;
      seen.add(`${Math.floor(obs[o] / cell)},${Math.floor(obs[o + 1] / cell)},${Math.floor(obs[o + 2] / cell)}`);
    }
    return seen.size;
  };
  const unsupFrom = firstFeedbackStep - n;
  return {
    pretrain_window: n,
    pretrain_hand_voxels_random: count(0, 0, 0.02),
    pretrain_hand_voxels_unsup: count(unsupFrom, 0, 0.02),
    pretrain_obj_voxels_random: count(0, 4, 0.01),
    pretrain_obj_voxels_unsup: count(unsupFrom, 4, 0.01),
  };
}
