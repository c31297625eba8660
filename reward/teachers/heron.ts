/**
 * HERON's teacher (Bukharin, Li, Yu, Zhang, Chen, Zhang, Zhao, Zhang: "Deep Reinforcement Learning
 * from Hierarchical Preference Design", 2023): segments are compared by a decision tree over a
 * ranked list of reward factors. The most important factor decides unless the two segments are
 * within its margin of each other; then the next one does; if every factor ties, the pair is
 * labelled "equally preferable" (0.5).
 *
 * A factor is an `info` key the env reports per step (Meta-World's in_place_reward,
 * obj_to_target, success, ...), summed over the segment; a leading "-" means lower is better.
 * The margin is relative: a factor ties when |F_a - F_b| <= margin * max(|F_a|, |F_b|).
 * Departures: HERON's margins are absolute, tuned per factor and environment; a relative margin
 * needs no per-task tuning. HERON's paper also rescales the learned reward and (in some domains)
 * shapes it with the factors; neither is done here (the reward model is PEBBLE's, trained with BT).
 */
import { z } from 'zod';
import type { RewardSegment } from '../segments.js';
import type { PreferenceValue, Teacher } from './teacher.js';

export const HeronConfigSchema = z
  .object({
    /** Reward factors from most to least important: `info` keys, "-" prefix when lower is better. */
    factors: z.array(z.string().regex(/^-?[A-Za-z_][A-Za-z0-9_]*$/, { message: 'an info key, optionally prefixed by "-" (lower is better)' }))
      .min(1).default(['success', 'in_place_reward', '-obj_to_target']),
    /** Relative tie margin per factor: |F_a - F_b| <= margin * max(|F_a|, |F_b|) passes to the next factor. */
    margin: z.number().min(0).max(1).default(0.1),
  })
  .strict();

export type HeronConfig = z.infer<typeof HeronConfigSchema>;

export interface HeronFactor {
  key: string;
  higherIsBetter: boolean;
}

export function parseHeronFactors(names: readonly string[]): HeronFactor[] {
  if (names.length === 0) throw new Error('HERON needs at least one reward factor');
  return names.map((n) => (n.startsWith('-') ? { key: n.slice(1), higherIsBetter: false } : { key: n, higherIsBetter: true }));
}

/** A factor's sum over a segment; the segment must carry the factors its trajectory recorded. */
export function segmentFactor(seg: RewardSegment, key: string): number {
  const f = seg.factors;
  if (!f) throw new Error(`HERON teacher: segment ${seg.id} has no reward factors (record them with the runner's recordFactors)`);
  const j = f.names.indexOf(key);
  if (j < 0) throw new Error(`HERON teacher: segment ${seg.id} has no factor "${key}" (it has ${f.names.join(', ')})`);
  const F = f.names.length;
  let s = 0;
  for (let t = 0; t < seg.length; t++) s += f.data[t * F + j];
  return s;
}

export class HeronTeacher implements Teacher {
  readonly factors: HeronFactor[];
  readonly margin: number;
  /** Which factor decided each answer so far (index into factors; factors.length = all tied). */
  readonly decidedBy: number[];

  constructor(cfg: Partial<HeronConfig> = {}) {
    const c = HeronConfigSchema.parse(cfg);
    this.factors = parseHeronFactors(c.factors);
    this.margin = c.margin;
    this.decidedBy = new Array(this.factors.length + 1).fill(0);
  }

  get spec(): string {
    return `heron:${this.factors.map((f) => (f.higherIsBetter ? '' : '-') + f.key).join('>')},margin=${this.margin}`;
  }

  /** Keys the runner must record into each episode. */
  get keys(): string[] {
    return this.factors.map((f) => f.key);
  }

  label(a: RewardSegment, b: RewardSegment): PreferenceValue {
    for (let l = 0; l < this.factors.length; l++) {
      const { key, higherIsBetter } = this.factors[l];
      const fa = segmentFactor(a, key);
      const fb = segmentFactor(b, key);
      if (Math.abs(fa - fb) <= this.margin * Math.max(Math.abs(fa), Math.abs(fb))) continue;
      this.decidedBy[l]++;
      return (fa > fb) === higherIsBetter ? 1 : 0;
    }
    this.decidedBy[this.factors.length]++;
    return 0.5;
  }
}
