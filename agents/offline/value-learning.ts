/**
 * What P-IQL and IPL share (reference/pbrl.md §4.1, §4.3): twin Q heads as one 2-member ensemble with
 * a Polyak-averaged target, a state value V fitted by IQL's expectile regression against the target
 * heads' minimum, and an actor extracted by advantage-weighted regression,
 *   L_pi = mean( min(exp((Q_target(s,a) - V(s)) / beta), 100) * -log pi(a|s) )
 * with -log pi = ||mu(s) - a||^2 for the deterministic tanh actor (the MSE form both reference codes use
 * for one) or the Gaussian negative log-likelihood (IPL's actor). The subclasses differ only in how
 * the Q heads are trained: P-IQL regresses onto r_psi + gamma V(s'), IPL fits the preferences directly.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { EnsembleMLP, MLP } from '../../core/nn/mlp.js';
import { Adam, adam, optimizerStep } from '../../core/nn/optim.js';
import { Rng } from '../../core/rng.js';
import type { Agent, AgentState } from '../agent.js';
import type { Batch } from '../replay-buffer.js';
import { actorAct, actorForward, awrWeights, checkAlgo, cosineLr, expectileLoss, gaussianLogLik, loadOptimizers, makeActor, saveOptimizers, setLearningRate, squaredErrorLogLik } from './common.js';
import { requirePairBatch, type PairBatch } from './data.js';

/** Fields common to both value-based learners; each file gives its own defaults. */
export const valueLearnerFields = {
  hiddenDims: z.array(z.number().int().positive()).min(1),
  lr: z.number().positive().default(3e-4),
  discount: z.number().min(0).max(1).default(0.99),
  /** Target-network Polyak rate, every update. */
  tau: z.number().min(0).max(1).default(0.005),
  expectile: z.number().gt(0).lt(1),
  /** AWR temperature (divides the advantage): 1/3, i.e. inverse temperature 3. */
  beta: z.number().positive().default(0.3333),
  /** Upper clip of the AWR weight. */
  clipScore: z.number().positive().default(100),
  /** Cosine decay of the actor's learning rate over this many updates (0 = constant). */
  actorCosineSteps: z.number().int().nonnegative(),
  /** Actor dropout after each hidden layer in training (CPL repo P-IQL: 0.25; IPL: none). */
  dropout: z.number().min(0).lt(1),
  /**
   * Whether the TD losses (V, Q, actor; IPL's implicit-reward sums) use each segment's last step.
   * false, as both reference codes: their segments store H observations, so a segment gives H - 1
   * transitions (obs[:, :-1] -> obs[:, 1:]) and the last (s, a) is only ever an s'. pbrl's datasets
   * also store s_H, so true uses all H transitions. P-IQL's reward model sums all H steps either way.
   */
  finalTransition: z.boolean().default(false),
  /**
   * 'deterministic': the tanh actor with log pi := -||mu - a||^2 (the CPL repo's P-IQL);
   * 'gaussian': N(mu(s), diag(exp(2 logStd))) with mu = tanh(MLP(s)) and a state-independent logStd
   * clamped to [logStdMin, logStdMax], not tanh-squashed (the IPL repo's DiagonalGaussianMLPActor with
   * state_dependent_log_std, squash_normal and log_std_tanh all False). Evaluation acts with mu either way.
   */
  actor: z.enum(['deterministic', 'gaussian']),
  logStdMin: z.number().default(-5),
  logStdMax: z.number().default(2),
};

export interface ValueLearnerConfig {
  hiddenDims: number[];
  lr: number;
  discount: number;
  tau: number;
  expectile: number;
  beta: number;
  clipScore: number;
  actorCosineSteps: number;
  dropout: number;
  finalTransition: boolean;
  actor: 'deterministic' | 'gaussian';
  logStdMin: number;
  logStdMax: number;
}

/** What save/restore needs of a network; the Gaussian actor's log-std vector is one too. */
interface Saved {
  getWeights(): Float32Array[];
  setWeights(w: ArrayLike<number>[]): void;
  dispose(): void;
}

let logStdIds = 0;

/** The transitions of a pair batch the TD losses see: [P, 2, steps] rows. */
export interface TdRows {
  size: number;
  /** Transitions per segment: L, or L - 1 without the final transition. */
  steps: number;
  obs: Float32Array;
  actions: Float32Array;
  nextObs: Float32Array;
}

