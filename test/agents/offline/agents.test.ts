/**
 * Offline agents: shapes and bounds of actions, no tensor leaks over many updates, checkpoint round
 * trips that continue bit-identically, phase switches (CPL's BC pre-training, P-IQL's reward
 * freeze), and clear errors for bad configs and wrong batches.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { allocBatch } from '../../../agents/replay-buffer.js';
import { allocPairBatch, PairSampler, RatedSegmentSampler } from '../../../agents/offline/data.js';
import { makeOfflineAgent, OFFLINE_ALGOS, CPL, IQL } from '../../../agents/offline/index.js';
import { syntheticData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const small: Record<string, Record<string, unknown>> = {
  bc: { hiddenDims: [16, 16], warmupSteps: 3 },
  pbc: { hiddenDims: [16, 16], warmupSteps: 3, allSteps: 4 },
  sft: { hiddenDims: [16, 16], warmupSteps: 3, allSteps: 4 },
  'percent-bc': { hiddenDims: [16, 16], warmupSteps: 3 },
  cpl: { hiddenDims: [16, 16], warmupSteps: 3, bcSteps: 4 },
  iql: { hiddenDims: [16, 16], rewardHiddenDims: [16], rewardSteps: 5, actorCosineSteps: 50 },
  ipl: { hiddenDims: [16, 16] },
  'rbrl-iql': { hiddenDims: [16, 16], rewardHiddenDims: [16], rewardSteps: 5, actorCosineSteps: 50 },
};

// Rated too, for rbrl-iql's sampler.
const data = { ...syntheticData(), ratingClasses: 3, ratings: Int32Array.from({ length: 12 }, (_, i) => i % 3) };
const sampler = new PairSampler(data);

/** Batches from the algorithm's own sampler where it has one (rbrl-iql: rated segments), else labelled pairs. */
function batches(n: number, seed: number, algo?: string) {
  const rng = new Rng(seed);
  const s = algo === 'rbrl-iql' ? new RatedSegmentSampler(data) : sampler;
  return Array.from({ length: n }, () => s.sample(rng, allocPairBatch(4, data.segmentLength, data.obsDim, data.actDim)));
}

