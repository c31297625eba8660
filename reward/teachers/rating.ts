/**
 * Rating teacher for rating-based RL (White et al., "Rating-based Reinforcement Learning"): puts one
 * segment into one of k ordered classes by its true return, splitting the return range [lo, hi]
 * into k equal-width bins (returns outside the range go to the end classes). The range is given in
 * the spec (`rating:classes=3,lo=0,hi=50`) or set later from data with `setReturnRange`.
 */
import { Rng } from '../../core/rng.js';
import { checkParam } from './compose.js';
import { segmentReturn, type RewardSegment } from '../segments.js';
import type { RatingTeacher, TeacherComponent } from './teacher.js';

/** Only its params are used (the parser checks them); ratings are not a SimTeacher setting. */
export const rating: TeacherComponent = {
  name: 'rating',
  description: 'rates one segment into k ordered classes by its return (rating-based RL)',
  params: {
    classes: { description: 'number of ordered classes', default: 3, min: 2, max: 100, integer: true },
    lo: { description: 'return at the bottom of class 0', min: -Infinity, max: Infinity },
    hi: { description: 'return at the top of the highest class', min: -Infinity, max: Infinity },
  },
  sets: [],
  apply() {
    throw new Error('"rating" rates single segments; build it with parseRatingTeacher, not parseTeacher');
  },
};

export class ReturnRatingTeacher implements RatingTeacher {
  readonly classes: number;
  private lo: number | null = null;
  private hi: number | null = null;

  constructor(opts: { classes?: number; lo?: number; hi?: number } = {}, _rng: Rng = new Rng(0)) {
    this.classes = opts.classes ?? 3;
    checkParam(rating, 'classes', this.classes);
    if ((opts.lo === undefined) !== (opts.hi === undefined)) throw new Error('rating teacher: give both lo and hi, or neither (then call setReturnRange)');
    if (opts.lo !== undefined && opts.hi !== undefined) this.setReturnRange(opts.lo, opts.hi);
  }

  get spec(): string {
    const range = this.lo === null ? '' : `,lo=${this.lo},hi=${this.hi}`;
    return `rating:classes=${this.classes}${range}`;
  }

  /** Whether lo/hi are set (from the spec or setReturnRange); until then rate() refuses. */
  get hasReturnRange(): boolean {
    return this.lo !== null;
  }

  setReturnRange(lo: number, hi: number): void {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      throw new Error(`rating teacher: return range needs finite lo < hi, got lo=${lo}, hi=${hi}`);
    }
    this.lo = lo;
    this.hi = hi;
  }

  /** Uses the smallest and largest return among the segments as the range. */
  fitReturnRange(segments: readonly RewardSegment[]): void {
    if (segments.length < 2) throw new Error(`rating teacher: fitReturnRange needs at least 2 segments, got ${segments.length}`);
    const r = segments.map(segmentReturn);
    this.setReturnRange(Math.min(...r), Math.max(...r));
  }

  rate(seg: RewardSegment): number {
    if (this.lo === null || this.hi === null) {
      throw new Error('rating teacher: no return range; give lo and hi in the spec or call setReturnRange / fitReturnRange');
    }
    const x = (segmentReturn(seg) - this.lo) / (this.hi - this.lo);
    return Math.max(0, Math.min(this.classes - 1, Math.floor(x * this.classes)));
  }
}
