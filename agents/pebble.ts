/**
 * PEBBLE (Lee, Smith, Abbeel 2021) as hooks on the online runner, with the schedule of
 * reference/pbrl.md §2.4-2.5:
 *   1. seedSteps of uniform-random actions (no updates);
 *   2. unsupSteps of SAC on the k-NN state-entropy reward (unsupervised pre-training);
 *   3. then the first feedback round (uniform queries), relabel the whole buffer with r_hat, re-initialise
 *      the critic (keep the actor), and resetUpdates SAC steps on the relabelled buffer — the relabel and
 *      the reset always, as B-Pref does, even when the round produced no label (all skipped) or the
 *      budget is 0 (then r_hat is the untrained model's, as in B-Pref);
 *   4. every numInteract steps a feedback round (budget permitting), each followed by a relabel.
 * New transitions are stored with r_hat once pre-training has ended; before that with the env's reward
 * (unused: pre-training overwrites batch rewards with the intrinsic one). B-Pref stores the untrained
 * model's r_hat there; nothing reads it.
 * Each round logs label-free diagnostics of r_hat against the true reward (pebble-diagnostics.ts).
 * SURF is the same loop with `feedback.surf` set (semi-supervised rounds with temporal cropping).
 */
import { z } from 'zod';
import type { Trajectory } from '../core/types.js';
import { Rng } from '../core/rng.js';
import { PreferenceLearner, returnMargin, type RoundResult } from '../reward/index.js';
import type { PreferenceLearnerState } from '../reward/feedback.js';
import type { PriorTrainResult } from '../reward/prior.js';
import { base64ToF32, f32ToBase64 } from '../core/serialize.js';
import type { Batch, ReplayBuffer } from './replay-buffer.js';
import type { SAC } from './sac.js';
import { StateEntropyReward } from './state-entropy.js';
import { pretrainCoverage, rewardDiagnostics } from './pebble-diagnostics.js';

/** PEBBLE's uniform-random warm-up steps (B-Pref config/train_PEBBLE.yaml num_seed_steps). */
export const PEBBLE_SEED_STEPS = 1000;

export const PebbleConfigSchema = z
  .object({
    /** Unsupervised pre-training steps after the seed steps (Meta-World scripts: 9000). */
    unsupSteps: z.number().int().nonnegative().default(9000),
    /** Env steps between feedback rounds (num_interact). */
    numInteract: z.number().int().positive().default(5000),
    /** SAC updates on the relabelled buffer right after the first round (reset_update). */
    resetUpdates: z.number().int().nonnegative().default(100),
    /** k of the k-NN state entropy. */
    entropyK: z.number().int().positive().default(5),
    /** Episodes kept for sampling query segments (B-Pref: the last 100). */
    recentEpisodes: z.number().int().positive().default(100),
    /** Max observations the state-entropy estimate compares against (most recent; 0 = all). */
    entropyMaxRefs: z.number().int().nonnegative().default(0),
    /** Diagnostics per round: buffer transitions for the Spearman correlation (even-stride subsample). */
    diagTransitions: z.number().int().positive().default(20_000),
    /** Diagnostics per round: the most recent transitions that count as on-policy. */
    diagRecentSteps: z.number().int().positive().default(2000),
    /** Diagnostics per round: random segment pairs from the recent episodes for the ordering accuracy (0: off). */
    diagPairs: z.number().int().nonnegative().default(500),
    /**
     * Diagnostic: 'true' runs PEBBLE's whole schedule (pre-training, relabel, critic reset, rounds) with
     * the env's reward in place of r_hat and asks no queries, separating the loop from reward learning.
     */
    rewardSource: z.enum(['learned', 'true']).default('learned'),
  })
  .strict();

export type PebbleConfig = z.infer<typeof PebbleConfigSchema>;

export interface PebbleState {
  rewardReady: boolean;
  nextFeedback: number;
  entropy: { mean: number; var: number; count: number };
  resetRng: ReturnType<Rng['getState']>;
  episodes: { id: number; traj: TrajectoryJSON }[];
  learner: PreferenceLearnerState;
}

type TrajectoryJSON = Omit<Trajectory, 'obs' | 'actions' | 'rewards' | 'success' | 'poses'> & {
  obs: string; actions: string; rewards: string; success: number[]; poses?: { bodyNames: string[]; data: string };
};

function trajectoryToJSON(t: Trajectory): TrajectoryJSON {
  return {
    ...t, obs: f32ToBase64(t.obs), actions: f32ToBase64(t.actions), rewards: f32ToBase64(t.rewards), success: Array.from(t.success),
    poses: t.poses ? { bodyNames: t.poses.bodyNames, data: f32ToBase64(t.poses.data) } : undefined,
  };
}

