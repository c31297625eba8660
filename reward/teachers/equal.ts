/**
 * Equal teacher: answers 0.5 when the undiscounted returns differ by less than the threshold.
 * B-Pref default: frac = 0.1 of the return margin; `thresh=` gives an absolute threshold.
 */
import { Rng } from '../../core/rng.js';
import { composeTeacher, type TeacherContext } from './compose.js';
import { definedOnly } from './skip.js';
import { thresholdFrom, thresholdParams, type SimTeacher, type TeacherComponent } from './teacher.js';

export const equal: TeacherComponent = {
  name: 'equal',
  description: 'answers 0.5 when the returns are closer than the threshold',
  params: thresholdParams('equal'),
  sets: ['equal'],
  apply(cfg, p, given) {
    cfg.equal = thresholdFrom(p, given, 'equal');
  },
};

export function equalTeacher(rng: Rng, opts: { thresh?: number; frac?: number } = {}, ctx: TeacherContext = {}): SimTeacher {
  return composeTeacher([{ component: equal, params: definedOnly(opts) }], rng, ctx);
}
