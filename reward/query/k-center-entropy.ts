/** k-center + entropy (B-Pref feed_type 5): the highest-entropy half of the pool, then greedy k-center. */
import { entropyScores } from './entropy.js';
import { kCenterAmong } from './k-center.js';
import { checkSelectArgs, topK, type QueryStrategy } from './query.js';

export const kCenterEntropyQueries: QueryStrategy = {
  name: 'kcenter-entropy',
  needsModel: true,
  select(pool, k, ctx) {
    checkSelectArgs('kcenter-entropy', pool, k, ctx, true);
    if (k === 0) return [];
    const half = topK(entropyScores(ctx.model!, pool), Math.max(k, Math.floor(pool.length / 2)));
    return kCenterAmong(pool, half, k, ctx.labelled, ctx.rng.int(half.length));
  },
};
