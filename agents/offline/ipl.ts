/**
 * Inverse Preference Learning (Hejna & Sadigh, NeurIPS 2023; reference/pbrl.md §4.3), IQL variant:
 * no reward network. The Q heads define an implicit reward through the inverse Bellman operator,
 *   r_Q(s, a) = Q(s, a) - gamma V(s')      (V(s') from the value net, no gradient),
 * and are trained directly on the preferences, per head,
 *   L_Q = BCE(sum_t r_Q(B) - sum_t r_Q(A), label) + chi2Coeff * mean(r_Q^2),
 * the second term the chi^2 regulariser that keeps the implicit reward small. V and the actor are
 * IQL's (value-learning.ts). Defaults: the IPL repository's Meta-World config: expectile 0.75,
 * beta 1/3, chi2 coefficient 3, no target clipping, Adam 3e-4, 3 x 256 nets, 16 pairs per batch.
 *
 * The actor is the reference's Gaussian (tanh mean, state-independent log-std clamped to [-5, 2], no
 * squashing), trained by advantage-weighted log-likelihood; `actor: 'deterministic'` gives the tanh
 * actor with MSE that the other offline agents use. Segments are
 * sub-sampled to subsampleSteps (16) per batch as the reference; its 25-step segments are a dataset
 * choice (`pbrl dataset make --segment-length 25`), our CPL datasets have 64.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { optimizerStep } from '../../core/nn/optim.js';
import { bradleyTerryLoss, implicitReward, parseConfig } from './common.js';
import { PairSampler, type PairBatch, type PreferenceData } from './data.js';
import { ValueLearner, valueLearnerFields, type TdRows } from './value-learning.js';

export const IplConfigSchema = z
  .object({
    ...valueLearnerFields,
    hiddenDims: valueLearnerFields.hiddenDims.default([256, 256, 256]),
    expectile: valueLearnerFields.expectile.default(0.75),
    dropout: valueLearnerFields.dropout.default(0),
    /** The IPL repo's Meta-World actor: Gaussian, tanh mean, state-independent log-std in [-5, 2], not squashed. */
    actor: valueLearnerFields.actor.default('gaussian'),
    actorCosineSteps: valueLearnerFields.actorCosineSteps.default(0),
    /** Weight of mean(r_Q^2) (the IPL Meta-World config: 3; the code default: 0.5). */
    chi2Coeff: z.number().nonnegative().default(3),
    /** Steps cut from each segment per batch (the reference: 16 of its 25-step segments; 0 = whole segments). */
    subsampleSteps: z.number().int().nonnegative().default(16),
  })
  .strict();

export type IplConfig = z.infer<typeof IplConfigSchema>;

/**
 * IPL's Q-head loss for implicit rewards rQ [E, P, 2, L] and labels [P]: mean over heads of the
 * Bradley-Terry loss on segment sums, plus chi2Coeff * mean(rQ^2).
 */
export function iplLoss(rQ: tf.Tensor, labels: tf.Tensor, chi2Coeff: number): { total: tf.Scalar; preference: tf.Scalar; chi2: tf.Scalar } {
  const [E, P] = rQ.shape;
  const ret = tf.sum(rQ, 3); // [E, P, 2]
  const [ra, rb] = tf.split(ret, 2, 2).map((t) => tf.reshape(t, [E * P]));
  const y = tf.tile(labels, [E]);
  const preference = bradleyTerryLoss(ra, rb, y);
  const chi2 = tf.mul(chi2Coeff, tf.mean(tf.square(rQ))) as tf.Scalar;
  return { total: tf.add(preference, chi2) as tf.Scalar, preference, chi2 };
}

export class IPL extends ValueLearner {
  readonly name = 'ipl';
  readonly config: IplConfig;

  constructor(obsDim: number, actDim: number, config: Partial<IplConfig> = {}, seed = 0) {
    const c = parseConfig(IplConfigSchema, config, 'IPL');
    super(obsDim, actDim, c, seed);
    this.config = c;
  }

  /** The runner draws IPL's batches through this: segments sub-sampled as the reference's loader. */
  makeSampler(data: PreferenceData): PairSampler {
    return new PairSampler(data, this.config.subsampleSteps > 0 ? this.config.subsampleSteps : undefined);
  }

  protected criticStep(batch: PairBatch, td: TdRows, sa: tf.Tensor2D, nextV: tf.Tensor1D): Record<string, number> {
    // Without the final transition the implicit-reward sums run over L - 1 steps, as ipl_iql.py.
    const { size: B, steps: L } = td;
    const P = batch.pairs;
    const labels = tf.tensor1d(batch.labels);
    let parts: tf.Tensor[] = [];
    const loss = optimizerStep(this.criticOpt, () => {
      const q = tf.reshape(this.critic.apply(sa), [2, B]);
      const rQ = tf.reshape(implicitReward(q, nextV, this.config.discount), [2, P, 2, L]);
      const l = iplLoss(rQ, labels, this.config.chi2Coeff);
      parts = [tf.keep(l.preference), tf.keep(l.chi2), tf.keep(tf.mean(rQ))];
      return l.total;
    }, this.critic.variables, { name: 'IPL critic loss' });
    const [pref, chi2, meanR] = parts.map((t) => {
      const v = t.dataSync()[0];
      t.dispose();
      return v;
    });
    return { critic_loss: loss, preference_loss: pref, chi2_loss: chi2, mean_implicit_reward: meanR };
  }
}
