/**
 * k-center + disagreement (B-Pref feed_type 4): keep the half of the pool the ensemble disagrees on
 * most, then spread the k picks over it with greedy k-center.
 */
import { disagreementScores } from './disagreement.js';
import { kCenterAmong } from './k-center.js';
import { checkSelectArgs, topK, type QueryStrategy } from './query.js';

export const kCenterDisagreementQueries: QueryStrategy = {
  name: 'kcenter-disagreement',
  needsModel: true,
  select(pool, k, ctx) {
    checkSelectArgs('kcenter-disagreement', pool, k, ctx, true);
    if (k === 0) return [];
    const half = topK(disagreementScores(ctx.model!, pool), Math.max(k, Math.floor(pool.length / 2)));
    return kCenterAmong(pool, half, k, ctx.labelled, ctx.rng.int(half.length));
  },
};
