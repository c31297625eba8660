/**
 * QPA (Hu, Li, Zhan, Jia, Zhang: "Query-Policy Misalignment in Preference-Based Reinforcement
 * Learning", ICLR 2024) on top of PEBBLE. Two changes to PEBBLE's loop, as the authors' train_QPA.py:
 *   1. policy-aligned queries: the pairs of every feedback round are drawn uniformly from the last
 *      `queryEpisodes` episodes only (their max_reward_buffer_size), so the teacher judges what the
 *      current policy does rather than old exploration data;
 *   2. hybrid experience replay: while label budget remains, `hybridRatio` of each SAC batch
 *      (their her_ratio) comes from the transitions of those recent episodes, the rest uniformly
 *      from the whole buffer; once the budget is spent, plain uniform replay.
 * Departure: the authors also train the reward model on temporally cropped copies of each labelled
 * pair (data_aug_ratio 20, SURF's augmentation without the pseudo-labels); that is not done here.
 */
import { z } from 'zod';
import { Rng } from '../core/rng.js';
import type { Trajectory } from '../core/types.js';
import type { Pebble, PebbleHooksResult, PebbleState } from './pebble.js';

export const QpaConfigSchema = z
  .object({
    /** Most recent episodes the query pool (and the hybrid replay) draws from (train_QPA.yaml max_reward_buffer_size: 10; its Meta-World scripts 30-60). */
    queryEpisodes: z.number().int().positive().default(10),
    /** Share of each SAC batch taken from those recent episodes while label budget remains (her_ratio). */
    hybridRatio: z.number().min(0).max(1).default(0.5),
  })
  .strict();

export type QpaConfig = z.infer<typeof QpaConfigSchema>;

export interface QpaState {
  pebble: PebbleState;
  rng: ReturnType<Rng['getState']>;
  lengths: number[];
  finishedSteps: number;
}

export class Qpa {
  readonly config: QpaConfig;
  private rng: Rng;
  /** Lengths of the last queryEpisodes finished episodes, oldest first. */
  private lengths: number[] = [];
  /** Env steps covered by all finished episodes (the rest of `step` is the running episode). */
  private finishedSteps = 0;

  constructor(readonly pebble: Pebble, config: Partial<QpaConfig>, seed: number) {
    const r = QpaConfigSchema.safeParse(config);
    if (!r.success) throw new Error(`invalid QPA config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.config = r.data;
    if (pebble.config.recentEpisodes !== this.config.queryEpisodes) {
      // The pool PEBBLE queries from is its recentEpisodes; QPA's setup sets it to queryEpisodes.
      throw new Error(`QPA: pebble.recentEpisodes (${pebble.config.recentEpisodes}) must equal qpa.queryEpisodes (${this.config.queryEpisodes})`);
    }
    this.rng = new Rng(seed).split('qpa-hybrid-replay');
  }

  /** Transitions of the recent episodes (finished ones plus the running one) at env step `step`. */
  recentWindow(step: number): number {
    return this.lengths.reduce((a, b) => a + b, 0) + Math.max(0, step - this.finishedSteps);
  }

  /** Rows of a batch of `size` that hybrid replay redraws from recent data. */
  recentRows(size: number): number {
    return Math.round(this.config.hybridRatio * size);
  }

  async getState(): Promise<QpaState> {
    return { pebble: await this.pebble.getState(), rng: this.rng.getState(), lengths: [...this.lengths], finishedSteps: this.finishedSteps };
  }

  async setState(s: QpaState): Promise<void> {
    if (!s || !s.pebble || !Array.isArray(s.lengths)) throw new Error('checkpoint has no QPA state (extra.json malformed)');
    await this.pebble.setState(s.pebble);
    this.rng = Rng.fromState(s.rng);
    this.lengths = [...s.lengths];
    this.finishedSteps = s.finishedSteps;
  }

  hooks(): PebbleHooksResult {
    const base = this.pebble.hooks();
    return {
      ...base,
      beforeUpdate: (batch, ctx) => {
        base.beforeUpdate(batch, ctx);
        // Pre-training keeps PEBBLE's entropy batches; QPA's code switches to hybrid replay after it.
        if (ctx.step <= this.pebble.firstFeedbackStep || this.pebble.learner.budgetLeft === 0) return;
        const rows = this.recentRows(batch.size);
        if (rows > 0) ctx.buffer.sampleRecent(this.rng, batch, 0, rows, this.recentWindow(ctx.step));
      },
      onEpisodeEnd: (traj: Trajectory, episode: number) => {
        base.onEpisodeEnd(traj, episode);
        this.lengths.push(traj.length);
        this.finishedSteps += traj.length;
        if (this.lengths.length > this.config.queryEpisodes) this.lengths.shift();
      },
    };
  }
}
