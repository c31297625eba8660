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

describe('actor dropout', () => {
  it('masks are seeded, drop about p of the units and scale the rest by 1/(1-p)', async () => {
    const { dropoutMask } = await import('../../../agents/offline/common.js');
    const a = dropoutMask(new Rng(5), 100, 64, 0.25);
    expect(Array.from(a)).toEqual(Array.from(dropoutMask(new Rng(5), 100, 64, 0.25)));
    const zeros = a.filter((x) => x === 0).length / a.length;
    expect(zeros).toBeGreaterThan(0.22);
    expect(zeros).toBeLessThan(0.28);
    expect(a.every((x) => x === 0 || Math.abs(x - 4 / 3) < 1e-6)).toBe(true);
  });

  it('training forward pass = hand-written relu(x W + b) * mask layers; eval (act) has no dropout', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { actorForward, dropoutMask, makeActor } = await import('../../../agents/offline/common.js');
    const actor = makeActor(6, 2, [8, 8], new Rng(1));
    const obs = new Rng(2).fillNormal(new Float32Array(5 * 6)) as Float32Array;
    const got = tf.tidy(() => actorForward(actor, tf.tensor2d(obs, [5, 6]), 0.25, new Rng(7)).arraySync() as number[][]);
    // Reference computed with plain arrays, masks from an identical stream.
    const ws = actor.getWeights();
    const r = new Rng(7);
    let h: number[][] = Array.from({ length: 5 }, (_, i) => Array.from(obs.subarray(i * 6, (i + 1) * 6)));
    for (let l = 0; l < 3; l++) {
      const W = ws[2 * l];
      const b = ws[2 * l + 1];
      const out = b.length;
      const mask = l < 2 ? dropoutMask(r, 5, out, 0.25) : null;
      h = h.map((row, i) => Array.from({ length: out }, (_, j) => {
        let z = b[j];
        for (let k = 0; k < row.length; k++) z += row[k] * W[k * out + j];
        const y = l < 2 ? Math.max(0, z) * mask![i * out + j] : Math.tanh(z);
        return y;
      }));
    }
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(h[i][j], 5)));
    // act(): deterministic, and equal to the dropout-free pass.
    const agent = makeOfflineAgent('cpl', 6, 2, { hiddenDims: [8, 8], bcSteps: 1 }, 1);
    const a1 = agent.act(obs, 5, true);
    expect(Array.from(agent.act(obs, 5, true))).toEqual(Array.from(a1));
    const plain = tf.tidy(() => (agent as CPL).actor.apply(tf.tensor2d(obs, [5, 6])).dataSync() as Float32Array);
    expect(Array.from(a1)).toEqual(Array.from(plain));
    agent.dispose();
    actor.dispose();
  });

  it('CPL, SFT/BC and P-IQL default to 0.25, IPL to none', () => {
    for (const [algo, p] of [['cpl', 0.25], ['bc', 0.25], ['iql', 0.25], ['ipl', 0]] as const) {
      expect(parseOfflineTrainConfig({ algo, dataset: 'x', task: 'reach', steps: 100 }).agent.dropout, algo).toBe(p);
    }
  });
});

