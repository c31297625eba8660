/**
 * Query selection: from a pool of candidate pairs (B-Pref draws 10x the number of queries wanted),
 * pick the ones worth asking. A strategy returns indices into the pool.
 */
import { Rng } from '../../core/rng.js';
import type { RewardSegment } from '../segments.js';

/** A pair as query selection sees it (a [A, B] tuple or an {a, b} record). */
export type CandidatePair = readonly [RewardSegment, RewardSegment] | { readonly a: RewardSegment; readonly b: RewardSegment };

export function pairSegments(p: CandidatePair): [RewardSegment, RewardSegment] {
  return Array.isArray(p) ? [p[0], p[1]] : [(p as { a: RewardSegment }).a, (p as { b: RewardSegment }).b];
}

/** What uncertainty-based strategies need from a reward model (RewardModel implements it). */
export interface PreferencePredictor {
  readonly members: number;
  /** Each member's P(A preferred), [members * N] member-major. */
  preferenceProbs(pairs: readonly CandidatePair[]): Float32Array;
}

export interface QueryContext {
  rng: Rng;
  model?: PreferencePredictor;
  /** Pairs labelled so far: k-center keeps new queries away from them too. */
  labelled?: readonly CandidatePair[];
}

export interface QueryStrategy {
  readonly name: string;
  /** Whether the strategy needs ctx.model. */
  readonly needsModel: boolean;
  select(pool: readonly CandidatePair[], k: number, ctx: QueryContext): number[];
}

export function checkSelectArgs(name: string, pool: readonly CandidatePair[], k: number, ctx: QueryContext, needsModel: boolean): void {
  if (!Number.isInteger(k) || k < 0) throw new Error(`${name} query selection: k must be a non-negative integer, got ${k}`);
  if (k > pool.length) throw new Error(`${name} query selection: cannot pick ${k} queries from a pool of ${pool.length}`);
  if (needsModel && !ctx.model) throw new Error(`${name} query selection needs a reward model (ctx.model)`);
}

/** Indices of the k largest scores, largest first (ties: lower index first). */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((i, j) => scores[j] - scores[i] || i - j);
  return idx.slice(0, k);
}
