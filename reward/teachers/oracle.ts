/** Oracle: always prefers the segment with the higher true return (B-Pref: beta = inf, no noise). */
import { Rng } from '../../core/rng.js';
import { composeTeacher } from './compose.js';
import type { SimTeacher, TeacherComponent } from './teacher.js';

export const oracle: TeacherComponent = {
  name: 'oracle',
  description: 'perfectly rational: prefers the higher partial return (ties: A)',
  params: {},
  sets: ['beta'],
  apply(cfg) {
    cfg.beta = Infinity;
  },
};

export function oracleTeacher(rng: Rng = new Rng(0)): SimTeacher {
  return composeTeacher([{ component: oracle }], rng);
}
