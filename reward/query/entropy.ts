/**
 * Entropy (B-Pref feed_type 2): the pairs whose 2-way preference distribution has the highest
 * entropy, averaged over ensemble members — pairs the model thinks are close calls.
 */
import { checkSelectArgs, topK, type CandidatePair, type PreferencePredictor, type QueryStrategy } from './query.js';

export function entropyScores(model: PreferencePredictor, pool: readonly CandidatePair[]): Float64Array {
  const N = pool.length;
  const E = model.members;
  const p = model.preferenceProbs(pool);
  const h = (x: number) => (x > 0 ? -x * Math.log(x) : 0);
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let e = 0; e < E; e++) s += h(p[e * N + i]) + h(1 - p[e * N + i]);
    out[i] = s / E;
  }
  return out;
}

export const entropyQueries: QueryStrategy = {
  name: 'entropy',
  needsModel: true,
  select(pool, k, ctx) {
    checkSelectArgs('entropy', pool, k, ctx, true);
    return topK(entropyScores(ctx.model!, pool), k);
  },
};
