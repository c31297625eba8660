/**
 * Myopic teacher: compares discounted returns in which step t of H weighs gamma^(H-1-t), so the end
 * of the segment matters most. B-Pref default gamma = 0.9.
 */
import { Rng } from '../../core/rng.js';
import { composeTeacher } from './compose.js';
import type { SimTeacher, TeacherComponent } from './teacher.js';

export const myopic: TeacherComponent = {
  name: 'myopic',
  description: 'weights later steps more: step t of H has weight gamma^(H-1-t)',
  params: { gamma: { description: 'myopia discount', default: 0.9, min: 0, minExclusive: true, max: 1 } },
  sets: ['gamma'],
  apply(cfg, p) {
    cfg.gamma = p.gamma;
  },
};

export function myopicTeacher(rng: Rng, opts: { gamma?: number } = {}): SimTeacher {
  return composeTeacher([{ component: myopic, params: opts.gamma === undefined ? {} : { gamma: opts.gamma } }], rng);
}
