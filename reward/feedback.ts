/**
 * One object for an online trainer (PEBBLE, SURF): each feedback round samples a candidate pool
 * from recent trajectories, picks queries, asks the label source, adds the answers to the labelled
 * set and retrains the reward model; `relabel` then rewrites the replay buffer's rewards.
 *
 * Budget accounting follows B-Pref: every query asked counts toward maxFeedback, skipped or not.
 */
import type { Trajectory } from '../core/types.js';
import { Rng } from '../core/rng.js';
import type { LabelSource } from './label-source.js';
import { PreferenceDataset, type LabelledPair } from './preference-dataset.js';
import { selectQueries } from './query/select.js';
import type { RewardModel, TrainResult } from './reward-model.js';
import { DEFAULT_SEGMENT_LENGTH, SegmentSampler, subSegment, type SegmentPair } from './segments.js';
import { resolveSurfConfig, trainSurf, type SurfConfig } from './surf.js';
import { fracTwiceInRound, SimTeacher, THRESHOLD_RULES, type ThresholdRule } from './teachers/teacher.js';
import { TeacherLabelSource } from './label-source.js';
import { segmentFromJSON, segmentToJSON, type SegmentJSON } from './segment-io.js';
import { PriorLearner, type PriorConfig, type PriorState } from './prior.js';

export interface FeedbackConfig {
  /** H (default 50). */
  segmentLength?: number;
  /** Queries per round (B-Pref reward_batch). */
  queriesPerRound: number;
  /** Total queries over the run (B-Pref max_feedback). */
  maxFeedback: number;
  /** Query strategy name (default 'disagreement'). */
  strategy?: string;
  poolMultiplier?: number;
  /** PEBBLE reward_update (default 10) — SURF uses its own epochs. */
  epochs?: number;
  earlyStopAccuracy?: number;
  datasetCapacity?: number;
  /** Turn on SURF with these settings (missing ones from SURF_DEFAULTS). */
  surf?: Partial<SurfConfig>;
  /** Turn on Hindsight PRIOR's return-redistribution loss with these settings (reward/prior.ts). */
  prior?: Partial<PriorConfig>;
  /** How relative skip/equal thresholds follow the rounds (default 'bpref-code'; see ThresholdRule). */
  thresholdRule?: ThresholdRule;
}

export interface RoundResult {
  round: number;
  asked: number;
  labelled: number;
  skipped: number;
  totalFeedback: number;
  labelledFeedback: number;
  /** Null when every query of every round so far was skipped (nothing to train on yet). */
  train: TrainResult | null;
  /**
   * The model's accuracy on this round's hard labels before it trained on them: held-out accuracy at
   * no extra label cost, on segments from where the policy is now (NaN when the round had none).
   */
  newLabelAccuracy: number;
}

export interface RoundOptions {
  /** Ids of the trajectories (episode numbers), so segment ids stay unique across rounds. */
  trajectoryIds?: (string | number)[];
  /** B-Pref return margin for relative skip/equal thresholds of a scripted teacher (see returnMargin). */
  returnMargin?: number;
}

export interface PreferenceLearnerState {
  totalFeedback: number;
  labelledFeedback: number;
  round: number;
  dataset: ReturnType<PreferenceDataset['toJSON']>;
  unlabelled: [SegmentJSON, SegmentJSON][];
  model: Awaited<ReturnType<RewardModel['getTrainingState']>>;
  teacher: ReturnType<SimTeacher['getState']> | null;
  /** PRIOR's world model (only when `prior` is set). */
  prior?: PriorState;
}

export class PreferenceLearner {
  dataset: PreferenceDataset;
  /** SURF's unlabelled pairs (empty without SURF). */
  readonly unlabelled: SegmentPair[] = [];
  totalFeedback = 0;
  labelledFeedback = 0;
  round = 0;
  private readonly surf: SurfConfig | null;
  /** Hindsight PRIOR's world model and loss (null without `prior`). */
  readonly prior: PriorLearner | null;
  private readonly H: number;

  constructor(
    readonly model: RewardModel,
    readonly source: LabelSource,
    readonly config: FeedbackConfig,
    private readonly rng: Rng,
  ) {
    const { queriesPerRound: mb, maxFeedback } = config;
    if (!Number.isInteger(mb) || mb < 1) throw new Error(`queriesPerRound must be an integer >= 1, got ${mb}`);
    if (!Number.isInteger(maxFeedback) || maxFeedback < 0) throw new Error(`maxFeedback must be an integer >= 0, got ${maxFeedback}`);
    this.H = config.segmentLength ?? DEFAULT_SEGMENT_LENGTH;
    this.surf = config.surf ? resolveSurfConfig(config.surf) : null;
    if (config.surf && config.prior) throw new Error('feedback: surf and prior cannot be combined (choose one reward-training loss)');
    this.prior = config.prior ? new PriorLearner(model, config.prior, rng.split('prior-init')) : null;
    if (config.thresholdRule !== undefined && !THRESHOLD_RULES.includes(config.thresholdRule)) {
      throw new Error(`thresholdRule must be one of ${THRESHOLD_RULES.join(', ')}, got "${config.thresholdRule}"`);
    }
    this.dataset = new PreferenceDataset(config.datasetCapacity ?? 500_000);
  }

  get budgetLeft(): number {
    return Math.max(0, this.config.maxFeedback - this.totalFeedback);
  }

