/** The per-round reward diagnostics: rank correlation, recent-transition checks, segment-pair ordering. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import type { Trajectory } from '../../core/types.js';
import { pearson, pretrainCoverage, rewardDiagnostics, spearman, strideSample } from '../../agents/pebble-diagnostics.js';

describe('rank correlation', () => {
  it('matches 1 - 6 sum d^2 / (n (n^2 - 1)) without ties', () => {
    const rng = new Rng(1);
    const n = 300;
    const a = Array.from({ length: n }, () => rng.normal());
    const b = a.map((x) => x + 0.8 * rng.normal());
    const rankOf = (x: number[]) => {
      const r = new Array(n);
      [...x.keys()].sort((i, j) => x[i] - x[j]).forEach((i, pos) => (r[i] = pos + 1));
      return r as number[];
    };
    const ra = rankOf(a);
    const rb = rankOf(b);
    const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
    expect(spearman(a, b)).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 10);
  });

  it('averages tied ranks (scipy.stats.spearmanr reference) and ignores monotone rescaling', () => {
    const a = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const b = [2, 7, 1, 8, 2, 8, 1, 8, 2, 8];
    // scipy 1.17: spearmanr(a, b).statistic, pearsonr(a, b).statistic
    expect(spearman(a, b)).toBeCloseTo(0.13471506281091267, 12);
    expect(pearson(a, b)).toBeCloseTo(0.10492284287735881, 12);
    const x = Array.from({ length: 50 }, (_, i) => i / 5);
    const y = x.map(Math.exp);
    expect(spearman(x, y)).toBeCloseTo(1, 12);
    expect(pearson(x, y)).toBeLessThan(0.8);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('strideSample spreads at most max indices over the range', () => {
    expect(Array.from(strideSample(10, 4))).toEqual([0, 2, 5, 7]);
    expect(Array.from(strideSample(3, 10))).toEqual([0, 1, 2]);
  });
});

function traj(rewards: number[], seed: number): Trajectory {
  const T = rewards.length;
  // obs[t][0] carries the true reward so a stand-in model can see it.
  const obs = new Float32Array((T + 1) * 2);
  rewards.forEach((r, t) => (obs[t * 2] = r));
  return { task: 'x', seed, obsDim: 2, actDim: 1, length: T, obs, actions: new Float32Array(T), rewards: Float32Array.from(rewards), success: new Uint8Array(T), terminated: false, truncated: true };
}

describe('rewardDiagnostics', () => {
  const rng = new Rng(3);
  const episodes = Array.from({ length: 5 }, (_, e) => traj(Array.from({ length: 40 }, () => rng.range(0, 10)), e));
  const opts = { maxTransitions: 1000, recentSteps: 100, pairs: 400, segmentLength: 10 };
  const seen: number[] = [];
  const model = (f: (r: number) => number) => (obs: Float32Array, _a: Float32Array, n: number) => {
    seen.push(n);
    return Float32Array.from({ length: n }, (_, i) => f(obs[i * 2]));
  };

  it('a monotone stand-in for the true reward ranks perfectly, an affine one orders segments perfectly; negation never does', () => {
    const trueR = Float32Array.from(episodes.flatMap((e) => Array.from(e.rewards)));
    const hat = trueR.map((r) => Math.tanh(r / 10));
    seen.length = 0;
    const d = rewardDiagnostics(hat, trueR, episodes, model((r) => Math.tanh(r / 10)), opts, new Rng(4));
    expect(seen).toEqual([40, 40, 40]); // the last three whole episodes cover the 100 recent steps
    expect(d.reward_true_spearman).toBeCloseTo(1, 12);
    expect(d.reward_true_spearman_recent).toBeCloseTo(1, 12);
    expect(d.reward_true_corr).toBeLessThan(1);
    // Per-step tanh is monotone, segment sums of it need not be: pairs are ordered mostly right.
    expect(d.reward_recent_pair_accuracy).toBeGreaterThan(0.9);
    expect(d.reward_recent_pair_accuracy).toBeLessThan(1);
    // An affine stand-in keeps the order of segment sums.
    const affine = rewardDiagnostics(hat, trueR, episodes, model((r) => 0.1 * r - 0.3), opts, new Rng(4));
    expect(affine.reward_recent_pair_accuracy).toBe(1);
    const neg = rewardDiagnostics(hat.map((x) => -x), trueR, episodes, model((r) => -r), opts, new Rng(4));
    expect(neg.reward_true_spearman).toBeCloseTo(-1, 12);
    expect(neg.reward_recent_pair_accuracy).toBe(0);
  });

  it('a model that knows only the recent episodes scores there, not over the whole buffer', () => {
    const trueR = Float32Array.from(episodes.flatMap((e) => Array.from(e.rewards)));
    const noise = new Rng(5);
    const hat = trueR.map((r, i) => (i >= 80 ? r : noise.range(0, 10)));
    const d = rewardDiagnostics(hat, trueR, episodes, model((r) => r), opts, new Rng(6));
    expect(d.reward_true_spearman_recent).toBeCloseTo(1, 12);
    expect(d.reward_true_spearman).toBeLessThan(0.8);
  });
});

describe('pretrainCoverage', () => {
  it('counts distinct 2 cm hand voxels and 1 cm object voxels in equal windows of the random and unsupervised phases', () => {
    const dim = 39;
    const seed = 10;
    const first = 40; // unsupervised phase 10..40; its last 10 steps are compared with the first 10
    const obs = new Float32Array(first * dim);
    for (let t = 0; t < first; t++) {
      const o = t * dim;
      // Random phase: the hand stays in one 2 cm cell; late unsupervised phase: a new cell each step.
      obs[o] = t < seed ? 0.001 * t : 0.05 * t;
      obs[o + 1] = 0.5;
      obs[o + 2] = 0.1;
      // The object moves 1 cm cells in the random phase only (3 distinct cells), then rests.
      obs[o + 4] = t < seed ? 0.011 * (t % 3) : 0.2;
      obs[o + 5] = 0.6;
      obs[o + 6] = 0.02;
    }
    expect(pretrainCoverage(obs, dim, seed, first)).toEqual({
      pretrain_window: 10,
      pretrain_hand_voxels_random: 1,
      pretrain_hand_voxels_unsup: 10,
      pretrain_obj_voxels_random: 3,
      pretrain_obj_voxels_unsup: 1,
    });
  });

  it('uses the shorter phase as the window and returns nothing without an unsupervised phase', () => {
    const obs = new Float32Array(30 * 39);
    expect(pretrainCoverage(obs, 39, 20, 30).pretrain_window).toBe(10);
    expect(pretrainCoverage(obs, 39, 20, 20)).toEqual({});
  });
});
