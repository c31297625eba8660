/**
 * Skip teacher: declines (null) unless at least one segment's undiscounted return exceeds the
 * threshold. B-Pref default: frac = 0.1 of the return margin (see returnMargin); `thresh=` gives
 * an absolute threshold instead.
 */
import { Rng } from '../../core/rng.js';
import { composeTeacher, type TeacherContext } from './compose.js';
import { thresholdFrom, thresholdParams, type SimTeacher, type TeacherComponent } from './teacher.js';

export const skip: TeacherComponent = {
  name: 'skip',
  description: 'skips queries where neither return exceeds the threshold',
  params: thresholdParams('skip'),
  sets: ['skip'],
  apply(cfg, p, given) {
    cfg.skip = thresholdFrom(p, given, 'skip');
  },
};

export function skipTeacher(rng: Rng, opts: { thresh?: number; frac?: number } = {}, ctx: TeacherContext = {}): SimTeacher {
  return composeTeacher([{ component: skip, params: definedOnly(opts) }], rng, ctx);
}

export function definedOnly(o: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, number>;
}