  /** Runs one round; returns null once the budget is spent (the model is then frozen). */
  async feedbackRound(trajectories: readonly Trajectory[], opts: RoundOptions = {}): Promise<RoundResult | null> {
    const k = Math.min(this.config.queriesPerRound, this.budgetLeft);
    if (k === 0) return null;
    if (opts.returnMargin !== undefined && this.source instanceof TeacherLabelSource && this.source.teacher instanceof SimTeacher) {
      this.source.teacher.setReturnMargin(opts.returnMargin, { fracTwice: fracTwiceInRound(this.config.thresholdRule ?? 'bpref-code', this.round) });
    }
    const rng = this.rng.split(`round${this.round}`);
    const w = this.surf?.window ?? 0;
    const sampler = new SegmentSampler(trajectories, { length: this.H + 2 * w, trajectoryIds: opts.trajectoryIds });
    const firstRound = this.round === 0 || this.dataset.size === 0;
    const queries = selectQueries(this.config.strategy ?? 'disagreement', sampler, k, rng.split('queries'), {
      poolMultiplier: this.config.poolMultiplier,
      model: this.model,
      labelled: this.dataset.pairs,
      firstRound,
    });
    // Teachers and people judge the central H steps; the stored (longer) segments keep their ids.
    const shown: SegmentPair[] = w > 0 ? queries.map(([a, b]) => [subSegment(a, w, this.H), subSegment(b, w, this.H)]) : queries;
    const labels = await this.source.label(shown);
    if (labels.length !== queries.length) throw new Error(`label source ${this.source.name} returned ${labels.length} labels for ${queries.length} queries`);
    labels.forEach((l, i) => {
      const [a, b] = shown[i];
      if (l.a !== a.id || l.b !== b.id) {
        throw new Error(`label source ${this.source.name}: answer ${i} is for (${l.a}, ${l.b}) but query ${i} is (${a.id}, ${b.id}); answers must come in query order`);
      }
    });
    let labelled = 0;
    const fresh: LabelledPair[] = [];
    labels.forEach((l, i) => {
      this.dataset.add(queries[i][0], queries[i][1], l.label);
      if (l.label !== null) {
        labelled++;
        if (l.label !== 0.5) fresh.push({ a: shown[i][0], b: shown[i][1], label: l.label }); // what the teacher judged
      }
    });
    const newLabelAccuracy = fresh.length ? this.model.evaluate(fresh).accuracy : NaN;
    this.totalFeedback += queries.length;
    this.labelledFeedback += labelled;
    if (this.surf) {
      this.unlabelled.push(...sampler.samplePairs(this.surf.invLabelRatio * k, rng.split('unlabelled')));
      const cap = this.dataset.capacity;
      if (this.unlabelled.length > cap) this.unlabelled.splice(0, this.unlabelled.length - cap);
    }
    let train: TrainResult | null = null;
    if (this.dataset.size > 0) {
      const pairs: readonly LabelledPair[] = this.dataset.pairs;
      train = this.surf
        ? trainSurf(this.model, pairs, this.unlabelled, this.surf, rng.split('surf'))
        : this.prior
          ? this.prior.train(pairs, trajectories, rng.split('prior'), { epochs: this.config.epochs ?? 10, earlyStopAccuracy: this.config.earlyStopAccuracy ?? 0.97 })
          : this.model.train(pairs, { epochs: this.config.epochs ?? 10, earlyStopAccuracy: this.config.earlyStopAccuracy ?? 0.97 });
    }
    this.round++;
    return {
      round: this.round,
      asked: queries.length,
      labelled,
      skipped: queries.length - labelled,
      totalFeedback: this.totalFeedback,
      labelledFeedback: this.labelledFeedback,
      train,
      newLabelAccuracy,
    };
  }

  /**
   * Everything a checkpoint needs to continue exactly: counters, labelled pairs (with their segments),
   * SURF's unlabelled pairs, the reward model's weights and Adam moments, and a scripted teacher's
   * random streams. (Rounds draw their randomness from split(round), so no other RNG state is kept.)
   */
  async getState(): Promise<PreferenceLearnerState> {
    const teacher = this.source instanceof TeacherLabelSource && this.source.teacher instanceof SimTeacher ? this.source.teacher.getState() : null;
    return {
      totalFeedback: this.totalFeedback,
      labelledFeedback: this.labelledFeedback,
      round: this.round,
      dataset: this.dataset.toJSON(),
      unlabelled: this.unlabelled.map(([a, b]) => [segmentToJSON(a), segmentToJSON(b)]),
      model: await this.model.getTrainingState(),
      teacher,
      ...(this.prior ? { prior: this.prior.getState() } : {}),
    };
  }

  async setState(s: PreferenceLearnerState): Promise<void> {
    this.totalFeedback = s.totalFeedback;
    this.labelledFeedback = s.labelledFeedback;
    this.round = s.round;
    this.dataset = PreferenceDataset.fromJSON(s.dataset);
    this.unlabelled.length = 0;
    s.unlabelled.forEach(([a, b], i) => this.unlabelled.push([segmentFromJSON(a, `unlabelled[${i}].a`), segmentFromJSON(b, `unlabelled[${i}].b`)]));
    await this.model.setTrainingState(s.model);
    if (this.prior && s.prior) this.prior.setState(s.prior);
    if (s.teacher && this.source instanceof TeacherLabelSource && this.source.teacher instanceof SimTeacher) this.source.teacher.setState(s.teacher);
  }

  /** Ensemble-mean r_hat for n transitions (PEBBLE relabels the whole replay buffer after each round). */
  relabel(obs: Float32Array, act: Float32Array, n: number, out?: Float32Array): Float32Array {
    return this.model.predictReward(obs, act, n, out);
  }
}
