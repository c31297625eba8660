/**
 * Rating-based RL offline (agents/offline/rbrl-iql.ts): the rated-segment sampler, the rating loss
 * against the paper's formula computed here in plain numbers, the reward model learning to order
 * rated segments, config and data errors, and a small learning check on reach against a random
 * policy with a reversed-ratings control.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { allocPairBatch, RatedSegmentSampler, validatePreferenceData, type PreferenceData } from '../../../agents/offline/data.js';
import { makeOfflineAgent } from '../../../agents/offline/index.js';
import { RbrlIQL } from '../../../agents/offline/rbrl-iql.js';
import { ratingCrossEntropy } from '../../../reward/reward-model.js';
import { makeDataset } from '../../../experiments/datasets/make.js';
import { runOffline, type OfflineRunConfig } from '../../../experiments/offline-runner.js';
import { RunDir } from '../../../experiments/run-files.js';
import { randomReachReturn, syntheticData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

/** Synthetic data whose segments are rated by their true return into 3 classes (terciles). */
function ratedData(seed = 0): PreferenceData {
  const d = syntheticData({ segments: 24, seed });
  const ret = Array.from(d.segEpisode, (e, s) => {
    let r = 0;
    for (let t = 0; t < d.segmentLength; t++) r += d.rewards[e * d.episodeLength + d.segStart[s] + t];
    return r;
  });
  const sorted = [...ret].sort((a, b) => a - b);
  const cut = (q: number) => sorted[Math.floor(q * sorted.length)];
  return { ...d, ratingClasses: 3, ratings: Int32Array.from(ret, (r) => (r < cut(1 / 3) ? 0 : r < cut(2 / 3) ? 1 : 2)) };
}

describe('RatedSegmentSampler', () => {
  it('fills each row with a segment and that segment\'s rating', () => {
    const d = ratedData();
    const s = new RatedSegmentSampler(d);
    const b = s.sample(new Rng(3), allocPairBatch(10, d.segmentLength, d.obsDim, d.actDim));
    expect(b.ratings).toHaveLength(20);
    const H = d.segmentLength;
    for (let row = 0; row < 20; row++) {
      const first = b.obs.subarray(row * H * d.obsDim, (row * H + 1) * d.obsDim);
      // The segment whose first observation this row starts with.
      const seg = Array.from(d.segEpisode.keys()).find((i) => {
        const o = (d.segEpisode[i] * (d.episodeLength + 1) + d.segStart[i]) * d.obsDim;
        return first.every((v, k) => v === d.obs[o + k]);
      });
      expect(seg).toBeDefined();
      expect(b.ratings![row]).toBe(d.ratings![seg!]);
    }
  });

  it('refuses a dataset without ratings, and bad ratings are named', () => {
    expect(() => new RatedSegmentSampler(syntheticData())).toThrow(/no segment ratings.*--rating-teacher/);
    const d = ratedData();
    expect(() => validatePreferenceData({ ...d, ratings: Int32Array.from(d.ratings!, (r, i) => (i === 5 ? 3 : r)) })).toThrow(/ratings\[5\] = 3 is outside \[0, 2\]/);
    expect(() => validatePreferenceData({ ...d, ratings: d.ratings!.slice(1) })).toThrow(/ratings has 23 values, expected 24/);
    expect(() => validatePreferenceData({ ...d, ratingClasses: undefined })).toThrow(/ratings and ratingClasses must be given together/);
  });
});

describe('the rating loss', () => {
  it('equals the paper\'s cross-entropy computed in plain numbers', () => {
    const returns = [0.3, -1.2, 2.5, 0.9, 1.7, -0.4];
    const cls = Int32Array.from([1, 0, 2, 1, 2, 0]);
    const k = 30;
    const C = 3;
    // R~: min-max over the batch; boundaries: halfway between the returns ranked either side of each
    // class edge (2 ratings in class 0, 2 in class 1 -> edges after the 2nd and 4th lowest).
    const lo = Math.min(...returns);
    const hi = Math.max(...returns);
    const rn = returns.map((r) => (r - lo) / (hi - lo + 1e-6));
    const s = [...rn].sort((a, b) => a - b);
    const b = [0, (s[1] + s[2]) / 2, (s[3] + s[4]) / 2, 1];
    let expected = 0;
    rn.forEach((x, i) => {
      const logits = [0, 1, 2].map((c) => -k * (x - b[c]) * (x - b[c + 1]));
      const m = Math.max(...logits);
      const lse = m + Math.log(logits.reduce((z, l) => z + Math.exp(l - m), 0));
      expected -= logits[cls[i]] - lse;
    });
    expected /= returns.length;
    const { loss, predicted } = tf.tidy(() => {
      const r = ratingCrossEntropy(tf.tensor2d(returns, [1, 6]), cls, C, k);
      return { loss: r.loss.dataSync()[0], predicted: r.predicted };
    });
    expect(loss).toBeCloseTo(expected, 4);
    // These returns sit in their rated classes, so the most probable class is the rating.
    expect(Array.from(predicted)).toEqual(Array.from(cls));
  });
});

