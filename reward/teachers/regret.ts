/**
 * Regret teacher (Knox et al., "Models of Human Preference for Learning Reward Functions"): prefers
 * the segment with the larger sum of optimal advantages, sum_t r_t + V*(s_H) - V*(s_0), i.e. the
 * lower regret. It cannot know V* itself: the caller passes `valueFn`, a V*(obs) estimate — the
 * Monte-Carlo return of the scripted expert started from obs (experiments/datasets/expert-value.ts),
 * or, as the CPL reference, a SAC critic trained on the true reward (experiments/datasets/sac-checkpoint.ts).
 * Passing V in keeps reward/ free of agents/.
 * Rational by default; combine with `stoc:beta=...` for Bradley-Terry choices on the regret. Skip and
 * equal, when combined, still test the partial returns (B-Pref's definition).
 */
import { Rng } from '../../core/rng.js';
import { composeTeacher } from './compose.js';
import type { SimTeacher, TeacherComponent, ValueFunction } from './teacher.js';

export const regret: TeacherComponent = {
  name: 'regret',
  description: 'compares sums of optimal advantages; needs a V*(obs) callback (valueFn)',
  params: {},
  sets: ['score'],
  apply(cfg) {
    cfg.score = 'regret';
  },
};

export function regretTeacher(rng: Rng, valueFn: ValueFunction): SimTeacher {
  return composeTeacher([{ component: regret }], rng, { valueFn });
}
