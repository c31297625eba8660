/**
 * QPA's distinctive parts: the query pool comes only from the last N episodes, and hybrid replay
 * redraws hybridRatio of each batch from the newest transitions while label budget remains.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import type { Trajectory } from '../../core/types.js';
import { SAC } from '../../agents/sac.js';
import { Pebble } from '../../agents/pebble.js';
import { Qpa, QpaConfigSchema } from '../../agents/qpa.js';
import { allocBatch, ReplayBuffer } from '../../agents/replay-buffer.js';
import { PreferenceLearner, RewardModel, TeacherLabelSource, parseTeacher, type LabelSource, type SegmentPair } from '../../reward/index.js';
import { parseTrainConfig } from '../../experiments/train-config.js';

beforeAll(async () => {
  await initBackend();
});

const OBS = 39;
const ACT = 4;
const T = 20;

/** An episode whose observations all carry its episode number in obs[0]. */
function episode(id: number, rng: Rng): Trajectory {
  const obs = rng.fillUniform(new Float32Array((T + 1) * OBS), -1, 1) as Float32Array;
  for (let t = 0; t <= T; t++) obs[t * OBS] = id;
  return {
    task: 'reach', seed: id, obsDim: OBS, actDim: ACT, length: T, obs,
    actions: rng.fillUniform(new Float32Array(T * ACT), -1, 1) as Float32Array,
    rewards: rng.fillUniform(new Float32Array(T), 0, 10) as Float32Array,
    success: new Uint8Array(T), terminated: false, truncated: true,
  };
}

function build(opts: { queryEpisodes: number; hybridRatio: number; maxFeedback: number }) {
  const agent = new SAC(OBS, ACT, { hiddenDims: [8] }, 0);
  const model = new RewardModel({ obsDim: OBS, actDim: ACT, hiddenDims: [8], members: 1, seed: 1 });
  const asked: SegmentPair[] = [];
  const oracle = new TeacherLabelSource(parseTeacher('oracle', new Rng(2)));
  const spy: LabelSource = {
    name: 'spy',
    label: async (pairs) => {
      asked.push(...pairs);
      return oracle.label(pairs);
    },
  };
  const learner = new PreferenceLearner(model, spy, { segmentLength: 5, queriesPerRound: 30, maxFeedback: opts.maxFeedback, strategy: 'uniform', epochs: 1 }, new Rng(3));
  const pebble = new Pebble(agent, learner, { unsupSteps: 0, numInteract: 100, resetUpdates: 0, recentEpisodes: opts.queryEpisodes, diagPairs: 0 }, {
    seedSteps: 0, maxEpisodeSteps: T, batchSize: 16, seed: 4, segmentLength: 5,
  });
  const qpa = new Qpa(pebble, { queryEpisodes: opts.queryEpisodes, hybridRatio: opts.hybridRatio }, 5);
  return { agent, model, qpa, pebble, asked };
}

/** A buffer holding the episodes' transitions in order, obs[0] = episode id. */
function bufferOf(eps: Trajectory[]): ReplayBuffer {
  const buf = new ReplayBuffer(10_000, OBS, ACT);
  for (const e of eps) {
    for (let t = 0; t < T; t++) {
      buf.add(e.obs.subarray(t * OBS, (t + 1) * OBS), e.actions.subarray(t * ACT, (t + 1) * ACT), e.rewards[t], e.obs.subarray((t + 1) * OBS, (t + 2) * OBS), false);
    }
  }
  return buf;
}

