/**
 * Scripted teachers: one interface, `label(a, b)`, returning the probability that segment A is
 * preferred (1, 0, 0.5 for "equally good") or null when the teacher declines to answer.
 *
 * All B-Pref teachers are settings of one simulated teacher (B-Pref's SimTeacher: rationality beta,
 * myopia gamma, mistake rate eps, skip and equal thresholds), plus the choice of what is compared —
 * the partial return (B-Pref) or the regret, i.e. the sum of optimal advantages (Knox et al.). Each
 * named teacher (one per file) is a component that sets some of those fields; a spec such as
 * `skip:frac=0.1+stoc:beta=1` combines components, and `SimTeacher` applies them in B-Pref's order:
 * skip, equal mask, (myopic) scores, rational or Bradley-Terry choice, mistake flip, equal override.
 */
import type { PreferenceLabel, RatingLabel } from '../../core/types.js';
import { Rng } from '../../core/rng.js';
import { discountedSegmentReturn, segmentReturn, type RewardSegment } from '../segments.js';

export type PreferenceValue = PreferenceLabel['label'];

export interface Teacher {
  /** Normalised spec string, stored with every label ("skip:frac=0.1+stoc:beta=1"). */
  readonly spec: string;
  label(a: RewardSegment, b: RewardSegment): PreferenceValue;
}

export interface RatingTeacher {
  readonly spec: string;
  readonly classes: number;
  /** Class in [0, classes - 1], higher = better. */
  rate(seg: RewardSegment): number;
}

/** V*(s): the optimal value of an observation (e.g. the scripted expert's Monte-Carlo return from s). */
export type ValueFunction = (obs: Float32Array) => number;

/**
 * A skip/equal threshold: absolute (in reward units), or relative to the return margin B-Pref uses,
 * margin = mean recent episode return * H / max episode steps, set with `setReturnMargin`.
 */
export type Threshold = { kind: 'absolute'; value: number } | { kind: 'relative'; frac: number };

export interface SimTeacherConfig {
  /** Rationality: Infinity = always the better segment; 0 = coin flip. */
  beta: number;
  /** Myopia: step t of H gets weight gamma^(H-1-t). 1 = no myopia. */
  gamma: number;
  /** Probability of flipping a 0/1 answer. */
  eps: number;
  skip: Threshold | null;
  equal: Threshold | null;
  /** What is compared: sum of true rewards, or sum of optimal advantages. */
  score: 'return' | 'regret';
  valueFn?: ValueFunction;
}

export function defaultSimConfig(): SimTeacherConfig {
  return { beta: Infinity, gamma: 1, eps: 0, skip: null, equal: null, score: 'return' };
}

/** A numeric parameter of a teacher component, with its allowed range for error messages. */
export interface ParamSpec {
  description: string;
  default?: number;
  min: number;
  max: number;
  /** min itself is not allowed. */
  minExclusive?: boolean;
  integer?: boolean;
}

/** What one named teacher contributes to a SimTeacherConfig. */
export interface TeacherComponent {
  name: string;
  aliases?: string[];
  description: string;
  params: Record<string, ParamSpec>;
  /** Config fields this component sets; two components setting the same field is a spec error. */
  sets: (keyof SimTeacherConfig)[];
  /** params holds every given parameter plus defaults; `given` names the ones the caller gave. */
  apply(cfg: SimTeacherConfig, params: Record<string, number>, given: ReadonlySet<string>): void;
}

/** Parameters that pick one threshold form; shared by skip and equal. */
export function thresholdParams(what: string): Record<string, ParamSpec> {
  return {
    thresh: { description: `absolute ${what} threshold on the undiscounted segment return`, min: 0, max: Infinity },
    frac: { description: `${what} threshold as a fraction of the return margin (B-Pref eps)`, default: 0.1, min: 0, max: Infinity },
  };
}

export function thresholdFrom(params: Record<string, number>, given: ReadonlySet<string>, teacher: string): Threshold {
  if (given.has('thresh') && given.has('frac')) throw new Error(`teacher "${teacher}": give either thresh or frac, not both`);
  return given.has('thresh') ? { kind: 'absolute', value: params.thresh } : { kind: 'relative', frac: params.frac };
}

