/**
 * Behaviour cloning on every action of the dataset's segments, with the deterministic tanh actor:
 * loss = -mean log pi(a|s) = mean ||mu(s) - a||^2 (reference/pbrl.md §4.2, the actor CPL uses).
 * Filtered BC (%BC / CPL's "SFT" baseline) is the same learner on the preferred segments only; see
 * filtered-bc.ts. Optimiser as the reference's BehaviorCloning configs: Adam 1e-4, constant.
 *
 * The actor trains with dropout 0.25 after each hidden layer (actorForward), as the reference; act()
 * is deterministic and dropout-free.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { MLP } from '../../core/nn/mlp.js';
import { Adam, adam, optimizerStep } from '../../core/nn/optim.js';
import { Rng } from '../../core/rng.js';
import type { Agent, AgentState } from '../agent.js';
import type { Batch } from '../replay-buffer.js';
import { actorAct, actorForward, checkAlgo, loadOptimizers, makeActor, parseConfig, saveOptimizers, setLearningRate, squaredErrorLogLik, warmupLr } from './common.js';
import { requirePairBatch, type PairBatch } from './data.js';

export const BcConfigSchema = z
  .object({
    /** CPL's actor: 512 x 512. */
    hiddenDims: z.array(z.number().int().positive()).min(1).default([512, 512]),
    lr: z.number().positive().default(1e-4),
    /** Actor dropout after each hidden layer in training (the reference's BC, SFT and %BC: 0.25). */
    dropout: z.number().min(0).lt(1).default(0.25),
    /** Linear learning-rate warm-up steps; 0 as the reference's BC / SFT / %BC configs, which have no schedule. */
    warmupSteps: z.number().int().nonnegative().default(0),
  })
  .strict();

export type BcConfig = z.infer<typeof BcConfigSchema>;

/**
 * Per-row weights of a pair batch for the BC loss: all rows 1 (BC); 'preferred': the probability that
 * the row's segment was preferred (1/0 for hard labels, 0.5 each for ties); 'preferred-ties-full':
 * the reference SFT's selection, 1 for the preferred segment and for both sides of a tie.
 */
export type RowWeighting = 'all' | 'preferred' | 'preferred-ties-full';

export function bcRowWeights(batch: PairBatch, weighting: RowWeighting): Float32Array {
  const { pairs: P, segmentLength: L } = batch;
  const w = new Float32Array(2 * P * L);
  for (let p = 0; p < P; p++) {
    const l = batch.labels[p];
    const y = weighting === 'all' ? 1 : weighting === 'preferred' ? l : l >= 0.5 ? 1 : 0;
    const yb = weighting === 'all' ? 1 : weighting === 'preferred' ? 1 - l : l <= 0.5 ? 1 : 0;
    w.fill(y, 2 * p * L, (2 * p + 1) * L);
    w.fill(yb, (2 * p + 1) * L, (2 * p + 2) * L);
  }
  return w;
}

/** Weighted BC loss: sum_i w_i ||mu_i - a_i||^2 / sum_i w_i. */
export function weightedBcLoss(mu: tf.Tensor, actions: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const nll = tf.neg(squaredErrorLogLik(mu, actions));
    return tf.div(tf.sum(tf.mul(nll, weights)), tf.maximum(tf.sum(weights), 1e-8)) as tf.Scalar;
  });
}

export class BC implements Agent {
  readonly name: string = 'bc';
  readonly obsDim: number;
  readonly actDim: number;
  readonly config: BcConfig;
  readonly actor: MLP;
  /** Which rows the loss uses at this step (SFT switches from all rows to the preferred ones). */
  protected weighting(_step: number): RowWeighting {
    return 'all';
  }
  private opt: Adam;
  private rng: Rng;

  constructor(obsDim: number, actDim: number, config: Partial<BcConfig> = {}, seed = 0, schema: z.ZodTypeAny = BcConfigSchema, what = 'BC') {
    this.config = parseConfig(schema, config, what) as BcConfig;
    this.obsDim = obsDim;
    this.actDim = actDim;
    const rng = new Rng(seed);
    this.actor = makeActor(obsDim, actDim, this.config.hiddenDims, rng.split('actor'));
    this.opt = adam(this.config.lr);
    // Dropout masks come from this stream; it is checkpointed, so a resumed run draws the same masks.
    this.rng = rng.split('updates');
  }

  act(obs: Float32Array, n: number, _deterministic: boolean): Float32Array {
    return actorAct(this.actor, obs, n, this.obsDim, this.name);
  }

  update(batchIn: Batch, step: number): Record<string, number> {
    const batch = requirePairBatch(batchIn, this.name);
    const w = bcRowWeights(batch, this.weighting(step));
    const lr = warmupLr(this.config.lr, step, this.config.warmupSteps);
    setLearningRate(this.opt, lr);
    const loss = tf.tidy(() => {
      const obs = tf.tensor2d(batch.obs, [batch.size, this.obsDim]);
      const act = tf.tensor2d(batch.actions, [batch.size, this.actDim]);
      const weights = tf.tensor1d(w);
      return optimizerStep(this.opt, () => weightedBcLoss(actorForward(this.actor, obs, this.config.dropout, this.rng), act, weights), this.actor.variables, { name: `${this.name} loss` });
    });
    return { bc_loss: loss, lr };
  }

  async saveState(): Promise<AgentState> {
    return {
      algo: this.name,
      config: this.config,
      networks: { actor: { weights: this.actor.getWeights().map((w) => Array.from(w)) } },
      optimizers: await saveOptimizers({ actor: this.opt }),
      scalars: {},
      rng: this.rng.getState(),
    };
  }

  async loadState(state: AgentState): Promise<void> {
    checkAlgo(state, this.name);
    this.actor.setWeights(state.networks.actor.weights);
    await loadOptimizers(state.optimizers, { actor: { opt: this.opt, vars: this.actor.variables } });
    this.rng = Rng.fromState(state.rng as ReturnType<Rng['getState']>);
  }

  dispose(): void {
    this.actor.dispose();
    this.opt.dispose();
  }
}
