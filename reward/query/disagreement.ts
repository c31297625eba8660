/**
 * Ensemble disagreement (B-Pref feed_type 1): the pairs whose predicted P(A preferred) varies most
 * across ensemble members (standard deviation), i.e. where the reward model is least sure.
 */
import { checkSelectArgs, topK, type CandidatePair, type PreferencePredictor, type QueryStrategy } from './query.js';

export function disagreementScores(model: PreferencePredictor, pool: readonly CandidatePair[]): Float64Array {
  const N = pool.length;
  const E = model.members;
  const p = model.preferenceProbs(pool);
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let m = 0;
    for (let e = 0; e < E; e++) m += p[e * N + i];
    m /= E;
    let v = 0;
    for (let e = 0; e < E; e++) v += (p[e * N + i] - m) ** 2;
    out[i] = Math.sqrt(v / E);
  }
  return out;
}

export const disagreementQueries: QueryStrategy = {
  name: 'disagreement',
  needsModel: true,
  select(pool, k, ctx) {
    checkSelectArgs('disagreement', pool, k, ctx, true);
    return topK(disagreementScores(ctx.model!, pool), k);
  },
};
