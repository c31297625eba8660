/**
 * Contrastive Preference Learning (Hejna et al., ICLR 2024; reference/pbrl.md §4.2): the policy is
 * fitted to preferences directly, with no reward model and no RL. Under the regret preference model
 * with A*(s,a) = alpha log pi*(a|s), a segment's score is S = sum_t alpha log pi(a_t|s_t) (undiscounted,
 * as in the reference code), and the loss is
 *   L = -log( e^S+ / (e^S+ + e^(lambda S-)) ),
 * with the conservative bias lambda < 1 raising the preferred segment more than it lowers the other.
 * State-based Meta-World uses the deterministic actor, log pi(a|s) := -||mu(s) - a||^2.
 *
 * Schedule: the first bcSteps updates are pure BC on all segment actions at a constant learning rate;
 * then the optimizer is re-initialised, the linear warm-up starts, and the loss becomes CPL + bcCoeff * BC.
 *
 * Defaults are the CPL (state) config: alpha 0.1, lambda 0.5, bcCoeff 0, Adam 1e-4 with 10k warm-up,
 * actor 512 x 512 tanh with dropout 0.25 in training. The reference runs 200k BC steps of 500k; here the BC phase is bcFraction
 * (0.4, the same ratio) of the run unless bcSteps is given, because a fixed 200k never ended in
 * pbrl's shorter runs and left CPL identical to BC. The runner refuses a run with no CPL phase.
 *
 * Labels matter: CPL's derivation assumes regret preferences. Measured before issue 13 (bench/offline.ts,
 * button-press, dense, 3000 steps, 64 x 64, old schedule): with partial-return labels the contrastive
 * phase undid the BC pre-training (success 1.0 -> 0.1), with regret labels it stayed at 1.0. With the
 * reference's schedule and dropout (issue 13; 60 rollouts x 200 steps, 300 segments x 16 partners,
 * regret labels from expert-rollout V*, 32 pairs, 3000 steps, warm-up 60, seed 0) success fell from
 * 1.0 to 0.0 within 500 steps of the switch, pair accuracy 0.64-0.68, with or without dropout; BC and
 * SFT stayed at 1.0. Traced (bench/cpl-trace.ts, bench/cpl-labels.ts; issue 13): not tanh saturation
 * (no action component of the policy beyond |0.99| at any point) but the labels. 93% of those regret
 * labels equal the partial-return labels of the same pairs, and the scripted expert's own likelihood
 * (S = -sum ||expert(s) - a||^2) orders only 61% of them as labelled (59% for partial-return labels),
 * so no policy close to a good one explains them; the loss then falls fastest by lowering the other
 * segment's score: over the CPL phase the mean score of unpreferred segments went -7.5 -> -9.0, of
 * preferred ones -4.4 -> -4.9, and the policy's squared distance to the expert's actions 0.55 -> 1.15.
 * Control (`bench/cpl-trace.ts --relabel expert`: the same pairs labelled by the expert's likelihood,
 * which CPL's model explains): success stayed 1.0 through the CPL phase, pair accuracy 0.91-0.93, the
 * distance to the expert's actions fell 0.55 -> 0.52. The cpl_bc variant (lambda 1, bcCoeff 1) on the
 * regret labels collapsed as well (1.0 -> 0.0, distance 0.55 -> 1.09).
 * Nor is it rl_sum's mix of an undiscounted reward sum with a discounted V: labels from the exact
 * discounted advantage sum (sum_t gamma^t r_t + gamma^H V(s_H) - V(s_0); `--relabel discounted-regret`)
 * agree with them on 97% of pairs, the expert orders 61% of them, and CPL fell 1.0 -> 0.0 the same way.
 * The reference's state config is the same loss (bc_coeff 0, lambda 0.5, tanh actor) and the same
 * label formula (sum r undiscounted + V(s_H) - V(s_0)), so this is not a departure in the loss. On the
 * reference's own recipe at the same scale (SAC 64 x 64 trained 30k steps on the true reward, eval
 * success 1.0; `pbrl dataset make --policy ... --action-noise 0.3 --teacher regret --value-from ...`,
 * 60 x 200 steps, 300 x 16), CPL still fell after the switch, more slowly: success 0.9-1.0 through BC,
 * 0.8 / 0.9 at 1500 / 2000, 0.0 at 2500 and 3000, pair accuracy 0.62; BC on the same data and schedule
 * 0.9-1.0 throughout. So at this scale it is the reference's behaviour, not a pbrl departure; the
 * paper's scale (2500 x 500-step rollouts, 500k steps, 512 x 512) is untested here.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { MLP } from '../../core/nn/mlp.js';
import { Adam, adam, optimizerStep } from '../../core/nn/optim.js';
import { Rng } from '../../core/rng.js';
import type { Agent, AgentState } from '../agent.js';
import type { Batch } from '../replay-buffer.js';
import { weightedBcLoss } from './bc.js';
import { actorAct, actorForward, checkAlgo, cplLoss, pairAccuracy, loadOptimizers, makeActor, parseConfig, saveOptimizers, setLearningRate, squaredErrorLogLik, warmupLr } from './common.js';
import { requirePairBatch } from './data.js';

export const CplConfigSchema = z
  .object({
    hiddenDims: z.array(z.number().int().positive()).min(1).default([512, 512]),
    lr: z.number().positive().default(1e-4),
    /** Actor dropout after each hidden layer in training (the reference's state configs: 0.25). */
    dropout: z.number().min(0).lt(1).default(0.25),
    warmupSteps: z.number().int().nonnegative().default(10_000),
    /** Temperature alpha in A* = alpha log pi*. */
    alpha: z.number().positive().default(0.1),
    /** Conservative bias lambda in (0, 1]; 1 = the plain contrastive loss. */
    contrastiveBias: z.number().gt(0).max(1).default(0.5),
    /** Weight of the BC term added to the CPL loss (the "cpl_bc" variant: 1 with lambda = 1). */
    bcCoeff: z.number().nonnegative().default(0),
    /**
     * Pure-BC updates before the CPL loss starts. Unset: bcFraction of the run's steps, filled in by
     * the runner (resolveOfflineAgentConfig), so a shortened run keeps a contrastive phase.
     */
    bcSteps: z.number().int().nonnegative().optional(),
    /** BC share of the run when bcSteps is unset: the reference's 200k of 500k. */
    bcFraction: z.number().min(0).lt(1).default(0.4),
  })
  .strict();