/** Rows of a pair batch for TD learning, each segment's last step left out unless finalTransition. */
export function tdRows(batch: PairBatch, obsDim: number, actDim: number, finalTransition: boolean): TdRows {
  const L = batch.segmentLength;
  if (finalTransition) return { size: batch.size, steps: L, obs: batch.obs, actions: batch.actions, nextObs: batch.nextObs };
  if (L < 2) throw new Error(`segments of ${L} step have no transition inside them; use finalTransition: true or longer segments`);
  const segs = batch.size / L;
  const S = L - 1;
  const obs = new Float32Array(segs * S * obsDim);
  const nextObs = new Float32Array(segs * S * obsDim);
  const actions = new Float32Array(segs * S * actDim);
  for (let g = 0; g < segs; g++) {
    obs.set(batch.obs.subarray(g * L * obsDim, (g * L + S) * obsDim), g * S * obsDim);
    nextObs.set(batch.nextObs.subarray(g * L * obsDim, (g * L + S) * obsDim), g * S * obsDim);
    actions.set(batch.actions.subarray(g * L * actDim, (g * L + S) * actDim), g * S * actDim);
  }
  return { size: segs * S, steps: S, obs, actions, nextObs };
}

export abstract class ValueLearner implements Agent {
  abstract readonly name: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly actor: MLP;
  readonly critic: EnsembleMLP;
  readonly criticTarget: EnsembleMLP;
  readonly value: MLP;
  protected actorOpt: Adam;
  protected criticOpt: Adam;
  protected valueOpt: Adam;
  protected rng: Rng;
  /** The Gaussian actor's state-independent log-std [A] (null for the deterministic actor). */
  readonly logStd: tf.Variable | null;

  constructor(obsDim: number, actDim: number, readonly base: ValueLearnerConfig, seed: number) {
    this.obsDim = obsDim;
    this.actDim = actDim;
    const rng = new Rng(seed);
    const c = base;
    this.actor = makeActor(obsDim, actDim, c.hiddenDims, rng.split('actor'));
    if (c.actor === 'gaussian' && !(c.logStdMin < c.logStdMax)) throw new Error(`logStdMin (${c.logStdMin}) must be below logStdMax (${c.logStdMax})`);
    // The reference initialises the log-std parameter to zeros (std 1).
    this.logStd = c.actor === 'gaussian' ? tf.variable(tf.zeros([actDim]), true, `actor_log_std_${logStdIds++}`) : null;
    const critic = (r: Rng) => new EnsembleMLP({ inputDim: obsDim + actDim, hiddenDims: c.hiddenDims, outputDim: 1, members: 2, init: 'orthogonal', seed: r, name: 'critic' });
    this.critic = critic(rng.split('critic'));
    this.criticTarget = critic(rng.split('critic'));
    this.criticTarget.copyFrom(this.critic);
    this.value = new MLP({ inputDim: obsDim, hiddenDims: c.hiddenDims, outputDim: 1, init: 'orthogonal', seed: rng.split('value'), name: 'value' });
    this.actorOpt = adam(c.lr);
    this.criticOpt = adam(c.lr);
    this.valueOpt = adam(c.lr);
    this.rng = rng.split('updates');
  }

  act(obs: Float32Array, n: number, _deterministic: boolean): Float32Array {
    return actorAct(this.actor, obs, n, this.obsDim, this.name);
  }

  /** The actor's trained variables: the MLP, and the log-std of the Gaussian actor. */
  private get actorVariables(): tf.Variable[] {
    return this.logStd ? [...this.actor.variables, this.logStd] : this.actor.variables;
  }

  /** Per-row log pi(a|s) of the training-mode actor (dropout as configured). */
  protected actorLogLik(obs: tf.Tensor2D, act: tf.Tensor): tf.Tensor {
    const c = this.base;
    const mu = actorForward(this.actor, obs, c.dropout, this.rng);
    // clipByValue passes no gradient outside the bounds, as torch.clamp in the reference.
    return this.logStd ? gaussianLogLik(mu, act, tf.clipByValue(this.logStd, c.logStdMin, c.logStdMax)) : squaredErrorLogLik(mu, act);
  }

  /**
   * Trains the Q heads on one batch; returns metrics. `td` are the transitions the TD losses use
   * (tdRows), `sa` their [td.size, obs+act] inputs, `nextV` V(s') [td.size] from the value net just
   * updated (no gradient).
   */
  protected abstract criticStep(batch: PairBatch, td: TdRows, sa: tf.Tensor2D, nextV: tf.Tensor1D, step: number): Record<string, number>;

  /**
   * Update order after the value step. false (IPL's ipl_iql.py): critic, then actor with the updated
   * V. true (the CPL repo's piql.py): actor with the advantage from before the value update, then critic.
   */
  protected readonly actorBeforeCritic: boolean = false;

  /** Hook before the value step (P-IQL trains its reward model here). */
  protected beforeUpdate(_batch: PairBatch, _step: number): Record<string, number> {
    return {};
  }

