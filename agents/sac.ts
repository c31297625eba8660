/**
 * Soft Actor-Critic with the settings PEBBLE uses on Meta-World (reference/pbrl.md §2.7):
 * tanh-squashed Gaussian actor with log-std squashed into [-5, 2], twin critics as one 2-member
 * ensemble MLP (one batched matmul per layer), Polyak-averaged target critic every 2 updates,
 * learned temperature with target entropy -|A|, time-limit ends bootstrapped.
 *
 * Exploration noise comes from our seeded Rng and is uploaded per batch (tf.random* with a fixed seed
 * repeats the same numbers every call), so the same seed gives the same run on the same backend.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Rng } from '../core/rng.js';
import { EnsembleMLP, MLP } from '../core/nn/mlp.js';
import { Adam, adam, optimizerStep } from '../core/nn/optim.js';
import { nativeSacApplies, nativeSacStep, type SacParts } from './sac-native.js';
import type { Agent, AgentState } from './agent.js';
import type { Batch } from './replay-buffer.js';

/**
 * Uniform-random warm-up steps before SAC's first update when it trains on the true reward: B-Pref's
 * SAC baseline (config/train.yaml num_seed_steps). PEBBLE warms up on 1,000 (PEBBLE_SEED_STEPS).
 */
export const SAC_SEED_STEPS = 5000;

export const SacConfigSchema = z
  .object({
    hiddenDims: z.array(z.number().int().positive()).min(1).default([256, 256, 256]),
    actorLr: z.number().positive().default(3e-4),
    criticLr: z.number().positive().default(3e-4),
    alphaLr: z.number().positive().default(1e-4),
    initTemperature: z.number().positive().default(0.1),
    discount: z.number().min(0).max(1).default(0.99),
    tau: z.number().min(0).max(1).default(0.005),
    criticTargetUpdateFreq: z.number().int().positive().default(2),
    actorUpdateFreq: z.number().int().positive().default(1),
    logStdMin: z.number().default(-5),
    logStdMax: z.number().default(2),
    /** PEBBLE's SAC (pytorch_sac) initialises weights orthogonally with zero biases. */
    init: z.enum(['orthogonal', 'xavier', 'he']).default('orthogonal'),
    /** Learn the temperature (true in PEBBLE); false keeps initTemperature. */
    learnTemperature: z.boolean().default(true),
  })
  .strict()
  .refine((c) => c.logStdMin < c.logStdMax, { message: 'logStdMin must be below logStdMax' });

export type SacConfig = z.infer<typeof SacConfigSchema>;

let instances = 0;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG2 = Math.log(2);

export class SAC implements Agent {
  readonly name = 'sac';
  readonly obsDim: number;
  readonly actDim: number;
  readonly config: SacConfig;
  readonly actor: MLP;
  critic: EnsembleMLP;
  criticTarget: EnsembleMLP;
  readonly logAlpha: tf.Variable;
  readonly targetEntropy: number;
  private actorOpt: Adam;
  private criticOpt: Adam;
  private alphaOpt: Adam;
  private rng: Rng;
  private seed: number;
  private criticResets = 0;

