/**
 * Rating-based RL (White, Wu, Novoseller, Lawhern, Waytowich, Cao: "Rating-based Reinforcement
 * Learning", AAAI 2024) as an online learner with PEBBLE's interface: each feedback round draws
 * single segments uniformly from the recent episodes, a rating source puts each into one of k ordered
 * classes, and the reward model is retrained on all ratings so far with the paper's multi-class loss
 * (RewardModel.trainRatings: per batch min-max normalised segment returns, class boundaries from the
 * batch's rating shares, class logits -k (R~ - b_i)(R~ - b_{i+1}), cross-entropy).
 *
 * Budget: one rated segment counts as one query, so RbRL and PEBBLE at the same maxFeedback ask the
 * teacher the same number of times (the paper's comparison). A source may leave some unrated (a person
 * skipping on the labeling page): they still count as asked.
 * Departures from the authors' code (Dev1nW/Rating-based-Reinforcement-Learning): the synthetic rater's
 * return range defaults to the first round's (theirs: a fixed [0, 50]; `range: 'reward-bound'`), since a
 * fixed [0, 10 x H] on Meta-World puts nearly every early segment in class 0; boundaries sit
 * halfway between the returns ranked either side of a class edge (theirs: at the last segment of the
 * lower class); the reward model trains `epochs` passes with PEBBLE's early-stop rule off; their
 * policy learner is PPO (PrefPPO), ours is PEBBLE's SAC with its unsupervised pre-training.
 */
import { z } from 'zod';
import type { RatingLabel, Trajectory } from '../core/types.js';
import { Rng } from '../core/rng.js';
import { PreferenceLearner, type FeedbackConfig, type PreferenceLearnerState, type RoundOptions, type RoundResult } from './feedback.js';
import type { LabelSource, RatingSource } from './label-source.js';
import type { RatedSegment } from './preference-dataset.js';
import { ratingBoundaries, type RewardModel, type TrainResult } from './reward-model.js';
import { DEFAULT_SEGMENT_LENGTH, SegmentSampler, type RewardSegment } from './segments.js';
import { segmentFromJSON, segmentToJSON, type SegmentJSON } from './segment-io.js';
import { parseRatingTeacher } from './teachers/parse.js';
import type { ReturnRatingTeacher } from './teachers/rating.js';

