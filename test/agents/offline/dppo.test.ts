/**
 * DPPO (agents/offline/dppo.ts): the preference predictor's probability and its antisymmetry under
 * swapping the segments, the smoothness term and the policy-scoring loss against plain arithmetic
 * written here from the formulas, the preferred segment's distance falling and the other's rising on
 * a constructed pair, the schedule (predictor first, then the policy), config errors, determinism per
 * seed, and a small learning check on reach against a random policy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { allocPairBatch, PairSampler, type PairBatch } from '../../../agents/offline/data.js';
import { DPPO, smoothnessLoss } from '../../../agents/offline/dppo.js';
import { makeOfflineAgent } from '../../../agents/offline/index.js';
import { parseOfflineTrainConfig, runOffline, type OfflineRunConfig } from '../../../experiments/offline-runner.js';
import { makeDataset } from '../../../experiments/datasets/make.js';
import { RunDir } from '../../../experiments/run-files.js';
import { randomReachReturn, syntheticData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const tiny = { hiddenDims: [16, 16], predictorHiddenDims: [16, 16] };
const data = syntheticData({ pairs: 40 });
const sampler = new PairSampler(data);

function batches(n: number, seed: number, pairs = 6): PairBatch[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampler.sample(rng, allocPairBatch(pairs, data.segmentLength, data.obsDim, data.actDim)));
}

/** The same batch with the two segments of every pair exchanged and the labels flipped. */
function swapSides(b: PairBatch, obsDim: number, actDim: number): PairBatch {
  const out = allocPairBatch(b.pairs, b.segmentLength, obsDim, actDim);
  const L = b.segmentLength;
  for (let p = 0; p < b.pairs; p++) {
    for (let side = 0; side < 2; side++) {
      const from = (p * 2 + side) * L;
      const to = (p * 2 + 1 - side) * L;
      out.obs.set(b.obs.subarray(from * obsDim, (from + L) * obsDim), to * obsDim);
      out.nextObs.set(b.nextObs.subarray(from * obsDim, (from + L) * obsDim), to * obsDim);
      out.actions.set(b.actions.subarray(from * actDim, (from + L) * actDim), to * actDim);
    }
    out.labels[p] = 1 - b.labels[p];
  }
  return out;
}