  constructor(obsDim: number, actDim: number, config: Partial<SacConfig> = {}, seed = 0) {
    const parsed = SacConfigSchema.safeParse(config);
    if (!parsed.success) throw new Error(`invalid SAC config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    this.config = parsed.data;
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.seed = seed;
    const rng = new Rng(seed);
    this.rng = rng.split('noise');
    const c = this.config;
    this.actor = new MLP({ inputDim: obsDim, hiddenDims: c.hiddenDims, outputDim: 2 * actDim, init: c.init, seed: rng.split('actor'), name: 'actor' });
    this.critic = this.makeCritic(rng.split('critic'));
    this.criticTarget = this.makeCritic(rng.split('critic'));
    this.criticTarget.copyFrom(this.critic);
    // The initial scalar is disposed so the variable is its storage's only owner (in-place kernels need that).
    const init = tf.scalar(Math.log(c.initTemperature));
    this.logAlpha = tf.variable(init, c.learnTemperature, `log_alpha_${instances++}`);
    init.dispose();
    this.targetEntropy = -actDim;
    this.actorOpt = adam(c.actorLr);
    this.criticOpt = adam(c.criticLr);
    this.alphaOpt = adam(c.alphaLr);
  }

  private makeCritic(rng: Rng): EnsembleMLP {
    const c = this.config;
    return new EnsembleMLP({ inputDim: this.obsDim + this.actDim, hiddenDims: c.hiddenDims, outputDim: 1, members: 2, init: c.init, seed: rng, name: 'critic' });
  }

  get alpha(): number {
    return Math.exp(this.logAlpha.dataSync()[0]);
  }

  /** Mean and log-std of the pre-tanh Gaussian. */
  dist(obs: tf.Tensor): { mu: tf.Tensor; logStd: tf.Tensor } {
    const out = this.actor.apply(obs);
    const [mu, raw] = tf.split(out, 2, 1);
    const { logStdMin: lo, logStdMax: hi } = this.config;
    const logStd = tf.add(lo, tf.mul(0.5 * (hi - lo), tf.add(tf.tanh(raw), 1)));
    return { mu, logStd };
  }

  /**
   * Reparameterised sample a = tanh(mu + std * eps) and its log-probability, with the tanh change of
   * variables written as log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite when
   * |u| is large (1 - tanh^2 underflows to 0 there).
   */
  sampleWithLogProb(obs: tf.Tensor, eps: tf.Tensor): { action: tf.Tensor; logp: tf.Tensor } {
    const { mu, logStd } = this.dist(obs);
    const u = tf.add(mu, tf.mul(tf.exp(logStd), eps));
    const action = tf.tanh(u);
    const gaussian = tf.sum(tf.sub(tf.sub(tf.mul(-0.5, tf.square(eps)), logStd), HALF_LOG_2PI), 1, true);
    const squash = tf.sum(tf.mul(2, tf.sub(tf.sub(LOG2, u), tf.softplus(tf.mul(-2, u)))), 1, true);
    return { action, logp: tf.sub(gaussian, squash) };
  }

  private noise(n: number): tf.Tensor2D {
    return tf.tensor2d(this.rng.fillNormal(new Float32Array(n * this.actDim)) as Float32Array, [n, this.actDim]);
  }

  act(obs: Float32Array, n: number, deterministic: boolean): Float32Array {
    if (obs.length !== n * this.obsDim) throw new Error(`SAC.act: got ${obs.length} values for ${n} observations of ${this.obsDim}`);
    return tf.tidy(() => {
      const o = tf.tensor2d(obs, [n, this.obsDim]);
      if (deterministic) return tf.tanh(this.dist(o).mu).dataSync() as Float32Array;
      return this.sampleWithLogProb(o, this.noise(n)).action.dataSync() as Float32Array;
    });
  }

  update(batch: Batch, step: number): Record<string, number> {
    const B = batch.size;
    const c = this.config;
    // Noise for the target's next actions, then for the actor loss: drawn here, in this order, for
    // both the native and the tfjs update, so a seed gives the same stream on either.
    const epsTarget = this.rng.fillNormal(new Float32Array(B * this.actDim)) as Float32Array;
    const doActor = step % c.actorUpdateFreq === 0;
    const epsActor = doActor ? (this.rng.fillNormal(new Float32Array(B * this.actDim)) as Float32Array) : null;
    const polyak = step % c.criticTargetUpdateFreq === 0;
    const parts = this.parts();
    if (nativeSacApplies(parts)) {
      const m = nativeSacStep(parts, batch, { epsTarget, epsActor, learnTemperature: c.learnTemperature, polyak });
      if (m) {
        m.alpha = this.alpha;
        return m;
      }
    }
    return this.tfjsUpdate(batch, epsTarget, epsActor, polyak);
  }

  private parts(): SacParts {
    const c = this.config;
    return {
      obsDim: this.obsDim, actDim: this.actDim, actor: this.actor, critic: this.critic, criticTarget: this.criticTarget,
      logAlpha: this.logAlpha, actorOpt: this.actorOpt, criticOpt: this.criticOpt, alphaOpt: this.alphaOpt,
      targetEntropy: this.targetEntropy, discount: c.discount, tau: c.tau, logStdMin: c.logStdMin, logStdMax: c.logStdMax,
    };
  }

  /** The update as tfjs ops: the reference native/sac.c is checked against, and the fallback. */
  private tfjsUpdate(batch: Batch, epsTarget: Float32Array, epsActor: Float32Array | null, polyak: boolean): Record<string, number> {
    const B = batch.size;
    const c = this.config;
    const metrics: Record<string, number> = {};
    tf.tidy(() => {
      const obs = tf.tensor2d(batch.obs, [B, this.obsDim]);
      const act = tf.tensor2d(batch.actions, [B, this.actDim]);
      const nextObs = tf.tensor2d(batch.nextObs, [B, this.obsDim]);
      const rew = tf.tensor2d(batch.rewards, [B, 1]);
      const notDone = tf.sub(1, tf.tensor2d(batch.dones, [B, 1]));
      const alpha = tf.exp(this.logAlpha);

      // Soft Bellman target from the target critic (no gradient flows here).
      const target = tf.tidy(() => {
        const { action: a2, logp: logp2 } = this.sampleWithLogProb(nextObs, tf.tensor2d(epsTarget, [B, this.actDim]));
        const q2 = tf.min(this.criticTarget.apply(tf.concat([nextObs, a2], 1)), 0); // [B, 1]
        return tf.add(rew, tf.mul(tf.mul(notDone, c.discount), tf.sub(q2, tf.mul(alpha, logp2))));
      });

      const sa = tf.concat([obs, act], 1);
      metrics.critic_loss = optimizerStep(this.criticOpt, () => {
        const q = this.critic.apply(sa); // [2, B, 1]
        // Sum of the two critics' MSEs, as in PyTorch SAC: mean over [2, B, 1] times 2.
        return tf.mul(tf.mean(tf.squaredDifference(q, target)), 2) as tf.Scalar;
      }, this.critic.variables, { name: 'SAC critic loss' });

      if (epsActor) {
        let logp: tf.Tensor | null = null;
        const eps = tf.tensor2d(epsActor, [B, this.actDim]);
        metrics.actor_loss = optimizerStep(this.actorOpt, () => {
          const s = this.sampleWithLogProb(obs, eps);
          logp = tf.keep(s.logp);
          const q = tf.min(this.critic.apply(tf.concat([obs, s.action], 1), { inputGrad: true, paramGrad: false }), 0);
          return tf.mean(tf.sub(tf.mul(alpha, s.logp), q)) as tf.Scalar;
        }, this.actor.variables, { name: 'SAC actor loss' });
        const lp = logp as unknown as tf.Tensor;
        metrics.entropy = -tf.mean(lp).dataSync()[0];
        if (c.learnTemperature) {
          // lp is a plain value here (computed under the actor's tape), so no gradient reaches the actor.
          const detached = lp;
          metrics.alpha_loss = optimizerStep(this.alphaOpt, () =>
            tf.mean(tf.mul(tf.exp(this.logAlpha), tf.sub(tf.neg(detached), this.targetEntropy))) as tf.Scalar,
          [this.logAlpha], { name: 'SAC temperature loss' });
        }
        lp.dispose();
      }
      if (polyak) this.criticTarget.polyakUpdate(this.critic, c.tau);
      metrics.alpha = Math.exp(this.logAlpha.dataSync()[0]);
    });
    return metrics;
  }

  /** Fresh critic and target (PEBBLE re-initialises them after pre-training); keeps the actor. */
  resetCritic(): void {
    this.critic.dispose();
    this.criticTarget.dispose();
    const rng = new Rng(this.seed).split('critic-reset').split(this.criticResets++);
    this.critic = this.makeCritic(rng);
    this.criticTarget = this.makeCritic(rng);
    this.criticTarget.copyFrom(this.critic);
    this.criticOpt.dispose();
    this.criticOpt = adam(this.config.criticLr);
  }

  async saveState(): Promise<AgentState> {
    const optimizers: AgentState['optimizers'] = {};
    for (const [name, opt] of Object.entries({ actor: this.actorOpt, critic: this.criticOpt, alpha: this.alphaOpt })) {
      const ws = await opt.getWeights();
      optimizers[name] = { name, values: ws.map((w) => Array.from(w.tensor.dataSync())), shapes: ws.map((w) => [...w.tensor.shape]) };
    }
    return {
      algo: this.name,
      config: this.config,
      networks: {
        actor: { weights: this.actor.getWeights().map((w) => Array.from(w)) },
        critic: { weights: this.critic.getWeights().map((w) => Array.from(w)) },
        criticTarget: { weights: this.criticTarget.getWeights().map((w) => Array.from(w)) },
      },
      optimizers,
      scalars: { logAlpha: this.logAlpha.dataSync()[0] },
      rng: this.rng.getState(),
    };
  }

  async loadState(state: AgentState): Promise<void> {
    if (state.algo !== this.name) throw new Error(`checkpoint is for "${state.algo}", not ${this.name}`);
    this.actor.setWeights(state.networks.actor.weights);
    this.critic.setWeights(state.networks.critic.weights);
    this.criticTarget.setWeights(state.networks.criticTarget.weights);
    tf.tidy(() => this.logAlpha.assign(tf.scalar(state.scalars.logAlpha))); // the variable stays its storage's only owner
    for (const [name, opt] of Object.entries({ actor: this.actorOpt, critic: this.criticOpt, alpha: this.alphaOpt })) {
      const s = state.optimizers[name];
      if (!s) throw new Error(`checkpoint has no optimizer state for ${name}`);
      // Moments are matched to variables by position: variable names differ between processes.
      const vars = { actor: this.actor.variables, critic: this.critic.variables, alpha: [this.logAlpha] }[name]!;
      const tensors = s.values.map((v, i) => ({ name: `${name}_slot${i}`, tensor: tf.tensor(v, s.shapes[i]) }));
      await opt.setWeights(tensors, vars);
      tensors.forEach((t) => t.tensor.dispose());
    }
    this.rng = Rng.fromState(state.rng as ReturnType<Rng['getState']>);
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
    this.criticTarget.dispose();
    this.logAlpha.dispose();
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.alphaOpt.dispose();
  }
}