function trajectoryFromJSON(j: TrajectoryJSON): Trajectory {
  return {
    ...j, obs: base64ToF32(j.obs), actions: base64ToF32(j.actions), rewards: base64ToF32(j.rewards), success: Uint8Array.from(j.success),
    poses: j.poses ? { bodyNames: j.poses.bodyNames, data: base64ToF32(j.poses.data) } : undefined,
  };
}

export interface PebbleHooksResult {
  trainingReward: (obs: Float32Array, action: Float32Array, nextObs: Float32Array, envReward: number) => number;
  beforeUpdate: (batch: Batch, ctx: { step: number; buffer: ReplayBuffer }) => void;
  afterStep: (ctx: { step: number; buffer: ReplayBuffer }) => Promise<Record<string, number> | void>;
  onEpisodeEnd: (traj: Trajectory, episode: number) => void;
}

export class Pebble {
  readonly config: PebbleConfig;
  private readonly entropy: StateEntropyReward;
  private episodes: { traj: Trajectory; id: number }[] = [];
  private rewardReady = false;
  private nextFeedback: number;
  private readonly obsDim: number;
  private readonly actDim: number;
  /** Batch of the most recent feedback round, for progress output. */
  lastRound: RoundResult | null = null;

  private resetRng: Rng;
  private readonly diagRng: Rng;
  readonly seedSteps: number;
  readonly maxEpisodeSteps: number;
  readonly segmentLength: number;
  readonly batchSize: number;

