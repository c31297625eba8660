/**
 * Greedy k-center (B-Pref feed_type 3): represent a pair by the observations of both segments,
 * flattened and concatenated (no actions), then repeatedly take the candidate farthest (L2) from
 * everything already covered — the labelled pairs and the picks so far — so the queries spread over
 * the state space.
 */
import * as tf from '@tensorflow/tfjs';
import { checkSelectArgs, pairSegments, type CandidatePair, type QueryStrategy } from './query.js';

export function pairObsFeatures(pairs: readonly CandidatePair[]): { x: Float32Array; dim: number } {
  if (pairs.length === 0) return { x: new Float32Array(0), dim: 0 };
  const [a0, b0] = pairSegments(pairs[0]);
  const dim = a0.obs.length + b0.obs.length;
  const x = new Float32Array(pairs.length * dim);
  pairs.forEach((p, i) => {
    const [a, b] = pairSegments(p);
    if (a.obs.length + b.obs.length !== dim) {
      throw new Error(`k-center: pair ${i} has ${a.obs.length + b.obs.length} observation values, the first pair ${dim}; all segments must have the same length and obsDim`);
    }
    x.set(a.obs, i * dim);
    x.set(b.obs, i * dim + a.obs.length);
  });
  return { x, dim };
}

/** Squared distance from each pool row to its nearest reference row (matmul form, in chunks). */
function minSqDistToSet(pool: Float32Array, N: number, ref: Float32Array, M: number, dim: number): Float64Array {
  const out = new Float64Array(N).fill(Infinity);
  const chunk = Math.max(1, Math.floor(4_000_000 / dim));
  tf.tidy(() => {
    const P = tf.tensor2d(pool, [N, dim]);
    const pn = tf.sum(tf.square(P), 1, true); // [N, 1]
    for (let s = 0; s < M; s += chunk) {
      const m = Math.min(chunk, M - s);
      const d = tf.tidy(() => {
        const R = tf.tensor2d(ref.subarray(s * dim, (s + m) * dim), [m, dim]);
        const rn = tf.reshape(tf.sum(tf.square(R), 1), [1, m]);
        // Explicit transpose: transposed matmuls are slow on the wasm backend.
        const cross = tf.matMul(P, tf.transpose(R));
        return tf.min(tf.add(tf.sub(pn, tf.mul(2, cross)), rn), 1).dataSync() as Float32Array;
      });
      for (let i = 0; i < N; i++) if (d[i] < out[i]) out[i] = Math.max(0, d[i]);
    }
  });
  return out;
}

/**
 * Greedy k-center over candidate features: k indices, each the candidate with the largest distance
 * to its nearest covered point at the time it is picked. `minD` holds each candidate's squared
 * distance to what is already covered (Infinity: nothing); without coverage the first pick is
 * candidate `first` (B-Pref starts from an arbitrary one).
 */
export function greedyKCenter(x: Float32Array, N: number, dim: number, k: number, minD: Float64Array = new Float64Array(N).fill(Infinity), first = 0): number[] {
  const chosen: number[] = [];
  const taken = new Uint8Array(N);
  const anyCovered = minD.some((d) => d !== Infinity);
  for (let step = 0; step < k; step++) {
    let best = -1;
    if (step === 0 && !anyCovered) best = first;
    else {
      let bestD = -1;
      for (let i = 0; i < N; i++) if (!taken[i] && minD[i] > bestD) (bestD = minD[i]), (best = i);
    }
    chosen.push(best);
    taken[best] = 1;
    const c = best * dim;
    for (let i = 0; i < N; i++) {
      if (taken[i]) continue;
      let s = 0;
      const o = i * dim;
      for (let j = 0; j < dim; j++) {
        const t = x[o + j] - x[c + j];
        s += t * t;
      }
      if (s < minD[i]) minD[i] = s;
    }
  }
  return chosen;
}

/**
 * Squared distance from each candidate to its nearest labelled pair. Labelled pairs are turned into
 * features a block at a time: a run with 10^4 labels of 2 x 50 x 39 observations would otherwise
 * hold 150 MB of features at once.
 */
export function distanceToLabelled(x: Float32Array, N: number, dim: number, labelled: readonly CandidatePair[] | undefined): Float64Array {
  const minD = new Float64Array(N).fill(Infinity);
  if (!labelled || labelled.length === 0) return minD;
  const block = Math.max(1, Math.floor(8_000_000 / Math.max(1, dim)));
  for (let s = 0; s < labelled.length; s += block) {
    const f = pairObsFeatures(labelled.slice(s, s + block));
    if (f.dim !== dim) throw new Error(`k-center: labelled pairs have ${f.dim} observation values per pair, candidates ${dim}`);
    const d = minSqDistToSet(x, N, f.x, Math.min(block, labelled.length - s), dim);
    for (let i = 0; i < N; i++) if (d[i] < minD[i]) minD[i] = d[i];
  }
  return minD;
}

/** k-center on a subset of the pool (given as pool indices); returns pool indices. */
export function kCenterAmong(pool: readonly CandidatePair[], among: readonly number[], k: number, labelled: readonly CandidatePair[] | undefined, first = 0): number[] {
  const sub = among.map((i) => pool[i]);
  const { x, dim } = pairObsFeatures(sub);
  const minD = distanceToLabelled(x, sub.length, dim, labelled);
  return greedyKCenter(x, sub.length, dim, k, minD, first).map((j) => among[j]);
}

export const kCenterQueries: QueryStrategy = {
  name: 'kcenter',
  needsModel: false,
  select(pool, k, ctx) {
    checkSelectArgs('kcenter', pool, k, ctx, false);
    if (k === 0) return [];
    const all = Array.from({ length: pool.length }, (_, i) => i);
    return kCenterAmong(pool, all, k, ctx.labelled, ctx.rng.int(pool.length));
  },
};