describe('rbrl-iql', () => {
  it('its reward model learns to put rated segments in their classes', () => {
    const d = ratedData(1);
    const agent = new RbrlIQL(d.obsDim, d.actDim, { hiddenDims: [16, 16], rewardHiddenDims: [32, 32], rewardLr: 3e-3, rewardSteps: 400 }, 0);
    const sampler = agent.makeSampler(d);
    const rng = new Rng(5);
    const batch = allocPairBatch(12, d.segmentLength, d.obsDim, d.actDim);
    const acc: number[] = [];
    for (let i = 0; i < 300; i++) acc.push(agent.update(sampler.sample(rng, batch), i).reward_accuracy);
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    // Chance is ~1/3; fitting 24 segments' classes should go well above it.
    expect(mean(acc.slice(-30))).toBeGreaterThan(0.8);
    expect(mean(acc.slice(-30))).toBeGreaterThan(mean(acc.slice(0, 10)) + 0.2);
    // Frozen after rewardSteps: no reward metrics then.
    const late = new RbrlIQL(d.obsDim, d.actDim, { hiddenDims: [16, 16], rewardHiddenDims: [16, 16], rewardSteps: 1 }, 0);
    late.makeSampler(d);
    expect(late.update(sampler.sample(rng, batch), 1).reward_loss).toBeUndefined();
    agent.dispose();
    late.dispose();
  });

  it('refuses pair batches without ratings and unknown config fields', () => {
    const d = ratedData();
    const agent = new RbrlIQL(d.obsDim, d.actDim, { hiddenDims: [8] }, 0);
    agent.makeSampler(d);
    expect(() => agent.update(allocPairBatch(2, d.segmentLength, d.obsDim, d.actDim), 0)).toThrow(/needs batches of rated segments/);
    agent.dispose();
    expect(() => makeOfflineAgent('rbrl-iql', 6, 2, { sharpnes: 3 })).toThrow(/sharpnes/);
    expect(() => makeOfflineAgent('rbrl-iql', 6, 2, { sharpness: 0 })).toThrow(/sharpness/);
  });
});

/**
 * Learning check, the setup of learning.test.ts (P-IQL): reach with the goal visible, 30 episodes of 60
 * steps from the scripted expert with action noise 0.3 and 1.0 and from uniform-random actions, each
 * episode one segment, rated into 3 classes by its true return over the dataset's range. Control: the
 * ratings reversed (class C - 1 - r), so the reward model prefers the random episodes. Measured here:
 * return 338 (reversed 39, random 88). Thresholds as DPPO's: above twice random, reversed below half.
 */
describe('rbrl-iql learns on reach', () => {
  const T = 60;
  const EVAL_EPISODES = 10;

  it('beats twice the random policy\'s return, and reversed ratings do not', async () => {
    const ds = await makeDataset({ task: 'reach', kind: 'dense', episodes: 30, maxPathLength: T, segmentLength: T, segments: 30, pairsPerSegment: 1, noise: [0.3, 1.0], includeRandom: true, seed: 1, goalObservable: true, ratingTeacher: 'rating:classes=3' });
    expect(ds.header.rating?.classes).toBe(3);
    const randomReturn = await randomReachReturn(T, EVAL_EPISODES);
    const run: OfflineRunConfig = { task: 'reach', steps: 600, seed: 0, evalEvery: 600, evalEpisodes: EVAL_EPISODES, batchPairs: 8, checkpointEvery: 1e9, maxPathLength: T, progress: false, goalObservable: true };
    const train = async (ratings: Int32Array) => {
      const agent = makeOfflineAgent('rbrl-iql', 39, 4, { hiddenDims: [64, 64], lr: 1e-3, rewardHiddenDims: [64, 64], rewardSteps: 150, actorCosineSteps: 0 }, 0);
      try {
        const r = await runOffline(agent, run, { ...ds.data, ratings }, new RunDir(mkdtempSync(join(tmpdir(), 'pbrl-learn-rbrl-'))), false);
        return r.lastEval!.meanReturn;
      } finally {
        agent.dispose();
      }
    };
    const learned = await train(ds.data.ratings!);
    const reversed = await train(Int32Array.from(ds.data.ratings!, (r) => 2 - r));
    expect(randomReturn).toBeGreaterThan(0);
    expect(learned).toBeGreaterThan(2 * randomReturn);
    expect(reversed).toBeLessThan(learned / 2);
  }, 180_000);
});