/**
 * How a relative threshold follows the feedback rounds (reward/README.md, "Skip and equal thresholds"):
 * - 'bpref-code' (default): what B-Pref's train_PEBBLE.py does, so what its published numbers came
 *   from: frac * margin in the first round, frac^2 * margin after it (the periodic step passes
 *   margin * eps to a setter that multiplies by eps again).
 * - 'paper': the B-Pref paper's definition, frac * margin in every round.
 */
export const THRESHOLD_RULES = ['bpref-code', 'paper'] as const;
export type ThresholdRule = (typeof THRESHOLD_RULES)[number];

/** Options of setReturnMargin. */
export interface MarginOptions {
  /** Multiply relative thresholds' frac in once more (B-Pref's code after its first round). */
  fracTwice?: boolean;
}

/** Whether round `round` (0-based) of a run under `rule` applies frac twice (see ThresholdRule). */
export function fracTwiceInRound(rule: ThresholdRule, round: number): boolean {
  if (!THRESHOLD_RULES.includes(rule)) throw new Error(`thresholdRule must be one of ${THRESHOLD_RULES.join(', ')}, got "${rule}"`);
  return rule === 'bpref-code' && round > 0;
}

/**
 * B-Pref's return margin for relative thresholds: mean return of recent episodes scaled to one
 * segment. How the threshold follows rounds is a ThresholdRule, applied by the caller through
 * setReturnMargin's options.
 */