describe('DPPO preference predictor', () => {
  it('gives a probability, and swapping the segments gives 1 - P', () => {
    const agent = new DPPO(data.obsDim, data.actDim, tiny, 0);
    const [b] = batches(1, 1);
    for (let i = 0; i < 20; i++) agent.update(batches(1, 100 + i)[0], i); // a trained, non-trivial predictor
    const p = agent.preferenceProbabilities(b);
    const q = agent.preferenceProbabilities(swapSides(b, data.obsDim, data.actDim));
    expect(p.length).toBe(b.pairs);
    for (let i = 0; i < b.pairs; i++) {
      expect(p[i]).toBeGreaterThan(0);
      expect(p[i]).toBeLessThan(1);
      expect(p[i] + q[i]).toBeCloseTo(1, 6);
    }
    // Not all 0.5: the probability depends on the segments.
    expect(Math.max(...p) - Math.min(...p)).toBeGreaterThan(1e-4);
    // The probability is sigmoid of the score difference of the mean-pooled per-step outputs.
    const s = agent.segmentScores(b);
    for (let i = 0; i < b.pairs; i++) expect(p[i]).toBeCloseTo(1 / (1 + Math.exp(-(s[2 * i] - s[2 * i + 1]))), 5);
    agent.dispose();
  });

  it('learns labels given by a hidden per-step reward, from the labelled pairs', () => {
    // Labels from the sum of obs[0] * a[0] over each segment: a Markovian rule the MLP can represent.
    const d = syntheticData({ pairs: 300, segments: 40, episodes: 8, seed: 3 });
    const H = d.segmentLength;
    const ret = (seg: number) => {
      let r = 0;
      for (let t = 0; t < H; t++) {
        const e = d.segEpisode[seg];
        const st = d.segStart[seg] + t;
        r += d.obs[(e * (d.episodeLength + 1) + st) * d.obsDim] * d.actions[(e * d.episodeLength + st) * d.actDim];
      }
      return r;
    };
    d.labels = Float32Array.from({ length: 300 }, (_, i) => (ret(d.pairA[i]) > ret(d.pairB[i]) ? 1 : 0));
    const s = new PairSampler(d);
    const agent = new DPPO(d.obsDim, d.actDim, { ...tiny, predictorHiddenDims: [32, 32], predictorLr: 3e-3, smoothWeight: 0.1, smoothSigma: 2, predictorSteps: 300 }, 0);
    const rng = new Rng(4);
    const first = agent.update(s.sample(rng, allocPairBatch(32, H, d.obsDim, d.actDim)), 0);
    let last: Record<string, number> = {};
    for (let i = 1; i < 300; i++) last = agent.update(s.sample(rng, allocPairBatch(32, H, d.obsDim, d.actDim)), i);
    expect(first.predictor_xent).toBeGreaterThan(0.55);
    expect(last.predictor_xent).toBeLessThan(0.4);
    // Policy phase: the frozen predictor's accuracy on a fresh batch.
    const m = agent.update(s.sample(rng, allocPairBatch(64, H, d.obsDim, d.actDim)), 300);
    expect(m.predictor_accuracy).toBeGreaterThan(0.8);
    agent.dispose();
  }, 60_000);

  it('smoothness term: squared gap of a window and its shifted twin, by hand', () => {
    const per = [
      [1, 2, 3, 4],
      [0, 0, 5, -1],
      [2, 2, 2, 2],
    ];
    const shifts = Int32Array.from([1, 2, 0]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const expected = mean(per.map((row, i) => (mean(row.slice(0, 4 - shifts[i])) - mean(row.slice(shifts[i]))) ** 2));
    const got = tf.tidy(() => smoothnessLoss(tf.tensor2d(per), shifts).dataSync()[0]);
    expect(got).toBeCloseTo(expected, 5);
    expect(expected).toBeGreaterThan(0);
  });
});

describe('DPPO policy scoring', () => {
  it('the policy loss equals the formula computed by hand from the agent\'s actions and scores', () => {
    const c = { ...tiny, predictorSteps: 0, contrastiveBias: 0.7, distTemperature: 0.25 };
    const agent = new DPPO(data.obsDim, data.actDim, c, 5);
    const [b] = batches(1, 2, 5);
    const L = b.segmentLength;
    const N = 2 * b.pairs;
    const scores = Array.from(agent.segmentScores(b));
    const mu = agent.act(b.obs, b.size, true);
    const A = data.actDim;
    // d(sigma) = mean_t ||(pi(s_t) - a_t) / 2|| / T
    const dist = Array.from({ length: N }, (_, i) => {
      let total = 0;
      for (let t = 0; t < L; t++) {
        let sq = 0;
        for (let k = 0; k < A; k++) sq += ((mu[(i * L + t) * A + k] - b.actions[(i * L + t) * A + k]) / 2) ** 2;
        total += Math.sqrt(sq);
      }
      return total / L / c.distTemperature;
    });
    expect(Array.from(agent.distances(b)).map((x, i) => x - dist[i]).every((e) => Math.abs(e) < 1e-4)).toBe(true);
    // -log( e^-d_i / (e^-d_i + e^(-lambda d_j)) ) over every (i, j) the predictor ranks i above j.
    let sum = 0;
    let count = 0;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        if (!(scores[i] > scores[j])) continue;
        sum += -Math.log(Math.exp(-dist[i]) / (Math.exp(-dist[i]) + Math.exp(-c.contrastiveBias * dist[j])));
        count++;
      }
    }
    // Every unordered pair once, less ties (a segment drawn into two pairs of the batch scores the same).
    const distinct = new Set(scores).size;
    expect(count).toBeGreaterThanOrEqual((distinct * (distinct - 1)) / 2);
    expect(count).toBeLessThanOrEqual((N * (N - 1)) / 2);
    const m = agent.update(b, 0);
    expect(m.policy_loss).toBeCloseTo(sum / count, 4);
    agent.dispose();
  });

  it('on a constructed pair the preferred segment\'s distance falls and the other\'s rises', () => {
    const agent = new DPPO(data.obsDim, data.actDim, { ...tiny, predictorSteps: 60, predictorLr: 3e-3, smoothWeight: 0 }, 7);
    const [b] = batches(1, 3, 1);
    b.labels[0] = 1; // A preferred
    for (let i = 0; i < 60; i++) agent.update(b, i);
    expect(agent.preferenceProbabilities(b)[0]).toBeGreaterThan(0.9);
    const before = agent.distances(b);
    const predictorBefore = agent.predictor.getWeights();
    let m: Record<string, number> = {};
    for (let i = 60; i < 110; i++) m = agent.update(b, i);
    const after = agent.distances(b);
    expect(after[0]).toBeLessThan(before[0]);
    expect(after[1]).toBeGreaterThan(before[1]);
    expect(m.policy_accuracy).toBe(1);
    // Policy phase: the predictor is frozen and its loss no longer logged.
    expect(m.predictor_loss).toBeUndefined();
    expect(agent.predictor.getWeights()).toEqual(predictorBefore);
    agent.dispose();
  });

  it('trains the predictor for predictorSteps updates, then only the policy', () => {
    const agent = new DPPO(data.obsDim, data.actDim, { ...tiny, predictorSteps: 3 }, 0);
    const bs = batches(5, 6);
    const actor0 = agent.actor.getWeights();
    expect(Object.keys(agent.update(bs[0], 0)).sort()).toEqual(['predictor_accuracy', 'predictor_loss', 'predictor_smooth', 'predictor_xent']);
    agent.update(bs[1], 2);
    expect(agent.actor.getWeights()).toEqual(actor0);
    expect(Object.keys(agent.update(bs[2], 3)).sort()).toEqual(['policy_accuracy', 'policy_loss', 'predictor_accuracy']);
    expect(agent.actor.getWeights()).not.toEqual(actor0);
    // Built with the run length, predictorFraction of it.
    const viaRun = makeOfflineAgent('dppo', data.obsDim, data.actDim, { ...tiny, predictorFraction: 0.25 }, 0, 400) as DPPO;
    expect(viaRun.config.predictorSteps).toBe(100);
    viaRun.dispose();
    agent.dispose();
  });
});

