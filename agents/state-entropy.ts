/**
 * PEBBLE's unsupervised pre-training reward (reference/pbrl.md §2.4): a particle estimate of state
 * entropy, r_int(s) = distance from s to its k-th nearest neighbour among all observations in the
 * replay buffer (k = 5; the (k+1)-th smallest distance, since s itself is in the buffer), divided by a
 * running estimate of its standard deviation (not mean-subtracted).
 *
 * Distances are exact (see knnDistances); a matmul only narrows the candidates.
 */
import * as tf from '@tensorflow/tfjs';

/** Running mean/variance over batches (parallel-variance combination of batch statistics). */
export class RunningMeanStd {
  mean = 0;
  var = 1;
  count = 1e-4;

  update(xs: ArrayLike<number>): void {
    const n = xs.length;
    if (n === 0) return;
    let m = 0;
    for (let i = 0; i < n; i++) m += xs[i];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (xs[i] - m) ** 2;
    v /= n;
    const delta = m - this.mean;
    const total = this.count + n;
    const newMean = this.mean + (delta * n) / total;
    const m2 = this.var * this.count + v * n + (delta * delta * this.count * n) / total;
    this.mean = newMean;
    this.var = m2 / total;
    this.count = total;
  }

  get std(): number {
    return Math.sqrt(this.var);
  }
}

/** Unit roundoff of float32. */
const U32 = 2 ** -24;

/**
 * k-th nearest-neighbour distance (excluding the point itself) of each of `n` query rows against
 * `m` reference rows, all of dimension `dim`, computed exactly (float64 over the float32 inputs), as
 * B-Pref's compute_state_entropy does with torch.norm over differences.
 *
 * Candidates come from one matmul per chunk (|a|^2 + |b|^2 - 2 a.b, float32), so the native GEMM does the heavy work; that form alone loses ~1% (up to several %)
 * at small distances, so it only picks `candidates` neighbours per row and per chunk, whose distances are
 * then recomputed from differences. A row is proven right when its exact (k+1)-th candidate distance lies
 * below every excluded point's smallest possible distance (its approximate value minus the float32 error
 * bound of the matmul form, see `approxError`); otherwise that row is brute-forced exactly. The bound
 * assumes IEEE float32 matmuls (not TF32 tensor cores).
 */
export function knnDistances(queries: Float32Array, n: number, refs: Float32Array, m: number, dim: number, k: number, chunk = 8192, candidates = k + 5): Float32Array {
  if (queries.length !== n * dim || refs.length < m * dim) throw new Error(`knnDistances: arrays do not match n=${n}, m=${m}, dim=${dim}`);
  if (!(k >= 1) || k + 1 > m) throw new Error(`knnDistances: need more than k=${k} reference points, got ${m}`);
  if (!Number.isInteger(candidates) || candidates < k + 1) throw new Error(`knnDistances: candidates must be an integer >= k+1=${k + 1}, got ${candidates}`);
  let refNormMax = 0;
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += refs[j * dim + c] ** 2;
    if (s > refNormMax) refNormMax = s;
  }
  refNormMax = Math.sqrt(refNormMax);
  const qNorm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += queries[i * dim + c] ** 2;
    qNorm[i] = Math.sqrt(s);
  }

  // Per chunk: each row's `C` smallest approximate squared distances and their reference indices.
  const chunks: { start: number; C: number; d2: Float32Array; idx: Int32Array; excludes: boolean }[] = [];
  for (let start = 0; start < m; start += chunk) {
    const rows = Math.min(chunk, m - start);
    const C = Math.min(candidates, rows);
    const [negD2, idx] = tf.tidy(() => {
      const q = tf.tensor2d(queries, [n, dim]);
      const qn = tf.sum(tf.square(q), 1, true); // [n, 1]
      const r = tf.tensor2d(refs.subarray(start * dim, (start + rows) * dim), [rows, dim]);
      const rn = tf.reshape(tf.sum(tf.square(r), 1), [1, rows]);
      const d2 = tf.sub(tf.add(qn, rn), tf.mul(2, tf.matMul(q, r, false, true)));
      const top = tf.topk(tf.neg(d2), C);
      return [top.values, top.indices];
    });
    const negVals = negD2.dataSync() as Float32Array;
    const idxVals = idx.dataSync() as Int32Array;
    negD2.dispose();
    idx.dispose();
    const d2 = new Float32Array(negVals.length);
    for (let i = 0; i < d2.length; i++) d2[i] = -negVals[i];
    chunks.push({ start, C, d2, idx: idxVals, excludes: rows > C });
  }

  const out = new Float32Array(n);
  const cand: number[] = [];
  for (let i = 0; i < n; i++) {
    cand.length = 0;
    let excludedAbove = Infinity; // every point left out of the candidates has approximate d2 >= this
    for (const ch of chunks) {
      for (let c = 0; c < ch.C; c++) cand.push(exactSquaredDistance(queries, i, refs, ch.start + ch.idx[i * ch.C + c], dim));
      if (ch.excludes) excludedAbove = Math.min(excludedAbove, ch.d2[i * ch.C + ch.C - 1]);
    }
    cand.sort((a, b) => a - b);
    let kth = cand[k];
    if (!(kth <= excludedAbove - approxError(qNorm[i], refNormMax, dim))) kth = bruteForceKth(queries, i, refs, m, dim, k);
    out[i] = Math.sqrt(kth);
  }
  return out;
}

/**
 * Bound on |fl(|q|^2 + |r|^2 - 2 q.r) - |q - r|^2| in float32, any summation order: each length-dim
 * sum errs by at most dim*u times its sum of magnitudes and the three final operations by u each,
 * so (dim + 3) u (|q| + |r|)^2 suffices. Doubled for margin.
 */
function approxError(qNorm: number, refNormMax: number, dim: number): number {
  return 2 * (dim + 3) * U32 * (qNorm + refNormMax) ** 2;
}

function exactSquaredDistance(q: Float32Array, i: number, r: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let c = 0; c < dim; c++) {
    const x = q[i * dim + c] - r[j * dim + c];
    s += x * x;
  }
  return s;
}

function bruteForceKth(q: Float32Array, i: number, r: Float32Array, m: number, dim: number, k: number): number {
  const d = new Float64Array(m);
  for (let j = 0; j < m; j++) d[j] = exactSquaredDistance(q, i, r, j, dim);
  d.sort();
  return d[k];
}

export class StateEntropyReward {
  readonly stats = new RunningMeanStd();
  constructor(readonly k = 5) {}

  /** Normalised intrinsic rewards for a batch of observations against the buffer's observations. */
  rewards(batchObs: Float32Array, n: number, bufferObs: Float32Array, m: number, dim: number): Float32Array {
    const d = knnDistances(batchObs, n, bufferObs, m, dim, this.k);
    this.stats.update(d);
    const s = this.stats.std || 1;
    for (let i = 0; i < n; i++) d[i] /= s;
    return d;
  }
}
