import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { PreferenceLearner } from '../../reward/feedback.js';
import { TeacherLabelSource } from '../../reward/label-source.js';
import { LabelQueue } from '../../reward/label-queue.js';
import { RewardModel } from '../../reward/reward-model.js';
import { SegmentSampler } from '../../reward/segments.js';
import { oracleTeacher, parseTeacher } from '../../reward/teachers/index.js';
import { randomWalks } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

const small = { obsDim: 3, actDim: 2, hiddenDims: [32, 32], lr: 3e-3, batchSize: 32 };

describe('feedback rounds', () => {
  it('asks, labels, trains and relabels until the budget is spent', async () => {
    const trajs = randomWalks(20, 60, 1);
    const model = new RewardModel({ ...small, seed: 2 });
    const learner = new PreferenceLearner(model, new TeacherLabelSource(oracleTeacher()), {
      segmentLength: 10, queriesPerRound: 40, maxFeedback: 100, strategy: 'disagreement', epochs: 15,
    }, new Rng(3));
    const rounds = [];
    for (let r = 0; r < 4; r++) rounds.push(await learner.feedbackRound(trajs, { trajectoryIds: trajs.map((_, i) => `ep${i}`) }));
    expect(rounds.map((r) => r?.asked ?? null)).toEqual([40, 40, 20, null]); // the last round is clipped to the budget
    expect(learner.totalFeedback).toBe(100);
    expect(learner.dataset.size).toBe(100);
    expect(learner.dataset.pairs[0].a.id).toMatch(/^walk:ep\d+:\d+:10$/);
    const test = new SegmentSampler(randomWalks(10, 60, 4), { length: 10 }).samplePairs(200, new Rng(5))
      .map(([a, b]) => ({ a, b, label: oracleTeacher().label(a, b) as 0 | 1 }));
    const acc = model.evaluate(test).accuracy;
    console.log(`feedback rounds: held-out accuracy ${acc.toFixed(3)} after ${learner.totalFeedback} oracle queries`);
    expect(acc).toBeGreaterThanOrEqual(0.85);
    const t = trajs[0];
    const relabelled = learner.relabel(t.obs, t.actions, t.length);
    expect(relabelled).toEqual(model.predictReward(t.obs, t.actions, t.length));
    model.dispose();
  });

  it("reports the model's accuracy on each round's new labels before it trains on them", async () => {
    const trajs = randomWalks(20, 60, 21);
    const model = new RewardModel({ ...small, seed: 22 });
    const learner = new PreferenceLearner(model, new TeacherLabelSource(oracleTeacher()), {
      segmentLength: 10, queriesPerRound: 40, maxFeedback: 120, strategy: 'uniform', epochs: 10,
    }, new Rng(23));
    await learner.feedbackRound(trajs);
    for (let r = 0; r < 2; r++) {
      // The model as it is before the round, and the pairs the round adds.
      const before = RewardModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      const n0 = learner.dataset.size;
      const res = (await learner.feedbackRound(trajs))!;
      const fresh = learner.dataset.pairs.slice(n0);
      expect(fresh.length).toBe(40);
      // Ensemble-mean return from per-step predictions (independent of the model's pair evaluation).
      const ret = (seg: (typeof fresh)[number]['a']) => before.predictReward(seg.obs.subarray(0, seg.length * seg.obsDim), seg.actions, seg.length).reduce((a, b) => a + b, 0);
      let right = 0;
      for (const p of fresh) if ((ret(p.a) > ret(p.b)) === (p.label === 1)) right++;
      expect(res.newLabelAccuracy).toBeCloseTo(right / fresh.length, 12);
      before.dispose();
    }
    model.dispose();
  });

  it('counts skipped queries toward the budget, not the labelled set (B-Pref accounting)', async () => {
    const trajs = randomWalks(10, 40, 6);
    const model = new RewardModel({ ...small, seed: 7 });
    const teacher = parseTeacher('skip+stoc:beta=1', new Rng(8));
    const learner = new PreferenceLearner(model, new TeacherLabelSource(teacher), {
      segmentLength: 10, queriesPerRound: 30, maxFeedback: 60, strategy: 'uniform', epochs: 2,
    }, new Rng(9));
    // Relative skip threshold = 0.1 x margin; a margin of 30 skips pairs whose larger return is <= 3.
    const r = (await learner.feedbackRound(trajs, { returnMargin: 30 }))!;
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.labelled + r.skipped).toBe(30);
    expect(learner.totalFeedback).toBe(30);
    expect(learner.labelledFeedback).toBe(learner.dataset.size);
    model.dispose();
  });

  it('runs SURF rounds on longer stored segments, teachers judging the central H', async () => {
    const trajs = randomWalks(10, 60, 10);
    const model = new RewardModel({ ...small, seed: 11 });
    const learner = new PreferenceLearner(model, new TeacherLabelSource(oracleTeacher()), {
      segmentLength: 10, queriesPerRound: 20, maxFeedback: 40, strategy: 'entropy',
      surf: { window: 2, cropRange: 2, mu: 2, invLabelRatio: 5, epochs: 2 },
    }, new Rng(12));
    await learner.feedbackRound(trajs);
    const r = (await learner.feedbackRound(trajs))!;
    expect(learner.dataset.segmentLength).toBe(14);
    expect(learner.unlabelled.length).toBe(200);
    expect(r.train && 'pseudoLabelRate' in r.train).toBe(true);
    model.dispose();
  });

  it.each(['kcenter', 'kcenter-disagreement', 'kcenter-entropy'])('runs %s rounds with the labelled pairs as coverage', async (strategy) => {
    const trajs = randomWalks(8, 40, 17);
    const model = new RewardModel({ ...small, seed: 18 });
    const learner = new PreferenceLearner(model, new TeacherLabelSource(oracleTeacher()), {
      segmentLength: 10, queriesPerRound: 8, maxFeedback: 24, strategy, epochs: 1,
    }, new Rng(19));
    for (let r = 0; r < 3; r++) expect((await learner.feedbackRound(trajs))!.asked).toBe(8);
    const ids = learner.dataset.pairs.map((p) => `${p.a.id}|${p.b.id}`);
    expect(new Set(ids).size).toBe(24); // k-center never re-asks a labelled pair (distance 0)
    model.dispose();
  });

  it('waits for a person: a round resolves when the labeling page has answered every query', async () => {
    const trajs = randomWalks(5, 40, 14);
    const model = new RewardModel({ ...small, seed: 15 });
    const queue = new LabelQueue();
    const learner = new PreferenceLearner(model, queue, { segmentLength: 10, queriesPerRound: 6, maxFeedback: 6, strategy: 'uniform', epochs: 1 }, new Rng(16));
    const round = learner.feedbackRound(trajs);
    await new Promise((r) => setTimeout(r, 10));
    const oracle = oracleTeacher();
    const asked = queue.pending();
    expect(asked.length).toBe(6);
    asked.forEach(({ a, b }, i) => (i === 0 ? queue.skip(a.id, b.id, 'carol') : queue.answer(a.id, b.id, oracle.label(a, b), 'carol')));
    const r = (await round)!;
    expect(r).toMatchObject({ asked: 6, labelled: 5, skipped: 1 });
    model.dispose();
  });

  it('rejects a bad configuration', () => {
    const model = new RewardModel({ ...small, seed: 13 });
    const src = new TeacherLabelSource(oracleTeacher());
    expect(() => new PreferenceLearner(model, src, { queriesPerRound: 0, maxFeedback: 10 }, new Rng(0))).toThrow(/queriesPerRound must be an integer >= 1/);
    expect(() => new PreferenceLearner(model, src, { queriesPerRound: 5, maxFeedback: -1 }, new Rng(0))).toThrow(/maxFeedback must be an integer >= 0/);
    model.dispose();
  });
});
