/** Mistake teacher: the rational answer, flipped with probability eps (B-Pref default 0.1). */
import { Rng } from '../../core/rng.js';
import { composeTeacher } from './compose.js';
import type { SimTeacher, TeacherComponent } from './teacher.js';

export const mistake: TeacherComponent = {
  name: 'mistake',
  description: 'flips a 0/1 answer with probability eps (equal answers are not flipped)',
  params: { eps: { description: 'flip probability', default: 0.1, min: 0, max: 1 } },
  sets: ['eps'],
  apply(cfg, p) {
    cfg.eps = p.eps;
  },
};

export function mistakeTeacher(rng: Rng, opts: { eps?: number } = {}): SimTeacher {
  return composeTeacher([{ component: mistake, params: opts.eps === undefined ? {} : { eps: opts.eps } }], rng);
}