describe('P-IQL update order (CPL repo piql.py)', () => {
  /** The rows of a [P, 2, L] batch whose step index is below L - 1 (plain loop, the test's own). */
  function withoutLastStep(x: Float32Array, dim: number, L: number): Float32Array {
    const out: number[] = [];
    for (let row = 0; row < x.length / dim; row++) if (row % L !== L - 1) out.push(...x.subarray(row * dim, (row + 1) * dim));
    return Float32Array.from(out);
  }

  async function check(finalTransition: boolean) {
    const tf = await import('@tensorflow/tfjs');
    const { IQL } = await import('../../../agents/offline/index.js');
    const cfg = { hiddenDims: [16, 16], rewardHiddenDims: [16], rewardSteps: 5, actorCosineSteps: 50, dropout: 0, lr: 1e-2, finalTransition };
    const agent = new IQL(data.obsDim, data.actDim, cfg, 0);
    const bs = batches(3, 11);
    agent.update(bs[0], 0);
    agent.update(bs[1], 1);
    const before = new IQL(data.obsDim, data.actDim, cfg, 9);
    await before.loadState(JSON.parse(JSON.stringify(await agent.saveState())));
    const b = bs[2];
    const m = agent.update(b, 2);
    const L = b.segmentLength;
    // The reference's segments hold L observations: TD uses obs[:, :-1] -> obs[:, 1:], L - 1 transitions each.
    const pick = (x: Float32Array, dim: number) => (finalTransition ? x : withoutLastStep(x, dim, L));
    const o = pick(b.obs, data.obsDim);
    const B = o.length / data.obsDim;
    expect(B).toBe(finalTransition ? b.size : b.size - 2 * b.pairs);
    const { adv0, adv1, loss } = tf.tidy(() => {
      const obs = tf.tensor2d(o, [B, data.obsDim]);
      const sa = tf.concat([obs, tf.tensor2d(pick(b.actions, data.actDim), [B, data.actDim])], 1);
      const targetQ = tf.reshape(tf.min(before.criticTarget.apply(sa), 0), [B]);
      const adv = (v: typeof agent.value) => tf.mean(tf.sub(targetQ, tf.reshape(v.apply(obs), [B]))).dataSync()[0];
      const r = tf.reshape(agent.reward.apply(sa), [B]);
      const target = tf.add(r, tf.mul(0.99, tf.reshape(agent.value.apply(tf.tensor2d(pick(b.nextObs, data.obsDim), [B, data.obsDim])), [B])));
      const q = tf.reshape(before.critic.apply(sa), [2, B]);
      return { adv0: adv(before.value), adv1: adv(agent.value), loss: tf.mean(tf.square(tf.sub(q, target))).dataSync()[0] };
    });
    expect(Math.abs(adv0 - adv1)).toBeGreaterThan(1e-4); // the value step moved V: the test can tell them apart
    expect(m.mean_advantage).toBeCloseTo(adv0, 5);
    expect(m.critic_loss).toBeCloseTo(loss, 4);
    agent.dispose();
    before.dispose();
    return m;
  }

  it('advantage from V before the value update; critic loss = mean over heads against V(s\') after it, over each segment\'s first L - 1 steps', async () => {
    const dropped = await check(false);
    // finalTransition: true (pbrl's datasets store s_H) uses all L transitions; the numbers differ.
    const all = await check(true);
    expect(Math.abs(all.critic_loss - dropped.critic_loss)).toBeGreaterThan(1e-6);
  });

  it('the default leaves the last step out of the TD losses (both reference codes); 1-step segments are refused', async () => {
    expect(parseOfflineTrainConfig({ algo: 'iql', dataset: 'x', task: 'reach', steps: 10 }).agent.finalTransition).toBe(false);
    expect(parseOfflineTrainConfig({ algo: 'ipl', dataset: 'x', task: 'reach', steps: 10 }).agent.finalTransition).toBe(false);
    const { tdRows } = await import('../../../agents/offline/value-learning.js');
    const one = allocPairBatch(2, 1, data.obsDim, data.actDim);
    expect(() => tdRows(one, data.obsDim, data.actDim, false)).toThrow(/segments of 1 step have no transition/);
  });
});

