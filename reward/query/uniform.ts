/** Uniform: k pool entries at random (B-Pref feed_type 0; also every method's first round). */
import { checkSelectArgs, type QueryStrategy } from './query.js';

export const uniformQueries: QueryStrategy = {
  name: 'uniform',
  needsModel: false,
  select(pool, k, ctx) {
    checkSelectArgs('uniform', pool, k, ctx, false);
    return Array.from(ctx.rng.sampleWithoutReplacement(pool.length, k));
  },
};