/** A rating teacher spec (`rating:classes=k[,lo=..,hi=..]`), checked by parsing it. */
export const ratingTeacherSpec = z.string().superRefine((s, ctx) => {
  try {
    parseRatingTeacher(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

export const RbrlConfigSchema = z
  .object({
    /** Rating teacher spec (k equal-width return bins over [lo, hi]); without lo/hi, `range` sets them. */
    teacher: ratingTeacherSpec.default('rating:classes=3'),
    /**
     * The teacher's return range when its spec has no lo/hi: 'first-round' = the lowest and highest return
     * among the first round's segments (a rater calibrating on what they saw first); 'reward-bound' =
     * [0, maxStepReward x H], as the authors' code ([0, 50] for DMC's 50-step segments of rewards <= 1).
     */
    range: z.enum(['first-round', 'reward-bound']).default('first-round'),
    /** Largest per-step true reward, for range 'reward-bound' (Meta-World: 10). */
    maxStepReward: z.number().positive().finite().default(10),
    /** Sharpness k of the class probabilities (the authors' code: k = 30). */
    sharpness: z.number().positive().finite().default(30),
    /** Give SAC r_hat standardised by the rated segments' per-step mean and std after each round (the loss leaves its scale free). */
    standardize: z.boolean().default(true),
  })
  .strict();

export type RbrlConfig = z.infer<typeof RbrlConfigSchema>;

/**
 * The paper's class probabilities of one segment: Q(i) = softmax_i(-k (R~ - b_i)(R~ - b_{i+1})), R~ its
 * min-max normalised return, b the C + 1 boundaries (b_0 = 0, b_C = 1). The product is negative only
 * inside class i's interval, so the class containing R~ is the most probable.
 */
export function ratingClassProbs(rn: number, bounds: ArrayLike<number>, k: number): Float64Array {
  const C = bounds.length - 1;
  if (C < 2) throw new Error(`ratingClassProbs: need at least 3 boundaries (2 classes), got ${bounds.length}`);
  const logits = Float64Array.from({ length: C }, (_, i) => -k * (rn - bounds[i]) * (rn - bounds[i + 1]));
  const m = Math.max(...logits);
  let z = 0;
  for (let i = 0; i < C; i++) z += Math.exp(logits[i] - m);
  return logits.map((l) => Math.exp(l - m) / z);
}

/**
 * The rating model on one batch, in plain numbers (what RewardModel.trainRatings optimises per member):
 * returns normalised to [0, 1] over the batch, boundaries from the ratings' shares, mean cross-entropy,
 * and each segment's most probable class.
 */
export function ratingBatch(returns: ArrayLike<number>, ratings: ArrayLike<number>, classes: number, k: number): { loss: number; predicted: number[]; bounds: Float32Array } {
  const B = returns.length;
  if (B < 2 || ratings.length !== B) throw new Error(`ratingBatch: need >= 2 returns and one rating each, got ${B} and ${ratings.length}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < B; i++) {
    lo = Math.min(lo, returns[i]);
    hi = Math.max(hi, returns[i]);
  }
  const rn = Float32Array.from({ length: B }, (_, i) => (returns[i] - lo) / (hi - lo + 1e-6));
  const bounds = ratingBoundaries(rn, Int32Array.from(ratings), 1, B, classes);
  let loss = 0;
  const predicted: number[] = [];
  for (let i = 0; i < B; i++) {
    const q = ratingClassProbs(rn[i], bounds, k);
    loss -= Math.log(Math.max(q[ratings[i]], 1e-300));
    let best = 0;
    for (let c = 1; c < classes; c++) if (q[c] > q[best]) best = c;
    predicted.push(best);
  }
  return { loss: loss / B, predicted, bounds };
}

export interface RatingLearnerState extends PreferenceLearnerState {
  rated: { segment: SegmentJSON; rating: number; classes: number }[];
  shift: number;
  scale: number;
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
  /** relabel returns (r_hat - shift) / scale (identity until the first standardising round). */
  shift = 0;
  scale = 1;
  private readonly roundRng: Rng;
  private readonly length: number;

  constructor(
    model: RewardModel,
    readonly ratings: RatingSource,
    config: FeedbackConfig,
    rng: Rng,
    readonly sharpness = 30,
    /** Called with the first round's segments before they are rated (a teacher fitting its return range). */
    private readonly calibrate?: (segments: readonly RewardSegment[]) => void,
    readonly standardize = true,
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
    if (this.round === 0) this.calibrate?.(segments);
    const answered = this.matchRatings(segments, await this.ratings.rate(segments));
    for (const { segment, label } of answered) this.rated.push({ segment, rating: label.rating, classes: label.classes });
    const cap = this.config.datasetCapacity ?? 500_000;
    if (this.rated.length > cap) this.rated.splice(0, this.rated.length - cap);
    // The budget counts what was asked: a person's skip spent their attention too.
    this.totalFeedback += k;
    this.labelledFeedback += answered.length;
    // Before training on them: how many of this round's ratings the model's returns already put in the right class.
    let newLabelAccuracy = NaN;
    if (answered.length >= 2) {
      // Mean over members, as trainAccuracy: each member's returns normalised and bounded on their own.
      const N = answered.length;
      const returns = this.model.segmentReturns(answered.map((a) => a.segment));
      const ratings = answered.map((a) => a.label.rating);
      let correct = 0;
      for (let e = 0; e < this.model.members; e++) {
        const { predicted } = ratingBatch(returns.subarray(e * N, (e + 1) * N), ratings, answered[0].label.classes, this.sharpness);
        correct += predicted.filter((c, i) => c === ratings[i]).length;
      }
      newLabelAccuracy = correct / (N * this.model.members);
    }
    let train: TrainResult | null = null;
    if (this.rated.length >= 2) {
      train = this.model.trainRatings(this.rated, { epochs: this.config.epochs ?? 10, sharpness: this.sharpness });
      if (this.standardize) this.fitStandardization();
    }
    this.round++;
    return {
      round: this.round, asked: k, labelled: answered.length, skipped: k - answered.length,
      totalFeedback: this.totalFeedback, labelledFeedback: this.labelledFeedback, train, newLabelAccuracy,
    };
  }

  /**
   * Pairs each rating with the segment it rates, in segment order. A source may leave segments out (a
   * person skipped them); the sampler can draw one segment twice, so an id may be rated as often as it
   * was asked, and no more.
   */
  private matchRatings(segments: readonly RewardSegment[], labels: readonly RatingLabel[]): { segment: RewardSegment; label: RatingLabel }[] {
    const open = new Map<string, number[]>();
    segments.forEach((s, i) => open.set(s.id, [...(open.get(s.id) ?? []), i]));
    const byIndex = new Map<number, RatingLabel>();
    labels.forEach((l, j) => {
      const free = open.get(l.segment);
      if (!free) throw new Error(`rating source ${this.ratings.name}: answer ${j} rates segment ${l.segment}, which was not asked (asked: ${segments.map((s) => s.id).join(', ')})`);
      if (free.length === 0) {
        throw new Error(`rating source ${this.ratings.name}: answer ${j} rates segment ${l.segment} again (asked ${segments.filter((s) => s.id === l.segment).length} time(s))`);
      }
      byIndex.set(free.shift()!, l);
    });
    return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([i, label]) => ({ segment: segments[i], label }));
  }

  /**
   * SAC's reward scale: min-max normalisation inside the loss leaves r_hat's scale and offset free (after a
   * round it was ~0.1 std on reach where BT-trained r_hat spreads wider), and the authors' PPO normalises
   * advantages where SAC would not. So r_hat is standardised over every step of the rated segments.
   */
  private fitStandardization(): void {
    const n = this.rated.length * this.length;
    const od = this.model.config.obsDim;
    const ad = this.model.config.actDim;
    const obs = new Float32Array(n * od);
    const act = new Float32Array(n * ad);
    this.rated.forEach((r, i) => {
      obs.set(r.segment.obs.subarray(0, this.length * od), i * this.length * od);
      act.set(r.segment.actions.subarray(0, this.length * ad), i * this.length * ad);
    });
    const r = this.model.predictReward(obs, act, n);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += r[i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (r[i] - mean) ** 2;
    this.shift = mean;
    this.scale = Math.max(Math.sqrt(v / n), 1e-6);
  }

  override relabel(obs: Float32Array, act: Float32Array, n: number, out?: Float32Array): Float32Array {
    const r = super.relabel(obs, act, n, out);
    if (this.shift !== 0 || this.scale !== 1) for (let i = 0; i < n; i++) r[i] = (r[i] - this.shift) / this.scale;
    return r;
  }

  override async getState(): Promise<RatingLearnerState> {
    const base = await super.getState();
    return {
      ...base, shift: this.shift, scale: this.scale,
      rated: this.rated.map((r) => ({ segment: segmentToJSON(r.segment), rating: r.rating, classes: r.classes })),
    };
  }

  override async setState(s: PreferenceLearnerState): Promise<void> {
    const rs = s as RatingLearnerState;
    if (!Array.isArray(rs.rated)) throw new Error('checkpoint has no rating-based RL state (extra.json malformed: no "rated")');
    await super.setState(s);
    this.rated = rs.rated.map((r, i) => ({ segment: segmentFromJSON(r.segment, `rated[${i}].segment`), rating: r.rating, classes: r.classes }));
    this.shift = rs.shift ?? 0;
    this.scale = rs.scale ?? 1;
  }
}

/**
 * The rating teacher of a run and, for range 'first-round', the calibration the learner calls with the
 * first round's segments: lo/hi from the spec if given, else as `range` says.
 */
export function ratingTeacherFor(cfg: RbrlConfig, segmentLength: number, rng: Rng): { teacher: ReturnRatingTeacher; calibrate?: (segs: readonly RewardSegment[]) => void } {
  const teacher = parseRatingTeacher(cfg.teacher, rng);
  if (teacher.hasReturnRange) return { teacher };
  if (cfg.range === 'reward-bound') {
    teacher.setReturnRange(0, cfg.maxStepReward * segmentLength);
    return { teacher };
  }
  return { teacher, calibrate: (segs) => teacher.fitReturnRange(segs) };
}
