/**
 * Stochastic ("noisy") teacher: Bradley-Terry choice, P(A) = sigmoid(beta * (R_A - R_B)).
 * B-Pref default beta = 1.
 */
import { Rng } from '../../core/rng.js';
import { composeTeacher } from './compose.js';
import type { SimTeacher, TeacherComponent } from './teacher.js';

export const stochastic: TeacherComponent = {
  name: 'stoc',
  aliases: ['stochastic', 'noisy'],
  description: 'Bradley-Terry choice with rationality beta',
  params: { beta: { description: 'rationality (0 = coin flip, inf = oracle)', default: 1, min: 0, max: Infinity } },
  sets: ['beta'],
  apply(cfg, p) {
    cfg.beta = p.beta;
  },
};

export function stochasticTeacher(rng: Rng, opts: { beta?: number } = {}): SimTeacher {
  return composeTeacher([{ component: stochastic, params: opts.beta === undefined ? {} : { beta: opts.beta } }], rng);
}
