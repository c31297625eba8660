/**
 * Rating-based RL (White, Wu, Novoseller, Lawhern, Waytowich, Cao: "Rating-based Reinforcement
 * Learning", AAAI 2024) as an online learner with PEBBLE's interface: each feedback round draws
 * single segments uniformly from the recent episodes, a rating source puts each into one of k ordered
 * classes, and the reward model is retrained on all ratings so far with the paper's multi-class loss
 * (RewardModel.trainRatings: per batch min-max normalised segment returns, class boundaries from the
 * batch's rating shares, class logits -k (R~ - b_i)(R~ - b_{i+1}), cross-entropy).
 *
 * Budget: one rated segment counts as one query, so RbRL and PEBBLE at the same maxFeedback ask the
 * teacher the same number of times (the paper's comparison).
 * Departures from the authors' code (Dev1nW/Rating-based-Reinforcement-Learning): boundaries sit
 * halfway between the returns ranked either side of a class edge (theirs: at the last segment of the
 * lower class); the reward model trains `epochs` passes with PEBBLE's early-stop rule off; their
 * policy learner is PPO (PrefPPO), ours is PEBBLE's SAC with its unsupervised pre-training.
 */
import { z } from 'zod';
import type { Trajectory } from '../core/types.js';
import { Rng } from '../core/rng.js';
import { PreferenceLearner, type FeedbackConfig, type PreferenceLearnerState, type RoundOptions, type RoundResult } from './feedback.js';
import type { LabelSource, RatingSource } from './label-source.js';
import type { RatedSegment } from './preference-dataset.js';
import type { RewardModel, TrainResult } from './reward-model.js';
import { DEFAULT_SEGMENT_LENGTH, SegmentSampler } from './segments.js';
import { segmentFromJSON, segmentToJSON, type SegmentJSON } from './segment-io.js';
import { parseRatingTeacher } from './teachers/parse.js';

export const RbrlConfigSchema = z
  .object({
    /** Rating teacher spec; lo/hi default to [0, maxStepReward x segment length] (the authors' code bins [0, 50] for DMC's 50-step, max-1 rewards). */
    teacher: z.string().default('rating:classes=3').superRefine((s, ctx) => {
      try {
        parseRatingTeacher(s);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
    /** Largest per-step true reward, for the teacher's default return range (Meta-World: 10). */
    maxStepReward: z.number().positive().finite().default(10),
    /** Sharpness k of the class probabilities (the authors' code: k = 30). */
    sharpness: z.number().positive().finite().default(30),
  })
  .strict();

export type RbrlConfig = z.infer<typeof RbrlConfigSchema>;

export interface RatingLearnerState extends PreferenceLearnerState {
  rated: { segment: SegmentJSON; rating: number; classes: number }[];
}

/** PreferenceLearner's pair source is never asked: RbRL's rounds ask the rating source. */
const NO_PAIRS: LabelSource = {
  name: 'rbrl (ratings only)',
  label: async () => {
    throw new Error('rating-based RL asks for ratings of single segments, not pair labels');
  },
};

export class RatingLearner extends PreferenceLearner {
  /** Every rating so far (oldest dropped beyond datasetCapacity). */
  rated: RatedSegment[] = [];
  private readonly roundRng: Rng;
  private readonly length: number;

  constructor(
    model: RewardModel,
    readonly ratings: RatingSource,
    config: FeedbackConfig,
    rng: Rng,
    readonly sharpness = 30,
  ) {
    super(model, NO_PAIRS, config, rng);
    if (config.surf) throw new Error('rating-based RL does not combine with SURF (feedback.surf)');
    if (!(sharpness > 0)) throw new Error(`rbrl sharpness must be > 0, got ${sharpness}`);
    this.roundRng = rng.split('ratings');
    this.length = config.segmentLength ?? DEFAULT_SEGMENT_LENGTH;
  }

  override async feedbackRound(trajectories: readonly Trajectory[], opts: RoundOptions = {}): Promise<RoundResult | null> {
    const k = Math.min(this.config.queriesPerRound, this.budgetLeft);
    if (k === 0) return null;
    const sampler = new SegmentSampler(trajectories, { length: this.length, trajectoryIds: opts.trajectoryIds });
    const segments = sampler.sampleMany(k, this.roundRng.split(`round${this.round}`));
    const labels = await this.ratings.rate(segments);
    if (labels.length !== segments.length) throw new Error(`rating source ${this.ratings.name} returned ${labels.length} ratings for ${segments.length} segments`);
    labels.forEach((l, i) => {
      if (l.segment !== segments[i].id) throw new Error(`rating source ${this.ratings.name}: answer ${i} is for ${l.segment} but segment ${i} is ${segments[i].id}`);
      this.rated.push({ segment: segments[i], rating: l.rating, classes: l.classes });
    });
    const cap = this.config.datasetCapacity ?? 500_000;
    if (this.rated.length > cap) this.rated.splice(0, this.rated.length - cap);
    this.totalFeedback += k;
    this.labelledFeedback += labels.length;
    let train: TrainResult | null = null;
    if (this.rated.length >= 2) {
      train = this.model.trainRatings(this.rated, { epochs: this.config.epochs ?? 10, sharpness: this.sharpness });
    }
    this.round++;
    return {
      round: this.round, asked: k, labelled: labels.length, skipped: k - labels.length,
      totalFeedback: this.totalFeedback, labelledFeedback: this.labelledFeedback, train, newLabelAccuracy: NaN,
    };
  }

  override async getState(): Promise<RatingLearnerState> {
    const base = await super.getState();
    return { ...base, rated: this.rated.map((r) => ({ segment: segmentToJSON(r.segment), rating: r.rating, classes: r.classes })) };
  }

  override async setState(s: PreferenceLearnerState): Promise<void> {
    const rs = s as RatingLearnerState;
    if (!Array.isArray(rs.rated)) throw new Error('checkpoint has no rating-based RL state (extra.json malformed: no "rated")');
    await super.setState(s);
    this.rated = rs.rated.map((r, i) => ({ segment: segmentFromJSON(r.segment, `rated[${i}].segment`), rating: r.rating, classes: r.classes }));
  }
}

/** The rating teacher of a run: lo/hi from the spec, else [0, maxStepReward x H]. */
export function ratingTeacherFor(cfg: RbrlConfig, segmentLength: number, rng: Rng) {
  const t = parseRatingTeacher(cfg.teacher, rng);
  if (!/\blo=/.test(cfg.teacher)) t.setReturnRange(0, cfg.maxStepReward * segmentLength);
  return t;
}