  update(batchIn: Batch, step: number): Record<string, number> {
    const batch = requirePairBatch(batchIn, this.name);
    const c = this.base;
    const td = tdRows(batch, this.obsDim, this.actDim, c.finalTransition);
    const B = td.size;
    const metrics = this.beforeUpdate(batch, step);
    tf.tidy(() => {
      const obs = tf.tensor2d(td.obs, [B, this.obsDim]);
      const act = tf.tensor2d(td.actions, [B, this.actDim]);
      const nextObs = tf.tensor2d(td.nextObs, [B, this.obsDim]);
      const sa = tf.concat([obs, act], 1) as tf.Tensor2D;
      const targetQ = tf.reshape(tf.min(this.criticTarget.apply(sa), 0), [B]);

      let vOld: tf.Tensor | null = null;
      metrics.value_loss = optimizerStep(this.valueOpt, () => {
        const v = tf.reshape(this.value.apply(obs), [B]);
        vOld = tf.keep(v);
        return expectileLoss(tf.sub(targetQ, v), c.expectile);
      }, this.value.variables, { name: `${this.name} value loss` });
      // Kept out of the value step's scope: disposed below (tf.keep outlives this tidy).
      const vBefore = vOld as unknown as tf.Tensor;

      const actorStep = (v: tf.Tensor) => {
        const adv = tf.sub(targetQ, v);
        const w = awrWeights(adv, c.beta, c.clipScore);
        metrics.mean_advantage = tf.mean(adv).dataSync()[0];
        setLearningRate(this.actorOpt, cosineLr(c.lr, step, c.actorCosineSteps));
        metrics.actor_loss = optimizerStep(this.actorOpt, () =>
          tf.mean(tf.mul(w, tf.neg(this.actorLogLik(obs, act)))) as tf.Scalar,
        this.actorVariables, { name: `${this.name} actor loss` });
        if (this.logStd) metrics.actor_log_std = tf.mean(this.logStd).dataSync()[0];
      };
      const criticStep = () => {
        const nextV = tf.reshape(this.value.apply(nextObs), [B]) as tf.Tensor1D;
        Object.assign(metrics, this.criticStep(batch, td, sa, nextV, step));
      };
      if (this.actorBeforeCritic) {
        // CPL repo P-IQL: the actor's advantage uses V from before this step's value update.
        actorStep(vBefore);
        criticStep();
      } else {
        // IPL: critic next, then the actor with the updated V.
        criticStep();
        actorStep(tf.reshape(this.value.apply(obs), [B]));
      }
      vBefore.dispose();
    });
    this.criticTarget.polyakUpdate(this.critic, c.tau);
    return metrics;
  }

  /** Networks and optimizers beyond the common ones (P-IQL's reward model). */
  protected extraState(): { networks: Record<string, MLP>; optimizers: Record<string, Adam> } {
    return { networks: {}, optimizers: {} };
  }

  private parts() {
    const extra = this.extraState();
    const networks: Record<string, Saved> = { actor: this.actor, critic: this.critic, criticTarget: this.criticTarget, value: this.value, ...extra.networks };
    const ls = this.logStd;
    if (ls) {
      networks.actorLogStd = {
        getWeights: () => [ls.dataSync() as Float32Array],
        // The temporary is disposed: a second reference to the variable's data would keep Adam off its in-place native path.
        setWeights: (w) => tf.tidy(() => ls.assign(tf.tensor1d(Array.from(w[0])))),
        dispose: () => ls.dispose(),
      };
    }
    const optimizers: Record<string, { opt: Adam; vars: tf.Variable[] }> = {
      actor: { opt: this.actorOpt, vars: this.actorVariables },
      critic: { opt: this.criticOpt, vars: this.critic.variables },
      value: { opt: this.valueOpt, vars: this.value.variables },
    };
    for (const [k, opt] of Object.entries(extra.optimizers)) optimizers[k] = { opt, vars: extra.networks[k].variables };
    return { networks, optimizers };
  }

  async saveState(): Promise<AgentState> {
    const { networks, optimizers } = this.parts();
    return {
      algo: this.name,
      config: this.base,
      networks: Object.fromEntries(Object.entries(networks).map(([k, n]) => [k, { weights: n.getWeights().map((w) => Array.from(w)) }])),
      optimizers: await saveOptimizers(Object.fromEntries(Object.entries(optimizers).map(([k, o]) => [k, o.opt]))),
      scalars: {},
      rng: this.rng.getState(),
    };
  }

  async loadState(state: AgentState): Promise<void> {
    checkAlgo(state, this.name);
    const { networks, optimizers } = this.parts();
    for (const [k, n] of Object.entries(networks)) {
      const s = state.networks[k];
      if (!s) throw new Error(`checkpoint has no weights for ${this.name}'s ${k} network`);
      n.setWeights(s.weights);
    }
    await loadOptimizers(state.optimizers, optimizers);
    this.rng = Rng.fromState(state.rng as ReturnType<Rng['getState']>);
  }

  dispose(): void {
    const { networks, optimizers } = this.parts();
    Object.values(networks).forEach((n) => n.dispose());
    Object.values(optimizers).forEach((o) => o.opt.dispose());
  }
}