export type CplConfig = z.infer<typeof CplConfigSchema>;

/**
 * Number of pre-training steps of a run of totalSteps: bcSteps when given, else bcFraction of the run.
 * Shared by CPL (BC before the contrastive loss) and SFT (BC on all data before the preferred segments).
 */
export function phaseSteps(explicit: number | undefined, fraction: number, totalSteps: number): number {
  if (explicit !== undefined) return explicit;
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`run steps must be a positive integer, got ${totalSteps}`);
  return Math.round(fraction * totalSteps);
}

export class CPL implements Agent {
  readonly name = 'cpl';
  readonly obsDim: number;
  readonly actDim: number;
  readonly config: CplConfig;
  readonly actor: MLP;
  private opt: Adam;
  /** 0 = BC pre-training, 1 = CPL (the optimizer was re-created at the switch). */
  private phase = 0;
  private rng: Rng;

  constructor(obsDim: number, actDim: number, config: Partial<CplConfig> = {}, seed = 0) {
    this.config = parseConfig(CplConfigSchema, config, 'CPL');
    if (this.config.bcSteps === undefined) {
      throw new Error('CPL: bcSteps is not set; give it, or build the agent with the run length (makeOfflineAgent(..., totalSteps)) so bcFraction x steps fills it');
    }
    this.obsDim = obsDim;
    this.actDim = actDim;
    const rng = new Rng(seed);
    this.actor = makeActor(obsDim, actDim, this.config.hiddenDims, rng.split('actor'));
    this.opt = adam(this.config.lr);
    this.rng = rng.split('updates');
  }

  act(obs: Float32Array, n: number, _deterministic: boolean): Float32Array {
    return actorAct(this.actor, obs, n, this.obsDim, this.name);
  }

  update(batchIn: Batch, step: number): Record<string, number> {
    const batch = requirePairBatch(batchIn, this.name);
    const c = this.config;
    const bcSteps = c.bcSteps!;
    const { pairs: P, segmentLength: L } = batch;
    if (this.phase === 0 && step >= bcSteps) {
      this.opt.dispose();
      this.opt = adam(c.lr);
      this.phase = 1;
    }
    // As the reference: a constant rate during BC (its schedulers are identities until the switch),
    // the linear warm-up restarting with the fresh optimizer when the CPL loss starts.
    const lr = this.phase === 0 ? c.lr : warmupLr(c.lr, step - bcSteps, c.warmupSteps);
    setLearningRate(this.opt, lr);
    const metrics: Record<string, number> = { lr };
    tf.tidy(() => {
      const obs = tf.tensor2d(batch.obs, [batch.size, this.obsDim]);
      const act = tf.tensor2d(batch.actions, [batch.size, this.actDim]);
      const labels = tf.tensor1d(batch.labels);
      const ones = tf.ones([batch.size]);
      if (this.phase === 0) {
        metrics.bc_loss = optimizerStep(this.opt, () => weightedBcLoss(actorForward(this.actor, obs, c.dropout, this.rng), act, ones), this.actor.variables, { name: 'CPL BC pre-training loss' });
        return;
      }
      let acc: tf.Tensor | null = null;
      metrics.cpl_loss = optimizerStep(this.opt, () => {
        const mu = actorForward(this.actor, obs, c.dropout, this.rng);
        const logp = squaredErrorLogLik(mu, act); // [2PL]
        const scores = tf.mul(c.alpha, tf.sum(tf.reshape(logp, [P, 2, L]), 2)); // [P, 2]
        const [sa, sb] = tf.split(scores, 2, 1).map((t) => tf.reshape(t, [P]));
        acc = tf.keep(pairAccuracy(sa, sb, labels));
        let loss = cplLoss(sa, sb, labels, c.contrastiveBias);
        if (c.bcCoeff > 0) loss = tf.add(loss, tf.mul(c.bcCoeff, weightedBcLoss(mu, act, ones))) as tf.Scalar;
        return loss;
      }, this.actor.variables, { name: 'CPL loss' });
      const a = acc as tf.Tensor | null;
      if (a) {
        metrics.cpl_accuracy = a.dataSync()[0];
        a.dispose();
      }
    });
    return metrics;
  }

  async saveState(): Promise<AgentState> {
    return {
      algo: this.name,
      config: this.config,
      networks: { actor: { weights: this.actor.getWeights().map((w) => Array.from(w)) } },
      optimizers: await saveOptimizers({ actor: this.opt }),
      scalars: { phase: this.phase },
      rng: this.rng.getState(),
    };
  }

  async loadState(state: AgentState): Promise<void> {
    checkAlgo(state, this.name);
    this.actor.setWeights(state.networks.actor.weights);
    this.phase = state.scalars.phase ?? 0;
    await loadOptimizers(state.optimizers, { actor: { opt: this.opt, vars: this.actor.variables } });
    this.rng = Rng.fromState(state.rng as ReturnType<Rng['getState']>);
  }

  dispose(): void {
    this.actor.dispose();
    this.opt.dispose();
  }
}