  constructor(
    readonly agent: SAC,
    readonly learner: PreferenceLearner,
    config: Partial<PebbleConfig>,
    run: { seedSteps: number; maxEpisodeSteps: number; batchSize: number; seed: number; segmentLength?: number },
  ) {
    this.seedSteps = run.seedSteps;
    this.maxEpisodeSteps = run.maxEpisodeSteps;
    this.batchSize = run.batchSize;
    this.segmentLength = run.segmentLength ?? 50;
    this.resetRng = new Rng(run.seed).split('pebble-reset-updates');
    // Split per round, so diagnostics draw nothing from the streams training uses and need no checkpoint.
    this.diagRng = new Rng(run.seed).split('pebble-diagnostics');
    const r = PebbleConfigSchema.safeParse(config);
    if (!r.success) throw new Error(`invalid PEBBLE config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.config = r.data;
    this.entropy = new StateEntropyReward(this.config.entropyK);
    this.nextFeedback = this.seedSteps + this.config.unsupSteps;
    this.obsDim = agent.obsDim;
    this.actDim = agent.actDim;
  }

  /** Step at which pre-training ends and the first feedback round runs. */
  get firstFeedbackStep(): number {
    return this.seedSteps + this.config.unsupSteps;
  }

  /** Checkpoint state: schedule position, recent episodes, entropy statistics, and the learner's state. */
  async getState(): Promise<PebbleState> {
    return {
      rewardReady: this.rewardReady,
      nextFeedback: this.nextFeedback,
      entropy: { mean: this.entropy.stats.mean, var: this.entropy.stats.var, count: this.entropy.stats.count },
      resetRng: this.resetRng.getState(),
      episodes: this.episodes.map((e) => ({ id: e.id, traj: trajectoryToJSON(e.traj) })),
      learner: await this.learner.getState(),
    };
  }

  async setState(s: PebbleState): Promise<void> {
    if (!s || typeof s.nextFeedback !== 'number' || !Array.isArray(s.episodes)) throw new Error('checkpoint has no PEBBLE state (extra.json malformed)');
    this.rewardReady = s.rewardReady;
    this.nextFeedback = s.nextFeedback;
    Object.assign(this.entropy.stats, s.entropy);
    this.resetRng = Rng.fromState(s.resetRng);
    this.episodes = s.episodes.map((e) => ({ id: e.id, traj: trajectoryFromJSON(e.traj) }));
    await this.learner.setState(s.learner);
  }

  private get trueReward(): boolean {
    return this.config.rewardSource === 'true';
  }

  /** B-Pref resets the critic after the unsupervised phase whether or not the round produced labels. */
  private resetAfterPretraining(buffer: ReplayBuffer): void {
    this.agent.resetCritic();
    const batch = allocLike(buffer, this.batchSize);
    for (let i = 0; i < this.config.resetUpdates; i++) this.agent.update(buffer.sample(this.resetRng, batch), i);
  }

  hooks(): PebbleHooksResult {
    return {
      trainingReward: (obs, action, _next, envReward) =>
        this.rewardReady && !this.trueReward ? this.learner.relabel(obs, action, 1)[0] : envReward,
      beforeUpdate: (batch, { step, buffer }) => {
        if (step > this.firstFeedbackStep) return;
        // Pre-training: intrinsic reward of each sampled state against the buffer's states.
        const v = buffer.view();
        let refs = v.obs;
        let m = v.size;
        if (this.config.entropyMaxRefs > 0 && m > this.config.entropyMaxRefs) {
          refs = refs.subarray((m - this.config.entropyMaxRefs) * this.obsDim);
          m = this.config.entropyMaxRefs;
        }
        if (m <= this.config.entropyK) return; // too few states for a k-NN estimate yet
        batch.rewards.set(this.entropy.rewards(batch.obs, batch.size, refs, m, this.obsDim));
      },
      afterStep: async ({ step, buffer }) => {
        if (step < this.nextFeedback) return;
        const first = !this.rewardReady;
        if (this.trueReward) {
          if (!first) return;
          // The loop alone: the buffer already holds the env's reward (trainingReward stores it, and the
          // intrinsic reward only ever replaces batch rewards), so only the critic reset remains.
          this.rewardReady = true;
          this.resetAfterPretraining(buffer);
          return pretrainCoverage(buffer.view().obs, this.obsDim, this.seedSteps, this.firstFeedbackStep);
        }
        // After pre-training, rounds stop once the budget is spent; its end always happens (B-Pref).
        if (!first && this.learner.budgetLeft === 0) return;
        this.nextFeedback = step + this.config.numInteract;
        const returns = this.episodes.slice(-10).map((e) => sum(e.traj.rewards));
        const round = this.learner.budgetLeft > 0
          ? await this.learner.feedbackRound(this.episodes.map((e) => e.traj), {
            trajectoryIds: this.episodes.map((e) => e.id),
            returnMargin: returns.length ? returnMargin(returns, this.segmentLength, this.maxEpisodeSteps) : undefined,
          })
          : null;
        const v = buffer.view();
        this.learner.relabel(v.obs, v.actions, v.size, v.rewards);
        this.rewardReady = true;
        const metrics: Record<string, number> = {};
        if (round) {
          this.lastRound = round;
          Object.assign(metrics, {
            feedback_round: round.round, feedback_total: round.totalFeedback, feedback_labelled: round.labelledFeedback,
            feedback_skipped: round.skipped,
          });
          if (round.train) {
            metrics.reward_train_accuracy = round.train.trainAccuracy;
            metrics.reward_train_loss = round.train.loss;
            // Hindsight PRIOR's round: its loss parts and the world model's next-state loss.
            const prior = round.train as Partial<PriorTrainResult>;
            if (prior.priorLoss !== undefined) {
              metrics.reward_preference_loss = prior.preferenceLoss!;
              metrics.reward_prior_loss = prior.priorLoss;
              if (Number.isFinite(prior.worldModelLoss)) metrics.prior_world_model_loss = prior.worldModelLoss!;
            }
          }
          if (Number.isFinite(round.newLabelAccuracy)) metrics.reward_new_label_accuracy = round.newLabelAccuracy;
        }
        Object.assign(metrics, rewardDiagnostics(
          v.rewards, v.trueRewards, this.episodes.map((e) => e.traj),
          (o, a, n) => this.learner.relabel(o, a, n),
          { maxTransitions: this.config.diagTransitions, recentSteps: this.config.diagRecentSteps, pairs: this.config.diagPairs, segmentLength: this.segmentLength },
          this.diagRng.split(step),
        ));
        if (first) {
          Object.assign(metrics, pretrainCoverage(v.obs, this.obsDim, this.seedSteps, this.firstFeedbackStep));
          this.resetAfterPretraining(buffer);
        }
        return metrics;
      },
      onEpisodeEnd: (traj, episode) => {
        this.episodes.push({ traj, id: episode });
        if (this.episodes.length > this.config.recentEpisodes) this.episodes.shift();
      },
    };
  }

}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function allocLike(buffer: ReplayBuffer, size: number): Batch {
  const n = Math.min(size, buffer.size);
  return {
    size: n,
    obs: new Float32Array(n * buffer.obsDim),
    actions: new Float32Array(n * buffer.actDim),
    rewards: new Float32Array(n),
    nextObs: new Float32Array(n * buffer.obsDim),
    dones: new Float32Array(n),
  };
}
