/**
 * Preference IQL ("P-IQL", reference/pbrl.md §4.1): a Markovian reward r_psi(s, a) is fitted to the
 * dataset's labels with the Bradley-Terry loss on segment sums during the first rewardSteps updates
 * (then frozen), and IQL trains on its predictions from step 0:
 *   V:  expectile regression of min_i Q_target_i(s, a) - V(s)
 *   pi: AWR with weights min(exp((Q_target - V) / beta), 100), V from before this step's V update
 *   Q:  mean over both heads of (r_psi(s, a) + gamma V(s') - Q_i(s, a))^2, V(s') after the V update
 * in that order, as the CPL repository's piql.py. As there, the TD losses use each segment's first
 * H - 1 steps (the reference stores H observations per segment, so its last step is only an s'); the
 * reward model sums all H. finalTransition: true also uses the last step, with the s_H pbrl stores.
 * Defaults are the CPL repository's P-IQL (Meta-World, state): expectile 0.7, beta 1/3, discount 0.99,
 * tau 0.005, Adam 3e-4 with the actor on a 500k-step cosine schedule, 512 x 512 nets, one reward
 * network trained for 50k steps.
 *
 * The actor trains with dropout 0.25 as the reference's. Departure: the reward model is a single MLP here rather than
 * reward/RewardModel, because exact resume needs its optimizer moments and RewardModel does not save them.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { MLP } from '../../core/nn/mlp.js';
import { Adam, adam, optimizerStep } from '../../core/nn/optim.js';
import { Rng } from '../../core/rng.js';
import { bradleyTerryLoss, pairAccuracy, parseConfig } from './common.js';
import type { PairBatch } from './data.js';
import { ValueLearner, valueLearnerFields, type TdRows } from './value-learning.js';

export const IqlConfigSchema = z
  .object({
    ...valueLearnerFields,
    hiddenDims: valueLearnerFields.hiddenDims.default([512, 512]),
    expectile: valueLearnerFields.expectile.default(0.7),
    dropout: valueLearnerFields.dropout.default(0.25),
    /** The CPL repo's P-IQL actor: ContinuousMLPActor, deterministic tanh. */
    actor: valueLearnerFields.actor.default('deterministic'),
    actorCosineSteps: valueLearnerFields.actorCosineSteps.default(500_000),
    rewardHiddenDims: z.array(z.number().int().positive()).min(1).default([512, 512]),
    rewardLr: z.number().positive().default(3e-4),
    /** Updates during which the reward model trains; afterwards it is frozen (CPL configs: 50k). */
    rewardSteps: z.number().int().nonnegative().default(50_000),
  })
  .strict();

export type IqlConfig = z.infer<typeof IqlConfigSchema>;

export class IQL extends ValueLearner {
  readonly name: string = 'iql';
  readonly config: IqlConfig;
  readonly reward: MLP;
  protected rewardOpt: Adam;
  protected override readonly actorBeforeCritic = true;

  constructor(obsDim: number, actDim: number, config: Partial<IqlConfig> = {}, seed = 0) {
    const c = parseConfig(IqlConfigSchema, config, 'IQL');
    super(obsDim, actDim, c, seed);
    this.config = c;
    this.reward = new MLP({ inputDim: obsDim + actDim, hiddenDims: c.rewardHiddenDims, outputDim: 1, init: 'orthogonal', seed: new Rng(seed).split('reward'), name: 'reward' });
    this.rewardOpt = adam(c.rewardLr);
  }

  /** Learned reward of n transitions (row-major obs and actions). */
  predictReward(obs: Float32Array, actions: Float32Array, n: number): Float32Array {
    return tf.tidy(() => {
      const sa = tf.concat([tf.tensor2d(obs, [n, this.obsDim]), tf.tensor2d(actions, [n, this.actDim])], 1);
      return this.reward.apply(sa).dataSync() as Float32Array;
    });
  }

  protected override beforeUpdate(batch: PairBatch, step: number): Record<string, number> {
    if (step >= this.config.rewardSteps) return {};
    const { pairs: P, segmentLength: L, size: B } = batch;
    const m: Record<string, number> = {};
    tf.tidy(() => {
      const sa = tf.concat([tf.tensor2d(batch.obs, [B, this.obsDim]), tf.tensor2d(batch.actions, [B, this.actDim])], 1);
      const labels = tf.tensor1d(batch.labels);
      let acc: tf.Tensor | null = null;
      m.reward_loss = optimizerStep(this.rewardOpt, () => {
        const ret = tf.sum(tf.reshape(this.reward.apply(sa), [P, 2, L]), 2);
        const [ra, rb] = tf.split(ret, 2, 1).map((t) => tf.reshape(t, [P]));
        acc = tf.keep(pairAccuracy(ra, rb, labels));
        return bradleyTerryLoss(ra, rb, labels);
      }, this.reward.variables, { name: 'P-IQL reward model loss' });
      const a = acc as tf.Tensor | null;
      if (a) {
        m.reward_accuracy = a.dataSync()[0];
        a.dispose();
      }
    });
    return m;
  }

  /** The reward the critic regresses onto, for B transitions (rbrl-iql standardises it). */
  protected criticReward(sa: tf.Tensor2D, B: number): tf.Tensor1D {
    return tf.reshape(this.reward.apply(sa, { paramGrad: false }), [B]) as tf.Tensor1D;
  }

  protected criticStep(_batch: PairBatch, td: TdRows, sa: tf.Tensor2D, nextV: tf.Tensor1D): Record<string, number> {
    const B = td.size;
    const r = this.criticReward(sa, B);
    const target = tf.add(r, tf.mul(this.config.discount, nextV));
    const loss = optimizerStep(this.criticOpt, () => {
      const q = tf.reshape(this.critic.apply(sa), [2, B]);
      // Mean over both heads and all transitions, as the CPL repo's P-IQL (mse_loss(...).mean()).
      return tf.mean(tf.squaredDifference(q, target)) as tf.Scalar;
    }, this.critic.variables, { name: 'P-IQL critic loss' });
    return { critic_loss: loss, mean_reward: tf.mean(r).dataSync()[0] };
  }

  protected override extraState(): { networks: Record<string, MLP>; optimizers: Record<string, Adam> } {
    return { networks: { reward: this.reward }, optimizers: { reward: this.rewardOpt } };
  }
}