describe('QPA policy-aligned queries', () => {
  it('draws every query segment from the last queryEpisodes episodes only, round after round', async () => {
    const N = 4;
    const { agent, model, qpa, asked } = build({ queryEpisodes: N, hybridRatio: 0.5, maxFeedback: 1000 });
    const hooks = qpa.hooks();
    const rng = new Rng(6);
    const eps: Trajectory[] = [];
    for (let i = 0; i < 30; i++) {
      eps.push(episode(i, rng));
      hooks.onEpisodeEnd(eps[i], i);
    }
    const buffer = bufferOf(eps);
    await hooks.afterStep({ step: 30 * T, buffer });
    expect(asked.length).toBe(30);
    const fromIds = (pairs: SegmentPair[]) => new Set(pairs.flatMap(([a, b]) => [a.obs[0], b.obs[0]]));
    expect([...fromIds(asked)].sort((x, y) => x - y)).toEqual([26, 27, 28, 29]);
    // Five more episodes, the next round: only 31..34.
    for (let i = 30; i < 35; i++) {
      eps.push(episode(i, rng));
      hooks.onEpisodeEnd(eps[i], i);
    }
    await hooks.afterStep({ step: 30 * T + 100, buffer: bufferOf(eps) });
    expect(asked.length).toBe(60);
    expect([...fromIds(asked.slice(30))].sort((x, y) => x - y)).toEqual([31, 32, 33, 34]);
    agent.dispose();
    model.dispose();
  });

  it('defaults follow the authors\' train_QPA.yaml, qpa asks uniform queries unless told otherwise, and bad values are named', () => {
    expect(QpaConfigSchema.parse({})).toEqual({ queryEpisodes: 10, hybridRatio: 0.5 });
    const cfg = parseTrainConfig({ algo: 'qpa', task: 'reach' });
    expect(cfg.qpa).toEqual({ queryEpisodes: 10, hybridRatio: 0.5 });
    expect(cfg.reward.feedback.strategy).toBe('uniform');
    expect(parseTrainConfig({ algo: 'qpa', task: 'reach', reward: { feedback: { strategy: 'entropy' } } }).reward.feedback.strategy).toBe('entropy');
    // Other algos' resolved configs are unchanged (no qpa section, PEBBLE's strategy).
    const p = parseTrainConfig({ algo: 'pebble', task: 'reach' });
    expect('qpa' in p).toBe(false);
    expect(p.reward.feedback.strategy).toBe('disagreement');
    expect(() => parseTrainConfig({ algo: 'qpa', task: 'reach', qpa: { hybridRatio: 1.5 } })).toThrow(/qpa\.hybridRatio/);
    expect(() => parseTrainConfig({ algo: 'qpa', task: 'reach', qpa: { queryEpisodes: 0 } })).toThrow(/qpa\.queryEpisodes/);
  });
});

describe('QPA hybrid experience replay', () => {
  it('replaces hybridRatio of each batch with transitions of the recent episodes while budget remains, none after', async () => {
    const N = 3;
    const { agent, model, qpa, pebble } = build({ queryEpisodes: N, hybridRatio: 0.5, maxFeedback: 60 });
    const hooks = qpa.hooks();
    const rng = new Rng(7);
    const eps: Trajectory[] = [];
    for (let i = 0; i < 20; i++) {
      eps.push(episode(i, rng));
      hooks.onEpisodeEnd(eps[i], i);
    }
    const buffer = bufferOf(eps);
    const step = 20 * T;
    await hooks.afterStep({ step, buffer }); // first round: 30 of the 60 labels
    expect(pebble.learner.budgetLeft).toBe(30);
    expect(qpa.recentWindow(step)).toBe(N * T);
    // Half a batch of 64 from episodes 17-19; the rest still the uniform draw.
    const batch = buffer.sample(new Rng(8), allocBatch(64, OBS, ACT));
    const before = Float32Array.from(batch.obs);
    hooks.beforeUpdate(batch, { step: step + 1, buffer });
    const ids = (b: typeof batch, from: number, to: number) => Array.from({ length: to - from }, (_, i) => b.obs[(from + i) * OBS]);
    const recent = ids(batch, 0, 32);
    expect(recent.every((id) => id >= 17)).toBe(true);
    expect(new Set(recent).size).toBe(3);
    expect(Array.from(batch.obs.subarray(32 * OBS))).toEqual(Array.from(before.subarray(32 * OBS)));
    // The uniform half reaches old episodes (with 32 draws of 20 episodes, all from the last 3 has odds ~1e-26).
    expect(ids(batch, 32, 64).some((id) => id < 17)).toBe(true);
    // Spend the budget: plain uniform replay afterwards.
    await hooks.afterStep({ step: step + 100, buffer });
    expect(pebble.learner.budgetLeft).toBe(0);
    const b2 = buffer.sample(new Rng(9), allocBatch(64, OBS, ACT));
    const copy = Float32Array.from(b2.obs);
    hooks.beforeUpdate(b2, { step: step + 101, buffer });
    expect(Array.from(b2.obs)).toEqual(Array.from(copy));
    agent.dispose();
    model.dispose();
  });

  it('sampleRecent draws only from the newest window, also after the ring wrapped', () => {
    const buf = new ReplayBuffer(10, 1, 1);
    for (let i = 0; i < 23; i++) buf.add([i], [i], i, [i], false);
    const batch = allocBatch(200, 1, 1);
    buf.sampleRecent(new Rng(10), batch, 50, 100, 4);
    const got = new Set(Array.from(batch.rewards.subarray(50, 150)));
    expect([...got].sort((a, b) => a - b)).toEqual([19, 20, 21, 22]);
    expect(Array.from(batch.rewards.subarray(0, 50)).every((r) => r === 0)).toBe(true);
    expect(() => buf.sampleRecent(new Rng(0), batch, 150, 100, 4)).toThrow(/do not fit a batch of 200/);
    expect(() => buf.sampleRecent(new Rng(0), batch, 0, 1, 0)).toThrow(/window must be an integer >= 1/);
  });
});