describe('SFT and %BC under the reference names', () => {
  it('SFT row weights: all rows, then the preferred segment with both sides of a tie at full weight', async () => {
    const { bcRowWeights } = await import('../../../agents/offline/bc.js');
    const b = allocPairBatch(3, 2, data.obsDim, data.actDim);
    b.labels.set([1, 0, 0.5]); // A preferred, B preferred, tie
    expect(Array.from(bcRowWeights(b, 'all'))).toEqual(Array(12).fill(1));
    expect(Array.from(bcRowWeights(b, 'preferred-ties-full'))).toEqual([1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(bcRowWeights(b, 'preferred'))).toEqual([1, 1, 0, 0, 0, 0, 1, 1, 0.5, 0.5, 0.5, 0.5]);
  });

  it('SFT is BC during allSteps (0.4 of the run by default), then departs; an empty second phase is refused', () => {
    const c = parseOfflineTrainConfig({ algo: 'sft', dataset: 'x', task: 'reach', steps: 10, agent: { hiddenDims: [16, 16] } });
    expect(c.agent.allSteps).toBe(4);
    expect(() => parseOfflineTrainConfig({ algo: 'sft', dataset: 'x', task: 'reach', steps: 10, agent: { allSteps: 10 } })).toThrow(/agent\.allSteps.*empty.*agent\.allFraction/);
    const sft = makeOfflineAgent('sft', data.obsDim, data.actDim, c.agent, 2) as unknown as CPL;
    const bc = makeOfflineAgent('bc', data.obsDim, data.actDim, { hiddenDims: [16, 16] }, 2) as unknown as CPL;
    const bs = batches(6, 4);
    for (let i = 0; i < 4; i++) {
      sft.update(bs[i], i);
      bc.update(bs[i], i);
    }
    expect(sameWeights(sft.actor.getWeights(), bc.actor.getWeights())).toBe(true);
    sft.update(bs[4], 4);
    bc.update(bs[4], 4);
    expect(sameWeights(sft.actor.getWeights(), bc.actor.getWeights())).toBe(false);
    sft.dispose();
    bc.dispose();
  });

  it('pbc is a deprecated alias of sft', () => {
    const c = parseOfflineTrainConfig({ algo: 'pbc', dataset: 'x', task: 'reach', steps: 10 });
    expect(c.algo).toBe('sft');
    expect(c.agent.allSteps).toBe(4);
  });

  it('%BC samples windows of the top episodes by true return only', async () => {
    const { TopEpisodeSampler } = await import('../../../agents/offline/data.js');
    const d = syntheticData({ episodes: 10, T: 20, H: 5 });
    // Reference: episode returns by a plain loop, best two (20%).
    const ret = Array.from({ length: 10 }, (_, e) => Array.from(d.rewards.subarray(e * 20, (e + 1) * 20)).reduce((a, b) => a + b, 0));
    const best = ret.map((r, e) => [r, e]).sort((a, b) => b[0] - a[0]).slice(0, 2).map(([, e]) => e);
    const s = new TopEpisodeSampler(d, 0.2);
    expect(Array.from(s.episodes).sort()).toEqual(best.sort());
    const out = s.sample(new Rng(1), allocPairBatch(20, 5, d.obsDim, d.actDim));
    // Every window's first observation is some step of a best episode.
    for (let row = 0; row < 40; row++) {
      const o0 = Array.from(out.obs.subarray(row * 5 * d.obsDim, row * 5 * d.obsDim + d.obsDim));
      const found = best.some((e) => Array.from({ length: 16 }, (_, t) => t).some((t) => {
        const at = (e * 21 + t) * d.obsDim;
        return o0.every((x, k) => x === d.obs[at + k]);
      }));
      expect(found, `row ${row}`).toBe(true);
    }
    const agent = makeOfflineAgent('percent-bc', d.obsDim, d.actDim, { hiddenDims: [8], topFraction: 0.2 }, 0) as unknown as { makeSampler(x: unknown): { episodes: Int32Array } };
    expect(Array.from(agent.makeSampler(d).episodes).sort()).toEqual(best.sort());
    expect(() => makeOfflineAgent('percent-bc', 6, 2, { topFraction: 0 })).toThrow(/topFraction/);
  });
});

describe('IPL segment sub-sampling (ipl_iql.yaml: 16 of 25 steps)', () => {
  it('one window per batch at a common offset in [0, H - S), labels of the whole segment', () => {
    const d = syntheticData({ episodes: 3, T: 40, H: 25, segments: 8, pairs: 12, seed: 5 });
    const s = new PairSampler(d, 16);
    expect(s.segmentLength).toBe(16);
    const offsets = new Set<number>();
    for (let trial = 0; trial < 30; trial++) {
      const out = s.sample(new Rng(trial), allocPairBatch(4, 16, d.obsDim, d.actDim));
      // Replay the sampler's draws (pair index per pair, after the offset) with a plain reading of the data.
      const r = new Rng(trial);
      const off = r.int(25 - 16);
      offsets.add(off);
      for (let p = 0; p < 4; p++) {
        const i = r.int(d.labels.length);
        expect(out.labels[p]).toBe(d.labels[i]);
        [d.pairA[i], d.pairB[i]].forEach((seg, side) => {
          const e = d.segEpisode[seg];
          for (let t = 0; t < 16; t++) {
            const step = d.segStart[seg] + off + t;
            const row = (p * 2 + side) * 16 + t;
            expect(out.actions[row * d.actDim]).toBe(d.actions[(e * 40 + step) * d.actDim]);
            expect(out.nextObs[row * d.obsDim]).toBe(d.obs[(e * 41 + step + 1) * d.obsDim]);
          }
        });
      }
    }
    expect(Math.max(...offsets)).toBeLessThanOrEqual(8);
    expect(offsets.size).toBeGreaterThan(3);
    // Segments not longer than the window: whole segments.
    expect(new PairSampler(data, 16).segmentLength).toBe(data.segmentLength);
    const ipl = makeOfflineAgent('ipl', d.obsDim, d.actDim, { hiddenDims: [8] }, 0) as unknown as { makeSampler(x: unknown): PairSampler };
    expect(ipl.makeSampler(d).segmentLength).toBe(16);
  });
});

describe('IPL Gaussian actor (IPL repo DiagonalGaussianMLPActor, ipl_iql.yaml)', () => {
  /** log N(a; mu, sigma^2) summed over components, written out by hand. */
  function logN(a: number[], mu: number[], logStd: number[]): number {
    return a.reduce((s, ak, k) => s - 0.5 * ((ak - mu[k]) / Math.exp(logStd[k])) ** 2 - logStd[k] - 0.5 * Math.log(2 * Math.PI), 0);
  }

  it('gaussianLogLik is the diagonal Gaussian log-density', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { gaussianLogLik } = await import('../../../agents/offline/common.js');
    const mu = [[0.1, -0.4], [0.9, 0.0]];
    const a = [[0.3, -0.1], [-0.5, 0.7]];
    const ls = [-0.7, 0.4];
    const got = tf.tidy(() => Array.from(gaussianLogLik(tf.tensor2d(mu), tf.tensor2d(a), tf.tensor1d(ls)).dataSync()));
    expect(got[0]).toBeCloseTo(logN(a[0], mu[0], ls), 5);
    expect(got[1]).toBeCloseTo(logN(a[1], mu[1], ls), 5);
  });

  it('is the default; actor loss = mean of AWR weight x Gaussian NLL with log-std clamped to [-5, 2]; act() is the mean; log-std trains and resumes', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { IPL } = await import('../../../agents/offline/index.js');
    expect(parseOfflineTrainConfig({ algo: 'ipl', dataset: 'x', task: 'reach', steps: 10 }).agent.actor).toBe('gaussian');
    expect(parseOfflineTrainConfig({ algo: 'iql', dataset: 'x', task: 'reach', steps: 10 }).agent.actor).toBe('deterministic');
    const cfg = { hiddenDims: [16, 16], lr: 1e-2 };
    const agent = new IPL(data.obsDim, data.actDim, cfg, 0);
    const bs = batches(3, 5);
    agent.update(bs[0], 0);
    agent.update(bs[1], 1);
    // A log-std beyond the upper bound: the loss must use the clamped value 2.
    const state = await agent.saveState();
    state.networks.actorLogStd.weights = [[3.5, -0.3]];
    await agent.loadState(state);
    const before = new IPL(data.obsDim, data.actDim, cfg, 9);
    await before.loadState(JSON.parse(JSON.stringify(state)));
    const b = bs[2];
    const m = agent.update(b, 2);
    // IPL order: value, critic, then the actor with V after the value update; rows without each segment's last step.
    const L = b.segmentLength;
    const rows = Array.from({ length: b.size }, (_, r) => r).filter((r) => r % L !== L - 1);
    const take = (x: Float32Array, d: number) => Float32Array.from(rows.flatMap((r) => Array.from(x.subarray(r * d, (r + 1) * d))));
    const obs = take(b.obs, data.obsDim);
    const act = take(b.actions, data.actDim);
    const B = rows.length;
    const { w, mu } = tf.tidy(() => {
      const o = tf.tensor2d(obs, [B, data.obsDim]);
      const tq = tf.min(before.criticTarget.apply(tf.concat([o, tf.tensor2d(act, [B, data.actDim])], 1)), 0).dataSync();
      const v = agent.value.apply(o).dataSync();
      return { w: Array.from(tq, (q, i) => Math.min(Math.exp((q - v[i]) / 0.3333), 100)), mu: before.actor.apply(o).arraySync() as number[][] };
    });
    const ls = [2, -0.3];
    const want = w.reduce((s, wi, i) => s - wi * logN(Array.from(act.subarray(i * 2, i * 2 + 2)), mu[i], ls), 0) / B;
    expect(m.actor_loss).toBeCloseTo(want, 3);
    expect(agent.logStd!.dataSync()[1]).not.toBe(-0.3); // the log-std is trained
    // The raw parameter above the bound gets no gradient (torch.clamp): a fresh optimizer leaves it.
    const fresh = new IPL(data.obsDim, data.actDim, cfg, 1);
    fresh.logStd!.assign(tf.tensor1d([3.5, -0.3]));
    fresh.update(bs[0], 0);
    const f = fresh.logStd!.dataSync();
    expect(f[0]).toBe(3.5);
    expect(f[1]).not.toBeCloseTo(-0.3, 6);
    fresh.dispose();
    // Evaluation acts with the tanh mean.
    const o1 = data.obs.subarray(0, data.obsDim);
    expect(Array.from(agent.act(o1, 1, true))).toEqual(Array.from(tf.tidy(() => agent.actor.apply(tf.tensor2d(o1, [1, data.obsDim])).dataSync())));
    const det = new IPL(data.obsDim, data.actDim, { ...cfg, actor: 'deterministic' }, 0);
    expect(det.logStd).toBeNull();
    det.dispose();
    agent.dispose();
    before.dispose();
  });
});
