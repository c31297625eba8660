/**
 * Relative skip/equal thresholds across feedback rounds: B-Pref's code (frac x margin in round 1,
 * frac^2 x margin after: train_PEBBLE.py passes margin * eps to set_teacher_thres_*, which multiplies
 * by eps again) by default, the paper's frac x margin every round as an option.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/backend.js';
import { Rng } from '../../../core/rng.js';
import { PreferenceLearner } from '../../../reward/feedback.js';
import { TeacherLabelSource } from '../../../reward/label-source.js';
import { RewardModel } from '../../../reward/reward-model.js';
import { parseRewardConfig } from '../../../reward/config.js';
import { fracTwiceInRound, parseTeacher, type SimTeacher } from '../../../reward/teachers/index.js';
import { randomWalks, segmentWithReturn } from '../helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('relative skip/equal thresholds', () => {
  it('apply frac once, or twice when told (B-Pref code after round 1), to skip and equal alike', () => {
    const t = parseTeacher('skip:frac=0.5+equal:frac=0.2', new Rng(0));
    const margin = 8;
    t.setReturnMargin(margin);
    expect(t.thresholdValue(t.config.skip!, 'skip')).toBeCloseTo(4, 12);
    expect(t.thresholdValue(t.config.equal!, 'equal')).toBeCloseTo(1.6, 12);
    // Skip at 4: a pair whose better return is 3 is declined; at 2 (0.25 x 8) it is answered.
    expect(t.label(segmentWithReturn(3), segmentWithReturn(1))).toBeNull();
    t.setReturnMargin(margin, { fracTwice: true });
    expect(t.thresholdValue(t.config.skip!, 'skip')).toBeCloseTo(2, 12);
    expect(t.thresholdValue(t.config.equal!, 'equal')).toBeCloseTo(0.32, 12);
    expect(t.label(segmentWithReturn(3), segmentWithReturn(1))).toBe(1);
    // Returns 5 and 4.5 differ by more than the equal threshold 0.32: a hard label; by less than 1.6: 0.5.
    expect(t.label(segmentWithReturn(5), segmentWithReturn(4.5))).toBe(1);
    t.setReturnMargin(margin);
    expect(t.label(segmentWithReturn(5), segmentWithReturn(4.5))).toBe(0.5);
    // Absolute thresholds ignore the rule.
    const abs = parseTeacher('skip:thresh=4', new Rng(0));
    abs.setReturnMargin(margin, { fracTwice: true });
    expect(abs.thresholdValue(abs.config.skip!, 'skip')).toBe(4);
  });

  it('the rule decides per round; the default is B-Pref code; a bad name is refused', () => {
    expect([0, 1, 2].map((r) => fracTwiceInRound('bpref-code', r))).toEqual([false, true, true]);
    expect([0, 1, 2].map((r) => fracTwiceInRound('paper', r))).toEqual([false, false, false]);
    expect(parseRewardConfig({}).feedback.thresholdRule).toBe('bpref-code');
    expect(parseRewardConfig({ feedback: { thresholdRule: 'paper' } }).feedback.thresholdRule).toBe('paper');
    expect(() => parseRewardConfig({ feedback: { thresholdRule: 'code' } })).toThrow(/feedback\.thresholdRule/);
    expect(() => fracTwiceInRound('code' as never, 1)).toThrow(/thresholdRule must be one of bpref-code, paper/);
  });

  for (const [rule, second] of [['bpref-code', 0.01 * 30], ['paper', 0.1 * 30]] as const) {
    it(`feedback rounds under '${rule}': 0.1 x margin in round 1, ${second / 30} x margin in round 2`, async () => {
      const trajs = randomWalks(10, 40, 6);
      const model = new RewardModel({ obsDim: 3, actDim: 2, hiddenDims: [8], seed: 1 });
      const teacher = parseTeacher('skip', new Rng(8)) as SimTeacher;
      const learner = new PreferenceLearner(model, new TeacherLabelSource(teacher), {
        segmentLength: 10, queriesPerRound: 10, maxFeedback: 40, strategy: 'uniform', epochs: 1, thresholdRule: rule,
      }, new Rng(9));
      await learner.feedbackRound(trajs, { returnMargin: 30 });
      expect(teacher.thresholdValue(teacher.config.skip!, 'skip')).toBeCloseTo(3, 12);
      await learner.feedbackRound(trajs, { returnMargin: 30 });
      expect(teacher.thresholdValue(teacher.config.skip!, 'skip')).toBeCloseTo(second, 12);
      // A checkpoint keeps it.
      const again = parseTeacher('skip', new Rng(8)) as SimTeacher;
      again.setState(JSON.parse(JSON.stringify(teacher.getState())));
      expect(again.thresholdValue(again.config.skip!, 'skip')).toBeCloseTo(second, 12);
      model.dispose();
    });
  }
});