describe('DPPO config and determinism', () => {
  it('refuses bad configs with the field named', () => {
    expect(() => new DPPO(6, 2, { contrastiveBias: 0 })).toThrow(/invalid DPPO config: contrastiveBias/);
    expect(() => new DPPO(6, 2, { contrastiveBias: 1.5 })).toThrow(/contrastiveBias/);
    expect(() => new DPPO(6, 2, { distTemperature: 0 })).toThrow(/distTemperature/);
    expect(() => new DPPO(6, 2, { smoothWeight: -1 })).toThrow(/smoothWeight/);
    expect(() => new DPPO(6, 2, { nu: 1 } as never)).toThrow(/Unrecognized key.*nu/);
    const base = { algo: 'dppo', dataset: 'x.pbrlds', task: 'reach', steps: 100 };
    expect(() => parseOfflineTrainConfig({ ...base, agent: { predictorSteps: 100 } })).toThrow(/DPPO's policy phase is empty: agent.predictorSteps 100 >= steps 100/);
    expect(parseOfflineTrainConfig(base).agent.predictorSteps).toBe(20);
    expect(parseOfflineTrainConfig(base).batchPairs).toBe(128);
  });

  it('same seed, same numbers; another seed, other numbers', () => {
    const run = (seed: number) => {
      const agent = new DPPO(data.obsDim, data.actDim, { ...tiny, predictorSteps: 4, dropout: 0.25 }, seed);
      const ms = batches(8, 9).map((b, i) => agent.update(b, i));
      const a = Array.from(agent.act(data.obs.subarray(0, 3 * data.obsDim), 3, true));
      agent.dispose();
      return { ms, a };
    };
    const x = run(11);
    const y = run(11);
    const z = run(12);
    expect(y).toEqual(x);
    expect(z.a).not.toEqual(x.a);
    expect(z.ms[7].policy_loss).not.toBe(x.ms[7].policy_loss);
  });
});

/**
 * Learning check, the setup of learning.test.ts (CPL / P-IQL): reach with the goal visible, 30 episodes
 * of 60 steps from the scripted expert with action noise 0.3 and 1.0 and from uniform-random actions
 * (10 each), every episode one segment (H = 60), all 435 pairs labelled by the oracle teacher; 64 x 64
 * nets, lr 1e-3, 8 pairs (16 segments) per batch, 600 gradient steps: the predictor the first 150,
 * the policy the other 450. Evaluated on the runner's 10 episodes against a uniform-random policy.
 * Control: the same run with every label flipped (1 - y), so the predictor ranks the random episodes
 * first. Measured (this machine, wasm): DPPO return 342.1 (success 0.2) at seed 0, 342.9 / 349.9 at
 * agent seeds 1 / 2; flipped labels 90.7 (success 0); the untrained actor (150 steps, predictor only)
 * 87.8; random 87.9. Thresholds: DPPO above twice random, flipped below half of DPPO.
 */
describe('DPPO learns on reach', () => {
  const T = 60;
  const EVAL_EPISODES = 10;

  it('beats twice the random policy\'s return', async () => {
    const ds = await makeDataset({ task: 'reach', kind: 'dense', episodes: 30, maxPathLength: T, segmentLength: T, segments: 30, pairsPerSegment: 0, noise: [0.3, 1.0], includeRandom: true, seed: 1, goalObservable: true });
    const randomReturn = await randomReachReturn(T, EVAL_EPISODES);
    const run: OfflineRunConfig = { task: 'reach', steps: 600, seed: 0, evalEvery: 600, evalEpisodes: EVAL_EPISODES, batchPairs: 8, checkpointEvery: 1e9, maxPathLength: T, progress: false, goalObservable: true };
    const train = async (labels: Float32Array) => {
      const agent = makeOfflineAgent('dppo', 39, 4, { hiddenDims: [64, 64], predictorHiddenDims: [64, 64], lr: 1e-3, predictorLr: 1e-3, predictorSteps: 150 }, 0);
      try {
        const r = await runOffline(agent, run, { ...ds.data, labels }, new RunDir(mkdtempSync(join(tmpdir(), 'pbrl-learn-dppo-'))), false);
        return r.lastEval!.meanReturn;
      } finally {
        agent.dispose();
      }
    };
    const learned = await train(ds.data.labels);
    const flipped = await train(Float32Array.from(ds.data.labels, (y) => 1 - y));
    expect(randomReturn).toBeGreaterThan(0);
    expect(learned).toBeGreaterThan(2 * randomReturn);
    expect(flipped).toBeLessThan(learned / 2);
  }, 150_000);
});
