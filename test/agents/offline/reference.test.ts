/**
 * The offline algorithms against the reference code (jhejna/cpl): CPL's BC phase is a share of the
 * run and never fills it, so CPL with default settings is not BC.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { allocPairBatch, PairSampler } from '../../../agents/offline/data.js';
import { makeOfflineAgent, CPL } from '../../../agents/offline/index.js';
import { buildOfflineConfig, parseOfflineTrainConfig } from '../../../experiments/offline-runner.js';
import { syntheticData } from './fixtures.js';

beforeAll(async () => {
  await initBackend();
});

const data = syntheticData();
const sampler = new PairSampler(data);

function batches(n: number, seed: number, pairs = 4) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampler.sample(rng, allocPairBatch(pairs, data.segmentLength, data.obsDim, data.actDim)));
}

function sameWeights(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((w, i) => w.length === b[i].length && w.every((x, j) => x === b[i][j]));
}

describe('CPL BC phase', () => {
  it('defaults to 0.4 of the run (the reference 200k of 500k) and refuses an empty contrastive phase, naming the fields', () => {
    const c = parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', steps: 1000 });
    expect(c.agent.bcSteps).toBe(400);
    expect(parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', steps: 1000, agent: { bcFraction: 0.25 } }).agent.bcSteps).toBe(250);
    expect(parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', steps: 1000, agent: { bcSteps: 10 } }).agent.bcSteps).toBe(10);
    expect(() => parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', steps: 1000, agent: { bcSteps: 1000 } }))
      .toThrow(/agent\.bcSteps.*contrastive phase is empty.*1000 >= steps 1000.*agent\.bcFraction/);
    expect(() => parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', agent: { bcFraction: 1 } })).toThrow(/agent\.bcFraction/);
    expect(() => new CPL(6, 2, {})).toThrow(/bcSteps is not set/);
  });

  it('pbrl train flags set the fraction or the count, and only for cpl', () => {
    const base = { algo: 'cpl', dataset: 'd', task: 'reach', out: 'o', progress: false } as const;
    expect((buildOfflineConfig({ ...base, bcFraction: '0.2' }).agent as Record<string, unknown>).bcFraction).toBe(0.2);
    expect((buildOfflineConfig({ ...base, bcSteps: '7' }).agent as Record<string, unknown>).bcSteps).toBe(7);
    expect(() => buildOfflineConfig({ ...base, algo: 'bc', bcFraction: '0.2' } as never)).toThrow(/--bc-fraction.*cpl/);
  });

  it('with default settings CPL ends with weights unlike BC\'s', () => {
    const steps = 10;
    const cfg = parseOfflineTrainConfig({ algo: 'cpl', dataset: 'x', task: 'reach', steps, agent: { hiddenDims: [16, 16] } });
    const cpl = makeOfflineAgent('cpl', data.obsDim, data.actDim, cfg.agent, 3) as CPL;
    const bc = makeOfflineAgent('bc', data.obsDim, data.actDim, { hiddenDims: [16, 16] }, 3) as unknown as CPL;
    expect(sameWeights(cpl.actor.getWeights(), bc.actor.getWeights())).toBe(true); // same initialisation
    const bs = batches(steps, 1);
    const keys = new Set<string>();
    for (let i = 0; i < steps; i++) {
      Object.keys(cpl.update(bs[i], i)).forEach((k) => keys.add(k));
      bc.update(bs[i], i);
    }
    expect(keys.has('cpl_loss')).toBe(true);
    expect(sameWeights(cpl.actor.getWeights(), bc.actor.getWeights())).toBe(false);
    cpl.dispose();
    bc.dispose();
  });

  it('constant learning rate during BC, linear warm-up (reference: min(1, k/W) after k scheduler steps) once the CPL loss starts', () => {
    const lr = 1e-3;
    const cpl = new CPL(data.obsDim, data.actDim, { hiddenDims: [8], lr, warmupSteps: 4, bcSteps: 3 }, 0);
    const bs = batches(9, 2);
    const seen = bs.map((b, i) => cpl.update(b, i).lr);
    // Reference trainer: LambdaLR created at the switch (factor 0), stepped once before each update.
    const expected = bs.map((_, i) => (i < 3 ? lr : lr * Math.min(1, (i - 3 + 1) / 4)));
    seen.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 15));
    cpl.dispose();
  });

  it('through its BC phase CPL is BC exactly (same init, same constant rate), then departs', () => {
    const cpl = new CPL(data.obsDim, data.actDim, { hiddenDims: [16, 16], bcSteps: 5 }, 4);
    const bc = makeOfflineAgent('bc', data.obsDim, data.actDim, { hiddenDims: [16, 16] }, 4) as unknown as CPL;
    const bs = batches(7, 3);
    for (let i = 0; i < 5; i++) {
      cpl.update(bs[i], i);
      bc.update(bs[i], i);
    }
    expect(sameWeights(cpl.actor.getWeights(), bc.actor.getWeights())).toBe(true);
    for (let i = 5; i < 7; i++) {
      cpl.update(bs[i], i);
      bc.update(bs[i], i);
    }
    expect(sameWeights(cpl.actor.getWeights(), bc.actor.getWeights())).toBe(false);
    cpl.dispose();
    bc.dispose();
  });
});

describe('batches', () => {
  it('CPL, BC, SFT and P-IQL default to the reference 96 pairs (192 segments) per batch', () => {
    for (const algo of ['cpl', 'bc', 'iql']) {
      expect(parseOfflineTrainConfig({ algo, dataset: 'x', task: 'reach', steps: 100 }).batchPairs, algo).toBe(96);
    }
  });
});
