/**
 * Hindsight PRIOR (reward/prior.ts): the world model's attention importance, the return
 * redistribution target and loss, its gradients, the config, determinism, and that the default
 * (prior unset) reward training is untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { PreferenceLearner } from '../../reward/feedback.js';
import { TeacherLabelSource } from '../../reward/label-source.js';
import type { LabelledPair } from '../../reward/preference-dataset.js';
import { RewardModel } from '../../reward/reward-model.js';
import { SegmentSampler } from '../../reward/segments.js';
import { oracleTeacher } from '../../reward/teachers/index.js';
import { parseRewardConfig } from '../../reward/config.js';
import {
  PriorLearner, PriorWorldModel, priorStep, redistributionLoss, redistributionTarget, resolvePriorConfig, trainWithPrior,
} from '../../reward/prior.js';
import { randomWalks } from './helpers.js';
import { SAC } from '../../agents/sac.js';
import { parseTrainConfig } from '../../experiments/train-config.js';
import { setupZoo } from '../../experiments/zoo-setup.js';
import { setupPebble } from '../../experiments/pebble-setup.js';

beforeAll(async () => {
  await initBackend();
});

const small = { obsDim: 3, actDim: 2, hiddenDims: [32, 32], lr: 3e-3, batchSize: 16 };
const wmSmall = { embedDim: 16, heads: 2, layers: 2, worldModelSteps: 5, worldModelBatch: 8 };

function labelledPairs(n: number, H: number, seed: number): LabelledPair[] {
  const teacher = oracleTeacher();
  return new SegmentSampler(randomWalks(12, 40, seed), { length: H, trajectoryIds: Array.from({ length: 12 }, (_, i) => `s${seed}e${i}`) })
    .samplePairs(n, new Rng(seed + 1))
    .map(([a, b]) => ({ a, b, label: teacher.label(a, b) as 0 | 1 }));
}

describe('PRIOR importance and redistribution', () => {
  it('importance weights are non-negative and sum to 1 over each segment', () => {
    const wm = new PriorWorldModel(3, 2, wmSmall, new Rng(1));
    const segs = new SegmentSampler(randomWalks(5, 30, 2), { length: 12 }).samplePairs(10, new Rng(3)).flat();
    const w = wm.importance(segs, 12, 7); // chunks of 7: the chunk seams must not matter
    expect(w.length).toBe(20 * 12);
    for (let i = 0; i < 20; i++) {
      const row = Array.from(w.subarray(i * 12, (i + 1) * 12));
      for (const v of row) expect(v).toBeGreaterThanOrEqual(0);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    // Not uniform: the attention depends on the segment's content.
    expect(Math.max(...w) - Math.min(...w)).toBeGreaterThan(1e-3);
    wm.dispose();
  });

  it('the redistribution target sums to the predicted return and equals R_hat * w_t', () => {
    const rng = new Rng(4);
    const E = 2;
    const L = 6;
    const r = Float32Array.from({ length: E * L }, () => rng.range(-1, 1));
    const w = Float32Array.from({ length: E * L }, () => rng.range(0, 1));
    for (let e = 0; e < E; e++) {
      const s = w.subarray(e * L, (e + 1) * L).reduce((a, b) => a + b, 0);
      for (let t = 0; t < L; t++) w[e * L + t] /= s;
    }
    const target = tf.tidy(() => redistributionLoss(tf.tensor2d(r, [E, L]), tf.tensor2d(w, [E, L])).target.dataSync());
    for (let e = 0; e < E; e++) {
      // Plain arithmetic: R = r_0 + ... + r_{L-1}; target_t = R * w_t.
      let R = 0;
      for (let t = 0; t < L; t++) R += r[e * L + t];
      let sum = 0;
      for (let t = 0; t < L; t++) {
        expect(target[e * L + t]).toBeCloseTo(R * w[e * L + t], 5);
        sum += target[e * L + t];
      }
      expect(sum).toBeCloseTo(R, 5);
      const ref = redistributionTarget(r.subarray(e * L, (e + 1) * L), w.subarray(e * L, (e + 1) * L));
      ref.forEach((v, t) => expect(target[e * L + t]).toBeCloseTo(v, 5));
    }
  });

  it('the aux loss is zero when r_hat is already proportional to the importance, positive otherwise', () => {
    const w = [0.1, 0.4, 0.2, 0.3];
    const prop = w.map((v) => -2.5 * v);
    const [zero, pos] = tf.tidy(() => [
      redistributionLoss(tf.tensor2d([prop], [1, 4]), tf.tensor2d([w], [1, 4])).loss.dataSync()[0],
      redistributionLoss(tf.tensor2d([[0.3, 0.3, -0.1, 0.2]], [1, 4]), tf.tensor2d([w], [1, 4])).loss.dataSync()[0],
    ]);
    expect(zero).toBeLessThan(1e-12);
    // r = [.3 .3 -.1 .2], R = .7, target = [.07 .28 .14 .21]: mean sq diff.
    const expected = ((0.3 - 0.07) ** 2 + (0.3 - 0.28) ** 2 + (-0.1 - 0.14) ** 2 + (0.2 - 0.21) ** 2) / 4;
    expect(pos).toBeCloseTo(expected, 6);
  });

  it('gradients reach r_hat and the reward model, not the target (stop-gradient)', () => {
    const r = [0.3, 0.3, -0.1, 0.2];
    const w = [0.1, 0.4, 0.2, 0.3];
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(redistributionLoss(x, tf.tensor2d([w], [1, 4])).loss))(tf.tensor2d([r], [1, 4])).dataSync());
    // d/dr_t mean_t (r_t - sg(R) w_t)^2 = 2 (r_t - R w_t) / L; without the stop-gradient it would have a -w-weighted extra term.
    const R = r.reduce((a, b) => a + b, 0);
    r.forEach((v, t) => expect(g[t]).toBeCloseTo((2 * (v - R * w[t])) / 4, 6));
    const withoutStop = r.map((v, t) => (2 * (v - R * w[t])) / 4 - (2 / 4) * w.reduce((s, wk, k) => s + (r[k] - R * wk) * wk, 0));
    expect(Math.max(...r.map((_, t) => Math.abs(g[t] - withoutStop[t])))).toBeGreaterThan(1e-3);

    // The aux loss alone (lambda large, preference weight 0) moves the reward model's weights.
    const model = new RewardModel({ ...small, members: 2, seed: 5 });
    const pairs = labelledPairs(4, 5, 6);
    const before = model.net.getWeights().map((a) => Float32Array.from(a));
    const P = 4;
    const L = 5;
    const x = model.packWindows([pairs.map((pair) => ({ pair, offA: 0, offB: 0 })), pairs.map((pair) => ({ pair, offA: 0, offB: 0 }))], L);
    const imp = new Float32Array(2 * P * 2 * L);
    for (let i = 0; i < 2 * P * 2; i++) imp.set([0.6, 0.1, 0.1, 0.1, 0.1], i * L);
    const step = priorStep(model, x, imp, P, L, new Float32Array(2 * P).fill(1), new Float32Array(2 * P), 10);
    expect(step.ce).toBe(0); // preference weights 0: only the aux term
    expect(step.aux).toBeGreaterThan(0);
    expect(step.loss).toBeCloseTo(10 * step.aux, 4);
    const after = model.net.getWeights();
    expect(after.some((a, i) => a.some((v, j) => v !== before[i][j]))).toBe(true);
    model.dispose();
  });
});

describe('PRIOR world model', () => {
  it('its next-state loss falls on a toy sequence (s_{t+1} = s_t + drift + 0.1 a_t)', () => {
    const wm = new PriorWorldModel(3, 2, { embedDim: 32, heads: 2, layers: 1, lr: 3e-3, worldModelBatch: 16 }, new Rng(7));
    const trajs = randomWalks(8, 40, 8);
    const heldOut = new SegmentSampler(randomWalks(4, 40, 9), { length: 10 }).samplePairs(16, new Rng(10)).flat();
    const before = wm.evaluate(heldOut);
    const trainLoss = wm.train(trajs, 10, 150, new Rng(11));
    const after = wm.evaluate(heldOut);
    console.log(`PRIOR world model: held-out next-state MSE ${before.toFixed(4)} -> ${after.toFixed(4)} (mean train loss ${trainLoss.toFixed(4)})`);
    expect(after).toBeLessThan(0.3 * before);
    wm.dispose();
  });
});

describe('PRIOR config', () => {
  it('fills the defaults and refuses bad settings naming the field', () => {
    const d = resolvePriorConfig({});
    expect(d).toEqual({ lambda: 1, embedDim: 32, layers: 1, heads: 2, lr: 1e-3, worldModelSteps: 50, worldModelBatch: 16 });
    expect(() => resolvePriorConfig({ embedDim: 30, heads: 4 })).toThrow(/embedDim: embedDim must be a multiple of heads/);
    expect(() => resolvePriorConfig({ lambda: -1 })).toThrow(/lambda/);
    expect(() => resolvePriorConfig({ layers: 0 })).toThrow(/layers/);
    expect(() => resolvePriorConfig({ bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => parseRewardConfig({ feedback: { prior: { heads: 0 } } })).toThrow(/feedback\.prior\.heads/);
    // Unset stays unset (existing configs resolve as before); set fills its defaults.
    expect(parseRewardConfig({}).feedback.prior).toBeUndefined();
    expect(parseRewardConfig({ feedback: { prior: { lambda: 0.5 } } }).feedback.prior).toEqual({ ...d, lambda: 0.5 });
    const model = new RewardModel({ ...small, seed: 1 });
    expect(() => new PreferenceLearner(model, new TeacherLabelSource(oracleTeacher()), { queriesPerRound: 5, maxFeedback: 10, surf: {}, prior: {} }, new Rng(1)))
      .toThrow(/surf and prior cannot be combined/);
    model.dispose();
  });
});

describe('PRIOR training', () => {
  it('same seed, same numbers', () => {
    const pairs = labelledPairs(24, 8, 12);
    const trajs = randomWalks(6, 30, 13);
    const run = () => {
      const model = new RewardModel({ ...small, seed: 14 });
      const prior = new PriorLearner(model, wmSmall, new Rng(15));
      const res = prior.train(pairs, trajs, new Rng(16), { epochs: 2, earlyStopAccuracy: 1 });
      const w = model.net.getWeights().map((a) => Array.from(a));
      const imp = Array.from(prior.worldModel.importance(pairs.slice(0, 3).map((p) => p.a)));
      model.dispose();
      prior.dispose();
      return { res, w, imp };
    };
    const before = tf.memory().numTensors;
    const a = run();
    expect(tf.memory().numTensors).toBe(before); // a PRIOR round leaves no tensors behind
    const b = run();
    expect(a.res.priorLoss).toBeGreaterThan(0);
    expect(Number.isFinite(a.res.worldModelLoss)).toBe(true);
    expect(b).toEqual(a);
  });

  it('with lambda 0 the PRIOR loop reproduces RewardModel.train bit for bit', () => {
    const pairs = labelledPairs(40, 8, 17);
    const m1 = new RewardModel({ ...small, seed: 18 });
    const m2 = new RewardModel({ ...small, seed: 18 });
    const r1 = m1.train(pairs, { epochs: 3, earlyStopAccuracy: 1 });
    const uniform = new Float32Array(8).fill(1 / 8);
    const r2 = trainWithPrior(m2, pairs, () => uniform, 0, { epochs: 3, earlyStopAccuracy: 1 });
    expect(r2.steps).toBe(r1.steps);
    expect(m2.net.getWeights()).toEqual(m1.net.getWeights());
    m1.dispose();
    m2.dispose();
  });

  it('prior unset: feedback rounds train exactly as model.train on the labelled pairs; prior set: the aux loss changes them', async () => {
    const trajs = randomWalks(12, 40, 19);
    const cfg = { segmentLength: 8, queriesPerRound: 20, maxFeedback: 40, strategy: 'uniform', epochs: 3, earlyStopAccuracy: 1 };
    const plainModel = new RewardModel({ ...small, seed: 20 });
    const plain = new PreferenceLearner(plainModel, new TeacherLabelSource(oracleTeacher()), cfg, new Rng(21));
    const refModel = new RewardModel({ ...small, seed: 20 });
    for (let r = 0; r < 2; r++) {
      await plain.feedbackRound(trajs);
      refModel.train(plain.dataset.pairs, { epochs: 3, earlyStopAccuracy: 1 }); // what the learner did before PRIOR existed
      expect(plainModel.net.getWeights()).toEqual(refModel.net.getWeights());
    }
    expect(plain.prior).toBeNull();
    expect('prior' in (await plain.getState())).toBe(false);

    const priorModel = new RewardModel({ ...small, seed: 20 });
    const withPrior = new PreferenceLearner(priorModel, new TeacherLabelSource(oracleTeacher()), { ...cfg, prior: wmSmall }, new Rng(21));
    const res = (await withPrior.feedbackRound(trajs))!;
    await withPrior.feedbackRound(trajs);
    expect(withPrior.dataset.pairs.map((p) => p.a.id)).toEqual(plain.dataset.pairs.map((p) => p.a.id)); // same queries
    expect(res.train!.loss).toBeGreaterThan(0);
    expect(withPrior.prior!.last!.priorLoss).toBeGreaterThan(0);
    expect(priorModel.net.getWeights()).not.toEqual(plainModel.net.getWeights());
    const state = await withPrior.getState();
    expect(state.prior!.worldModel.length).toBe(withPrior.prior!.worldModel.variables.length);
    [plainModel, refModel, priorModel].forEach((m) => m.dispose());
    withPrior.prior!.dispose();
  });
});

describe('PRIOR wiring and checkpoints', () => {
  it('a learner state round trip restores the world model (same importance)', async () => {
    const trajs = randomWalks(10, 30, 30);
    const cfg = { segmentLength: 8, queriesPerRound: 10, maxFeedback: 30, strategy: 'uniform', epochs: 2, prior: wmSmall };
    const a = new PreferenceLearner(new RewardModel({ ...small, seed: 31 }), new TeacherLabelSource(oracleTeacher()), cfg, new Rng(32));
    await a.feedbackRound(trajs);
    const state = JSON.parse(JSON.stringify(await a.getState()));
    const b = new PreferenceLearner(new RewardModel({ ...small, seed: 99 }), new TeacherLabelSource(oracleTeacher()), cfg, new Rng(33));
    const segs = a.dataset.pairs.slice(0, 4).map((p) => p.a);
    expect(Array.from(b.prior!.worldModel.importance(segs))).not.toEqual(Array.from(a.prior!.worldModel.importance(segs)));
    await b.setState(state);
    expect(Array.from(b.prior!.worldModel.importance(segs))).toEqual(Array.from(a.prior!.worldModel.importance(segs)));
    for (const l of [a, b]) {
      l.model.dispose();
      l.prior!.dispose();
    }
  });

  it('--algo prior: PEBBLE\'s learner with the PRIOR loss and the defaults, seeded as PEBBLE\'s setup', async () => {
    const raw = {
      task: 'reach', steps: 1000, seed: 3, seedSteps: 0, batchSize: 8, maxPathLength: 30,
      sac: { hiddenDims: [8] }, pebble: { unsupSteps: 60, numInteract: 30, diagPairs: 0 },
      reward: { model: { hiddenDims: [8] }, feedback: { segmentLength: 10, queriesPerRound: 6, maxFeedback: 30, epochs: 1 } },
    };
    const pc = parseTrainConfig({ ...raw, algo: 'prior' });
    expect(pc.reward.feedback.prior).toEqual(resolvePriorConfig({}));
    expect(parseTrainConfig({ ...raw, algo: 'pebble' }).reward.feedback.prior).toBeUndefined();
    const agent = new SAC(39, 4, pc.sac, 0);
    const s = await setupZoo(pc, agent);
    const p = await setupPebble(parseTrainConfig({ ...raw, algo: 'pebble' }), agent);
    expect(s.pebble.learner.prior).not.toBeNull();
    expect(s.pebble.learner.prior!.config).toEqual(resolvePriorConfig({}));
    expect(p.pebble.learner.prior).toBeNull();
    expect(s.model.net.getWeights()).toEqual(p.model.net.getWeights()); // same reward-model seed as PEBBLE
    agent.dispose();
    await s.dispose();
    await p.dispose();
  });
});
