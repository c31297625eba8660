/**
 * Strategies by name and the B-Pref round: draw poolMultiplier x k candidate pairs (default 10),
 * keep the k the strategy picks. The first feedback round is uniform whatever the strategy, since
 * the reward model has not learned anything to be uncertain about yet.
 */
import { Rng } from '../../core/rng.js';
import type { SegmentPair, SegmentSampler } from '../segments.js';
import { disagreementQueries } from './disagreement.js';
import { entropyQueries } from './entropy.js';
import { kCenterQueries } from './k-center.js';
import { kCenterDisagreementQueries } from './k-center-disagreement.js';
import { kCenterEntropyQueries } from './k-center-entropy.js';
import type { CandidatePair, PreferencePredictor, QueryStrategy } from './query.js';
import { uniformQueries } from './uniform.js';

/** B-Pref's candidate multiplier (large_batch). */
export const DEFAULT_POOL_MULTIPLIER = 10;

export const QUERY_STRATEGIES: ReadonlyMap<string, QueryStrategy> = new Map(
  [uniformQueries, disagreementQueries, entropyQueries, kCenterQueries, kCenterDisagreementQueries, kCenterEntropyQueries].map((s) => [s.name, s]),
);

export function getQueryStrategy(name: string): QueryStrategy {
  const s = QUERY_STRATEGIES.get(name);
  if (!s) throw new Error(`unknown query strategy "${name}"; known: ${[...QUERY_STRATEGIES.keys()].join(', ')}`);
  return s;
}

export interface QueryRoundOptions {
  /** Pool size = poolMultiplier * k (default 10). */
  poolMultiplier?: number;
  model?: PreferencePredictor;
  labelled?: readonly CandidatePair[];
  /** First round of a run: uniform regardless of the strategy (B-Pref). */
  firstRound?: boolean;
}

/** Samples a candidate pool from the sampler's trajectories and returns the k chosen pairs. */
export function selectQueries(strategy: QueryStrategy | string, sampler: SegmentSampler, k: number, rng: Rng, opts: QueryRoundOptions = {}): SegmentPair[] {
  const s = typeof strategy === 'string' ? getQueryStrategy(strategy) : strategy;
  const mult = opts.poolMultiplier ?? DEFAULT_POOL_MULTIPLIER;
  if (!Number.isInteger(mult) || mult < 1) throw new Error(`poolMultiplier must be an integer >= 1, got ${mult}`);
  if (!Number.isInteger(k) || k < 0) throw new Error(`number of queries must be a non-negative integer, got ${k}`);
  const useUniform = opts.firstRound || s.name === 'uniform';
  // Draws advance rng itself, so successive rounds with the same Rng get fresh pools.
  const pool = sampler.samplePairs(useUniform ? k : k * mult, rng);
  if (useUniform) return pool;
  const idx = s.select(pool, k, { rng, model: opts.model, labelled: opts.labelled });
  return idx.map((i) => pool[i]);
}
