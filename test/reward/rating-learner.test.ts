/**
 * Rating-based RL: the paper's class probabilities (sum to 1, the class whose interval holds the
 * normalised return wins, neighbours tie on a boundary), the same loss as RewardModel.trainRatings,
 * and the online learner's rounds (one rating = one query, default return range, checkpoints, a source
 * that rates only some segments).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { RewardModel } from '../../reward/reward-model.js';
import { SegmentSampler, segmentReturn, type RewardSegment } from '../../reward/segments.js';
import { rateSegments } from '../../reward/teachers/teacher.js';
import type { RatingLabel } from '../../core/types.js';
import { TeacherRatingSource } from '../../reward/label-source.js';
import { RatingLearner, RbrlConfigSchema, ratingBatch, ratingClassProbs, ratingTeacherFor } from '../../reward/rating-learner.js';
import { randomWalks } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('RbRL class probabilities', () => {
  const bounds = [0, 0.2, 0.7, 1];
  it('sum to 1 and put the most mass on the class whose interval holds the normalised return', () => {
    for (const [rn, cls] of [[0, 0], [0.1, 0], [0.19, 0], [0.21, 1], [0.5, 1], [0.69, 1], [0.71, 2], [0.9, 2], [1, 2]] as const) {
      const q = ratingClassProbs(rn, bounds, 30);
      expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      const best = q.indexOf(Math.max(...q));
      expect(best, `R~ = ${rn}`).toBe(cls);
    }
    // On a boundary the two classes it separates tie (both logits are 0), and beat the third.
    const q = ratingClassProbs(0.2, bounds, 30);
    expect(q[0]).toBeCloseTo(q[1], 12);
    expect(q[2]).toBeLessThan(q[0]);
    // Larger k sharpens: the true class's probability grows.
    expect(ratingClassProbs(0.5, bounds, 100)[1]).toBeGreaterThan(ratingClassProbs(0.5, bounds, 10)[1]);
    expect(() => ratingClassProbs(0.5, [0, 1], 30)).toThrow(/at least 3 boundaries/);
  });

  it('the batch boundaries follow the ratings\' shares: a model ranking segments like the ratings gets them all right', () => {
    // Returns 0..9; ratings 0 x3, 1 x5, 2 x2 in the same order: boundaries halfway between returns 2|3 and 7|8.
    const returns = Array.from({ length: 10 }, (_, i) => i);
    const ratings = [0, 0, 0, 1, 1, 1, 1, 1, 2, 2];
    const { bounds, predicted } = ratingBatch(returns, ratings, 3, 30);
    expect(Array.from(bounds).map((b) => +b.toFixed(4))).toEqual([0, +(2.5 / 9).toFixed(4), +(7.5 / 9).toFixed(4), 1]);
    expect(predicted).toEqual(ratings);
    // Reversed ranking: the loss is much larger.
    expect(ratingBatch([...returns].reverse(), ratings, 3, 30).loss).toBeGreaterThan(5 * ratingBatch(returns, ratings, 3, 30).loss);
  });

  it('RewardModel.trainRatings optimises exactly this loss (its first step reports it at the initial weights)', () => {
    const segs = new SegmentSampler(randomWalks(10, 40, 3), { length: 8 }).sampleMany(40, new Rng(4));
    const ratings = segs.map((_, i) => i % 4);
    const model = new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [16], members: 1, seed: 5 });
    const expected = ratingBatch(model.segmentReturns(segs), ratings, 4, 30).loss;
    const res = model.trainRatings(segs.map((s, i) => ({ segment: s, rating: ratings[i], classes: 4 })), { epochs: 1, batchSize: 40, sharpness: 30 });
    expect(res.steps).toBe(1);
    expect(res.loss).toBeCloseTo(expected, 4);
    model.dispose();
  });
});

describe('RatingLearner (online rounds)', () => {
  it('rates queriesPerRound single segments per round against the budget, trains on all ratings, and checkpoints them', async () => {
    const trajs = randomWalks(6, 30, 6);
    expect(RbrlConfigSchema.parse({})).toEqual({ teacher: 'rating:classes=3', range: 'first-round', maxStepReward: 10, sharpness: 30, standardize: true });
    const cfg = RbrlConfigSchema.parse({ range: 'reward-bound' });
    const { teacher, calibrate } = ratingTeacherFor(cfg, 5, new Rng(7));
    // The authors' fixed range, [0, 10 x H]: returns of 0-16.6 are class 0, 16.7-33.3 class 1, above class 2.
    expect(teacher.spec).toBe('rating:classes=3,lo=0,hi=50');
    expect(calibrate).toBeUndefined();
    const make = () => new RatingLearner(new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [16], members: 2, seed: 8 }), new TeacherRatingSource(teacher),
      { segmentLength: 5, queriesPerRound: 12, maxFeedback: 30, epochs: 2 }, new Rng(9), cfg.sharpness);
    const learner = make();
    const r1 = await learner.feedbackRound(trajs);
    expect(r1).toMatchObject({ round: 1, asked: 12, labelled: 12, totalFeedback: 12 });
    expect(r1!.train!.steps).toBeGreaterThan(0);
    expect(r1!.newLabelAccuracy).toBeGreaterThanOrEqual(0);
    expect(learner.rated.map((r) => r.rating)).toEqual(learner.rated.map((r) => teacher.rate(r.segment)));
    // SAC gets r_hat standardised over the rated segments' steps: mean 0, std 1 there.
    const steps = learner.rated.flatMap((r) => [r.segment]);
    const obs = new Float32Array(steps.length * 5 * 3);
    const act = new Float32Array(steps.length * 5 * 2);
    steps.forEach((sg, i) => {
      obs.set(sg.obs, i * 15);
      act.set(sg.actions, i * 10);
    });
    const z = learner.relabel(obs, act, steps.length * 5);
    const zm = z.reduce((a, b) => a + b, 0) / z.length;
    expect(zm).toBeCloseTo(0, 4);
    expect(Math.sqrt(z.reduce((a, b) => a + (b - zm) ** 2, 0) / z.length)).toBeCloseTo(1, 3);
    expect(learner.scale).not.toBe(1);
    await learner.feedbackRound(trajs);
    const r3 = await learner.feedbackRound(trajs); // clipped to the 6 left
    expect(r3).toMatchObject({ round: 3, asked: 6, totalFeedback: 30 });
    expect(learner.budgetLeft).toBe(0);
    expect(await learner.feedbackRound(trajs)).toBeNull();
    expect(learner.rated.length).toBe(30);
    // A checkpoint restores the ratings and the model.
    const state = JSON.parse(JSON.stringify(await learner.getState()));
    const back = make();
    await back.setState(state);
    expect(back.rated.map((r) => [r.segment.id, r.rating])).toEqual(learner.rated.map((r) => [r.segment.id, r.rating]));
    expect(back.budgetLeft).toBe(0);
    const segs = learner.rated.map((r) => r.segment);
    expect(Array.from(back.model.segmentReturns(segs))).toEqual(Array.from(learner.model.segmentReturns(segs)));
    expect([back.shift, back.scale]).toEqual([learner.shift, learner.scale]);
    const noRated = { ...state };
    delete noRated.rated;
    await expect(back.setState(noRated)).rejects.toThrow(/no "rated"/);
    learner.model.dispose();
    back.model.dispose();
  });

  it("range 'first-round' fits the teacher to the first round's segments, then keeps that range", async () => {
    const trajs = randomWalks(6, 30, 10);
    const { teacher, calibrate } = ratingTeacherFor(RbrlConfigSchema.parse({}), 5, new Rng(11));
    expect(teacher.spec).toBe('rating:classes=3');
    const model = new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [8], members: 1, seed: 12 });
    const learner = new RatingLearner(model, new TeacherRatingSource(teacher), { segmentLength: 5, queriesPerRound: 20, maxFeedback: 40, epochs: 1 }, new Rng(13), 30, calibrate);
    await learner.feedbackRound(trajs);
    const first = learner.rated.map((r) => segmentReturn(r.segment));
    const lo = Math.min(...first);
    const hi = Math.max(...first);
    expect(teacher.spec).toBe(`rating:classes=3,lo=${lo},hi=${hi}`);
    // All three classes are used in the calibrating round (lowest and highest segment at the ends).
    expect(new Set(learner.rated.map((r) => r.rating))).toEqual(new Set([0, 1, 2]));
    await learner.feedbackRound(trajs);
    expect(teacher.spec).toBe(`rating:classes=3,lo=${lo},hi=${hi}`);
    model.dispose();
  });

  it('trains on the ratings a source gave when it skipped some (a person), counts every asked segment against the budget, and refuses ratings it did not ask for', async () => {
    const trajs = randomWalks(6, 30, 14);
    const teacher = ratingTeacherFor(RbrlConfigSchema.parse({ teacher: 'rating:classes=3,lo=0,hi=5' }), 5, new Rng(0)).teacher;
    let answer: (segs: readonly RewardSegment[]) => RatingLabel[] = (segs) => rateSegments(teacher, segs.filter((_, i) => i % 3 === 0));
    let asked: readonly RewardSegment[] = [];
    const source = { name: 'partial', rate: async (segs: readonly RewardSegment[]) => answer((asked = segs)) };
    const model = new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [8], members: 1, seed: 15 });
    const learner = new RatingLearner(model, source, { segmentLength: 5, queriesPerRound: 9, maxFeedback: 40, epochs: 1 }, new Rng(16));
    const r1 = await learner.feedbackRound(trajs);
    expect(r1).toMatchObject({ asked: 9, labelled: 3, skipped: 6, totalFeedback: 9, labelledFeedback: 3 });
    expect(r1!.train!.steps).toBeGreaterThan(0);
    expect(Number.isFinite(r1!.newLabelAccuracy)).toBe(true);
    expect(learner.rated.map((r) => r.rating)).toEqual(learner.rated.map((r) => teacher.rate(r.segment)));
    // Answers out of order are put back in segment order.
    answer = (segs) => rateSegments(teacher, [segs[4], segs[1]]);
    await learner.feedbackRound(trajs);
    expect(learner.rated.slice(3).map((r) => r.segment.id)).toEqual([asked[1].id, asked[4].id]);
    expect(learner.totalFeedback).toBe(18);
    // One rating in a round (and two in all would be the first to train on): nothing to score, no crash.
    answer = (segs) => rateSegments(teacher, segs.slice(0, 1));
    expect((await learner.feedbackRound(trajs))!.newLabelAccuracy).toBeNaN();
    answer = (segs) => [...rateSegments(teacher, segs.slice(0, 1)), { segment: 'elsewhere:0:5', rating: 0, classes: 3, teacher: 'x' }];
    await expect(learner.feedbackRound(trajs)).rejects.toThrow(/answer 1 rates segment elsewhere:0:5, which was not asked/);
    answer = (segs) => rateSegments(teacher, [segs[0], segs[0]]);
    await expect(learner.feedbackRound(trajs)).rejects.toThrow(/rates segment .* again \(asked 1 time/);
    model.dispose();

    // A round whose one answer is the only rating so far: no training yet, and no crash.
    const fresh = new RatingLearner(new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [8], members: 1, seed: 17 }), source,
      { segmentLength: 5, queriesPerRound: 4, maxFeedback: 8, epochs: 1 }, new Rng(18));
    answer = (segs) => rateSegments(teacher, segs.slice(2, 3));
    expect(await fresh.feedbackRound(trajs)).toMatchObject({ asked: 4, labelled: 1, train: null, totalFeedback: 4, labelledFeedback: 1 });
    fresh.model.dispose();
  });

  it('refuses a bad rating teacher spec by name, and SURF settings', () => {
    expect(() => RbrlConfigSchema.parse({ teacher: 'oracle' })).toThrow(/rating teacher spec/);
    expect(() => RbrlConfigSchema.parse({ sharpness: 0 })).toThrow();
    const model = new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [8], seed: 1 });
    const { teacher } = ratingTeacherFor(RbrlConfigSchema.parse({}), 5, new Rng(0));
    expect(() => new RatingLearner(model, new TeacherRatingSource(teacher), { queriesPerRound: 2, maxFeedback: 4, surf: {} }, new Rng(0))).toThrow(/SURF/);
    model.dispose();
  });
});