describe('offline agents', () => {
  for (const algo of OFFLINE_ALGOS) {
    it(`${algo}: acts in [-1, 1], updates without leaking tensors, finite metrics`, () => {
      const agent = makeOfflineAgent(algo, data.obsDim, data.actDim, small[algo], 1);
      const obs = new Rng(3).fillNormal(new Float32Array(5 * data.obsDim)) as Float32Array;
      const a = agent.act(obs, 5, true);
      expect(a.length).toBe(5 * data.actDim);
      expect(Array.from(a).every((x) => x >= -1 && x <= 1)).toBe(true);
      const bs = batches(20, 4, algo);
      for (let i = 0; i < 8; i++) agent.update(bs[i], i); // past every phase switch
      const before = tf.memory().numTensors;
      let m: Record<string, number> = {};
      for (let i = 8; i < 20; i++) m = agent.update(bs[i], i);
      expect(tf.memory().numTensors).toBe(before);
      expect(Object.keys(m).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(m)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
      expect(Array.from(agent.act(obs, 5, true))).not.toEqual(Array.from(a));
      agent.dispose();
    });

    it(`${algo}: a restored checkpoint continues exactly like the original`, async () => {
      const bs = batches(10, 5, algo);
      const a = makeOfflineAgent(algo, data.obsDim, data.actDim, small[algo], 2);
      for (let i = 0; i < 5; i++) a.update(bs[i], i);
      const state = JSON.parse(JSON.stringify(await a.saveState()));
      const b = makeOfflineAgent(algo, data.obsDim, data.actDim, small[algo], 99); // different init, overwritten
      await b.loadState(state);
      for (let i = 5; i < 10; i++) {
        const ma = a.update(bs[i], i);
        const mb = b.update(bs[i], i);
        expect(mb).toEqual(ma);
      }
      const obs = new Rng(6).fillNormal(new Float32Array(3 * data.obsDim)) as Float32Array;
      expect(Array.from(b.act(obs, 3, true))).toEqual(Array.from(a.act(obs, 3, true)));
      await expect(makeOfflineAgent(algo === 'bc' ? 'cpl' : 'bc', data.obsDim, data.actDim, small[algo === 'bc' ? 'cpl' : 'bc']).loadState(state)).rejects.toThrow(/checkpoint is for/);
      a.dispose();
      b.dispose();
    });
  }

  it('CPL pre-trains with BC for bcSteps, then optimises the CPL loss', () => {
    const cpl = new CPL(data.obsDim, data.actDim, small.cpl, 0);
    const bs = batches(6, 7);
    expect(Object.keys(cpl.update(bs[0], 0)).sort()).toEqual(['bc_loss', 'lr']);
    expect(Object.keys(cpl.update(bs[1], 3)).sort()).toEqual(['bc_loss', 'lr']);
    expect(Object.keys(cpl.update(bs[2], 4)).sort()).toEqual(['cpl_accuracy', 'cpl_loss', 'lr']);
    const withBc = new CPL(data.obsDim, data.actDim, { ...small.cpl, bcSteps: 0, bcCoeff: 1, contrastiveBias: 1 }, 0);
    expect(withBc.update(bs[3], 0).cpl_loss).toBeGreaterThan(0);
    cpl.dispose();
    withBc.dispose();
  });

  it('P-IQL trains its reward model only during the first rewardSteps updates', () => {
    const iql = new IQL(data.obsDim, data.actDim, small.iql, 0);
    const bs = batches(8, 8);
    expect(iql.update(bs[0], 0).reward_loss).toBeGreaterThan(0);
    for (let i = 1; i < 5; i++) iql.update(bs[i], i);
    const frozen = iql.reward.getWeights();
    const m = iql.update(bs[5], 5);
    expect(m.reward_loss).toBeUndefined();
    expect(iql.reward.getWeights()).toEqual(frozen);
    iql.dispose();
  });

  it('bad configs and transition batches are clear errors', () => {
    expect(() => makeOfflineAgent('cpl', 6, 2, { contrastiveBias: 2 })).toThrow(/contrastiveBias/);
    expect(() => makeOfflineAgent('iql', 6, 2, { expectile: 1.5 })).toThrow(/expectile/);
    expect(() => makeOfflineAgent('ipl', 6, 2, { chi2Coef: 1 })).toThrow(/chi2Coef/);
    expect(() => makeOfflineAgent('dqn', 6, 2)).toThrow(/unknown offline algorithm "dqn".*bc, sft, percent-bc, pbc, iql, cpl, ipl, dppo, rbrl-iql/);
    const bc = makeOfflineAgent('bc', 6, 2, small.bc);
    expect(() => bc.update(allocBatch(8, 6, 2), 0)).toThrow(/labelled segment pairs/);
    expect(() => bc.act(new Float32Array(7), 1, true)).toThrow(/7 values for 1 observations of 6/);
    bc.dispose();
  });

  it('the pair sampler lays out [pair, side, step] with s\' = the next observation', () => {
    const b = allocPairBatch(3, data.segmentLength, data.obsDim, data.actDim);
    sampler.sample(new Rng(9), b);
    const H = data.segmentLength;
    const od = data.obsDim;
    for (let row = 0; row < b.size - 1; row++) {
      if ((row + 1) % H === 0) continue; // last step of a segment: s' is the observation after it
      expect(Array.from(b.nextObs.subarray(row * od, (row + 1) * od))).toEqual(Array.from(b.obs.subarray((row + 1) * od, (row + 2) * od)));
    }
    expect(Array.from(b.labels).every((y) => y === 0 || y === 0.5 || y === 1)).toBe(true);
    const bad = { ...data, labels: Float32Array.from(data.labels, (y, i) => (i === 2 ? 0.3 : y)) };
    expect(() => new PairSampler(bad)).toThrow(/labels\[2\] must be 1, 0 or 0.5, got 0\.3/);
    const badStart = { ...data, segStart: Int32Array.from(data.segStart, (s, i) => (i === 1 ? 99 : s)) };
    expect(() => new PairSampler(badStart)).toThrow(/segStart\[1\] = 99/);
  });
});
