/**
 * Rating-based RL offline ("rbrl-iql"): P-IQL (iql.ts) with its reward model fitted to ratings of single
 * segments instead of pairwise preferences. The loss is White et al.'s multi-class rating model
 * (reward/reward-model.ts ratingCrossEntropy: per batch the segments' predicted returns are min-max
 * normalised, class boundaries follow the batch's rating shares, class logits -k (R~ - b_i)(R~ - b_{i+1})),
 * trained for rewardSteps updates and then frozen, as P-IQL's Bradley-Terry model; IQL trains on it
 * from step 0 in P-IQL's update order.
 *
 * Batches are 2P rated segments drawn uniformly (RatedSegmentSampler), so a batch of P "pairs" holds
 * as many segments as P-IQL's and both learners see the same number of transitions per update.
 *
 * Departures (the paper is online only, with PPO; this offline form is pbrl's): the rating loss leaves
 * r_psi's scale and offset free, so the critic's reward is r_psi standardised over the batch's TD rows
 * (mean 0, std 1 per update) where the online learner (reward/rating-learner.ts) standardises over the
 * rated segments after each round; the policy learner is IQL, not PPO.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { optimizerStep } from '../../core/nn/optim.js';
import { ratingCrossEntropy } from '../../reward/reward-model.js';
import { parseConfig } from './common.js';
import { RatedSegmentSampler, type PairBatch, type PreferenceData } from './data.js';
import { IQL, IqlConfigSchema } from './iql.js';

export const RbrlIqlConfigSchema = IqlConfigSchema.extend({
  /** Sharpness k of the class probabilities (the RbRL authors' code: 30). */
  sharpness: z.number().positive().finite().default(30),
}).strict();

export type RbrlIqlConfig = z.infer<typeof RbrlIqlConfigSchema>;

export class RbrlIQL extends IQL {
  override readonly name = 'rbrl-iql';
  readonly sharpness: number;

  constructor(obsDim: number, actDim: number, config: Partial<RbrlIqlConfig> = {}, seed = 0) {
    const { sharpness, ...iql } = parseConfig(RbrlIqlConfigSchema, config, 'rbrl-iql');
    super(obsDim, actDim, iql, seed);
    this.sharpness = sharpness;
  }

  makeSampler(data: PreferenceData): RatedSegmentSampler {
    return new RatedSegmentSampler(data);
  }

  protected override beforeUpdate(batch: PairBatch, step: number): Record<string, number> {
    if (step >= this.config.rewardSteps) return {};
    const { ratings, ratingClasses: classes } = batch;
    if (!ratings || classes === undefined) throw new Error('rbrl-iql needs batches of rated segments (its own makeSampler; a dataset made with --rating-teacher)');
    const { segmentLength: L, size: n } = batch;
    const S = ratings.length;
    const m: Record<string, number> = {};
    tf.tidy(() => {
      const sa = tf.concat([tf.tensor2d(batch.obs, [n, this.obsDim]), tf.tensor2d(batch.actions, [n, this.actDim])], 1);
      let predicted: Int32Array | null = null;
      m.reward_loss = optimizerStep(this.rewardOpt, () => {
        const ret = tf.reshape(tf.sum(tf.reshape(this.reward.apply(sa), [S, L]), 1), [1, S]) as tf.Tensor2D;
        const r = ratingCrossEntropy(ret, ratings, classes, this.sharpness);
        predicted = r.predicted;
        return r.loss;
      }, this.reward.variables, { name: 'rbrl-iql rating loss' });
      const pred = predicted as Int32Array | null;
      if (pred) m.reward_accuracy = pred.reduce((c, p, i) => c + (p === ratings[i] ? 1 : 0), 0) / S;
    });
    return m;
  }

  protected override criticReward(sa: tf.Tensor2D, B: number): tf.Tensor1D {
    const r = super.criticReward(sa, B);
    const { mean, variance } = tf.moments(r);
    return tf.div(tf.sub(r, mean), tf.add(tf.sqrt(variance), 1e-6)) as tf.Tensor1D;
  }
}