export function returnMargin(recentEpisodeReturns: ArrayLike<number>, segmentLength: number, maxEpisodeSteps: number): number {
  if (recentEpisodeReturns.length === 0) throw new Error('returnMargin: recentEpisodeReturns is empty; need at least one finished episode');
  if (!(segmentLength > 0) || !(maxEpisodeSteps > 0)) {
    throw new Error(`returnMargin: segmentLength and maxEpisodeSteps must be positive, got ${segmentLength} and ${maxEpisodeSteps}`);
  }
  let s = 0;
  for (let i = 0; i < recentEpisodeReturns.length; i++) s += recentEpisodeReturns[i];
  return (s / recentEpisodeReturns.length) * (segmentLength / maxEpisodeSteps);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export interface SimTeacherState {
  choice: ReturnType<Rng['getState']>;
  mistake: ReturnType<Rng['getState']>;
  margin: number | null;
  fracTwice?: boolean;
}

export class SimTeacher implements Teacher {
  readonly spec: string;
  readonly config: Readonly<SimTeacherConfig>;
  private margin: number | null = null;
  private fracTwice = false;
  private choiceRng: Rng;
  private mistakeRng: Rng;

  constructor(config: SimTeacherConfig, rng: Rng, spec: string) {
    checkSimConfig(config);
    this.config = { ...config };
    this.spec = spec;
    // Separate streams: turning on mistakes does not change which way a stochastic teacher leans.
    this.choiceRng = rng.split('choice');
    this.mistakeRng = rng.split('mistake');
  }

  /** Random-stream positions and margin, for checkpoints (a resumed run labels exactly as before). */
  getState(): SimTeacherState {
    return { choice: this.choiceRng.getState(), mistake: this.mistakeRng.getState(), margin: this.margin, fracTwice: this.fracTwice };
  }

  setState(s: SimTeacherState): void {
    this.choiceRng = Rng.fromState(s.choice);
    this.mistakeRng = Rng.fromState(s.mistake);
    this.margin = s.margin;
    // Checkpoints from before the option applied frac once.
    this.fracTwice = s.fracTwice ?? false;
  }

  /** Sets the margin that relative skip/equal thresholds multiply (see returnMargin and ThresholdRule). */
  setReturnMargin(margin: number, opts: MarginOptions = {}): void {
    if (!Number.isFinite(margin) || margin < 0) throw new Error(`return margin must be a finite number >= 0, got ${margin}`);
    this.margin = margin;
    this.fracTwice = opts.fracTwice ?? false;
  }

  /** The current absolute value of a threshold. */
  thresholdValue(t: Threshold, which: 'skip' | 'equal'): number {
    if (t.kind === 'absolute') return t.value;
    if (this.margin === null) {
      throw new Error(`teacher "${this.spec}": the ${which} threshold is relative (frac=${t.frac}); call setReturnMargin(returnMargin(...)) first or give thresh=<absolute>`);
    }
    return (this.fracTwice ? t.frac * t.frac : t.frac) * this.margin;
  }

  /** What the teacher compares for one segment (before beta). */
  score(seg: RewardSegment): number {
    if (this.config.score === 'return') return discountedSegmentReturn(seg, this.config.gamma);
    return regretScore(seg, this.config.valueFn!);
  }

  label(a: RewardSegment, b: RewardSegment): PreferenceValue {
    checkPair(a, b);
    const { skip, equal, beta, eps } = this.config;
    const ra = segmentReturn(a);
    const rb = segmentReturn(b);
    if (skip) {
      const t = this.thresholdValue(skip, 'skip');
      // B-Pref keeps a query only if at least one segment's return exceeds the threshold.
      if (t > 0 && !(Math.max(ra, rb) > t)) return null;
    }
    const isEqual = equal ? Math.abs(ra - rb) < this.thresholdValue(equal, 'equal') : false;
    const sa = this.score(a);
    const sb = this.score(b);
    let y: 0 | 1;
    if (beta === Infinity) y = sa >= sb ? 1 : 0; // ties prefer A, as B-Pref prefers segment 1
    else y = this.choiceRng.uniform() < sigmoid(beta * (sa - sb)) ? 1 : 0;
    if (eps > 0 && this.mistakeRng.uniform() < eps) y = y === 1 ? 0 : 1;
    // Equal overrides a flip, as in B-Pref.
    return isEqual ? 0.5 : y;
  }
}

/**
 * Sum of optimal advantages along the segment: sum_t r_t + V*(s_H) - V*(s_0) (undiscounted, as
 * CPL's "rl_sum" labels). Needs s_H, the observation after the last action (`finalObs`); a segment
 * without it is scored over its first H - 1 steps, ending at the last observation it has.
 */
export function regretScore(seg: RewardSegment, V: ValueFunction): number {
  const d = seg.obsDim;
  const first = seg.obs.subarray(0, d);
  if (seg.finalObs) return segmentReturn(seg) + V(seg.finalObs) - V(first);
  let s = 0;
  for (let t = 0; t < seg.length - 1; t++) s += seg.rewards[t];
  return s + V(seg.obs.subarray((seg.length - 1) * d, seg.length * d)) - V(first);
}

function checkSimConfig(c: SimTeacherConfig): void {
  if (!(c.beta >= 0)) throw new Error(`teacher beta must be >= 0 (Infinity = rational), got ${c.beta}`);
  if (!(c.gamma > 0 && c.gamma <= 1)) throw new Error(`teacher gamma must be in (0, 1], got ${c.gamma}`);
  if (!(c.eps >= 0 && c.eps <= 1)) throw new Error(`teacher eps must be in [0, 1], got ${c.eps}`);
  for (const [k, t] of [['skip', c.skip], ['equal', c.equal]] as const) {
    if (t && t.kind === 'absolute' && !(t.value >= 0)) throw new Error(`teacher ${k} thresh must be >= 0, got ${t.value}`);
    if (t && t.kind === 'relative' && !(t.frac >= 0)) throw new Error(`teacher ${k} frac must be >= 0, got ${t.frac}`);
  }
  if (c.score === 'regret') {
    if (typeof c.valueFn !== 'function') {
      throw new Error('the regret teacher needs an optimal value function V*(obs): pass { valueFn } (e.g. the scripted expert\'s Monte-Carlo value)');
    }
    if (c.gamma !== 1) throw new Error('the regret teacher compares sums of optimal advantages; myopic discounting (gamma < 1) applies to partial returns only');
  }
}

function checkPair(a: RewardSegment, b: RewardSegment): void {
  if (!a || !b || !(a.rewards instanceof Float32Array) || !(b.rewards instanceof Float32Array)) {
    throw new Error('teacher.label(a, b) needs two segments with Float32Array rewards');
  }
}

/** Labels pairs as stored PreferenceLabels (skipped pairs are kept with label null). */
export function labelPairs(teacher: Teacher, pairs: readonly [RewardSegment, RewardSegment][]): PreferenceLabel[] {
  return pairs.map(([a, b]) => ({ a: a.id, b: b.id, label: teacher.label(a, b), teacher: teacher.spec }));
}

export function rateSegments(teacher: RatingTeacher, segments: readonly RewardSegment[]): RatingLabel[] {
  return segments.map((s) => ({ segment: s.id, rating: teacher.rate(s), classes: teacher.classes, teacher: teacher.spec }));
}
