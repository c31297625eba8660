/**
 * Reward model: learns from oracle labels (synthetic and on the reach task), soft labels, ratings,
 * fast batched relabelling, save/load, no tensor leaks, and clear errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import type { Trajectory } from '../../core/types.js';
import { makeEnv, scriptedPolicy } from '../../envs/registry.js';
import { EpisodeRecorder } from '../../envs/recorder.js';
import { PreferenceDataset, type LabelledPair } from '../../reward/preference-dataset.js';
import { ratingBoundaries, RewardModel, segmentFeatures } from '../../reward/reward-model.js';
import { SegmentSampler, segmentReturn } from '../../reward/segments.js';
import { oracleTeacher, rateSegments, ReturnRatingTeacher } from '../../reward/teachers/index.js';
import { randomWalks } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

function oraclePairs(sampler: SegmentSampler, n: number, rng: Rng): LabelledPair[] {
  const t = oracleTeacher();
  return sampler.samplePairs(n, rng).map(([a, b]) => ({ a, b, label: t.label(a, b) as 0 | 1 }));
}

const small = { obsDim: 3, actDim: 2, hiddenDims: [32, 32], lr: 3e-3, batchSize: 64 };

describe('training on synthetic preferences', () => {
  it('learns a simple reward from oracle labels and reports held-out accuracy', () => {
    const sampler = new SegmentSampler(randomWalks(30, 60, 1), { length: 10 });
    const rng = new Rng(2);
    const train = oraclePairs(sampler, 300, rng);
    const test = oraclePairs(new SegmentSampler(randomWalks(10, 60, 3), { length: 10 }), 200, rng);
    const m = new RewardModel({ ...small, seed: 4 });
    const before = m.evaluate(test).accuracy;
    const res = m.train(train, { epochs: 30, heldOut: test });
    const ev = m.evaluate(test);
    expect(res.heldOut).toEqual(ev);
    console.log(`synthetic: held-out accuracy ${before.toFixed(3)} -> ${ev.accuracy.toFixed(3)} (members ${ev.memberAccuracy.map((a) => a.toFixed(3)).join(', ')}), train ${res.trainAccuracy.toFixed(3)} after ${res.epochs} epochs`);
    expect(ev.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(ev.n).toBe(200);
    expect(res.steps).toBeGreaterThan(0);
    m.dispose();
  });

  it('stops early once training accuracy passes the threshold', () => {
    const sampler = new SegmentSampler(randomWalks(10, 40, 5), { length: 10 });
    const m = new RewardModel({ ...small, seed: 6 });
    const res = m.train(oraclePairs(sampler, 100, new Rng(7)), { epochs: 50, earlyStopAccuracy: 0.5 });
    expect(res.epochs).toBeLessThan(50);
    expect(res.trainAccuracy).toBeGreaterThan(0.5);
    m.dispose();
  });

  it('0.5 labels pull the two segments toward equal returns', () => {
    const sampler = new SegmentSampler(randomWalks(10, 40, 8), { length: 10 });
    const pairs: LabelledPair[] = sampler.samplePairs(64, new Rng(9)).map(([a, b]) => ({ a, b, label: 0.5 }));
    const m = new RewardModel({ ...small, seed: 10, hiddenDims: [16] });
    const meanDev = () => m.preferenceProbs(pairs).reduce((s, x) => s + Math.abs(x - 0.5), 0) / (pairs.length * m.members);
    // Push the model away from equal first, with hard labels, so there is something to undo.
    m.train(pairs.map((p) => ({ ...p, label: segmentReturn(p.a) >= segmentReturn(p.b) ? 1 : 0 })), { epochs: 20, earlyStopAccuracy: 1 });
    const before = meanDev();
    const res = m.train(pairs, { epochs: 40 });
    const after = meanDev();
    expect(res.epochs).toBe(40); // no early stop without hard labels
    expect(Number.isNaN(res.trainAccuracy)).toBe(true);
    expect(before).toBeGreaterThan(0.2);
    expect(after).toBeLessThan(before / 3);
    expect(m.evaluate(pairs).n).toBe(0);
    m.dispose();
  });

  it('each member sees its own order (bootstrap too), and the same seed gives the same model', () => {
    const sampler = new SegmentSampler(randomWalks(5, 40, 11), { length: 10 });
    const pairs = oraclePairs(sampler, 40, new Rng(12));
    const run = (sampling: 'shuffle' | 'bootstrap') => {
      const m = new RewardModel({ ...small, seed: 13, batchSize: 16 });
      m.train(pairs, { epochs: 2, sampling });
      const w = m.net.getWeights()[0];
      m.dispose();
      return w;
    };
    expect(run('shuffle')).toEqual(run('shuffle'));
    expect(run('bootstrap')).not.toEqual(run('shuffle'));
    const m = new RewardModel({ ...small, seed: 1 });
    const orders = m.memberOrders(50, 'shuffle');
    expect(orders[0]).not.toEqual(orders[1]);
    expect([...orders[0]].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    m.dispose();
  });
});

/** Reach rollouts from a mix of policies, short episodes (100 steps). */
async function reachTrajectories(episodes: number, seed: number): Promise<Trajectory[]> {
  // The reward model is checked against the true reward, which depends on reach's goal: show it.
  const env = await makeEnv('reach', { seed, maxPathLength: 100, goalObservable: true });
  const expert = scriptedPolicy('reach', env);
  const rng = new Rng(seed).split('policies');
  const clip = (x: number) => Math.max(-1, Math.min(1, x));
  const random = () => Float32Array.from({ length: 4 }, () => rng.range(-1, 1));
  const policies: ((o: Float32Array) => Float32Array)[] = [
    (o) => expert(o),
    (o) => expert(o).map((x) => clip(x + rng.normal())) as Float32Array, // noisy expert
    (o) => expert(o).map((x) => clip(0.15 * x + 0.3 * rng.normal())) as Float32Array, // slow, noisy expert
    (o) => (rng.uniform() < 0.5 ? random() : expert(o)), // half random
    () => random(),
  ];
  const out: Trajectory[] = [];
  for (let ep = 0; ep < episodes; ep++) {
    const policy = policies[ep % policies.length];
    let { obs } = env.reset({ seed: seed + ep });
    const rec = new EpisodeRecorder(env, false);
    rec.start(obs, seed + ep);
    for (let t = 0; t < env.maxPathLength; t++) {
      const a = policy(obs);
      const r = env.step(a);
      rec.record(a, r);
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
    out.push(rec.finish({ policy: ep % policies.length }));
  }
  env.close();
  return out;
}

describe('state-only inputs', () => {
  it("inputs 'state': r_hat does not move with the action, in prediction or in training; 'state-action' does", () => {
    const sampler = new SegmentSampler(randomWalks(20, 40, 11), { length: 10 });
    const pairs = oraclePairs(sampler, 150, new Rng(12));
    const rng = new Rng(13);
    const n = 64;
    const obs = new Float32Array(n * 3).map(() => rng.range(-1, 1));
    const a1 = new Float32Array(n * 2).map(() => rng.range(-1, 1));
    const a2 = new Float32Array(n * 2).map(() => rng.range(-1, 1));
    const spread = (m: RewardModel) => {
      const r1 = m.predictReward(obs, a1, n);
      const r2 = m.predictReward(obs, a2, n);
      return Math.max(...Array.from(r1, (v, i) => Math.abs(v - r2[i])));
    };
    const stateOnly = new RewardModel({ ...small, inputs: 'state', seed: 14 });
    const both = new RewardModel({ ...small, seed: 14 });
    stateOnly.train(pairs, { epochs: 5 });
    both.train(pairs, { epochs: 5 });
    expect(spread(stateOnly)).toBe(0);
    expect(spread(both)).toBeGreaterThan(1e-3);
    // Segment returns agree with summing the per-step predictions, i.e. training also saw zeros for actions.
    const seg = pairs[0].a;
    const perStep = stateOnly.predictReward(seg.obs, new Float32Array(seg.length * 2).map(() => 0.7), seg.length);
    const ret = stateOnly.windowReturns([seg]); // one return per member
    const meanReturn = Array.from(ret).reduce((x, y) => x + y, 0) / ret.length;
    expect(meanReturn).toBeCloseTo(perStep.reduce((x, y) => x + y, 0), 3);
    expect(() => new RewardModel({ ...small, inputs: 'actions' as never })).toThrow(/inputs must be one of state-action, state/);
    stateOnly.dispose();
    both.dispose();
  });
});

describe('reward model on the reach task', () => {
  it('trained on oracle labels from expert, noisy and random segments, ranks held-out segments with >= 90% accuracy', async () => {
    const trajs = await reachTrajectories(40, 100);
    const H = 25;
    const rng = new Rng(14);
    const train = oraclePairs(new SegmentSampler(trajs.slice(0, 30), { length: H }), 500, rng);
    const test = oraclePairs(new SegmentSampler(trajs.slice(30), { length: H }), 400, rng);
    // At the goal reach pays exactly 10 per step, so two at-goal segments tie; a tie has no right
    // order to recover, so accuracy is judged on pairs whose returns differ by at least 1 (of ~250).
    const distinct = test.filter((p) => Math.abs(segmentReturn(p.a) - segmentReturn(p.b)) >= 1);
    const m = new RewardModel({ obsDim: 39, actDim: 4, hiddenDims: [64, 64], lr: 1e-3, seed: 15 });
    const res = m.train(train, { epochs: 20, earlyStopAccuracy: 0.995 });
    const all = m.evaluate(test);
    const ranked = m.evaluate(distinct);
    console.log(`reach: held-out accuracy ${ranked.accuracy.toFixed(3)} on ${distinct.length} pairs with distinct returns, ${all.accuracy.toFixed(3)} on all ${test.length}; train ${res.trainAccuracy.toFixed(3)} after ${res.epochs} epochs`);
    expect(distinct.length).toBeGreaterThan(300);
    expect(ranked.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(all.accuracy).toBeGreaterThanOrEqual(0.85);
    // The learned reward is higher on the expert's transitions than on random ones.
    const mean = (t: Trajectory) => m.predictReward(t.obs, t.actions, t.length).reduce((s, x) => s + x, 0) / t.length;
    expect(mean(trajs[35])).toBeGreaterThan(mean(trajs[39]));
    m.dispose();
  }, 240_000); // rollouts + training: ~15 s alone, several times that on a busy shared machine
});

describe('relabelling with predictReward', () => {
  it('returns the ensemble mean (and std) for many transitions, across chunk boundaries', () => {
    const m = new RewardModel({ ...small, members: 3, seed: 16 });
    m.inferenceBatchRows = 7; // force several chunks
    const n = 30;
    const rng = new Rng(17);
    const obs = rng.fillUniform(new Float32Array(n * 3), -1, 1) as Float32Array;
    const act = rng.fillUniform(new Float32Array(n * 2), -1, 1) as Float32Array;
    const x = new Float32Array(n * 5);
    for (let i = 0; i < n; i++) {
      x.set(obs.subarray(i * 3, i * 3 + 3), i * 5);
      x.set(act.subarray(i * 2, i * 2 + 2), i * 5 + 3);
    }
    const perMember = m.net.predict(x); // [3][n]
    const out = new Float32Array(n + 5).fill(99);
    const std = new Float32Array(n);
    m.predictRewardStats(obs, act, n, { mean: out, std });
    for (let i = 0; i < n; i++) {
      const v = [0, 1, 2].map((e) => perMember[e * n + i]);
      const mu = (v[0] + v[1] + v[2]) / 3;
      expect(out[i]).toBeCloseTo(mu, 5);
      expect(std[i]).toBeCloseTo(Math.sqrt(v.reduce((s, y) => s + (y - mu) ** 2, 0) / 3), 5);
      expect(Math.abs(out[i])).toBeLessThan(1); // tanh output
    }
    expect(out[n]).toBe(99); // nothing written past n
    expect(m.predictReward(obs, act, n)).toEqual(out.subarray(0, n));
    m.dispose();
  });
});

describe('rating-based training', () => {
  it('boundaries follow the share of ratings in lower classes', () => {
    // One member, 4 segments with normalised returns 0, 0.2, 0.6, 1; ratings: one in class 0, two in 1, one in 2.
    const b = ratingBoundaries(Float32Array.from([0.6, 0, 1, 0.2]), Int32Array.from([1, 0, 2, 1]), 1, 4, 3);
    expect(Array.from(b).map((x) => +x.toFixed(3))).toEqual([0, 0.1, 0.8, 1]);
  });

  it('learns to order segments from class ratings', () => {
    const sampler = new SegmentSampler(randomWalks(30, 60, 18), { length: 10 });
    const rng = new Rng(19);
    const segs = sampler.sampleMany(300, rng);
    const teacher = new ReturnRatingTeacher({ classes: 4 });
    teacher.fitReturnRange(segs);
    const labels = rateSegments(teacher, segs);
    const rated = labels.map((l, i) => ({ segment: segs[i], rating: l.rating, classes: l.classes }));
    const m = new RewardModel({ ...small, seed: 20 });
    const res = m.trainRatings(rated, { epochs: 25 });
    const test = oraclePairs(new SegmentSampler(randomWalks(10, 60, 21), { length: 10 }), 200, rng);
    const acc = m.evaluate(test).accuracy;
    console.log(`ratings: pairwise held-out accuracy ${acc.toFixed(3)}, class accuracy in training ${res.trainAccuracy.toFixed(3)}`);
    expect(acc).toBeGreaterThanOrEqual(0.8);
    expect(() => m.trainRatings([rated[0]])).toThrow(/at least 2 rated segments/);
    expect(() => m.trainRatings([rated[0], { ...rated[1], rating: 9 }])).toThrow(/rating 1 must be an integer in \[0, 3\]/);
    m.dispose();
  });
});

describe('save and load', () => {
  it('round-trips weights through JSON and a file', () => {
    const m = new RewardModel({ ...small, seed: 22 });
    const sampler = new SegmentSampler(randomWalks(5, 40, 23), { length: 10 });
    m.train(oraclePairs(sampler, 40, new Rng(24)), { epochs: 2 });
    const segs = sampler.sampleMany(5, new Rng(25));
    const dir = mkdtempSync(join(tmpdir(), 'pbrl-rm-'));
    const path = join(dir, 'model.json');
    m.save(path);
    const back = RewardModel.load(path);
    expect(back.config).toEqual(m.config);
    expect(back.segmentReturns(segs)).toEqual(m.segmentReturns(segs));
    const fromJson = RewardModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(fromJson.segmentReturns(segs)).toEqual(m.segmentReturns(segs));
    writeFileSync(join(dir, 'bad.json'), '{"format":"other"}');
    expect(() => RewardModel.load(join(dir, 'bad.json'))).toThrow(/not a saved reward model/);
    expect(() => RewardModel.load(join(dir, 'missing.json'))).toThrow(/cannot read reward model/);
    [m, back, fromJson].forEach((x) => x.dispose());
  });
});

describe('tensor hygiene', () => {
  it('keeps tf.memory().numTensors flat over many updates, evaluations and relabels', () => {
    const sampler = new SegmentSampler(randomWalks(5, 40, 26), { length: 10 });
    const pairs = oraclePairs(sampler, 64, new Rng(27));
    const m = new RewardModel({ ...small, seed: 28, batchSize: 16 });
    const obs = new Float32Array(100 * 3);
    const act = new Float32Array(100 * 2);
    const round = () => {
      m.train(pairs, { epochs: 1, earlyStopAccuracy: 1 });
      m.evaluate(pairs);
      m.preferenceProbs(pairs.slice(0, 10));
      m.predictRewardStats(obs, act, 100, { std: new Float32Array(100) });
      m.trainRatings(pairs.slice(0, 20).map((p, i) => ({ segment: p.a, rating: i % 3, classes: 3 })), { epochs: 1 });
    };
    round(); // optimizer slots are created on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('a non-finite loss', () => {
  it('is an error that changes no weights and leaks no tensors', () => {
    const sampler = new SegmentSampler(randomWalks(3, 40, 33), { length: 10 });
    const [a, b] = sampler.samplePairs(1, new Rng(34))[0];
    const bad = { ...a, id: 'nan', obs: a.obs.map((x, i) => (i === 0 ? NaN : x)) };
    // tanh passes NaN through on every backend (some relu kernels clamp it).
    const m = new RewardModel({ ...small, seed: 35, activation: 'tanh' });
    const w = m.net.getWeights();
    const before = tf.memory().numTensors;
    expect(() => m.train([{ a: bad, b, label: 1 }])).toThrow(/reward model loss is NaN; no weights were changed/);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.net.getWeights()).toEqual(w);
    m.dispose();
  });
});

describe('bad input', () => {
  it('names the field and the allowed range', () => {
    expect(() => new RewardModel({ obsDim: 0, actDim: 2 })).toThrow(/obsDim must be an integer >= 1, got 0/);
    expect(() => new RewardModel({ obsDim: 3, actDim: 2, lr: -1 })).toThrow(/lr must be a positive number/);
    expect(() => new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [8, 0] })).toThrow(/hiddenDims\[1\] must be an integer >= 1/);
    const m = new RewardModel({ ...small, seed: 29 });
    expect(() => m.train([])).toThrow(/no labelled pairs/);
    const [p0] = oraclePairs(new SegmentSampler(randomWalks(1, 40, 36), { length: 10 }), 1, new Rng(37));
    expect(() => m.train([{ ...p0, label: 0.7 as 1 }])).toThrow(/train pair 0: label must be 1 \(A preferred\), 0 \(B preferred\) or 0.5 \(equal\), got 0.7/);
    const sampler = new SegmentSampler(randomWalks(3, 40, 30), { length: 10 });
    const pairs = oraclePairs(sampler, 4, new Rng(31));
    expect(() => m.train(pairs, { epochs: 0 })).toThrow(/epochs must be an integer >= 1/);
    const wrong = new SegmentSampler(randomWalks(1, 40, 32).map((t) => ({ ...t, obsDim: 2, obs: t.obs.subarray(0, 41 * 2) })), { length: 10 });
    const [a, b] = wrong.samplePairs(1, new Rng(0))[0];
    expect(() => m.train([{ a, b, label: 1 }])).toThrow(/obsDim 2 \/ actDim 2 do not match the reward model's 3 \/ 2/);
    expect(() => m.predictReward(new Float32Array(5), new Float32Array(4), 2)).toThrow(/obs has 5 values, need n \* obsDim = 6/);
    const ds = new PreferenceDataset(10);
    expect(() => ds.add(pairs[0].a, pairs[0].b, 2 as 1)).toThrow(/label must be 1 \(A preferred\), 0 \(B preferred\) or 0.5/);
    expect(segmentFeatures(pairs[0].a).length).toBe(10 * 5);
    m.dispose();
  });
});
